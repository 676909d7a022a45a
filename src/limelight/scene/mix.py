"""Put a performed voice into its scene: room, ambience beds under the speech, effects on their marks.

The mix is kept as stems (voice, ambience, effects) that add up to the mix exactly, so
``background_sfx=False`` is not a separation problem: the clean output *is* the voice stem. Levels
follow the voice (beds and effects are set relative to its active level), ambience ducks while someone
speaks, ``shot="scene"`` brings the world forward, and nothing clips: effects are limited where they
would, and as a last resort every stem is scaled by one common gain so the stems still sum to the mix.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.fft import next_fast_len

from .dynamics import active_level, duck_gain, limit_against
from .library import SOUNDS, SoundSpec, match_scene, match_sound
from .matching import Method, SoundMatch
from .rooms import Room, room_for_scene
from .synth import fades

CEILING = 0.98
"""Highest sample magnitude in any output (−0.18 dBFS)."""
DUCK_DB = -20.0
"""How far ambience drops while the voice is speaking. Beds keep their full level in pauses, so the scene stays
audible; under speech the broadband beds (heavy rain, traffic) mask weak consonants in 1–4 kHz: at −12 dB heavy
rain cost Whisper a word ("dog" → "doll") on sentences it got right clean, and at −16 dB it still did depending
on the hold/release; −20 dB (≈ 34 dB speech-band SNR under speech) cost none (bench/scene_wer.py). −8 dB cost
more (see library)."""
DUCK_HOLD_S = 0.3
"""The bed stays down this long after the voice falls quiet, so it does not swell into commas and stop gaps."""
DUCK_RELEASE_S = 0.35
"""Release time constant of the duck (s): faster than before, so the deeper duck still has the bed back within
about 1 dB of its level a second or so into a pause, as the −12 dB duck with 0.45 s did."""
SCENE_SHOT_DB = 6.0
"""Ambience boost for ``shot="scene"`` (the world is the subject, the voice is in it)."""
LAYER_DB = -4.0
"""Second ambience layer relative to its own level: the first match leads."""
LOOP_S = 20.0
"""Longest bed actually synthesised; longer scenes tile it (every bed loops without a seam)."""
SILENT_VOICE_LEVEL = 0.05
"""Reference level (≈ −26 dBFS) when there is no voice to set levels against."""


@dataclass(frozen=True)
class PlacedEffect:
    """A sound effect at a time in the performance: ``<sound>Thunder cracks overhead</sound>`` → at_s.

    ``duration_s`` overrides the sound's natural length (e.g. how long the phone rings); ``level_db``
    is added to the sound's default level.
    """

    description: str
    at_s: float
    duration_s: float | None = None
    level_db: float = 0.0


@dataclass
class SceneReport:
    """What the scene layer did, for the performance metadata."""

    scene: str | None
    shot: str | None
    room: str
    background_sfx: bool
    seed: int
    ambience: list[SoundMatch] = field(default_factory=list)
    effects: list[dict[str, object]] = field(default_factory=list)
    unmatched: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "scene": self.scene, "shot": self.shot, "room": self.room, "background_sfx": self.background_sfx,
            "seed": self.seed, "ambience": [m.as_dict() for m in self.ambience], "effects": self.effects,
            "unmatched": self.unmatched,
        }


@dataclass
class SceneMix:
    """Same-length float32 stems and their sum; ``mix == voice + ambience + effects`` (to rounding)."""

    voice: np.ndarray
    ambience: np.ndarray
    effects: np.ndarray
    mix: np.ndarray
    sample_rate: int
    report: SceneReport


def _rng(seed: int, *parts: object) -> np.random.Generator:
    """Independent stream per layer: adding an effect never changes the rain."""
    keys = [zlib.crc32(str(p).encode()) for p in parts]
    return np.random.default_rng([seed, *keys])


def render_bed(spec: SoundSpec, n: int, sr: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of an ambience bed: at most LOOP_S synthesised, then tiled (seamless by design)."""
    length = next_fast_len(min(n, int(LOOP_S * sr)), real=True)
    bed = spec.render(length / sr, sr, rng).astype(np.float64)
    return np.resize(bed, n)


