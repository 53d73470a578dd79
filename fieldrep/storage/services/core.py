"""The unit of work and the generic create / update / delete every service builds on.

A :class:`Store` is the handle front ends hold: an engine plus who is working.
Each service call opens one session in one transaction (``with store.write()``),
so an operation is written whole or not at all. Validation collects every
problem before raising one :class:`ValidationError`. ORM objects never leave a
service: callers get :class:`Record` snapshots or frozen dataclasses.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, TypeVar

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from fieldrep.i18n import N_
from fieldrep.storage.db import READ_ONLY
from fieldrep.storage.enums import Role
from fieldrep.storage.errors import FieldProblem, NotFound, ValidationError
from fieldrep.storage.models import Base, SyncedBase
from fieldrep.storage.types import utcnow

ModelT = TypeVar("ModelT", bound=SyncedBase)

#: Roles that may change manager-only fields (the server's policy, fieldrep.sync.protocol).
MANAGER_ROLES: frozenset[Role] = frozenset({Role.MANAGER, Role.ADMIN})
REASON_MANAGER_ONLY = N_("only an area manager can change this")


@dataclass(frozen=True)
class UserContext:
    """Who is working on this device and in which territory new rows go."""

    user_id: str
    territory_id: str
    role: Role = Role.REP
    display_name: str = ""


@dataclass(frozen=True)
class Record:
    """A detached, read-only snapshot of one row: safe to hand to any thread."""

    table: str
    values: Mapping[str, Any]

    @property
    def id(self) -> str:
        return str(self.values["id"])

    def __getitem__(self, key: str) -> Any:
        return self.values[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)


def snapshot(row: Base) -> Record:
    return Record(row.__tablename__, _column_values(row))


class Store:
    """The engine and the current user: everything a service call needs."""

    def __init__(self, engine: Engine, user: UserContext, today: Callable[[], date] | None = None):
        self.engine = engine
        self.user = user
        self._today = today or date.today
        self._read_engine = engine.execution_options(**{READ_ONLY: True})
        # Called (on the writing thread) after each committed write: the GUI's
        # automatic sync learns of local changes this way.
        self.write_listeners: list[Callable[[], None]] = []

    def today(self) -> date:
        """Today's date (injectable so tests and the demo can fix the clock)."""
        return self._today()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """One session, one transaction: committed whole or rolled back whole."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session
        for listener in self.write_listeners:
            listener()

    @contextmanager
    def read(self) -> Iterator[Session]:
        """One session for reading: it never takes the write lock, so it does not
        wait behind a sync writing its pages (WAL gives it a consistent snapshot)."""
        with Session(self._read_engine) as session:
            yield session


# A rule looks at the row after the change is applied (``row``) and at the values
# it had before (``before``, empty for a new row) and reports what is wrong.
Rule = Callable[[Session, Any, Mapping[str, Any]], list[FieldProblem]]
_rules: dict[type[Base], list[Rule]] = {}


def rule(model: type[Base]) -> Callable[[Rule], Rule]:
    """Register a validation rule for a model (see fieldrep.storage.services.rules)."""

    def register(function: Rule) -> Rule:
        _rules.setdefault(model, []).append(function)
        return function

    return register


def validate(session: Session, row: Base, before: Mapping[str, Any]) -> None:
    problems: list[FieldProblem] = []
    for check in _rules.get(type(row), []):
        problems.extend(check(session, row, before))
    if problems:
        raise ValidationError(problems, row.__tablename__)


def get_live(session: Session, model: type[ModelT], row_id: str) -> ModelT:
    """The row with that id, unless it is missing or deleted."""
    row = session.get(model, row_id)
    if row is None or row.deleted:
        raise NotFound(model.__tablename__, row_id)
    return row


def _column_values(row: Base) -> dict[str, Any]:
    return {column.key: getattr(row, column.key) for column in row.__table__.columns}


def _parent_territory(session: Session, row: Base) -> str | None:
    """The territory of the first row this new row refers to, if any.

    A child belongs where its parent is: the server refuses a reference to a row
    of another territory (a manager working in several territories would
    otherwise file a contact of a 宁波 dealer under their own territory).
    """
    for column in row.__table__.columns:
        value = getattr(row, column.key, None)
        if value is None:
            continue
        for foreign_key in column.foreign_keys:
            parent = foreign_key.column.table
            query = select(parent.c.territory_id).where(parent.c.id == value)
            territory_id = session.scalar(query)
            if territory_id:
                return str(territory_id)
    return None


def insert_row(
    session: Session, store: Store, model: type[ModelT], values: Mapping[str, Any]
) -> ModelT:
    """Validate and add a new row in the caller's transaction (flushes, never commits)."""
    row = model(**values)
    if not getattr(row, "territory_id", None):
        row.territory_id = _parent_territory(session, row) or store.user.territory_id
    row.updated_by = store.user.user_id
    now = utcnow()
    row.created_at = now
    row.updated_at = now
    validate(session, row, {})
    session.add(row)
    session.flush()
    return row


