"""Acoustic measures of a voice: F0, formants, pace, periodicity, spectral tilt.

Used to find directions in the voice space (regress measures on style coordinates) and to check designed
voices (a child must have higher F0 *and* higher formants). Plain numpy/scipy, robust rather than precise:
autocorrelation pitch on 40 ms frames, LPC formants (order 12 at 11 kHz) on voiced frames, medians throughout.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from scipy.linalg import solve_toeplitz
from scipy.signal import resample_poly

F0_MIN, F0_MAX = 60.0, 500.0


@dataclass(frozen=True)
class Acoustics:
    f0_hz: float  # median F0 of voiced frames
    f0_range_st: float  # 10th–90th percentile F0 span in semitones
    f1_hz: float
    f2_hz: float
    f3_hz: float
    voiced_ratio: float  # share of non-silent frames that are voiced
    periodicity: float  # mean normalised autocorrelation peak of voiced frames (low = breathy/rough)
    tilt_db: float  # energy above 3 kHz relative to below, dB (high = bright/breathy)
    centroid_hz: float  # spectral centroid (low = warm/dark)
    tokens_per_s: float = 0.0  # phoneme tokens per second of speech, when the token count is known

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


def _frames(x: np.ndarray, size: int, hop: int) -> np.ndarray:
    n = 1 + max(0, (len(x) - size) // hop)
    idx = np.arange(size)[None, :] + hop * np.arange(n)[:, None]
    return x[idx] if len(x) >= size else np.zeros((0, size), x.dtype)


def pitch_track(audio: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per 10 ms frame: F0 (Hz, 0 when unvoiced), autocorrelation peak, frame energy (dB)."""
    x = resample_poly(np.asarray(audio, np.float64), 16_000, sr) if sr != 16_000 else np.asarray(audio, np.float64)
    fr = _frames(x, 640, 160)
    if len(fr) == 0:
        return np.zeros(0), np.zeros(0), np.zeros(0)
    fr = fr - fr.mean(axis=1, keepdims=True)
    energy = 10 * np.log10(np.mean(fr**2, axis=1) + 1e-12)
    win = np.hanning(640)
    spec = np.fft.rfft(fr * win, n=2048, axis=1)
    ac = np.fft.irfft(np.abs(spec) ** 2, axis=1)[:, :640]
    win_ac = np.fft.irfft(np.abs(np.fft.rfft(win, n=2048)) ** 2)[:640]
    # Divide by the window's own autocorrelation (Boersma 1993) so long lags are not penalised, then prefer
    # shorter lags only slightly (Praat's octave cost), which avoids octave-up errors on low voices.
    ac = ac / np.maximum(ac[:, :1], 1e-12) / np.maximum(win_ac / win_ac[0], 1e-3)
    lo, hi = int(16_000 / F0_MAX), int(16_000 / F0_MIN)
    seg = ac[:, lo:hi].copy()
    is_peak = (ac[:, lo:hi] > ac[:, lo - 1 : hi - 1]) & (ac[:, lo:hi] >= ac[:, lo + 1 : hi + 1])
    seg[~is_peak] = -1.0  # only true local maxima: a slowly decaying autocorrelation is not a pitch
    cost = 0.01 * np.log2(F0_MIN * np.arange(lo, hi) / 16_000)
    lag = np.argmax(seg - cost, axis=1) + lo
    peak = np.clip(seg[np.arange(len(seg)), lag - lo], 0.0, 1.0)
    # parabolic refinement of the lag
    left = ac[np.arange(len(ac)), lag - 1]
    right = ac[np.arange(len(ac)), np.minimum(lag + 1, 639)]
    denom = left - 2 * peak + right
    with np.errstate(divide="ignore", invalid="ignore"):
        shift = np.where(np.abs(denom) > 1e-9, 0.5 * (left - right) / denom, 0.0)
    f0 = 16_000 / (lag + np.clip(shift, -0.5, 0.5))
    loud = energy > energy.max() - 30
    voiced = loud & (peak > 0.6)
    return np.where(voiced, f0, 0.0), peak, energy


