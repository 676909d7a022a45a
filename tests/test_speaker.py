"""Speaker embeddings: the numpy port of Resemblyzer matches the original and separates real speakers."""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from limelight.check.speaker import cosine, embed_speaker, normalised_similarity, speaker_similarity


def _clip(shared_dir: Path, rel: str) -> tuple[np.ndarray, int]:
    path = shared_dir / "voices" / rel
    if not path.exists():
        pytest.skip(f"{path} missing")
    audio, sr = sf.read(path, dtype="float32")
    return audio, sr


@pytest.fixture(scope="module")
def clips(shared_dir: Path) -> dict[str, tuple[np.ndarray, int]]:
    names = {
        "f1a": "dev/2414/2414-128291-0004.flac", "f1b": "dev/2414/2414-128291-0007.flac",
        "m1a": "dev/1688/1688-142285-0007.flac", "m1b": "dev/1688/1688-142285-0002.flac",
        "m2a": "dev/3005/3005-163389-0001.flac",
    }
    return {k: _clip(shared_dir, v) for k, v in names.items()}


def test_embedding_is_unit_256(clips: dict) -> None:
    e = embed_speaker(*clips["m1a"])
    assert e.shape == (256,) and e.dtype == np.float32
    assert abs(float(np.linalg.norm(e)) - 1.0) < 1e-5
    assert (e >= 0).all()  # ReLU before the norm


def test_port_matches_resemblyzer(clips: dict) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        resemblyzer = pytest.importorskip("resemblyzer", reason="resemblyzer (and torch) not installed")
        encoder = resemblyzer.VoiceEncoder(device="cpu", verbose=False)
        for key in ("f1a", "m1a", "m2a"):
            audio, sr = clips[key]
            original = encoder.embed_utterance(resemblyzer.preprocess_wav(audio, sr))
            assert cosine(original, embed_speaker(audio, sr)) >= 0.999, key


def test_same_speaker_beats_stranger(clips: dict) -> None:
    same_m = speaker_similarity(*clips["m1a"], *clips["m1b"])
    stranger_m = speaker_similarity(*clips["m1a"], *clips["m2a"])
    cross_gender = speaker_similarity(*clips["m1a"], *clips["f1a"])
    assert same_m > stranger_m > cross_gender
    assert same_m > 0.75


def test_rate_invariance(clips: dict) -> None:
    """The same clip at 24 kHz (our engine's rate) embeds almost identically to 16 kHz."""
    from scipy.signal import resample_poly

    audio, sr = clips["f1a"]
    up = resample_poly(audio, 3, 2).astype(np.float32)
    assert speaker_similarity(audio, sr, up, 24_000) > 0.99


def test_normalised_similarity_endpoints(clips: dict) -> None:
    real, other, stranger = (embed_speaker(*clips[k]) for k in ("m1a", "m1b", "m2a"))
    assert normalised_similarity(other, real, other, [stranger]) == pytest.approx(1.0)
    assert normalised_similarity(stranger, real, other, [stranger]) == pytest.approx(0.0)
