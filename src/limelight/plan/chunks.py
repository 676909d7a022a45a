"""Chunk planning: split a script into pieces the engine renders (and Whisper validates) one at a time.

Why ≤ 15 s: validation retries a whole chunk, so short chunks make retries cheap; long-form memory stays
bounded; and a streaming listener gets the first chunk early. Durations are *estimated* from the phoneme count
(Kokoro speaks ≈ 19 tokens/s at speed 1; we plan with 18.5 so estimates err long), the speed and the direction.
Text is split at sentence boundaries, then clause boundaries, never inside a word; a chunk never mixes speakers
or directions, so each chunk is rendered with one voice and one Direction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..script.model import EventSegment, PauseSegment, SceneSegment, Script, SoundSegment, TextSegment
from ..text.normalize import normalize
from ..text.sentences import split_long, split_sentences

CHUNK_MAX_S = 15.0
TOKENS_PER_SECOND = 18.5
SENTENCE_PAUSE_S = 0.25


@dataclass(frozen=True)
class SpeechChunk:
    """Words for the engine: one speaker, one direction, ≤ CHUNK_MAX_S estimated seconds.

    ``text`` is normalised (spoken form); ``written`` is what the user wrote, kept for reports. ``sentences``
    are synthesised separately and joined with ``SENTENCE_PAUSE_S`` (prosody is planned per sentence).
    """

    index: int
    sentences: tuple[str, ...]
    written: str
    speaker_id: str
    direction: Any  # limelight.direct.Direction | None (kept loose so the plan stage needs no embedder)
    language: str
    speed: float
    est_s: float
    line: int
    col: int

    @property
    def text(self) -> str:
        return " ".join(self.sentences)


@dataclass(frozen=True)
class SilenceItem:
    seconds: float
    reason: str = "pause"


@dataclass(frozen=True)
class EventItem:
    event: str
    speaker_id: str
    manner: str | None
    line: int
    col: int


@dataclass(frozen=True)
class SoundItem:
    description: str
    line: int
    col: int


@dataclass(frozen=True)
class SceneItem:
    scene: str | None
    shot: str | None


PlanItem = SpeechChunk | SilenceItem | EventItem | SoundItem | SceneItem


def estimate_seconds(n_tokens: int, speed: float) -> float:
    return n_tokens / (TOKENS_PER_SECOND * max(speed, 1e-3))


@dataclass
class _Builder:
    count_tokens: Callable[[str, str], int]
    max_s: float
    items: list[PlanItem] = field(default_factory=list)
    index: int = 0

    def add_text(self, seg: TextSegment, direction: Any, speed: float) -> None:
        spoken = normalize(seg.text, seg.language)
        pieces: list[tuple[str, float]] = []
        for sentence in split_sentences(spoken):
            for piece in self._fit(sentence, seg.language, speed):
                pieces.append(piece)
        group: list[str] = []
        total = 0.0
        for text, seconds in pieces:
            extra = seconds + (SENTENCE_PAUSE_S if group else 0.0)
            if group and total + extra > self.max_s:
                self._emit(group, total, seg, direction, speed)
                group, total = [], 0.0
                extra = seconds
            group.append(text)
            total += extra
        if group:
            self._emit(group, total, seg, direction, speed)

    def _fit(self, sentence: str, language: str, speed: float) -> list[tuple[str, float]]:
        seconds = estimate_seconds(self.count_tokens(sentence, language), speed)
        if seconds <= self.max_s:
            return [(sentence, seconds)]
        max_chars = max(20, int(len(sentence) * self.max_s * 0.9 / seconds))
        out: list[tuple[str, float]] = []
        for piece in split_long(sentence, max_chars):
            out.extend(self._fit(piece, language, speed) if piece != sentence else
                       [(piece, estimate_seconds(self.count_tokens(piece, language), speed))])
        return out

    def _emit(self, group: list[str], seconds: float, seg: TextSegment, direction: Any, speed: float) -> None:
        self.items.append(SpeechChunk(index=self.index, sentences=tuple(group), written=seg.text,
                                      speaker_id=seg.speaker_id, direction=direction, language=seg.language,
                                      speed=speed, est_s=round(seconds, 3), line=seg.line, col=seg.col))
        self.index += 1


def plan_script(script: Script, *, count_tokens: Callable[[str, str], int],
                direction_for: Callable[[TextSegment], Any] | None = None,
                speed_for: Callable[[Any], float] | None = None, max_s: float = CHUNK_MAX_S) -> list[PlanItem]:
    """Lay the script out in time order.

    ``count_tokens(text, language)`` is the engine's phoneme-token count; ``direction_for(segment)`` gives the
    Direction of a text segment (None → neutral); ``speed_for(direction)`` the effective engine speed.
    Directed pauses (``pause_before``/``pause_after``) become `SilenceItem`s around the speech.
    """
    builder = _Builder(count_tokens=count_tokens, max_s=max_s)
    for seg in script.segments:
        if isinstance(seg, TextSegment):
            direction = direction_for(seg) if direction_for else None
            speed = speed_for(direction) if speed_for else 1.0
            before = float(getattr(direction, "pause_before", 0.0) or 0.0)
            if before > 0:
                builder.items.append(SilenceItem(before, reason="direction"))
            if getattr(direction, "breath_before", False):
                builder.items.append(EventItem("inhale", seg.speaker_id, None, seg.line, seg.col))
            builder.add_text(seg, direction, speed)
            after = float(getattr(direction, "pause_after", 0.0) or 0.0)
            if after > 0:
                builder.items.append(SilenceItem(after, reason="direction"))
        elif isinstance(seg, PauseSegment):
            builder.items.append(SilenceItem(seg.seconds))
        elif isinstance(seg, EventSegment):
            builder.items.append(EventItem(seg.event, seg.speaker_id, seg.manner, seg.line, seg.col))
        elif isinstance(seg, SoundSegment):
            builder.items.append(SoundItem(seg.description, seg.line, seg.col))
        elif isinstance(seg, SceneSegment):
            builder.items.append(SceneItem(seg.scene, seg.shot))
    return builder.items
