"""The scene mix, measured on a synthetic voice: ducking, effect timing, clean stems, peak safety."""

from __future__ import annotations

from functools import cache

import numpy as np
import pytest
import soundfile as sf
from scipy.signal import lfilter

from limelight.scene import SOUNDS, PlacedEffect, SceneMix, measure, mix_scene, write_stems
from limelight.scene.dynamics import active_level
from limelight.scene.mix import DUCK_DB

SR = 24000
SPEECH = [(0.5, 3.0), (5.5, 8.0)]  # a long gap between 3.0 and 5.5 s
TOTAL_S = 9.0


def voice_like(segments: list[tuple[float, float]], total_s: float, peak: float = 0.5) -> np.ndarray:
    """A harmonic pulse train (120 Hz, gentle vibrato) through three formants, gated by a 4 Hz syllable
    envelope inside each segment: what ducking and levels respond to in speech, with no engine needed."""
    n = int(total_s * SR)
    t = np.arange(n) / SR
    phase = np.cumsum(120 * (1 + 0.05 * np.sin(2 * np.pi * 0.7 * t))) / SR
    src = np.zeros(n)
    src[np.flatnonzero(np.diff(np.floor(phase), prepend=0.0))] = 1.0
    src = lfilter([1.0], [1.0, -0.9], src)
    for f, bw in ((600, 90), (1200, 110), (2600, 160)):
        r = np.exp(-np.pi * bw / SR)
        src = lfilter([1 - r], [1, -2 * r * np.cos(2 * np.pi * f / SR), r * r], src)
    env = np.zeros(n)
    for a, b in segments:
        i, j = int(a * SR), int(b * SR)
        tt = t[i:j] - a
        env[i:j] = (0.55 + 0.45 * np.sin(2 * np.pi * 4 * tt - np.pi / 2)) * np.minimum(1, np.minimum(tt, b - a - tt)
                                                                                       / 0.03)
    x = src * env
    return (peak * x / np.max(np.abs(x))).astype(np.float32)


VOICE = voice_like(SPEECH, TOTAL_S)
EFFECTS = [PlacedEffect("Someone knocks on the door", 3.4), PlacedEffect("Glass shatters", 4.6),
           PlacedEffect("Thunder cracks overhead", 8.6), PlacedEffect("a dog barks", 2.0)]


@cache
def scene_mix(scene: str | None = "Heavy rain pouring down", shot: str | None = None, background_sfx: bool = True,
              seed: int = 7, duck_db: float = DUCK_DB) -> SceneMix:
    return mix_scene(VOICE, SR, scene, shot, EFFECTS, background_sfx, seed, duck_db=duck_db, method="keyword")


def level_db(x: np.ndarray, a: float, b: float) -> float:
    seg = x[int(a * SR) : int(b * SR)].astype(np.float64)
    return float(10 * np.log10(np.mean(seg**2) + 1e-20))


def test_stems_have_one_length_and_sum_to_the_mix() -> None:
    m = scene_mix()
    assert len(m.voice) == len(m.ambience) == len(m.effects) == len(m.mix)
    assert all(s.dtype == np.float32 for s in (m.voice, m.ambience, m.effects, m.mix))
    np.testing.assert_allclose(m.mix, m.voice + m.ambience + m.effects, atol=1e-6)
    assert len(m.mix) >= int((8.6 + SOUNDS["thunder_crack"].duration_s) * SR)  # the thunder is not cut off


def test_ambience_ducks_under_speech_and_recovers_in_pauses() -> None:
    ducked, flat = scene_mix(), scene_mix(duck_db=0.0)  # same seed: the same rain, with and without ducking
    under_speech = level_db(ducked.ambience, 1.0, 2.5) - level_db(flat.ambience, 1.0, 2.5)
    in_pause = level_db(ducked.ambience, 4.0, 4.8) - level_db(flat.ambience, 4.0, 4.8)
    assert under_speech == pytest.approx(DUCK_DB, abs=1.0)
    assert abs(in_pause) < 1.0
    gain = ducked.ambience[: int(8 * SR)].astype(np.float64) / (flat.ambience[: int(8 * SR)] + 1e-12)
    steps = np.abs(np.diff(20 * np.log10(np.clip(np.abs(gain[flat.ambience[: int(8 * SR)] != 0]), 1e-6, None))))
    assert np.median(steps) < 0.01  # smooth: no pumping steps from sample to sample


