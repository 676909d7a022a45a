"""Sound effects, synthesised: struck objects by modal synthesis, blasts and rumbles by shaped noise.

Every generator has the library signature ``(duration_s, sr, rng) -> float32 array`` of exactly
``duration_s`` seconds. One-shots (thunder, slam, glass, gunshot, horn) start at sample 0 with a
millisecond-scale attack — so the mixer can place their onset exactly — and end in silence, so they loop
trivially. Repeating effects (footsteps, heartbeat, clock, phone, knocks) are laid out on a circular
timeline whose period divides the duration, so they loop with no seam. Keyword arguments with defaults
pin the rhythm (step period, beats per minute) where a caller or a test needs it.
"""

from __future__ import annotations

import numpy as np

from .synth import (
    attack_decay,
    bandpass,
    burst,
    circular_add,
    fades,
    finish_effect,
    fit_length,
    modes,
    n_samples,
    peak_at,
    periodic_count,
    product,
    scatter,
    shaped_noise,
    slow_envelope,
    tilt,
)


def rumble(sr: int, rng: np.random.Generator, length_s: float, *, distant: bool) -> np.ndarray:
    """Rolling low-frequency thunder: several overlapping rolls of band-limited noise with long decays.

    Distant thunder has slower attacks and loses more of its highs (air absorbs them over kilometres).
    """
    n = max(1, int(length_s * sr))
    env = np.zeros(n)
    for i in range(int(rng.integers(3, 7))):
        # A close strike's rumble follows the crack at once; later rolls are echoes off terrain and cloud.
        start = 0 if (i == 0 and not distant) else int(rng.uniform(0.0, 0.3 if distant else 0.4) * length_s * sr)
        attack = rng.uniform(0.3, 0.9) if distant else rng.uniform(0.04, 0.25)
        env[start:] += rng.uniform(0.4, 1.0) * attack_decay(n - start, sr, attack, rng.uniform(1.8, 3.5))
    top = 110.0 if distant else 200.0
    body = shaped_noise(n, sr, rng, product(bandpass(25, top, 3), tilt(-3.0, 100.0)))
    flutter = slow_envelope(n, sr, rng, 5.0, 4.0)
    return fades(body * env * flutter, sr, 0.0, min(1.0, length_s / 4))


