"""GET /v1/audit: every accepted change, for managers and admins, within their scope."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from fieldrep.server.api.deps import CallerDep, SessionDep, require_manager
from fieldrep.server.api.routes.errors import error_responses
from fieldrep.server.core.errors import ApiError
from fieldrep.server.models import AuditEntry as AuditRow
from fieldrep.server.models import User
from fieldrep.server.services.scope import SYSTEM_USER_ID, SYSTEM_USERNAME
from fieldrep.sync.protocol import (
    AUDIT_MAX_ROW_IDS,
    AuditEntry,
    AuditPage,
    FieldChange,
    Reason,
    WireValueError,
    format_datetime,
    parse_datetime,
)

router = APIRouter(prefix="/audit", tags=["audit"])


def _instant(name: str, text: str | None) -> str | None:
    if text is None:
        return None
    try:
        return format_datetime(parse_datetime(text))
    except WireValueError as error:
        raise ApiError(422, Reason.INVALID_VALUE, field=name, detail=error) from error


@router.get("", response_model=AuditPage, responses=error_responses(401, 403))
def list_audit(
    caller: CallerDep,
    session: SessionDep,
    territory_id: Annotated[str | None, Query(max_length=36)] = None,
    table: Annotated[str | None, Query(max_length=64)] = None,
    row_id: Annotated[
        list[str] | None,
        Query(
            max_length=AUDIT_MAX_ROW_IDS,
            description="Rows to list (repeat for several: a record and its child rows)",
        ),
    ] = None,
    user_id: Annotated[str | None, Query(max_length=36)] = None,
    device_id: Annotated[str | None, Query(max_length=64)] = None,
    since: Annotated[str | None, Query(max_length=40, description="ISO 8601 instant")] = None,
    until: Annotated[str | None, Query(max_length=40, description="ISO 8601 instant")] = None,
    after: Annotated[int | None, Query(ge=0, le=2**62)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    """Who changed what, when, on which device: each field old -> new, oldest first."""
    require_manager(caller)
    query = select(AuditRow)
    if caller.territories is not None:
        allowed = sorted(caller.territories)
        if territory_id is not None:
            allowed = [territory_id] if territory_id in caller.territories else []
        if not allowed:
            return AuditPage(entries=[], next_after=None)
        query = query.where(AuditRow.territory_id.in_(allowed))
    elif territory_id is not None:
        query = query.where(AuditRow.territory_id == territory_id)
    if table is not None:
        query = query.where(AuditRow.table_name == table)
    if row_id:
        query = query.where(AuditRow.row_id.in_(row_id))
    if user_id is not None:
        query = query.where(AuditRow.user_id == user_id)
    if device_id is not None:
        query = query.where(AuditRow.device_id == device_id)
    since_text, until_text = _instant("since", since), _instant("until", until)
    if since_text is not None:
        query = query.where(AuditRow.at >= since_text)
    if until_text is not None:
        query = query.where(AuditRow.at < until_text)
    if after is not None:
        query = query.where(AuditRow.id > after)
    rows = list(session.scalars(query.order_by(AuditRow.id).limit(limit + 1)))
    page = rows[:limit]
    names = {SYSTEM_USER_ID: SYSTEM_USERNAME}
    user_ids = sorted({row.user_id for row in page} - set(names))
    if user_ids:
        named = select(User.id, User.username).where(User.id.in_(user_ids))
        for found_id, username in session.execute(named):
            names[found_id] = username
    entries = [
        AuditEntry(
            id=row.id,
            at=row.at,
            user_id=row.user_id,
            username=names.get(row.user_id, row.user_id),
            device_id=row.device_id,
            territory_id=row.territory_id,
            table=row.table_name,
            row_id=row.row_id,
            action=row.action,
            row_version=row.row_version,
            change_no=row.change_no,
            changes={name: FieldChange(**change) for name, change in row.changes.items()},
        )
        for row in page
    ]
    return AuditPage(entries=entries, next_after=page[-1].id if len(rows) > limit else None)
