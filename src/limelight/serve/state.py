"""What one server process holds: settings, the performer (models loaded once), the worker pool, the fetcher.

Routes get it from ``request.app.state.limelight``. The performer is loaded at startup (lifespan) so the
first request does not pay for it; if an app is used without its lifespan (a bare test client), it is loaded
on first use instead, once, under a lock. Performers are cached per engine, so several apps in one process
(tests, or an app mounted twice) share one set of models.
"""

from __future__ import annotations

import logging
import threading
from functools import lru_cache

from fastapi import Request

from ..limits import JobLimits
from ..perform import Performer
from .observe import Metrics
from .pool import WorkerPool
from .reference import FetchPolicy, ReferenceFetcher
from .settings import Settings

log = logging.getLogger("limelight.serve")


class ServerState:
    def __init__(self, settings: Settings, performer: Performer | None = None) -> None:
        self.settings = settings
        self._performer = performer
        self._lock = threading.Lock()
        self._runs = 0
        self._saving: set[str] = set()  # voice names being saved now (one save per name at a time)
        self.metrics = Metrics(self)
        self.draining = False
        self.pool = self._new_pool()
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

    def _new_pool(self) -> WorkerPool:
        return WorkerPool(self.settings.workers, self.settings.queue_depth,
                          on_job_done=self.metrics.job_seconds.observe,
                          on_cancelled=lambda reason: self.metrics.cancelled.labels(reason=reason).inc())

    def job_limits(self) -> JobLimits:
        """The limits every synthesis job runs under (output seconds, time); cancellable per request."""
        return JobLimits(max_audio_s=self.settings.max_audio_s, timeout_s=self.settings.job_timeout_s)

    @property
    def ready(self) -> bool:
        return self._performer is not None and not self.draining and not self.pool.closed

    def begin_drain(self) -> None:
        """SIGTERM: refuse new work, answer queued requests 503 now, and stop jobs still running shortly before
        the server's own shutdown deadline (``drain_timeout_s``), so each ends with an answer, not a cut."""
        if self.draining:
            return
        self.draining = True
        queued = self.pool.begin_drain()
        stats = self.pool.stats()
        log.info("draining: %d queued job(s) refused, %d running job(s) get up to %g s", queued, stats.running,
                 self.settings.drain_timeout_s, extra={"event": "drain"})
        grace = max(self.settings.drain_timeout_s - 2.0, 0.5)
        timer = threading.Timer(grace, self.pool.cancel_running, args=("shutting_down",))
        timer.daemon = True
        timer.start()

    def reserve_voice_name(self, name: str) -> bool:
        """Claim ``name`` for one save; False if another request is saving it now."""
        with self._lock:
            if name in self._saving:
                return False
            self._saving.add(name)
            return True

    def release_voice_name(self, name: str) -> None:
        with self._lock:
            self._saving.discard(name)

    def start(self) -> None:
        """Called at each lifespan startup. An app may be started again after a shutdown, or run by two
        servers at once (test clients do both), so the pool is counted: the last shutdown closes it."""
        with self._lock:
            if self.pool.closed:
                self.pool = self._new_pool()
                self.draining = False
            self._runs += 1
        _ = self.performer  # load models once, before the first request
        clean_library_temps()

    def close(self) -> None:
        with self._lock:
            self._runs = max(self._runs - 1, 0)
            if self._runs == 0:
                self.pool.shutdown()


def clean_library_temps() -> None:
    """Remove temp files left by voice saves that were killed (none are being written: their locks are free)."""
    from .voices import library_class

    cls = library_class()
    if cls is None:
        return
    try:
        removed = cls().clean_stale_temps()
    except OSError:
        log.exception("could not clean the voice library's temp files")
        return
    if removed:
        log.info("removed %d stale temp file(s) from the voice library", len(removed))


@lru_cache(maxsize=4)
def shared_performer(engine: str) -> Performer:
    """One `Performer` per engine per process: apps built in the same process share the loaded models."""
    return Performer(engine=engine)


def server_state(request: Request) -> ServerState:
    return request.app.state.limelight
