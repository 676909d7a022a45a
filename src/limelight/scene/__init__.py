"""The scene stage: a procedural sound layer around the performed voice.

Everything is synthesised (numpy/scipy DSP, no recordings): ambience beds and effects (:mod:`.library`,
``SOUNDS``), free text → sound (:func:`match_sound`), rooms as generated impulse responses
(:func:`room_for_scene`), and the mix with ducking and clean stems (:func:`mix_scene`, :func:`write_stems`).
"""

from __future__ import annotations

from .library import SOUNDS, SoundSpec, match_scene, match_sound
from .matching import SoundMatch
from .mix import PlacedEffect, SceneMix, SceneReport, mix_scene, write_stems
from .rooms import ROOMS, Room, room_for_scene

__all__ = [
    "ROOMS", "SOUNDS", "PlacedEffect", "Room", "SceneMix", "SceneReport", "SoundMatch", "SoundSpec",
    "match_scene", "match_sound", "mix_scene", "room_for_scene", "write_stems",
]
