"""Property-based sync: three devices against the real server app with injected faults.

Rules: create, edit, delete, resolve, sync (with or without a fault), crash and
reopen, and back the server up and later restore that backup with a new epoch
(SQLite: the backup API; PostgreSQL: a copy of every table in a schema beside
the example's): the devices must give the server back what it lost.
After every step the cheap invariants hold; at the end every device
syncs without faults and the invariants of SYNC.md are checked: convergence,
no lost edit, no duplicates, deletes propagate, quiescence, intact databases.

FIELDREP_SYNC_EXAMPLES raises the number of examples (default 200).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any, ClassVar

import pytest
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    invariant,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Connection, create_engine, select, text
from synce2e import (
    FAULTS,
    AppTransport,
    Crash,
    Device,
    World,
    assert_converged,
    backup_server,
    make_settings,
    make_world,
    restore_server,
)
from synctest_keyring import MemoryKeyring

from fieldrep.server.core.config import normalise_database_url, sqlite_url
from fieldrep.server.core.db import open_server_database
from fieldrep.server.main import create_app
from fieldrep.server.models import AuditEntry, ServerRow
from fieldrep.server.models import Base as ServerBase
from fieldrep.server.services import admin
from fieldrep.storage.enums import AbcClass
from fieldrep.storage.errors import NotFound, ValidationError
from fieldrep.storage.models import Dealer
from fieldrep.storage.services import core
from fieldrep.sync import api
from fieldrep.sync.client import SyncError
from fieldrep.sync.protocol import CONFLICT_TABLE

EXAMPLES = int(os.environ.get("FIELDREP_SYNC_EXAMPLES", "200"))
# Each PostgreSQL example makes its own schema and signs three devices in: slower.
PG_EXAMPLES = int(os.environ.get("FIELDREP_SYNC_PG_EXAMPLES", "15"))
USERS = ("alice", "bob", "mona")
# Plain fields, a keep-both notes field, typed fields, and a manager-only field.
FIELDS = ("city", "address", "notes", "employee_count", "registered_capital", "abc_class")


class Template:
    """A server and three signed-in devices, made once and copied for each example."""

    folder: Path | None = None
    secrets: ClassVar[dict[tuple[str, str], str]] = {}

    @classmethod
    def get(cls, keyring_backend: MemoryKeyring) -> Path:
        if cls.folder is None:
            folder = Path(tempfile.mkdtemp(prefix="fieldrep-sm-"))
            world = make_world(folder)
            for user in USERS:
                device = Device(world, folder, user)
                device.sync()
                device.close()
            world.transport.shutdown()
            world.database.dispose()
            cls.folder = folder
            cls.secrets = dict(keyring_backend.secrets)
        keyring_backend.secrets = dict(cls.secrets)
        return cls.folder


def value_for(field: str, counter: int) -> Any:
    if field == "employee_count":
        return counter
    if field == "registered_capital":
        return Decimal(counter) / 100
    if field == "abc_class":
        return (AbcClass.A, AbcClass.B, AbcClass.C)[counter % 3]
    return f"{field}-{counter}-值"


class SyncMachine(RuleBasedStateMachine):
    """Three devices editing one territory offline and syncing through faults."""

    keyring_backend: MemoryKeyring
    #: PostgreSQL URL for the server, or None for SQLite (copied from a template).
    postgres_url: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self.folder = Path(tempfile.mkdtemp(prefix="fieldrep-ex-"))
        self.schema: str | None = None
        if self.postgres_url is None:
            template = Template.get(self.keyring_backend)
            for path in template.iterdir():
                shutil.copyfile(path, self.folder / path.name)
            database = open_server_database(sqlite_url(self.folder / "server.db"))
            server_settings = make_settings(database)
            app = create_app(server_settings, database=database)
            self.world = World(database, server_settings, app, "", AppTransport(app))
            self.devices = {user: Device.attach(self.world, self.folder, user) for user in USERS}
        else:
            self.schema = f"fr_sm_{uuid.uuid4().hex[:12]}"
            with _owner(self.postgres_url) as connection:
                connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
            database = open_server_database(
                self.postgres_url, connect_args={"options": f"-csearch_path={self.schema}"}
            )
            self.world = make_world(self.folder, database=database)
            self.devices = {user: Device(self.world, self.folder, user) for user in USERS}
            for device in self.devices.values():
                device.sync()
        self.counter = 0
        self.names: set[str] = set()
        # (device, dealer, field) -> value last written and not yet superseded
        self.unsynced: dict[tuple[str, str, str], Any] = {}
        self.delivered: list[tuple[str, str, str, Any]] = []
        self.deleted_by: dict[str, set[str]] = {user: set() for user in USERS}
        self.backup: Path | None = None
        self.restores = 0
        # A backup of the start: any later restore loses what was synced since.
        self.back_up_server()

    def teardown(self) -> None:
        try:
            self.final_checks()
        finally:
            for device in self.devices.values():
                device.close()
            self.world.transport.shutdown()
            self.world.database.dispose()
            shutil.rmtree(self.folder, ignore_errors=True)
            if self.schema is not None and self.postgres_url is not None:
                with _owner(self.postgres_url) as connection:
                    connection.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
                    connection.execute(text(f'DROP SCHEMA IF EXISTS "{self.schema}_bk" CASCADE'))

    # -- helpers

    def live_dealers(self, user: str) -> list[str]:
        with self.devices[user].engine.connect() as connection:
            return sorted(
                connection.execute(
                    text("SELECT id FROM dealer WHERE deleted = 0 ORDER BY id")
                ).scalars()
            )

    def next(self) -> int:
        self.counter += 1
        return self.counter

    # -- rules

    @rule(user=st.sampled_from(USERS))
    def create(self, user: str) -> None:
        name = f"经销商{self.next()}"
        record = core.create(
            self.devices[user].store, Dealer, {"name": name, "abc_class": AbcClass.B}
        )
        self.names.add(name)
        self.unsynced[(user, record.id, "name")] = name

    @rule(user=st.sampled_from(USERS), pick=st.integers(0, 50), field=st.sampled_from(FIELDS))
    def edit(self, user: str, pick: int, field: str) -> None:
        dealers = self.live_dealers(user)
        if not dealers:
            return
        dealer_id = dealers[pick % len(dealers)]
        value = value_for(field, self.next())
        try:
            core.update(self.devices[user].store, Dealer, dealer_id, {field: value})
        except ValidationError:
            return
        stored = value.code if isinstance(value, AbcClass) else value
        self.unsynced[(user, dealer_id, field)] = (
            format(stored, "f") if isinstance(stored, Decimal) else stored
        )

    @rule(user=st.sampled_from(USERS), pick=st.integers(0, 50))
    def delete(self, user: str, pick: int) -> None:
        dealers = self.live_dealers(user)
        if not dealers:
            return
        dealer_id = dealers[pick % len(dealers)]
        core.delete(self.devices[user].store, Dealer, dealer_id)
        # Edits this device made and then deleted itself are moot.
        for key in [key for key in self.unsynced if key[0] == user and key[1] == dealer_id]:
            del self.unsynced[key]

    @rule(user=st.sampled_from(USERS), choice=st.sampled_from(("mine", "theirs")))
    def resolve(self, user: str, choice: str) -> None:
        device = self.devices[user]
        conflicts = [c for c in api.list_conflicts(device.engine) if c.kind == "field"]
        if not conflicts:
            return
        try:
            api.resolve_conflict(device.store, conflicts[0].id, choice)
        except (NotFound, ValidationError):
            return

    @rule(user=st.sampled_from(USERS), fault=st.sampled_from((None, *FAULTS)))
    def sync(self, user: str, fault: str | None) -> None:
        device = self.devices[user]
        device.transport.plan = [] if fault is None else [fault]
        self._delivering(user)
        if device.sync(attempts=3).resynced and self.restores:
            event("a device reconciled after a restore")

    @rule(
        user=st.sampled_from(USERS),
        faults=st.lists(st.sampled_from(FAULTS), min_size=3, max_size=4),
    )
    def sync_gives_up(self, user: str, faults: list[str]) -> None:
        """Every attempt fails: the sync stops with a clear error and nothing is lost."""
        device = self.devices[user]
        device.transport.plan = list(faults)
        self._delivering(user)
        with contextlib.suppress(SyncError):
            device.sync(attempts=len(faults))
        device.transport.plan = []

    @rule(
        user=st.sampled_from(USERS),
        pick=st.integers(0, 50),
        field=st.sampled_from(("city", "address", "notes")),
    )
    def sync_while_editing(self, user: str, pick: int, field: str) -> None:
        """The rep edits between the push and the pull of a sync: the edit survives."""
        device = self.devices[user]
        dealers = self.live_dealers(user)
        self._delivering(user)
        if not dealers:
            device.sync()
            return
        dealer_id = dealers[pick % len(dealers)]
        value = value_for(field, self.next())

        def edit() -> None:
            core.update(device.store, Dealer, dealer_id, {field: value})
            self.unsynced[(user, dealer_id, field)] = value

        device.sync(after_push=edit)
        assert core.fetch(device.store, Dealer, dealer_id)[field] == value

    @rule(user=st.sampled_from(USERS), at=st.integers(0, 4))
    def crash_and_reopen(self, user: str, at: int) -> None:
        device = self.devices[user]
        device.transport.crash_at = device.transport.sync_requests + at
        self._delivering(user)
        with contextlib.suppress(Crash):
            device.sync()
        device.transport.crash_at = None
        device.reopen()

    @rule()
    def back_up_server(self) -> None:
        self.backup = self.folder / "backup.db"
        if self.postgres_url is not None and self.schema is not None:
            _pg_backup(self.postgres_url, self.schema)
        else:
            backup_server(self.world, self.backup)

    @rule()
    def restore_server_from_backup(self) -> None:
        """The server loses every change since the backup and gets a new epoch."""
        if self.backup is None:
            return
        self._forget_superseded()
        if self.postgres_url is not None and self.schema is not None:
            self.world.database.dispose()
            _pg_restore(self.postgres_url, self.schema)
            admin.reset_epoch(self.world.database)
        else:
            restore_server(self.world, self.backup)
        self.restores += 1
        event("server restored from a backup")

    def _forget_superseded(self) -> None:
        """Edits the server took and then replaced need not come back after a restore.

        Before a restore the audit trail proves such an edit reached the server; the
        restore loses that trail, and the devices give back only the newest state.
        An edit still current (the row's value, an open conflict's value, kept in
        the notes) or not yet taken must still reach the server afterwards.
        """
        accepted, open_mine, finals = _server_record(self.world)
        current: list[tuple[str, str, str, Any]] = []
        for index, (user, dealer_id, field, value) in enumerate(self.delivered):
            key = (dealer_id, field, str(value))
            later = (
                any(
                    (other[0], other[1], other[2]) == (user, dealer_id, field)
                    for other in self.delivered[index + 1 :]
                )
                or (user, dealer_id, field) in self.unsynced
            )
            final_text = str(finals.get(dealer_id, {}).get(field, ""))
            still_current = (
                str(finals.get(dealer_id, {}).get(field)) == str(value)
                or key in open_mine
                or (field == "notes" and str(value) in final_text)
            )
            reached = key in accepted or key in open_mine
            if not reached or (still_current and not later):
                current.append((user, dealer_id, field, value))
        self.delivered = current

    def _delivering(self, user: str) -> None:
        """The device's current values may now reach the server: they must not be lost."""
        for key in [key for key in self.unsynced if key[0] == user]:
            self.delivered.append((*key, self.unsynced.pop(key)))

    # -- invariants

    @invariant()
    def no_duplicates_on_the_server(self) -> None:
        with self.world.database.read() as session:
            names = [
                row.values["name"]
                for row in session.scalars(
                    select(ServerRow).where(ServerRow.table_name == "dealer")
                )
            ]
        assert len(names) == len(set(names)), "a retried create was applied twice"
        assert set(names) <= self.names

    @invariant()
    def pending_edits_are_never_overwritten(self) -> None:
        for device in self.devices.values():
            latest: dict[tuple[str, str, str], Any] = {}
            for op in device.outbox():
                if op.table != "dealer":
                    continue
                for name, value in op.fields.items():
                    if name not in ("created_at", "updated_at", "updated_by", "deleted_at"):
                        latest[(op.row_id, name, op.table)] = value
            if not latest:
                continue
            with device.engine.connect() as connection:
                for (row_id, name, table), value in latest.items():
                    current = connection.execute(
                        text(f'SELECT "{name}" FROM "{table}" WHERE id = :i'), {"i": row_id}
                    ).scalar()
                    assert current == value, (device.username, row_id, name, current, value)

    @invariant()
    def devices_hold_only_their_scope(self) -> None:
        for device in self.devices.values():
            with device.engine.connect() as connection:
                scopes = set(
                    connection.exec_driver_sql("SELECT DISTINCT territory_id FROM dealer").scalars()
                )
            assert scopes <= {device.store.user.territory_id}

    # -- the end

    def final_checks(self) -> None:
        for user in USERS:
            self._delivering(user)
        for _round in range(2):
            for device in self.devices.values():
                device.transport.plan = []
                device.sync()
        for device in self.devices.values():
            with device.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert device.outbox() == [], device.username
            assert_converged(self.world, device)
            quiet = device.sync()
            assert (quiet.pushed, quiet.pulled) == (0, 0), device.username
        self._no_lost_edit()

    def _no_lost_edit(self) -> None:
        accepted, kept, finals = _server_record(self.world, open_only=False)
        for user, dealer_id, field, value in self.delivered:
            refused = {
                (op.row_id, name, str(v))
                for op in self.devices[user].outbox("rejected")
                for name, v in op.fields.items()
            }
            key = (dealer_id, field, str(value))
            final_text = str(finals.get(dealer_id, {}).get(field, ""))
            assert (
                key in accepted
                or key in kept
                or key in refused
                or (field == "notes" and str(value) in final_text)
            ), f"lost edit by {user}: {key}"


