"""POST /v1/sync/pull: changes in server order, paged, per stream (territory).

Cursors are opaque to clients:

- ``log:<n>``: every change of the stream numbered up to ``n`` was delivered;
  the next page reads the change log after ``n``. Log entries whose row has
  moved on to a later version are skipped: that later change is further on in
  the same log and delivers the row's current state.
- ``snap:<high>:<table>:<after>``: a snapshot (first sync or resync) in keyset
  order (tables parents-first, then id); ``high`` is the stream's last change
  number when the snapshot began. When the snapshot ends the cursor becomes
  ``log:<high>``, so a change made during the snapshot arrives (again) from the
  log; clients apply a row only when its row_version is newer than theirs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Text, and_, cast, func, or_, select
from sqlalchemy.orm import Session

from fieldrep.server.core.db import Database
from fieldrep.server.core.errors import ApiError
from fieldrep.server.models import (
    AuditEntry,
    ChangeLog,
    RestoreMark,
    ServerRestore,
    ServerRow,
    SyncStream,
    Territory,
    User,
)
from fieldrep.server.services.rowstore import current_epoch
from fieldrep.server.services.scope import Caller, scope_of, visible_streams
from fieldrep.sync.protocol import (
    TABLE_ORDER,
    PullRequest,
    PullResponse,
    Reason,
    UserInfo,
)

_TABLE_POSITION = {name: index for index, name in enumerate(TABLE_ORDER)}
#: Row ids per audit lookup of a reconciling pull's page.
_HISTORY_CHUNK = 500


@dataclass(frozen=True)
class Cursor:
    """Where a client stands in one stream."""

    snapshot: bool
    change_no: int  # log: last delivered number; snapshot: the high-water mark
    table: str = ""
    after: str = ""

    def text(self) -> str:
        if self.snapshot:
            return f"snap:{self.change_no}:{self.table}:{self.after}"
        return f"log:{self.change_no}"


def parse_cursor(stream: str, text: str) -> Cursor:
    """Read a cursor a client sent back; 400 when it was not made by this server."""
    try:
        kind, _, rest = text.partition(":")
        if kind == "log":
            number = int(rest)
            if number >= 0:
                return Cursor(False, number)
        elif kind == "snap":
            high, table, after = rest.split(":", 2)
            if int(high) >= 0 and table in _TABLE_POSITION and len(after) <= 36:
                return Cursor(True, int(high), table, after)
    except ValueError:
        pass
    raise ApiError(400, Reason.BAD_REQUEST, details={"stream": stream, "cursor": text[:100]})


class PageBuilder:
    """Collects the changes of one pull as JSON fragments, values as stored.

    Pull pages are the bulk of the traffic: the stored JSON of each row goes out
    as it is, without being parsed and serialised again. Stream, table and row
    ids need no escaping: they are server-made UUIDs, declared table names and
    row ids that matched the protocol's UUID pattern when first pushed.

    With a :class:`RestoreView` (a device reconciling), rows changed since the
    view's restore wait for :meth:`complete`, which reads their history for the
    whole page at once.
    """

    def __init__(self, view: RestoreView | None = None) -> None:
        self.fragments: list[str] = []
        self.user_ids: set[str] = set()
        self.view = view
        # (position in fragments, stream, change number, row) of rows still to complete
        self._waiting: list[tuple[int, SyncStream, int | None, Any]] = []

    def __len__(self) -> int:
        return len(self.fragments)

    def add(self, stream: SyncStream, change_no: int | None, row: Any) -> None:
        _table, _id, row_version, _deleted, _values, updated_by, author, row_no, kept = row
        if updated_by:
            self.user_ids.add(updated_by)
        if author:
            self.user_ids.add(author)
        if self.view is None:
            restored = _restore_version(stream, row_version, row_no, kept)
            self.fragments.append(_fragment(stream, change_no, row, _dumps(restored)))
        elif row_no <= self.view.mark(stream.territory_id):
            # Unchanged since the view's restore: at the same version, nothing changed.
            tail = f'{row_version},"restored":{{}}'
            self.fragments.append(_fragment(stream, change_no, row, tail))
        else:
            self._waiting.append((len(self.fragments), stream, change_no, row))
            self.fragments.append("")

    def complete(self, session: Session) -> None:
        """Fill in the rows that changed since the view's restore (one query per table)."""
        if self.view is None or not self._waiting:
            return
        keys = [(row[0], row[1]) for _at, _stream, _no, row in self._waiting]
        histories = self.view.histories(session, keys)
        for at, stream, change_no, row in self._waiting:
            version, restored = histories.get((row[0], row[1]), (0, None))
            tail = f'{version},"restored":{_dumps(restored)}'
            self.fragments[at] = _fragment(stream, change_no, row, tail)
        self._waiting = []


