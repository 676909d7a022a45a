"""A bounded pool of synthesis threads: N workers, a queue of bounded depth, and a fast 429 when full.

Synthesis is CPU-bound and blocking, so it runs on worker threads, never on the event loop (the loop keeps
answering health checks and refusals while workers are busy). Admission is decided at once, without waiting:
a request either gets a slot (running or queued) or is refused with ``Retry-After`` — a client is never left
hanging on a full server. A slot is released when the *job* ends, not when the client goes away, so an
abandoned request cannot let more jobs in than the pool can hold.
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar

from .errors import ApiError

T = TypeVar("T")

_DONE = object()


@dataclass(frozen=True)
class PoolStats:
    workers: int
    queue_depth: int
    in_flight: int
    completed: int
    rejected: int
    mean_job_s: float


class WorkerPool:
    """Runs blocking jobs on ``workers`` threads with at most ``queue_depth`` more waiting."""

    def __init__(self, workers: int, queue_depth: int) -> None:
        self.workers = workers
        self.queue_depth = queue_depth
        self.capacity = workers + queue_depth
        self._executor = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="limelight-synth")
        self._lock = threading.Lock()
        self._in_flight = 0
        self._completed = 0
        self._rejected = 0
        self._mean_s = 2.0  # prior for Retry-After before the first job has been timed
        self._closed = False

    def stats(self) -> PoolStats:
        with self._lock:
            return PoolStats(self.workers, self.queue_depth, self._in_flight, self._completed, self._rejected,
                             round(self._mean_s, 3))

    def retry_after_s(self) -> int:
        """Seconds until a slot is likely free: queued work ahead divided by the workers, from the mean job."""
        with self._lock:
            ahead = max(self._in_flight - self.workers + 1, 1)
            return int(min(max(math.ceil(self._mean_s * ahead / self.workers), 1), 600))

    def _admit(self) -> None:
        with self._lock:
            if self._in_flight < self.capacity:
                self._in_flight += 1
                return
            self._rejected += 1
        wait = self.retry_after_s()
        raise ApiError(429, "busy", f"server is busy ({self.workers} worker(s) and {self.queue_depth} queued "
                       f"request(s) in use); retry in about {wait} s", headers={"Retry-After": str(wait)})

    def _release(self, started: float | None) -> None:
        with self._lock:
            self._in_flight -= 1
            if started is not None:
                self._completed += 1
                self._mean_s = 0.8 * self._mean_s + 0.2 * (time.perf_counter() - started)

    def _submit(self, fn: Callable[[], Any]) -> Future[Any]:
        started: list[float] = []

        def job() -> Any:
            started.append(time.perf_counter())
            return fn()

        try:
            future = self._executor.submit(job)
        except RuntimeError:  # executor shut down: the server is stopping
            self._release(None)
            raise ApiError(503, "shutting_down", "server is shutting down") from None
        future.add_done_callback(lambda _f: self._release(started[0] if started else None))
        return future

    async def run(self, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        """Run ``fn(*args, **kwargs)`` on a worker; raises `ApiError` 429 at once when the pool is full."""
        self._admit()
        return await asyncio.wrap_future(self._submit(lambda: fn(*args, **kwargs)))

    async def stream(self, make: Callable[[], Iterator[T]]) -> AsyncIterator[T]:
        """Iterate ``make()`` on one worker, handing items to the event loop as they are produced.

        Admission happens when the first item is requested. If the consumer stops early (client gone), the
        worker stops before producing the next item and the slot is freed when it returns.
        """
        self._admit()
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Any] = asyncio.Queue()
        stop = threading.Event()

        def put(item: Any) -> None:
            try:
                loop.call_soon_threadsafe(queue.put_nowait, item)
            except RuntimeError:  # the loop closed under us (server stopping): nobody is listening
                stop.set()

        def produce() -> None:
            try:
                for item in make():
                    if stop.is_set():
                        return
                    put(item)
            except BaseException as exc:  # handed to the consumer, which re-raises it
                put(_Failure(exc))
            finally:
                put(_DONE)

        self._submit(produce)
        try:
            while True:
                item = await queue.get()
                if item is _DONE:
                    return
                if isinstance(item, _Failure):
                    raise item.exc
                yield item
        finally:
            stop.set()

    @property
    def closed(self) -> bool:
        return self._closed

    def shutdown(self) -> None:
        self._closed = True
        self._executor.shutdown(wait=False, cancel_futures=True)


@dataclass(frozen=True)
class _Failure:
    exc: BaseException