def _server_record(
    world: World, *, open_only: bool = True
) -> tuple[set[tuple[str, str, str]], set[tuple[str, str, str]], dict[str, dict[str, Any]]]:
    """Values the audit trail took, values kept in conflict records, and every row."""
    accepted: set[tuple[str, str, str]] = set()
    with world.database.read() as session:
        for entry in session.scalars(select(AuditEntry)):
            for field, change in entry.changes.items():
                new = change.get("new") if isinstance(change, dict) else change
                accepted.add((entry.row_id, field, str(new)))
        conflicts = [
            row.values
            for row in session.scalars(
                select(ServerRow).where(ServerRow.table_name == CONFLICT_TABLE)
            )
        ]
        finals = {row.id: row.values for row in session.scalars(select(ServerRow))}
    kept = {
        (c["row_id"], c["field"], str(c["mine"]))
        for c in conflicts
        if not open_only or c["status"] == "open"
    }
    return accepted, kept, finals


def _pg_backup(url: str, schema: str) -> None:
    """Copy every server table into a backup schema beside the example's schema."""
    with _owner(url) as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{schema}_bk" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{schema}_bk"'))
        for table in ServerBase.metadata.sorted_tables:
            connection.execute(
                text(
                    f'CREATE TABLE "{schema}_bk"."{table.name}" AS TABLE "{schema}"."{table.name}"'
                )
            )


