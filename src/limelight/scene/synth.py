"""Signal building blocks for the procedural sound library.

Everything here is *circular*. Noise is shaped in the frequency domain (one inverse FFT of a random
spectrum), slow envelopes are band-limited periodic noise, and events are added modulo the buffer length.
A sound assembled only from these pieces is periodic in its own length, so it loops with no seam at all:
the wrap from the last sample to the first is as ordinary as any other pair of neighbours. That beats the
usual "generate longer and crossfade the ends", which smears transients and dips the level at the seam.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

Gain = Callable[[np.ndarray], np.ndarray]
"""A magnitude response: frequencies in Hz → linear gains (same shape)."""

AMBIENCE_RMS = 0.1
"""Nominal level of an ambience bed as generated (−20 dBFS RMS); the mixer rescales it anyway."""
EFFECT_PEAK = 0.9
"""Nominal peak of an effect as generated; the mixer rescales it to its level relative to the voice."""


def n_samples(duration_s: float, sr: int) -> int:
    """Samples in ``duration_s`` (at least one, so every generator returns a non-empty array)."""
    if sr <= 0:
        raise ValueError(f"sample rate must be positive, got {sr}")
    if not np.isfinite(duration_s) or duration_s < 0:
        raise ValueError(f"duration must be a finite number of seconds ≥ 0, got {duration_s}")
    return max(1, int(round(duration_s * sr)))


# --- magnitude responses -------------------------------------------------------------------------------

def bandpass(lo: float | None, hi: float | None, order: int = 2) -> Gain:
    """Butterworth-shaped magnitude: ``order`` poles each side (6·order dB/octave skirts)."""

    def gain(f: np.ndarray) -> np.ndarray:
        g = np.ones_like(f, dtype=float)
        if hi is not None:
            g = g / np.sqrt(1.0 + (f / hi) ** (2 * order))
        if lo is not None:
            with np.errstate(divide="ignore"):
                g = g / np.sqrt(1.0 + (lo / np.maximum(f, 1e-9)) ** (2 * order))
        return g

    return gain


def tilt(db_per_octave: float, ref_hz: float = 1000.0, floor_hz: float = 20.0) -> Gain:
    """Spectral slope (−3 dB/oct = pink, −6 dB/oct = brown), flattened below ``floor_hz`` to stay finite."""

    def gain(f: np.ndarray) -> np.ndarray:
        return (np.maximum(f, floor_hz) / ref_hz) ** (db_per_octave / (20 * np.log10(2)))

    return gain


def peak_at(center_hz: float, q: float) -> Gain:
    """A resonance (second-order band-pass magnitude) with quality factor ``q``."""

    def gain(f: np.ndarray) -> np.ndarray:
        x = np.maximum(f, 1e-9) / center_hz
        return 1.0 / np.sqrt(1.0 + q * q * (x - 1.0 / x) ** 2)

    return gain


def product(*gains: Gain) -> Gain:
    """Cascade several magnitude responses."""

    def gain(f: np.ndarray) -> np.ndarray:
        g = np.ones_like(f, dtype=float)
        for one in gains:
            g = g * one(f)
        return g

    return gain


# --- periodic noise and envelopes -----------------------------------------------------------------------

def shaped_noise(n: int, sr: int, rng: np.random.Generator, gain: Gain | None = None) -> np.ndarray:
    """Gaussian noise of length ``n`` with magnitude response ``gain``, unit RMS, periodic in ``n``.

    Drawn directly as a random spectrum so the inverse FFT is the only transform.
    """
    bins = n // 2 + 1
    spec = rng.standard_normal(bins) + 1j * rng.standard_normal(bins)
    spec[0] = 0.0
    if n % 2 == 0:
        spec[-1] = spec[-1].real
    if gain is not None:
        spec = spec * gain(np.fft.rfftfreq(n, 1.0 / sr))
    x = np.fft.irfft(spec, n)
    return x / (rms(x) + 1e-12)


def slow_noise(n: int, sr: int, rng: np.random.Generator, cutoff_hz: float) -> np.ndarray:
    """Zero-mean, unit-variance random curve varying no faster than ``cutoff_hz``; periodic in ``n``.

    Built on a coarse grid and interpolated circularly, because an FFT of the full buffer for a 0.1 Hz
    curve is wasted work and the grid keeps low cut-offs exact even for short buffers.
    """
    rate = max(8.0 * cutoff_hz, 4.0 / (n / sr))
    m = max(8, int(np.ceil(n / sr * rate)))
    coarse = shaped_noise(m, m / (n / sr), rng, bandpass(None, cutoff_hz, order=3))
    # Linear interpolation of a curve oversampled ≥ 8× its cut-off is smooth; wrapping keeps it periodic.
    curve = np.interp(np.arange(n) * (m / n), np.arange(m + 1), np.append(coarse, coarse[0]))
    return (curve - curve.mean()) / (curve.std() + 1e-12)


def slow_envelope(n: int, sr: int, rng: np.random.Generator, cutoff_hz: float, depth_db: float) -> np.ndarray:
    """Positive, mean-one gain curve whose level wanders by about ±``depth_db`` (log-normal: gusts, swells)."""
    curve = np.exp(slow_noise(n, sr, rng, cutoff_hz) * depth_db / 8.686)
    return curve / curve.mean()


# --- events --------------------------------------------------------------------------------------------

def circular_add(out: np.ndarray, event: np.ndarray, start: int) -> None:
    """Add ``event`` into ``out`` at ``start``, wrapping past the end back to the beginning."""
    n = len(out)
    pos = start % n
    i = 0
    while i < len(event):
        take = min(len(event) - i, n - pos)
        out[pos : pos + take] += event[i : i + take]
        i += take
        pos = 0


def fold(h: np.ndarray, n: int) -> np.ndarray:
    """Wrap a kernel longer than ``n`` onto length ``n`` (what circular convolution sees)."""
    out = np.zeros(n)
    circular_add(out, h, 0)
    return out


def circular_convolve(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """Convolution modulo ``len(x)``: keeps a periodic signal periodic (reverb tails wrap to the start)."""
    n = len(x)
    return np.fft.irfft(np.fft.rfft(x) * np.fft.rfft(fold(h, n)), n)


def scatter(n: int, events: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
    """Many copies of a few kernels: ``events`` is a list of (kernel, positions, amplitudes).

    Equivalent to ``sum(circular_convolve(impulse_train(n, pos, amp), kernel))`` but accumulates in the
    frequency domain, so k kernels cost 2k+1 FFTs instead of 3k (the FFTs dominate every bed's cost).
    """
    spec = np.zeros(n // 2 + 1, dtype=complex)
    for kernel, positions, amplitudes in events:
        spec += np.fft.rfft(impulse_train(n, positions, amplitudes)) * np.fft.rfft(fold(kernel, n))
    return np.fft.irfft(spec, n)


def scatter_rows(n: int, positions: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Add row ``i`` of ``rows`` (events × samples) at ``positions[i]``, wrapping circularly.

    For events that each need their own shape (every raindrop rings at its own pitch); one bincount
    does all the adds, which is far cheaper than a Python loop or an FFT per distinct shape.
    """
    idx = (np.asarray(positions, dtype=np.int64)[:, None] + np.arange(rows.shape[1])) % n
    return np.bincount(idx.ravel(), weights=rows.ravel(), minlength=n)


def impulse_train(n: int, positions: np.ndarray, amplitudes: np.ndarray) -> np.ndarray:
    """Sparse train of impulses (positions taken modulo ``n``); convolve it with a kernel for many events."""
    train = np.zeros(n)
    np.add.at(train, np.asarray(positions, dtype=int) % n, amplitudes)
    return train


def poisson_times(n: int, sr: int, rng: np.random.Generator, rate_hz: float,
                  density: np.ndarray | None = None) -> np.ndarray:
    """Sample positions of a Poisson process (optionally with time-varying ``density``, mean one)."""
    expected = rate_hz * n / sr
    count = rng.poisson(expected)
    if density is None:
        return np.sort(rng.integers(0, n, count))
    p = np.maximum(density, 0)
    cdf = np.cumsum(p) / p.sum()
    return np.sort(np.searchsorted(cdf, rng.random(count)).clip(0, n - 1))


def periodic_count(duration_s: float, period_s: float) -> int:
    """How many repetitions of ``period_s`` fit a loop of ``duration_s`` (at least one)."""
    return max(1, int(round(duration_s / period_s)))


# --- deterministic shapes ------------------------------------------------------------------------------

def decay(n: int, sr: int, t60_s: float) -> np.ndarray:
    """Exponential decay reaching −60 dB after ``t60_s``."""
    return np.exp(-6.908 * np.arange(n) / (sr * max(t60_s, 1e-4)))


def attack_decay(n: int, sr: int, attack_s: float, t60_s: float) -> np.ndarray:
    """Raised-cosine rise over ``attack_s`` then exponential decay: the envelope of most struck things."""
    env = decay(n, sr, t60_s)
    a = min(n, max(1, int(attack_s * sr)))
    env[:a] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(a) / a)
    return env