def thunder_crack(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A close lightning strike: a sharp broadband crack, then a long low rumble (defining: LF, slow decay)."""
    n = n_samples(duration_s, sr)
    natural = max(n, int(6.0 * sr))
    crack = np.zeros(natural)
    m = int(0.5 * sr)
    for i in range(int(rng.integers(2, 5))):
        at = 0 if i == 0 else int(rng.uniform(0.01, 0.15) * sr)
        piece = burst(m, sr, rng, 0.0008, rng.uniform(0.12, 0.3), bandpass(60, 7000, 1))
        crack[at : at + m] += piece[: natural - at] * (1.0 if i == 0 else rng.uniform(0.3, 0.7))
    roll = rumble(sr, rng, natural / sr, distant=False)
    x = 0.8 * crack / np.max(np.abs(crack)) + roll / np.max(np.abs(roll))
    return finish_effect(fit_length(x, n, sr))


def thunder_rumble(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Distant thunder: no crack, a slow swell of low rumble."""
    n = n_samples(duration_s, sr)
    x = rumble(sr, rng, max(n, int(5.0 * sr)) / sr, distant=True)
    return finish_effect(fit_length(fades(x, sr, 0.002, 0.0), n, sr))


def _impact(n: int, sr: int, rng: np.random.Generator, t60_s: float, lo: float, hi: float | None) -> np.ndarray:
    """The contact noise of a hit: a sub-millisecond attack, a few milliseconds of filtered noise."""
    return burst(n, sr, rng, 0.0003, t60_s, bandpass(lo, hi, 1))


def door_slam(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A heavy door banging shut: the panel's low modes boom, the latch rattles (defining: LF thud, short)."""
    n = n_samples(duration_s, sr)
    m = int(1.0 * sr)
    ramp = attack_decay(m, sr, 0.002, 10.0)
    body = modes(m, sr, rng, rng.uniform([60, 105, 160, 250], [85, 145, 220, 330]),
                 np.array([0.32, 0.24, 0.16, 0.1]), np.array([1.0, 0.8, 0.55, 0.35])) * ramp
    panel = modes(m, sr, rng, rng.uniform(400, 1200, 5), rng.uniform(0.04, 0.1, 5), rng.uniform(0.1, 0.25, 5))
    latch = np.zeros(m)
    at = int(rng.uniform(0.012, 0.03) * sr)
    latch[at:] = modes(m - at, sr, rng, rng.uniform(2500, 4500, 3), np.full(3, 0.04), np.full(3, 0.12))
    x = body + panel * ramp + latch + 0.6 * _impact(m, sr, rng, 0.03, 150, 6000)
    return finish_effect(fit_length(x, n, sr))


def door_knock(duration_s: float, sr: int, rng: np.random.Generator, *, knocks: int = 3) -> np.ndarray:
    """Knuckles on a wooden door: ``knocks`` hits ~0.2 s apart through the door's mid-frequency modes."""
    n = n_samples(duration_s, sr)
    freqs = rng.uniform([140, 230, 330, 480, 650, 900], [200, 300, 440, 600, 800, 1150])
    t60s = rng.uniform(0.05, 0.12, 6)
    amps = np.array([1.0, 0.8, 0.7, 0.5, 0.35, 0.25])
    gap = rng.uniform(0.17, 0.23)
    m = int(0.4 * sr)
    x = np.zeros(max(n, int((knocks * gap + 0.5) * sr)))
    for k in range(knocks):
        hit = modes(m, sr, rng, freqs * rng.uniform(0.98, 1.02), t60s, amps) * attack_decay(m, sr, 0.001, 10.0)
        hit += 0.5 * _impact(m, sr, rng, 0.006, 500, 5000)
        at = int(k * gap * rng.uniform(0.96, 1.04) * sr)
        x[at : at + m] += (hit * rng.uniform(0.8, 1.0))[: len(x) - at]
    return finish_effect(fit_length(x, n, sr))


def footsteps(duration_s: float, sr: int, rng: np.random.Generator, *, period_s: float | None = None) -> np.ndarray:
    """Walking on a hard floor: heel strike (thud + click) then toe scuff, one step every ``period_s``.

    The period is adjusted so a whole number of steps fills the duration (the loop keeps its gait).
    """
    n = n_samples(duration_s, sr)
    steps = periodic_count(n / sr, period_s if period_s is not None else rng.uniform(0.5, 0.6))
    period = n / steps
    x = np.zeros(n)
    m = int(0.25 * sr)
    thud_f = rng.uniform([70, 150], [110, 220])
    for i in range(steps):
        heel = modes(m, sr, rng, thud_f * rng.uniform(0.95, 1.05), np.array([0.08, 0.06]), np.array([1.0, 0.6]))
        heel = heel * attack_decay(m, sr, 0.001, 10.0) + 0.8 * _impact(m, sr, rng, 0.03, 300, 4000)
        toe_at = int(rng.uniform(0.05, 0.08) * sr)
        heel[toe_at:] += 0.3 * burst(m - toe_at, sr, rng, 0.004, 0.05, bandpass(800, 6000, 1))
        level = (1.0 if i % 2 == 0 else 0.85) * rng.uniform(0.9, 1.0)
        circular_add(x, heel * level, int(i * period + rng.uniform(-0.01, 0.01) * period))
    return finish_effect(x)


def glass_break(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A pane or bottle shattering: impact, a spray of bright inharmonic shard rings, pieces landing later."""
    n = n_samples(duration_s, sr)
    natural = max(n, int(2.0 * sr))
    x = np.zeros(natural)
    m = int(0.6 * sr)
    top = min(9000.0, 0.42 * sr)
    x[:m] += 0.8 * burst(m, sr, rng, 0.0002, 0.3, bandpass(2500, None, 2))
    times = np.concatenate([rng.exponential(0.12, 45), rng.uniform(0.3, 0.9, 20)])
    for t in times:
        at = int(t * sr)
        if at >= natural:
            continue
        f = rng.uniform(2200, top, 3)
        shard = modes(m, sr, rng, f, rng.uniform(0.04, 0.35, 3), rng.uniform(0.2, 1.0, 3))
        shard *= attack_decay(m, sr, 0.0003, 10.0) * 10 ** rng.uniform(-1.2, 0.0)
        x[at : at + m] += shard[: natural - at]
    return finish_effect(fit_length(x, n, sr))


def phone_ring(duration_s: float, sr: int, rng: np.random.Generator, *,
               tones_hz: tuple[float, float] = (440.0, 480.0)) -> np.ndarray:
    """A landline ringing: two mixed tones (440 + 480 Hz), ring-ring cadence every 3 s (defining: tonal)."""
    n = n_samples(duration_s, sr)
    cycles = periodic_count(n / sr, 3.0)
    period = n / cycles
    t = np.arange(n) / sr
    tone = np.sin(2 * np.pi * tones_hz[0] * t) + np.sin(2 * np.pi * tones_hz[1] * t + rng.uniform(0, 6.28))
    tone = np.tanh(1.2 * tone)  # the little speaker's distortion: odd harmonics
    gate = np.zeros(n)
    scale = period / (3.0 * sr)
    on = int(0.4 * scale * sr)
    for c in range(cycles):
        for offset in (0.0, 0.6):
            at = int(c * period + offset * scale * sr)
            gate[at : at + on] = fades(np.ones(min(on, n - at)), sr, 0.004, 0.004)
    return finish_effect(tone * gate)


def applause(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """An audience clapping: dozens of clappers, each a train of ~10 ms band-limited noise bursts.

    Hand shapes differ in resonance (900–2500 Hz); people start together and stop one by one.
    """
    n = n_samples(duration_s, sr)
    k = int(0.015 * sr)
    hands = [burst(k, sr, rng, 0.0003, rng.uniform(0.008, 0.016), peak_at(rng.uniform(900, 2500), 1.2))
             for _ in range(8)]  # hand shapes, shared between clappers to save FFTs
    events = []
    for _ in range(int(rng.integers(20, 36))):
        rate = rng.uniform(3.5, 5.5)
        start = rng.uniform(0.0, 0.35)
        stop = n / sr - rng.uniform(0.2, min(1.5, n / sr / 3))
        times = np.arange(start, max(stop, start), 1.0 / rate)
        times = times + rng.normal(0, 0.08 / rate, len(times))
        pos = (times[(times >= 0) & (times < n / sr)] * sr).astype(int)
        amps = rng.uniform(0.6, 1.0, len(pos)) * 10 ** rng.uniform(-0.6, 0.0)
        events.append((hands[int(rng.integers(len(hands)))], pos, amps))
    x = scatter(n, events)
    return finish_effect(fades(x, sr, 0.003, min(0.3, n / sr / 4)))


def gunshot(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A gunshot outdoors: an instantaneous muzzle blast (Friedlander wave) and echoes off buildings."""
    n = n_samples(duration_s, sr)
    natural = max(n, int(2.0 * sr))
    t = np.arange(int(0.03 * sr)) / sr
    positive = rng.uniform(0.0015, 0.003)
    blast = (1 - t / positive) * np.exp(-2.0 * t / positive)
    rise = max(2, int(0.0003 * sr))  # the shock front, a few samples: instant to the ear, no seam at 0
    blast[:rise] *= np.linspace(0.0, 1.0, rise)
    x = np.zeros(natural)
    x[: len(blast)] += blast
    m = int(0.4 * sr)
    x[:m] += 0.5 * burst(m, sr, rng, 0.0001, 0.09, bandpass(100, 9000, 1))
    smear = np.hanning(max(3, int(0.002 * sr)))
    echo = np.convolve(x[:m], smear / smear.sum())[:m]
    for _ in range(int(rng.integers(3, 6))):
        at = int(rng.uniform(0.08, 0.6) * sr)
        x[at : at + m] += rng.uniform(0.08, 0.25) * echo[: natural - at]
    tail = shaped_noise(natural, sr, rng, bandpass(60, 1500, 2)) * attack_decay(natural, sr, 0.01, 1.2)
    x += 0.06 * tail
    return finish_effect(fit_length(x, n, sr))


def car_horn(duration_s: float, sr: int, rng: np.random.Generator, *,
             tones_hz: tuple[float, float] = (415.0, 520.0)) -> np.ndarray:
    """A car's twin horn: two buzzy tones a major third apart, one 0.8 s blast (defining: harmonic peaks)."""
    n = n_samples(duration_s, sr)
    length = min(n, int(0.8 * sr))
    t = np.arange(length) / sr
    glide = 1.0 - 0.015 * np.exp(-t / 0.03)  # the diaphragm comes up to pitch
    x = np.zeros(n)
    for f in tones_hz:
        phase = 2 * np.pi * np.cumsum(f * glide) / sr + rng.uniform(0, 6.28)
        for h in range(1, int(0.45 * sr / f) + 1):
            x[:length] += np.sin(h * phase) / h**1.3
    x[:length] *= fades(np.ones(length), sr, 0.012, 0.06)
    return finish_effect(x)


def heartbeat(duration_s: float, sr: int, rng: np.random.Generator, *, bpm: float | None = None) -> np.ndarray:
    """A heartbeat heard close: "lub" (S1) then a softer, higher "dub" (S2) ~0.3 s later, once per beat."""
    n = n_samples(duration_s, sr)
    beats = periodic_count(n / sr, 60.0 / (bpm if bpm is not None else rng.uniform(62, 78)))
    period = n / beats
    x = np.zeros(n)
    m = int(0.3 * sr)
    s2_at = rng.uniform(0.28, 0.33)
    for i in range(beats):
        lub = modes(m, sr, rng, rng.uniform([38, 65], [50, 85]), np.array([0.14, 0.1]), np.array([1.0, 0.5]))
        dub = modes(m, sr, rng, rng.uniform([60, 95], [75, 120]), np.array([0.09, 0.07]), np.array([0.8, 0.4]))
        env = attack_decay(m, sr, 0.012, 10.0)
        start = int(i * period)
        circular_add(x, lub * env, start)
        circular_add(x, 0.7 * dub * env, start + int(s2_at * sr))
    return finish_effect(x)


def clock_ticking(duration_s: float, sr: int, rng: np.random.Generator, *, period_s: float = 1.0) -> np.ndarray:
    """A mechanical clock: a bright metallic click every ``period_s``, alternating tick and tock timbres."""
    n = n_samples(duration_s, sr)
    ticks = periodic_count(n / sr, period_s)
    period = n / ticks
    m = int(0.08 * sr)
    case = rng.uniform(850, 1200)
    voices = [rng.uniform([2800, 4300, 6000], [3300, 4800, 6600]),
              rng.uniform([2200, 3500, 5000], [2600, 3900, 5400])]
    x = np.zeros(n)
    for i in range(ticks):
        f = np.append(voices[i % 2], case)
        click = modes(m, sr, rng, f, np.array([0.02, 0.015, 0.012, 0.04]), np.array([1.0, 0.7, 0.5, 0.4]))
        click = click * attack_decay(m, sr, 0.0004, 10.0) + 0.3 * _impact(m, sr, rng, 0.003, 2000, None)
        circular_add(x, click, int(i * period))
    return finish_effect(x)

