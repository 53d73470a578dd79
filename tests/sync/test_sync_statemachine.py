"""Property-based sync: three devices against the real server app with injected faults.

The territory starts with a few dealers that every device has pulled, so the
devices share rows from the first step. Rules: create, edit, delete, edit the
same field of a shared dealer on two devices (a conflict, or keep-both on
notes), delete on one device while another edits (delete versus edit), resolve
a conflict (mine / theirs / a typed value, and sync it), sync (with or without
a fault), crash and reopen, and back the server up and later restore that
backup with a new epoch (SQLite: the backup API; PostgreSQL: a copy of every
table in a schema beside the example's): the devices must give the server back
what it lost. After every step the cheap invariants hold; at the end every
device syncs without faults and the invariants of SYNC.md are checked:
convergence, no lost edit, no duplicates, deletes propagate, quiescence,
intact databases.

Coverage: every example notes which of these it reached: a field conflict
record, a keep-both merge of notes, a delete-versus-edit record, a resolution
that synced, a reconciliation after a restore. The run fails when too few
examples reach one of them (the machine must keep reaching conflicts).

Cost: the server, the three signed-in devices and the seeded dealers are made
once per process (the template, on a RAM disk when there is one); the SQLite
examples share one world whose databases each example puts back to the
template's (see Template), and the template's server backup is every example's
start backup. At the end, devices sync only until each has synced since the
last sync that sent anything, then once more to show they are quiet.

FIELDREP_SYNC_EXAMPLES raises the number of examples (default 200).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import sqlite3
import tempfile
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
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
from sqlalchemy import Connection, Engine, create_engine, select, text
from synce2e import (
    FAULTS,
    AppTransport,
    Crash,
    Device,
    FaultyTransport,
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
from fieldrep.sync import api, local
from fieldrep.sync.client import SyncError
from fieldrep.sync.engine import SyncSummary
from fieldrep.sync.protocol import CONFLICT_TABLE, KEEP_BOTH_MARKER

log = logging.getLogger("fieldrep.tests.statemachine")
log.setLevel(logging.INFO)  # the coverage line shows with -rP while the root stays quiet

EXAMPLES = int(os.environ.get("FIELDREP_SYNC_EXAMPLES", "200"))
# Each PostgreSQL example makes its own schema and signs three devices in: slower.
PG_EXAMPLES = int(os.environ.get("FIELDREP_SYNC_PG_EXAMPLES", "15"))
STEPS = 12
USERS = ("alice", "bob", "mona")
# Plain fields, a keep-both notes field, typed fields, and a manager-only field.
FIELDS = ("city", "address", "notes", "employee_count", "registered_capital", "abc_class")
# Fields every device may edit: two devices editing one of them conflict (or keep both).
SHARED_FIELDS = ("city", "address", "notes", "employee_count", "registered_capital")
SEEDED_DEALERS = 4
BACKUP = "backup.db"
# The examples' databases go on a RAM disk when there is one: they live seconds, and
# fsync on a shared, busy disk costs without testing anything (the crash rule drops
# connections mid-sync; nothing here cuts the power).
SCRATCH = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None

# What an example can reach (see Coverage) and the share of examples that must.
FIELD_CONFLICT = "a field conflict record"
KEPT_BOTH = "a keep-both merge of notes"
DELETE_EDIT = "a delete-versus-edit record"
RESOLUTION_SYNCED = "a resolution that synced"
RECONCILED = "a reconciliation after a restore"
FLOOR_EXAMPLES = 100
# Measured over four runs of 200-320 examples: 28-48, 15-22, 23-26, 3-9 and 26-46 %
# (examples are not independent draws: the shares vary from run to run).
FLOORS = {
    FIELD_CONFLICT: 0.15,
    KEPT_BOTH: 0.05,
    DELETE_EDIT: 0.10,
    RESOLUTION_SYNCED: 0.01,
    RECONCILED: 0.10,
}


class Coverage:
    """How many examples of this run reached each kind of event (see FLOORS)."""

    examples = 0
    reached: ClassVar[Counter[str]] = Counter()

    @classmethod
    def reset(cls) -> None:
        cls.examples = 0
        cls.reached = Counter()

    @classmethod
    def record(cls, reached: set[str]) -> None:
        cls.examples += 1
        cls.reached.update(reached)

    @classmethod
    def check(cls, floors: dict[str, float]) -> None:
        """Each kind reached by at least its share of the examples, and at least once.

        Checked from FLOOR_EXAMPLES examples on: a shorter run (a quick local try,
        the PostgreSQL variant) is too small for the shares to be dependable.
        """
        summary = {name: cls.reached[name] for name in floors}
        log.info("coverage over %d examples: %s", cls.examples, summary)
        if cls.examples < FLOOR_EXAMPLES:
            return
        for name, share in floors.items():
            assert cls.reached[name] > 0 and cls.reached[name] >= share * cls.examples, (
                f"only {cls.reached[name]} of {cls.examples} examples reached {name} "
                f"(floor {share:.0%}): {summary}"
            )


def seed_territory(devices: dict[str, Device]) -> set[str]:
    """Dealers the manager makes and every device pulls: the rows the devices share."""
    mona = devices["mona"]
    names: set[str] = set()
    for number in range(SEEDED_DEALERS):
        name = f"共享经销商{number}"
        core.create(
            mona.store,
            Dealer,
            {
                "name": name,
                "abc_class": AbcClass.B,
                "city": f"城市{number}",
                "address": f"地址{number}",
                "notes": f"备注{number}",  # not empty: parallel notes are kept both
                "employee_count": 10 + number,
                "registered_capital": Decimal("100.00"),
            },
        )
        names.add(name)
    mona.sync()
    for user in USERS:
        devices[user].sync()
    return names


class Template:
    """A server, three signed-in devices and the seeded dealers, made once per process.

    Its folder also holds the server's backup at that point: the start backup of
    every example (a restore to it loses everything the example synced), so no
    example backs up at its start.

    The SQLite examples share one world (server app, devices, their engines and
    pooled connections), whose databases each example first puts back to the
    template's through SQLite's backup API. A client database's schema is large
    (about 0.1 s to parse on each new connection, most of an example's fixed
    cost), and the backup API makes every connection parse it again by bumping the
    schema cookie; the schema being the template's, byte for byte, unless an
    example changed it (then the cookie differs and is left bumped), the device
    databases get their cookie back, so the pooled connections keep their parse.
    Every example still ends with an integrity check of each device database.
    """

    folder: Path | None = None
    secrets: ClassVar[dict[tuple[str, str], str]] = {}
    names: ClassVar[frozenset[str]] = frozenset()
    shared: ClassVar[SharedWorld | None] = None

    @classmethod
    def get(cls, keyring_backend: MemoryKeyring) -> Path:
        if cls.folder is None:
            folder = Path(tempfile.mkdtemp(prefix="fieldrep-sm-", dir=SCRATCH))
            world = make_world(folder)
            devices = {user: Device(world, folder, user) for user in USERS}
            for device in devices.values():
                device.sync()
            cls.names = frozenset(seed_territory(devices))
            backup_server(world, folder / BACKUP)
            for device in devices.values():
                device.close()
            world.transport.shutdown()
            world.database.dispose()
            cls.folder = folder
            cls.secrets = dict(keyring_backend.secrets)
        keyring_backend.secrets = dict(cls.secrets)
        return cls.folder

    @classmethod
    def fresh_world(cls, keyring_backend: MemoryKeyring) -> SharedWorld:
        """The shared SQLite world with every database back at the template's state."""
        template = cls.get(keyring_backend)
        if cls.shared is None:
            cls.shared = SharedWorld.open(template)
        else:
            cls.shared.put_back(template)
        return cls.shared

    @classmethod
    def close(cls) -> None:
        """Close the shared world and remove the folders (the next run makes them again)."""
        if cls.shared is not None:
            cls.shared.close()
            cls.shared = None
        if cls.folder is not None:
            shutil.rmtree(cls.folder, ignore_errors=True)
            cls.folder = None