def _fragment(stream: SyncStream, change_no: int | None, row: Any, restore_tail: str) -> str:
    """One change as JSON; ``restore_tail`` is the JSON after ``"restore_version":``."""
    table, row_id, row_version, deleted, values_json = row[:5]
    number = "null" if change_no is None else change_no
    flag = "true" if deleted else "false"
    return (
        f'{{"stream":"{stream.territory_id}","change_no":{number},"table":"{table}",'
        f'"row_id":"{row_id}","row_version":{row_version},"deleted":{flag},'
        f'"values":{values_json},"restore_version":{restore_tail}}}'
    )


@dataclass(frozen=True)
class RestoreView:
    """Rows as a device reconciling from an older epoch needs them.

    The restore that counts is the first one after the device's epoch: there the
    server's history and the device's parted, whatever restores followed (each
    later backup was taken after it, so it carries the earlier restores and
    their marks). Its version of a row is the lowest across those restores, so
    taking it is conservative: a possible extra conflict, never a lost edit.
    ``marks`` holds each stream's change number at that restore (a stream
    without one began after it; an unknown epoch has none: every change counts).
    """

    marks: dict[str, int]

    @classmethod
    def load(cls, session: Session, known_epoch: str, epoch: str) -> RestoreView | None:
        """The view for a device that knew ``known_epoch`` (None: no restore since)."""
        if known_epoch == epoch:
            return None
        first = session.scalar(
            select(func.min(ServerRestore.restore_no)).where(
                ServerRestore.epoch_before == known_epoch
            )
        )
        if first is None:
            return cls({})
        marks = session.execute(
            select(RestoreMark.territory_id, RestoreMark.change_no).where(
                RestoreMark.restore_no == first
            )
        ).all()
        return cls({str(territory_id): int(change_no) for territory_id, change_no in marks})

    def mark(self, territory_id: str) -> int:
        return self.marks.get(territory_id, 0)

    def histories(
        self, session: Session, keys: list[tuple[str, str]]
    ) -> dict[tuple[str, str], tuple[int, dict[str, Any] | None]]:
        """Each row's version at the restore and its changed fields' values then.

        Read from the audit trail (never pruned): the row's first change after
        the mark was made from its version then, and each field's first change
        after it holds its old value. A row inserted after the mark shares no
        state with a device's copy (it was created again, by a device that held
        it, or anew): version 0 and no values, so each differing field is a
        conflict. A row without such entries is left out (the caller sends the
        same).
        """
        after_mark = or_(
            AuditEntry.territory_id.not_in(list(self.marks)),
            *(
                and_(AuditEntry.territory_id == territory_id, AuditEntry.change_no > change_no)
                for territory_id, change_no in self.marks.items()
            ),
        )
        by_table: dict[str, list[str]] = {}
        for table, row_id in keys:
            by_table.setdefault(table, []).append(row_id)
        entries: dict[tuple[str, str], list[Any]] = {}
        columns = (AuditEntry.row_id, AuditEntry.row_version, AuditEntry.action, AuditEntry.changes)
        for table, ids in by_table.items():
            # A page holds up to MAX_PULL_LIMIT rows: bound the parameters of one query.
            for start in range(0, len(ids), _HISTORY_CHUNK):
                chunk = ids[start : start + _HISTORY_CHUNK]
                query = select(*columns).where(
                    AuditEntry.table_name == table, AuditEntry.row_id.in_(chunk), after_mark
                )
                for entry in session.execute(query):
                    entries.setdefault((table, entry.row_id), []).append(entry)
        found: dict[tuple[str, str], tuple[int, dict[str, Any] | None]] = {}
        for key, history in entries.items():
            history.sort(key=lambda entry: int(entry.row_version))
            if history[0].action == "insert":
                found[key] = (0, None)
                continue
            restored: dict[str, Any] = {}
            for entry in history:
                for name, change in entry.changes.items():
                    restored.setdefault(name, change.get("old"))
            found[key] = (history[0].row_version - 1, restored)
        return found


@dataclass(frozen=True)
class PullPage:
    """One pull answer; :meth:`to_json` is the body of a :class:`PullResponse`."""

    epoch: str
    changes: PageBuilder
    cursors: dict[str, str]
    has_more: bool
    revoked_streams: list[str]
    users: list[UserInfo]
    #: The caller's territories (None: every one), for ``PullResponse.scope``.
    scope: list[str] | None = None

    def to_json(self) -> str:
        changes = ",".join(self.changes.fragments)
        users = ",".join(user.model_dump_json() for user in self.users)
        return (
            f'{{"epoch":{_dumps(self.epoch)},"changes":[{changes}],'
            f'"cursors":{_dumps(self.cursors)},"has_more":{"true" if self.has_more else "false"},'
            f'"revoked_streams":{_dumps(self.revoked_streams)},"users":[{users}],'
            f'"scope":{_dumps(self.scope)}}}'
        )

    def to_model(self) -> PullResponse:
        return PullResponse.model_validate_json(self.to_json())


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def _restore_version(
    stream: SyncStream, row_version: int, change_no: int, kept: int | None
) -> int | None:
    """The row's version when the server was last restored (None: never restored).

    A row not changed since the restore is still at that version; a changed one
    kept it at its first change after the restore.
    """
    if stream.restore_change_no is None:
        return None
    if change_no <= stream.restore_change_no:
        return row_version
    return kept


