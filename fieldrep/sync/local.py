"""The client's sync bookkeeping in the local database: state, cursors, outbox.

Every function takes a SQLAlchemy :class:`Connection` inside the caller's
transaction and never commits: the engine decides what is written together
(e.g. a pulled page and its cursor).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, bindparam, text

from fieldrep.storage.types import new_id, utcnow
from fieldrep.sync.protocol import TABLES

# Keys of sync_state.
DEVICE_ID = "device_id"
SERVER_URL = "server_url"
USER_NAME = "user_name"
USER_ID = "user_id"
SERVER_EPOCH = "server_epoch"
LAST_SYNC = "last_sync"
LAST_SYNC_RUN = "last_sync_run"


def get_state(connection: Connection, key: str) -> str | None:
    """One value of sync_state, or None."""
    value = connection.execute(
        text("SELECT value FROM sync_state WHERE key = :k"), {"k": key}
    ).scalar()
    return None if value is None else str(value)


def set_state(connection: Connection, key: str, value: str | None) -> None:
    """Set (or with None remove) one value of sync_state."""
    if value is None:
        connection.execute(text("DELETE FROM sync_state WHERE key = :k"), {"k": key})
    else:
        connection.execute(
            text(
                "INSERT INTO sync_state (key, value) VALUES (:k, :v) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
            ),
            {"k": key, "v": value},
        )


def device_id(connection: Connection) -> str:
    """This database's device id, made on first use and never changed."""
    found = get_state(connection, DEVICE_ID)
    if found is None:
        found = new_id()
        set_state(connection, DEVICE_ID, found)
    return found


def cursors(connection: Connection) -> dict[str, str]:
    """The pull cursor of every stream."""
    rows = connection.execute(text("SELECT stream, cursor FROM sync_cursor")).all()
    return {str(stream): str(cursor) for stream, cursor in rows}


def set_cursors(connection: Connection, values: dict[str, str]) -> None:
    for stream, cursor in values.items():
        connection.execute(
            text(
                "INSERT INTO sync_cursor (stream, cursor) VALUES (:s, :c) "
                "ON CONFLICT (stream) DO UPDATE SET cursor = excluded.cursor"
            ),
            {"s": stream, "c": cursor},
        )


def clear_cursors(connection: Connection) -> None:
    connection.exec_driver_sql("DELETE FROM sync_cursor")


@dataclass(frozen=True)
class OutboxOp:
    """One captured change as stored in the outbox."""

    seq: int
    op_id: str
    table: str
    row_id: str
    kind: str
    created: bool
    fields: dict[str, Any]
    base: dict[str, Any]
    base_version: int
    batch_id: str | None
    state: str
    reason: str | None
    created_at: str


_OP_COLUMNS = (
    "seq, op_id, table_name, row_id, kind, created, fields, base, base_version, "
    "batch_id, state, reason, created_at"
)


def _op(row: Sequence[Any]) -> OutboxOp:
    return OutboxOp(
        seq=int(row[0]),
        op_id=str(row[1]),
        table=str(row[2]),
        row_id=str(row[3]),
        kind=str(row[4]),
        created=bool(row[5]),
        fields=json.loads(row[6]),
        base=json.loads(row[7]),
        base_version=int(row[8]),
        batch_id=row[9],
        state=str(row[10]),
        reason=row[11],
        created_at=str(row[12]),
    )


def frozen_batch(connection: Connection) -> tuple[str, list[OutboxOp]] | None:
    """The batch that was frozen (and maybe sent) but not yet answered, if any."""
    batch_id = connection.execute(
        text(
            "SELECT batch_id FROM outbox WHERE batch_id IS NOT NULL AND state = 'pending' "
            "ORDER BY seq LIMIT 1"
        )
    ).scalar()
    if batch_id is None:
        return None
    return str(batch_id), batch_ops(connection, str(batch_id))


def frozen_batch_count(connection: Connection) -> int:
    """How many frozen batches wait to be sent (or answered)."""
    return int(
        connection.exec_driver_sql(
            "SELECT count(DISTINCT batch_id) FROM outbox "
            "WHERE batch_id IS NOT NULL AND state = 'pending'"
        ).scalar_one()
    )


def batch_ops(connection: Connection, batch_id: str) -> list[OutboxOp]:
    rows = connection.execute(
        text(
            f"SELECT {_OP_COLUMNS} FROM outbox WHERE batch_id = :b AND state = 'pending' "
            "ORDER BY seq"
        ),
        {"b": batch_id},
    ).all()
    return [_op(row) for row in rows]


