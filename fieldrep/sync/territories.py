"""Territories the user may no longer see leave the device (SYNC.md invariant 6).

A device learns that a territory was taken from the user in two ways:

- A pull names it in ``revoked_streams``: the device sent a cursor for it.
- After a resync (410 ``cursor_too_old``, or an epoch change) the device sent no
  cursors, so nothing can be named as revoked. The pull then names the caller's
  whole scope (``PullResponse.scope``). :func:`mark`, in the transaction that
  forgets the cursors, notes that a check is due (it survives a crash in the
  middle of the snapshot); :func:`drop_outside`, in the transaction of the pull's
  last page, drops every territory outside that scope that the device still holds
  synced rows, parked rows, conflict records or a cursor of. That is before a
  reconciliation finishes (``reconcile.finish``), so the rows of a lost territory
  are never queued again as creates the server would refuse. A server too old to
  send the scope: revoked streams only, as before. A territory that only rows never
  synced name (the placeholder territory of work done before the first sign-in) is
  not held: nothing of it came from a server.

Dropping (:func:`drop`, capture off) removes the territory's rows, its conflict
records, its cursor, its parked rows and what the device kept about those rows
(the server values of pending fields, the digest of others' changes). The outbox
is never emptied here: an unsent change of such a territory (an open op) is
refused on the spot with the reason the server gives for it (``out_of_scope``, the
record's name kept with it, as its row leaves), so it stays in the list of refused
changes and in the outbox export until the rep dismisses it, as a change the server
refused would. A change already sent in a
batch that got no answer stays as it is: the batch is resent unchanged and the
server answers it (refused as out of scope).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, text

from fieldrep.sync import capture, local, orphans
from fieldrep.sync.protocol import CONFLICT_TABLE, MODEL_TABLES, SCOPE_FIELD, TABLES, Reason
from fieldrep.sync.refusals import Refusal

log = logging.getLogger(__name__)

#: sync_state key: a resync began; its pull checks the scope when it ends.
SCOPE_CHECK = "scope_check"


@dataclass(frozen=True)
class RefusedHere:
    """An unsent change of a dropped territory, refused on the device."""

    table: str
    row_id: str
    refusal: Refusal


def mark(connection: Connection) -> None:
    """Note that the pull under way must check the scope when it ends (a resync)."""
    local.set_state(connection, SCOPE_CHECK, "1")


def drop_outside(connection: Connection, scope: Collection[str] | None) -> list[RefusedHere]:
    """At the end of a pull: if a check is due, drop every held territory not in ``scope``.

    ``scope`` None (an admin, or a server that does not say) drops nothing. The
    check is done either way: the next pulls send cursors again, so a territory
    lost later is named in ``revoked_streams``.
    """
    if local.get_state(connection, SCOPE_CHECK) is None:
        return []
    local.set_state(connection, SCOPE_CHECK, None)
    if scope is None:
        return []
    return drop(connection, held(connection) - set(scope))


def held(connection: Connection) -> set[str]:
    """The territories this device holds anything of that came from a server."""
    found: set[object] = set()
    for table in MODEL_TABLES:
        found.update(
            connection.exec_driver_sql(
                f'SELECT DISTINCT territory_id FROM "{table}" WHERE row_version != 0'
            ).scalars()
        )
    found.update(connection.exec_driver_sql("SELECT territory_id FROM sync_conflict").scalars())
    found.update(local.cursors(connection))
    found.update(values.get(SCOPE_FIELD) for _table, values in orphans.parked_rows(connection))
    return {str(territory) for territory in found if territory is not None}


def drop(connection: Connection, territories: Collection[str]) -> list[RefusedHere]:
    """Remove everything of these territories; returns the unsent changes refused."""
    lost = sorted(set(territories))
    if not lost:
        return []
    refused = _refuse_unsent(connection, set(lost))
    capture.set_capture(connection, False)
    for table in reversed(MODEL_TABLES):
        _forget_rows(connection, table, lost)
    _forget_rows(connection, CONFLICT_TABLE, lost)
    for territory in lost:
        connection.execute(text("DELETE FROM sync_cursor WHERE stream = :s"), {"s": territory})
    orphans.forget_territories(connection, lost)
    capture.set_capture(connection, True)
    log.info(
        "dropped territories no longer in scope: %s (%d unsent change(s) refused)",
        ", ".join(lost),
        len(refused),
    )
    return refused


def _forget_rows(connection: Connection, table: str, lost: list[str]) -> None:
    """Delete a table's rows of ``lost`` and what the sync kept about them."""
    rows = f'SELECT id FROM "{table}" WHERE territory_id IN :lost'
    for statement in (
        f"DELETE FROM sync_shadow WHERE table_name = :t AND row_id IN ({rows})",
        f"DELETE FROM sync_change_digest WHERE table_name = :t AND row_id IN ({rows})",
        f'DELETE FROM "{table}" WHERE territory_id IN :lost',
    ):
        query = text(statement).bindparams(bindparam("lost", expanding=True))
        connection.execute(query, {"t": table, "lost": lost})


def _refuse_unsent(connection: Connection, lost: set[str]) -> list[RefusedHere]:
    """Refuse the open ops of rows in ``lost`` (a new row by the territory it names)."""
    refused: list[RefusedHere] = []
    for op in local.all_ops(connection, "pending"):
        if op.batch_id is not None or op.table not in TABLES:
            continue  # sent already: the server's answer decides
        territory = connection.execute(
            text(f'SELECT territory_id FROM "{op.table}" WHERE id = :i'), {"i": op.row_id}
        ).scalar()
        if territory is None:
            territory = op.fields.get(SCOPE_FIELD)
        if territory in lost:
            # The row leaves with its territory: the refusal keeps its name for the list.
            name = local.record_name(connection, op.table, op.row_id)
            refusal = Refusal(
                Reason.OUT_OF_SCOPE.value, () if name is None else (("record", name),)
            )
            local.reject(connection, op.op_id, refusal.stored())
            refused.append(RefusedHere(op.table, op.row_id, refusal))
    return refused