_ROW_COLUMNS = (
    ServerRow.table_name,
    ServerRow.id,
    ServerRow.row_version,
    ServerRow.deleted,
    cast(ServerRow.values, Text),
    ServerRow.values["updated_by"].as_string(),
    ServerRow.values["author_user_id"].as_string(),
    ServerRow.change_no,
    ServerRow.restore_version,
)


def _page_snapshot(
    session: Session, stream: SyncStream, cursor: Cursor, limit: int, out: PageBuilder
) -> tuple[Cursor, bool]:
    """Fill ``out`` from the snapshot; returns the new cursor and whether it ended."""
    position, after = _TABLE_POSITION[cursor.table], cursor.after
    while position < len(TABLE_ORDER):
        table = TABLE_ORDER[position]
        want = limit - len(out)
        if want <= 0:
            return Cursor(True, cursor.change_no, table, after), False
        query = (
            select(*_ROW_COLUMNS)
            .where(
                ServerRow.territory_id == stream.territory_id,
                ServerRow.table_name == table,
                ServerRow.id > after,
            )
            .order_by(ServerRow.id)
            .limit(want + 1)
        )
        rows = session.execute(query).all()
        for row in rows[:want]:
            out.add(stream, None, row)
        if len(rows) > want:
            return Cursor(True, cursor.change_no, table, rows[want - 1][1]), False
        position, after = position + 1, ""
    return Cursor(False, cursor.change_no), True


def _page_log(
    session: Session, stream: SyncStream, cursor: Cursor, limit: int, out: PageBuilder
) -> tuple[Cursor, bool]:
    want = limit - len(out)
    if want <= 0:
        return cursor, cursor.change_no >= stream.last_change_no
    query = (
        select(ChangeLog.change_no, *_ROW_COLUMNS)
        .join(
            ServerRow,
            and_(
                ServerRow.table_name == ChangeLog.table_name,
                ServerRow.id == ChangeLog.row_id,
                ServerRow.row_version == ChangeLog.row_version,
            ),
        )
        .where(
            ChangeLog.territory_id == stream.territory_id, ChangeLog.change_no > cursor.change_no
        )
        .order_by(ChangeLog.change_no)
        .limit(want + 1)
    )
    found = session.execute(query).all()
    page = found[:want]
    for row in page:
        out.add(stream, row[0], row[1:])
    last = page[-1][0] if page else cursor.change_no
    return Cursor(False, last), len(found) <= want


def _users(session: Session, ids: set[str]) -> list[UserInfo]:
    if not ids:
        return []
    users = session.scalars(select(User).where(User.id.in_(sorted(ids))))
    return [
        UserInfo(id=user.id, username=user.username, display_name=user.display_name, role=user.role)
        for user in users
    ]


def pull(database: Database, caller: Caller, request: PullRequest) -> PullPage:
    """One page of changes across the caller's streams, with the cursors to store."""
    with database.read() as session:
        epoch = current_epoch(session)
        if request.epoch is not None and request.epoch != epoch:
            raise ApiError(410, Reason.EPOCH_CHANGED, details={"epoch": epoch})
        streams = visible_streams(session, caller)
        revoked = sorted(set(request.cursors) - set(streams))
        cursors = {
            stream: parse_cursor(stream, request.cursors[stream])
            for stream in streams
            if stream in request.cursors
        }
        stale = sorted(
            stream
            for stream, cursor in cursors.items()
            if not cursor.snapshot
            and not streams[stream].horizon <= cursor.change_no <= streams[stream].last_change_no
        )
        if stale:
            raise ApiError(410, Reason.CURSOR_TOO_OLD, details={"epoch": epoch, "streams": stale})
        view = None
        if request.reconcile_from is not None:
            view = RestoreView.load(session, request.reconcile_from, epoch)
        changes = PageBuilder(view)
        new_cursors: dict[str, str] = {}
        has_more = False
        for stream_id in sorted(streams):
            stream = streams[stream_id]
            cursor = cursors.get(stream_id) or Cursor(True, stream.last_change_no, TABLE_ORDER[0])
            done = True
            if cursor.snapshot:
                cursor, done = _page_snapshot(session, stream, cursor, request.limit, changes)
            if done:
                cursor, done = _page_log(session, stream, cursor, request.limit, changes)
            new_cursors[stream_id] = cursor.text()
            has_more = has_more or not done
        changes.complete(session)
        scope = None if caller.territories is None else sorted(caller.territories)
        users = _users(session, changes.user_ids)
        return PullPage(epoch, changes, new_cursors, has_more, revoked, users, scope)


def user_info(session: Session, user: User) -> UserInfo:
    """A user as clients see them, with the territories in their scope."""
    scope = scope_of(session, user)
    territories = sorted(scope) if scope is not None else []
    query = select(Territory.id, Territory.name).where(Territory.id.in_(territories))
    names: dict[str, str] = {row[0]: row[1] for row in session.execute(query)}
    return UserInfo(
        id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        territory_ids=territories,
        territory_names=names,
    )
