"""The ``script`` stage: ``<speak>`` markup or plain text → :class:`Script` (pure Python, no models).

``parse(source)`` is the entry point (SSML 1.1 documents are detected and read by
:mod:`.ssml`); the dataclasses in :mod:`.model` are what later stages read.
Malformed markup raises :class:`limelight.errors.ScriptError` with the 1-based line and column.
"""

from __future__ import annotations

from .events import KNOWN_EVENTS, canonical_event
from .model import (
    GENDERS,
    REGISTERS,
    AudioSegment,
    EventSegment,
    Mark,
    Note,
    PauseSegment,
    Prosody,
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
    "AudioSegment",
    "EventSegment",
    "Mark",
    "Note",
    "Prosody",
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
