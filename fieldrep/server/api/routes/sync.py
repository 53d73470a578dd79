"""/v1/sync: meta, push and pull (SYNC.md "Protocol")."""

from __future__ import annotations

from fastapi import APIRouter, Response

from fieldrep.server.api.deps import CallerDep, OptionalProtocolDep, ProtocolDep, StateDep
from fieldrep.server.api.routes.errors import error_responses
from fieldrep.server.core.security import now_text
from fieldrep.server.services import pull as pull_service
from fieldrep.server.services import push as push_service
from fieldrep.server.services.rowstore import current_epoch
from fieldrep.sync.protocol import (
    PROTOCOL_MAX,
    PROTOCOL_MIN,
    SCHEMA_VERSION,
    SERVER_FEATURES,
    TABLE_ORDER,
    MetaResponse,
    PullRequest,
    PullResponse,
    PushRequest,
    PushResponse,
)

router = APIRouter(prefix="/sync", tags=["sync"])


@router.get("/meta", response_model=MetaResponse, responses=error_responses(426))
def sync_meta(state: StateDep, _protocol: OptionalProtocolDep) -> MetaResponse:
    """Server epoch, protocol range and schema version; no sign-in needed."""
    with state.database.read() as session:
        epoch = current_epoch(session)
    return MetaResponse(
        epoch=epoch,
        protocol_min=PROTOCOL_MIN,
        protocol_max=PROTOCOL_MAX,
        schema_version=SCHEMA_VERSION,
        server_time=now_text(),
        tables=list(TABLE_ORDER),
        features=list(SERVER_FEATURES),
    )


@router.post("/push", response_model=PushResponse, responses=error_responses(401, 403, 409, 426))
def sync_push(
    request: PushRequest, _protocol: ProtocolDep, caller: CallerDep, state: StateDep
) -> PushResponse:
    """Apply a frozen batch of ops; a repeated batch gets the stored response."""
    return push_service.push(state.database, caller, request)


@router.post("/pull", response_model=PullResponse, responses=error_responses(400, 401, 410, 426))
def sync_pull(
    request: PullRequest, _protocol: ProtocolDep, caller: CallerDep, state: StateDep
) -> Response:
    """A page of changes in server order with the new cursors (410: resync needed)."""
    page = pull_service.pull(state.database, caller, request)
    # Stored row JSON goes out as it is (see PullPage); its shape is PullResponse.
    return Response(content=page.to_json(), media_type="application/json")
