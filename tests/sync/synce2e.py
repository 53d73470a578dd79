"""End-to-end harness: the real server app in-process, clients with their own files.

``AppTransport`` drives the ASGI app from synchronous httpx (the sync client is
synchronous: it runs on a worker thread in the GUI). ``FaultyTransport`` injects
the faults of SYNC.md into requests to ``/v1/sync/*``: drop before the server
sees the request, drop after it committed, duplicate, 503.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from fastapi import FastAPI
from sqlalchemy import Engine, select, text
from tenacity import wait_none

from fieldrep.server.core.config import Settings, sqlite_url
from fieldrep.server.core.db import Database, open_server_database
from fieldrep.server.core.security import Passwords
from fieldrep.server.main import create_app
from fieldrep.server.models import ServerRow
from fieldrep.server.services import admin
from fieldrep.storage.db import make_engine, open_database
from fieldrep.storage.services.core import Store
from fieldrep.sync import api, local
from fieldrep.sync.engine import SyncEngine, SyncSummary
from fieldrep.sync.protocol import CONFLICT_TABLE, MODEL_TABLES, TABLES

SERVER_URL = "http://fieldrep.test"
PASSWORD = "correct horse battery"
FAST_PASSWORDS = Passwords(1, 8, 1)

FAULTS = ("drop_before", "drop_after", "duplicate", "busy")


class AppTransport(httpx.BaseTransport):
    """A synchronous httpx transport that calls an ASGI app on a private event loop."""

    def __init__(self, app: FastAPI) -> None:
        self._loop = asyncio.new_event_loop()
        self._asgi = httpx.ASGITransport(app=app)

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        forwarded = httpx.Request(
            request.method, request.url, headers=request.headers, content=body
        )

        async def call() -> tuple[int, httpx.Headers, bytes]:
            response = await self._asgi.handle_async_request(forwarded)
            content = await response.aread()
            return response.status_code, response.headers, content

        status, headers, content = self._loop.run_until_complete(call())
        headers = httpx.Headers({k: v for k, v in headers.items() if k != "content-length"})
        return httpx.Response(status, headers=headers, content=content, request=request)

    def close(self) -> None:
        """Clients come and go; the app stays (see :meth:`shutdown`)."""

    def shutdown(self) -> None:
        if not self._loop.is_closed():
            self._loop.run_until_complete(self._asgi.aclose())
            self._loop.close()


class Crash(BaseException):
    """Stands for the process dying at this point (not an Exception: nothing catches it)."""


@dataclass
class FaultyTransport(httpx.BaseTransport):
    """Injects one planned fault into the next request(s) to /v1/sync/*."""

    inner: httpx.BaseTransport
    plan: list[str] = field(default_factory=list)  # faults for the next sync requests
    crash_at: int | None = None  # raise Crash at this sync request (0-based)
    sync_requests: int = 0
    log: list[str] = field(default_factory=list)
    #: An expired access token put on the next pull (the token runs out mid-cycle).
    expire_on_pull: str | None = None

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        # The epoch check before a push is a plain read: faults aim at push and pull.
        if not request.url.path.startswith("/v1/sync/") or request.url.path.endswith("/meta"):
            return self.inner.handle_request(request)
        if self.expire_on_pull and request.url.path.endswith("/pull"):
            request.headers["Authorization"] = f"Bearer {self.expire_on_pull}"
            self.expire_on_pull = None
        index = self.sync_requests
        self.sync_requests += 1
        if self.crash_at is not None and index == self.crash_at:
            self.crash_at = None
            raise Crash()
        fault = self.plan.pop(0) if self.plan else None
        self.log.append(f"{request.url.path}:{fault}")
        if fault == "drop_before":
            raise httpx.ConnectError("dropped before the server saw it", request=request)
        if fault == "busy":
            return httpx.Response(
                503, json={"code": "server_busy", "message": "busy"}, request=request
            )
        if fault == "drop_after":
            self.inner.handle_request(request)
            raise httpx.ReadError("dropped after the server committed", request=request)
        if fault == "duplicate":
            self.inner.handle_request(request)
        return self.inner.handle_request(request)


@dataclass
class World:
    """A server with one territory, its people, and the app."""

    database: Database
    settings: Settings
    app: FastAPI
    territory: str
    transport: AppTransport


def make_settings(database: Database) -> Settings:
    """Server settings for tests: a fixed secret, the cheapest argon2 cost."""
    return Settings(
        database_url=database.url,
        secret="test-secret-that-is-long-enough-for-hs256",
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
    )


def make_world(folder: Path, *, database: Database | None = None) -> World:
    """Server database, a territory 杭州 with manager mona and reps alice, bob."""
    database = database or open_server_database(sqlite_url(folder / "server.db"))
    settings = make_settings(database)
    admin.initialise(database)
    for username, role, display, manager in (
        ("mona", "manager", "王经理", None),
        ("alice", "rep", "李雷", "mona"),
        ("bob", "rep", "韩梅梅", "mona"),
    ):
        admin.add_user(
            database,
            FAST_PASSWORDS,
            username,
            PASSWORD,
            role=role,
            display_name=display,
            manager=manager,
        )
    territory = admin.add_territory(database, "杭州", region="华东", manager="mona")
    for username in ("alice", "bob"):
        admin.assign(database, username, "杭州")
    app = create_app(settings, database=database)
    return World(database, settings, app, territory, AppTransport(app))


_template: list[Path] = []


def fresh_database(path: Path) -> None:
    """A new, migrated client database (a copy of one migrated once per process)."""
    if not _template:
        folder = Path(tempfile.mkdtemp(prefix="fieldrep-template-"))
        template = folder / "template.db"
        open_database(template).dispose()
        _template.append(template)
    shutil.copyfile(_template[0], path)


class Device:
    """One client: its own database file, signed in as one user."""

    def __init__(
        self, world: World, folder: Path, username: str, *, signed_in: bool = False
    ) -> None:
        self.world = world
        self.username = username
        self.db_path = folder / f"{username}.db"
        if not signed_in:
            fresh_database(self.db_path)
            api.login(self.db_path, SERVER_URL, username, PASSWORD, transport=world.transport)
        self.transport = FaultyTransport(world.transport)
        self._open()

    @classmethod
    def attach(cls, world: World, folder: Path, username: str) -> Device:
        """A device whose database file is already signed in (copied from a template)."""
        return cls(world, folder, username, signed_in=True)

    @classmethod
    @contextmanager
    def open_existing(cls, world: World, db_path: Path) -> Iterator[Device]:
        """A device on an existing database file, closed afterwards."""
        device = cls.__new__(cls)
        device.world = world
        device.username = db_path.stem
        device.db_path = db_path
        device.transport = FaultyTransport(world.transport)
        device._open()
        try:
            yield device
        finally:
            device.close()

    def sync_over_http(self) -> SyncSummary:
        """A sync through the real network to the server URL stored at login."""
        return SyncEngine(
            self.db_path, wait=wait_none(), max_attempts=3, engine=self.sync_engine
        ).sync()

    def _open(self) -> None:
        # The rep's engine and the sync's own engine: separate connections (WAL).
        self.engine: Engine = make_engine(self.db_path)
        self.sync_engine: Engine = make_engine(self.db_path)
        self.store = Store(self.engine, api.user_context(self.engine))

    def sync(
        self, *, attempts: int = 4, after_push: Callable[[], None] | None = None
    ) -> SyncSummary:
        engine = SyncEngine(
            self.db_path,
            transport=self.transport,
            wait=wait_none(),
            max_attempts=attempts,
            engine=self.sync_engine,
        )
        engine.after_push = after_push
        return engine.sync()

    def reopen(self) -> None:
        """As after a crash: drop every connection, open the file again."""
        self.close()
        self._open()

    def close(self) -> None:
        self.engine.dispose()
        self.sync_engine.dispose()

    def rows(self, *, live_only: bool = False) -> dict[tuple[str, str], dict[str, Any]]:
        """Every synced row as wire values (what must equal the server's)."""
        from fieldrep.sync.values import to_wire

        result: dict[tuple[str, str], dict[str, Any]] = {}
        with self.engine.connect() as connection:
            for table in MODEL_TABLES:
                for row in connection.execute(text(f'SELECT * FROM "{table}"')).mappings():
                    if live_only and row["deleted"]:
                        continue
                    # Only what the protocol carries: local derived columns stay out.
                    values = {
                        name: to_wire(table, name, value)
                        for name, value in row.items()
                        if name in TABLES[table].fields or name in ("row_version", "deleted")
                    }
                    result[(table, str(row["id"]))] = values
        return result

    def outbox(self, state: str | None = "pending") -> list[local.OutboxOp]:
        with self.engine.connect() as connection:
            return local.all_ops(connection, state)

    def conflicts(self) -> dict[str, str]:
        with self.engine.connect() as connection:
            rows = connection.execute(text("SELECT id, status FROM sync_conflict")).all()
        return {str(row[0]): str(row[1]) for row in rows}


def server_rows(world: World) -> dict[tuple[str, str], dict[str, Any]]:
    """Every row the server holds, with row_version and deleted, as wire values."""
    with world.database.read() as session:
        rows = session.scalars(select(ServerRow)).all()
        return {
            (row.table_name, row.id): {
                **row.values,
                "row_version": row.row_version,
                "deleted": row.deleted,
            }
            for row in rows
        }


def comparable(values: dict[str, Any]) -> dict[str, Any]:
    """Values both sides must agree on (wall-clock stamps are the server's business)."""
    return {
        name: value
        for name, value in values.items()
        if name not in ("updated_at", "updated_by", "created_at", "deleted_at")
    }


def assert_converged(world: World, device: Device) -> None:
    """The device's synced rows equal the server's (conflict records included)."""
    server = server_rows(world)
    mine = device.rows()
    model_server = {key: value for key, value in server.items() if key[0] != CONFLICT_TABLE}
    assert set(mine) == set(model_server), (
        f"{device.username}: rows differ: only local {set(mine) - set(model_server)}, "
        f"only server {set(model_server) - set(mine)}"
    )
    for key, values in model_server.items():
        assert comparable(mine[key]) == comparable(values), (device.username, key)
    conflicts = {
        key[1]: values["status"] for key, values in server.items() if key[0] == CONFLICT_TABLE
    }
    assert device.conflicts() == conflicts, device.username


def dumps(values: Any) -> str:
    return json.dumps(values, ensure_ascii=False, sort_keys=True, default=str)


def backup_server(world: World, path: Path) -> None:
    """Copy the (SQLite) server database as a backup would, consistent while it runs."""
    import sqlite3

    raw = world.database.engine.raw_connection()
    try:
        target = sqlite3.connect(path)
        try:
            raw.driver_connection.backup(target)  # type: ignore[union-attr]
        finally:
            target.close()
    finally:
        raw.close()


def restore_server(world: World, path: Path) -> str:
    """Put a backup back in place and give the server a new epoch (its restore procedure)."""
    import sqlite3

    world.database.dispose()
    raw = world.database.write_engine.raw_connection()
    try:
        source = sqlite3.connect(path)
        try:
            source.backup(raw.driver_connection)  # type: ignore[arg-type]
        finally:
            source.close()
    finally:
        raw.close()
    world.database.dispose()
    return admin.reset_epoch(world.database)