def manager_only_fields(table: str) -> frozenset[str]:
    """The fields of ``table`` only managers may change (empty for an unsynced table)."""
    from fieldrep.sync.protocol import TABLES  # pydantic: loaded only when a rep edits

    spec = TABLES.get(table)
    return spec.manager_only_fields if spec is not None else frozenset()


def creation_unsent(session: Session, table: str, row_id: str) -> bool:
    """Whether the row's creation still waits in the outbox, open to later edits.

    Edits coalesce into that op (fieldrep.sync.capture), and the server takes the
    row as an insert, where a rep may give a manager-only field its value.
    """
    query = text(
        "SELECT 1 FROM outbox WHERE table_name = :t AND row_id = :r AND created = 1 "
        "AND state = 'pending' AND batch_id IS NULL"
    )
    with session.no_autoflush:  # a pending edit must not reach the outbox before it is checked
        return session.execute(query, {"t": table, "r": row_id}).first() is not None


def may_change_manager_fields(session: Session, store: Store, table: str, row_id: str) -> bool:
    """Whether the user may change the manager-only fields of this row now."""
    if store.user.role in MANAGER_ROLES or not manager_only_fields(table):
        return True
    return creation_unsent(session, table, row_id)


def manager_fields_editable(store: Store, table: str, row_id: str) -> bool:
    """Whether the user may change the manager-only fields of this row now (a form
    shows them read-only otherwise)."""
    with store.read() as session:
        return may_change_manager_fields(session, store, table, row_id)


def _manager_only_problems(
    session: Session, store: Store, row: SyncedBase, before: Mapping[str, Any]
) -> list[FieldProblem]:
    """A rep's change of a manager's field: refused here, as the server would at sync.

    Refused now, it is never queued: the server would refuse it anyway, and the
    rep would only learn of it at the next sync, in the list of refused changes.
    """
    if store.user.role in MANAGER_ROLES:
        return []
    table = row.__tablename__
    changed = [
        name
        for name in sorted(manager_only_fields(table))
        if before.get(name) != getattr(row, name)
    ]
    if not changed or creation_unsent(session, table, row.id):
        return []
    from fieldrep.storage.fields import problem

    return [problem(type(row), name, REASON_MANAGER_ONLY) for name in changed]


def update_row(session: Session, store: Store, row: ModelT, values: Mapping[str, Any]) -> ModelT:
    """Apply changed values to a live row, validate, flush."""
    before = _column_values(row)
    for key, value in values.items():
        if key in ("id", "row_version", "deleted", "deleted_at", "created_at"):
            raise ValueError(f"{key} is managed by FieldRep")
        setattr(row, key, value)
    row.updated_by = store.user.user_id
    refused = _manager_only_problems(session, store, row, before)
    if refused:
        raise ValidationError(refused, row.__tablename__)
    validate(session, row, before)
    session.flush()
    return row


def tombstone_row(session: Session, store: Store, row: SyncedBase) -> None:
    """Delete by tombstone: the row stays until every device has seen the delete."""
    row.deleted = True
    row.deleted_at = utcnow()
    row.updated_by = store.user.user_id
    session.flush()


def create(store: Store, model: type[ModelT], values: Mapping[str, Any]) -> Record:
    with store.write() as session:
        return snapshot(insert_row(session, store, model, values))


def update(store: Store, model: type[ModelT], row_id: str, values: Mapping[str, Any]) -> Record:
    with store.write() as session:
        return snapshot(update_row(session, store, get_live(session, model, row_id), values))


def delete(store: Store, model: type[ModelT], row_id: str) -> None:
    with store.write() as session:
        tombstone_row(session, store, get_live(session, model, row_id))


def fetch(store: Store, model: type[ModelT], row_id: str) -> Record:
    with store.read() as session:
        return snapshot(get_live(session, model, row_id))


def live(model: type[ModelT]) -> Any:
    """``select(model)`` restricted to rows that are not tombstoned."""
    return select(model).where(model.deleted.is_(False))
