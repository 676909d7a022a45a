"""The Performer: planning, validation with retry, continuity, streaming, long-form safety."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf

from limelight.audio.loudness import integrated_lufs
from limelight.errors import LimelightError
from limelight.perform import Performer
from limelight.plan import CHUNK_MAX_S, SpeechChunk
from limelight.script import parse


@pytest.fixture(scope="module")
def performer():
    return Performer()


def test_plan_keeps_every_chunk_under_15_seconds(performer, shared_dir):
    texts = [(shared_dir / "texts" / "en_dev.txt").read_text()]
    texts += [p.read_text() for p in sorted((shared_dir / "texts" / "scripts").glob("*.xml")) if "bad" not in p.name]
    long_sentence = "; and ".join(line.rstrip(".?!") for line in texts[0].splitlines() if line.strip()) + "."
    texts.append(long_sentence)
    for text in texts:
        for item in performer._plan(performer._start(text, {"validate": False})):
            if isinstance(item, SpeechChunk):
                assert item.est_s <= CHUNK_MAX_S, (item.est_s, item.text[:60])
                assert all(s.strip() for s in item.sentences)


def test_long_text_validated_chunks_loudness_and_report(performer, en_sentences):
    text = " ".join(en_sentences[:12])
    perf = performer.perform(text, seed=3, validate=True)
    meta = perf.metadata
    assert {"duration_s", "sample_rate", "processing_ms", "seed", "chunks"} <= set(meta)
    assert meta["seed"] == 3 and meta["sample_rate"] == 24000
    chunks = meta["chunks"]
    assert len(chunks) >= 3
    for c in chunks:
        assert c["duration_s"] <= CHUNK_MAX_S + 0.5, c
        assert c["attempts"] >= 1 and c["match_ratio"] is not None
        assert abs(c["duration_s"] - c["est_duration_s"]) < 0.35 * c["est_duration_s"] + 1.0
    assert np.mean([c["match_ratio"] for c in chunks]) >= 0.95
    loudness = [c["loudness_lufs"] for c in chunks]
    assert max(loudness) - min(loudness) <= 2.0, loudness  # ±1 LU around the mean
    assert abs(meta["duration_s"] - len(perf.audio) / 24000) < 0.01
    assert np.max(np.abs(perf.audio)) <= 1.0


def test_retry_improves_a_garbled_chunk(performer):
    # Far too fast for the engine: the first rendering is garbled; retries move the tempo back to natural.
    perf = performer.perform("The quick brown fox jumps over the lazy dog near the riverbank.", speed=2.0,
                             pace=0.5, seed=1, min_match_ratio=0.95)
    chunk = perf.metadata["chunks"][0]
    assert chunk["attempts"] >= 2, chunk
    assert chunk["match_ratio"] > chunk["attempt_ratios"][0], chunk


def test_stream_equals_perform_and_validate_off(performer):
    text = "First sentence here. Second one follows. And a third."
    whole = performer.perform(text, validate=False, seed=5)
    streamed = np.concatenate(list(performer.stream(text, validate=False, seed=5)))
    np.testing.assert_allclose(streamed, whole.audio, atol=1e-6)
    assert whole.metadata["chunks"][0]["match_ratio"] is None
    assert whole.metadata["chunks"][0]["passed"] is None and whole.metadata["chunks"][0]["attempts"] == 1


def test_multi_speaker_script_casts_by_gender(performer):
    script = """<script>
      <speak voice="Old man, gravelly" gender="male">Who goes there?</speak>
      <speak voice="Young woman, bright" gender="female">Only me, grandfather.</speak>
    </script>"""
    perf = performer.perform(script, validate=False)
    voices = perf.metadata["voices"]
    assert [v["gender"] for v in voices.values()] == ["male", "female"]


def test_pauses_are_placed(performer):
    a = performer.perform("One.", validate=False)
    b = performer.perform('<speak voice="calm" gender="female">One. <pause seconds="2"/> Two.</speak>',
                          validate=False)
    assert len(b.audio) / 24000 > len(a.audio) / 24000 + 2.0


def test_interrupted_file_is_still_playable(performer, tmp_path):
    out = tmp_path / "partial.wav"

    def stop_after_two(done, total):
        if done == 2:
            raise KeyboardInterrupt

    text = "One sentence here. " * 3 + '<pause seconds="1"/>'
    script = f'<speak voice="calm" gender="female">{text} More after the pause.</speak>'
    with pytest.raises(KeyboardInterrupt):
        performer.perform_to_file(script, out, progress=stop_after_two, validate=False)
    data, sr = sf.read(str(out))
    assert sr == 24000 and len(data) > sr  # what was finished is there, and the header is valid


def test_unspeakable_and_control_characters(performer):
    with pytest.raises(LimelightError, match="nothing to speak"):
        performer.perform("...", validate=False)
    perf = performer.perform("Null\x00byte and bell\x07 here.", validate=False)
    assert perf.duration_s > 0.5


def test_bad_options_name_their_field(performer):
    for options, field in [({"pace": 9}, "pace"), ({"min_match_ratio": 2}, "min_match_ratio"),
                           ({"seed": -7}, "seed"), ({"mode": "karaoke"}, "mode"), ({"nope": 1}, "nope")]:
        with pytest.raises(LimelightError) as err:
            performer.perform("Hi.", **options)
        assert err.value.field == field


def test_loudness_helper_measures():
    sr = 24000
    t = np.arange(sr) / sr
    tone = 0.1 * np.sin(2 * np.pi * 440 * t)
    assert integrated_lufs(tone * 2, sr) - integrated_lufs(tone, sr) == pytest.approx(6.02, abs=0.05)
    assert parse("Hi.").source_is_markup is False
