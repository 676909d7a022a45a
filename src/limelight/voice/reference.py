"""Reference audio for cloning: decode it, make it mono, and refuse what cannot carry a voice.

A clone is only as good as its reference, and the failure modes are silent: a clone of room noise or of a
half-second clip still produces *a* voice. So references are checked up front and rejected with a message
that says what is wrong — not decodable, too short or too long, silent, or noise without speech.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import AudioInputError

MIN_SECONDS = 3.0
MAX_SECONDS = 30.0
SILENCE_DBFS = -50.0  # RMS below this is silence
MIN_VOICED_RATIO = 0.2  # share of non-quiet frames with a clear pitch; read speech 0.4–0.9, noise < 0.1
MIN_SPEECH_BAND_RATIO = 0.35  # energy in 80 Hz–4 kHz over all energy; white noise at 16 kHz ≈ 0.5 at most


@dataclass(frozen=True)
class ReferenceReport:
    """What the checks measured (kept on the cloned voice's metadata)."""

    duration_s: float
    rms_dbfs: float
    voiced_ratio: float
    speech_band_ratio: float


def _decode(source: str | os.PathLike[str] | bytes, field: str) -> tuple[np.ndarray, int, str]:
    label = "reference audio" if isinstance(source, (bytes, bytearray)) else str(source)
    if isinstance(source, (bytes, bytearray)):
        if not source:
            raise AudioInputError("reference audio is empty (0 bytes)", field=field)
        handle: object = io.BytesIO(bytes(source))
    else:
        path = Path(source)
        if not path.is_file():
            raise AudioInputError(f"reference file not found: {path}", field=field)
        if path.stat().st_size == 0:
            raise AudioInputError(f"reference file {path} is empty (0 bytes)", field=field)
        handle = str(path)
    try:
        audio, sr = sf.read(handle, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError) as exc:
        raise AudioInputError(f"{label} is not readable audio (wav, flac, ogg or mp3 expected): {exc}",
                              field=field) from None
    if audio.size == 0:
        raise AudioInputError(f"{label} decodes to no samples", field=field)
    if not np.isfinite(audio).all():
        raise AudioInputError(f"{label} is corrupt: it decodes to NaN or infinite samples", field=field)
    return audio.mean(axis=1).astype(np.float32), int(sr), label


def _voiced_ratio(audio: np.ndarray, sr: int) -> float:
    """Share of non-quiet 40 ms frames with a clear periodic peak at a speech pitch (60–500 Hz).

    Frames within 30 dB of the loudest count; the autocorrelation is divided by the window's own so long
    lags (low voices) are not penalised, and only true local maxima count as a pitch.
    """
    n = int(0.04 * sr)
    frames = audio[: len(audio) // n * n].reshape(-1, n).astype(np.float64)
    if len(frames) == 0:
        return 0.0
    frames = frames - frames.mean(axis=1, keepdims=True)
    energy = np.mean(frames**2, axis=1)
    loud = energy > energy.max() * 10 ** (-30 / 10)
    win = np.hanning(n)
    ac = np.fft.irfft(np.abs(np.fft.rfft(frames[loud] * win, n=2 * n, axis=1)) ** 2, axis=1)[:, :n]
    win_ac = np.fft.irfft(np.abs(np.fft.rfft(win, n=2 * n)) ** 2)[:n]
    ac = ac / np.maximum(ac[:, :1], 1e-20) / np.maximum(win_ac / win_ac[0], 1e-3)
    lo, hi = int(sr / 500), min(int(sr / 60), n - 2)
    mid = ac[:, lo:hi]
    is_peak = (mid > ac[:, lo - 1 : hi - 1]) & (mid >= ac[:, lo + 1 : hi + 1])
    peak = np.where(is_peak, mid, 0.0).max(axis=1) if len(mid) else np.zeros(0)
    return float(np.mean(peak > 0.5)) if len(peak) else 0.0


def check_reference(audio: np.ndarray, sr: int, label: str = "reference audio",
                    field: str = "reference") -> ReferenceReport:
    """Raise `AudioInputError` when ``audio`` cannot serve as a voice reference; else report its measures."""
    duration = len(audio) / sr
    if duration < MIN_SECONDS:
        raise AudioInputError(f"{label} is {duration:.1f} s long; a reference needs at least {MIN_SECONDS:.0f} s "
                              "of speech", field=field)
    if duration > MAX_SECONDS:
        raise AudioInputError(f"{label} is {duration:.1f} s long; use at most {MAX_SECONDS:.0f} s (cut a clip "
                              "of clean speech)", field=field)
    rms = float(np.sqrt(np.mean(audio.astype(np.float64) ** 2)))
    rms_db = 20 * np.log10(max(rms, 1e-10))
    if rms_db < SILENCE_DBFS:
        raise AudioInputError(f"{label} is silent (RMS {rms_db:.0f} dBFS)", field=field)
    spec = np.abs(np.fft.rfft(audio.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / sr)
    band = float(spec[(freqs >= 80) & (freqs <= 4000)].sum() / max(spec.sum(), 1e-20))
    voiced = _voiced_ratio(audio, sr)
    if voiced < MIN_VOICED_RATIO or band < MIN_SPEECH_BAND_RATIO:
        raise AudioInputError(f"{label} holds no clear speech (voiced frames {voiced:.0%}, speech-band energy "
                              f"{band:.0%}): it sounds like noise or music only", field=field)
    return ReferenceReport(duration_s=duration, rms_dbfs=rms_db, voiced_ratio=voiced, speech_band_ratio=band)


def load_reference(source: str | os.PathLike[str] | bytes, field: str = "reference") -> tuple[np.ndarray, int]:
    """Decode a reference (path or bytes; wav/flac/ogg/mp3), mix to mono, check it; returns (audio, rate)."""
    audio, sr, label = _decode(source, field)
    check_reference(audio, sr, label, field)
    return audio, sr