def test_ambience_sits_at_its_level_below_the_voice() -> None:
    m = scene_mix(duck_db=0.0)
    voice_db = 20 * np.log10(active_level(m.voice, SR))
    bed_db = level_db(m.ambience, 3.2, 5.2)
    assert bed_db - voice_db == pytest.approx(SOUNDS["rain_heavy"].level_db, abs=1.5)


def test_scene_shot_brings_the_ambience_forward() -> None:
    normal, scene = scene_mix(), scene_mix(shot="scene")
    boost = level_db(scene.ambience, 0.0, 8.0) - level_db(normal.ambience, 0.0, 8.0)
    assert boost == pytest.approx(6.0, abs=0.5)
    assert np.array_equal(scene.voice, normal.voice)


def test_effect_onsets_land_within_50_ms_of_their_marks() -> None:
    m = scene_mix()
    found = measure.onsets(m.effects, SR)
    for pe in EFFECTS[:3]:
        nearest = found[np.argmin(np.abs(found - pe.at_s))]
        assert abs(nearest - pe.at_s) <= 0.05, (pe.description, found)


def test_report_names_matches_and_unmatched_descriptions() -> None:
    report = scene_mix().report.as_dict()
    assert report["ambience"][0]["name"] == "rain_heavy"
    sounds = [e["sound"]["name"] if e["sound"] else None for e in report["effects"]]
    assert sounds == ["door_knock", "glass_break", "thunder_crack", None]
    assert report["unmatched"] == ["a dog barks"]
    unknown_scene = mix_scene(VOICE, SR, "a spaceship bridge", None, [], True, 1, method="keyword")
    assert unknown_scene.report.unmatched == ["a spaceship bridge"]
    assert not np.any(unknown_scene.ambience)


def test_background_sfx_off_returns_exactly_the_voice_stem() -> None:
    clean, full = scene_mix(background_sfx=False), scene_mix()
    assert np.array_equal(clean.mix, clean.voice)
    assert not np.any(clean.ambience) and not np.any(clean.effects)
    assert np.array_equal(clean.voice, full.voice[: len(clean.voice)])  # the very voice inside the full mix
    room_scene = mix_scene(VOICE, SR, "a tiled bathroom", None, [], False, 3, method="keyword")
    assert room_scene.report.room == "bathroom"
    assert np.array_equal(room_scene.mix, room_scene.voice) and len(room_scene.mix) > len(VOICE)
    dry = mix_scene(VOICE, SR, "a tiled bathroom", None, [], False, 3, reverb=False, method="keyword")
    assert np.array_equal(dry.mix, VOICE)


def test_nothing_clips_even_with_a_hot_voice_and_a_gunshot_over_it() -> None:
    hot = voice_like(SPEECH, TOTAL_S, peak=0.97)
    m = mix_scene(hot, SR, "A thunderstorm", "scene", [PlacedEffect("a gunshot", 1.0), PlacedEffect("a gunshot", 1.05),
                                                        PlacedEffect("Thunder cracks overhead", 6.0)], True, 5,
                  method="keyword")
    for stem in (m.voice, m.ambience, m.effects, m.mix):
        assert np.max(np.abs(stem)) <= 0.98 + 1e-6
    np.testing.assert_allclose(m.mix, m.voice + m.ambience + m.effects, atol=1e-6)
    # The limiter works on the effects, so the voice is not turned down for the whole performance.
    assert np.max(np.abs(m.voice)) > 0.9
    clean = mix_scene(np.concatenate([hot, hot]) * 1.5, SR, None, None, [], False, 5)
    assert np.max(np.abs(clean.mix)) <= 0.98 + 1e-6


def test_same_seed_same_mix_other_seed_other_ambience() -> None:
    a = mix_scene(VOICE, SR, "Heavy rain pouring down", None, EFFECTS, True, 7, method="keyword")
    assert np.array_equal(a.mix, scene_mix().mix)
    b = scene_mix(seed=8)
    assert not np.allclose(a.ambience, b.ambience)
    assert np.array_equal(a.voice, b.voice)


