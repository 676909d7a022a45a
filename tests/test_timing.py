"""Word timings (limelight.timing): from Kokoro's durations to the output timeline, checked against what Whisper
hears and against the audio itself; subtitles built from them."""

from __future__ import annotations

import json
import re
import subprocess
import sys

import numpy as np
import pytest

from limelight.perform import Performer
from limelight.timing import WordTiming, make_cues, to_srt, to_vtt
from limelight.timing.compare import agreement
from limelight.timing.words import SpokenWord, ipa_word_ranges, spoken_word_ranges, written_spans

SCRIPT = """<speak voice="jm_kumo" gender="male">
<action>Calm.</action> The storm reached the coast before midnight.
<pause seconds="1.5"/> [sigh] It cost $12.50 to fix the window.
<action>Fast, urgent!</action> We had to leave at once.
</speak>"""


@pytest.fixture(scope="module")
def performer():
    return Performer()


@pytest.fixture(scope="module")
def scripted(performer):
    return performer.perform(SCRIPT, validate=False, seed=5)


# ------------------------------------------------------------------------------------------- mapping, pure
def test_ipa_words_skip_spaces_and_punctuation():
    assert ipa_word_ranges("ab, cd e.") == [(0, 1), (4, 5), (7, 7)]


def test_spoken_words_align_to_merged_ipa_words():
    # espeak reads "twenty-one" as one IPA word and "2024" as three: the letters still find their word.
    phon = {"twenty-one": "twˈɛntiwˈʌn", "people": "pˈiːpəl", "came": "kˈeɪm"}
    ranges = spoken_word_ranges(["twenty-one", "people", "came"], "twˈɛntiwˈʌn pˈiːpəl kˈeɪm.", phon.__getitem__)
    assert ranges == [(0, 10), (12, 18), (20, 24)]


def test_a_rewritten_written_word_spans_all_its_spoken_words():
    spoken = [SpokenWord(w, i, i + 0.5) for i, w in enumerate("it costs twelve dollars and fifty cents".split())]
    pairs = written_spans("It costs $12.50.", spoken)
    assert pairs == [("It", [0]), ("costs", [1]), ("$12.50", [2, 3, 4, 5, 6])]


def test_written_words_of_other_chunks_are_left_out():
    spoken = [SpokenWord(w, i, i + 0.5) for i, w in enumerate("then mister smith left".split())]
    pairs = written_spans("We waited an hour. Then Mr. Smith left.", spoken)
    assert [w for w, _ in pairs] == ["Then", "Mr", "Smith", "left"]


# ------------------------------------------------------------------------------- real synthesis, measured
def test_words_match_what_whisper_hears(scripted, transcriber):
    words = scripted.words
    heard = transcriber.words(scripted.audio, scripted.sample_rate, "en")
    a = agreement(words, heard)
    assert a.share >= 0.85, (a.share, [w.word for w in words], heard)
    assert a.median_ms <= 100, a.errors_ms


def test_words_are_ordered_inside_the_audio_and_carry_speaker_and_chunk(scripted):
    words = scripted.words
    assert [w.word for w in words][:3] == ["The", "storm", "reached"]
    assert all(0 <= w.start <= w.end <= scripted.duration_s + 1e-6 for w in words)
    assert all(a.start <= b.start for a, b in zip(words, words[1:], strict=False))
    assert {w.speaker for w in words} == {"speaker1"}
    chunks = scripted.metadata["chunks"]
    for c in chunks:  # every chunk's words lie inside that chunk's span on the output timeline
        for w in c["words"]:
            assert c["start_s"] - 1e-3 <= w["start"] <= w["end"] <= c["start_s"] + c["duration_s"] + 1e-3


def test_pause_and_event_move_the_words_after_them(scripted):
    words = {w.word: w for w in scripted.words}
    gap = words["It"].start - words["midnight"].end
    assert gap >= 1.5  # the 1.5 s pause plus the sigh lie between them
    assert words["$12.50"].spoken == "twelve dollars and fifty cents"


