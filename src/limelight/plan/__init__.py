"""The ``plan`` stage: a Script → a timeline of speech chunks (≤ 13 s estimated, ≤ 15 s actual), pauses, events
and sounds."""

from ..text.sentences import split_clauses  # the Performer's clause-by-clause retry uses it too
from .chunks import (
    CHUNK_MAX_S,
    CHUNK_TARGET_S,
    PARAGRAPH_PAUSE_S,
    EventItem,
    ParagraphBreak,
    PlanItem,
    SceneItem,
    SilenceItem,
    SoundItem,
    SpeechChunk,
    estimate_seconds,
    plan_script,
)
from .paragraphs import mark_paragraphs

__all__ = ["CHUNK_MAX_S", "CHUNK_TARGET_S", "PARAGRAPH_PAUSE_S", "EventItem", "ParagraphBreak", "PlanItem",
           "SceneItem", "SilenceItem", "SoundItem", "SpeechChunk", "estimate_seconds", "mark_paragraphs",
           "plan_script", "split_clauses"]
