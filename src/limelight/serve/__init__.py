"""The HTTP front door: FastAPI app (`create_app`) and its uvicorn runner (`run_server`).

Endpoints and their contracts are in DESIGN.md §4; the OpenAPI description is served at ``/docs``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .settings import Settings

__all__ = ["Settings", "create_app", "run_server"]

if TYPE_CHECKING:  # pragma: no cover
    from fastapi import FastAPI


def create_app(settings: Settings | None = None, performer: Any = None) -> FastAPI:
    """Build the FastAPI app (see :func:`limelight.serve.app.create_app`)."""
    from .app import create_app as _create_app

    return _create_app(settings, performer)


def run_server(host: str | None = None, port: int | None = None, workers: int | None = None,
               settings: Settings | None = None, **options: Any) -> None:
    """Serve with uvicorn until interrupted (see :func:`limelight.serve.runner.run_server`)."""
    from .runner import run_server as _run_server

    _run_server(host, port, workers, settings=settings, **options)