def _pg_restore(url: str, schema: str) -> None:
    """Put the backup schema's rows back in place (one transaction)."""
    tables = ServerBase.metadata.sorted_tables
    with _owner(url) as connection:
        names = ", ".join(f'"{schema}"."{table.name}"' for table in tables)
        connection.execute(text(f"TRUNCATE {names} CASCADE"))
        for table in tables:
            connection.execute(
                text(
                    f'INSERT INTO "{schema}"."{table.name}" OVERRIDING SYSTEM VALUE '
                    f'SELECT * FROM "{schema}_bk"."{table.name}"'
                )
            )


@contextlib.contextmanager
def _owner(url: str) -> Iterator[Connection]:
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            yield connection
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.timeout(1800)
def test_sync_state_machine_on_postgresql(memory_keyring: MemoryKeyring) -> None:
    """The same machine with the server on PostgreSQL (FIELDREP_TEST_DATABASE_URL)."""
    raw_url = os.environ.get("FIELDREP_TEST_DATABASE_URL")
    if not raw_url:
        pytest.skip("PostgreSQL variant NOT RUN: set FIELDREP_TEST_DATABASE_URL to run it")
    SyncMachine.keyring_backend = memory_keyring
    SyncMachine.postgres_url = normalise_database_url(raw_url)
    try:
        run_state_machine_as_test(
            SyncMachine,
            settings=settings(
                max_examples=PG_EXAMPLES,
                stateful_step_count=10,
                deadline=None,
                database=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
            ),
        )
    finally:
        SyncMachine.postgres_url = None


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_sync_state_machine(memory_keyring: MemoryKeyring) -> None:
    SyncMachine.keyring_backend = memory_keyring
    SyncMachine.postgres_url = None
    run_state_machine_as_test(
        SyncMachine,
        settings=settings(
            max_examples=EXAMPLES,
            stateful_step_count=10,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
