"""POST /v1/sync/push: frozen, idempotent batches applied in one transaction."""

from __future__ import annotations

import hashlib
from collections import defaultdict
from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldrep.server.core.db import Database
from fieldrep.server.core.errors import ApiError
from fieldrep.server.models import PushBatch, ServerRow
from fieldrep.server.services.merge import MergeContext, RowKey, apply_batch, referenced_keys
from fieldrep.server.services.rowstore import ChangeWriter, current_epoch
from fieldrep.server.services.scope import Caller
from fieldrep.sync.protocol import SCOPE_FIELD, PushOp, PushRequest, PushResponse, Reason

_CHUNK = 500


def _chunks(items: Sequence[str], size: int = _CHUNK) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def request_hash(request: PushRequest) -> str:
    """A digest of what the batch is: a batch id may only ever carry these ops.

    Ops are named by id, kind and row (op ids are never reused), which catches a
    batch id sent with other ops without serialising every value.
    """
    digest = hashlib.sha256()
    for op in request.ops:
        digest.update(f"{op.op_id}|{op.kind}|{op.table}|{op.row_id}\n".encode())
    return digest.hexdigest()


def _keys_by_table(ops: Sequence[PushOp]) -> dict[str, list[str]]:
    keys: dict[str, set[str]] = defaultdict(set)
    for op in ops:
        keys[op.table].add(op.row_id)
    return {table: sorted(ids) for table, ids in keys.items()}


def _territories_of_existing(session: Session, keys: dict[str, list[str]]) -> set[str]:
    found: set[str] = set()
    for table, ids in keys.items():
        for chunk in _chunks(ids):
            query = select(ServerRow.territory_id).where(
                ServerRow.table_name == table, ServerRow.id.in_(chunk)
            )
            found.update(session.scalars(query))
    return found


def _load_rows(session: Session, keys: dict[str, list[str]]) -> dict[RowKey, ServerRow]:
    rows: dict[RowKey, ServerRow] = {}
    for table, ids in keys.items():
        for chunk in _chunks(ids):
            query = (
                select(ServerRow)
                .where(ServerRow.table_name == table, ServerRow.id.in_(chunk))
                .execution_options(populate_existing=True)
            )
            for row in session.scalars(query):
                rows[(row.table_name, row.id)] = row
    return rows


def _insert_territories(ops: Sequence[PushOp]) -> set[str]:
    found: set[str] = set()
    for op in ops:
        value: Any = op.fields.get(SCOPE_FIELD)
        if isinstance(value, str):
            found.add(value)
    return found


def push(database: Database, caller: Caller, request: PushRequest) -> PushResponse:
    """Apply a batch, or answer a repeat of it with the stored response."""
    if request.device_id != caller.device_id:
        raise ApiError(403, Reason.WRONG_DEVICE)
    digest = request_hash(request)
    batch_id = str(request.batch_id)

    def work(session: Session) -> PushResponse:
        stored = session.get(PushBatch, (request.device_id, batch_id))
        if stored is not None:
            if stored.request_hash != digest or stored.response is None:
                raise ApiError(409, Reason.BATCH_MISMATCH)
            return PushResponse.model_validate(stored.response)
        writer = ChangeWriter(session, user_id=caller.user_id, device_id=caller.device_id)
        # Claim the batch first: a duplicate racing in waits on this key, fails,
        # is retried and then finds the stored response.
        batch = PushBatch(
            device_id=request.device_id,
            batch_id=batch_id,
            user_id=caller.user_id,
            request_hash=digest,
            response=None,
            created_at=writer.now,
        )
        session.add(batch)
        session.flush()
        keys = _keys_by_table(request.ops)
        touched = _territories_of_existing(session, keys) | _insert_territories(request.ops)
        # Lock before reading rows: rows are only changed under their stream's lock,
        # so what we read next stays current until commit.
        writer.lock_streams(caller.visible(touched))
        # The rows the ops refer to are read too (their territory and tombstone are
        # checked); a parent of another territory is not locked: only its
        # territory is used, and a row's territory never changes.
        wanted = _keys_by_table(request.ops)
        for table, row_id in referenced_keys(request.ops):
            wanted.setdefault(table, []).append(row_id)
        context = MergeContext(session, caller, writer, _load_rows(session, wanted))
        results = apply_batch(context, request.ops)
        response = PushResponse(
            batch_id=request.batch_id, epoch=current_epoch(session), results=results
        )
        batch.response = response.model_dump(mode="json")
        return response

    return database.write(work)
