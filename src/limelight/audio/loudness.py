"""Loudness measurement and matching (ITU-R BS.1770 through pyloudnorm).

Chunks are rendered independently, and Kokoro's level drifts with text and style row; matching each raw chunk
to one integrated loudness before directions are applied keeps a long performance even (±1 LU) while still
letting a directed shout be louder than its neighbours.
"""

from __future__ import annotations

import numpy as np

TARGET_LUFS = -20.0
_MIN_BLOCK_S = 0.4


def integrated_lufs(audio: np.ndarray, sr: int) -> float:
    """Integrated loudness in LUFS; ``-inf`` for silence, RMS-based for clips under 0.4 s."""
    x = np.asarray(audio, np.float64).reshape(-1)
    if x.size == 0 or not np.any(x):
        return float("-inf")
    if x.size < int(_MIN_BLOCK_S * sr):
        return float(20 * np.log10(np.sqrt(np.mean(x**2)) + 1e-12) - 0.691)
    import pyloudnorm

    return float(pyloudnorm.Meter(sr).integrated_loudness(x))


def match_loudness(audio: np.ndarray, sr: int, target_lufs: float = TARGET_LUFS, max_gain_db: float = 15.0,
                   peak: float = 0.98) -> np.ndarray:
    """Scale to ``target_lufs`` (gain bounded), then soft-limit the rare peaks above a knee so nothing clips.

    Peaks are limited sample-wise rather than by turning the whole chunk down: one transient must not make its
    chunk quieter than its neighbours (that alone spread chunk loudness by > 2 LU)."""
    level = integrated_lufs(audio, sr)
    if not np.isfinite(level):
        return np.asarray(audio, np.float32)
    gain_db = float(np.clip(target_lufs - level, -max_gain_db, max_gain_db))
    out = np.asarray(audio, np.float32) * np.float32(10 ** (gain_db / 20))
    knee = 0.85 * peak
    over = np.abs(out) > knee
    if np.any(over):
        mag = np.abs(out[over])
        out[over] = np.sign(out[over]) * (knee + (peak - knee) * np.tanh((mag - knee) / (peak - knee)))
    return out


def fade_edges(audio: np.ndarray, sr: int, fade_s: float = 0.005) -> np.ndarray:
    """Short raised-cosine fades so pieces joined end to end never click."""
    n = min(int(fade_s * sr), audio.size // 2)
    if n <= 0:
        return audio
    out = np.array(audio, np.float32, copy=True)
    ramp = (0.5 - 0.5 * np.cos(np.linspace(0, np.pi, n, dtype=np.float32)))
    out[:n] *= ramp
    out[-n:] *= ramp[::-1]
    return out
