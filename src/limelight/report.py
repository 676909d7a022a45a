"""What a performance hands back: `ChunkReport` per rendered piece (the streaming unit) and `Performance`.

`Performer.pieces` yields one `ChunkReport` per plan item as soon as it is rendered (the way kokoro's
``KPipeline.Result`` and piper's ``AudioChunk`` are their streams' units); `Performance` is the finished,
mixed whole with its report (``metadata``, keys in DESIGN.md §2b), whose ``chunks`` rows are
`ChunkReport.as_dict` of the speech pieces.

Later stages add fields here rather than new side channels: word timings are ``ChunkReport.words``, and SSML
marks would be a per-chunk list beside them, on the same timeline.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from .direct.direction import Direction
from .timing.words import WordTiming

PieceKind = Literal["speech", "pause", "event", "sound", "audio"]

#: One "asked for but not done" note: ``{"field": <option or markup field>, "reason": <why>}``.
NotApplied = dict[str, str]


@dataclass
class ChunkReport:
    """One rendered piece of a performance, in output order.

    ``audio`` is float32 mono at ``sample_rate``, ready to play or write: concatenating the ``audio`` of every
    piece gives the voice track (before any scene mix), so ``start_s`` is where the piece starts on it. A speech
    piece's audio ends with the short gap to the next piece; ``duration_s`` is the speech alone.

    kind: ``"speech"`` (a validated chunk of ≤ 15 s), ``"pause"`` (silence: a directed or paragraph pause),
    ``"event"`` (a non-verbal sound such as ``[sigh]``) or ``"sound"`` (the gap left for a ``<sound>`` effect,
    which the scene mix places at ``start_s``) or ``"audio"`` (a recorded clip, SSML ``<audio>``: ``text`` is its
    path). The speech fields (match, attempts, transcript…) are empty on
    the other kinds. ``not_applied`` lists what this piece asked for but could not get. ``words`` are the
    written words of a speech piece with their times on the same timeline as ``start_s``.
    """

    kind: PieceKind
    audio: np.ndarray
    sample_rate: int
    start_s: float = 0.0
    duration_s: float = 0.0
    index: int | None = None  # speech: the chunk's number among the speech chunks of the plan
    speaker: str | None = None
    voice: str | None = None  # the name of the Voice that spoke it
    text: str = ""  # speech: the normalised words spoken; event: the event; sound: its description
    written: str = ""  # speech: the text as written in the script
    language: str | None = None
    language_source: str | None = None  # speech: where language came from ("script", "option", "detected")
    direction: Direction | None = None
    line: int | None = None  # where the piece comes from in the script (1-based), when it has a place
    col: int | None = None
    est_duration_s: float | None = None  # the planner's estimate of duration_s
    match_ratio: float | None = None  # Whisper's word match of the kept attempt (None when not validated)
    passed: bool | None = None  # match_ratio reached the bar (None when not validated)
    attempts: int = 0
    attempt_ratios: list[float] = field(default_factory=list)
    attempt_variations: list[dict[str, Any]] = field(default_factory=list)
    transcript: str = ""  # what Whisper heard in the kept attempt
    loudness_lufs: float | None = None
    pitch_in_engine: bool = False  # the Direction's pitch shift was made by the engine, not by DSP
    reason: str | None = None  # pause: why it is there ("pause", "paragraph", ...)
    manner: str | None = None  # event: how, e.g. "softly"
    not_applied: list[NotApplied] = field(default_factory=list)
    words: list[WordTiming] = field(default_factory=list)  # speech: the written words, timed like start_s

    @property
    def end_s(self) -> float:
        """Where the next piece starts on the voice track."""
        return self.start_s + len(self.audio) / self.sample_rate

    def as_dict(self) -> dict[str, Any]:
        """The row of ``metadata["chunks"]`` for a speech piece (DESIGN.md §2b), JSON-ready."""
        return {
            "index": self.index, "text": self.text, "written": self.written, "speaker": self.speaker,
            "voice": self.voice, "language": self.language,
            "language_source": self.language_source, "duration_s": self.duration_s,
            "est_duration_s": self.est_duration_s, "match_ratio": self.match_ratio, "attempts": self.attempts,
            "attempt_ratios": self.attempt_ratios, "attempt_variations": self.attempt_variations,
            "transcript": self.transcript, "passed": self.passed, "loudness_lufs": self.loudness_lufs,
            "direction": direction_dict(self.direction), "pitch_in_engine": self.pitch_in_engine,
            "line": self.line, "col": self.col, "start_s": round(self.start_s, 3),
            "words": [w.as_dict() for w in self.words],
        }


@dataclass
class Performance:
    """The result: audio, its rate, and a report of what was done (see DESIGN.md §2b for the metadata keys)."""

    audio: np.ndarray
    sample_rate: int
    metadata: dict[str, Any]
    stems: dict[str, np.ndarray] | None = None

    @property
    def duration_s(self) -> float:
        return len(self.audio) / self.sample_rate

    @property
    def words(self) -> list[WordTiming]:
        """Every written word with its start and end (seconds on this audio's timeline), speaker and chunk."""
        return [WordTiming.from_dict(w) for w in self.metadata.get("words", [])]

    def write(self, path: str | os.PathLike[str], spec: Any = None) -> Path:
        """Write the audio; the format follows the extension unless ``spec`` (an `OutputSpec`) is given."""
        from .audio.output import write_audio

        return write_audio(path, self.audio, self.sample_rate, spec)


def direction_dict(direction: Direction | None) -> dict[str, Any] | None:
    """A Direction as a plain dict for reports (None stays None)."""
    return None if direction is None else direction.as_dict()
