"""One sync cycle: push the outbox in frozen batches, then pull until done.

The engine works on its own engine/connections (WAL), so the rep keeps editing
while a sync runs. It only holds the write lock for short transactions: freezing
a batch, recording a push answer, applying one pulled page with its cursors.
Edits made in between land in new outbox ops, which the pull never overwrites.

Only one sync runs per profile at a time: a lock file beside the database
(``filelock``, which works the same on Windows, macOS and Linux).
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import filelock
import httpx
from sqlalchemy import Connection, Engine, text
from tenacity.wait import WaitBaseT

from fieldrep.i18n import N_, _
from fieldrep.storage import derived
from fieldrep.storage.db import open_database
from fieldrep.sync import capture, local, reconcile, resend, territories, tokens
from fieldrep.sync.apply import RowChange, apply_rows
from fieldrep.sync.client import NotSignedIn, ResyncNeeded, SyncClient, SyncError
from fieldrep.sync.local import OutboxOp
from fieldrep.sync.protocol import (
    CONFLICT_TABLE,
    DEFAULT_PULL_LIMIT,
    FEATURE_RECONCILE_FROM,
    ROW_META_FIELDS,
    SERVER_STAMPED_FIELDS,
    TABLES,
    Change,
    OpResult,
    PullRequest,
    PushOp,
    PushRequest,
    Reason,
)
from fieldrep.sync.refusals import Refusal
from fieldrep.sync.values import to_local, to_wire

log = logging.getLogger("fieldrep.sync")

PUSH_BATCH_SIZE = 500
# Namespace of the op ids derived from an outbox op (e.g. the delete after a create).
_DERIVED_OPS = uuid.UUID("6f1d7c2e-3b7a-4c55-9a43-1f0e8c7d2b90")

Progress = Callable[[str, int, int | None], None]

STAGE_PUSH = N_("Sending changes")
STAGE_PULL = N_("Receiving changes")


class SyncBusy(SyncError):
    """Another sync of this profile is running."""

    template = N_("A sync is already running for this profile.")


@dataclass(frozen=True)
class RejectedChange:
    """A change the server refused and why (worded in the language of the moment)."""

    table: str
    row_id: str
    refusal: Refusal

    @property
    def reason(self) -> str:
        """The reason in the current language."""
        return self.refusal.text()


@dataclass
class SyncSummary:
    """What one sync did, for the status line and the GUI."""

    pushed: int = 0
    #: Changes made by others (other people or this rep's other devices).
    pulled: int = 0
    #: Our own pushed changes coming back with their new row_version: bookkeeping.
    echoed: int = 0
    merged: int = 0
    conflicts: int = 0
    rejected: list[RejectedChange] = field(default_factory=list)
    resynced: bool = False
    batches: int = 0
    pages: int = 0

    def line(self) -> str:
        """A one-line summary in the current language."""
        text_ = _(
            "Sync done: {pushed} sent, {pulled} received, {merged} merged, "
            "{conflicts} conflicts, {rejected} refused."
        )
        return text_.format(
            pushed=self.pushed,
            pulled=self.pulled,
            merged=self.merged,
            conflicts=self.conflicts,
            rejected=len(self.rejected),
        )


def lock_path(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".sync.lock")


@contextmanager
def sync_lock(db_path: Path) -> Iterator[None]:
    """Hold the profile's sync lock or raise :class:`SyncBusy` at once."""
    lock = filelock.FileLock(str(lock_path(db_path)), timeout=0)
    try:
        lock.acquire()
    except filelock.Timeout as error:
        raise SyncBusy() from error
    try:
        yield
    finally:
        lock.release()


