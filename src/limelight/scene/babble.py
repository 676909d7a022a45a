"""Crowd murmur and café chatter from synthetic talkers: speech-like, never intelligible.

A talker here is the source–filter model of speech with no words in it: a glottal pulse train (with
intonation that falls over each phrase) and fricative noise, shaped by three formant resonators taken from
the vowel chart, gated by syllable envelopes at ~4–5 per second, in phrases separated by pauses. Many of
them at different distances, smeared by a room, is what a crowd sounds like to someone not listening —
the syllabic rhythm and formant colour are there, the words are not. :func:`crowd_from_speech` does the
same with real speech clips (e.g. from our engine) when the integrator wants more realism.
"""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from .impulse import generate_ir
from .synth import (
    bandpass,
    burst,
    circular_add,
    fades,
    finish_ambience,
    fold,
    modes,
    n_samples,
    poisson_times,
    product,
    rms,
    shaped_noise,
    tilt,
)

# (F1, F2, F3) in Hz for an adult male voice (Peterson & Barney 1952); women's are ~15 % higher.
VOWELS = np.array([
    [270, 2290, 3010], [390, 1990, 2550], [530, 1840, 2480], [660, 1720, 2410], [730, 1090, 2440],
    [570, 840, 2410], [440, 1020, 2240], [300, 870, 2240], [640, 1190, 2390], [490, 1350, 1690],
], dtype=float)
BANDWIDTHS = np.array([80.0, 100.0, 140.0])


def _formant_filter(formants: np.ndarray, sr: int) -> tuple[np.ndarray, np.ndarray]:
    """Cascade of second-order resonators (one IIR) with roughly unit gain at each peak."""
    a = np.array([1.0])
    b = 1.0
    for f, bw in zip(formants, BANDWIDTHS, strict=True):
        if f >= 0.45 * sr:
            continue
        r = np.exp(-np.pi * bw / sr)
        a = np.convolve(a, [1.0, -2 * r * np.cos(2 * np.pi * f / sr), r * r])
        b *= 1 - r
    return np.array([b]), a


def talker(n: int, sr: int, rng: np.random.Generator, *, female: bool, vowels: int = 4) -> np.ndarray:
    """One synthetic talker chattering for ``n`` samples, periodic in ``n`` like every bed.

    Built for speed as whole-stream signals rather than syllable by syllable: one glottal source with the
    talker's intonation, filtered once per vowel colour (``vowels`` of them, a talker's habitual set), each
    filtered stream gated by the envelopes of the syllables that use that vowel. Filters are warmed up on
    the end of the stream so the filtered signal is circular too.
    """
    f0_base = rng.uniform(180, 240) if female else rng.uniform(95, 135)
    chart = VOWELS[rng.choice(len(VOWELS), size=min(vowels, len(VOWELS)), replace=False)]
    chart = chart * (1.15 if female else 1.0) * rng.uniform(0.95, 1.05)
    f0 = np.full(n, f0_base)
    gates = np.zeros((len(chart), n))
    frication = np.zeros(n)
    pos = int(rng.integers(0, n))
    spoken = 0
    while spoken < n:
        phrase = rng.uniform(1.2, 3.5)
        t = 0.0
        while t < phrase:
            length = int(rng.uniform(0.12, 0.3) * sr)
            start = (pos + int(t * sr)) % n
            stop = min(n, start + length)
            glide = np.linspace(1.0, 1.0 + rng.uniform(-0.08, 0.05), stop - start)
            f0[start:stop] = f0_base * (1.12 - 0.2 * t / phrase) * rng.uniform(0.95, 1.05) * glide
            circular_add(gates[rng.integers(len(chart))], fades(np.ones(length), sr, 0.03, 0.06)
                         * rng.uniform(0.6, 1.0), start)
            if rng.random() < 0.6:
                c = int(rng.uniform(0.03, 0.07) * sr)
                circular_add(frication, 0.12 * np.hanning(c), start)
            t += length / sr + rng.uniform(0.0, 0.05)
        step = int((phrase + rng.uniform(0.25, 1.0)) * sr)
        pos += step
        spoken += step
    phase = np.cumsum(f0) / sr
    source = np.zeros(n)
    source[np.flatnonzero(np.diff(np.floor(phase), prepend=np.floor(phase[0])))] = 1.0
    source = source + 0.02 * rng.standard_normal(n)  # breath
    warm = min(n, int(0.05 * sr))
    looped = np.concatenate([source[n - warm :], source])
    looped = lfilter([1.0], [1.0, -0.9], looped)  # glottal roll-off
    out = np.zeros(n)
    for formants, gate in zip(chart, gates, strict=True):
        b, a = _formant_filter(formants, sr)
        voiced = lfilter(b, a, looped)[warm:]
        out += voiced / (rms(voiced) + 1e-12) * gate
    hiss = np.diff(rng.standard_normal(n + 1))  # fricatives: noise tilted upwards
    return out + hiss * frication


