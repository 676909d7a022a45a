"""`create_app`: the FastAPI application with its gates, routes and error handlers wired together."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from .. import __version__
from ..perform import Performer
from .docs import install_docs, offline_assets
from .errors import install_error_handlers
from .middleware import ApiKeyAuth, BodySizeLimit, DrainGate
from .observe import RequestContext
from .routes import generate, health, speech, voices
from .settings import Settings
from .state import ServerState

DESCRIPTION = """Expressive speech from directed scripts, offline.

* `POST /generate` — the seed's contract: `<speak>` markup or plain text in; base64 WAV and a report out.
* `POST /v1/audio/speech` — OpenAI-compatible; point an OpenAI client's `base_url` at `/v1`.
* `GET /voices`, `POST /voices`, `DELETE /voices/{name}` — voices (saving needs the voice library).
* `GET /health` (liveness), `GET /ready` (readiness; 503 while starting or draining), `GET /metrics`
  (Prometheus). `HEAD` works wherever `GET` does; every response carries `X-Request-ID`.

Errors are always `{"status": "failed", "error": {"code", "message", "field", "type", "param"}}` with a 4xx
status (the `error` object is OpenAI's shape too). `GET /v1/models` lists the OpenAI model names accepted.
A busy server answers 429 with `Retry-After` at once; it never holds a request it cannot serve.
"""


def create_app(settings: Settings | None = None, performer: Performer | None = None) -> FastAPI:
    """Build the app. ``performer`` (a loaded `limelight.Performer`) is shared by all workers; without one,
    the app loads it at startup from ``settings.engine``."""
    settings = settings or Settings.from_env()
    state = ServerState(settings, performer)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        state.start()
        try:
            yield
        finally:
            state.close()

    offline = offline_assets() is not None
    app = FastAPI(title="limelight", version=__version__, description=DESCRIPTION, lifespan=lifespan,
                  docs_url=None if offline else "/docs", redoc_url=None if offline else "/redoc")
    install_docs(app, "limelight")
    app.state.limelight = state
    install_error_handlers(app)
    app.include_router(generate.router)
    app.include_router(speech.router)
    app.include_router(voices.router)
    if voices.library_available():
        app.include_router(voices.library_router)
    app.include_router(health.router)
    # Added innermost first. A request passes: RequestContext (request id, HEAD, access log, metrics), the drain
    # gate, the size cap, then authentication — all before any body is read.
    app.add_middleware(ApiKeyAuth, keys=settings.api_keys, private_docs=settings.private_docs)
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(DrainGate, is_draining=lambda: state.draining)
    app.add_middleware(RequestContext, metrics=state.metrics)
    return app
