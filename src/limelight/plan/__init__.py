"""The ``plan`` stage: a Script → a timeline of speech chunks (≤ 15 s estimated), pauses, events and sounds."""

from .chunks import (
    CHUNK_MAX_S,
    EventItem,
    PlanItem,
    SceneItem,
    SilenceItem,
    SoundItem,
    SpeechChunk,
    estimate_seconds,
    plan_script,
)

__all__ = ["CHUNK_MAX_S", "EventItem", "PlanItem", "SceneItem", "SilenceItem", "SoundItem", "SpeechChunk",
           "estimate_seconds", "plan_script"]
