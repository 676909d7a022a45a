"""The measurements the scene tests rely on, checked against signals whose answer is known exactly."""

from __future__ import annotations

import numpy as np
import pytest

from limelight.scene import measure

SR = 24000


def test_flatness_separates_noise_from_tones() -> None:
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(4 * SR)
    tone = np.sin(2 * np.pi * 1000 * np.arange(4 * SR) / SR)
    assert measure.spectral_flatness(noise, SR) > 0.9
    assert measure.spectral_flatness(tone, SR) < 0.01


def test_band_fraction_and_centroid_of_a_tone() -> None:
    tone = np.sin(2 * np.pi * 1500 * np.arange(2 * SR) / SR)
    assert measure.band_fraction(tone, SR, 1400, 1600) > 0.95
    assert measure.spectral_centroid(tone, SR) == pytest.approx(1500, rel=0.02)


def test_onsets_find_clicks_at_known_times() -> None:
    rng = np.random.default_rng(1)
    x = 1e-4 * rng.standard_normal(3 * SR)
    times = [0.5, 1.23, 2.4]
    for t in times:
        i = int(t * SR)
        x[i : i + 480] += rng.standard_normal(480) * np.exp(-np.arange(480) / 60)
    found = measure.onsets(x, SR)
    assert len(found) == 3
    assert np.max(np.abs(found - times)) < 0.01


def test_autocorrelation_recovers_a_period() -> None:
    x = np.zeros(6 * SR)
    x[:: int(0.7 * SR)] = 1.0
    env = measure.envelope(np.convolve(x, np.hanning(240)), SR, 0.005)
    lag, r = measure.autocorrelation_peak(env, 0.005, 0.3, 1.5)
    assert lag == pytest.approx(0.7, abs=0.01)
    assert r > 0.7


def test_schroeder_rt60_of_an_exponential_decay() -> None:
    rng = np.random.default_rng(2)
    t = np.arange(int(1.5 * SR)) / SR
    ir = rng.standard_normal(len(t)) * np.exp(-6.908 * t / 0.8)
    assert measure.schroeder_rt60(ir, SR) == pytest.approx(0.8, rel=0.05)
    assert measure.schroeder_rt60(ir, SR, band=None) == pytest.approx(0.8, rel=0.05)
