"""Zero-shot cloning and enrollment on real LibriSpeech clips, scored with real synthesis."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import dev_clip

from limelight.check.speaker import cosine, embed_speaker
from limelight.errors import AudioInputError
from limelight.voice import Voice
from limelight.voice.clone import clone_voice
from limelight.voice.space import style_space

SENTENCE = "Could you tell me how far it is from here to the nearest train station?"


@pytest.fixture(scope="module")
def target(shared_dir: Path) -> dict[str, object]:
    ref = dev_clip(shared_dir, "3005", 0)
    others = [embed_speaker(*dev_clip(shared_dir, "3005", i)) for i in (1, 2, 3)]
    return {"ref": ref, "others": others}


def test_clone_is_well_formed_and_hears_one_sentence(tts, target: dict) -> None:
    """The colour's calibration is one synthesized sentence: the work is bounded by engine calls, not seconds
    (its CPU time, beside the engine's, is in ``bench/cpu_costs.py``)."""
    audio, sr = target["ref"]
    calls: list[str] = []

    class Counted:  # the real engine, counting what the clone asks it to say
        def __getattr__(self, name: str) -> object:
            return getattr(tts.engine, name)

        def synthesize(self, text: str, *args: object, **kw: object) -> np.ndarray:
            calls.append(text)
            return tts.engine.synthesize(text, *args, **kw)

        def synthesize_phonemes(self, phonemes: str, *args: object, **kw: object) -> np.ndarray:
            calls.append(phonemes)
            return tts.engine.synthesize_phonemes(phonemes, *args, **kw)

    voice = clone_voice(audio, sr, "speaker3005", engine=Counted())
    assert len(calls) == 1, calls
    assert isinstance(voice, Voice) and voice.style.shape == (510, 256) and voice.source == "cloned"
    assert np.isfinite(voice.style).all()
    v = np.asarray(voice.meta["vector"], np.float32)
    assert np.allclose(style_space().vector(voice), v, atol=1e-4)
    assert len(voice.colour) == 20 and any(voice.colour)


def test_clone_sounds_closer_than_a_stranger(tts, shared_dir: Path, target: dict) -> None:
    """The clone of speaker 3005 is nearer his other clips than the clone of another man (1688) is."""
    audio, sr = target["ref"]
    mine = clone_voice(audio, sr, "mine", engine=tts.engine)
    stranger = clone_voice(*dev_clip(shared_dir, "1688", 0), "stranger", engine=tts.engine)
    sims = {}
    for key, voice in (("mine", mine), ("stranger", stranger)):
        speech = tts.engine.synthesize(SENTENCE, voice)
        e = embed_speaker(speech, tts.sample_rate)
        sims[key] = float(np.mean([cosine(e, o) for o in target["others"]]))
    assert sims["mine"] > sims["stranger"] + 0.01, sims


def test_clone_methods_differ_and_are_valid(target: dict) -> None:
    audio, sr = target["ref"]
    vectors = {m: np.asarray(clone_voice(audio, sr, m, method=m, calibrated=False).meta["vector"])
               for m in ("bank", "encoder")}
    assert not np.allclose(vectors["bank"], vectors["encoder"])
    with pytest.raises(Exception, match="unknown clone method"):
        clone_voice(audio, sr, "x", method="magic")


def test_bad_reference_is_refused() -> None:
    noise = np.random.default_rng(1).standard_normal(16_000 * 5).astype(np.float32) * 0.1
    with pytest.raises(AudioInputError, match="no clear speech"):
        clone_voice(noise, 16_000, "noise")
    with pytest.raises(AudioInputError, match="at least 3 s"):
        clone_voice(noise[:16_000], 16_000, "short")


def test_enrollment_improves_search_similarity(tts, target: dict) -> None:
    """A few seconds of search: the enrolled voice scores at least as well as its starting clone."""
    from limelight.voice.enroll import enroll_voice

    audio, sr = target["ref"]
    voice = enroll_voice(audio, sr, "enrolled", budget_s=0.0, population=2, check_wer=False, engine=tts.engine,
                         min_evaluations=6, method="search")
    assert voice.source == "enrolled" and voice.meta["evaluations"] >= 6
    assert voice.meta["seed"] in ("encoder", "bank", "blend", "extrapolated")
    assert voice.meta["search_similarity"] >= voice.meta["start_similarity"] > 0.5
    assert voice.colour and any(voice.colour)  # measured for the final vector
    with pytest.raises(Exception, match="unknown enrollment method"):
        enroll_voice(audio, sr, "x", method="magic")
