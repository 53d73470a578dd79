"""The server database: engines for SQLite or PostgreSQL, migrations, transactions.

SQLite serialises writers: every write transaction starts with BEGIN IMMEDIATE,
so the stream counters are taken in commit order. PostgreSQL uses row locks on
the stream counters (SELECT ... FOR UPDATE) for the same guarantee; a deadlock or
serialization failure there is retried with the whole transaction.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.orm import Session

log = logging.getLogger("fieldrep.server")

MIGRATIONS_DIR = Path(__file__).resolve().parent.parent / "migrations"
VERSION_TABLE = "fieldrep_server_version"
# PostgreSQL SQLSTATEs worth retrying: serialization failure, deadlock.
_RETRY_SQLSTATES = frozenset({"40001", "40P01"})
_ATTEMPTS = 8

T = TypeVar("T")


def _sqlite_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # SQLAlchemy manages transactions; sqlite3's implicit BEGIN is switched off.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin_immediate(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_begin_deferred(connection: Any) -> None:
    connection.exec_driver_sql("BEGIN")


@dataclass
class Database:
    """The engines of one server database.

    ``engine`` serves reads; ``write_engine`` serves write transactions (on SQLite
    a second engine whose transactions begin IMMEDIATE; on PostgreSQL the same).
    """

    url: str
    engine: Engine
    write_engine: Engine
    is_sqlite: bool

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read-only unit of work."""
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            yield session

    def write(self, work: Callable[[Session], T]) -> T:
        """Run ``work`` in one write transaction, retrying transient conflicts."""
        for attempt in range(1, _ATTEMPTS + 1):
            try:
                with (
                    Session(self.write_engine, expire_on_commit=False) as session,
                    session.begin(),
                ):
                    return work(session)
            except (OperationalError, IntegrityError) as error:
                if attempt == _ATTEMPTS or not self.is_transient(error):
                    raise
                log.info("retrying a write transaction (attempt %d): %s", attempt, error.orig)
        raise AssertionError("unreachable")

    def is_transient(self, error: DBAPIError) -> bool:
        """A failure that a retry of the whole transaction may cure."""
        if isinstance(error, IntegrityError):
            # Two requests raced to insert the same key (e.g. a duplicated batch).
            return True
        if self.is_sqlite:
            return "locked" in str(error.orig).lower()
        return getattr(error.orig, "sqlstate", None) in _RETRY_SQLSTATES

    def dispose(self) -> None:
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()


def open_server_database(url: str, *, migrate: bool = True, **engine_args: Any) -> Database:
    """Engines on ``url`` (made ready with the newest migration unless ``migrate`` is false)."""
    parsed = make_url(url)
    is_sqlite = parsed.get_backend_name() == "sqlite"
    if is_sqlite:
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine_args.setdefault("connect_args", {"check_same_thread": False})
        engine = create_engine(url, **engine_args)
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin_deferred)
        write_engine = create_engine(url, **engine_args)
        event.listen(write_engine, "connect", _sqlite_connect)
        event.listen(write_engine, "begin", _sqlite_begin_immediate)
    else:
        engine_args.setdefault("pool_pre_ping", True)
        connect_args = dict(engine_args.pop("connect_args", {}))
        # psycopg prepares a statement after 5 runs; PostgreSQL's generic plan for
        # "id IN (...500 parameters...)" then scans the whole row store linearly.
        connect_args.setdefault("prepare_threshold", None)
        engine = create_engine(url, connect_args=connect_args, **engine_args)
        write_engine = engine
    database = Database(url=url, engine=engine, write_engine=write_engine, is_sqlite=is_sqlite)
    if migrate:
        upgrade(database)
    return database


def alembic_config(database: Database) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = database.write_engine
    return config


def head_revision() -> str:
    head = ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head()
    assert head is not None
    return head


def current_revision(database: Database) -> str | None:
    with database.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"version_table": VERSION_TABLE})
        return context.get_current_revision()


def upgrade(database: Database) -> None:
    """Bring the schema to the newest server migration (no-op when current)."""
    if current_revision(database) == head_revision():
        return
    log.info("migrating the server database to %s", head_revision())
    command.upgrade(alembic_config(database), "head")


def ping(database: Database) -> None:
    """Raise if the database cannot answer a trivial query."""
    with database.engine.connect() as connection:
        connection.execute(text("SELECT 1"))
