"""Rooms: generated impulse responses decay at their designed RT60 and keep timing and loudness."""

from __future__ import annotations

import numpy as np
import pytest

from limelight.scene import ROOMS, measure

SR = 24000
REVERBERANT = [r for r in ROOMS.values() if r.rt60_s >= 0.3]


@pytest.mark.parametrize("room", REVERBERANT, ids=lambda r: r.name)
def test_rt60_matches_the_design(room) -> None:  # noqa: ANN001 - pytest id
    ir = room.impulse_response(SR)
    # 1 kHz octave band (the preset's mid-band RT60), T20 fit, direct sound skipped.
    assert measure.schroeder_rt60(ir, SR, skip_s=0.005) == pytest.approx(room.rt60_s, rel=0.2)


def test_rooms_are_ordered_by_how_long_they_ring() -> None:
    def late_energy(name: str) -> float:
        ir = ROOMS[name].impulse_response(SR)
        return float(np.sum(ir[int(0.1 * SR) :] ** 2) / np.sum(ir**2))

    order = ["outdoors", "small_room", "office", "large_hall"]
    energies = [late_energy(name) for name in order]
    assert energies == sorted(energies)
    assert energies[0] < 1e-4 and energies[-1] > 3 * energies[2]


@pytest.mark.parametrize("room", [r for r in ROOMS.values() if r.rt60_s > 0], ids=lambda r: r.name)
def test_ir_keeps_onsets_and_loudness(room) -> None:  # noqa: ANN001 - pytest id
    ir = room.impulse_response(SR)
    assert int(np.argmax(np.abs(ir))) == 0  # the direct sound comes first: effects land on their marks
    assert np.sum(ir**2) == pytest.approx(1.0, rel=1e-6)
    noise = np.random.default_rng(0).standard_normal(2 * SR)
    wet = room.apply(noise, SR)
    assert len(wet) == len(noise) + len(ir) - 1
    level = 20 * np.log10(np.std(wet[: len(noise)]) / np.std(noise))
    assert abs(level) < 1.5


def test_impulse_responses_are_deterministic_per_seed() -> None:
    room = ROOMS["office"]
    assert np.array_equal(room.impulse_response(SR, seed=3), room.impulse_response(SR, seed=3))
    assert not np.array_equal(room.impulse_response(SR, seed=3), room.impulse_response(SR, seed=4))


def test_dry_room_is_the_identity() -> None:
    x = np.random.default_rng(1).standard_normal(SR).astype(np.float32)
    assert np.array_equal(ROOMS["dry"].apply(x, SR), x)


@pytest.mark.parametrize(("name", "band"), [("telephone", (300, 3400)), ("radio", (200, 5000))])
def test_phone_and_radio_are_band_limited(name: str, band: tuple[float, float]) -> None:
    noise = np.random.default_rng(2).standard_normal(3 * SR)
    out = ROOMS[name].apply(noise, SR)
    lo, hi = band
    outside_out = 1 - measure.band_fraction(out, SR, lo * 0.7, hi * 1.3)
    outside_in = 1 - measure.band_fraction(noise, SR, lo * 0.7, hi * 1.3)
    assert outside_out < 0.1 and outside_out < outside_in / 4
    assert abs(20 * np.log10(np.std(out) / np.std(noise))) < 0.5


def test_empty_audio_stays_empty() -> None:
    assert len(ROOMS["large_hall"].apply(np.zeros(0), SR)) == 0