@dataclass
class SharedWorld:
    """The server and devices the SQLite examples share (see :class:`Template`)."""

    folder: Path
    world: World
    devices: dict[str, Device]

    @classmethod
    def open(cls, template: Path) -> SharedWorld:
        folder = Path(tempfile.mkdtemp(prefix="fieldrep-ex-", dir=SCRATCH))
        for name in ("server.db", *(f"{user}.db" for user in USERS)):
            shutil.copyfile(template / name, folder / name)
        # The template migrated and initialised it: nothing to check again.
        database = open_server_database(sqlite_url(folder / "server.db"), migrate=False)
        server_settings = make_settings(database)
        app = create_app(server_settings, database=database)
        world = World(database, server_settings, app, "", AppTransport(app))
        devices = {user: Device.attach(world, folder, user) for user in USERS}
        return cls(folder, world, devices)

    def put_back(self, template: Path) -> None:
        """Every database as the template has it; fresh transports (no plan, no crash)."""
        # The server's schema is small: its connections simply start again.
        self.world.database.dispose()
        _put_back(self.world.database.write_engine, template / "server.db")
        self.world.database.dispose()
        for user, device in self.devices.items():
            _put_back_keeping_parse(device.db_path, template / f"{user}.db")
            device.transport = FaultyTransport(self.world.transport)

    def close(self) -> None:
        for device in self.devices.values():
            device.close()
        self.world.transport.shutdown()
        self.world.database.dispose()
        shutil.rmtree(self.folder, ignore_errors=True)


