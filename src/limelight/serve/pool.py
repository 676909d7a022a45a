"""A bounded pool of synthesis threads: N workers, a queue of bounded depth, and a fast 429 when full.

Synthesis is CPU-bound and blocking, so it runs on worker threads, never on the event loop (the loop keeps
answering health checks and refusals while workers are busy). Admission is decided at once, without waiting:
a request either gets a slot (running or queued) or is refused with ``Retry-After`` — a client is never left
hanging on a full server. A slot is released when the *job* ends, so an abandoned request cannot let more jobs
in than the pool can hold; but a job whose client has gone is cancelled (a queued one at once, a running one at
its next checkpoint, see `limelight.limits`), so it does not hold its worker to the end either.

Draining (SIGTERM): `begin_drain` refuses new work (503), cancels queued jobs (their requests answer 503 with
``Retry-After``) and lets running ones finish; `cancel_running` stops those that are still going at the
deadline.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import math
import threading
import time
from collections import deque
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from ..limits import JobCancelled, JobLimits, active
from .errors import ApiError

T = TypeVar("T")

_DONE = object()
PRIOR_JOB_S = 2.0  # typical job length before the first job has been timed
SHUTDOWN_RETRY_S = 10


@dataclass(frozen=True)
class PoolStats:
    workers: int
    queue_depth: int
    in_flight: int
    completed: int
    rejected: int
    mean_job_s: float
    running: int = 0
    queued: int = 0
    cancelled: int = 0


class WorkerPool:
    """Runs blocking jobs on ``workers`` threads with at most ``queue_depth`` more waiting."""

    def __init__(self, workers: int, queue_depth: int, on_job_done: Callable[[float], None] | None = None,
                 on_cancelled: Callable[[str], None] | None = None) -> None:
        self.workers = workers
        self.queue_depth = queue_depth
        self.capacity = workers + queue_depth
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="limelight-synth")
        self._lock = threading.Lock()
        self._in_flight = 0
        self._completed = 0
        self._rejected = 0
        self._cancelled = 0
        self._durations: deque[float] = deque(maxlen=50)
        self._jobs: dict[Future[Any], tuple[JobLimits, list[float]]] = {}  # admitted job → limits, start time
        self._on_job_done = on_job_done
        self._on_cancelled = on_cancelled
        self._closed = False
        self._draining = False

    # ------------------------------------------------------------------------------------------ state
    def stats(self) -> PoolStats:
        with self._lock:
            running = sum(1 for _, started in self._jobs.values() if started)
            mean = sum(self._durations) / len(self._durations) if self._durations else PRIOR_JOB_S
            return PoolStats(self.workers, self.queue_depth, self._in_flight, self._completed, self._rejected,
                             round(mean, 3), running, len(self._jobs) - running, self._cancelled)

    @property
    def draining(self) -> bool:
        return self._draining

    def typical_job_s(self) -> float:
        """The 75th percentile of recent job durations: most jobs are done by then."""
        with self._lock:
            return self._typical_locked()

    def _typical_locked(self) -> float:
        if not self._durations:
            return PRIOR_JOB_S
        ordered = sorted(self._durations)
        return ordered[min(len(ordered) - 1, int(0.75 * len(ordered)))]

    def retry_after_s(self, now: float | None = None) -> int:
        """Seconds until a request sent now would start: the rest of each running job plus every queued job
        (each a typical job), shared by the workers. Honest about long jobs: a queue of 8 six-second jobs on
        one worker says about 50 s, not the mean of one job."""
        now = time.perf_counter() if now is None else now
        with self._lock:
            typical = self._typical_locked()
            work = 0.0
            for _, started in self._jobs.values():
                if started:
                    work += max(typical - (now - started[0]), 0.25 * typical)
                else:
                    work += typical
        return int(min(max(math.ceil(work / self.workers), 1), 600))

    # -------------------------------------------------------------------------------------- admission
    def _admit(self) -> None:
        if self._draining or self._closed:
            raise shutting_down()
        with self._lock:
            if self._in_flight < self.capacity:
                self._in_flight += 1
                return
            self._rejected += 1
        wait = self.retry_after_s()
        raise ApiError(429, "busy", f"server is busy ({self.workers} worker(s) and {self.queue_depth} queued "
                       f"request(s) in use); retry in about {wait} s", headers={"Retry-After": str(wait)})

    def _release(self, future: Future[Any] | None, started: list[float]) -> None:
        elapsed = time.perf_counter() - started[0] if started else None
        stopped = future is not None and (future.cancelled() or isinstance(future.exception(), JobCancelled))
        with self._lock:
            self._in_flight -= 1
            self._cancelled += int(stopped)
            limits = self._jobs.pop(future, (None, None))[0] if future is not None else None
            if elapsed is not None:
                self._completed += 1
                self._durations.append(elapsed)
        if elapsed is not None and self._on_job_done is not None:
            self._on_job_done(elapsed)
        if stopped and self._on_cancelled is not None:
            self._on_cancelled((limits.cancelled if limits is not None else None) or "cancelled")

    def _submit(self, fn: Callable[[], Any], limits: JobLimits) -> Future[Any]:
        started: list[float] = []
        context = contextvars.copy_context()  # the request id (and other context) follows the job to its thread

        def job() -> Any:
            started.append(time.perf_counter())
            with active(limits):  # raises JobCancelled at once if it was cancelled while queued
                return context.run(fn)

        try:
            future = self._executor.submit(job)
        except RuntimeError:  # executor shut down: the server is stopping
            self._release(None, [])
            raise shutting_down() from None
        with self._lock:
            self._jobs[future] = (limits, started)
        future.add_done_callback(lambda f: self._release(f, started))
        return future

    # ------------------------------------------------------------------------------------------ running
    async def run(self, fn: Callable[..., T], *args: Any, limits: JobLimits | None = None,
                  disconnected: Callable[[], Awaitable[Any]] | None = None, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` on a worker; raises `ApiError` 429 at once when the pool is full.

        ``disconnected`` (an awaitable factory that returns when the client has gone) lets the job be cancelled
        when nobody is waiting for it any more: `JobCancelled` is raised here and the job stops.
        """
        self._admit()
        limits = limits or JobLimits()
        future = self._submit(lambda: fn(*args, **kwargs), limits)
        waiter = asyncio.wrap_future(future)
        gone: asyncio.Future[Any] | None = asyncio.ensure_future(disconnected()) if disconnected else None
        try:
            done, _ = await asyncio.wait({waiter, gone} if gone else {waiter},
                                         return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:  # the request task itself was cancelled (server stopping)
            limits.cancel("shutting_down")
            future.cancel()
            raise
        finally:
            if gone is not None:
                gone.cancel()
        if waiter not in done:
            limits.cancel("client_disconnected")
            future.cancel()  # frees a queued slot now; a running job stops at its next checkpoint
            waiter.cancel()  # nobody will read its outcome (and asyncio must not warn about it)
            raise JobCancelled("client_disconnected")
        if waiter.cancelled():  # cancelled while queued by `begin_drain`
            raise shutting_down()
        try:
            return waiter.result()
        except JobCancelled as exc:
            if exc.reason == "shutting_down":
                raise shutting_down() from None
            raise

    async def first(self, stream: AsyncIterator[T], disconnected: Callable[[], Awaitable[Any]] | None) -> T | None:
        """The first item of a `stream` (None if it is empty), or `JobCancelled` if the client leaves first:
        a streamed response starts only with its first audio, and nothing notices a hang-up before that."""
        item = asyncio.ensure_future(stream.__anext__())  # type: ignore[arg-type]
        gone = asyncio.ensure_future(disconnected()) if disconnected else None
        try:
            done, _ = await asyncio.wait({item, gone} if gone else {item}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if gone is not None:
                gone.cancel()
        if item not in done:
            item.cancel()  # the stream's own cleanup cancels its job
            with contextlib.suppress(BaseException):
                await item
            raise JobCancelled("client_disconnected")
        try:
            return item.result()
        except StopAsyncIteration:
            return None

    async def stream(self, make: Callable[[], Iterator[T]], limits: JobLimits | None = None) -> AsyncIterator[T]:
        """Iterate ``make()`` on one worker, handing items to the event loop as they are produced.

        Admission happens when the first item is requested. If the consumer stops early (client gone), the
        job is cancelled: it stops at its next checkpoint and the slot is freed when it returns.
        """
        self._admit()
        limits = limits or JobLimits()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()

        def put(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop closed under us (server stopping): nobody is listening
                limits.cancel("shutting_down")

        def produce() -> None:
            for item in make():  # an exception ends the job; `ended` hands it to the consumer
                if limits.cancelled:
                    raise JobCancelled(limits.cancelled)
                put(item)

        future = self._submit(produce, limits)

        def ended(f: Future[Any]) -> None:  # also when the job never ran (cancelled while queued) or was refused
            if not f.cancelled() and f.exception() is not None:
                put(_Failure(f.exception()))  # type: ignore[arg-type]
            put(_DONE)

        future.add_done_callback(ended)
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    if future.cancelled():
                        raise shutting_down()
                    return
                if isinstance(item, _Failure):
                    raise item.exc
                yield item
        finally:
            limits.cancel("client_disconnected")  # no-op when the job has already ended
            future.cancel()

    # ---------------------------------------------------------------------------------------- draining
    def begin_drain(self) -> int:
        """Refuse new work and cancel every queued job (their requests answer 503); returns how many."""
        self._draining = True
        cancelled = 0
        with self._lock:
            jobs = list(self._jobs.items())
        for future, (limits, _) in jobs:
            if future.cancel():
                limits.cancel("shutting_down")
                cancelled += 1
        return cancelled

    def cancel_running(self, reason: str = "shutting_down") -> int:
        """Stop every running job at its next checkpoint; returns how many were asked to stop."""
        with self._lock:
            jobs = list(self._jobs.values())
        for limits, _ in jobs:
            limits.cancel(reason)
        return len(jobs)

    @property
    def closed(self) -> bool:
        return self._closed

    def shutdown(self) -> None:
        self._closed = True
        self.cancel_running()
        self._executor.shutdown(wait=False, cancel_futures=True)


def shutting_down() -> ApiError:
    return ApiError(503, "shutting_down", "server is shutting down; retry shortly (another instance may answer)",
                    headers={"Retry-After": str(SHUTDOWN_RETRY_S)})


@dataclass(frozen=True)
class _Failure:
    exc: BaseException
