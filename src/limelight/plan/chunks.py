"""Chunk planning: split a script into pieces the engine renders (and Whisper validates) one at a time.

Why ≤ 15 s: validation retries a whole chunk, so short chunks make retries cheap; long-form memory stays
bounded; and a streaming listener gets the first chunk early. ``CHUNK_MAX_S`` (15 s) is the hard bound on a
chunk's *actual* duration, but the plan can only *estimate* durations, from the phoneme count, the speed and the
direction. Calibration (bench/longform.py, 320 chunks of bench/texts/chapter_{2k,10k}.txt, default voice jm_kumo
at speed 1): Kokoro speaks 17.4 tokens/s on average, and a chunk's actual/estimated duration ratio spreads up to
1.14 around that; the other shipped voices speak 7 % faster to 7 % slower (`VOICE_TOKENS_PER_SECOND`). So
chunks are planned against ``CHUNK_TARGET_S`` (13 s estimated), which leaves room for the spread
(13 × 1.14 ≈ 14.8 s), while 15 s stays the stated bound (the Performer re-renders a little faster a chunk that
still comes out longer).
Text is split at paragraphs (a `ParagraphBreak` in the script, a longer pause than between sentences), then
sentence boundaries, then clause boundaries, then between words, never inside a word; a chunk never mixes
speakers or directions, so each chunk is rendered with one voice and one Direction.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..script.model import EventSegment, PauseSegment, SceneSegment, Script, SoundSegment, TextSegment
from ..text.normalize import normalize
from ..text.sentences import split_long, split_sentences

if TYPE_CHECKING:  # typing only: the plan stage needs no embedder (``direct`` loads it on first use)
    from ..direct.direction import Direction
    from ..voice import Voice

CHUNK_MAX_S = 15.0  # hard bound on a chunk's actual duration
CHUNK_TARGET_S = 13.0  # what the plan aims for (estimated seconds); see the module docstring
TOKENS_PER_SECOND = 17.4  # measured mean for Kokoro at speed 1 (jm_kumo, 320 long-form chunks)
# Shipped voices differ: 40 sentences of chapter_2k.txt each, at speed 1, relative to jm_kumo, scaled to its 17.4
# (jf_alpha 1.076, jf_gongitsune 0.927, jf_nezumi 0.950, jf_tebukuro 0.960 of jm_kumo's rate).
VOICE_TOKENS_PER_SECOND = {"jm_kumo": 17.4, "jf_alpha": 18.7, "jf_gongitsune": 16.1, "jf_nezumi": 16.5,
                           "jf_tebukuro": 16.7}
SENTENCE_PAUSE_S = 0.25  # between the sentences of one chunk
CLAUSE_PAUSE_S = 0.12  # between clauses when a retry renders a chunk clause by clause
PARAGRAPH_PAUSE_S = 0.7  # at a paragraph break (a blank line in plain text)


@dataclass(frozen=True)
class ParagraphBreak(PauseSegment):
    """A paragraph break in the source (a blank line in plain text): a `PauseSegment` the plan marks as such."""


@dataclass(frozen=True)
class SpeechChunk:
    """Words for the engine: one speaker, one direction, ≤ CHUNK_TARGET_S estimated seconds (CHUNK_MAX_S actual).

    ``text`` is normalised (spoken form); ``written`` is what the user wrote, kept for reports. ``sentences``
    are synthesised separately and joined with ``SENTENCE_PAUSE_S`` (prosody is planned per sentence).
    """

    index: int
    sentences: tuple[str, ...]
    written: str
    speaker_id: str
    direction: Direction | None  # None: neutral delivery
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


def estimate_seconds(n_tokens: int, speed: float, rate: float = TOKENS_PER_SECOND) -> float:
    """Estimated seconds of ``n_tokens`` phoneme tokens at engine ``speed``, for a voice speaking ``rate``
    tokens/s at speed 1 (see `voice_tokens_per_second`)."""
    return n_tokens / (rate * max(speed, 1e-3))


def voice_tokens_per_second(voice: Voice) -> float:
    """How many phoneme tokens/s ``voice`` speaks at speed 1: measured for the shipped voices; for any other
    voice (designed, cloned, blended) the slowest shipped rate, so its estimates err long, never short."""
    if voice.source == "shipped" and voice.name in VOICE_TOKENS_PER_SECOND:
        return VOICE_TOKENS_PER_SECOND[voice.name]
    return min(VOICE_TOKENS_PER_SECOND.values())


@dataclass
class _Builder:
    count_tokens: Callable[[str, str], int]
    max_s: float
    items: list[PlanItem] = field(default_factory=list)
    index: int = 0

    def add_text(self, seg: TextSegment, direction: Direction | None, speed: float,
                 rate: float = TOKENS_PER_SECOND) -> None:
        spoken = normalize(seg.text, seg.language)
        pieces: list[tuple[str, float]] = []
        for sentence in split_sentences(spoken):
            for piece in self._fit(sentence, seg.language, speed, rate):
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

    def _fit(self, sentence: str, language: str, speed: float, rate: float) -> list[tuple[str, float]]:
        """A sentence as pieces that each fit the target: whole if it fits, else cut at clauses, then words."""
        seconds = estimate_seconds(self.count_tokens(sentence, language), speed, rate)
        if seconds <= self.max_s:
            return [(sentence, seconds)]
        max_chars = max(20, int(len(sentence) * self.max_s * 0.9 / seconds))
        out: list[tuple[str, float]] = []
        for piece in split_long(sentence, max_chars):
            if piece == sentence:  # cannot be cut further (one very long word): keep it
                out.append((piece, seconds))
            else:
                out.extend(self._fit(piece, language, speed, rate))
        return out

    def _emit(self, group: list[str], seconds: float, seg: TextSegment, direction: Direction | None,
              speed: float) -> None:
        self.items.append(SpeechChunk(index=self.index, sentences=tuple(group), written=seg.text,
                                      speaker_id=seg.speaker_id, direction=direction, language=seg.language,
                                      speed=speed, est_s=round(seconds, 3), line=seg.line, col=seg.col))
        self.index += 1


def plan_script(script: Script, *, count_tokens: Callable[[str, str], int],
                direction_for: Callable[[TextSegment], Direction | None] | None = None,
                speed_for: Callable[[Direction | None], float] | None = None, max_s: float = CHUNK_TARGET_S,
                rate_for: Callable[[TextSegment], float] | None = None) -> list[PlanItem]:
    """Lay the script out in time order.

    ``count_tokens(text, language)`` is the engine's phoneme-token count; ``direction_for(segment)`` gives the
    Direction of a text segment (None → neutral); ``speed_for(direction)`` the effective engine speed;
    ``max_s`` the estimated seconds a chunk may take (the target, below the hard `CHUNK_MAX_S`);
    ``rate_for(segment)`` the tokens/s its voice speaks at speed 1 (default `TOKENS_PER_SECOND`).
    Directed pauses (``pause_before``/``pause_after``) become `SilenceItem`s around the speech; a
    `ParagraphBreak` becomes a `SilenceItem` with reason ``"paragraph"``.
    """
    builder = _Builder(count_tokens=count_tokens, max_s=max_s)
    for seg in script.segments:
        if isinstance(seg, TextSegment):
            direction = direction_for(seg) if direction_for else None
            speed = speed_for(direction) if speed_for else 1.0
            before = direction.pause_before if direction is not None else 0.0
            if before > 0:
                builder.items.append(SilenceItem(before, reason="direction"))
            if direction is not None and direction.breath_before:
                builder.items.append(EventItem("inhale", seg.speaker_id, None, seg.line, seg.col))
            builder.add_text(seg, direction, speed, rate_for(seg) if rate_for else TOKENS_PER_SECOND)
            after = direction.pause_after if direction is not None else 0.0
            if after > 0:
                builder.items.append(SilenceItem(after, reason="direction"))
        elif isinstance(seg, ParagraphBreak):
            builder.items.append(SilenceItem(seg.seconds, reason="paragraph"))
        elif isinstance(seg, PauseSegment):
            builder.items.append(SilenceItem(seg.seconds))
        elif isinstance(seg, EventSegment):
            builder.items.append(EventItem(seg.event, seg.speaker_id, seg.manner, seg.line, seg.col))
        elif isinstance(seg, SoundSegment):
            builder.items.append(SoundItem(seg.description, seg.line, seg.col))
        elif isinstance(seg, SceneSegment):
            builder.items.append(SceneItem(seg.scene, seg.shot))
    return builder.items