def _put_back(engine: Engine, source: Path) -> None:
    """Copy ``source`` over the database behind ``engine`` (SQLite's backup API)."""
    raw = engine.raw_connection()
    try:
        origin = sqlite3.connect(source)
        try:
            origin.backup(raw.driver_connection)  # type: ignore[arg-type]
        finally:
            origin.close()
    finally:
        raw.close()


def _schema_cookie(connection: sqlite3.Connection) -> int:
    return int(connection.execute("PRAGMA schema_version").fetchone()[0])


def _put_back_keeping_parse(path: Path, source: Path) -> None:
    """Copy ``source`` over the database at ``path``; open connections keep their schema.

    Through a connection of its own that never reads the schema (reading and
    setting the cookie do not), so no parse is spent here either. The cookie goes
    back only when it is the source's: the schema text is then the same.
    """
    target = sqlite3.connect(path, isolation_level=None)
    try:
        before = _schema_cookie(target)
        origin = sqlite3.connect(source)
        try:
            same_schema = _schema_cookie(origin) == before
            origin.backup(target)
        finally:
            origin.close()
        if same_schema:
            target.execute(f"PRAGMA schema_version = {before}")
    finally:
        target.close()


def value_for(field: str, counter: int) -> Any:
    if field == "employee_count":
        return counter
    if field == "registered_capital":
        return Decimal(counter) / 100
    if field == "abc_class":
        return (AbcClass.A, AbcClass.B, AbcClass.C)[counter % 3]
    return f"{field}-{counter}-值"


def wire_text(value: Any) -> Any:
    """A value as the server's audit trail and conflict records hold it."""
    if isinstance(value, AbcClass):
        return value.code
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


