"""What one server process holds: settings, the performer (models loaded once), the worker pool, the fetcher.

Routes get it from ``request.app.state.limelight``. The performer is loaded at startup (lifespan) so the
first request does not pay for it; if an app is used without its lifespan (a bare test client), it is loaded
on first use instead, once, under a lock. Performers are cached per engine, so several apps in one process
(tests, or an app mounted twice) share one set of models.
"""

from __future__ import annotations

import threading
from functools import lru_cache

from fastapi import Request

from ..perform import Performer
from .pool import WorkerPool
from .reference import FetchPolicy, ReferenceFetcher
from .settings import Settings


class ServerState:
    def __init__(self, settings: Settings, performer: Performer | None = None) -> None:
        self.settings = settings
        self._performer = performer
        self._lock = threading.Lock()
        self._runs = 0
        self.pool = WorkerPool(settings.workers, settings.queue_depth)
        self.fetcher = ReferenceFetcher(FetchPolicy(
            allow=settings.reference_allow, max_bytes=settings.reference_max_bytes,
            timeout_s=settings.reference_timeout_s, max_redirects=settings.reference_max_redirects,
            min_s=settings.reference_min_s, max_s=settings.reference_max_s))

    @property
    def performer(self) -> Performer:
        with self._lock:
            if self._performer is None:
                self._performer = shared_performer(self.settings.engine)
            return self._performer

    @property
    def sample_rate(self) -> int:
        return int(self.performer.sample_rate)

    def start(self) -> None:
        """Called at each lifespan startup. An app may be started again after a shutdown, or run by two
        servers at once (test clients do both), so the pool is counted: the last shutdown closes it."""
        with self._lock:
            if self.pool.closed:
                self.pool = WorkerPool(self.settings.workers, self.settings.queue_depth)
            self._runs += 1
        _ = self.performer  # load models once, before the first request

    def close(self) -> None:
        with self._lock:
            self._runs = max(self._runs - 1, 0)
            if self._runs == 0:
                self.pool.shutdown()


@lru_cache(maxsize=4)
def shared_performer(engine: str) -> Performer:
    """One `Performer` per engine per process: apps built in the same process share the loaded models."""
    return Performer(engine=engine)


def server_state(request: Request) -> ServerState:
    return request.app.state.limelight