def test_word_spans_hold_speech_and_the_pause_is_silent(scripted):
    sr = scripted.sample_rate
    words = {w.word: w for w in scripted.words}

    def rms(t0: float, t1: float) -> float:
        seg = scripted.audio[int(t0 * sr):int(t1 * sr)]
        return float(np.sqrt(np.mean(seg.astype(np.float64) ** 2))) if seg.size else 0.0

    speech = rms(words["storm"].start, words["storm"].end)
    pause = rms(words["midnight"].end + 0.2, words["midnight"].end + 1.2)
    assert speech > 20 * pause


def test_a_script_of_events_only_has_no_words(performer):
    perf = performer.perform("[sigh] [cough]", validate=False, seed=1)
    assert perf.words == [] and perf.metadata["words"] == []


def test_engine_without_durations_gives_estimated_words():
    perf = Performer(engine="piper").perform("Good morning to you all.", validate=False, seed=1)
    assert [w.word for w in perf.words] == ["Good", "morning", "to", "you", "all"]
    assert all(w.estimated for w in perf.words)


# ----------------------------------------------------------------------------------------------- subtitles
def _words(n: int, speaker: str = "a", start: float = 0.0, step: float = 0.4) -> list[WordTiming]:
    return [WordTiming(f"word{i}", start + i * step, start + i * step + 0.3, speaker=speaker) for i in range(n)]


def test_cues_are_readable_and_never_overlap():
    words = _words(60) + _words(5, speaker="b", start=30.0)
    cues = make_cues(words, duration_s=32.5)
    assert all(len(c.lines) <= 2 and all(len(line) <= 42 for line in c.lines) for c in cues)
    assert all(a.end <= b.start for a, b in zip(cues, cues[1:], strict=False))
    assert all(0 <= c.start < c.end <= 32.5 for c in cues)
    assert all(c.end - c.start <= 7.0 + 1e-9 for c in cues)
    assert cues[-1].speaker == "b" and cues[-2].speaker == "a"  # a speaker change starts a cue
    assert sum(len(" ".join(c.lines).split()) for c in cues) == 65  # every word once


def test_srt_and_vtt_formats():
    cues = make_cues([WordTiming("Hello", 0.1, 0.5, speaker="Anna"), WordTiming("<world>", 0.6, 1.2, speaker="Anna"),
                      WordTiming("Later.", 3722.0, 3723.25, speaker="Anna")])
    srt = to_srt(cues)
    assert srt.startswith("1\n00:00:00,100 --> ") and "01:02:03,250" in srt
    vtt = to_vtt(cues)
    assert vtt.startswith("WEBVTT\n\n00:00:00.100 --> ") and "<v Anna>Hello &lt;world&gt;" in vtt


def test_cli_writes_subtitles_and_metadata_words(tmp_path):
    out, srt, meta = tmp_path / "a.wav", tmp_path / "a.srt", tmp_path / "a.json"
    proc = subprocess.run([sys.executable, "-m", "limelight", "say", "Hello there. How are you today?",
                           "-o", str(out), "--subtitles", str(srt), "--metadata", str(meta), "-q"],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    words = json.loads(meta.read_text())["words"]
    assert [w["word"] for w in words] == ["Hello", "there", "How", "are", "you", "today"]
    stamps = re.findall(r"(\d\d:\d\d:\d\d,\d\d\d) --> (\d\d:\d\d:\d\d,\d\d\d)", srt.read_text())
    assert stamps and "Hello there" in srt.read_text()


def test_cli_refuses_a_bad_subtitle_path_before_rendering(tmp_path):
    proc = subprocess.run([sys.executable, "-m", "limelight", "say", "Hi.", "-o", str(tmp_path / "a.wav"),
                           "--subtitles", str(tmp_path / "a.txt")], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 2 and "subtitles must be .srt or .vtt" in proc.stderr
    assert not (tmp_path / "a.wav").exists()
