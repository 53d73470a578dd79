"""Giving a restored server back what it lost (epoch change reconciliation).

When the server is restored from a backup it gets a new epoch and every pull
answers 410 ``epoch_changed``. Changes the server had accepted after the backup
are gone from it, yet devices still hold them: the pushing device acknowledged
them, others pulled them. A plain resync (snapshot over the local rows) would
silently revert those rows on every device: SYNC.md invariants 1 and 2 broken.
So an epoch change (never a plain ``cursor_too_old``) reconciles:

1. :func:`begin`, in the transaction that forgets the cursors, marks every
   synced row *unseen* by storing ``-(row_version + 1)``: the old epoch's version
   stays recoverable, survives a crash, and needs no extra table. The flag
   :data:`RECONCILE` commits with it. The rep may keep editing meanwhile: the
   capture triggers copy the negative version as a base version, which
   :func:`old_version` decodes before anything is sent.
2. :func:`compare`, for every pulled page while the flag is set (same transaction
   as the page and its cursors), compares each pulled row with its unseen local
   copy. Fields with a pending outbox op are left alone (they are pushed as they
   are), except that an unsent edit made on a state the restore lost gets the
   server's value as base for each field the server left alone since the restore
   (:func:`_rebase_unsent_edit`). For the other fields that differ, with ``L``
   the local (old epoch) and ``S`` the server's version, and ``R`` the row's
   version at the restore (the server sends it with each row, see
   ``Change.restore_version``):

   - ``L > R`` and ``S > R``: we know a state the restore lost and the row also
     changed after the restore. Both sides moved (versions are reused after a
     restore, so ``S > L`` proves nothing here). The server says which fields it
     changed since the restore, with their values then (``Change.restored``):
     the state both sides share, so each differing field is settled three-way
     (:func:`_three_way`): not changed on the server, ours is a lost edit, sent
     with the server's value as base (applied); changed on the server while ours
     is still the restore's value, the server's is taken; changed on both, sent
     with the restore's value as base (a conflict record). A server that does
     not say: every differing field is a conflict, as below.
   - ``S > L``: the server knows more changes of the row than we ever saw; we
     take its values (the usual resync).
   - ``S < L`` and the server's last change stamp is older than ours: the server
     is at the backup's state of the row, an ancestor of ours. We queue an op
     whose base is the server's value, so the server's three-way merge applies
     our (lost) values, and still turns a change made meanwhile into a conflict.
   - otherwise (``S == L`` with different values, or ``S < L`` with a newer
     server stamp): both sides moved since the backup (versions are reused after a
     restore). We queue an op without a base: every differing field becomes a
     conflict record on the server (theirs stays, ours is kept in the record).

   ``R`` and the restored values are relative to the first restore after the
   epoch the device knew (sent as ``PullRequest.reconcile_from``, kept in
   :data:`RECONCILE_FROM`): a device that slept through several restores parted
   from the server's history at the first one. For an epoch it does not know, and
   for a row created again after the restore, the server says nothing is shared
   (``R`` = 0, no restored values): every differing field is a conflict.

   The server's stamp is the server's own clock (``updated_at`` of both copies);
   it only decides between "apply" and "conflict" when the versions already prove
   that our state was lost, so a wrong clock can never drop a change.
   A row deleted on the server and live here is sent back as a restore (our lost
   undelete) only while the server's row is not known to have changed after the
   restore; otherwise the server's delete wins and our differing fields become
   delete-versus-edit conflict records (SYNC.md).
3. :func:`finish`, once the pull has nothing more (one transaction): rows still
   unseen are missing on the server. Rows the device may push are queued again
   as creates with all their values (a tombstone as create-and-delete, so the
   row is gone everywhere); an open conflict record the server lost is queued
   again as the edit it kept, without a base, so the server records it again
   (unless it now holds that value) and never applies it.
   Server-managed rows (users, territories) get their versions back.

Known limits: a server that does not send ``R`` (older than this client, or
never restored) leaves ``S > L`` as "the server is newer", even for a row changed
after the restore more times than our lost changes; one that does not take
``reconcile_from`` answers relative to its latest restore, so a device that slept
through two restores can still take the server's values for a row the first
restore lost. Restores made before the server kept their history (server
migration 0004) are not in it: a device from before them is answered as one
whose epoch is unknown (every differing field a conflict: possibly extra
conflicts, never a lost edit). The three-way settling is by value: a field
changed and changed back on one side counts as unchanged there, as in the
server's merge. A row our copy deleted while the server's lives is deleted again
whenever we know a lost state (the restored values are not used for the delete
flag).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum
from typing import Any

from sqlalchemy import Connection, bindparam, text

from fieldrep.sync import capture, local
from fieldrep.sync.apply import RowChange
from fieldrep.sync.protocol import (
    CONFLICT_TABLE,
    MODEL_TABLES,
    ROW_META_FIELDS,
    SERVER_STAMPED_FIELDS,
    TABLES,
)
from fieldrep.sync.values import same_local, to_local, to_wire

#: sync_state key: a reconciliation after an epoch change is under way.
RECONCILE = "epoch_reconcile"
#: sync_state key: the epoch the device knew before it (sent as ``reconcile_from``).
RECONCILE_FROM = "epoch_reconcile_from"
_CHUNK = 400


class Verdict(Enum):
    """How one differing row is settled."""

    SERVER = "server"  # take the server's values
    APPLY = "apply"  # push ours with the server's values as base
    CONFLICT = "conflict"  # push ours without a base: conflict records


@dataclass
class ReconcileStats:
    """What a reconciliation queued (for logs and tests)."""

    reapplied: int = 0
    conflicting: int = 0
    recreated: int = 0


def old_version(stored: int) -> int:
    """The old epoch's version of a row still marked unseen (other versions as they are)."""
    return -stored - 1 if stored < 0 else stored


