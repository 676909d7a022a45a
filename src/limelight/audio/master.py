"""The last stage every output path shares: loudness to one target, then a true-peak limiter.

Why true peak: a waveform whose *samples* stay under 1.0 can still swing above full scale *between* samples,
and a resampler or lossy encoder (48 kHz, mp3, opus) turns that into audible clipping. The peak is therefore
read on a 4× oversampled copy (ITU-R BS.1770-4 annex 2) and the limiter holds it under ``CEILING_DBTP``.

Why a look-ahead limiter rather than scaling the whole file: one transient must not turn a whole sentence
down. The gain only dips around the peaks that need it (a minimum filter as look-ahead, a moving average as
attack/release, which together never let the smoothed gain rise above the gain a peak requires).

numpy only (an FFT interpolator, an O(n) running minimum): this runs on every output path, including a
one-line ``limelight say``, whose start-up must not pay for importing ``scipy.signal``.
"""

from __future__ import annotations

import numpy as np

from .loudness import TARGET_LUFS, match_loudness

CEILING_DBTP = -1.0  # EBU R128 / streaming-platform ceiling: room for encoders' overshoot
OVERSAMPLE = 4
LOOKAHEAD_S = 0.005


def fast_length(n: int) -> int:
    """The smallest even 2·3·5-smooth length ≥ ``n`` (FFTs of sizes with large prime factors are slow)."""
    best = 1 << max(1, int(np.ceil(np.log2(max(n, 2)))))
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35 * (1 << max(1, int(np.ceil(np.log2(max(n / p35, 1))))))
            best = min(best, m) if m >= n else best
            p35 *= 3
        p5 *= 5
    return best


def upsample(audio: np.ndarray, factor: int = OVERSAMPLE) -> np.ndarray:
    """Band-limited interpolation by an integer ``factor`` (zero-padding the spectrum; sample i lands on i·factor).

    The signal is padded by 64 samples of silence on both sides so the FFT's circular wrap cannot fold the
    end into the start."""
    x = np.asarray(audio, np.float64).reshape(-1)
    pad = 64
    padded = np.concatenate([np.zeros(pad), x, np.zeros(pad)])
    n = fast_length(padded.size)
    spectrum = np.fft.rfft(padded, n)
    up = np.fft.irfft(spectrum, n * factor) * factor
    return up[pad * factor:(pad + x.size) * factor]


def true_peak(audio: np.ndarray, oversample: int = OVERSAMPLE) -> float:
    """The largest absolute value of ``audio`` upsampled ``oversample``× (0.0 for silence)."""
    x = np.asarray(audio, np.float32).reshape(-1)
    if x.size == 0:
        return 0.0
    if x.size < 8:
        return float(np.abs(x).max())
    return float(max(np.abs(x).max(), np.abs(upsample(x, oversample)).max()))


def _oversampled_envelope(x: np.ndarray, oversample: int) -> np.ndarray:
    """Per original sample, the largest absolute value among its oversampled neighbours."""
    env = np.abs(upsample(x, oversample)).reshape(x.size, oversample).max(axis=1)
    return np.maximum(env, np.abs(x))


def running_min(x: np.ndarray, radius: int) -> np.ndarray:
    """Minimum over ``[i - radius, i + radius]`` for every i (edges repeat the end values); O(n) (van Herk)."""
    k = 2 * radius + 1
    p = np.pad(np.asarray(x, np.float64), (radius, radius), mode="edge")
    m = -(-p.size // k) * k
    blocks = np.pad(p, (0, m - p.size), constant_values=np.inf).reshape(-1, k)
    prefix = np.minimum.accumulate(blocks, axis=1).ravel()
    suffix = np.minimum.accumulate(blocks[:, ::-1], axis=1)[:, ::-1].ravel()
    n = np.asarray(x).size
    return np.minimum(suffix[:n], prefix[k - 1:k - 1 + n])


def running_mean(x: np.ndarray, radius: int) -> np.ndarray:
    """Mean over ``[i - radius, i + radius]`` (edges repeat the end values)."""
    p = np.pad(np.asarray(x, np.float64), (radius + 1, radius), mode="edge")
    c = np.cumsum(p)
    k = 2 * radius + 1
    return (c[k:] - c[:-k]) / k


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
        gain = running_mean(running_min(need, half), half // 2)
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
