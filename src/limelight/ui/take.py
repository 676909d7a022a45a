"""One take: a script performed chunk by chunk, with progress and audio as each chunk finishes.

The studio needs three things at once that `Performer`'s public methods give separately: audio as it is made
(`stream`), the per-chunk report and stems (`perform`), and a count for the progress bar. `run_take` drives
the Performer's own stages (`_start` → `_render` → `_mix` → `_metadata`, the same sequence `perform` runs) so a
take is synthesized once. That leans on the Performer's internal stage methods; if a future Performer lacks
them, the take falls back to one `perform` call: slower to first sound, never wrong. (A public
`Performer` method yielding pieces with their reports would remove the coupling.)
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..perform import Performance
from ..plan import SpeechChunk

_STAGES = ("_start", "_plan", "_render", "_mix", "_metadata", "_needs_mix")


@dataclass(frozen=True)
class TakeProgress:
    """Audio made since the previous progress (empty while a scene mix holds it back), and the count so far."""

    audio: np.ndarray
    chunk: dict[str, Any] | None  # the report row of the speech chunk just finished, if one did
    done: int  # speech chunks finished
    total: int  # speech chunks planned
    elapsed_s: float


@dataclass(frozen=True)
class TakeDone:
    """The finished take: the same Performance `Performer.perform` would have returned."""

    performance: Performance


def streams_chunks(performer: Any) -> bool:
    """Whether this performer exposes the stages a streamed take needs."""
    return all(callable(getattr(performer, name, None)) for name in _STAGES)


def run_take(performer: Any, script: str, **options: Any) -> Iterator[TakeProgress | TakeDone]:
    """Perform ``script``; yield a TakeProgress per finished speech chunk, then one TakeDone.

    Options are `Performer.perform`'s. User errors (LimelightError) are raised before any audio is made when
    the script or an option is invalid, since `_start` parses and validates everything first.
    """
    t0 = time.perf_counter()
    if not streams_chunks(performer):
        perf = performer.perform(script, **options)
        n = len(perf.metadata.get("chunks", []))
        yield TakeProgress(perf.audio, None, n, n, time.perf_counter() - t0)
        yield TakeDone(perf)
        return
    run = performer._start(script, options)
    total = sum(1 for item in performer._plan(run) if isinstance(item, SpeechChunk))
    hold = bool(performer._needs_mix(run))  # the scene mix needs the whole voice track before any output
    pieces: list[np.ndarray] = []
    pending: list[np.ndarray] = []
    done = 0
    for piece in performer._render(run):
        pieces.append(piece.audio)
        pending.append(piece.audio)
        if piece.chunk is None:
            continue  # pauses and events travel with the next speech chunk: fewer, larger updates
        done += 1
        out = _join([]) if hold else _join(pending)
        pending = []
        yield TakeProgress(out, piece.chunk, done, total, time.perf_counter() - t0)
    audio, stems = performer._mix(run, _join(pieces))
    tail = audio if hold else _join(pending)
    if tail.size:
        yield TakeProgress(tail, None, done, total, time.perf_counter() - t0)
    metadata = performer._metadata(run, len(audio), t0)
    yield TakeDone(Performance(audio=audio, sample_rate=performer.sample_rate, metadata=metadata, stems=stems))


def _join(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros(0, np.float32)
