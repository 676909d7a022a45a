"""Ambience beds: weather, water, fire, traffic, rooms and the night, synthesised from shaped noise.

Each bed is a stationary texture plus sparse events (drops, bubbles, crackles, cars, chirps), built only
from the circular pieces in :mod:`.synth`, so any length loops without a seam. Beds leave here at a nominal
−20 dBFS RMS; the mixer sets their real level under the voice. Crowds and cafés live in :mod:`.babble`.
"""

from __future__ import annotations

import numpy as np

from .effects import rumble
from .synth import (
    attack_decay,
    bandpass,
    burst,
    circular_add,
    fades,
    finish_ambience,
    modes,
    n_samples,
    peak_at,
    periodic_count,
    poisson_times,
    product,
    rms,
    scatter,
    scatter_rows,
    shaped_noise,
    slow_envelope,
    tilt,
)


def _unit(x: np.ndarray) -> np.ndarray:
    return x / (rms(x) + 1e-12)


def loop_frequency(f_hz: float, n: int, sr: int) -> float:
    """The frequency nearest ``f_hz`` that completes whole cycles in ``n`` samples (a seamless steady tone)."""
    return max(1, round(f_hz * n / sr)) * sr / n


def _drops(n: int, sr: int, rng: np.random.Generator, rate_hz: float) -> np.ndarray:
    """Raindrops: an impact tick plus the ring of the air bubble each traps, a rising chirp at its own
    pitch (1.5–7 kHz: drop sizes vary), so the rain never sounds tuned."""
    k = int(0.03 * sr)
    t = np.arange(k) / sr
    top = min(7000.0, 0.4 * sr)
    pos = poisson_times(n, sr, rng, rate_hz)
    out = np.zeros(n)
    for chunk in np.array_split(np.arange(len(pos)), max(1, len(pos) // 2000)):
        m = len(chunk)
        if m == 0:
            continue
        f0 = rng.uniform(1500, top * 0.8, (m, 1))
        t60 = rng.uniform(0.008, 0.03, (m, 1))
        ring = np.sin(2 * np.pi * f0 * (t + 6.0 * t**2) + rng.uniform(0, 6.28, (m, 1))) * np.exp(-6.908 * t / t60)
        tick = rng.standard_normal((m, k)) * np.exp(-6.908 * t / 0.002)
        amps = np.minimum(rng.pareto(2.5, (m, 1)) + 0.3, 3.0) * rng.choice([-1.0, 1.0], (m, 1))
        out += scatter_rows(n, pos[chunk], amps * (0.6 * ring + 0.25 * tick))
    return out


def _rain(n: int, sr: int, rng: np.random.Generator, heavy: bool) -> np.ndarray:
    if heavy:
        hiss = shaped_noise(n, sr, rng, product(bandpass(150, 10000, 1), tilt(-0.8)))
        body = shaped_noise(n, sr, rng, bandpass(60, 500, 2))
        bed = hiss * slow_envelope(n, sr, rng, 0.15, 1.5) + 0.35 * body
        return _unit(bed) + 0.45 * _unit(_drops(n, sr, rng, 250.0))
    hiss = shaped_noise(n, sr, rng, product(bandpass(400, 10000, 1), tilt(-0.4)))
    bed = hiss * slow_envelope(n, sr, rng, 0.12, 2.5)
    return _unit(bed) + 0.8 * _unit(_drops(n, sr, rng, 80.0))


def rain_light(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Light rain: soft broadband hiss with distinct drops (defining: broadband, spectrally flat)."""
    return finish_ambience(_rain(n_samples(duration_s, sr), sr, rng, heavy=False))


def rain_heavy(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Heavy rain, a downpour: dense hiss with weight in the low mids and drops too many to count."""
    return finish_ambience(_rain(n_samples(duration_s, sr), sr, rng, heavy=True))


def _wind(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    body = np.zeros(n)
    for c in np.geomspace(70, 900, 7):
        band = shaped_noise(n, sr, rng, product(peak_at(c, 1.5), bandpass(None, 1500, 2)))
        body += band * slow_envelope(n, sr, rng, 0.25, 6.0) * (c / 200.0) ** -0.4
    gust = slow_envelope(n, sr, rng, 0.08, 8.0)
    whistle = np.zeros(n)
    for _ in range(2):
        tone = shaped_noise(n, sr, rng, peak_at(rng.uniform(450, 900), 25.0))
        whistle += tone * slow_envelope(n, sr, rng, 0.15, 12.0)
    return _unit(body) * gust + 0.12 * whistle * gust**1.5


def wind(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Wind: low-passed noise in drifting bands under slow gusts, a faint whistle (defining: LF, slow AM)."""
    return finish_ambience(_wind(n_samples(duration_s, sr), sr, rng))


def thunderstorm(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A thunderstorm: heavy rain and wind with distant rolls of thunder every 10–25 s."""
    n = n_samples(duration_s, sr)
    x = _unit(_rain(n, sr, rng, heavy=True)) + 0.5 * _unit(_wind(n, sr, rng))
    thunder = np.zeros(n)
    count = max(1, int(round(n / sr / 17.0)))
    for i in range(count):
        roll = rumble(sr, rng, rng.uniform(5.0, 8.0), distant=True)
        at = int((i + rng.uniform(0.1, 0.9)) * n / count)
        circular_add(thunder, roll / np.max(np.abs(roll)) * rng.uniform(0.6, 1.0), at)
    return finish_ambience(x + 2.0 * thunder)


def ocean(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Waves on a shore: a swell builds, breaks and washes back every 7–11 s (defining: slow periodic AM)."""
    n = n_samples(duration_s, sr)
    waves = periodic_count(n / sr, rng.uniform(7.0, 11.0))
    period = n / waves
    swell = np.zeros(n)
    wash = np.zeros(n)
    for i in range(waves):
        length = int(period * 2.0)
        t = np.arange(length) / sr
        tail = fades(np.ones(length), sr, 0.0, 0.5 * length / sr)  # every wave dies out smoothly
        rise = rng.uniform(0.35, 0.5) * period / sr
        fall = rng.uniform(0.18, 0.28) * period / sr
        shape = np.where(t < rise, (t / rise) ** 2, np.exp(-(t - rise) / fall))
        foam = np.where(t < rise, 0.0, (1 - np.exp(-(t - rise) / 0.15)) * np.exp(-(t - rise) / (1.6 * fall)))
        level = rng.uniform(0.6, 1.0)
        start = int(i * period + rng.uniform(-0.08, 0.08) * period)
        circular_add(swell, level * shape * tail, start)
        circular_add(wash, level * foam * tail, start)
    body = shaped_noise(n, sr, rng, product(bandpass(50, 2500, 2), tilt(-2.0)))
    spray = shaped_noise(n, sr, rng, bandpass(1500, 9000, 2))
    surf = shaped_noise(n, sr, rng, bandpass(30, 200, 2)) * slow_envelope(n, sr, rng, 0.1, 3.0)
    return finish_ambience(body * (0.15 + swell) + 0.45 * spray * wash + 0.3 * surf)


def river(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A river or stream: steady mid-band flow with dense bubbling (defining: stationary, mid-weighted)."""
    n = n_samples(duration_s, sr)
    flow = shaped_noise(n, sr, rng, product(bandpass(150, 5000, 2), tilt(-2.0))) * slow_envelope(n, sr, rng, 3.0,
                                                                                                  1.5)
    k = int(0.05 * sr)
    t = np.arange(k) / sr
    events = []
    for _ in range(8):
        f0 = rng.uniform(300, 1800)
        chirp = np.sin(2 * np.pi * f0 * (t + 12.0 * t**2)) * attack_decay(k, sr, 0.002, rng.uniform(0.02, 0.045))
        pos = poisson_times(n, sr, rng, 35.0)
        events.append((chirp, pos, rng.uniform(0.3, 1.0, len(pos))))
    bubbles = scatter(n, events)
    return finish_ambience(_unit(flow) + 0.7 * _unit(bubbles))


def fire(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A crackling fire: a low flickering roar plus irregular, clustered crackles and pops (defining: impulsive)."""
    n = n_samples(duration_s, sr)
    roar = shaped_noise(n, sr, rng, bandpass(30, 400, 2)) * slow_envelope(n, sr, rng, 1.0, 3.0)
    hiss = shaped_noise(n, sr, rng, bandpass(2000, 8000, 2)) * slow_envelope(n, sr, rng, 0.5, 4.0)
    density = slow_envelope(n, sr, rng, 0.7, 10.0)
    events = []
    for _ in range(5):
        k = int(rng.uniform(0.003, 0.008) * sr)
        kernel = burst(k, sr, rng, 0.0001, rng.uniform(0.001, 0.006), bandpass(1000, 7000, 1))
        pos = poisson_times(n, sr, rng, 5.0, density)
        amps = np.minimum(rng.pareto(1.5, len(pos)) + 0.2, 8.0) * rng.choice([-1.0, 1.0], len(pos))
        events.append((kernel, pos, amps))
    k = int(0.03 * sr)
    pop = burst(k, sr, rng, 0.0002, 0.015, bandpass(300, 3000, 1))
    pos = poisson_times(n, sr, rng, 0.5, density)
    events.append((3.0 * pop, pos, rng.uniform(0.5, 1.0, len(pos))))
    crackles = scatter(n, events)
    x = 0.5 * _unit(roar) + 0.08 * _unit(hiss) + 0.6 * crackles / (np.max(np.abs(crackles)) + 1e-12) * 6.0
    return finish_ambience(x)


def traffic(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A street: constant road rumble and hiss, cars passing every few seconds with engine Doppler shift."""
    n = n_samples(duration_s, sr)
    rumble_bed = shaped_noise(n, sr, rng, bandpass(25, 250, 2)) * slow_envelope(n, sr, rng, 0.1, 3.0)
    hiss = shaped_noise(n, sr, rng, product(bandpass(300, 4000, 2), tilt(-3.0)))
    cars = np.zeros(n)
    count = max(2, int(rng.poisson(n / sr / 5.0)))
    for _ in range(count):
        length = int(rng.uniform(5.0, 9.0) * sr)
        t = (np.arange(length) - length / 2) / sr
        speed, dist = rng.uniform(9.0, 18.0), rng.uniform(4.0, 15.0)
        x_pos = speed * t
        r = np.sqrt(x_pos**2 + dist**2)
        doppler = 1.0 / (1.0 + speed * x_pos / (r * 343.0))
        phase = 2 * np.pi * np.cumsum(rng.uniform(25, 45) * doppler) / sr
        engine = sum(np.sin(h * phase) / h for h in range(1, 11))
        tyre = shaped_noise(length, sr, rng, bandpass(400, 3000, 2))
        car = (dist / r) ** 1.5 * (0.5 * engine / rms(engine) + tyre)
        circular_add(cars, fades(car, sr, 0.5, 0.5) * rng.uniform(0.5, 1.0), int(rng.integers(0, n)))
    return finish_ambience(_unit(rumble_bed) + 0.25 * _unit(hiss) + 1.2 * cars / (rms(cars) + 1e-12))


def _room_tone(n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    hvac = shaped_noise(n, sr, rng, product(bandpass(40, 2500, 2), tilt(-3.0))) * slow_envelope(n, sr, rng, 0.05,
                                                                                                0.5)
    t = np.arange(n) / sr
    hum = sum(a * np.sin(2 * np.pi * loop_frequency(f, n, sr) * t) for f, a in ((120, 1.0), (240, 0.4), (360, 0.2)))
    return _unit(hvac) + 0.2 * hum


def room_tone(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """Room tone: ventilation rumble and a faint electrical hum (defining: quiet, steady, low-tilted)."""
    return finish_ambience(_room_tone(n_samples(duration_s, sr), sr, rng))


def office(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """An office: room tone plus bursts of distant keyboard typing."""
    n = n_samples(duration_s, sr)
    typing = np.zeros(n)
    k = int(0.03 * sr)
    for _ in range(max(1, int(rng.poisson(n / sr / 6.0)))):
        start = int(rng.integers(0, n))
        times = np.cumsum(rng.uniform(0.08, 0.2, int(rng.integers(6, 25))))
        for tt in times:
            key = modes(k, sr, rng, rng.uniform([1800, 3000], [2600, 4200]), np.array([0.02, 0.015]),
                        np.array([1.0, 0.6])) * attack_decay(k, sr, 0.0003, 10.0)
            key += 0.5 * burst(k, sr, rng, 0.0002, 0.004, bandpass(1500, 6000, 1))
            circular_add(typing, key * rng.uniform(0.5, 1.0), start + int(tt * sr))
    return finish_ambience(_room_tone(n, sr, rng) + 8.0 * typing / (np.max(np.abs(typing)) + 1e-12))


def night_insects(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A summer night: several crickets chirping on their own carriers (3.8–5.2 kHz) over still air."""
    n = n_samples(duration_s, sr)
    t = np.arange(n) / sr
    x = 0.05 * shaped_noise(n, sr, rng, bandpass(200, 2000, 2))
    top = min(5200.0, 0.42 * sr)
    for _ in range(int(rng.integers(3, 6))):
        carrier = np.sin(2 * np.pi * loop_frequency(rng.uniform(min(3800.0, top - 400), top), n, sr) * t)
        chirps = periodic_count(n / sr, rng.uniform(0.45, 0.9))
        pulse_len, pulse_gap = int(rng.uniform(0.014, 0.022) * sr), int(rng.uniform(0.01, 0.016) * sr)
        pulse = np.hanning(pulse_len)
        env = np.zeros(n)
        offset = int(rng.integers(0, n))
        for c in range(chirps):
            start = offset + int(c * n / chirps + rng.uniform(-0.004, 0.004) * sr)
            for p in range(int(rng.integers(3, 5))):
                circular_add(env, pulse, start + p * (pulse_len + pulse_gap))
        x += carrier * env * 10 ** rng.uniform(-0.8, 0.0)
    return finish_ambience(x)


def forest(duration_s: float, sr: int, rng: np.random.Generator) -> np.ndarray:
    """A forest by day: leaves rustling in a light breeze and phrases of birdsong (2–6 kHz whistles)."""
    n = n_samples(duration_s, sr)
    leaves = shaped_noise(n, sr, rng, product(bandpass(400, 7000, 2), tilt(-1.5))) * slow_envelope(n, sr, rng,
                                                                                                    0.3, 5.0)
    birds = np.zeros(n)
    top = min(6000.0, 0.42 * sr)
    for _ in range(max(1, int(rng.poisson(n / sr / 2.0)))):
        start = int(rng.integers(0, n))
        base = rng.uniform(2000, top * 0.8)
        for k in range(int(rng.integers(3, 9))):
            length = int(rng.uniform(0.05, 0.15) * sr)
            tt = np.arange(length) / sr
            sweep = base * (1 + rng.uniform(-0.3, 0.3) * tt / tt[-1])
            note = np.sin(2 * np.pi * np.cumsum(sweep) / sr) * np.hanning(length)
            circular_add(birds, note * rng.uniform(0.5, 1.0), start + int(k * rng.uniform(0.1, 0.2) * sr))
    return finish_ambience(0.3 * _unit(leaves) + birds / (np.max(np.abs(birds)) + 1e-12) * 3.0)
