"""The last stage every output path shares: loudness to one target, then a true-peak limiter.

Why true peak: a waveform whose *samples* stay under 1.0 can still swing above full scale *between* samples,
and a resampler or lossy encoder (48 kHz, mp3, opus) turns that into audible clipping. The peak is therefore
read on a 4× oversampled copy (ITU-R BS.1770-4 annex 2) and the limiter holds it under ``CEILING_DBTP``.

Why a look-ahead limiter rather than scaling the whole file: one transient must not turn a whole sentence
down. The gain only dips around the peaks that need it (a minimum filter as look-ahead, a moving average as
attack/release, which together never let the smoothed gain rise above the gain a peak requires).
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import minimum_filter1d, uniform_filter1d
from scipy.signal import resample_poly

from .loudness import TARGET_LUFS, match_loudness

CEILING_DBTP = -1.0  # EBU R128 / streaming-platform ceiling: room for encoders' overshoot
OVERSAMPLE = 4
LOOKAHEAD_S = 0.005


def true_peak(audio: np.ndarray, oversample: int = OVERSAMPLE) -> float:
    """The largest absolute value of ``audio`` upsampled ``oversample``× (0.0 for silence)."""
    x = np.asarray(audio, np.float32).reshape(-1)
    if x.size == 0:
        return 0.0
    if x.size < 8:
        return float(np.abs(x).max())
    return float(max(np.abs(x).max(), np.abs(resample_poly(x, oversample, 1)).max()))


def _oversampled_envelope(x: np.ndarray, oversample: int) -> np.ndarray:
    """Per original sample, the largest absolute value among its oversampled neighbours."""
    up = np.abs(resample_poly(x, oversample, 1))[: x.size * oversample]
    up = np.pad(up, (0, x.size * oversample - up.size))
    env = up.reshape(x.size, oversample).max(axis=1)
    return np.maximum(env, np.abs(x))


def limit_true_peak(audio: np.ndarray, sr: int, ceiling_dbtp: float = CEILING_DBTP) -> np.ndarray:
    """``audio`` with its true peak held at or under ``ceiling_dbtp``; untouched where it already is."""
    x = np.asarray(audio, np.float32).reshape(-1)
    ceiling = float(10 ** (ceiling_dbtp / 20))
    if x.size == 0 or true_peak(x) <= ceiling:
        return x.copy()
    half = max(1, int(LOOKAHEAD_S * sr))
    out = x.astype(np.float64)
    for _ in range(4):  # the gain dip itself slightly reshapes the waveform between samples: re-check
        env = _oversampled_envelope(out.astype(np.float32), OVERSAMPLE) if out.size >= 8 else np.abs(out)
        need = np.minimum(1.0, ceiling / np.maximum(env, 1e-12))
        if need.min() >= 1.0:
            break
        # min over ±half, then a mean over ±half/2: every averaged value is ≤ the need at the centre sample
        gain = uniform_filter1d(minimum_filter1d(need, 2 * half + 1, mode="nearest"), half + 1, mode="nearest")
        out = out * np.minimum(gain, need)
    peak = true_peak(out.astype(np.float32))
    if peak > ceiling:  # pathological input (e.g. a full-scale square wave): a plain gain as the last resort
        out *= ceiling / peak
    return out.astype(np.float32)


def master(audio: np.ndarray, sr: int, target_lufs: float | None = TARGET_LUFS) -> np.ndarray:
    """Loudness-normalise (unless ``target_lufs`` is None) and true-peak limit: what leaves limelight."""
    x = np.asarray(audio, np.float32).reshape(-1)
    if target_lufs is not None:
        x = match_loudness(x, sr, target_lufs)
    return limit_true_peak(x, sr)