def formants(audio: np.ndarray, sr: int, voiced_mask_10ms: np.ndarray | None = None) -> tuple[float, float, float]:
    """Median F1–F3 over voiced frames, from LPC roots (order 12, 11 kHz, pre-emphasis 0.97)."""
    x = resample_poly(np.asarray(audio, np.float64), 11_000, sr)
    x = np.append(x[0], x[1:] - 0.97 * x[:-1])
    fr = _frames(x, 275, 110)  # 25 ms / 10 ms
    if voiced_mask_10ms is not None:
        n = min(len(fr), len(voiced_mask_10ms))
        fr = fr[:n][voiced_mask_10ms[:n]]
    found: list[list[float]] = []
    win = np.hamming(275)
    for f in fr:
        f = f * win
        r = np.correlate(f, f, "full")[274 : 274 + 13]
        if r[0] <= 1e-10:
            continue
        try:
            a = solve_toeplitz(r[:12], r[1:13])
        except np.linalg.LinAlgError:
            continue
        roots = np.roots(np.concatenate([[1.0], -a]))
        roots = roots[np.imag(roots) > 0]
        freq = np.angle(roots) * 11_000 / (2 * np.pi)
        bw = -np.log(np.abs(roots)) * 11_000 / np.pi
        cand = np.sort(freq[(freq > 150) & (freq < 5000) & (bw < 500)])
        if len(cand) >= 3:
            found.append(list(cand[:3]))
    if not found:
        return 0.0, 0.0, 0.0
    med = np.median(np.array(found), axis=0)
    return float(med[0]), float(med[1]), float(med[2])


def measure(audio: np.ndarray, sr: int, n_tokens: int = 0) -> Acoustics:
    """All measures of one utterance (or several joined)."""
    audio = np.asarray(audio, np.float32).reshape(-1)
    f0, peak, energy = pitch_track(audio, sr)
    voiced = f0 > 0
    if voiced.sum() >= 5:
        # Keep frames within ~3/4 octave of the most common pitch: drops fricatives and octave slips.
        logs = np.log2(f0[voiced])
        hist, edges = np.histogram(logs, bins=np.arange(np.log2(F0_MIN), np.log2(F0_MAX) + 1 / 6, 1 / 6))
        mode = edges[np.argmax(hist)] + 1 / 12
        voiced &= np.abs(np.log2(np.maximum(f0, 1.0)) - mode) < 0.75
    loud = energy > (energy.max() - 35 if len(energy) else 0)
    f0v = f0[voiced]
    if len(f0v):
        med = float(np.median(f0v))
        p10, p90 = np.percentile(f0v, [10, 90])
        rng = float(12 * np.log2(p90 / p10))
    else:
        med, rng = 0.0, 0.0
    f1, f2, f3 = formants(audio, sr, voiced)
    spec = np.abs(np.fft.rfft(audio.astype(np.float64))) ** 2
    freqs = np.fft.rfftfreq(len(audio), 1 / sr)
    hi = spec[freqs >= 3000].sum()
    lo = spec[(freqs >= 80) & (freqs < 3000)].sum()
    tilt = float(10 * np.log10((hi + 1e-12) / (lo + 1e-12)))
    centroid = float((spec * freqs).sum() / max(spec.sum(), 1e-12))
    speech_s = max(float(loud.sum()) * 0.01, 1e-3)
    return Acoustics(
        f0_hz=med, f0_range_st=rng, f1_hz=f1, f2_hz=f2, f3_hz=f3,
        voiced_ratio=float(voiced.sum() / max(loud.sum(), 1)),
        periodicity=float(peak[voiced].mean()) if voiced.any() else 0.0,
        tilt_db=tilt, centroid_hz=centroid,
        tokens_per_s=n_tokens / speech_s if n_tokens else 0.0,
    )
