"""Two gates every request passes before any route code runs: the body-size cap and the API-key check.

Both are plain ASGI middleware so they act before FastAPI reads or parses the body: an oversized upload is
refused from its ``Content-Length`` (or, for chunked uploads, as soon as the running total crosses the cap)
without buffering it, and an unauthenticated request never reaches a worker.
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Iterable

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .errors import error_body

# Paths that stay reachable without a key: liveness and readiness checks always; the API description and the
# metrics unless the operator makes them private (``private_docs``).
PROBE_PATHS = frozenset({"/health", "/ready"})
DOC_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc", "/openapi.json", "/metrics"})
PUBLIC_PATHS = PROBE_PATHS | DOC_PATHS
PUBLIC_PREFIXES = ("/docs-static/",)


async def _send_error(send: Send, status: int, code: str, message: str, field: str | None = None,
                      headers: Iterable[tuple[bytes, bytes]] = ()) -> None:
    body = json.dumps(error_body(code, message, field, status)).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode()),
                            *headers]})
    await send({"type": "http.response.body", "body": body})


class BodySizeLimit:
    """Refuse request bodies larger than ``max_bytes`` with 413, before they are buffered."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        message = f"request body is larger than {limit / (1024 * 1024):g} MB"
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    declared = int(value)
                except ValueError:
                    await _send_error(send, 400, "invalid_request", "Content-Length is not a number")
                    return
                if declared > limit:
                    await _send_error(send, 413, "payload_too_large", message)
                    return
        seen = 0

        async def counted_receive() -> Message:
            # A chunked upload has no Content-Length: count as it arrives. FastAPI re-raises an HTTPException
            # raised while it reads the body, so this becomes the same 413 JSON through the error handlers.
            nonlocal seen
            msg = await receive()
            if msg["type"] == "http.request":
                seen += len(msg.get("body", b""))
                if seen > limit:
                    raise HTTPException(413, message)
            return msg

        await self.app(scope, counted_receive, send)


class ApiKeyAuth:
    """With keys configured, require ``Authorization: Bearer KEY`` or ``X-API-Key: KEY`` (401 otherwise)."""

    def __init__(self, app: ASGIApp, keys: Iterable[str], private_docs: bool = False) -> None:
        self.app = app
        self.keys = tuple(k.encode() for k in keys)
        self.public = PROBE_PATHS if private_docs else PUBLIC_PATHS
        self.prefixes = () if private_docs else PUBLIC_PREFIXES

    def _valid(self, presented: bytes) -> bool:
        # compare against every key without stopping early, in constant time per key
        ok = False
        for key in self.keys:
            ok |= hmac.compare_digest(presented, key)
        return ok

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if scope["type"] != "http" or not self.keys or path in self.public or (self.prefixes and
                                                                              path.startswith(self.prefixes)):
            await self.app(scope, receive, send)
            return
        presented: bytes | None = None
        for name, value in scope.get("headers", []):
            if name == b"authorization" and value[:7].lower() == b"bearer ":
                presented = value[7:].strip()
            elif name == b"x-api-key" and presented is None:
                presented = value.strip()
        if presented and self._valid(presented):
            await self.app(scope, receive, send)
            return
        why = "missing API key" if not presented else "invalid API key"
        await _send_error(send, 401, "unauthorized", f"{why}: send Authorization: Bearer KEY or X-API-Key: KEY",
                          headers=[(b"www-authenticate", b'Bearer realm="limelight"')])


class DrainGate:
    """While the server drains for shutdown, new requests get a JSON 503 with ``Retry-After`` (probes and
    metrics still answer, so a load balancer sees ``/ready`` turn false)."""

    def __init__(self, app: ASGIApp, is_draining: Callable[[], bool], retry_after_s: int = 10) -> None:
        self.app = app
        self.is_draining = is_draining
        self.retry_after = str(retry_after_s).encode()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.is_draining() and scope.get("path") not in PUBLIC_PATHS:
            await _send_error(send, 503, "shutting_down", "server is shutting down; retry shortly (another "
                              "instance may answer)", headers=[(b"retry-after", self.retry_after),
                                                               (b"connection", b"close")])
            return
        await self.app(scope, receive, send)
