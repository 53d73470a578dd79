"""Outbox capture: SQLite triggers that record every local change in the outbox.

The triggers are generated from an explicit, frozen list of tables and columns
that a migration passes in (so a later schema change makes a new migration, and
a database always carries the triggers its schema was made with). Because they
are triggers, they run in the same transaction as the write that fired them, and
they also catch raw SQL that bypasses the services.

What a trigger records (SYNC.md "Client side"):

- an INSERT makes an ``upsert`` op marked ``created`` with every column's value;
- an UPDATE of captured columns adds the changed columns' new values to
  ``fields`` and, the first time a column changes, its old value to ``base``
  (first base, last value); ``base_version`` is the row_version the edit started
  from;
- a tombstone (``deleted`` 0 -> 1) turns the op's kind into ``delete``; a hard
  DELETE does the same (the row must still disappear on the server).

Several edits of one row coalesce into the row's one *open* op: pending and not
yet frozen into a batch. Once an op is frozen (``batch_id`` set), new edits make
a new op, so a batch that was sent is never changed by a retry.

Capture is off while sync applies remote changes: the applying transaction sets
``_fr_capture.enabled = 0`` and back to 1 before it commits. No other connection
can see the 0: SQLite has one writer at a time (the applier holds the write
lock from BEGIN IMMEDIATE to COMMIT), and readers see only committed state,
which always says 1. A crash mid-apply rolls the flag back with everything else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from functools import cache

from sqlalchemy import Connection, text

from fieldrep.storage.models import Base, SyncedBase

TRIGGER_PREFIX = "sync_capture_"
CAPTURE_TABLE = "_fr_capture"
OUTBOX_TABLE = "outbox"

# Never sent as fields: the identity, the server's version counter, and the
# informational wall-clock columns (the server stamps who and when itself).
NOT_CAPTURED_ON_UPDATE = frozenset({"id", "row_version", "created_at", "updated_at", "updated_by"})
NOT_CAPTURED_ON_INSERT = frozenset({"id", "row_version"})

# SQLite allows 127 arguments per function call: json_set takes 1 + 2 per pair.
_PAIRS_PER_CALL = 50
# Unchanged columns are written to this throw-away key and removed at the end, so
# that one linear json_set() call can handle "only the columns that changed".
_SCRATCH_PATH = "'$.\"~\"'"

_NOW_SQL = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')"
# A random (version 4) UUID in plain SQL, so raw SQL from any tool captures too.
_UUID_SQL = (
    "lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || "
    "substr(hex(randomblob(2)), 2) || '-' || substr('89ab', 1 + (abs(random()) % 4), 1) || "
    "substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6)))"
)

OUTBOX_DDL = (
    f"""
    CREATE TABLE {OUTBOX_TABLE} (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        op_id TEXT NOT NULL UNIQUE,
        table_name TEXT NOT NULL,
        row_id TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('upsert', 'delete')),
        created INTEGER NOT NULL DEFAULT 0,
        fields TEXT NOT NULL CHECK (json_valid(fields)),
        base TEXT NOT NULL CHECK (json_valid(base)),
        base_version INTEGER NOT NULL DEFAULT 0,
        batch_id TEXT,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'rejected')),
        reason TEXT,
        created_at TEXT NOT NULL
    )
    """,
    f"CREATE INDEX ix_{OUTBOX_TABLE}_row ON {OUTBOX_TABLE} (table_name, row_id)",
    f"CREATE INDEX ix_{OUTBOX_TABLE}_batch ON {OUTBOX_TABLE} (batch_id)",
    # At most one open (coalescible) op per row.
    f"CREATE UNIQUE INDEX uq_{OUTBOX_TABLE}_open ON {OUTBOX_TABLE} (table_name, row_id) "
    "WHERE batch_id IS NULL AND state = 'pending'",
    f"CREATE TABLE {CAPTURE_TABLE} "
    "(enabled INTEGER NOT NULL, one INTEGER PRIMARY KEY CHECK (one = 1))",
    f"INSERT INTO {CAPTURE_TABLE} (enabled, one) VALUES (1, 1)",
)


def synced_tables() -> dict[str, list[str]]:
    """Every synced table of the current models with its columns, in table order.

    Migrations copy this output literally (frozen); it is not for use at runtime.
    """
    result: dict[str, list[str]] = {}
    for table in Base.metadata.sorted_tables:
        if _is_synced(table.name):
            result[table.name] = [column.name for column in table.columns]
    return result


@cache
def synced_tables_cached() -> dict[str, list[str]]:
    """:func:`synced_tables`, computed once (for runtime checks)."""
    return synced_tables()


def _is_synced(table_name: str) -> bool:
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if getattr(cls, "__tablename__", None) == table_name:
            return issubclass(cls, SyncedBase)
    return False


def _quote(name: str) -> str:
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unexpected identifier {name!r}")
    return f'"{name}"'


def _path(column: str) -> str:
    return f"'$.\"{column}\"'"


def _json_set_chain(start: str, pairs: Sequence[tuple[str, str]]) -> str:
    """``json_set(json_set(start, p, v, ...), p, v, ...)`` staying under the arg limit."""
    expression = start
    for index in range(0, len(pairs), _PAIRS_PER_CALL):
        chunk = pairs[index : index + _PAIRS_PER_CALL]
        arguments = ", ".join(f"{path}, {value}" for path, value in chunk)
        expression = f"json_set({expression}, {arguments})"
    return expression


def _changed(column: str) -> str:
    return f"OLD.{_quote(column)} IS NOT NEW.{_quote(column)}"


def _changed_fields(start: str, columns: Sequence[str]) -> str:
    pairs = [
        (f"CASE WHEN {_changed(c)} THEN {_path(c)} ELSE {_SCRATCH_PATH} END", f"NEW.{_quote(c)}")
        for c in columns
    ]
    return f"json_remove({_json_set_chain(start, pairs)}, {_SCRATCH_PATH})"


def _first_bases(start: str, columns: Sequence[str], created: str) -> str:
    # The base of a field is its value before the first edit since the last push;
    # a row created here has no base at all.
    pairs = [
        (
            f"CASE WHEN {_changed(c)} AND NOT {created} AND json_type({start}, {_path(c)}) IS NULL "
            f"THEN {_path(c)} ELSE {_SCRATCH_PATH} END",
            f"OLD.{_quote(c)}",
        )
        for c in columns
    ]
    return f"json_remove({_json_set_chain(start, pairs)}, {_SCRATCH_PATH})"


def _open_op(table: str, row: str) -> str:
    return (
        f"table_name = '{table}' AND row_id = {row}.\"id\" "
        "AND batch_id IS NULL AND state = 'pending'"
    )


def trigger_names(table: str) -> list[str]:
    return [f"{TRIGGER_PREFIX}{table}_{event}" for event in ("insert", "update", "delete")]


def capture_trigger_sql(table: str, columns: Sequence[str]) -> list[str]:
    """CREATE TRIGGER statements that capture changes of ``table`` into the outbox."""
    q_table = _quote(table)
    enabled = f"(SELECT enabled FROM {CAPTURE_TABLE}) = 1"
    insert_cols = [c for c in columns if c not in NOT_CAPTURED_ON_INSERT]
    update_cols = [c for c in columns if c not in NOT_CAPTURED_ON_UPDATE]
    all_values = _json_set_chain("'{}'", [(_path(c), f"NEW.{_quote(c)}") for c in insert_cols])
    kind = "CASE WHEN NEW.\"deleted\" THEN 'delete' ELSE 'upsert' END"
    insert_name, update_name, delete_name = trigger_names(table)

    on_insert = f"""
    CREATE TRIGGER {insert_name} AFTER INSERT ON {q_table}
    WHEN {enabled}
    BEGIN
        DELETE FROM {OUTBOX_TABLE} WHERE {_open_op(table, "NEW")};
        INSERT INTO {OUTBOX_TABLE}
            (op_id, table_name, row_id, kind, created, fields, base, base_version, created_at)
        VALUES ({_UUID_SQL}, '{table}', NEW."id", {kind}, NEW."row_version" = 0,
                {all_values}, '{{}}', NEW."row_version", {_NOW_SQL});
    END
    """

    any_change = " OR ".join(_changed(c) for c in update_cols)
    on_update = f"""
    CREATE TRIGGER {update_name} AFTER UPDATE ON {q_table}
    WHEN {enabled} AND ({any_change})
    BEGIN
        UPDATE {OUTBOX_TABLE} SET
            fields = {_changed_fields("fields", update_cols)},
            base = {_first_bases("base", update_cols, "created")},
            kind = {kind}
        WHERE {_open_op(table, "NEW")};
        INSERT INTO {OUTBOX_TABLE}
            (op_id, table_name, row_id, kind, created, fields, base, base_version, created_at)
        SELECT {_UUID_SQL}, '{table}', NEW."id", {kind}, 0,
               {_changed_fields("'{}'", update_cols)},
               {_first_bases("'{}'", update_cols, "0")},
               OLD."row_version", {_NOW_SQL}
        WHERE NOT EXISTS (SELECT 1 FROM {OUTBOX_TABLE} WHERE {_open_op(table, "NEW")});
    END
    """

    on_delete = f"""
    CREATE TRIGGER {delete_name} AFTER DELETE ON {q_table}
    WHEN {enabled}
    BEGIN
        UPDATE {OUTBOX_TABLE} SET kind = 'delete' WHERE {_open_op(table, "OLD")};
        INSERT INTO {OUTBOX_TABLE}
            (op_id, table_name, row_id, kind, created, fields, base, base_version, created_at)
        SELECT {_UUID_SQL}, '{table}', OLD."id", 'delete', 0, '{{}}', '{{}}',
               OLD."row_version", {_NOW_SQL}
        WHERE NOT EXISTS (SELECT 1 FROM {OUTBOX_TABLE} WHERE {_open_op(table, "OLD")});
    END
    """
    return [on_insert, on_update, on_delete]


def create_capture_triggers(
    execute: Connection | object, tables: Mapping[str, Iterable[str]]
) -> None:
    """Create the capture triggers of ``tables`` (a frozen table -> columns map).

    ``execute`` is an Alembic ``op`` or a SQLAlchemy connection.
    """
    for table, columns in tables.items():
        for statement in capture_trigger_sql(table, list(columns)):
            _run(execute, statement)


def drop_capture_triggers(execute: Connection | object, tables: Iterable[str]) -> None:
    """Drop the capture triggers of ``tables``."""
    for table in tables:
        for name in trigger_names(table):
            _run(execute, f"DROP TRIGGER IF EXISTS {name}")


def _run(execute: Connection | object, statement: str) -> None:
    if isinstance(execute, Connection):
        execute.exec_driver_sql(statement)
    else:
        execute.execute(text(statement))  # type: ignore[attr-defined]


def captured_columns(connection: Connection) -> dict[str, list[str]]:
    """The columns each existing capture trigger records (read back from its SQL)."""
    rows = connection.execute(
        text("SELECT tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE :p"),
        {"p": f"{TRIGGER_PREFIX}%_insert"},
    ).all()
    result: dict[str, list[str]] = {}
    for table, sql in rows:
        result[str(table)] = [
            part.split('"')[1] for part in str(sql).split("'$.")[1:] if part.startswith('"')
        ]
    return result


def set_capture(connection: Connection, enabled: bool) -> None:
    """Switch capture on or off inside the caller's write transaction (see module doc)."""
    connection.exec_driver_sql(f"UPDATE {CAPTURE_TABLE} SET enabled = {1 if enabled else 0}")
