"""The app's embedded sync server: sync works on the first run, with no set-up.

When the profile's database uses no server of its own, ``fieldrep`` runs the real
sync server (:mod:`fieldrep.server`) in a background thread on 127.0.0.1, on a
free port, with its SQLite database beside the profile (``server.db`` in the data
folder), and signs the app in to it as the demo rep. This module is the launcher
(a composition root: it uses both the server and the sync client; no Qt).

First run: the demo territory is built in the client database
(:func:`fieldrep.storage.demo.build_demo`) and the same rows are imported into
the empty server in one transaction, each with its row version (at least 1) and
the next change number of its territory's stream; the client's rows take the
same versions and its cursors point at the end of each stream, so the first sync
transfers nothing and later edits merge against the right base. A database that
already has dealers (built by ``fieldrep demo``, or used offline) is imported as
it is. The demo rep is assigned every territory of the import, so everything the
app shows is in the rep's scope on the server.

Sign-in without a password: the launcher holds the server database (it could set
any password), so it asks the server's auth service in-process for a token pair
for the demo rep on this database's device
(:meth:`~fieldrep.server.services.auth.AuthService.sign_in_in_process`; no HTTP
route leads there). The imported accounts get no usable password; an admin can
give one with ``fieldrep server set-password`` to sign in from elsewhere. The
tokens stay in this process's memory (:func:`fieldrep.sync.tokens.keep_in_memory`):
they are issued afresh at every start, so nothing is written and no keyring is
needed, also on a headless Linux without a Secret Service.

The embedded server serves the one client database it was filled from (its
device id is recorded in the server). ``fieldrep --server URL``, a server address
saved in the settings, or a database signed in to another server skip it.
"""

from __future__ import annotations

import json
import logging
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import filelock
from sqlalchemy import Connection, Engine, insert, select, text

from fieldrep import paths
from fieldrep.storage.db import open_database
from fieldrep.sync import capture, local, tokens
from fieldrep.sync.protocol import MODEL_TABLES, TABLES, normalise_value
from fieldrep.sync.values import to_wire

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI
    from sqlalchemy.orm import Session

    from fieldrep.server.core.db import Database

log = logging.getLogger("fieldrep.localserver")

HOST = "127.0.0.1"
SERVER_DB_NAME = "server.db"
DEMO_DEALERS = 300
DEVICE_NAME = "FieldRep"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 15.0
#: How long the app waits for the embedded server held by another process (a sync).
LOCK_WAIT_S = 60.0
SERVING_LOCK_SUFFIX = ".serving.lock"

#: sync_state key of the client: the address of the embedded server it last used.
#: The database uses the embedded server while its server_url is unset or equal.
LOCAL_SERVER_URL = "local_server_url"
#: server_meta keys: who the launcher signs in as, and the client device it serves.
META_REP = "local_rep"
META_DEVICE = "local_device"
#: The password hash of imported accounts: not an argon2 hash, so no password matches.
NO_PASSWORD = "!no-password"

_CHUNK = 2000


class LocalServerRefused(Exception):
    """The embedded server will not serve this database (the reason is for the log)."""


class LocalServerInUse(LocalServerRefused):
    """Another process runs the embedded server and did not give it up in time."""


@dataclass(frozen=True)
class ClientState:
    """What the client database says about its server."""

    server_url: str | None
    local_url: str | None
    user_id: str | None

    @property
    def uses_other_server(self) -> bool:
        """Signed in (or pointed) to a server that is not the embedded one."""
        return self.server_url is not None and self.server_url != self.local_url

    @property
    def tied(self) -> bool:
        """Already set up for the embedded server (filled, signed in once)."""
        return self.local_url is not None and self.user_id is not None


def default_server_path() -> Path:
    """The embedded server's SQLite file: server.db in the user's data folder."""
    return paths.data_dir() / SERVER_DB_NAME


def serving_lock_path(server_path: Path) -> Path:
    """The lock file held by the process that runs the embedded server of ``server_path``."""
    return server_path.with_name(server_path.name + SERVING_LOCK_SUFFIX)


