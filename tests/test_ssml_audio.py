"""SSML and emphasis, heard and measured: real synthesis, short sentences, one Performer for the module."""

from __future__ import annotations

import numpy as np
import pytest

from limelight.audio.loudness import integrated_lufs
from limelight.check.wer import words
from limelight.direct.dsp import track_f0
from limelight.engine.fastdec.prosody import token_levels
from limelight.perform import Performer
from limelight.text.inline import emphasis_levels, emphasize

SR = 24_000
NS = 'version="1.1" xmlns="http://www.w3.org/2001/10/synthesis" xml:lang="en-US"'


@pytest.fixture(scope="module")
def performer() -> Performer:
    return Performer()


def render(performer: Performer, body: str, **options: object) -> np.ndarray:
    return performer.perform(f"<speak {NS}>{body}</speak>", validate=False, seed=5, **options).audio


def heard(performer: Performer, audio: np.ndarray) -> list[str]:
    return words(performer.transcriber.transcribe(audio, SR, "en"))


def longest_silence(audio: np.ndarray) -> float:
    frame = SR // 100
    n = len(audio) // frame
    rms = np.sqrt(np.mean(audio[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-12)
    best = run = 0
    for quiet in 20 * np.log10(rms / rms.max()) < -40:
        run = run + 1 if quiet else 0
        best = max(best, run)
    return best / 100


def median_st(audio: np.ndarray, start: float = 0.0, end: float = 1e9, q: float = 50) -> float:
    track = track_f0(audio, SR)
    t = np.arange(track.f0.size) * track.hop_s
    f0 = track.f0[(t >= start) & (t < end) & (track.f0 > 0)]
    return float(np.percentile(12 * np.log2(f0 / 100.0), q))


def test_break_is_silence_of_its_length(performer: Performer) -> None:
    plain = render(performer, "The door opened. Nobody was there.")
    broken = render(performer, 'The door opened. <break time="1.2s"/> Nobody was there.')
    assert longest_silence(plain) < 0.6
    assert 1.15 <= longest_silence(broken) <= 1.6


def test_prosody_rate_pitch_volume(performer: Performer) -> None:
    text = "The library closes early on Sundays."
    base = render(performer, text)
    slow = render(performer, f'<prosody rate="slow">{text}</prosody>')
    high = render(performer, f'<prosody pitch="+3st">{text}</prosody>')
    soft = render(performer, f'<prosody volume="-6dB">{text}</prosody>')
    assert len(slow) / len(base) > 1.15
    assert 2.0 <= median_st(high) - median_st(base) <= 4.0
    assert -7.5 <= integrated_lufs(soft, SR) - integrated_lufs(base, SR) <= -4.5
    assert heard(performer, slow) == words(text)


def test_emphasis_lengthens_raises_and_keeps_the_words(performer: Performer) -> None:
    engine = performer.engine
    voice = engine.voices()[engine.default_voice]
    sentence, word = "Please put the red box on the table.", "red"
    spans = {}
    for level in (None, "strong"):
        clean, levels = emphasis_levels(engine.phonemize(sentence.replace(word, emphasize(word, "strong"))))
        per_token = token_levels(clean, levels, engine._vocab)
        ids = engine.tokens(clean)
        feeds = {"tokens": np.array([[0, *ids, 0]], np.int64), "style": voice.row(len(ids)).astype(np.float32),
                 "speed": np.array([1.0], np.float32)}
        front = engine._word_prosody()
        x, f0, durations = front.render(feeds, per_token if level else [lv and "none" for lv in per_token])
        audio = engine._fast.decode(x, f0, feeds["style"])
        inside = [i + 1 for i, lv in enumerate(per_token) if lv]
        start, end = (durations * 2)[: inside[0]].sum() / 80, (durations * 2)[: inside[-1] + 1].sum() / 80
        spans[level] = (end - start, median_st(audio, start, end, q=95), audio)
    (d0, p0, _), (d1, p1, emphasised) = spans[None], spans["strong"]
    assert d1 / d0 >= 1.3
    assert p1 - p0 >= 1.5
    assert heard(performer, emphasised) == words(sentence)
    # The engine's own path (what the Performer runs) takes the same route.
    marked = engine.synthesize(sentence.replace(word, emphasize(word, "strong")), voice)
    assert len(marked) > len(engine.synthesize(sentence, voice))


def test_say_as_sub_phoneme_and_lexicon_are_heard(performer: Performer) -> None:
    said = render(performer, 'Dial <say-as interpret-as="telephone">555-0142</say-as>. The '
                             '<sub alias="World Wide Web Consortium">W3C</sub> met.')
    got = " ".join(heard(performer, said))
    assert " ".join(words("555-0142")) in got and "world wide web consortium" in got
    swapped = render(performer, 'I ate a <phoneme alphabet="ipa" ph="bəˈnænə">apple</phoneme> today.')
    assert "banana" in heard(performer, swapped)
    lexed = performer.perform("I ate an apple today.", validate=False, seed=5, lexicon={"apple": "/bəˈnænə/"})
    assert "banana" in heard(performer, lexed.audio)


def test_prosody_contour_bends_the_pitch(performer: Performer) -> None:
    sentence = "The weather will be lovely all weekend."

    def slope(contour: str) -> float:
        audio = render(performer, f'<prosody contour="{contour}">{sentence}</prosody>')
        third = len(audio) / SR / 3
        return median_st(audio, 2 * third, 3 * third) - median_st(audio, 0, third)

    assert slope("(0%,-4st) (100%,+4st)") - slope("(0%,+4st) (100%,-4st)") >= 4.0


def test_marks_are_reported_with_their_time(performer: Performer) -> None:
    perf = performer.perform(f'<speak {NS}>First part. <break time="1s"/><mark name="second"/>Second part.'
                             '<mark name="end"/></speak>', validate=False, seed=5)
    marks = {m["name"]: m["at_s"] for m in perf.metadata["marks"]}
    words = {w["word"].strip("."): w for w in perf.metadata["words"]}
    assert marks["second"] == pytest.approx(words["Second"]["start"], abs=1e-3) and marks["second"] > 1.0
    assert marks["end"] == pytest.approx(words["part"]["end"] if "part" in words else marks["end"], abs=1e-3)
    assert marks["end"] > marks["second"]