def freeze_batch(connection: Connection, limit: int) -> tuple[str, list[OutboxOp]] | None:
    """Freeze up to ``limit`` open ops into a new batch; None when nothing is open.

    From here on those ops never change: a retry resends exactly this batch.
    """
    seqs = (
        connection.execute(
            text(
                "SELECT seq FROM outbox WHERE batch_id IS NULL AND state = 'pending' "
                "ORDER BY seq LIMIT :n"
            ),
            {"n": limit},
        )
        .scalars()
        .all()
    )
    if not seqs:
        return None
    seqs = _with_parent_creations(connection, list(seqs))
    batch_id = new_batch(connection)
    move_to_batch(connection, [str(seq) for seq in seqs], batch_id, by="seq")
    return batch_id, batch_ops(connection, batch_id)


def _with_parent_creations(connection: Connection, seqs: list[int]) -> list[int]:
    """These open ops plus the open creations of the rows they refer to, transitively.

    Edits coalesce into a row's first op, so an op can name a row created after
    it; were that creation left to a later batch, the server would refuse the
    reference (missing_parent). The server orders a batch's ops itself, so the
    creation only has to be in the same batch, which may grow past its limit.
    """
    chosen = set(seqs)
    frontier = list(seqs)
    fields_of = text("SELECT table_name, fields FROM outbox WHERE seq IN :s").bindparams(
        bindparam("s", expanding=True)
    )
    creations = text(
        "SELECT seq FROM outbox WHERE batch_id IS NULL AND state = 'pending' AND created = 1 "
        "AND table_name = :t AND row_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    while frontier:
        parents: dict[str, set[str]] = {}
        for start in range(0, len(frontier), 400):
            chunk = frontier[start : start + 400]
            for table, raw in connection.execute(fields_of, {"s": chunk}):
                spec = TABLES.get(str(table))
                if spec is None or not spec.references:
                    continue
                fields = json.loads(raw)
                for name, parent in spec.references.items():
                    if isinstance(fields.get(name), str):
                        parents.setdefault(parent, set()).add(fields[name])
        found: set[int] = set()
        for parent, ids in parents.items():
            ordered = sorted(ids)
            for start in range(0, len(ordered), 400):
                chunk_ids = ordered[start : start + 400]
                rows = connection.execute(creations, {"t": parent, "ids": chunk_ids})
                found.update(int(seq) for seq in rows.scalars())
        frontier = sorted(found - chosen)
        chosen.update(frontier)
    return sorted(chosen)


def new_batch(connection: Connection) -> str:
    """Register a new (empty) frozen batch and return its id."""
    batch_id = new_id()
    connection.execute(
        text("INSERT INTO sync_batch (batch_id, created_at) VALUES (:b, :t)"),
        {"b": batch_id, "t": utcnow().isoformat()},
    )
    return batch_id


def move_to_batch(
    connection: Connection, keys: Sequence[str], batch_id: str, *, by: str = "op_id"
) -> None:
    """Freeze ops (by op_id, or by seq) into ``batch_id``."""
    column = "seq" if by == "seq" else "op_id"
    values: list[Any] = [int(key) for key in keys] if by == "seq" else list(keys)
    connection.execute(
        text(f"UPDATE outbox SET batch_id = :b WHERE {column} IN :keys").bindparams(
            bindparam("keys", expanding=True)
        ),
        {"b": batch_id, "keys": values},
    )


def note_attempt(connection: Connection, batch_id: str) -> None:
    connection.execute(
        text("UPDATE sync_batch SET attempts = attempts + 1 WHERE batch_id = :b"), {"b": batch_id}
    )


def acknowledge(connection: Connection, op_ids: Iterable[str]) -> None:
    """The server accepted these ops (applied or merged): they leave the outbox."""
    ids = list(op_ids)
    if ids:
        connection.execute(
            text("DELETE FROM outbox WHERE op_id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        )


def reject(connection: Connection, op_id: str, reason: str) -> None:
    """The server refused this op: it stays visible with the reason, never resent."""
    connection.execute(
        text("UPDATE outbox SET state = 'rejected', reason = :r WHERE op_id = :o"),
        {"r": reason, "o": op_id},
    )


def keep_refused(connection: Connection, op: OutboxOp, field_name: str, reason: str) -> None:
    """Keep one refused field of an accepted op visible as a rejected op of its own."""
    connection.execute(
        text(
            "INSERT INTO outbox (op_id, table_name, row_id, kind, created, fields, base, "
            "base_version, batch_id, state, reason, created_at) VALUES (:o, :t, :r, 'upsert', 0, "
            ":f, :b, :v, :batch, 'rejected', :reason, :c)"
        ),
        {
            "o": new_id(),
            "t": op.table,
            "r": op.row_id,
            "f": json.dumps({field_name: op.fields.get(field_name)}, ensure_ascii=False),
            "b": json.dumps(
                {field_name: op.base[field_name]} if field_name in op.base else {},
                ensure_ascii=False,
            ),
            "v": op.base_version,
            "batch": op.batch_id,
            "reason": reason,
            "c": op.created_at,
        },
    )


def finish_batch(connection: Connection, batch_id: str) -> None:
    connection.execute(text("DELETE FROM sync_batch WHERE batch_id = :b"), {"b": batch_id})


def pending_fields(
    connection: Connection, table: str, row_ids: Sequence[str]
) -> dict[str, set[str]]:
    """Fields of these rows that have a pending op (frozen or open): a pull keeps them."""
    result: dict[str, set[str]] = {}
    if not row_ids:
        return result
    statement = text(
        "SELECT row_id, fields, kind FROM outbox WHERE table_name = :t AND state = 'pending' "
        "AND row_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    for row_id, fields, kind in connection.execute(statement, {"t": table, "ids": list(row_ids)}):
        names = result.setdefault(str(row_id), set())
        names.update(json.loads(fields))
        if kind == "delete":
            names.update(("deleted", "deleted_at"))
    return result


def pending_count(connection: Connection) -> int:
    """How many changes wait to be pushed (rejected ones are not counted)."""
    return int(
        connection.exec_driver_sql(
            "SELECT count(*) FROM outbox WHERE state = 'pending'"
        ).scalar_one()
    )


def rejected_count(connection: Connection) -> int:
    """How many refused changes are still kept for the rep to see."""
    return int(
        connection.exec_driver_sql(
            "SELECT count(*) FROM outbox WHERE state = 'rejected'"
        ).scalar_one()
    )


def drop_rejected(connection: Connection, op_ids: Iterable[str]) -> int:
    """The rep has seen these refused changes: they leave the outbox. Returns how many.

    Only ops in state ``rejected`` go; a pending op with the same id is never touched.
    """
    ids = list(op_ids)
    if not ids:
        return 0
    return int(
        connection.execute(
            text("DELETE FROM outbox WHERE state = 'rejected' AND op_id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"ids": ids},
        ).rowcount
    )


def all_ops(connection: Connection, state: str | None = None) -> list[OutboxOp]:
    """Every op in outbox order (optionally only those in ``state``)."""
    where = "" if state is None else "WHERE state = :s"
    rows = connection.execute(
        text(f"SELECT {_OP_COLUMNS} FROM outbox {where} ORDER BY seq"), {"s": state}
    ).all()
    return [_op(row) for row in rows]


def export_ops(connection: Connection) -> dict[str, Any]:
    """The whole outbox as a JSON-ready document (for support after a revocation)."""
    return {
        "device_id": get_state(connection, DEVICE_ID),
        "server_url": get_state(connection, SERVER_URL),
        "user": get_state(connection, USER_NAME),
        "exported_at": utcnow().isoformat(),
        "ops": [
            {
                "op_id": op.op_id,
                "table": op.table,
                "row_id": op.row_id,
                "kind": op.kind,
                "created": op.created,
                "fields": op.fields,
                "base": op.base,
                "base_version": op.base_version,
                "batch_id": op.batch_id,
                "state": op.state,
                "reason": op.reason,
                "created_at": op.created_at,
            }
            for op in all_ops(connection)
        ],
    }


def _open_op_row(connection: Connection, table: str, row_id: str) -> OutboxOp | None:
    row = connection.execute(
        text(
            f"SELECT {_OP_COLUMNS} FROM outbox WHERE table_name = :t AND row_id = :r "
            "AND batch_id IS NULL AND state = 'pending'"
        ),
        {"t": table, "r": row_id},
    ).first()
    return None if row is None else _op(row)


def queue_op(
    connection: Connection,
    table: str,
    row_id: str,
    *,
    kind: str = "upsert",
    fields: dict[str, Any] | None = None,
    base: dict[str, Any] | None = None,
    base_version: int = 0,
    created: bool = False,
) -> None:
    """Add a change to the outbox as capture would, coalescing with the row's open op.

    For changes the sync itself must send (e.g. what a restored server lost):
    values in their stored form, the first base of a field kept as capture does.
    """
    fields = fields or {}
    base = base or {}
    existing = _open_op_row(connection, table, row_id)
    if existing is not None:
        merged_kind = "delete" if "delete" in (kind, existing.kind) else "upsert"
        connection.execute(
            text("UPDATE outbox SET fields = :f, base = :b, kind = :k WHERE op_id = :o"),
            {
                "f": json.dumps({**existing.fields, **fields}, ensure_ascii=False),
                "b": json.dumps({**base, **existing.base}, ensure_ascii=False),
                "k": merged_kind,
                "o": existing.op_id,
            },
        )
        return
    connection.execute(
        text(
            "INSERT INTO outbox (op_id, table_name, row_id, kind, created, fields, base, "
            "base_version, created_at) VALUES (:o, :t, :r, :k, :c, :f, :b, :v, :at)"
        ),
        {
            "o": new_id(),
            "t": table,
            "r": row_id,
            "k": kind,
            "c": 1 if created else 0,
            "f": json.dumps(fields, ensure_ascii=False),
            "b": json.dumps({} if created else base, ensure_ascii=False),
            "v": 0 if created else base_version,
            "at": utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
        },
    )


def has_pending_op(
    connection: Connection, table: str, row_id: str, *, frozen: bool = False
) -> bool:
    """Whether the row has a change still to send (``frozen``: one already in a batch)."""
    query = "SELECT 1 FROM outbox WHERE table_name = :t AND row_id = :r AND state = 'pending'"
    if frozen:
        query += " AND batch_id IS NOT NULL"
    return connection.execute(text(query), {"t": table, "r": row_id}).first() is not None


def open_ops(connection: Connection, table: str, row_ids: Sequence[str]) -> dict[str, OutboxOp]:
    """The open (not yet frozen) op of each of these rows that has one."""
    result: dict[str, OutboxOp] = {}
    statement = text(
        f"SELECT {_OP_COLUMNS} FROM outbox WHERE table_name = :t AND batch_id IS NULL "
        "AND state = 'pending' AND row_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    for start in range(0, len(row_ids), 400):
        chunk = list(row_ids[start : start + 400])
        for row in connection.execute(statement, {"t": table, "ids": chunk}):
            op = _op(row)
            result[op.row_id] = op
    return result


def frozen_creates(connection: Connection, table: str, row_ids: Sequence[str]) -> set[str]:
    """Rows among these whose creation is frozen in a batch (resent as it is)."""
    result: set[str] = set()
    statement = text(
        "SELECT row_id FROM outbox WHERE table_name = :t AND batch_id IS NOT NULL "
        "AND state = 'pending' AND created = 1 AND row_id IN :ids"
    ).bindparams(bindparam("ids", expanding=True))
    for start in range(0, len(row_ids), 400):
        chunk = list(row_ids[start : start + 400])
        result.update(
            str(row_id)
            for row_id in connection.execute(statement, {"t": table, "ids": chunk}).scalars()
        )
    return result


def make_create(connection: Connection, op_id: str, values: dict[str, Any], kind: str) -> None:
    """Turn an unsent edit into the creation of the whole row (its row is gone upstream)."""
    connection.execute(
        text(
            "UPDATE outbox SET created = 1, kind = :k, fields = :f, base = '{}', "
            "base_version = 0 WHERE op_id = :o AND batch_id IS NULL"
        ),
        {"k": kind, "f": json.dumps(values, ensure_ascii=False), "o": op_id},
    )


def set_open_base(connection: Connection, op_id: str, base: dict[str, Any]) -> None:
    """Replace the base values of an open (not yet frozen) op (see reconcile)."""
    connection.execute(
        text("UPDATE outbox SET base = :b WHERE op_id = :o AND batch_id IS NULL"),
        {"b": json.dumps(base, ensure_ascii=False), "o": op_id},
    )


def freeze_open_op(connection: Connection, table: str, row_id: str) -> None:
    """Freeze the row's open op into a batch of its own, so a new op can follow it."""
    existing = _open_op_row(connection, table, row_id)
    if existing is not None:
        move_to_batch(connection, [existing.op_id], new_batch(connection))


def drop_open_ops(connection: Connection, table: str, row_id: str) -> None:
    """Forget the row's unsent (open) op: what it would change no longer exists."""
    connection.execute(
        text(
            "DELETE FROM outbox WHERE table_name = :t AND row_id = :r "
            "AND batch_id IS NULL AND state = 'pending'"
        ),
        {"t": table, "r": row_id},
    )


#: Columns that name a record for the rep, the first a table has.
_NAME_COLUMNS = ("name", "title", "display_name", "brand", "product")


def record_name(connection: Connection, table: str, row_id: str) -> str | None:
    """What the rep calls a row: its name (or title...), else its dealer's; None: none."""
    columns = set(TABLES[table].fields) if table in TABLES else set()
    for name_column in _NAME_COLUMNS:
        if name_column in columns:
            value = connection.execute(
                text(f'SELECT "{name_column}" FROM "{table}" WHERE id = :i'), {"i": row_id}
            ).scalar()
            if value:
                return str(value)
    if "dealer_id" in columns:
        dealer = connection.execute(
            text(f'SELECT dealer_id FROM "{table}" WHERE id = :i'), {"i": row_id}
        ).scalar()
        if dealer:
            return record_name(connection, "dealer", str(dealer))
    return None
