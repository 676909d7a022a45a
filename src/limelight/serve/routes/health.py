"""``GET /health``: liveness and load, cheap enough for a load balancer to poll (never queued, no auth)."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ... import __version__
from ..schemas import Health
from ..state import ServerState, server_state
from ..voices import library_class

router = APIRouter(tags=["server"])


@router.get("/health", response_model=Health, summary="Liveness, engine and queue state")
async def health(state: ServerState = Depends(server_state)) -> Health:
    stats = state.pool.stats()
    return Health(version=__version__, engine=str(state.performer.engine.name), sample_rate=state.sample_rate,
                  workers=stats.workers, queue_depth=stats.queue_depth, in_flight=stats.in_flight,
                  completed=stats.completed, rejected=stats.rejected, auth=bool(state.settings.api_keys),
                  voice_library=library_class() is not None)
