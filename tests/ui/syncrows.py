"""Pulled changes for GUI tests: conflicts and colleagues' edits, applied as a sync does.

The rows go through the sync engine's own page application
(:func:`fieldrep.sync.engine._apply_page`), as in tests/sync/test_sync_api.py, so
the conflict inbox and the digest read exactly what a real pull leaves behind.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text

from fieldrep.sync import local
from fieldrep.sync.engine import _apply_page
from fieldrep.sync.protocol import Change
from fieldrep.sync.values import to_wire

# The sync tests' helpers (a module beside their tests, not a package).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
from synctest import model_defaults

STAMP = "2026-11-24T06:30:00.000000Z"


def wire_row(engine: Engine, table: str, row_id: str) -> dict[str, Any]:
    """A local row as the server would send it."""
    with engine.connect() as connection:
        row = connection.execute(text(f'SELECT * FROM "{table}" WHERE id = :i'), {"i": row_id})
        found = row.mappings().one()
    return {name: to_wire(table, name, value) for name, value in found.items()}


def pull(engine: Engine, changes: list[Change], run: str, me: str) -> None:
    """Apply ``changes`` as one pulled page of the sync run ``run``."""
    with engine.begin() as connection:
        _apply_page(connection, changes, run, me)
        local.set_state(connection, local.LAST_SYNC_RUN, run)
        local.set_state(connection, local.USER_ID, me)


def updated(engine: Engine, table: str, row_id: str, by: str, **values: Any) -> Change:
    """A colleague's edit of an existing row (every field, as the server sends rows)."""
    row = wire_row(engine, table, row_id)
    version = int(row["row_version"]) + 1
    row.update(values, updated_by=by, updated_at=STAMP)
    deleted = bool(row.pop("deleted", False))
    return Change(
        stream=row["territory_id"],
        change_no=version,
        table=table,
        row_id=row_id,
        row_version=version,
        deleted=deleted,
        values=row,
    )


def created(table: str, row_id: str, territory: str, by: str, **values: Any) -> Change:
    """A row a colleague created."""
    row = {**model_defaults(table), "territory_id": territory}
    row.update(created_at=STAMP, updated_at=STAMP, updated_by=by, **values)
    row.pop("deleted", None)
    return Change(
        stream=territory,
        change_no=1,
        table=table,
        row_id=row_id,
        row_version=1,
        deleted=False,
        values=row,
    )


def conflict(
    conflict_id: str,
    *,
    table: str,
    row_id: str,
    field: str,
    base: Any,
    mine: Any,
    theirs: Any,
    author: str,
    theirs_user: str,
    territory: str,
    base_version: int = 1,
    kind: str = "field",
) -> Change:
    """A conflict record as the server sends it to the rep."""
    record = {
        "table_name": table,
        "row_id": row_id,
        "field": field,
        "kind": kind,
        "base_known": True,
        "base": base,
        "mine": mine,
        "theirs": theirs,
        "base_version": base_version,
        "author_user_id": author,
        "theirs_user_id": theirs_user,
        "status": "open",
        "territory_id": territory,
        "created_at": STAMP,
        "updated_at": STAMP,
        "updated_by": theirs_user,
    }
    return Change(
        stream=territory,
        change_no=1,
        table="sync_conflict",
        row_id=conflict_id,
        row_version=1,
        deleted=False,
        values=record,
    )