class SyncMachine(RuleBasedStateMachine):
    """Three devices editing one territory's shared dealers offline, syncing through faults."""

    keyring_backend: MemoryKeyring
    #: PostgreSQL URL for the server, or None for SQLite (copied from a template).
    postgres_url: str | None = None

    def __init__(self) -> None:
        super().__init__()
        self.schema: str | None = None
        self.backup: Path | None = None
        if self.postgres_url is None:
            shared = Template.fresh_world(self.keyring_backend)
            self.folder, self.world, self.devices = shared.folder, shared.world, shared.devices
            self.names = set(Template.names)
            # The start backup: the template's server, as this example began.
            assert Template.folder is not None
            self.backup = Template.folder / BACKUP
        else:
            self.folder = Path(tempfile.mkdtemp(prefix="fieldrep-ex-", dir=SCRATCH))
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
            self.names = seed_territory(self.devices)
            # A backup of the start: any later restore loses what was synced since.
            self.back_up_server()
        self.counter = 0
        # (device, dealer, field) -> value last written and not yet sent
        self.unsynced: dict[tuple[str, str, str], Any] = {}
        # Values a device may have sent: each must end on the server, in a conflict
        # record, kept in the notes, or refused (see _no_lost_edit).
        self.delivered: list[tuple[str, str, str, Any]] = []
        # (device, dealer, field) -> every value the device wrote there, oldest first
        self.written: dict[tuple[str, str, str], list[Any]] = {}
        self.restores = 0
        self.reached: set[str] = set()
        # (device id, row, field, losing value) of open conflict records a restore lost
        self.lost_records: set[tuple[str, str, str, str]] = set()
        self.device_ids = {user: _device_id(device) for user, device in self.devices.items()}

    def teardown(self) -> None:
        try:
            self.final_checks()
            self._observe()
            Coverage.record(self.reached)
            for name in sorted(self.reached):
                event(f"reached {name}")
        finally:
            # The SQLite world is shared: the next example puts its databases back.
            if self.schema is not None and self.postgres_url is not None:
                for device in self.devices.values():
                    device.close()
                self.world.transport.shutdown()
                self.world.database.dispose()
                shutil.rmtree(self.folder, ignore_errors=True)
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

    def shared_dealers(self, first: str, second: str) -> list[str]:
        return sorted(set(self.live_dealers(first)) & set(self.live_dealers(second)))

    def next(self) -> int:
        self.counter += 1
        return self.counter

    def _edit(self, user: str, dealer_id: str, field: str) -> bool:
        """One offline edit with a value never used before; False when refused locally."""
        value = value_for(field, self.next())
        try:
            core.update(self.devices[user].store, Dealer, dealer_id, {field: value})
        except ValidationError:
            return False
        self._wrote(user, dealer_id, field, wire_text(value))
        return True

    def _wrote(self, user: str, dealer_id: str, field: str, value: Any) -> None:
        """An offline edit: it must reach the server; the device's values are remembered."""
        self.unsynced[(user, dealer_id, field)] = value
        self.written.setdefault((user, dealer_id, field), []).append(value)

    def _sync(self, user: str, **options: Any) -> SyncSummary:
        self._delivering(user)
        summary = self.devices[user].sync(**options)
        if summary.resynced and self.restores:
            self.reached.add(RECONCILED)
        return summary

    def _resolve(self, who: int, kinds: tuple[str, ...], choice: str, pick: int) -> str | None:
        """Resolve an open conflict on a device that holds one; a chosen value is an edit.

        ``who`` picks among the devices holding open conflicts of these kinds (so the
        rule resolves whenever there is something to resolve). Returns the device.
        """
        holding = [
            (user, found)
            for user in USERS
            if (
                found := [
                    c for c in api.list_conflicts(self.devices[user].engine) if c.kind in kinds
                ]
            )
        ]
        if not holding:
            return None
        user, conflicts = holding[who % len(holding)]
        device = self.devices[user]
        conflict = conflicts[pick % len(conflicts)]
        typed = None
        if choice == "value":
            typed = str(wire_text(value_for(conflict.field, self.next())))
        try:
            api.resolve_conflict(device.store, conflict.id, choice, typed)
        except (NotFound, ValidationError):
            return None
        with device.engine.connect() as connection:
            resolved_raw, record_raw = connection.execute(
                text("SELECT resolved_value, record FROM sync_conflict WHERE id = :i"),
                {"i": conflict.id},
            ).one()
        if choice in ("mine", "value") and conflict.table == "dealer":
            self._wrote(user, conflict.row_id, conflict.field, json.loads(resolved_raw))
        if choice in ("theirs", "value"):
            self._settle(json.loads(record_raw))
        event(f"resolved a {conflict.kind} conflict: {choice}")
        return user

    def _settle(self, record: dict[str, Any]) -> None:
        """A person decided against the record's losing value: it need not reach the server.

        Normally the resolved record stays on the server and shows the value anyway;
        but a record a restore lost, resolved before its device reconciled, is gone
        with its resolution (the device drops both), and the decision stands.
        """
        authors = [user for user, known in self.device_ids.items() if known == record["device_id"]]
        key = (record["row_id"], record["field"], str(record["mine"]))
        self.delivered = [
            entry
            for entry in self.delivered
            if not (entry[0] in authors and (entry[1], entry[2], str(entry[3])) == key)
        ]

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
        if dealers:
            self._edit(user, dealers[pick % len(dealers)], field)

    @rule(user=st.sampled_from(USERS), pick=st.integers(0, 50))
    def delete(self, user: str, pick: int) -> None:
        dealers = self.live_dealers(user)
        if not dealers:
            return
        # Edits this device made before are not moot: the delete carries them.
        core.delete(self.devices[user].store, Dealer, dealers[pick % len(dealers)])

    @rule(
        first=st.sampled_from(USERS),
        offset=st.integers(1, len(USERS) - 1),
        pick=st.integers(0, 50),
        field=st.sampled_from(SHARED_FIELDS),
        sync_now=st.booleans(),
    )
    def edit_same_field_on_two_devices(
        self, first: str, offset: int, pick: int, field: str, sync_now: bool
    ) -> None:
        """Two devices change one field of one shared dealer offline, differently."""
        second = USERS[(USERS.index(first) + offset) % len(USERS)]
        shared = self.shared_dealers(first, second)
        if not shared:
            return
        dealer_id = shared[pick % len(shared)]
        edited = [user for user in (first, second) if self._edit(user, dealer_id, field)]
        if sync_now:
            for user in edited:
                self._sync(user)

    @rule(
        deleter=st.sampled_from(USERS),
        offset=st.integers(1, len(USERS) - 1),
        pick=st.integers(0, 50),
        field=st.sampled_from(SHARED_FIELDS),
        sync_now=st.booleans(),
    )
    def delete_while_other_edits(
        self, deleter: str, offset: int, pick: int, field: str, sync_now: bool
    ) -> None:
        """One device deletes a shared dealer while another edits it offline."""
        editor = USERS[(USERS.index(deleter) + offset) % len(USERS)]
        shared = self.shared_dealers(deleter, editor)
        if not shared:
            return
        dealer_id = shared[pick % len(shared)]
        self._edit(editor, dealer_id, field)
        core.delete(self.devices[deleter].store, Dealer, dealer_id)
        if sync_now:
            # The delete first: the edit then meets a deleted row.
            self._sync(deleter)
            self._sync(editor)

    @rule(who=st.integers(0, len(USERS) - 1), choice=st.sampled_from(("mine", "theirs")))
    def resolve(self, who: int, choice: str) -> None:
        self._resolve(who, ("field",), choice, 0)

    @rule(
        who=st.integers(0, len(USERS) - 1),
        choice=st.sampled_from(("mine", "theirs", "value")),
        pick=st.integers(0, 50),
    )
    def resolve_and_sync(self, who: int, choice: str, pick: int) -> None:
        """Resolve a field or delete-versus-edit conflict and sync it to the others."""
        user = self._resolve(who, ("field", "delete_edit"), choice, pick)
        if user is not None:
            self._sync(user)

    @rule(user=st.sampled_from(USERS), fault=st.sampled_from((None, *FAULTS)))
    def sync(self, user: str, fault: str | None) -> None:
        self.devices[user].transport.plan = [] if fault is None else [fault]
        self._sync(user, attempts=3)

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
        if not dealers:
            self._sync(user)
            return
        dealer_id = dealers[pick % len(dealers)]
        value = value_for(field, self.next())
        edited: list[str] = []

        def edit() -> None:
            try:
                core.update(device.store, Dealer, dealer_id, {field: value})
            except NotFound:
                return  # this sync's first pull (a reconciliation) brought a delete
            self._wrote(user, dealer_id, field, value)
            edited.append(value)

        self._sync(user, after_push=edit)
        if not edited:
            return
        # Read whether or not the row lives: a delete this sync pulled wins, and the
        # pending edit stays on the row until its push keeps it (delete versus edit).
        with device.engine.connect() as connection:
            shown = connection.execute(
                text(f'SELECT "{field}" FROM dealer WHERE id = :i'), {"i": dealer_id}
            ).scalar()
        if shown == value:
            return
        # Only a reconciliation pushes again in the same sync; the edit then met a
        # change made since, and the server's merge kept it (a conflict record, or
        # beside the other text in the notes). Never may an older value of this
        # device's own win over it: the rep wrote this one after seeing that.
        pending = {name for op in device.outbox() if op.row_id == dealer_id for name in op.fields}
        record = _server_record(self.world)
        assert field not in pending and record.current(dealer_id, field, value), (
            f"an edit made during a sync was overwritten: {shown!r} instead of {value!r}"
        )
        older = self.written[(user, dealer_id, field)][:-1]
        assert shown not in older, f"{user}'s older {shown!r} overwrote {value!r}"

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
        self.backup = self.folder / "example-backup.db"
        if self.postgres_url is not None and self.schema is not None:
            _pg_backup(self.postgres_url, self.schema)
        else:
            backup_server(self.world, self.backup)

    @rule()
    def restore_server_from_backup(self) -> None:
        """The server loses every change since the backup and gets a new epoch."""
        if self.backup is None:
            return
        self._observe()  # what the restore is about to lose counts as reached
        self._forget_superseded()
        self._note_lost_records()
        if self.postgres_url is not None and self.schema is not None:
            self.world.database.dispose()
            _pg_restore(self.postgres_url, self.schema)
            admin.reset_epoch(self.world.database)
        else:
            restore_server(self.world, self.backup)
        self.restores += 1
        event("server restored from a backup")

    def _note_lost_records(self) -> None:
        """Open conflict records the restore loses: their devices send them again."""
        with self.world.database.read() as session:
            for row in session.scalars(
                select(ServerRow).where(ServerRow.table_name == CONFLICT_TABLE)
            ):
                record = row.values
                if record.get("status") == "open":
                    self.lost_records.add(
                        (
                            str(record.get("device_id")),
                            record["row_id"],
                            record["field"],
                            str(record["mine"]),
                        )
                    )

    def _forget_superseded(self) -> None:
        """Edits the server took and then replaced need not come back after a restore.

        Before a restore the audit trail proves such an edit reached the server (as
        the value, or kept in a notes text beside another), and a conflict record
        (open or resolved) proves it was kept or decided on; the restore loses both,
        and the devices give back only the newest state. An edit still current (the
        row's value, an open conflict's value, in the notes) or not yet taken must
        still reach the server afterwards, unless the same device has since written
        the field again: as edits coalesce, its later value stands for it (and must
        arrive itself). Before, a value kept at one restore as current, superseded
        by the device's next edit and lost with the audit trail at the next restore,
        was required back although the device rightly sends only its newest.
        """
        record = _server_record(self.world)
        current: list[tuple[str, str, str, Any]] = []
        for index, (user, dealer_id, field, value) in enumerate(self.delivered):
            later = (
                any(
                    (other[0], other[1], other[2]) == (user, dealer_id, field)
                    for other in self.delivered[index + 1 :]
                )
                or (user, dealer_id, field) in self.unsynced
            )
            if later:
                continue  # superseded by the same device's own later value (coalescing)
            if not record.took(dealer_id, field, value) or record.current(dealer_id, field, value):
                current.append((user, dealer_id, field, value))
        self.delivered = current

    def _delivering(self, user: str) -> None:
        """The device's current values may now reach the server: they must not be lost."""
        for key in [key for key in self.unsynced if key[0] == user]:
            self.delivered.append((*key, self.unsynced.pop(key)))

    def _observe(self) -> None:
        """Note which conflict paths the server shows (before a restore loses them)."""
        with self.world.database.read() as session:
            for row in session.scalars(
                select(ServerRow).where(ServerRow.table_name == CONFLICT_TABLE)
            ):
                kind = row.values.get("kind")
                if kind == "field":
                    self.reached.add(FIELD_CONFLICT)
                elif kind == "delete_edit":
                    self.reached.add(DELETE_EDIT)
                if row.values.get("status") == "resolved":
                    self.reached.add(RESOLUTION_SYNCED)
            marker = KEEP_BOTH_MARKER.split("{who}")[0]
            for changes in session.scalars(
                select(AuditEntry.changes).where(AuditEntry.table_name == "dealer")
            ):
                notes = changes.get("notes")
                if isinstance(notes, dict) and marker in str(notes.get("new")):
                    self.reached.add(KEPT_BOTH)
                    break

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
        for user, device in self.devices.items():
            latest: dict[tuple[str, str, str], Any] = {}
            for op in device.outbox():
                if op.table != "dealer":
                    continue
                for name, value in op.fields.items():
                    if name in ("created_at", "updated_at", "updated_by", "deleted_at"):
                        continue
                    resent = (self.device_ids[user], op.row_id, name, str(value))
                    if resent in self.lost_records:
                        # A lost conflict record sent again carries the losing value,
                        # not the row's: it is no edit of the row (an edit before it is).
                        continue
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
        for device in self.devices.values():
            device.transport.plan = []
        # Sync until every device has synced since the last sync that sent anything:
        # each then holds everything. Bounded: no endless ping-pong (invariant 10).
        stale = list(USERS)
        for _sync in range(4 * len(USERS)):
            if not stale:
                break
            user = stale.pop(0)
            if self._sync(user).batches:
                stale = [other for other in USERS if other != user]
        assert not stale, f"devices still sending after {4 * len(USERS)} syncs: {stale}"
        for device in self.devices.values():
            with device.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
            assert device.outbox() == [], device.username
            assert_converged(self.world, device)
            quiet = device.sync()
            assert (quiet.pushed, quiet.pulled) == (0, 0), device.username
        self._no_lost_edit()

    def _no_lost_edit(self) -> None:
        record = _server_record(self.world)
        for user, dealer_id, field, value in self.delivered:
            refused = {
                (op.row_id, name, str(v))
                for op in self.devices[user].outbox("rejected")
                for name, v in op.fields.items()
            }
            key = (dealer_id, field, str(value))
            assert record.took(dealer_id, field, value) or key in refused, (
                f"lost edit by {user}: {key}"
            )


