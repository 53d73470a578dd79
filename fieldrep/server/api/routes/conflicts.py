"""The conflict inbox of reps and managers."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from fieldrep.server.api.deps import CallerDep, SessionDep, StateDep
from fieldrep.server.api.routes.errors import error_responses
from fieldrep.server.services import conflicts as conflict_service
from fieldrep.sync.protocol import (
    ConflictPage,
    ConflictStatus,
    ResolveRequest,
    ResolveResponse,
)

router = APIRouter(prefix="/conflicts", tags=["conflicts"])


@router.get("", response_model=ConflictPage, responses=error_responses(401))
def list_conflicts(
    caller: CallerDep,
    session: SessionDep,
    status: ConflictStatus | None = None,
    territory_id: Annotated[str | None, Query(max_length=36)] = None,
    table: Annotated[str | None, Query(max_length=64)] = None,
    row_id: Annotated[str | None, Query(max_length=36)] = None,
    after: Annotated[str | None, Query(max_length=36)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> ConflictPage:
    """Conflict records in the caller's scope; filter by status, territory, row."""
    return conflict_service.list_conflicts(
        session,
        caller,
        status=status,
        territory_id=territory_id,
        table=table,
        row_id=row_id,
        after=after,
        limit=limit,
    )


@router.post(
    "/{conflict_id}/resolve",
    response_model=ResolveResponse,
    responses=error_responses(401, 403, 404, 409),
)
def resolve_conflict(
    conflict_id: Annotated[str, Path(max_length=36)],
    request: ResolveRequest,
    caller: CallerDep,
    state: StateDep,
) -> ResolveResponse:
    """Resolve one field: keep theirs, apply mine, or apply another value."""
    return conflict_service.resolve(state.database, caller, conflict_id, request)
