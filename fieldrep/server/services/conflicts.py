"""The conflict inbox: list conflict records in scope and resolve them field by field.

A resolution is an ordinary change: the chosen value goes through the same merge
as a pushed op (so field policies still hold), then the record is marked
resolved. Both changes are in the row's stream and in the audit trail.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldrep.server.core.db import Database
from fieldrep.server.core.errors import ApiError
from fieldrep.server.models import ServerRow
from fieldrep.server.services.merge import MergeContext, apply_op, stamp_resolution
from fieldrep.server.services.rowstore import ChangeWriter
from fieldrep.server.services.scope import Caller
from fieldrep.sync.protocol import (
    CONFLICT_TABLE,
    TABLES,
    ConflictKind,
    ConflictPage,
    ConflictRecord,
    ConflictStatus,
    PushOp,
    Reason,
    Resolution,
    ResolveRequest,
    ResolveResponse,
    WireValueError,
    normalise_value,
)


def to_record(row: ServerRow) -> ConflictRecord:
    values = row.values
    return ConflictRecord(
        id=row.id,
        territory_id=row.territory_id,
        row_version=row.row_version,
        table_name=values["table_name"],
        row_id=values["row_id"],
        field=values["field"],
        kind=values["kind"],
        base_known=values["base_known"],
        base=values.get("base"),
        mine=values.get("mine"),
        theirs=values.get("theirs"),
        base_version=values["base_version"],
        author_user_id=values["author_user_id"],
        device_id=values.get("device_id"),
        op_id=values.get("op_id"),
        theirs_user_id=values.get("theirs_user_id"),
        status=values["status"],
        resolution=values.get("resolution"),
        resolved_value=values.get("resolved_value"),
        resolved_by=values.get("resolved_by"),
        resolved_at=values.get("resolved_at"),
        created_at=values["created_at"],
    )


def list_conflicts(
    session: Session,
    caller: Caller,
    *,
    status: ConflictStatus | None,
    territory_id: str | None,
    table: str | None,
    row_id: str | None,
    after: str | None,
    limit: int,
) -> ConflictPage:
    """Conflict records in the caller's scope, oldest first, paged by id."""
    query = select(ServerRow).where(ServerRow.table_name == CONFLICT_TABLE)
    if caller.territories is not None:
        allowed = sorted(caller.territories)
        if territory_id is not None:
            allowed = [territory_id] if territory_id in caller.territories else []
        if not allowed:
            return ConflictPage(conflicts=[], next_after=None)
        query = query.where(ServerRow.territory_id.in_(allowed))
    elif territory_id is not None:
        query = query.where(ServerRow.territory_id == territory_id)
    if status is not None:
        query = query.where(ServerRow.values["status"].as_string() == status.value)
    if table is not None:
        query = query.where(ServerRow.values["table_name"].as_string() == table)
    if row_id is not None:
        query = query.where(ServerRow.values["row_id"].as_string() == row_id)
    if after is not None:
        query = query.where(ServerRow.id > after)
    rows = list(session.scalars(query.order_by(ServerRow.id).limit(limit + 1)))
    page = rows[:limit]
    next_after = page[-1].id if len(rows) > limit else None
    return ConflictPage(conflicts=[to_record(row) for row in page], next_after=next_after)


def resolve(
    database: Database, caller: Caller, conflict_id: str, request: ResolveRequest
) -> ResolveResponse:
    """Apply the chosen value (mine / another) or keep theirs, then mark the record resolved."""

    def work(session: Session) -> ResolveResponse:
        conflict = session.get(ServerRow, (CONFLICT_TABLE, conflict_id))
        if conflict is None or not caller.can_see(conflict.territory_id):
            raise ApiError(404, Reason.NOT_FOUND)
        writer = ChangeWriter(session, user_id=caller.user_id, device_id=caller.device_id)
        writer.lock_streams([conflict.territory_id])
        session.refresh(conflict)
        values = dict(conflict.values)
        table, row_id, name = values["table_name"], values["row_id"], values["field"]
        chosen: Any = None
        row_version: int | None = None
        if request.resolution in (Resolution.MINE, Resolution.VALUE):
            if values["kind"] == ConflictKind.APPEND_ONLY.value:
                raise ApiError(409, Reason.APPEND_ONLY, field=name)
            chosen = values.get("mine") if request.resolution is Resolution.MINE else request.value
            try:
                chosen = normalise_value(TABLES[table].fields[name], chosen)
            except WireValueError as error:
                raise ApiError(422, Reason.INVALID_VALUE, field=name, detail=error) from error
            row_version = _apply_choice(session, caller, writer, table, row_id, name, chosen)
        changes: dict[str, tuple[Any, Any]] = {}
        for key, new in (
            ("status", ConflictStatus.RESOLVED.value),
            ("resolution", request.resolution.value),
            ("resolved_value", chosen),
        ):
            changes[key] = (values.get(key), new)
            values[key] = new
        stamp_resolution(values, changes, caller.user_id, writer.now)
        writer.stamp(values)
        conflict.values = values
        writer.record(conflict, "update", changes)
        return ResolveResponse(conflict=to_record(conflict), row_version=row_version)

    return database.write(work)


def _apply_choice(
    session: Session,
    caller: Caller,
    writer: ChangeWriter,
    table: str,
    row_id: str,
    name: str,
    value: Any,
) -> int | None:
    target = session.get(ServerRow, (table, row_id), populate_existing=True)
    if target is None:
        raise ApiError(404, Reason.NOT_FOUND)
    op = PushOp(
        op_id=uuid.uuid4(),
        table=table,
        row_id=row_id,
        kind="restore" if target.deleted else "upsert",
        fields={name: value},
        base={name: target.values.get(name)},
        base_version=target.row_version,
    )
    context = MergeContext(session, caller, writer, {(table, row_id): target})
    result = apply_op(context, op)
    if result.status == "rejected":
        status = 403 if result.reason is Reason.MANAGER_ONLY else 409
        raise ApiError(status, result.reason or Reason.FORBIDDEN, field=name)
    return result.row_version
