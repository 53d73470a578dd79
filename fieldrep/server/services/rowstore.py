"""Writing synced rows: stream numbers in commit order, the change log and the audit trail.

Every accepted change of a synced row goes through :class:`ChangeWriter` inside one
write transaction: it bumps the row's version, takes the next number of the
row's stream while holding that stream's lock (taken by :meth:`lock_streams`
before any row is read), appends to the change log and writes an audit entry
with each field's old and new value.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, Literal

from sqlalchemy import event, insert, select
from sqlalchemy.orm import Session

from fieldrep.server.core.security import new_epoch, new_secret, now_text
from fieldrep.server.models import AuditEntry, ChangeLog, ServerMeta, ServerRow, SyncStream

Action = Literal["insert", "update", "delete", "restore"]

EPOCH_KEY = "epoch"
SECRET_KEY = "token_secret"


def get_meta(session: Session, key: str) -> str | None:
    found = session.get(ServerMeta, key)
    return None if found is None else found.value


def set_meta(session: Session, key: str, value: str) -> None:
    found = session.get(ServerMeta, key)
    if found is None:
        session.add(ServerMeta(key=key, value=value))
    else:
        found.value = value


def ensure_initialised(session: Session) -> None:
    """Create the epoch and the token secret on first use."""
    if get_meta(session, EPOCH_KEY) is None:
        set_meta(session, EPOCH_KEY, new_epoch())
    if get_meta(session, SECRET_KEY) is None:
        set_meta(session, SECRET_KEY, new_secret())


def current_epoch(session: Session) -> str:
    epoch = get_meta(session, EPOCH_KEY)
    if epoch is None:
        raise RuntimeError("server database not initialised (run 'fieldrep server init')")
    return epoch


class UnknownStream(Exception):
    """A change for a territory that has no stream (no such territory)."""


class ChangeWriter:
    """Records accepted changes of one write transaction."""

    def __init__(self, session: Session, *, user_id: str, device_id: str | None) -> None:
        self.session = session
        self.user_id = user_id
        self.device_id = device_id
        self.now = now_text()
        self.streams: dict[str, SyncStream] = {}
        # Log and audit rows are written in bulk just before the transaction commits.
        self._log: list[dict[str, Any]] = []
        self._audit: list[dict[str, Any]] = []
        event.listen(session, "before_commit", self._write_records)

    def _write_records(self, session: Session) -> None:
        if self._log:
            session.execute(insert(ChangeLog), self._log)
            self._log = []
        if self._audit:
            session.execute(insert(AuditEntry), self._audit)
            self._audit = []

    def lock_streams(self, territory_ids: Iterable[str]) -> None:
        """Lock the counters of these territories (sorted, so lockers never deadlock).

        On PostgreSQL this is SELECT ... FOR UPDATE held until commit; on SQLite
        the write transaction already holds the database's write lock.
        """
        wanted = sorted(set(territory_ids) - set(self.streams))
        if not wanted:
            return
        query = (
            select(SyncStream)
            .where(SyncStream.territory_id.in_(wanted))
            .order_by(SyncStream.territory_id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
        for stream in self.session.scalars(query):
            self.streams[stream.territory_id] = stream

    def has_stream(self, territory_id: str) -> bool:
        return territory_id in self.streams

    def create_stream(self, territory_id: str) -> None:
        stream = SyncStream(territory_id=territory_id, last_change_no=0, horizon=0)
        self.session.add(stream)
        self.streams[territory_id] = stream

    def record(
        self,
        row: ServerRow,
        action: Action,
        changes: Mapping[str, tuple[Any, Any]],
        *,
        op_id: str | None = None,
    ) -> int:
        """Give ``row`` its next version and change number; log and audit the change."""
        stream = self.streams.get(row.territory_id)
        if stream is None:
            raise UnknownStream(row.territory_id)
        if (
            stream.restore_change_no is not None
            and (row.change_no or 0) <= stream.restore_change_no
        ):
            # The row's first change since the restore: keep the version the backup had.
            row.restore_version = row.row_version or 0
        stream.last_change_no += 1
        change_no = stream.last_change_no
        row.row_version = (row.row_version or 0) + 1
        row.change_no = change_no
        self._log.append(
            {
                "territory_id": row.territory_id,
                "change_no": change_no,
                "table_name": row.table_name,
                "row_id": row.id,
                "row_version": row.row_version,
            }
        )
        self._audit.append(
            {
                "at": self.now,
                "user_id": self.user_id,
                "device_id": self.device_id,
                "territory_id": row.territory_id,
                "table_name": row.table_name,
                "row_id": row.id,
                "action": action,
                "row_version": row.row_version,
                "change_no": change_no,
                "op_id": op_id,
                "changes": {name: {"old": old, "new": new} for name, (old, new) in changes.items()},
            }
        )
        return change_no

    def stamp(self, values: dict[str, Any]) -> None:
        """Set the informational who/when fields of a changed row."""
        values["updated_at"] = self.now
        values["updated_by"] = self.user_id

    def insert(
        self,
        table: str,
        row_id: str,
        territory_id: str,
        values: dict[str, Any],
        *,
        op_id: str | None = None,
    ) -> ServerRow:
        """Add a new row with ``values`` (stamped here) and record its insertion."""
        values.setdefault("created_at", self.now)
        if values.get("created_at") is None:
            values["created_at"] = self.now
        values["deleted_at"] = None
        values["territory_id"] = territory_id
        self.stamp(values)
        row = ServerRow(
            table_name=table,
            id=row_id,
            territory_id=territory_id,
            row_version=0,
            deleted=False,
            change_no=0,
            values=values,
        )
        self.session.add(row)
        self.record(
            row,
            "insert",
            {name: (None, value) for name, value in values.items() if value is not None},
            op_id=op_id,
        )
        return row
