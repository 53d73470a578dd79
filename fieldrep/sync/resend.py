"""Refused new rows whose parents are live again: sent again instead of staying refused.

The server refuses a new row as a whole when a row it names was deleted there
(``parent_deleted``: delete wins, nothing is attached to a deleted parent) or is
not there (``missing_parent``). The rep's row stays on this device and the op
stays in the outbox as refused. Once the parent is live again (a delete-versus-
edit conflict resolved 'mine' here or elsewhere, an undelete, a parent that was
sent later), the refused creation is queued again with the row's current values,
so the rep's work reaches the server after all (SYNC.md invariant 2). The engine
does this before each sync and after its pull.

A parent counts as live when this device holds it, not deleted, in the row's
territory, and the server has it (it came with a row_version) or is about to
(an op of its own is pending). A parent that is itself a refused creation
counts when it goes again too, so rows naming each other go again together.
Refusals for any other reason stay until the rep dismisses them; so does a
row deleted here since.
"""

from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import Connection, text

from fieldrep.sync import local
from fieldrep.sync.protocol import SCOPE_FIELD, TABLES, Reason
from fieldrep.sync.refusals import stored_code

log = logging.getLogger(__name__)

#: Refusals that a parent coming back (or arriving) lifts.
_LIFTED_BY_PARENT = frozenset({Reason.PARENT_DELETED.value, Reason.MISSING_PARENT.value})

RowKey = tuple[str, str]


def _local_row(connection: Connection, table: str, row_id: str) -> dict[str, Any] | None:
    row = connection.execute(text(f'SELECT * FROM "{table}" WHERE id = :i'), {"i": row_id})
    found = row.mappings().first()
    return None if found is None else dict(found)


def _refused_creations(connection: Connection) -> dict[RowKey, tuple[str, dict[str, Any]]]:
    """Refused creations a parent could lift, whose row is here and live: key -> (op, row)."""
    found: dict[RowKey, tuple[str, dict[str, Any]]] = {}
    for op in local.all_ops(connection, "rejected"):
        spec = TABLES.get(op.table)
        if not op.created or spec is None or not spec.references:
            continue
        if stored_code(op.reason) not in _LIFTED_BY_PARENT:
            continue
        row = _local_row(connection, op.table, op.row_id)
        if (
            row is None
            or row.get("deleted")
            or local.has_pending_op(connection, op.table, op.row_id, frozen=True)
        ):
            continue
        found[(op.table, op.row_id)] = (op.op_id, row)
    return found


def _parents(table: str, row: dict[str, Any]) -> list[RowKey]:
    return [
        (parent, str(row[name]))
        for name, parent in TABLES[table].references.items()
        if row.get(name) is not None
    ]


def _live_on_server(connection: Connection, key: RowKey, territory_id: Any) -> bool:
    """The parent is live here and the server has it, or is about to."""
    parent = _local_row(connection, *key)
    if parent is None or parent.get("deleted") or parent.get(SCOPE_FIELD) != territory_id:
        return False
    return int(parent.get("row_version") or 0) > 0 or local.has_pending_op(connection, *key)


def resend_refused_creations(connection: Connection) -> int:
    """Queue again the refused creations whose parents are live; returns how many."""
    candidates = _refused_creations(connection)
    chosen = set(candidates)
    # Drop those with a parent that is not live, until the rest hold each other up.
    dropped = True
    while dropped:
        dropped = False
        for key in sorted(chosen):
            row = candidates[key][1]
            if not all(
                parent in chosen or _live_on_server(connection, parent, row.get(SCOPE_FIELD))
                for parent in _parents(key[0], row)
            ):
                chosen.discard(key)
                dropped = True
    if not chosen:
        return 0
    for table, row_id in sorted(chosen):
        op_id, row = candidates[(table, row_id)]
        names = [*TABLES[table].fields, "deleted"]
        values = {name: row[name] for name in names if name in row}
        # Later unsent edits of the row are in its current values.
        local.drop_open_ops(connection, table, row_id)
        connection.execute(text("DELETE FROM outbox WHERE op_id = :o"), {"o": op_id})
        # A new op at the end of the outbox: after the ops that bring its parent back.
        local.queue_op(connection, table, row_id, fields=values, created=True)
    log.info("sending again %d refused new record(s) whose parents are back", len(chosen))
    return len(chosen)
