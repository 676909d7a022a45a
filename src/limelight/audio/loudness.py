"""Loudness measurement and matching (ITU-R BS.1770-4 integrated loudness, gated).

Chunks are rendered independently, and Kokoro's level drifts with text and style row; matching each raw chunk
to one integrated loudness before directions are applied keeps a long performance even (±1 LU) while still
letting a directed shout be louder than its neighbours.

The meter is pyloudnorm's algorithm (same K-weighting biquads, 400 ms blocks with 75 % overlap, -70 LUFS
absolute and -10 LU relative gates) in numpy alone: the filters are applied through the FFT with enough
zero padding for their tails, which equals the IIR's output to float precision. pyloudnorm itself imports
``scipy.signal``, which costs 0.5–2.5 s of every CLI start on a small CPU, only to run two biquads.
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
    return _gated_loudness(k_weight(x, sr), sr)


def _biquad(kind: str, gain_db: float, q: float, fc: float, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """RBJ-cookbook biquads as BS.1770's K-weighting uses them (pyloudnorm's coefficients)."""
    big_a = 10 ** (gain_db / 40.0)
    w0 = 2.0 * np.pi * fc / sr
    alpha, cos = np.sin(w0) / (2.0 * q), np.cos(w0)
    if kind == "high_shelf":
        root = 2 * np.sqrt(big_a) * alpha
        b = [big_a * ((big_a + 1) + (big_a - 1) * cos + root), -2 * big_a * ((big_a - 1) + (big_a + 1) * cos),
             big_a * ((big_a + 1) + (big_a - 1) * cos - root)]
        a = [(big_a + 1) - (big_a - 1) * cos + root, 2 * ((big_a - 1) - (big_a + 1) * cos),
             (big_a + 1) - (big_a - 1) * cos - root]
    else:  # high_pass
        b = [(1 + cos) / 2, -(1 + cos), (1 + cos) / 2]
        a = [1 + alpha, -2 * cos, 1 - alpha]
    return np.asarray(b) / a[0], np.asarray(a) / a[0]


def k_weight(audio: np.ndarray, sr: int) -> np.ndarray:
    """BS.1770 K-weighting (high shelf +4 dB at 1.5 kHz, high pass at 38 Hz), float64."""
    x = np.asarray(audio, np.float64).reshape(-1)
    n = x.size
    nfft = 1 << int(np.ceil(np.log2(n + sr)))  # one second of padding: the 38 Hz high pass's tail dies in it
    z = np.exp(-1j * np.pi * np.arange(nfft // 2 + 1) / (nfft // 2))  # z^-1 on the rfft grid
    response = np.ones_like(z)
    for b, a in (_biquad("high_shelf", 4.0, 1 / np.sqrt(2), 1500.0, sr), _biquad("high_pass", 0.0, 0.5, 38.0, sr)):
        response *= (b[0] + b[1] * z + b[2] * z * z) / (a[0] + a[1] * z + a[2] * z * z)
    return np.fft.irfft(np.fft.rfft(x, nfft) * response, nfft)[:n]


def _gated_loudness(weighted: np.ndarray, sr: int, block_s: float = 0.4, overlap: float = 0.75) -> float:
    step = block_s * (1 - overlap)
    n_blocks = int(np.round((weighted.size / sr - block_s) / step)) + 1
    power = np.concatenate([[0.0], np.cumsum(weighted * weighted)])
    lo = (block_s * np.arange(n_blocks) * (1 - overlap) * sr).astype(int)
    hi = (block_s * (np.arange(n_blocks) * (1 - overlap) + 1) * sr).astype(int)
    z = (power[np.minimum(hi, weighted.size)] - power[np.minimum(lo, weighted.size)]) / (block_s * sr)
    with np.errstate(divide="ignore"):
        block_lufs = -0.691 + 10 * np.log10(z)
    above = block_lufs >= -70.0
    if not np.any(above):
        return float("-inf")
    relative = -0.691 + 10 * np.log10(z[above].mean()) - 10.0
    kept = (block_lufs > relative) & above
    if not np.any(kept):
        return float("-inf")
    return float(-0.691 + 10 * np.log10(z[kept].mean()))


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
