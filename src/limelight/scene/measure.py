"""Acoustic measurements used to verify the scene layer (tests, reports, the integrator's checks).

Standard, textbook definitions only, so a number here means what it means anywhere: Welch spectra,
spectral flatness (Wiener entropy), band energy fractions, envelope autocorrelation for rhythm, energy-rise
onset detection, and Schroeder backward integration for reverberation time (ISO 3382 T20).
"""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, sosfiltfilt, welch


def spectrum(x: np.ndarray, sr: int, nperseg: int = 2048) -> tuple[np.ndarray, np.ndarray]:
    """Welch power spectral density (Hann, 50 % overlap): frequencies (Hz) and power."""
    f, p = welch(np.asarray(x, dtype=np.float64), sr, nperseg=min(nperseg, len(x)))
    return f, p


def band_fraction(x: np.ndarray, sr: int, lo: float, hi: float) -> float:
    """Fraction of the signal's power between ``lo`` and ``hi`` Hz."""
    f, p = spectrum(x, sr)
    return float(p[(f >= lo) & (f < hi)].sum() / (p.sum() + 1e-30))


def spectral_flatness(x: np.ndarray, sr: int, lo: float = 100.0, hi: float | None = None) -> float:
    """Geometric over arithmetic mean of the power spectrum in a band: 1 for white noise, → 0 for tones."""
    f, p = spectrum(x, sr)
    band = p[(f >= lo) & (f < (hi if hi is not None else sr / 2))] + 1e-30
    return float(np.exp(np.mean(np.log(band))) / np.mean(band))


def spectral_centroid(x: np.ndarray, sr: int) -> float:
    """Power-weighted mean frequency (Hz)."""
    f, p = spectrum(x, sr)
    return float((f * p).sum() / (p.sum() + 1e-30))


def envelope(x: np.ndarray, sr: int, hop_s: float = 0.01) -> np.ndarray:
    """RMS per non-overlapping frame of ``hop_s``."""
    hop = max(1, int(hop_s * sr))
    frames = len(x) // hop
    return np.sqrt(np.mean(np.asarray(x[: frames * hop], dtype=np.float64).reshape(frames, hop) ** 2, axis=1))


def autocorrelation_peak(env: np.ndarray, hop_s: float, lo_s: float, hi_s: float) -> tuple[float, float]:
    """Strongest periodicity of an envelope between lags ``lo_s`` and ``hi_s``: (lag in s, normalised r)."""
    e = env - env.mean()
    n = len(e)
    spec = np.fft.rfft(e, 2 * n)
    ac = np.fft.irfft(spec * np.conj(spec))[:n]
    ac = ac / (ac[0] + 1e-30)
    lo, hi = max(1, int(round(lo_s / hop_s))), min(n - 1, int(round(hi_s / hop_s)))
    k = lo + int(np.argmax(ac[lo : hi + 1]))
    return k * hop_s, float(ac[k])


def onsets(x: np.ndarray, sr: int, *, hop_s: float = 0.005, rise_db: float = 12.0, floor_db: float = -45.0,
           min_gap_s: float = 0.08) -> np.ndarray:
    """Times (s) where energy jumps by ``rise_db`` over the preceding 50 ms and is within ``floor_db`` of
    the loudest frame. Consecutive detections closer than ``min_gap_s`` count once."""
    env = envelope(x, sr, hop_s) ** 2 + 1e-20
    db = 10 * np.log10(env)
    back = max(1, int(0.05 / hop_s))
    past = np.array([env[max(0, i - back) : i].mean() if i else 1e-20 for i in range(len(env))])
    hits = np.flatnonzero((db - 10 * np.log10(past) > rise_db) & (db > db.max() + floor_db))
    times: list[float] = []
    for i in hits:
        t = i * hop_s
        if not times or t - times[-1] >= min_gap_s:
            times.append(t)
    return np.array(times)


def schroeder_rt60(ir: np.ndarray, sr: int, band: tuple[float, float] | None = (707.0, 1414.0),
                   fit_db: tuple[float, float] = (-5.0, -25.0), skip_s: float = 0.0) -> float:
    """Reverberation time from the Schroeder backward-integrated energy decay (T20 by default).

    ``band`` filters the IR first (zero-phase octave band, 1 kHz by default); ``skip_s`` drops the start
    (e.g. the direct sound) so the fit sees the reverberant decay.
    """
    h = np.asarray(ir, dtype=np.float64)
    if band is not None:
        sos = butter(3, band, btype="bandpass", fs=sr, output="sos")
        h = sosfiltfilt(sos, h)
    h = h[int(skip_s * sr) :]
    edc = np.cumsum((h**2)[::-1])[::-1]
    edc_db = 10 * np.log10(edc / edc[0] + 1e-30)
    hi, lo = fit_db
    idx = np.flatnonzero((edc_db <= hi) & (edc_db >= lo))
    if len(idx) < 2:
        raise ValueError("decay range not reached: IR too short or too noisy for this fit")
    slope, _ = np.polyfit(idx / sr, edc_db[idx], 1)
    return float(-60.0 / slope)
