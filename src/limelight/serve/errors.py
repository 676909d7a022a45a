"""The one error shape every endpoint returns, and the handlers that guarantee it.

Clients get ``{"status": "failed", "error": {"code", "message", "field", "type", "param"}}`` with a 4xx for
anything they can fix. The ``error`` object is also OpenAI's error shape (``message``, ``type``, ``param``,
``code``; ``param`` repeats ``field``), so OpenAI SDKs raise their usual exceptions with our message.
Pydantic's 422 list is folded into that shape (first problem, with its field path); malformed JSON
is a 400; an uncaught exception is still answered in the same shape with a 500 — and is a bug to fix.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import compile_path

from ..errors import LimelightError, ModelFileError, ScriptError
from ..limits import JobCancelled

log = logging.getLogger("limelight.serve")
_HTTP_METHODS = frozenset({"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"})


class ApiError(Exception):
    """An HTTP-level refusal (auth, size, busy, not found) with its status and optional headers."""

    def __init__(self, status: int, code: str, message: str, field: str | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.field = field
        self.headers = dict(headers or {})


def error_type(status: int) -> str:
    """OpenAI's ``error.type`` for an HTTP status."""
    if status == 401:
        return "authentication_error"
    if status == 429:
        return "rate_limit_error"
    return "server_error" if status >= 500 else "invalid_request_error"


def error_body(code: str, message: str, field: str | None = None, status: int = 400) -> dict[str, Any]:
    return {"status": "failed", "error": {"code": code, "message": message, "field": field,
                                          "type": error_type(status), "param": field}}


def error_response(status: int, code: str, message: str, field: str | None = None,
                   headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse(error_body(code, message, field, status), status_code=status, headers=dict(headers or {}))


def limelight_status(exc: LimelightError) -> int:
    """User errors are 422 (the request was well-formed but cannot be performed); a missing model is 503."""
    if isinstance(exc, ModelFileError):
        return 503
    return getattr(exc, "http_status", 422)


def limelight_response(exc: LimelightError) -> JSONResponse:
    field = exc.field
    if isinstance(exc, ScriptError) and field is None:
        field = "prompt"
    return error_response(limelight_status(exc), exc.code, str(exc), field)


def _field_path(loc: tuple[Any, ...]) -> str | None:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header", "form")]
    return ".".join(parts) or None


def _validation_response(request: Request, exc: RequestValidationError) -> JSONResponse:
    errors = list(exc.errors())
    first = errors[0] if errors else {"type": "invalid", "loc": ("body",), "msg": "invalid request"}
    loc = tuple(first.get("loc", ()))
    kind = str(first.get("type", ""))
    if kind == "json_invalid":
        detail = (first.get("ctx") or {}).get("error", "")
        return error_response(400, "invalid_json", f"request body is not valid JSON: {detail}".rstrip(": "))
    content_type = request.headers.get("content-type", "")
    if loc == ("body",) and isinstance(first.get("input"), (bytes, bytearray)):
        if "json" not in content_type:
            return error_response(415, "unsupported_media_type",
                                  "send the request body as JSON with Content-Type: application/json")
        return error_response(400, "invalid_json", "request body must be a JSON object")
    if loc == ("body",) and kind == "missing":
        return error_response(400, "invalid_json", "request body is missing; send a JSON object")
    if loc == ("body",) and kind in ("model_attributes_type", "dict_type"):
        return error_response(400, "invalid_json", "request body must be a JSON object")
    field = _field_path(loc)
    message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
    if kind == "missing":
        message = f"{field} is required"
    elif kind == "extra_forbidden":
        message = f"unknown field {field!r}"
    elif field and not message.startswith(field.split(".")[0]):
        message = f"{field}: {message}"
    more = len(errors) - 1
    if more > 0:
        message += f" (and {more} more problem{'s' if more > 1 else ''})"
    return error_response(422, "validation_error", message, field)


def _allowed_methods(request: Request) -> list[str]:
    """Every method the API serves at this path, from the OpenAPI description. Starlette's own ``Allow`` names
    only the first route that matched the path, which is wrong when one path has several routes (``GET`` and
    ``POST /voices``); the schema is the one place that lists them all, whatever the router's internals."""
    methods: set[str] = set()
    for template, operations in request.app.openapi().get("paths", {}).items():
        regex, _, _ = compile_path(template)
        if regex.match(request.url.path):
            methods |= {m.upper() for m in operations if m.upper() in _HTTP_METHODS}
    if "GET" in methods:
        methods.add("HEAD")  # served for every GET (limelight.serve.observe.RequestContext)
    return sorted(methods)


def install_error_handlers(app: FastAPI) -> None:
    """Route every failure through :func:`error_response` so clients parse one shape."""

    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return error_response(exc.status, exc.code, exc.message, exc.field, exc.headers)

    @app.exception_handler(LimelightError)
    async def _user_error(request: Request, exc: LimelightError) -> JSONResponse:
        return limelight_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        return _validation_response(request, exc)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        codes = {404: "not_found", 405: "method_not_allowed", 413: "payload_too_large", 401: "unauthorized"}
        message = exc.detail if isinstance(exc.detail, str) else "request refused"
        if exc.status_code == 404 and message == "Not Found":
            message = f"no endpoint at {request.url.path}"
        headers = dict(getattr(exc, "headers", None) or {})
        if exc.status_code == 405:
            message = f"{request.method} is not allowed on {request.url.path}"
            headers["Allow"] = ", ".join(_allowed_methods(request))
        return error_response(exc.status_code, codes.get(exc.status_code, "http_error"), message, headers=headers)

    @app.exception_handler(JobCancelled)
    async def _cancelled(request: Request, exc: JobCancelled) -> JSONResponse:
        if exc.reason == "shutting_down":
            return error_response(503, "shutting_down", "server is shutting down; retry shortly",
                                  headers={"Retry-After": "10"})
        log.info("job cancelled: %s", exc.reason, extra={"event": "cancelled", "reason": exc.reason})
        return error_response(499, "client_closed_request", "the client closed the connection before the answer")

    @app.exception_handler(Exception)
    async def _bug(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        return error_response(500, "internal_error", f"internal error ({type(exc).__name__}); this is a bug in "
                              "limelight, please report it")