def pending(connection: Connection) -> bool:
    return local.get_state(connection, RECONCILE) is not None


def _marked_tables() -> tuple[str, ...]:
    return (*MODEL_TABLES, CONFLICT_TABLE)


def begin(connection: Connection, known_epoch: str | None = None) -> None:
    """Mark every synced row unseen and remember that a reconciliation is due.

    ``known_epoch`` is the epoch the device knew. A reconciliation interrupted by
    another epoch change keeps the first one: its unseen rows are from then.
    """
    if not pending(connection):
        local.set_state(connection, RECONCILE_FROM, known_epoch)
    capture.set_capture(connection, False)
    for table in _marked_tables():
        connection.exec_driver_sql(
            f'UPDATE "{table}" SET row_version = -row_version - 1 WHERE row_version >= 0'
        )
    capture.set_capture(connection, True)
    local.set_state(connection, RECONCILE, "1")


def known_epoch(connection: Connection) -> str | None:
    """The epoch the device knew before the reconciliation (None: not known)."""
    return local.get_state(connection, RECONCILE_FROM)


def verdict(
    local_version: int,
    server_version: int,
    local_stamp: Any,
    server_stamp: Any,
    restore_version: int | None = None,
) -> Verdict:
    """Which side is newer, from the old epoch's version, the server's stamps and
    the row's version at the restore (None: the server did not say)."""
    if _moved_since_restore(local_version, restore_version) and _moved_since_restore(
        server_version, restore_version
    ):
        return Verdict.CONFLICT
    if server_version > local_version:
        return Verdict.SERVER
    if (
        server_version < local_version
        and isinstance(local_stamp, str)
        and isinstance(server_stamp, str)
        and local_stamp > server_stamp
    ):
        return Verdict.APPLY
    return Verdict.CONFLICT


def _moved_since_restore(version: int, restore_version: int | None) -> bool:
    """Whether ``version`` is a state past the row's version at the restore."""
    return restore_version is not None and version > restore_version


def _comparable(table: str) -> list[str]:
    spec = TABLES[table]
    return [
        name
        for name in spec.fields
        if name not in SERVER_STAMPED_FIELDS and name not in ROW_META_FIELDS
    ]


def _unseen_rows(
    connection: Connection, table: str, ids: Sequence[str]
) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = {}
    statement = text(f'SELECT * FROM "{table}" WHERE row_version < 0 AND id IN :ids').bindparams(
        bindparam("ids", expanding=True)
    )
    for start in range(0, len(ids), _CHUNK):
        chunk = list(ids[start : start + _CHUNK])
        for row in connection.execute(statement, {"ids": chunk}).mappings():
            found[str(row["id"])] = dict(row)
    return found


def compare(connection: Connection, rows: Sequence[RowChange]) -> ReconcileStats:
    """Queue ops for pulled rows whose unseen local copy knows a lost state."""
    stats = ReconcileStats()
    by_table: dict[str, list[RowChange]] = {}
    for row in rows:
        spec = TABLES.get(row.table)
        if spec is None or spec.pseudo or spec.server_managed:
            continue
        by_table.setdefault(row.table, []).append(row)
    for table, changes in by_table.items():
        ids = [change.row_id for change in changes]
        unseen = _unseen_rows(connection, table, ids)
        if not unseen:
            continue
        kept = local.pending_fields(connection, table, list(unseen))
        names = _comparable(table)
        for change in changes:
            current = unseen.get(change.row_id)
            if current is not None:
                _compare_row(connection, table, names, current, change, kept, stats)
    return stats


