"""One take: a script performed chunk by chunk, with progress and audio as each chunk finishes.

The studio needs three things at once: audio as it is made, the per-chunk report and stems, and a count for
the progress bar. `Performer.pieces` gives all three (a `Take` knows its plan before rendering, yields a
`ChunkReport` per piece, and mixes and reports at the end), so a take is synthesized once.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..options import PerformOptions
from ..perform import Performance, Performer


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


def run_take(performer: Performer, script: str, options: PerformOptions | None = None,
             **kw: Any) -> Iterator[TakeProgress | TakeDone]:
    """Perform ``script``; yield a TakeProgress per finished speech chunk, then one TakeDone.

    Options are `Performer.perform`'s. User errors (LimelightError) are raised before any audio is made when
    the script or an option is invalid, since `Performer.pieces` parses and validates everything first.
    """
    t0 = time.perf_counter()
    take = performer.pieces(script, options, **kw)
    hold = take.needs_mix  # the scene mix needs the whole voice track before any output
    pieces: list[np.ndarray] = []
    pending: list[np.ndarray] = []
    done = 0
    for piece in take:
        pieces.append(piece.audio)
        pending.append(piece.audio)
        if piece.kind != "speech":
            continue  # pauses and events travel with the next speech chunk: fewer, larger updates
        done += 1
        out = _join([]) if hold else _join(pending)
        pending = []
        yield TakeProgress(out, piece.as_dict(), done, take.speech_total, time.perf_counter() - t0)
    perf = take.finish(_join(pieces))
    tail = perf.audio if hold else _join(pending)
    if tail.size:
        yield TakeProgress(tail, None, done, take.speech_total, time.perf_counter() - t0)
    yield TakeDone(perf)


def _join(parts: list[np.ndarray]) -> np.ndarray:
    return np.concatenate(parts).astype(np.float32, copy=False) if parts else np.zeros(0, np.float32)
