"""Observability: a request id on every response and log line, structured JSON logs, Prometheus metrics.

* Request id: a client's ``X-Request-ID`` is kept when it is a plain token (letters, digits, ``._-``, ≤ 128),
  otherwise one is made; it is sent back on every response and carried by a context variable into every log
  line of that request — on worker threads too (the pool copies the context into the job).
* Logs: one JSON object per line (``ts``, ``level``, ``logger``, ``message``, ``request_id`` and any extra
  fields); the access line has method, path (never the query string: keys must not land in logs), status,
  milliseconds and bytes. ``log_format=text`` gives the same as plain lines.
* Metrics (``GET /metrics``, Prometheus text format), one registry per app: requests by route template, method
  and status; request seconds by route; rejections by reason; job seconds; audio seconds produced; and, read
  at scrape time, queue depth, running jobs, open connections and whether the server is draining.
"""

from __future__ import annotations

import json
import logging
import re
import time
import uuid
from collections.abc import Iterable
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any

from prometheus_client import CollectorRegistry, Counter, Histogram
from prometheus_client.core import GaugeMetricFamily
from starlette.types import ASGIApp, Message, Receive, Scope, Send

if TYPE_CHECKING:  # pragma: no cover
    from .state import ServerState

request_id_var: ContextVar[str] = ContextVar("limelight_request_id", default="-")
_GOOD_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
access_log = logging.getLogger("limelight.access")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
REJECTIONS = {401: "unauthorized", 408: "timeout", 413: "too_large", 429: "busy", 503: "unavailable"}


def request_id(headers: Iterable[tuple[bytes, bytes]]) -> str:
    for name, value in headers:
        if name == b"x-request-id":
            text = value.decode("latin-1")
            if _GOOD_ID.fullmatch(text):
                return text
    return uuid.uuid4().hex


# -------------------------------------------------------------------------------------------------- logs
class RequestIdFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = request_id_var.get()
        return True


_STANDARD = set(logging.LogRecord("", 0, "", 0, "", None, None).__dict__) | {"message", "asctime", "request_id",
                                                                              "color_message"}


class JsonFormatter(logging.Formatter):
    """One JSON object per line; extra fields passed with ``extra={...}`` become keys."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage(),
            "request_id": getattr(record, "request_id", request_id_var.get()),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                out[key] = value if isinstance(value, (str, int, float, bool, type(None))) else str(value)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


def configure_logging(fmt: str = "json", level: str = "info") -> None:
    """Route limelight's and uvicorn's loggers to stderr in ``fmt`` (json or text), each line with its request id."""
    handler = logging.StreamHandler()
    handler.addFilter(RequestIdFilter())
    if fmt == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s [%(request_id)s] %(message)s"))
    numeric = logging.getLevelName(level.upper())
    for name in ("limelight", "uvicorn", "uvicorn.error"):
        logger = logging.getLogger(name)
        logger.handlers = [handler]
        logger.setLevel(numeric if isinstance(numeric, int) else logging.INFO)
        logger.propagate = False
    logging.getLogger("uvicorn.access").handlers = []  # our access line replaces it (it logs query strings)
    logging.getLogger("uvicorn.access").propagate = False


# ----------------------------------------------------------------------------------------------- metrics
class Metrics:
    """The app's Prometheus metrics (its own registry, so several apps in one process do not collide)."""

    def __init__(self, state: ServerState | None = None) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter("limelight_requests", "HTTP requests answered", ["route", "method", "status"],
                                registry=self.registry)
        self.latency = Histogram("limelight_request_seconds", "Time to answer a request (to the last byte)",
                                 ["route"], registry=self.registry,
                                 buckets=(0.005, 0.025, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300))
        self.rejections = Counter("limelight_rejections", "Requests refused before or instead of work",
                                  ["reason"], registry=self.registry)
        self.job_seconds = Histogram("limelight_job_seconds", "Worker time per synthesis job",
                                     registry=self.registry, buckets=(0.1, 0.5, 1, 2, 5, 10, 20, 60, 120, 300))
        self.audio_seconds = Counter("limelight_audio_seconds", "Seconds of audio produced", ["route"],
                                     registry=self.registry)
        self.cancelled = Counter("limelight_jobs_cancelled", "Jobs stopped before their end", ["reason"],
                                 registry=self.registry)
        if state is not None:
            self.registry.register(_StateCollector(state))

    def reject(self, reason: str) -> None:
        self.rejections.labels(reason=reason).inc()


class _StateCollector:
    """Gauges read from the server state when Prometheus scrapes."""

    def __init__(self, state: ServerState) -> None:
        self.state = state

    def describe(self) -> list[Any]:
        return []

    def collect(self) -> Iterable[Any]:
        stats = self.state.pool.stats()
        for name, text, value in (
                ("limelight_queue_depth", "Jobs admitted and waiting for a worker", stats.queued),
                ("limelight_jobs_running", "Jobs running on workers", stats.running),
                ("limelight_workers", "Synthesis worker threads", stats.workers),
                ("limelight_queue_capacity", "Jobs that may wait for a worker", stats.queue_depth),
                ("limelight_draining", "1 while the server drains for shutdown", int(self.state.draining))):
            yield GaugeMetricFamily(name, text, value=value)


# ------------------------------------------------------------------------------------------- middleware
class RequestContext:
    """Outermost ASGI middleware: request id, HEAD as GET without a body, access log, request metrics."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope.get("headers", []))
        token = request_id_var.set(rid)
        head = scope["method"] == "HEAD"
        if head:  # every GET is also a HEAD: same status and headers, no body
            scope["method"] = "GET"
        t0 = time.perf_counter()
        status = 0
        sent = 0

        async def wrapped_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = int(message["status"])
                message = {**message, "headers": [*message.get("headers", []), (b"x-request-id", rid.encode())]}
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
                if head:
                    message = {**message, "body": b""}
            await send(message)

        try:
            await self.app(scope, receive, wrapped_send)
        finally:
            seconds = time.perf_counter() - t0
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            shown = status or 499  # no response started: the client went away (nginx's 499)
            label = ("HEAD" if head else scope["method"]) if scope["method"] in _METHODS else "other"  # bounded labels
            self.metrics.requests.labels(route=route, method=label,
                                         status=str(shown)).inc()
            self.metrics.latency.labels(route=route).observe(seconds)
            if shown in REJECTIONS:
                self.metrics.reject(REJECTIONS[shown])
            method = "HEAD" if head else scope["method"]
            access_log.info("%s %s %s", method, scope.get("path", ""), shown,
                            extra={"request_id": rid, "method": method, "path": scope.get("path", ""),
                                   "status": shown, "ms": round(seconds * 1000, 1), "bytes": sent,
                                   "client": (scope.get("client") or ("-",))[0]})
            request_id_var.reset(token)