def mix_scene(voice: np.ndarray, sr: int, scene: str | None, shot: str | None, effects: list[PlacedEffect],
              background_sfx: bool, seed: int, *, room: Room | None = None, reverb: bool = True,
              duck_db: float = DUCK_DB, ambience_db: float = 0.0, method: Method = "auto") -> SceneMix:
    """Mix a performed voice into its scene.

    ``scene`` is the free-text scene description (ambience and room), ``shot="scene"`` makes the ambience
    prominent, ``effects`` are the script's ``<sound>`` marks. ``background_sfx=False`` returns the voice
    stem alone as the mix (still in the scene's room unless ``reverb=False``). ``seed`` makes the result
    reproducible; a negative seed draws a fresh one (reported). ``room`` overrides the room chosen from
    the scene. ``duck_db`` is how far beds dip under speech and ``ambience_db`` shifts every bed's level
    (both in dB). Descriptions that match no sound are listed in ``report.unmatched``.
    """
    x = np.asarray(voice, dtype=np.float64)
    if x.ndim != 1:
        raise ValueError(f"voice must be mono (1-D), got shape {x.shape}")
    if seed < 0:
        seed = int(np.random.default_rng().integers(0, 2**31 - 1))
    chosen = room if room is not None else room_for_scene(scene, method=method)
    voice_stem = chosen.apply(x, sr, seed).astype(np.float64) if reverb else x.copy()
    report = SceneReport(scene, shot, chosen.name if reverb else "dry", background_sfx, seed)

    layers = match_scene(scene, method=method) if scene and scene.strip() else []
    report.ambience = layers
    if scene and scene.strip() and not layers:
        report.unmatched.append(scene)
    placed: list[tuple[PlacedEffect, SoundSpec]] = []
    for pe in effects:
        m = match_sound(pe.description, "effect", method=method) or match_sound(pe.description, None,
                                                                                 method=method)
        report.effects.append({"description": pe.description, "at_s": pe.at_s,
                               "sound": m.as_dict() if m else None})
        if m is None:
            report.unmatched.append(pe.description)
        else:
            placed.append((pe, SOUNDS[m.name]))

    if not background_sfx:
        voice_stem = _safe(voice_stem)
        silent = np.zeros_like(voice_stem, dtype=np.float32)
        v = voice_stem.astype(np.float32)
        return SceneMix(v, silent, silent.copy(), v.copy(), sr, report)

    level = active_level(voice_stem, sr) or SILENT_VOICE_LEVEL
    rendered: list[tuple[int, np.ndarray]] = []
    for i, (pe, spec) in enumerate(placed):
        duration = pe.duration_s if pe.duration_s is not None else spec.duration_s
        if spec.kind == "ambience" and pe.duration_s is None:  # "rain starts": a bed from here to the end
            duration = max(3.0, len(voice_stem) / sr - pe.at_s)
        sound = spec.render(duration, sr, _rng(seed, "effect", i, spec.name)).astype(np.float64)
        if spec.kind == "ambience":
            sound = fades(sound, sr, 0.5, 1.0)
        sound *= level * 10 ** ((spec.level_db + pe.level_db) / 20) / (active_level(sound, sr) + 1e-12)
        if reverb:
            sound = chosen.apply(sound, sr, seed).astype(np.float64)
        rendered.append((max(0, int(round(pe.at_s * sr))), sound))
    n = max([len(voice_stem)] + [at + len(s) for at, s in rendered])

    voice_full = np.zeros(n)
    voice_full[: len(voice_stem)] = voice_stem
    amb = np.zeros(n)
    shot_db = SCENE_SHOT_DB if (shot or "").strip().lower() == "scene" else 0.0
    for i, layer in enumerate(layers):
        spec = SOUNDS[layer.name]
        bed = render_bed(spec, n, sr, _rng(seed, "ambience", i, spec.name))
        gain_db = spec.level_db + shot_db + ambience_db + (LAYER_DB if i else 0.0)
        amb += bed * level * 10 ** (gain_db / 20) / (np.sqrt(np.mean(bed**2)) + 1e-12)
    if layers:
        amb *= duck_gain(voice_full, sr, n, depth_db=duck_db, hold_s=DUCK_HOLD_S, release_s=DUCK_RELEASE_S)
        amb = fades(amb, sr, min(1.0, n / sr / 4), min(1.5, n / sr / 4))
    fx = np.zeros(n)
    for at, s in rendered:
        fx[at : at + len(s)] += s

    # Peak safety: the voice and bed keep their balance (one common gain if they alone would clip);
    # effects are limited locally against them; a final common gain catches rounding.
    g = _gain_for(voice_full + amb)
    voice_full, amb, fx = voice_full * g, amb * g, fx * g
    fx = limit_against(fx, voice_full + amb, CEILING, sr)
    g = _gain_for(voice_full + amb + fx)
    stems = [(s * g).astype(np.float32) for s in (voice_full, amb, fx)]
    total = stems[0] + stems[1] + stems[2]
    return SceneMix(stems[0], stems[1], stems[2], total, sr, report)


def _gain_for(x: np.ndarray) -> float:
    peak = float(np.max(np.abs(x))) if len(x) else 0.0
    return CEILING / peak if peak > CEILING else 1.0


def _safe(x: np.ndarray) -> np.ndarray:
    return x * _gain_for(x)


def write_stems(mix: SceneMix, sr: int, out_prefix: str | Path) -> dict[str, Path]:
    """Write ``<prefix>.voice.wav``, ``.ambience.wav`` and ``.effects.wav`` (24-bit PCM) for editing.

    A trailing ``.wav`` on the prefix is dropped, so ``out.wav`` gives ``out.voice.wav`` and so on.
    """
    prefix = Path(out_prefix)
    if prefix.suffix.lower() == ".wav":
        prefix = prefix.with_suffix("")
    prefix.parent.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    for name in ("voice", "ambience", "effects"):
        path = prefix.with_name(f"{prefix.name}.{name}.wav")
        sf.write(str(path), np.clip(getattr(mix, name), -1.0, 1.0), sr, subtype="PCM_24")
        written[name] = path
    return written
