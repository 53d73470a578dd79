"""GET /health: the server and its database answer."""

from __future__ import annotations

from fastapi import APIRouter

from fieldrep.server.api.deps import StateDep
from fieldrep.server.api.routes.errors import error_responses
from fieldrep.server.core.db import ping
from fieldrep.server.services.rowstore import current_epoch
from fieldrep.sync.protocol import HealthResponse

router = APIRouter(tags=["health"])


@router.get("/health", response_model=HealthResponse, responses=error_responses())
def health(state: StateDep) -> HealthResponse:
    """Liveness and database reachability (503 when the database does not answer)."""
    ping(state.database)
    with state.database.read() as session:
        epoch = current_epoch(session)
    return HealthResponse(status="ok", database="ok", epoch=epoch)