class SyncEngine:
    """Runs sync cycles of one local database against its server."""

    def __init__(
        self,
        db_path: Path | str,
        *,
        transport: httpx.BaseTransport | None = None,
        max_attempts: int = 5,
        wait: WaitBaseT | None = None,
        push_batch_size: int = PUSH_BATCH_SIZE,
        pull_limit: int = DEFAULT_PULL_LIMIT,
        engine: Engine | None = None,
    ) -> None:
        self.db_path = Path(db_path)
        self._transport = transport
        self._max_attempts = max_attempts
        self._wait = wait
        self.push_batch_size = push_batch_size
        self.pull_limit = pull_limit
        self._engine = engine
        # Test hooks: called between the phases of a cycle (e.g. to edit meanwhile).
        self.after_push: Callable[[], None] | None = None
        # The row_versions this sync's pushes gave each row: telling echoes from news.
        self._own_versions: dict[tuple[str, str], set[int]] = {}
        # The server's optional features (MetaResponse.features), asked once a sync.
        self._features: list[str] | None = None

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = open_database(self.db_path)
        return self._engine

    def close(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def client(self) -> SyncClient:
        """A client for the signed-in server, with tokens from the keyring."""
        with self.engine.connect() as connection:
            server = local.get_state(connection, local.SERVER_URL)
            user = local.get_state(connection, local.USER_NAME)
        if not server or not user:
            raise NotSignedIn()
        stored = tokens.load_tokens(server, user)
        if stored is None:
            raise NotSignedIn()
        return SyncClient(
            server,
            tokens=stored,
            save_tokens=lambda new: tokens.save_tokens(server, user, new),
            transport=self._transport,
            max_attempts=self._max_attempts,
            wait=self._wait,
        )

    def sync(self, progress: Progress | None = None) -> SyncSummary:
        """One full cycle (push, then pull until done) under the profile lock."""
        report = progress or (lambda _stage, _done, _total: None)
        with sync_lock(self.db_path), self.client() as client:
            summary = SyncSummary()
            run_id = str(uuid.uuid4())
            self._own_versions = {}
            self._features = None
            self._resend_refused()
            # Every request carries the protocol version (426 when unsupported) and the
            # pull carries the epoch (410 when it changed). Only with changes to send is
            # the epoch asked first: after a restore, what the server lost must be
            # compared before our pushes give its rows new (reused) versions.
            if self._epoch_changed(client):
                self._start_resync(summary, epoch_changed=True)
                self._pull(client, summary, report, run_id)
            self._push(client, summary, report)
            if self.after_push is not None:
                self.after_push()
            lost = self._pull(client, summary, report, run_id)
            if self._resend_refused() or lost:
                # What the restored server lost, or a refused new row whose parent this
                # pull brought back, is queued again: send it in this sync.
                self._push(client, summary, report)
                self._pull(client, summary, report, run_id)
            with self.engine.begin() as connection:
                local.set_state(connection, local.LAST_SYNC, _now())
                local.set_state(connection, local.LAST_SYNC_RUN, run_id)
            return summary

    def _resend_refused(self) -> int:
        """Queue again the refused new rows whose parents are live now (see resend)."""
        with self.engine.begin() as connection:
            return resend.resend_refused_creations(connection)

    # -- epoch and resync

    def _epoch_changed(self, client: SyncClient) -> bool:
        """Whether the server's epoch differs from ours (asked only before a push)."""
        with self.engine.connect() as connection:
            epoch = local.get_state(connection, local.SERVER_EPOCH)
            waiting = local.pending_count(connection)
        if epoch is None or waiting == 0:
            return False
        return client.meta().epoch != epoch

    def _start_resync(self, summary: SyncSummary, *, epoch_changed: bool) -> None:
        """Forget the cursors so the next pull is a snapshot; the outbox stays.

        After an epoch change (a restore from backup) the snapshot also reconciles:
        see :mod:`fieldrep.sync.reconcile`; the marks commit with the cursors. With no
        cursor sent, no lost territory can be named as revoked: the pull checks the
        scope when it ends instead (:mod:`fieldrep.sync.territories`).
        """
        with self.engine.begin() as connection:
            known = local.get_state(connection, local.SERVER_EPOCH)
            local.clear_cursors(connection)
            territories.mark(connection)
            local.set_state(connection, local.SERVER_EPOCH, None)
            if epoch_changed:
                reconcile.begin(connection, known)
        summary.resynced = True

    # -- push

    def _push(self, client: SyncClient, summary: SyncSummary, report: Progress) -> None:
        with self.engine.connect() as connection:
            total = local.pending_count(connection)
            frozen = local.frozen_batch_count(connection)
            device = local.get_state(connection, local.DEVICE_ID)
        if not device:
            raise NotSignedIn()
        done = 0
        report(STAGE_PUSH, done, total)
        # Every batch frozen before this push, then the open ops: new edits during the
        # sync go to the next cycle once this many batches ran.
        for _round in range(frozen + total // self.push_batch_size + 2):
            with self.engine.begin() as connection:
                batch = local.frozen_batch(connection) or local.freeze_batch(
                    connection, self.push_batch_size
                )
                if batch is None:
                    return
                batch_id, ops = batch
                local.note_attempt(connection, batch_id)
            request = PushRequest(
                device_id=device,
                batch_id=uuid.UUID(batch_id),
                ops=[push_op for op in ops for push_op in to_push_ops(op)],
            )
            answer = client.push(request)
            self._record_push(batch_id, ops, answer.results, summary)
            summary.batches += 1
            done += len(ops)
            report(STAGE_PUSH, done, total)

    def _record_push(
        self, batch_id: str, ops: list[OutboxOp], results: list[OpResult], summary: SyncSummary
    ) -> None:
        by_op = {str(result.op_id): result for result in results}
        with self.engine.begin() as connection:
            capture.set_capture(connection, False)
            plain: list[OutboxOp] = []
            unanswered: list[str] = []
            for op in ops:
                outcomes = [by_op.get(str(op_id)) for op_id in _push_op_ids(op)]
                known = [result for result in outcomes if result is not None]
                self._note_own_versions(op, known)
                if not known:
                    unanswered.append(op.op_id)
                elif op.table != CONFLICT_TABLE and all(r.status == "applied" for r in known):
                    plain.append(op)
                else:
                    self._record_op(connection, op, known, summary)
            # The common case in bulk: applied as sent. Acknowledge together; only rows
            # with remembered server values need a closer look.
            local.acknowledge(connection, [op.op_id for op in plain])
            summary.pushed += len(plain)
            shadowed = _shadowed_rows(connection, plain)
            for op in plain:
                if (op.table, op.row_id) in shadowed:
                    _restore_server_values(connection, op, set())
            if unanswered:
                # The server did not answer for these ops: a batch of their own, resent
                # as it is next time (they stay frozen, never coalesced into).
                retry_batch = local.new_batch(connection)
                local.move_to_batch(connection, unanswered, retry_batch)
            capture.set_capture(connection, True)
            local.finish_batch(connection, batch_id)

    def _note_own_versions(self, op: OutboxOp, results: list[OpResult]) -> None:
        versions = {
            result.row_version
            for result in results
            if result.status != "rejected" and result.row_version is not None
        }
        if versions:
            self._own_versions.setdefault((op.table, op.row_id), set()).update(versions)

    def _record_op(
        self, connection: Connection, op: OutboxOp, results: list[OpResult], summary: SyncSummary
    ) -> None:
        rejected = [result for result in results if result.status == "rejected"]
        if rejected and len(rejected) == len(results):
            refusal = Refusal.of_result(rejected[0])
            local.reject(connection, op.op_id, refusal.stored())
            summary.rejected.append(RejectedChange(op.table, op.row_id, refusal))
            if op.table != CONFLICT_TABLE:
                _restore_server_values(connection, op, set(op.fields))
            return
        local.acknowledge(connection, [op.op_id])
        summary.pushed += 1
        not_taken: set[str] = set()
        for result in results:
            if result.status == "merged":
                summary.merged += 1
                summary.conflicts += len(result.conflicts)
                not_taken.update(result.conflicts)
                not_taken.update(result.kept_both)
                for issue in result.refused:
                    not_taken.add(issue.field)
                    refusal = Refusal.of_issue(issue)
                    summary.rejected.append(RejectedChange(op.table, op.row_id, refusal))
                    local.keep_refused(connection, op, issue.field, refusal.stored())
            elif result.status == "rejected":
                not_taken.update(op.fields)
                summary.rejected.append(
                    RejectedChange(op.table, op.row_id, Refusal.of_result(result))
                )
        if op.table != CONFLICT_TABLE:
            _restore_server_values(connection, op, not_taken)

    # -- pull

    def _pull(
        self, client: SyncClient, summary: SyncSummary, report: Progress, run_id: str
    ) -> bool:
        """Pull until done; True when a finished reconciliation queued ops to send."""
        report(STAGE_PULL, 0, None)
        resyncs = 0
        while True:
            with self.engine.connect() as connection:
                reconciling = reconcile.pending(connection)
                known = reconcile.known_epoch(connection) if reconciling else None
                request = PullRequest(
                    epoch=local.get_state(connection, local.SERVER_EPOCH),
                    cursors=local.cursors(connection),
                    limit=self.pull_limit,
                )
                own_user = local.get_state(connection, local.USER_ID)
            if known is not None and self._server_has(client, FEATURE_RECONCILE_FROM):
                request.reconcile_from = known
            try:
                page = client.pull(request)
            except ResyncNeeded as error:
                resyncs += 1
                if resyncs > 2:
                    raise
                self._start_resync(summary, epoch_changed=error.code == Reason.EPOCH_CHANGED)
                continue
            with self.engine.begin() as connection:
                echoes = _own_echoes(connection, page.changes, self._own_versions)
                if _bulk_page(page.changes):
                    with _derived_suspended(connection):
                        _apply_page(connection, page.changes, run_id, own_user, reconciling)
                else:
                    _apply_page(connection, page.changes, run_id, own_user, reconciling)
                _store_users(connection, page.users)
                refused = territories.drop(connection, page.revoked_streams)
                if not page.has_more:
                    # Before a reconciliation finishes: a lost territory is not sent back.
                    refused += territories.drop_outside(connection, page.scope)
                local.set_cursors(connection, page.cursors)
                local.set_state(connection, local.SERVER_EPOCH, page.epoch)
            summary.rejected += [RejectedChange(r.table, r.row_id, r.refusal) for r in refused]
            summary.pulled += len(page.changes) - echoes
            summary.echoed += echoes
            summary.pages += 1
            report(STAGE_PULL, summary.pulled + summary.echoed, None)
            if not page.has_more:
                self._rebuild_derived_if_stale()
                return reconciling and self._finish_reconcile(summary)

    def _server_has(self, client: SyncClient, feature: str) -> bool:
        """Whether the server takes an optional request field (older ones refuse it)."""
        if self._features is None:
            self._features = client.meta().features
        return feature in self._features

    def _finish_reconcile(self, summary: SyncSummary) -> bool:
        with self.engine.begin() as connection:
            stats = reconcile.finish(connection)
            queued = local.pending_count(connection) > 0
        log.info("reconciled after an epoch change: %s", stats)
        summary.resynced = True
        return queued

    def _rebuild_derived_if_stale(self) -> None:
        """Rebuild search index and visit statistics once after a bulk snapshot."""
        with self.engine.begin() as connection:
            if local.get_state(connection, DERIVED_STALE) is None:
                return
            derived.rebuild_all(connection)
            local.set_state(connection, DERIVED_STALE, None)


# A snapshot page this big is applied with the derived-data triggers suspended; the
# derived tables are rebuilt once when the pull ends (the flag survives a crash).
BULK_PAGE_ROWS = 200
DERIVED_STALE = "derived_stale"


def _bulk_page(changes: list[Change]) -> bool:
    snapshot_rows = sum(1 for change in changes if change.change_no is None)
    return snapshot_rows >= BULK_PAGE_ROWS


@contextmanager
def _derived_suspended(connection: Connection) -> Iterator[None]:
    """Drop the derived-data triggers for this transaction only and mark them stale.

    The triggers come back before the commit (from the SQL they were made with), so
    a crash can never leave them missing; the stale flag commits with the page and
    makes the end of the pull rebuild the derived tables.
    """
    with derived.triggers_suspended(connection) as dropped:
        yield
    if dropped:
        local.set_state(connection, DERIVED_STALE, "1")


def _now() -> str:
    from fieldrep.storage.types import utcnow

    return utcnow().strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# -- building push ops


def _push_op_ids(op: OutboxOp) -> list[uuid.UUID]:
    first = uuid.UUID(op.op_id)
    if op.created and op.kind == "delete":
        return [first, uuid.uuid5(_DERIVED_OPS, op.op_id)]
    return [first]


def _wire_fields(op: OutboxOp, values: dict[str, Any]) -> dict[str, Any]:
    spec = TABLES[op.table].fields
    result: dict[str, Any] = {}
    for name, value in values.items():
        if name in ROW_META_FIELDS or name not in spec:
            continue
        if name in SERVER_STAMPED_FIELDS and not (op.created and name == "created_at"):
            continue
        result[name] = to_wire(op.table, name, value)
    return result


def to_push_ops(op: OutboxOp) -> list[PushOp]:
    """The protocol ops of one outbox op (stable: a retry builds the same ones)."""
    ids = _push_op_ids(op)
    if op.table == CONFLICT_TABLE:
        return [
            PushOp(
                op_id=ids[0],
                table=op.table,
                row_id=op.row_id,
                kind="upsert",
                fields=op.fields,
                base=op.base,
                base_version=reconcile.old_version(op.base_version),
            )
        ]
    fields = _wire_fields(op, op.fields)
    base = {} if op.created else _wire_fields(op, op.base)
    base = {name: value for name, value in base.items() if name in fields}
    if op.created:
        create = PushOp(
            op_id=ids[0],
            table=op.table,
            row_id=op.row_id,
            kind="upsert",
            fields=fields,
            base={},
            base_version=0,
        )
        if op.kind == "delete":
            # Created and deleted before it was ever pushed: create it, then delete it,
            # so every device learns the row existed and is gone.
            delete = PushOp(
                op_id=ids[1], table=op.table, row_id=op.row_id, kind="delete", base_version=0
            )
            return [create, delete]
        return [create]
    if op.kind == "delete":
        # The edits coalesced before the delete go with it (with their bases): the
        # server merges them into the row before deleting it, so the tombstone holds
        # them, or keeps them as conflict records if the row was already deleted.
        return [
            PushOp(
                op_id=ids[0],
                table=op.table,
                row_id=op.row_id,
                kind="delete",
                fields=fields,
                base=base,
                base_version=reconcile.old_version(op.base_version),
            )
        ]
    restoring = op.base.get("deleted") in (1, True) and op.fields.get("deleted") in (0, False)
    return [
        PushOp(
            op_id=ids[0],
            table=op.table,
            row_id=op.row_id,
            kind="restore" if restoring else "upsert",
            fields=fields,
            base=base,
            base_version=reconcile.old_version(op.base_version),
        )
    ]


# -- local effects of push answers


def _restore_server_values(connection: Connection, op: OutboxOp, names: set[str]) -> None:
    """Give fields the server did not take back their server value.

    The server value is the newest one a pull brought while the field was pending
    (the shadow), else the op's base. If the server changed the field after our
    last pull, the pull that follows brings it. A field edited again since (a
    newer pending op) keeps the rep's newest value: that op is pushed next.
    """
    still_pending = local.pending_fields(connection, op.table, [op.row_id]).get(op.row_id, set())
    if names:
        shadow = _shadow(connection, op.table, op.row_id)
        assignments: dict[str, Any] = {}
        for name in names - still_pending - {"id", "row_version"}:
            if name in shadow:
                assignments[name] = shadow[name]
            elif name in op.base:
                assignments[name] = op.base[name]
        if assignments:
            sets = ", ".join(f'"{name}" = :{name}' for name in assignments)
            connection.execute(
                text(f'UPDATE "{op.table}" SET {sets} WHERE id = :id'),
                {**assignments, "id": op.row_id},
            )
    _clear_shadow(connection, op.table, op.row_id, set(op.fields) - still_pending)


def _shadowed_rows(connection: Connection, ops: list[OutboxOp]) -> set[tuple[str, str]]:
    if not ops or connection.exec_driver_sql("SELECT 1 FROM sync_shadow LIMIT 1").first() is None:
        return set()
    rows = connection.exec_driver_sql("SELECT table_name, row_id FROM sync_shadow").all()
    return {(str(table), str(row_id)) for table, row_id in rows}


def _shadow(connection: Connection, table: str, row_id: str) -> dict[str, Any]:
    raw = connection.execute(
        text('SELECT "values" FROM sync_shadow WHERE table_name = :t AND row_id = :r'),
        {"t": table, "r": row_id},
    ).scalar()
    return {} if raw is None else dict(json.loads(raw))


def _set_shadow(connection: Connection, table: str, row_id: str, values: dict[str, Any]) -> None:
    if values:
        connection.execute(
            text(
                'INSERT INTO sync_shadow (table_name, row_id, "values") VALUES (:t, :r, :v) '
                'ON CONFLICT (table_name, row_id) DO UPDATE SET "values" = excluded."values"'
            ),
            {"t": table, "r": row_id, "v": json.dumps(values, ensure_ascii=False)},
        )
    else:
        connection.execute(
            text("DELETE FROM sync_shadow WHERE table_name = :t AND row_id = :r"),
            {"t": table, "r": row_id},
        )


def _clear_shadow(connection: Connection, table: str, row_id: str, names: set[str]) -> None:
    shadow = _shadow(connection, table, row_id)
    if shadow:
        _set_shadow(
            connection,
            table,
            row_id,
            {name: value for name, value in shadow.items() if name not in names},
        )


# -- applying pulled pages


def _own_echoes(
    connection: Connection, changes: list[Change], own_versions: dict[tuple[str, str], set[int]]
) -> int:
    """How many of ``changes`` only bring back what this sync pushed (read before applying).

    A change is an echo when every row_version between the local one and the
    pulled one came from our pushes: had anyone else changed the row in between
    (a merge), the pulled state carries their change too and is news.
    """
    echoes = 0
    for change in changes:
        ours = own_versions.get((change.table, change.row_id))
        if not ours or change.row_version not in ours:
            continue
        local_version = _local_version(connection, change.table, change.row_id)
        if local_version is None:
            continue
        between = range(reconcile.old_version(local_version) + 1, change.row_version + 1)
        if all(version in ours for version in between):
            echoes += 1
    return echoes


def _local_version(connection: Connection, table: str, row_id: str) -> int | None:
    if table == CONFLICT_TABLE:
        sql = "SELECT row_version FROM sync_conflict WHERE id = :i"
    elif table in TABLES and not TABLES[table].pseudo:
        sql = f'SELECT row_version FROM "{table}" WHERE id = :i'
    else:
        return None
    version = connection.execute(text(sql), {"i": row_id}).scalar()
    return None if version is None else int(version)


def _apply_page(
    connection: Connection,
    changes: list[Change],
    run_id: str,
    own_user: str | None,
    reconciling: bool = False,
) -> None:
    rows: list[RowChange] = []
    for change in changes:
        if change.table == CONFLICT_TABLE:
            _store_conflict(connection, change)
            continue
        values = dict(change.values)
        values["deleted"] = change.deleted
        rows.append(
            RowChange(
                change.table,
                change.row_id,
                change.row_version,
                values,
                change.values.get("updated_by"),
                snapshot=change.change_no is None,
                restore_version=change.restore_version,
                restored=change.restored,
            )
        )
    if reconciling:
        reconcile.compare(connection, rows)
    _remember_shadow(connection, rows)
    apply_rows(connection, rows, sync_run=run_id, own_user=own_user)


def _remember_shadow(connection: Connection, rows: list[RowChange]) -> None:
    """Keep the server values of pending fields a pull does not apply (see restore)."""
    by_table: dict[str, list[RowChange]] = {}
    for row in rows:
        by_table.setdefault(row.table, []).append(row)
    for table, changes in by_table.items():
        pending = local.pending_fields(connection, table, [c.row_id for c in changes])
        for change in changes:
            kept = pending.get(change.row_id)
            if not kept:
                continue
            shadow = _shadow(connection, table, change.row_id)
            for name in kept:
                if name in change.values:
                    shadow[name] = to_local(table, name, change.values[name])
            _set_shadow(connection, table, change.row_id, shadow)


def _store_conflict(connection: Connection, change: Change) -> None:
    values = change.values
    pending = local.pending_fields(connection, CONFLICT_TABLE, [change.row_id]).get(
        change.row_id, set()
    )
    record = json.dumps(values, ensure_ascii=False)
    existing = connection.execute(
        text("SELECT status, resolution, resolved_value FROM sync_conflict WHERE id = :i"),
        {"i": change.row_id},
    ).first()
    status = values.get("status", "open")
    resolution = values.get("resolution")
    resolved_value = json.dumps(values.get("resolved_value"), ensure_ascii=False)
    if existing is not None and pending:
        status, resolution, resolved_value = existing  # a local resolution is pending
    connection.execute(
        text(
            "INSERT INTO sync_conflict (id, territory_id, row_version, table_name, row_id, field, "
            "kind, status, resolution, resolved_value, record) VALUES (:id, :territory, :version, "
            ":table, :row, :field, :kind, :status, :resolution, :resolved, :record) "
            "ON CONFLICT (id) DO UPDATE SET row_version = excluded.row_version, "
            "status = excluded.status, resolution = excluded.resolution, "
            "resolved_value = excluded.resolved_value, record = excluded.record"
        ),
        {
            "id": change.row_id,
            "territory": values.get("territory_id", change.stream),
            "version": change.row_version,
            "table": values.get("table_name", ""),
            "row": values.get("row_id", ""),
            "field": values.get("field", ""),
            "kind": values.get("kind", "field"),
            "status": status,
            "resolution": resolution,
            "resolved": resolved_value,
            "record": record,
        },
    )


def _store_users(connection: Connection, users: list[Any]) -> None:
    for user in users:
        connection.execute(
            text(
                "INSERT INTO sync_user (id, username, display_name, role) VALUES (:i, :u, :d, :r) "
                "ON CONFLICT (id) DO UPDATE SET username = excluded.username, "
                "display_name = excluded.display_name, role = excluded.role"
            ),
            {"i": user.id, "u": user.username, "d": user.display_name, "r": user.role},
        )
