"""Applying pulled rows to the local database without touching pending edits.

Runs inside the engine's write transaction with capture switched off (remote
changes must not echo back into the outbox). A field that has a pending outbox
op keeps the local value: that edit is pushed and merged on the server instead.
The row always takes the server's ``row_version``: it is the base of the next
edit. Every field whose value changed is recorded for the digest.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from sqlalchemy import Connection, bindparam, text

from fieldrep.storage.models import Base
from fieldrep.sync import capture, local, orphans
from fieldrep.sync.protocol import MODEL_TABLES, WireType
from fieldrep.sync.values import same_local, to_local, wire_type

_MODEL_TABLES = frozenset(MODEL_TABLES)
_CHUNK = 400  # ids per IN (...) lookup; well under SQLite's variable limit


@dataclass(frozen=True)
class RowChange:
    """One row as the server sends it: its new row_version and column values."""

    table: str
    row_id: str
    row_version: int
    values: dict[str, Any]  # wire values; may be the whole row or the changed columns
    changed_by: str | None = None
    #: From a snapshot page: applied whatever the local version (an epoch reset may
    #: lower versions); a log change older than the local row is skipped.
    snapshot: bool = False
    #: The row's version when the server was last restored (None: not told).
    restore_version: int | None = None
    #: Fields changed since that restore, with their values then (None: not told).
    restored: dict[str, Any] | None = None


@dataclass
class ApplyStats:
    """What one apply did."""

    rows: int = 0
    inserted: int = 0
    updated: int = 0
    kept_fields: int = 0  # pulled values not applied because a local edit is pending
    stale: int = 0  # log changes older than the local row (already seen)
    parked: int = 0  # rows whose parent is not on this device (see orphans)
    unknown_tables: set[str] = field(default_factory=set)


def _columns(table: str) -> list[str]:
    return [column.name for column in Base.metadata.tables[table].columns]


@cache
def _converted_columns(table: str) -> frozenset[str]:
    """Columns whose wire value differs from the stored one (the rest pass as they are)."""
    plain = {
        WireType.STRING,
        WireType.TEXT,
        WireType.CODE,
        WireType.DATE,
        WireType.DATETIME,
        WireType.DECIMAL,
    }
    return frozenset(name for name in _columns(table) if wire_type(table, name) not in plain)


def _existing(
    connection: Connection, table: str, ids: Sequence[str], *, whole: bool
) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    # Snapshot rows need only the version; log changes compare old values (digest).
    columns = "*" if whole else "id, row_version"
    statement = text(f'SELECT {columns} FROM "{table}" WHERE id IN :ids').bindparams(
        bindparam("ids", expanding=True)
    )
    for start in range(0, len(ids), _CHUNK):
        for row in connection.execute(statement, {"ids": list(ids[start : start + _CHUNK])}):
            mapping = dict(row._mapping)
            found[str(mapping["id"])] = mapping
    return found


def apply_rows(
    connection: Connection,
    changes: Iterable[RowChange],
    *,
    sync_run: str,
    own_user: str | None = None,
    record_digest: bool = True,
) -> ApplyStats:
    """Apply pulled rows in order (caller's transaction; capture is off meanwhile)."""
    stats = ApplyStats()
    by_table: dict[str, list[RowChange]] = defaultdict(list)
    for change in changes:
        if change.table not in _MODEL_TABLES:
            stats.unknown_tables.add(change.table)
            continue
        by_table[change.table].append(change)
    capture.set_capture(connection, False)
    try:
        for table, rows in by_table.items():
            _apply_table(connection, table, rows, stats, sync_run, own_user, record_digest)
        # A row whose parent is not here would fail this page's commit at every sync.
        orphans.bring_back(connection)
        stats.parked = orphans.park_orphans(
            connection,
            {table: [(c.row_id, c.values) for c in rows] for table, rows in by_table.items()},
        )
    finally:
        capture.set_capture(connection, True)
    return stats


def _apply_table(
    connection: Connection,
    table: str,
    rows: list[RowChange],
    stats: ApplyStats,
    sync_run: str,
    own_user: str | None,
    record_digest: bool,
) -> None:
    known = set(_columns(table)) - {"id", "row_version"}
    converted = _converted_columns(table)
    ids = list(dict.fromkeys(change.row_id for change in rows))
    needs_values = record_digest and not all(change.snapshot for change in rows)
    existing = _existing(connection, table, ids, whole=needs_values)
    pending = local.pending_fields(connection, table, ids)
    inserts: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    updates: dict[tuple[str, ...], list[dict[str, Any]]] = defaultdict(list)
    digest: list[dict[str, Any]] = []
    for change in rows:
        stats.rows += 1
        values = {
            name: value if name not in converted else to_local(table, name, value)
            for name, value in change.values.items()
            if name in known
        }
        kept = pending.get(change.row_id, set())
        current = existing.get(change.row_id)
        if current is None:
            if kept:
                # Deleted here by raw SQL while a delete is pending: let the push win.
                stats.kept_fields += len(kept)
                continue
            row = {**values, "id": change.row_id, "row_version": change.row_version}
            inserts[tuple(sorted(row))].append(row)
            existing[change.row_id] = row
            stats.inserted += 1
            if record_digest and not change.snapshot and change.changed_by != own_user:
                digest.append(_digest_row(sync_run, table, change, None, None, None, created=True))
            continue
        if not change.snapshot and int(current.get("row_version") or 0) > change.row_version:
            stats.stale += 1
            continue
        applied = {name: value for name, value in values.items() if name not in kept}
        stats.kept_fields += len(values) - len(applied)
        if record_digest and not change.snapshot and change.changed_by != own_user:
            for name, value in applied.items():
                if name in ("updated_at", "updated_by", "created_at"):
                    continue
                if not same_local(table, name, current.get(name), value):
                    digest.append(
                        _digest_row(sync_run, table, change, name, current.get(name), value)
                    )
        current.update(applied)
        row = {**applied, "id": change.row_id, "row_version": change.row_version}
        updates[tuple(sorted(row))].append(row)
        stats.updated += 1
    # Positional executemany straight to the driver: the bulk of a first sync.
    for names, batch in inserts.items():
        column_sql = ", ".join(f'"{name}"' for name in names)
        marks = ", ".join("?" for _ in names)
        connection.exec_driver_sql(
            f'INSERT INTO "{table}" ({column_sql}) VALUES ({marks})',
            [tuple(row[name] for name in names) for row in batch],
        )
    for names, batch in updates.items():
        columns = [name for name in names if name != "id"]
        assignments = ", ".join(f'"{name}" = ?' for name in columns)
        connection.exec_driver_sql(
            f'UPDATE "{table}" SET {assignments} WHERE id = ?',
            [(*(row[name] for name in columns), row["id"]) for row in batch],
        )
    if digest:
        connection.execute(
            text(
                "INSERT INTO sync_change_digest "
                "(sync_run, table_name, row_id, field, old, new, by_user, created, deleted) "
                "VALUES (:sync_run, :table_name, :row_id, :field, :old, :new, :by_user, "
                ":created, :deleted)"
            ),
            digest,
        )


def _digest_row(
    sync_run: str,
    table: str,
    change: RowChange,
    name: str | None,
    old: Any,
    new: Any,
    *,
    created: bool = False,
) -> dict[str, Any]:
    return {
        "sync_run": sync_run,
        "table_name": table,
        "row_id": change.row_id,
        "field": name,
        "old": None if old is None else str(old),
        "new": None if new is None else str(new),
        "by_user": change.changed_by,
        "created": 1 if created else 0,
        "deleted": 1 if name == "deleted" and bool(int(new or 0)) else 0,
    }
