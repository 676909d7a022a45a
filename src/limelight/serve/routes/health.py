"""Probes and metrics, cheap enough for a load balancer or Prometheus to poll (never queued, no auth by default).

``GET /health`` is liveness: the process answers (200 while it runs, draining included). ``GET /ready`` is
readiness: 200 when the models are loaded and the server takes work, 503 while it starts or drains, so a load
balancer stops sending requests before the process goes away. ``GET /metrics`` is Prometheus' text format.
``HEAD`` works wherever ``GET`` does.
"""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ... import __version__
from ..schemas import Health, Readiness
from ..state import ServerState, server_state
from ..voices import library_class

router = APIRouter(tags=["server"])


@router.get("/health", response_model=Health, summary="Liveness, engine and queue state")
async def health(state: ServerState = Depends(server_state)) -> Health:
    stats = state.pool.stats()
    return Health(version=__version__, engine=str(state.performer.engine.name), sample_rate=state.sample_rate,
                  workers=stats.workers, queue_depth=stats.queue_depth, in_flight=stats.in_flight,
                  completed=stats.completed, rejected=stats.rejected, auth=bool(state.settings.api_keys),
                  voice_library=library_class() is not None, draining=state.draining)


@router.get("/ready", response_model=Readiness, responses={503: {"model": Readiness, "description": "Not ready"}},
            summary="Readiness: 200 when taking work, 503 while starting or draining")
async def ready(state: ServerState = Depends(server_state)) -> JSONResponse:
    ok = state.ready
    reason = None if ok else ("draining" if state.draining else "starting")
    body = Readiness(ready=ok, reason=reason).model_dump()
    return JSONResponse(body, status_code=200 if ok else 503, headers={} if ok else {"Retry-After": "10"})


@router.get("/metrics", summary="Prometheus metrics", response_class=Response,
            responses={200: {"content": {"text/plain": {}}, "description": "Prometheus text format"}})
async def metrics(state: ServerState = Depends(server_state)) -> Response:
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
