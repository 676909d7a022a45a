"""The ``script`` stage: ``<speak>`` markup or plain text → :class:`Script` (pure Python, no models).

``parse(source)`` is the entry point; the dataclasses in :mod:`.model` are what later stages read.
Malformed markup raises :class:`limelight.errors.ScriptError` with the 1-based line and column.
"""

from __future__ import annotations

from .events import KNOWN_EVENTS, canonical_event
from .model import (
    GENDERS,
    REGISTERS,
    EventSegment,
    PauseSegment,
    SceneSegment,
    Script,
    Segment,
    SoundSegment,
    Speaker,
    TextSegment,
)
from .parse import parse

__all__ = [
    "GENDERS",
    "KNOWN_EVENTS",
    "REGISTERS",
    "EventSegment",
    "PauseSegment",
    "SceneSegment",
    "Script",
    "Segment",
    "SoundSegment",
    "Speaker",
    "TextSegment",
    "canonical_event",
    "parse",
]
