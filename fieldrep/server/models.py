"""The server's own tables (never the client's models).

Synced rows live in one generic row store (``server_row``): the server merges by
field name using the declarations of :mod:`fieldrep.sync.protocol`, so it needs no
per-entity table. Instants are stored as protocol wire text (UTC, 'Z'), which
sorts correctly and means the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from typing import Any, ClassVar

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, MetaData, String, Text
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# JSON text on SQLite, binary JSONB on PostgreSQL.
JsonValue = JSON().with_variant(JSONB(), "postgresql")
# SQLite only auto-increments an INTEGER PRIMARY KEY.
AutoId = BigInteger().with_variant(Integer(), "sqlite")
Instant = String(32)
Id = String(36)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {str: Text(), int: Integer()}


class ServerMeta(Base):
    """Key/value facts of this server: epoch, token secret."""

    __tablename__ = "server_meta"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str]


class Territory(Base):
    """A sales territory: one sync stream."""

    __tablename__ = "territory"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    name: Mapped[str] = mapped_column(unique=True)
    region: Mapped[str | None]
    manager_user_id: Mapped[str | None] = mapped_column(Id, index=True)
    created_at: Mapped[str] = mapped_column(Instant)


class User(Base):
    """A person who signs in; ``manager_user_id`` puts a rep in a manager's team."""

    __tablename__ = "server_user"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    username: Mapped[str] = mapped_column(unique=True)
    display_name: Mapped[str]
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str]
    manager_user_id: Mapped[str | None] = mapped_column(Id, index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[str] = mapped_column(Instant)


class Assignment(Base):
    """A user assigned to a territory."""

    __tablename__ = "territory_assignment"

    user_id: Mapped[str] = mapped_column(Id, ForeignKey("server_user.id"), primary_key=True)
    territory_id: Mapped[str] = mapped_column(
        Id, ForeignKey("territory.id"), primary_key=True, index=True
    )


class Device(Base):
    """A signed-in installation; revoking it ends every token it holds."""

    __tablename__ = "device"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    user_id: Mapped[str] = mapped_column(Id, ForeignKey("server_user.id"), index=True)
    name: Mapped[str]
    created_at: Mapped[str] = mapped_column(Instant)
    last_seen_at: Mapped[str | None] = mapped_column(Instant)
    revoked_at: Mapped[str | None] = mapped_column(Instant)
    # Bumped to invalidate every access token issued before (revocation, reuse).
    token_generation: Mapped[int] = mapped_column(default=0)


class RefreshToken(Base):
    """A rotating refresh token bound to a device; only its SHA-256 is stored."""

    __tablename__ = "refresh_token"

    id: Mapped[str] = mapped_column(Id, primary_key=True)
    device_id: Mapped[str] = mapped_column(Id, ForeignKey("device.id"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[str] = mapped_column(Instant)
    expires_at: Mapped[str] = mapped_column(Instant)
    used_at: Mapped[str | None] = mapped_column(Instant)
    revoked_at: Mapped[str | None] = mapped_column(Instant)
    replaced_by: Mapped[str | None] = mapped_column(Id)


class SyncStream(Base):
    """The change counter of one territory; a change takes the next number under its lock.

    ``horizon``: change numbers up to it were pruned from the log; a log cursor
    below it gets HTTP 410.

    ``restore_change_no``: the counter when the server was last restored from a
    backup (``fieldrep server reset-epoch``); null while it never was. A row whose
    change number is above it changed after that restore.
    """

    __tablename__ = "sync_stream"

    territory_id: Mapped[str] = mapped_column(Id, primary_key=True)
    last_change_no: Mapped[int] = mapped_column(BigInteger, default=0)
    horizon: Mapped[int] = mapped_column(BigInteger, default=0)
    restore_change_no: Mapped[int | None] = mapped_column(BigInteger)


class ServerRestore(Base):
    """One restore from a backup (``fieldrep server reset-epoch``), numbered in order.

    ``epoch_before`` is the backup's epoch: the one devices that may hold changes
    the restore lost still know; ``epoch`` is the one the restore gave. The history
    lives in the database, so a backup taken later carries the restores before it:
    a device that slept through several restores is answered relative to the first
    one after its epoch (see :class:`RestoreMark`).
    """

    __tablename__ = "server_restore"

    restore_no: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    epoch_before: Mapped[str | None] = mapped_column(String(64), index=True)
    epoch: Mapped[str] = mapped_column(String(64))
    restored_at: Mapped[str] = mapped_column(Instant)


class RestoreMark(Base):
    """A stream's change number at one restore: its changes numbered above it came after.

    A stream without a mark for a restore began after it.
    """

    __tablename__ = "restore_mark"

    restore_no: Mapped[int] = mapped_column(
        ForeignKey("server_restore.restore_no"), primary_key=True, autoincrement=False
    )
    territory_id: Mapped[str] = mapped_column(Id, primary_key=True)
    change_no: Mapped[int] = mapped_column(BigInteger)


class ChangeLog(Base):
    """One accepted change of one row, in commit order within its stream."""

    __tablename__ = "change_log"

    territory_id: Mapped[str] = mapped_column(Id, primary_key=True)
    change_no: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[str] = mapped_column(Id)
    row_version: Mapped[int]


class ServerRow(Base):
    """The current state of one synced row (tombstones included), as wire values.

    ``restore_version``: the row's version when the server was last restored,
    kept by the row's first change after that restore (0: the row was created
    after it). Row versions are reused after a restore; with it, devices tell a
    row changed after the restore from one they saw later versions of before it.
    """

    __tablename__ = "server_row"
    __table_args__ = (Index("ix_server_row_scan", "territory_id", "table_name", "id"),)

    table_name: Mapped[str] = mapped_column(String(64), primary_key=True)
    id: Mapped[str] = mapped_column(Id, primary_key=True)
    territory_id: Mapped[str] = mapped_column(Id)
    row_version: Mapped[int]
    deleted: Mapped[bool] = mapped_column(default=False)
    change_no: Mapped[int] = mapped_column(BigInteger)
    values: Mapped[dict[str, Any]] = mapped_column(JsonValue)
    restore_version: Mapped[int | None]


class PushBatch(Base):
    """A pushed batch and the response it got: a repeat gets the same response."""

    __tablename__ = "push_batch"

    device_id: Mapped[str] = mapped_column(Id, primary_key=True)
    batch_id: Mapped[str] = mapped_column(Id, primary_key=True)
    user_id: Mapped[str] = mapped_column(Id)
    request_hash: Mapped[str] = mapped_column(String(64))
    response: Mapped[dict[str, Any] | None] = mapped_column(JsonValue)
    created_at: Mapped[str] = mapped_column(Instant)


class AuditEntry(Base):
    """One accepted change: who, which device, when, each field old -> new."""

    __tablename__ = "audit_entry"
    __table_args__ = (
        Index("ix_audit_entry_territory", "territory_id", "id"),
        Index("ix_audit_entry_row", "table_name", "row_id"),
        Index("ix_audit_entry_user", "user_id", "id"),
    )

    id: Mapped[int] = mapped_column(AutoId, primary_key=True, autoincrement=True)
    at: Mapped[str] = mapped_column(Instant)
    user_id: Mapped[str] = mapped_column(Id)
    device_id: Mapped[str | None] = mapped_column(Id)
    territory_id: Mapped[str] = mapped_column(Id)
    table_name: Mapped[str] = mapped_column(String(64))
    row_id: Mapped[str] = mapped_column(Id)
    action: Mapped[str] = mapped_column(String(16))
    row_version: Mapped[int]
    change_no: Mapped[int] = mapped_column(BigInteger)
    op_id: Mapped[str | None] = mapped_column(Id)
    changes: Mapped[dict[str, Any]] = mapped_column(JsonValue)


class LoginThrottle(Base):
    """Failed sign-ins of one user name from one address (the address alone: ``user_key`` '').

    Kept in the database so that every API worker sees the same counts. The user
    name is kept as its SHA-256 (a mistyped password often lands in the name
    field). ``failures`` counts within the window that began at
    ``window_started_at``; reaching the limit locks the key until ``locked_until``
    and counts one more of ``lockouts``, which doubles the next lock.
    """

    __tablename__ = "login_throttle"

    user_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    failures: Mapped[int] = mapped_column(default=0)
    window_started_at: Mapped[str] = mapped_column(Instant)
    last_failure_at: Mapped[str] = mapped_column(Instant, index=True)
    locked_until: Mapped[str | None] = mapped_column(Instant)
    lockouts: Mapped[int] = mapped_column(default=0)
