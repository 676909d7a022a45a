"""Connection hygiene for uvicorn's h11 protocol: header and body timeouts and a cap on open connections.

uvicorn (0.30–0.55) closes idle keep-alive connections (``timeout_keep_alive``) but has no limit on how long a
client may take to send a request's headers or body, so a client sending one byte every half second holds a
connection forever (3,000 such connections stayed open in a test). Its ``limit_concurrency`` answers a plain
text 503 only after a whole request has been read, which does not help against stalled clients. So the
runner uses this subclass of uvicorn's h11 protocol (``http=`` in uvicorn's Config):

* **header timeout** (``header_timeout_s``): a new connection must deliver a complete request head within this
  time, and so must each later request on a kept-alive connection from its first byte; otherwise ``408`` (if
  anything was sent) and the connection is closed. Idle time between requests is ``keep_alive_s``.
* **body timeout** (``body_timeout_s``): the body must arrive completely within this time after the head;
  otherwise ``408`` (unless a response has started) and the connection is closed; the app sees a disconnect.
* **connection cap** (``max_connections``): a connection beyond the cap gets a JSON ``503`` with
  ``Retry-After`` at once and is closed, before any request is read.
* **header size**: h11's incomplete-event limit (16 KiB) bounds a request head; larger ones get 400.

Behind a reverse proxy (nginx, Caddy, a cloud load balancer) the proxy usually applies its own client
timeouts; keep ours as they are (they then bound the proxy's upstream connections) and set the proxy's upstream
read timeout above ``job_timeout_s`` so long renders are not cut by the proxy. See README "Running the server".
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

from .errors import error_body

MAX_HEAD_BYTES = 16 * 1024


def _raw_response(status: int, reason: str, code: str, message: str, extra: str = "") -> bytes:
    body = json.dumps(error_body(code, message)).encode()
    head = (f"HTTP/1.1 {status} {reason}\r\ncontent-type: application/json\r\ncontent-length: {len(body)}\r\n"
            f"connection: close\r\n{extra}\r\n")
    return head.encode("latin-1") + body


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol plus header/body timeouts and a connection cap (class attributes set by
    :func:`guarded_protocol`)."""

    header_timeout_s: float = 10.0
    body_timeout_s: float = 60.0
    max_connections: int = 256
    on_refusal: Any = None  # callable(reason) for metrics

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_timer: asyncio.TimerHandle | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._head_bytes = False
        self._refused = False

    # ----------------------------------------------------------------------------------------- timers
    def _cancel(self, timer: asyncio.TimerHandle | None) -> None:
        if timer is not None:
            timer.cancel()

    def _arm_head_timer(self) -> None:
        self._cancel(self._head_timer)
        self._head_bytes = False
        self._head_timer = self.loop.call_later(self.header_timeout_s, self._head_timeout)

    def _waiting_for_head(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def _head_timeout(self) -> None:
        self._head_timer = None
        if self.transport.is_closing() or not self._waiting_for_head():
            return
        if self._head_bytes:
            self._refuse(408, "Request Timeout", "request_timeout",
                         f"the request headers did not arrive within {self.header_timeout_s:g} s", "timeout")
        else:  # an idle connection that never sent a request: just close it
            self.transport.close()

    def _body_timeout(self) -> None:
        self._body_timer = None
        cycle = self.cycle
        if self.transport.is_closing() or cycle is None or not cycle.more_body:
            return
        if not cycle.response_started:
            self.transport.write(_raw_response(408, "Request Timeout", "request_timeout",
                                               f"the request body did not arrive within {self.body_timeout_s:g} s"))
        if self.on_refusal is not None:
            self.on_refusal("timeout")
        cycle.disconnected = True
        cycle.message_event.set()
        self.transport.close()

    def _refuse(self, status: int, reason: str, code: str, message: str, why: str, extra: str = "") -> None:
        self._refused = True
        if self.on_refusal is not None:
            self.on_refusal(why)
        self.transport.write(_raw_response(status, reason, code, message, extra))
        self.transport.close()

    def _track(self, previous: Any) -> None:
        """After h11 events were handled: a new request head stops the head timer and starts the body timer;
        a complete body stops the body timer."""
        cycle = self.cycle
        if cycle is not None and cycle is not previous:
            self._cancel(self._head_timer)
            self._head_timer = None
            if cycle.more_body:
                self._cancel(self._body_timer)
                self._body_timer = self.loop.call_later(self.body_timeout_s, self._body_timeout)
        if cycle is not None and not cycle.more_body and self._body_timer is not None:
            self._cancel(self._body_timer)
            self._body_timer = None

    # ------------------------------------------------------------------------------------ protocol API
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.max_connections:
            self._refuse(503, "Service Unavailable", "too_many_connections",
                         f"the server has {self.max_connections} connections open; retry shortly", "connections",
                         "retry-after: 1\r\n")
            return
        self._arm_head_timer()

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        if self._waiting_for_head() and not self._head_bytes:
            self._arm_head_timer()  # the clock for this head starts at its first byte
            self._head_bytes = True
        previous = self.cycle
        super().data_received(data)
        self._track(previous)

    def on_response_complete(self) -> None:
        # Between requests an idle connection is uvicorn's keep-alive timer's business; the head clock of the
        # next request starts with its first byte (data_received).
        self._cancel(self._head_timer)
        self._head_timer = None
        self._head_bytes = False
        previous = self.cycle
        super().on_response_complete()
        self._track(previous)

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel(self._head_timer)
        self._cancel(self._body_timer)
        super().connection_lost(exc)


def guarded_protocol(header_timeout_s: float, body_timeout_s: float, max_connections: int,
                     on_refusal: Any = None) -> type[GuardedH11Protocol]:
    """A protocol class for uvicorn's ``http=`` with these limits."""
    return type("LimelightH11Protocol", (GuardedH11Protocol,), {
        "header_timeout_s": header_timeout_s, "body_timeout_s": body_timeout_s,
        "max_connections": max_connections, "on_refusal": staticmethod(on_refusal) if on_refusal else None})