def modes(n: int, sr: int, rng: np.random.Generator, freqs: np.ndarray, t60s: np.ndarray,
          amps: np.ndarray) -> np.ndarray:
    """Sum of exponentially damped sinusoids (modal synthesis of struck wood, glass, metal, skin).

    Modes above 0.45·sr are dropped so every sound is alias-free at any sample rate.
    """
    t = np.arange(n) / sr
    out = np.zeros(n)
    for f, t60, a in zip(np.atleast_1d(freqs), np.atleast_1d(t60s), np.atleast_1d(amps), strict=True):
        if f >= 0.45 * sr:
            continue
        out += a * np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) * np.exp(-6.908 * t / t60)
    return out


def burst(n: int, sr: int, rng: np.random.Generator, attack_s: float, t60_s: float,
          gain: Gain | None = None) -> np.ndarray:
    """A noise burst with an attack/decay envelope (impacts, claps, crackles)."""
    return shaped_noise(n, sr, rng, gain) * attack_decay(n, sr, attack_s, t60_s)


def fades(x: np.ndarray, sr: int, fade_in_s: float, fade_out_s: float) -> np.ndarray:
    """Raised-cosine fade-in and fade-out (returns a new array)."""
    y = np.array(x, dtype=float)
    a = min(len(y), int(fade_in_s * sr))
    b = min(len(y), int(fade_out_s * sr))
    if a > 0:
        y[:a] *= 0.5 - 0.5 * np.cos(np.pi * np.arange(a) / a)
    if b > 0:
        y[len(y) - b :] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(b) / b)
    return y


def fit_length(x: np.ndarray, n: int, sr: int) -> np.ndarray:
    """Pad with silence or cut to ``n`` samples; a cut gets a 50 ms fade so the end (and the loop) is silent."""
    if len(x) >= n:
        return fades(x[:n], sr, 0.0, min(0.05, n / sr / 4))
    return np.concatenate([x, np.zeros(n - len(x))])


# --- levels --------------------------------------------------------------------------------------------

def rms(x: np.ndarray) -> float:
    """Root-mean-square level of the whole array."""
    return float(np.sqrt(np.mean(np.square(x)))) if len(x) else 0.0


def finish_ambience(x: np.ndarray) -> np.ndarray:
    """Scale a bed to the nominal RMS (peak kept ≤ 0.99) and return float32."""
    y = x * (AMBIENCE_RMS / (rms(x) + 1e-12))
    peak = float(np.max(np.abs(y))) if len(y) else 0.0
    if peak > 0.99:
        y = y * (0.99 / peak)
    return y.astype(np.float32)


def finish_effect(x: np.ndarray) -> np.ndarray:
    """Scale an effect to the nominal peak and return float32."""
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    y = x * (EFFECT_PEAK / peak) if peak > 0 else x
    return np.asarray(y, dtype=np.float32)