def test_adding_an_effect_does_not_change_the_ambience() -> None:
    more = mix_scene(VOICE, SR, "Heavy rain pouring down", None, [*EFFECTS, PlacedEffect("a car horn honks", 1.0)],
                     True, 7, method="keyword")
    assert np.array_equal(more.ambience, scene_mix().ambience)


def test_long_scenes_tile_the_bed_without_seams() -> None:
    from limelight.scene.mix import LOOP_S

    voice = voice_like([(0.5, 2.0)], 45.0)
    m = mix_scene(voice, SR, "river", None, [], True, 2, method="keyword")
    bed = m.ambience.astype(np.float64)
    loop = int(LOOP_S * SR)
    steps = np.abs(np.diff(bed))
    hop = int(0.02 * SR)
    env_db = 20 * np.log10(measure.envelope(bed, SR, 0.02))
    level_steps = np.abs(np.diff(env_db[5:-5]))
    for seam in (loop, 2 * loop):
        assert abs(bed[seam] - bed[seam - 1]) <= np.quantile(steps, 0.999)
        frame = seam // hop
        assert abs(env_db[frame] - env_db[frame - 1]) <= np.quantile(level_steps, 0.995)


def test_no_voice_still_places_effects() -> None:
    m = mix_scene(np.zeros(0, dtype=np.float32), SR, None, None, [PlacedEffect("a door slams", 0.5)], True, 1,
                  method="keyword")
    assert len(m.mix) == int(0.5 * SR) + int(SOUNDS["door_slam"].duration_s * SR)
    assert abs(measure.onsets(m.effects, SR)[0] - 0.5) <= 0.05


def test_rejects_stereo_voice() -> None:
    with pytest.raises(ValueError):
        mix_scene(np.zeros((2, 100), dtype=np.float32), SR, None, None, [], True, 0)


def test_write_stems(tmp_path) -> None:  # noqa: ANN001 - pytest fixture
    m = scene_mix()
    paths = write_stems(m, SR, tmp_path / "take1.wav")
    assert sorted(p.name for p in paths.values()) == ["take1.ambience.wav", "take1.effects.wav", "take1.voice.wav"]
    for name, path in paths.items():
        data, sr = sf.read(path, dtype="float32")
        assert sr == SR and len(data) == len(m.mix)
        np.testing.assert_allclose(data, getattr(m, name), atol=1e-5)


WER_SENTENCES = (0, 2, 5, 10)  # en_dev sentences Whisper base gets right from the clean default voice
WER_BEDS = ("traffic", "rain_heavy")  # broadband beds: the most masking per dB


def test_speech_wer_over_broadband_beds_stays_within_the_bar(tts, transcriber, en_sentences) -> None:  # noqa: ANN001
    """Issue 8's bar with the real engine and the shipped Whisper: at the default mix, speech over the
    hardest beds has WER ≤ 1.5 × the clean WER (floored at 1 %). One performance, cut back into sentences."""
    from limelight.check.wer import word_errors

    sentences = [en_sentences[i] for i in WER_SENTENCES]
    sr = tts.sample_rate
    gap = np.zeros(int(0.5 * sr), np.float32)
    parts, spans, at = [gap], [], len(gap)
    for text in sentences:
        take = tts.infer(text)
        parts += [take, gap]
        spans.append((at, at + len(take)))
        at += len(take) + len(gap)
    voice = np.concatenate(parts)
    margin = int(0.15 * sr)

    def wer_of(audio: np.ndarray) -> float:
        errors = words = 0
        for (a, b), text in zip(spans, sentences, strict=True):
            e, n = word_errors(text, transcriber.transcribe(audio[max(0, a - margin) : b + margin], sr))
            errors, words = errors + e, words + n
        return errors / words

    clean = wer_of(voice)
    for bed in WER_BEDS:
        m = mix_scene(voice, sr, SOUNDS[bed].phrasings[0], None, [], True, 0, method="keyword")
        assert [layer.name for layer in m.report.ambience] == [bed]
        noisy = wer_of(m.mix)
        assert noisy <= 1.5 * max(clean, 0.01) + 1e-9, (bed, noisy, clean)