def read_client_state(engine: Engine) -> ClientState:
    """The server-related state of a client database."""
    with engine.connect() as connection:
        return ClientState(
            local.get_state(connection, local.SERVER_URL),
            local.get_state(connection, LOCAL_SERVER_URL),
            local.get_state(connection, local.USER_ID),
        )


class _ThreadedServer:
    """uvicorn serving one app on a bound socket in a background thread."""

    def __init__(self, app: FastAPI, sock: socket.socket) -> None:
        import uvicorn

        class ReadyServer(uvicorn.Server):
            """Sets ``ready`` once it listens, so the starter waits without polling."""

            def __init__(self, config: uvicorn.Config, ready: threading.Event) -> None:
                super().__init__(config)
                self.ready = ready

            async def startup(self, sockets: list[socket.socket] | None = None) -> None:
                await super().startup(sockets=sockets)
                self.ready.set()

        self.sock = sock
        self.ready = threading.Event()
        config = uvicorn.Config(app, log_config=None, access_log=False, timeout_graceful_shutdown=5)
        self.server: uvicorn.Server = ReadyServer(config, self.ready)
        self.thread = threading.Thread(target=self._run, name="fieldrep-local-server", daemon=True)

    def _run(self) -> None:
        try:
            self.server.run(sockets=[self.sock])
        except BaseException:  # uvicorn ends with SystemExit when it cannot start
            log.exception("the local sync server stopped with an error")
        finally:
            self.ready.set()  # never leave the starter waiting

    def start(self) -> None:
        self.thread.start()
        if not self.ready.wait(START_TIMEOUT_S) or not self.server.started:
            self.stop()
            raise LocalServerRefused("the local sync server did not start")

    def stop(self) -> None:
        self.server.should_exit = True
        if self.thread.is_alive():
            self.thread.join(STOP_TIMEOUT_S)
        if self.thread.is_alive():
            log.warning("the local sync server thread did not stop in time")
        self.sock.close()