def _distance(x: np.ndarray, sr: int, rng: np.random.Generator, far_db: float) -> np.ndarray:
    """Push a talker back: quieter, and duller the farther away (air and furniture absorb the highs)."""
    d = rng.uniform(0.0, 1.0)
    cutoff = 6000.0 - 4000.0 * d
    n = len(x)
    spec = np.fft.rfft(x) * bandpass(None, cutoff, 1)(np.fft.rfftfreq(n, 1.0 / sr))
    return np.fft.irfft(spec, n) * 10 ** (-far_db * d / 20)


def _crowd(n: int, sr: int, rng: np.random.Generator, talkers: int, far_db: float, rt60_s: float,
           wet_db: float) -> np.ndarray:
    """Talkers in three distance rings (one filter per ring, not per talker), then a shared room."""
    rings = [np.zeros(n) for _ in range(3)]
    for _ in range(talkers):
        rings[int(rng.integers(3))] += talker(n, sr, rng, female=bool(rng.random() < 0.5))
    f = np.fft.rfftfreq(n, 1.0 / sr)
    spec = np.zeros(len(f), dtype=complex)
    for d, ring in zip((0.0, 0.5, 1.0), rings, strict=True):
        # Farther is quieter and duller: air and furniture absorb the highs.
        spec += np.fft.rfft(ring) * bandpass(None, 6000.0 - 4000.0 * d, 1)(f) * 10 ** (-far_db * d / 20)
    ir = generate_ir(sr, rng, rt60_s=rt60_s, reflections_ms=(8.0, 40.0), wet_db=wet_db)
    return np.fft.irfft(spec * np.fft.rfft(fold(ir, n)), n)


def crowd(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Crowd murmur: ~20 talkers across a large room (defining: speech spectrum, syllabic modulation)."""
    n = n_samples(duration_s, sr)
    x = _crowd(n, sr, rng, talkers=14, far_db=12.0, rt60_s=1.2, wet_db=2.0)
    floor = shaped_noise(n, sr, rng, product(bandpass(80, 3000, 2), tilt(-3.0)))
    return finish_ambience(x / rms(x) + 0.15 * floor)


def cafe(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A café: a few nearby conversations, cups and spoons clinking, the espresso machine now and then."""
    n = n_samples(duration_s, sr)
    talk = _crowd(n, sr, rng, talkers=7, far_db=10.0, rt60_s=0.6, wet_db=-3.0)
    clinks = np.zeros(n)
    k = int(0.6 * sr)
    top = 0.42 * sr
    for at in poisson_times(n, sr, rng, 0.5):
        f = rng.uniform(2000, 3200) * np.array([1.0, 1.58, 2.31])
        ring = modes(k, sr, rng, np.minimum(f, top), rng.uniform(0.1, 0.5, 3), np.array([1.0, 0.6, 0.4]))
        circular_add(clinks, ring * 10 ** rng.uniform(-1.0, 0.0), int(at))
    steam = np.zeros(n)
    for _ in range(int(rng.poisson(n / sr / 40.0))):
        length = int(rng.uniform(2.0, 4.0) * sr)
        hiss = burst(length, sr, rng, 0.3, 4.0, bandpass(2500, 9000, 2))
        circular_add(steam, fades(hiss, sr, 0.0, 0.4), int(rng.integers(0, n)))
    floor = shaped_noise(n, sr, rng, product(bandpass(60, 2000, 2), tilt(-3.0)))
    return finish_ambience(talk / rms(talk) + 0.25 * clinks / (np.max(np.abs(clinks)) + 1e-12) * 3.0
                           + 0.1 * steam + 0.1 * floor)


def crowd_from_speech(clips: list[np.ndarray], duration_s: float, sr: int, rng: np.random.Generator, *,
                      talkers: int = 12) -> np.ndarray:
    """Babble from real speech clips (all at ``sr``): shuffled 0.2–0.5 s fragments, half of them reversed.

    Cutting and reversing destroys the words but keeps the voices, pitch and syllable rhythm, so the
    result is a believable crowd that no listener (or ASR check) can transcribe.
    """
    usable = [np.asarray(c, dtype=float) for c in clips if len(c) >= int(0.5 * sr)]
    if not usable:
        raise ValueError("crowd_from_speech needs at least one clip of 0.5 s or more")
    n = n_samples(duration_s, sr)
    mix = np.zeros(n)
    for _ in range(talkers):
        stream = np.zeros(n)
        pos = int(rng.integers(0, n))
        filled = 0
        while filled < n:
            clip = usable[int(rng.integers(len(usable)))]
            length = int(rng.uniform(0.2, 0.5) * sr)
            start = int(rng.integers(0, len(clip) - length + 1))
            piece = clip[start : start + length]
            piece = piece[::-1] if rng.random() < 0.5 else piece
            circular_add(stream, fades(piece, sr, 0.02, 0.02), pos)
            step = int(length * rng.uniform(0.85, 1.0))
            pos += step
            filled += step
        mix += _distance(stream / (rms(stream) + 1e-12), sr, rng, 12.0)
    ir = generate_ir(sr, rng, rt60_s=1.0, reflections_ms=(8.0, 40.0), wet_db=0.0)
    return finish_ambience(np.fft.irfft(np.fft.rfft(mix) * np.fft.rfft(fold(ir, n)), n))