class ServerRecord:
    """What the server shows of the edits it got (each as (row id, field, value text))."""

    def __init__(self) -> None:
        #: Values the audit trail shows a change took.
        self.accepted: set[tuple[str, str, str]] = set()
        #: Losing values kept in open conflict records, and in any conflict record.
        self.open_mine: set[tuple[str, str, str]] = set()
        self.all_mine: set[tuple[str, str, str]] = set()
        #: Every row's values.
        self.finals: dict[str, dict[str, Any]] = {}
        #: Every notes text the audit trail shows (a kept-both merge holds both values).
        self.notes_texts: dict[str, list[str]] = {}
        #: Every notes text a conflict record keeps (a merged text can lose as a whole).
        self.notes_mine: dict[str, list[str]] = {}

    def took(self, dealer_id: str, field: str, value: Any) -> bool:
        """Whether the server took the value at some point (audit trail, conflict record,
        or kept in a notes text beside another)."""
        key = (dealer_id, field, str(value))
        return (
            key in self.accepted
            or key in self.all_mine
            or (
                field == "notes"
                and any(
                    str(value) in text_
                    for text_ in (
                        *self.notes_texts.get(dealer_id, []),
                        *self.notes_mine.get(dealer_id, []),
                    )
                )
            )
        )

    def current(self, dealer_id: str, field: str, value: Any) -> bool:
        """Whether the value is the row's now, an open conflict's, or in the notes now."""
        now = self.finals.get(dealer_id, {}).get(field)
        return (
            str(now) == str(value)
            or (dealer_id, field, str(value)) in self.open_mine
            or (field == "notes" and str(value) in str(now or ""))
        )


