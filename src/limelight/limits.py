"""Limits a front door can put on one performance: output length, wall time, and cancellation.

A performance runs on a worker thread that cannot be killed from outside, so limits are cooperative: the
performer calls :func:`checkpoint` after every rendered piece (a speech chunk, a pause, an event), and the
limits of the job running on *this thread* are checked there. Without active limits (the CLI, the Python API)
a checkpoint does nothing. The server sets them per job (:func:`active`) so that

* a script whose audio would exceed ``max_audio_s`` stops at the first piece past it (`OutputTooLong`, 413)
  instead of filling memory with hours of silence,
* a job running past its ``timeout_s`` stops (`JobTimeLimit`, 422), and
* a job whose client went away, or that the server drains at shutdown, stops (`JobCancelled`).

The granularity is one piece (a chunk is at most ~15 s of audio), which bounds both the overshoot and the
time a cancelled job keeps its worker.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from .errors import LimelightError


class OutputTooLong(LimelightError):
    """The performance would be longer than the configured cap on audio per request."""

    code = "output_too_long"
    http_status = 413


class JobTimeLimit(LimelightError):
    """The performance took longer than the configured time limit per job."""

    code = "job_time_limit"
    http_status = 422


class JobCancelled(Exception):
    """The job was stopped from outside: ``reason`` is ``client_disconnected`` or ``shutting_down``.

    Not a `LimelightError`: nothing is wrong with the input, and nobody may be listening for the answer.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(f"job cancelled: {reason}")
        self.reason = reason


@dataclass
class JobLimits:
    """The limits of one job. ``cancel`` may be called from any thread; the job stops at its next checkpoint."""

    max_audio_s: float | None = None
    timeout_s: float | None = None
    started: float | None = None  # time.monotonic() when the job began running (set by `active`)
    _reason: str | None = field(default=None, repr=False)
    _event: threading.Event = field(default_factory=threading.Event, repr=False)

    def cancel(self, reason: str) -> None:
        if self._reason is None:
            self._reason = reason
        self._event.set()

    @property
    def cancelled(self) -> str | None:
        """The reason the job was cancelled, or None."""
        return self._reason if self._event.is_set() else None

    def elapsed_s(self) -> float:
        return 0.0 if self.started is None else time.monotonic() - self.started

    def check(self, audio_s: float = 0.0) -> None:
        reason = self.cancelled
        if reason is not None:
            raise JobCancelled(reason)
        if self.max_audio_s is not None and audio_s > self.max_audio_s:
            raise OutputTooLong(f"the performance is longer than this server's limit of {self.max_audio_s:g} s of "
                                "audio per request (max_audio_s); split the script into shorter requests",
                                field="prompt")
        if self.timeout_s is not None and self.elapsed_s() > self.timeout_s:
            raise JobTimeLimit(f"the performance took longer than this server's limit of {self.timeout_s:g} s per "
                               "job (job_timeout_s); split the script into shorter requests", field="prompt")


_local = threading.local()


@contextmanager
def active(limits: JobLimits) -> Iterator[JobLimits]:
    """Apply ``limits`` to performances run on this thread inside the block (the clock starts now)."""
    previous = getattr(_local, "limits", None)
    limits.started = time.monotonic()
    _local.limits = limits
    try:
        limits.check()
        yield limits
    finally:
        _local.limits = previous


def current() -> JobLimits | None:
    return getattr(_local, "limits", None)


def checkpoint(audio_s: float = 0.0) -> None:
    """Called by the performer after each piece with the audio rendered so far; raises if a limit is hit."""
    limits = getattr(_local, "limits", None)
    if limits is not None:
        limits.check(audio_s)