class LocalServer:
    """The embedded server of one client database: fill on first run, run, sign in, stop.

    :meth:`prepare` runs before the app opens its store (on the database worker):
    it decides whether the embedded server is used, fills it on the first run and
    binds the port, so the store opens as the demo rep with the server address
    set. :meth:`start` (on a worker) starts the server and signs in; :meth:`stop`
    stops it. :meth:`run` does both for scripts and tests.
    """

    def __init__(
        self,
        db_path: Path,
        *,
        server_path: Path | None = None,
        dealers: int | None = None,
        today: date | None = None,
        lock_wait_s: float = LOCK_WAIT_S,
    ) -> None:
        self.db_path = db_path
        self.server_path = server_path or default_server_path()
        self.dealers = DEMO_DEALERS if dealers is None else dealers
        self.today = today
        self.lock_wait_s = lock_wait_s
        # Held from prepare() to stop(): one process at a time runs this server and
        # writes its address into the client database (filelock: Windows, macOS, Linux;
        # not thread-local: the app takes it on one worker and starts on another).
        self._serving = filelock.FileLock(
            str(serving_lock_path(self.server_path)), thread_local=False
        )
        self.url: str | None = None
        self.username: str | None = None
        self._socket: socket.socket | None = None
        self._database: Database | None = None
        self._app: FastAPI | None = None
        self._server: _ThreadedServer | None = None
        self._lock = threading.Lock()

    # -- lifecycle

    def prepare(self) -> str | None:
        """Make the client database ready for the embedded server; its address, or None.

        None when the database uses another server. Fills the server on the first
        run (slow: builds the demo); otherwise only reads the client's state and
        binds a free port. Raises :class:`LocalServerRefused` when the server holds
        data of another database.
        """
        with self._lock:
            engine = open_database(self.db_path)
            try:
                state = read_client_state(engine)
                if state.uses_other_server:
                    log.info("database signed in to %s: no local server", state.server_url)
                    return None
                self._hold_serving_lock()
                try:
                    if not state.tied or not self.server_path.exists():
                        self._tie_or_forget(engine)
                    url = self._bind()
                    with engine.begin() as connection:
                        local.set_state(connection, local.SERVER_URL, url)
                        local.set_state(connection, LOCAL_SERVER_URL, url)
                except BaseException:
                    self._stop_locked()
                    raise
                return url
            finally:
                engine.dispose()

    def start(self) -> str:
        """Start the server thread and sign the database in; returns the server's address."""
        with self._lock:
            if self._server is not None and self.url is not None:
                return self.url
            self._hold_serving_lock()
            url = self._bind() if self._socket is None or self.url is None else self.url
            engine = open_database(self.db_path)
            try:
                self._tie_or_forget(engine)  # quick when all is in place
                server = _ThreadedServer(self._server_app(), self._take_socket())
                server.start()
                self._server = server
                self._sign_in(engine, url)
            except BaseException:
                self._stop_locked()
                raise
            finally:
                engine.dispose()
            log.info("local sync server at %s for %s", url, self.username)
            return url

    def run(self) -> str | None:
        """:meth:`prepare` then :meth:`start`; None when the database uses another server."""
        if self.prepare() is None:
            return None
        return self.start()

    def stop(self) -> None:
        """Stop the server thread (if running) and forget the tokens; safe to repeat."""
        with self._lock:
            self._stop_locked()

    def _stop_locked(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None
        if self._socket is not None:
            self._socket.close()
            self._socket = None
        if self.url is not None:
            tokens.forget_in_memory(self.url)
        if self._database is not None:
            self._database.dispose()
            self._database = None
            self._app = None
        if self._serving.is_locked:
            self._serving.release(force=True)

    @property
    def running(self) -> bool:
        return self._server is not None and self._server.thread.is_alive()

    @property
    def thread(self) -> threading.Thread | None:
        """The server thread (tests check it ended)."""
        return None if self._server is None else self._server.thread

    def try_hold(self) -> bool:
        """Take the embedded server for this process without waiting; False when another has it."""
        with self._lock:
            try:
                self._hold_serving_lock(0)
            except LocalServerInUse:
                return False
            return True

    def join_running(self) -> str:
        """Use the embedded server another process runs (the app): sign in here too.

        The other process wrote its address into the client database when it took
        the server; this process gets its own tokens for the same rep and device
        from the server database (in memory only, forgotten by :meth:`stop`).
        Returns that address.
        """
        from fieldrep.server.services.rowstore import get_meta

        with self._lock:
            engine = open_database(self.db_path)
            try:
                state = read_client_state(engine)
                url = state.server_url
                if url is None or state.uses_other_server or not state.tied:
                    raise LocalServerRefused("the database is not set up for the local server")
                if not self.server_path.exists():
                    raise LocalServerRefused(f"{self.server_path} does not exist")
                with engine.begin() as connection:
                    device = local.device_id(connection)
                with self._server_database().read() as session:
                    served = get_meta(session, META_DEVICE)
                if served != device:
                    raise LocalServerRefused(f"{self.server_path} serves another FieldRep database")
                self._sign_in(engine, url)
            except BaseException:
                self._stop_locked()
                raise
            finally:
                engine.dispose()
            log.info("using the local sync server of another process at %s", url)
            return url

    # -- parts

    def _hold_serving_lock(self, wait_s: float | None = None) -> None:
        """Hold the serving lock (a no-op when held); LocalServerInUse after ``wait_s``."""
        if self._serving.is_locked:
            return
        self.server_path.parent.mkdir(parents=True, exist_ok=True)
        try:
            self._serving.acquire(timeout=self.lock_wait_s if wait_s is None else wait_s)
        except filelock.Timeout as error:
            raise LocalServerInUse(
                f"another FieldRep process runs the local sync server of {self.server_path}"
            ) from error

    def _bind(self) -> str:
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind((HOST, 0))
        self._socket = sock
        self.url = f"http://{HOST}:{sock.getsockname()[1]}"
        return self.url

    def _take_socket(self) -> socket.socket:
        sock, self._socket = self._socket, None
        assert sock is not None
        return sock

    def _server_database(self) -> Database:
        if self._database is None:
            from fieldrep.server.core.config import Settings
            from fieldrep.server.core.db import open_server_database

            settings = Settings.from_env(database_url=str(self.server_path))
            self._database = open_server_database(settings.database_url)
        return self._database

    def _server_app(self) -> FastAPI:
        if self._app is None:
            from fieldrep.server.core.config import Settings
            from fieldrep.server.main import create_app

            settings = Settings.from_env(database_url=str(self.server_path))
            self._app = create_app(settings, database=self._server_database())
        return self._app

    def _tie_or_forget(self, engine: Engine) -> None:
        """:meth:`_tie`; when refused, the database forgets the embedded server's address."""
        try:
            self._tie(engine)
        except LocalServerRefused:
            with engine.begin() as connection:
                state_url = local.get_state(connection, local.SERVER_URL)
                if state_url is not None and state_url == local.get_state(
                    connection, LOCAL_SERVER_URL
                ):
                    local.set_state(connection, local.SERVER_URL, None)
            raise

    def _tie(self, engine: Engine) -> None:
        """Make sure the server holds this database's rows and knows its device."""
        from fieldrep.server.services.admin import initialise
        from fieldrep.server.services.rowstore import get_meta

        database = self._server_database()
        initialise(database)
        with engine.begin() as connection:
            device = local.device_id(connection)
        with database.read() as session:
            rep = get_meta(session, META_REP)
            served = get_meta(session, META_DEVICE)
            has_territories = session.execute(text("SELECT 1 FROM territory LIMIT 1")).first()
        state = read_client_state(engine)
        if rep is None:
            if has_territories is not None:
                raise LocalServerRefused(
                    f"{self.server_path} holds a server FieldRep did not set up for this "
                    "profile; run it with 'fieldrep server run' and sign in, or move it away"
                )
            self._fill(engine, device)
        elif served == device:
            if not state.tied:
                self._finish_client(engine, database)  # a first run stopped half-way
        else:
            if _has_dealers(engine):
                raise LocalServerRefused(
                    f"{self.server_path} serves another FieldRep database; move it away "
                    "to start the local server from this one"
                )
            # A new, empty database for the same local server: it signs in as the rep
            # and gets the territory by its first (snapshot) sync.
            self._adopt_empty_client(engine, database, device, rep)

    def _fill(self, engine: Engine, device: str) -> None:
        """First run: the demo (unless there are dealers), then everything into the server."""
        from fieldrep.storage.demo import build_demo

        if not _has_dealers(engine):
            today = self.today or date.today()
            summary = build_demo(engine, dealers=self.dealers, today=today)
            log.info("local server: demo territory built (%d rows)", summary.total_rows)
        with engine.connect() as connection, connection.begin():
            # The client's write lock (BEGIN IMMEDIATE) is held across the import:
            # nothing changes here meanwhile, and the client's part commits only
            # after the server's (a stop in between is finished on the next start).
            rep = _choose_rep(connection)
            if rep is None:
                raise LocalServerRefused("the database has no sales rep to sign in as")
            counts = _import_rows(self._server_database(), connection, rep, device)
            # Every pending change is in the import with its current values.
            _finish_client_rows(connection, self._server_database(), rep, drop_outbox=True)
        log.info(
            "local server filled: %d rows in %d territories", sum(counts.values()), len(counts)
        )

    def _finish_client(self, engine: Engine, database: Database) -> None:
        with engine.connect() as connection, connection.begin():
            rep = _choose_rep(connection)
            if rep is None:
                raise LocalServerRefused("the database has no sales rep to sign in as")
            _finish_client_rows(connection, database, rep, drop_outbox=False)

    def _adopt_empty_client(
        self, engine: Engine, database: Database, device: str, rep_username: str
    ) -> None:
        from fieldrep.server.models import ServerRow, User
        from fieldrep.server.services.rowstore import set_meta

        def work(session: Session) -> _Rep:
            user = session.scalars(select(User).where(User.username == rep_username)).first()
            if user is None:
                raise LocalServerRefused(f"the local server has no user {rep_username}")
            published = session.get(ServerRow, ("app_user", user.id))
            home = "" if published is None else published.territory_id
            set_meta(session, META_DEVICE, device)
            return _Rep(user.id, user.username, user.display_name, home)

        rep = database.write(work)
        with engine.begin() as connection:
            local.clear_cursors(connection)
            local.set_state(connection, local.SERVER_EPOCH, None)
            _write_user_state(connection, rep)
            local.set_state(connection, LOCAL_SERVER_URL, f"http://{HOST}")

    def _sign_in(self, engine: Engine, url: str) -> None:
        """Tokens for the rep on this database's device, kept in memory; the state written."""
        from fieldrep.server.api.deps import AppState
        from fieldrep.server.services.rowstore import get_meta

        app = self._server_app()
        state: AppState = app.state.fieldrep
        with state.database.read() as session:
            username = get_meta(session, META_REP)
        if username is None:
            raise LocalServerRefused("the local server has no demo rep")
        with engine.begin() as connection:
            device = local.device_id(connection)
        answer = state.auth.sign_in_in_process(username, device, DEVICE_NAME)
        tokens.keep_in_memory(url)
        tokens.save_tokens(
            url,
            username,
            tokens.Tokens(answer.access_token, answer.refresh_token, answer.device_id),
        )
        with engine.begin() as connection:
            home = connection.execute(
                text("SELECT territory_id FROM app_user WHERE id = :i"), {"i": answer.user.id}
            ).scalar()
            scope = sorted(answer.user.territory_ids, key=lambda t: (t != home, t))
            local.set_state(connection, local.SERVER_URL, url)
            local.set_state(connection, LOCAL_SERVER_URL, url)
            local.set_state(connection, local.USER_NAME, username)
            local.set_state(connection, local.USER_ID, answer.user.id)
            local.set_state(connection, local.DEVICE_ID, answer.device_id)
            local.set_state(connection, "user_role", answer.user.role)
            local.set_state(connection, "user_display_name", answer.user.display_name)
            local.set_state(connection, "territory_ids", json.dumps(scope))
        self.url = url
        self.username = username


@contextmanager
def serving_for_sync(db_path: Path, *, server_path: Path | None = None) -> Iterator[str | None]:
    """The embedded server for one sync of ``db_path`` (``fieldrep sync``); yields its address.

    Yields None when the database is not tied to the embedded server (never set
    up for it, or signed in to another server): the sync goes as usual. When no
    other process runs the embedded server (the app is closed), it runs here for
    the sync, signed in in-process as the app does, and is stopped afterwards.
    When the app runs it, the sync goes to the app's server: this process signs
    in in-process too (tokens in memory) and uses the address the app wrote; the
    profile's sync lock keeps the two syncs from overlapping. While this process
    runs the server, an app starting meanwhile waits up to :data:`LOCK_WAIT_S`.
    """
    if not db_path.exists():
        yield None
        return
    engine = open_database(db_path)
    try:
        state = read_client_state(engine)
    finally:
        engine.dispose()
    if not state.tied or state.uses_other_server:
        yield None
        return
    server = LocalServer(db_path, server_path=server_path, lock_wait_s=0)
    try:
        url = server.run() if server.try_hold() else server.join_running()
        yield url
    finally:
        server.stop()


# ---------------------------------------------------------------- import


@dataclass(frozen=True)
class _Rep:
    id: str
    username: str
    display_name: str
    territory_id: str


def _has_dealers(engine: Engine) -> bool:
    from fieldrep.storage.demo import has_dealers

    return has_dealers(engine)


def _choose_rep(connection: Connection) -> _Rep | None:
    """The rep the app signs in as: the demo's rep, else the first rep of the database."""
    from fieldrep.storage.demo import DEMO_REP_USERNAME

    rows = connection.execute(
        text(
            "SELECT id, username, display_name, territory_id FROM app_user "
            "WHERE role = 'rep' AND deleted = 0 ORDER BY username != :demo, id LIMIT 1"
        ),
        {"demo": DEMO_REP_USERNAME},
    ).first()
    return None if rows is None else _Rep(str(rows[0]), str(rows[1]), str(rows[2]), str(rows[3]))


def _unique(name: str, taken: set[str]) -> str:
    candidate, number = name, 2
    while candidate in taken:
        candidate, number = f"{name} ({number})", number + 1
    taken.add(candidate)
    return candidate


def _wire_row(table: str, row: Any) -> dict[str, Any]:
    """A client row as the server stores it: every declared field, canonical wire form."""
    fields = TABLES[table].fields
    return {
        name: normalise_value(spec, to_wire(table, name, row[name]))
        for name, spec in fields.items()
    }


@contextmanager
def _mapping_rows(connection: Connection, table: str) -> Iterator[Iterator[Any]]:
    result = connection.execute(text(f'SELECT * FROM "{table}" ORDER BY id'))
    try:
        yield (row for row in result.mappings())
    finally:
        result.close()


def _import_rows(database: Database, client: Connection, rep: _Rep, device: str) -> dict[str, int]:
    """Everything of the client database into the empty server, in one transaction.

    Territories and users become the server's (same ids), each rep is assigned
    their territory and ``rep`` every territory; each synced row goes into the row
    store with its version (at least 1), the next change number of its stream, a
    change-log entry and an audit entry. Returns the rows per territory.
    """
    from fieldrep.server.core.security import now_text
    from fieldrep.server.models import Assignment, Device, SyncStream, Territory, User
    from fieldrep.server.services.rowstore import ensure_initialised, set_meta
    from fieldrep.server.services.scope import SYSTEM_USER_ID

    territories = client.execute(
        text("SELECT id, name, region, manager_user_id FROM territory ORDER BY id")
    ).all()
    users = client.execute(
        text(
            "SELECT id, username, display_name, role, manager_user_id, territory_id, deleted "
            "FROM app_user ORDER BY id"
        )
    ).all()

    def work(session: Session) -> dict[str, int]:
        ensure_initialised(session)
        now = now_text()
        names: set[str] = set()
        known = {str(t.id) for t in territories}
        for territory in territories:
            session.add(
                Territory(
                    id=territory.id,
                    name=_unique(str(territory.name), names),
                    region=territory.region,
                    manager_user_id=territory.manager_user_id,
                    created_at=now,
                )
            )
            session.add(SyncStream(territory_id=territory.id, last_change_no=0, horizon=0))
        usernames: set[str] = set()
        for user in users:
            session.add(
                User(
                    id=user.id,
                    username=_unique(str(user.username), usernames),
                    display_name=user.display_name or user.username,
                    role=user.role,
                    password_hash=NO_PASSWORD,
                    manager_user_id=user.manager_user_id,
                    active=not user.deleted,
                    created_at=now,
                )
            )
        session.flush()
        assigned = {(rep.id, territory_id) for territory_id in known}
        assigned.update(
            (str(user.id), str(user.territory_id))
            for user in users
            if user.role == "rep" and str(user.territory_id) in known
        )
        for user_id, territory_id in sorted(assigned):
            session.add(Assignment(user_id=user_id, territory_id=territory_id))
        session.add(Device(id=device, user_id=rep.id, name=DEVICE_NAME, created_at=now))
        counters = dict.fromkeys(known, 0)
        skipped = 0
        for table in MODEL_TABLES:
            with _mapping_rows(client, table) as rows:
                batch: list[Any] = []
                for row in rows:
                    if str(row["territory_id"]) not in counters:
                        skipped += 1
                        continue
                    batch.append(row)
                    if len(batch) >= _CHUNK:
                        _insert_batch(session, table, batch, counters, now, SYSTEM_USER_ID)
                        batch = []
                if batch:
                    _insert_batch(session, table, batch, counters, now, SYSTEM_USER_ID)
        for territory_id, last in counters.items():
            stream = session.get(SyncStream, territory_id)
            assert stream is not None
            stream.last_change_no = last
        if skipped:
            log.warning("local server: %d rows of unknown territories not imported", skipped)
        set_meta(session, META_REP, rep.username)
        set_meta(session, META_DEVICE, device)
        return counters

    return database.write(work)


def _insert_batch(
    session: Session,
    table: str,
    rows: list[Any],
    counters: dict[str, int],
    now: str,
    system_user: str,
) -> None:
    from fieldrep.server.models import AuditEntry, ChangeLog, ServerRow

    stored: list[dict[str, Any]] = []
    changes: list[dict[str, Any]] = []
    audit: list[dict[str, Any]] = []
    for row in rows:
        territory_id = str(row["territory_id"])
        counters[territory_id] += 1
        change_no = counters[territory_id]
        version = max(int(row["row_version"] or 0), 1)
        values = _wire_row(table, row)
        stored.append(
            {
                "table_name": table,
                "id": row["id"],
                "territory_id": territory_id,
                "row_version": version,
                "deleted": bool(row["deleted"]),
                "change_no": change_no,
                "values": values,
            }
        )
        changes.append(
            {
                "territory_id": territory_id,
                "change_no": change_no,
                "table_name": table,
                "row_id": row["id"],
                "row_version": version,
            }
        )
        audit.append(
            {
                "at": now,
                "user_id": system_user,
                "device_id": None,
                "territory_id": territory_id,
                "table_name": table,
                "row_id": row["id"],
                "action": "insert",
                "row_version": version,
                "change_no": change_no,
                "op_id": None,
                "changes": {
                    name: {"old": None, "new": value}
                    for name, value in values.items()
                    if value is not None
                },
            }
        )
    # Core inserts (executemany) of plain dicts: no ORM bookkeeping for bulk rows.
    tables = ServerRow.metadata.tables
    session.execute(insert(tables[ServerRow.__tablename__]), stored)
    session.execute(insert(tables[ChangeLog.__tablename__]), changes)
    session.execute(insert(tables[AuditEntry.__tablename__]), audit)


def _finish_client_rows(
    client: Connection, database: Database, rep: _Rep, *, drop_outbox: bool
) -> None:
    """The client's side of an import: versions, cursors at the streams' ends, epoch, user.

    Runs in the client's write transaction with capture off. ``drop_outbox``
    (right after the import, under the same lock): pending ops are dropped, the
    server took every row with its current values. Otherwise they stay and are
    pushed; values the server already has merge as no-ops.
    """
    from fieldrep.server.models import User
    from fieldrep.server.services.pull import Cursor
    from fieldrep.server.services.rowstore import current_epoch
    from fieldrep.server.services.scope import caller_for, visible_streams

    with database.read() as session:
        epoch = current_epoch(session)
        user = session.get(User, rep.id)
        if user is None:
            raise LocalServerRefused(f"the local server has no user {rep.username}")
        streams = visible_streams(session, caller_for(session, user, None))
        cursors = {
            tid: Cursor(False, stream.last_change_no).text() for tid, stream in streams.items()
        }
    capture.set_capture(client, False)
    for table in MODEL_TABLES:
        client.exec_driver_sql(f'UPDATE "{table}" SET row_version = 1 WHERE row_version = 0')
    capture.set_capture(client, True)
    if drop_outbox:
        client.exec_driver_sql("DELETE FROM outbox WHERE state = 'pending'")
        client.exec_driver_sql(
            "DELETE FROM sync_batch WHERE batch_id NOT IN "
            "(SELECT batch_id FROM outbox WHERE batch_id IS NOT NULL)"
        )
    local.clear_cursors(client)
    local.set_cursors(client, cursors)
    local.set_state(client, local.SERVER_EPOCH, epoch)
    _write_user_state(client, rep)
    # A placeholder until the server runs on its port (prepare sets the real one).
    local.set_state(client, LOCAL_SERVER_URL, f"http://{HOST}")


def _write_user_state(connection: Connection, rep: _Rep) -> None:
    """Who is signed in, as login would record it (the store opens as this rep)."""
    local.set_state(connection, local.USER_NAME, rep.username)
    local.set_state(connection, local.USER_ID, rep.id)
    local.set_state(connection, "user_role", "rep")
    local.set_state(connection, "user_display_name", rep.display_name)
    if rep.territory_id:
        local.set_state(connection, "territory_ids", json.dumps([rep.territory_id]))


__all__ = [
    "DEMO_DEALERS",
    "LOCAL_SERVER_URL",
    "ClientState",
    "LocalServer",
    "LocalServerInUse",
    "LocalServerRefused",
    "default_server_path",
    "read_client_state",
    "serving_for_sync",
    "serving_lock_path",
]