def _compare_row(
    connection: Connection,
    table: str,
    names: list[str],
    current: dict[str, Any],
    change: RowChange,
    kept: dict[str, set[str]],
    stats: ReconcileStats,
) -> None:
    pending_names = kept.get(change.row_id, set())
    if pending_names:
        _rebase_unsent_edit(connection, table, change)
    theirs = {
        name: to_local(table, name, change.values[name])
        for name in names
        if name in change.values and name not in pending_names
    }
    differing = [
        name for name, value in theirs.items() if not same_local(table, name, current[name], value)
    ]
    local_deleted = bool(current["deleted"])
    server_deleted = bool(change.values.get("deleted", local_deleted))
    delete_differs = "deleted" not in pending_names and local_deleted != server_deleted
    if not differing and not delete_differs:
        return
    settled = verdict(
        old_version(int(current["row_version"])),
        change.row_version,
        to_wire(table, "updated_at", current.get("updated_at")),
        change.values.get("updated_at"),
        change.restore_version,
    )
    if settled is Verdict.SERVER:
        return
    if delete_differs and local_deleted:
        # Our delete was lost: deleting again wins over any edit (SYNC.md).
        local.queue_op(
            connection, table, change.row_id, kind="delete", base_version=change.row_version
        )
        stats.reapplied += 1
        return
    mine = {name: current[name] for name in differing}
    base: dict[str, Any] = {}
    if settled is Verdict.APPLY:
        base = {name: theirs[name] for name in differing}
    restored = change.restored if _both_moved(current, change) else None
    if settled is Verdict.CONFLICT and restored is not None:
        mine, base = _three_way(table, current, theirs, differing, restored)
    # The server's copy is deleted, ours lives. Deleted as at the backup: our
    # restore was lost, send it again. Deleted after the restore: that delete wins
    # (the pull applies it here); our fields go as edits of a deleted row, which
    # the server keeps as delete-versus-edit records.
    if delete_differs and not _moved_since_restore(change.row_version, change.restore_version):
        mine["deleted"] = 0
        base["deleted"] = 1
    if not mine:
        return
    if settled is Verdict.APPLY or _only_lost_edits(mine, restored):
        stats.reapplied += 1
    else:
        stats.conflicting += 1
    local.queue_op(
        connection, table, change.row_id, fields=mine, base=base, base_version=change.row_version
    )


def _rebase_unsent_edit(connection: Connection, table: str, change: RowChange) -> None:
    """Give the row's unsent edit the server's value as base where the restore lost its base.

    An edit's base is the value the rep saw. When the edit was made on a state the
    restore lost (its base version is past the row's version at the restore) and
    the server has not changed the field since the restore, the server's value is
    an older state of the same history: the edit applies on it, as it would have
    before the restore. Left as it is, it would meet the server's older value as a
    conflict, and an older value of ours sent again (a lost conflict record) could
    then win over it. A base from before the backup, a field the server changed
    since the restore, or a server that cannot tell: the base stays and the
    server's merge decides. Only the open op changes (a frozen batch never does).
    """
    restore_version, restored = change.restore_version, change.restored
    if restore_version is None or restored is None:
        return
    op = local.open_ops(connection, table, [change.row_id]).get(change.row_id)
    if op is None or op.created or old_version(op.base_version) <= restore_version:
        return
    rebased: dict[str, Any] = {}
    for name, base in op.base.items():
        if name not in op.fields or name in restored or name not in change.values:
            continue
        if name in SERVER_STAMPED_FIELDS or name in ROW_META_FIELDS or name == "deleted":
            continue
        theirs = to_local(table, name, change.values[name])
        if not same_local(table, name, base, theirs):
            rebased[name] = theirs
    if rebased:
        local.set_open_base(connection, op.op_id, {**op.base, **rebased})


def _both_moved(current: dict[str, Any], change: RowChange) -> bool:
    """Whether our copy knows a state the restore lost and the server's row moved since."""
    restore_version = change.restore_version
    return _moved_since_restore(
        old_version(int(current["row_version"])), restore_version
    ) and _moved_since_restore(change.row_version, restore_version)