def _server_record(world: World) -> ServerRecord:
    record = ServerRecord()
    with world.database.read() as session:
        for entry in session.scalars(select(AuditEntry)):
            for field, change in entry.changes.items():
                new = change.get("new") if isinstance(change, dict) else change
                record.accepted.add((entry.row_id, field, str(new)))
                if field == "notes" and isinstance(new, str):
                    record.notes_texts.setdefault(entry.row_id, []).append(new)
        for row in session.scalars(select(ServerRow)):
            record.finals[row.id] = row.values
            if row.table_name == CONFLICT_TABLE:
                conflict = row.values
                key = (conflict["row_id"], conflict["field"], str(conflict["mine"]))
                record.all_mine.add(key)
                if conflict["field"] == "notes" and isinstance(conflict["mine"], str):
                    record.notes_mine.setdefault(conflict["row_id"], []).append(conflict["mine"])
                if conflict["status"] == "open":
                    record.open_mine.add(key)
    return record


def _device_id(device: Device) -> str:
    with device.engine.connect() as connection:
        return str(local.get_state(connection, local.DEVICE_ID))


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


def _machine_settings(examples: int) -> settings:
    return settings(
        max_examples=examples,
        stateful_step_count=STEPS,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
    )


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
    Coverage.reset()
    try:
        run_state_machine_as_test(SyncMachine, settings=_machine_settings(PG_EXAMPLES))
    finally:
        SyncMachine.postgres_url = None
    Coverage.check(FLOORS)


@pytest.mark.slow
@pytest.mark.timeout(1800)
def test_sync_state_machine(memory_keyring: MemoryKeyring) -> None:
    SyncMachine.keyring_backend = memory_keyring
    SyncMachine.postgres_url = None
    Coverage.reset()
    try:
        run_state_machine_as_test(SyncMachine, settings=_machine_settings(EXAMPLES))
    finally:
        Template.close()
    Coverage.check(FLOORS)
