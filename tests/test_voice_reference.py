"""Reference audio: real speech loads in every container format; bad references fail with a clear reason."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from limelight.errors import AudioInputError
from limelight.voice.reference import load_reference


@pytest.fixture(scope="module")
def speech(shared_dir: Path) -> tuple[np.ndarray, int]:
    path = shared_dir / "voices" / "dev" / "3005" / "3005-163389-0001.flac"
    if not path.exists():
        pytest.skip(f"{path} missing")
    audio, sr = sf.read(path, dtype="float32")
    return audio, sr


def _encode(audio: np.ndarray, sr: int, fmt: str, **kw: object) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, audio, sr, format=fmt, **kw)
    return buf.getvalue()


@pytest.mark.parametrize("fmt,kw", [("WAV", {}), ("FLAC", {}), ("OGG", {"subtype": "VORBIS"}),
                                    ("MP3", {"subtype": "MPEG_LAYER_III"})])
def test_formats_load_as_mono(speech: tuple[np.ndarray, int], fmt: str, kw: dict) -> None:
    audio, sr = speech
    stereo = np.stack([audio, audio * 0.5], axis=1)
    try:
        data = _encode(stereo, sr, fmt, **kw)
    except (sf.LibsndfileError, ValueError, TypeError) as exc:
        pytest.skip(f"libsndfile here cannot write {fmt}: {exc}")
    out, out_sr = load_reference(data)
    assert out.ndim == 1 and out_sr == sr
    assert abs(len(out) / sr - len(audio) / sr) < 0.2


def test_path_loads(speech: tuple[np.ndarray, int], tmp_path: Path) -> None:
    path = tmp_path / "ref.wav"
    sf.write(path, *speech)
    audio, sr = load_reference(path)
    assert sr == speech[1] and len(audio) == len(speech[0])


def test_too_short_and_too_long(speech: tuple[np.ndarray, int]) -> None:
    audio, sr = speech
    with pytest.raises(AudioInputError, match=r"2\.0 s long; a reference needs at least 3 s"):
        load_reference(_encode(audio[: 2 * sr], sr, "WAV"))
    long = np.tile(audio, 8)[: 31 * sr]
    with pytest.raises(AudioInputError, match=r"31\.0 s long; use at most 30 s"):
        load_reference(_encode(long, sr, "WAV"))


def test_silence_and_noise() -> None:
    sr = 16_000
    with pytest.raises(AudioInputError, match="silent"):
        load_reference(_encode(np.zeros(5 * sr, np.float32), sr, "WAV"))
    noise = np.random.default_rng(0).standard_normal(5 * sr).astype(np.float32) * 0.1
    with pytest.raises(AudioInputError, match="no clear speech"):
        load_reference(_encode(noise, sr, "WAV"))
    hum = (0.3 * np.sin(2 * np.pi * 50 * np.arange(5 * sr) / sr)).astype(np.float32)
    with pytest.raises(AudioInputError, match="no clear speech"):
        load_reference(_encode(hum, sr, "WAV"))


def test_not_audio_and_corrupt(speech: tuple[np.ndarray, int], tmp_path: Path) -> None:
    with pytest.raises(AudioInputError, match="not readable audio"):
        load_reference(b"this is a text file, not a recording")
    with pytest.raises(AudioInputError, match="empty"):
        load_reference(b"")
    data = _encode(*speech, "FLAC")
    with pytest.raises(AudioInputError):
        load_reference(data[:200])  # header survives, frames do not
    with pytest.raises(AudioInputError, match="not found"):
        load_reference(tmp_path / "missing.wav")