def _three_way(
    table: str,
    current: dict[str, Any],
    theirs: dict[str, Any],
    differing: list[str],
    restored: dict[str, Any],
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Our differing fields to send when both sides moved, each with its base.

    ``restored`` holds the fields the server changed since the restore with their
    values then: the state both sides share. A field the server did not change
    still has that value, so ours is a lost edit: sent with the server's value as
    base, the merge applies it. A field the server changed that we still hold at
    the restore's value was changed only there: not sent, the pull takes it.
    Changed on both sides: sent with the restore's value as base, so the server
    keeps a conflict record (or applies ours if its value came back to the base).
    """
    mine: dict[str, Any] = {}
    base: dict[str, Any] = {}
    for name in differing:
        if name not in restored:
            mine[name], base[name] = current[name], theirs[name]
            continue
        then = to_local(table, name, restored[name])
        if not same_local(table, name, current[name], then):
            mine[name], base[name] = current[name], then
    return mine, base


def _only_lost_edits(mine: dict[str, Any], restored: dict[str, Any] | None) -> bool:
    """Whether every field we send is one the server left alone since the restore."""
    return restored is not None and not any(name in restored for name in mine)


def finish(connection: Connection) -> ReconcileStats:
    """Queue again what the server lacks, give back versions, clear the flag."""
    stats = ReconcileStats()
    capture.set_capture(connection, False)
    for table in MODEL_TABLES:
        if TABLES[table].server_managed:
            connection.exec_driver_sql(
                f'UPDATE "{table}" SET row_version = -row_version - 1 WHERE row_version < 0'
            )
            continue
        stats.recreated += _recreate_missing(connection, table)
    _requeue_lost_conflicts(connection, stats)
    capture.set_capture(connection, True)
    local.set_state(connection, RECONCILE, None)
    local.set_state(connection, RECONCILE_FROM, None)
    return stats


def _recreate_missing(connection: Connection, table: str) -> int:
    # Unseen rows, and rows at version 0 the snapshot did not bring either: made here
    # after the reconciliation began (an interrupted one waits, epoch unknown, and
    # pushes meanwhile) and taken by the server, which a later restore then lost.
    # One still waiting for its creation has an open or frozen op: left as it is; one
    # the server refused keeps its refusal (sent again only as resend.py decides).
    rows = [
        dict(row)
        for row in connection.execute(
            text(
                f'SELECT * FROM "{table}" WHERE row_version < 0 OR (row_version = 0 AND id '
                "NOT IN (SELECT row_id FROM outbox WHERE table_name = :t AND state = 'rejected'))"
            ),
            {"t": table},
        ).mappings()
    ]
    if not rows:
        return 0
    ids = [str(row["id"]) for row in rows]
    spec_fields = {*TABLES[table].fields, "deleted"}
    open_ops = local.open_ops(connection, table, ids)
    frozen_creates = local.frozen_creates(connection, table, ids)
    for row in rows:
        row_id = str(row["id"])
        # What capture records for a new row: the protocol's fields (no local columns).
        values = {name: value for name, value in row.items() if name in spec_fields}
        kind = "delete" if row["deleted"] else "upsert"
        op = open_ops.get(row_id)
        if op is not None:
            if not op.created:
                # An unsent edit of a row the server lost: send the whole row instead.
                local.make_create(connection, op.op_id, values, kind)
        elif row_id not in frozen_creates:
            local.queue_op(connection, table, row_id, kind=kind, fields=values, created=True)
    connection.execute(
        text(f'UPDATE "{table}" SET row_version = 0 WHERE id IN :ids').bindparams(
            bindparam("ids", expanding=True)
        ),
        {"ids": ids},
    )
    return len(rows)


def _requeue_lost_conflicts(connection: Connection, stats: ReconcileStats) -> None:
    """Drop conflict records the server lost; this device's open ones are sent again.

    Only the device that made the losing change sends it again (every device of
    the territory holds the record), so one lost record gives one new one.
    """
    device = local.get_state(connection, local.DEVICE_ID)
    lost = connection.execute(
        text(
            "SELECT id, table_name, row_id, field, status, record FROM sync_conflict "
            "WHERE row_version < 0"
        )
    ).all()
    for conflict_id, table, row_id, name, status, raw in lost:
        record = json.loads(raw) if raw else {}
        ours = record.get("device_id") == device
        if ours and status == "open" and table in MODEL_TABLES and not TABLES[table].server_managed:
            _requeue_conflict(connection, str(table), str(row_id), str(name), record)
            stats.conflicting += 1
        local.drop_open_ops(connection, CONFLICT_TABLE, str(conflict_id))
        connection.execute(text("DELETE FROM sync_conflict WHERE id = :i"), {"i": conflict_id})


def _requeue_conflict(
    connection: Connection, table: str, row_id: str, name: str, record: dict[str, Any]
) -> None:
    exists = connection.execute(
        text(f'SELECT row_version FROM "{table}" WHERE id = :i'), {"i": row_id}
    ).first()
    if exists is None or name not in TABLES[table].fields:
        return
    # An op of its own: the row's open op may carry another value of the same field.
    local.freeze_open_op(connection, table, row_id)
    mine = {name: to_local(table, name, record.get("mine"))}
    # Without a base: the losing value comes back as a record (or kept beside the
    # other in notes), never as the row's value. With the record's base it was
    # applied whenever the restore had also lost the winning value, inverting the
    # outcome nobody chose; and when refused, the client put that old base on the
    # row while the server kept its value (the row never moved: no pull fixed it).
    local.queue_op(
        connection,
        table,
        row_id,
        fields=mine,
        base={},
        base_version=old_version(int(exists[0])),
    )
