"""Opening, creating and migrating the local SQLite database.

Every connection runs in WAL mode with foreign keys on, so a background sync and
the GUI can read and write at the same time; schema changes go only through the
Alembic migrations shipped in :mod:`fieldrep.storage.migrations`.
"""

from __future__ import annotations

import logging
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from fieldrep.i18n import N_

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger("fieldrep.storage")

# PRAGMA application_id marks a file as FieldRep's ('FREP').
APPLICATION_ID = 0x46524550
MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"
# The newest migration's revision. Opening a database already at this revision
# then needs neither Alembic (a tenth of a second to import) nor the migration
# scripts; tests/test_project.py checks it against the scripts' real head.
HEAD_REVISION = "0005"


class NotAFieldRepDatabase(Exception):
    """The file exists but is not a FieldRep database (or is damaged)."""

    message = N_("The file is not a FieldRep database: {path}")

    def __init__(self, path: Path, detail: str = "") -> None:
        super().__init__(f"{path}: {detail}" if detail else str(path))
        self.path = path
        self.detail = detail


_connect_hooks: list[Any] = []


def register_connect_hook(hook: Any) -> None:
    """Run ``hook(dbapi_connection)`` on every new connection (SQL functions, etc.)."""
    if hook not in _connect_hooks:
        _connect_hooks.append(hook)


def _on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    # Let SQLAlchemy manage transactions; sqlite3's implicit BEGIN is disabled so
    # that PRAGMAs apply and "BEGIN IMMEDIATE" can be issued where we need it.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
    for hook in _connect_hooks:
        hook(dbapi_connection)


#: Execution option of read-only work (:meth:`Store.read`): its transaction starts
#: deferred, so in WAL mode a reader never waits behind a writer (a sync page).
READ_ONLY = "fieldrep_read_only"


def _on_begin(connection: Any) -> None:
    if connection.get_execution_options().get(READ_ONLY):
        # A consistent snapshot for several statements, without the write lock.
        connection.exec_driver_sql("BEGIN DEFERRED")
        return
    # Writers queue on the database lock instead of failing with "database is
    # locked" half-way through a transaction.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(path: Path | str, *, immediate: bool = True) -> Engine:
    """An engine on a SQLite file configured for FieldRep (no migration)."""
    # The search and sort key triggers call SQL functions that these modules
    # register as connect hooks when imported: import them before any connection.
    import fieldrep.storage.search
    import fieldrep.storage.sorting  # noqa: F401

    url = f"sqlite+pysqlite:///{path}"
    engine = create_engine(url, poolclass=NullPool if str(path) == ":memory:" else None)
    event.listen(engine, "connect", _on_connect)
    if immediate:
        event.listen(engine, "begin", _on_begin)
    return engine


def alembic_config(engine: Engine) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The head revision of the migration scripts (reads the scripts)."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, None before the first migration."""
    # Plain SQL instead of Alembic's MigrationContext, which would import Alembic
    # on every start; our history is linear, so the table has at most one row.
    with engine.connect() as connection:
        has_table = connection.exec_driver_sql(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
        ).first()
        if has_table is None:
            return None
        row = connection.exec_driver_sql("SELECT version_num FROM alembic_version").first()
        return None if row is None else str(row[0])


def _check_is_fieldrep(path: Path) -> None:
    """Refuse files that are not ours before Alembic or SQLAlchemy touch them."""
    try:
        with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as raw:
            app_id = raw.execute("PRAGMA application_id").fetchone()[0]
            tables = {row[0] for row in raw.execute("SELECT name FROM sqlite_master")}
    except sqlite3.DatabaseError as error:
        raise NotAFieldRepDatabase(path, str(error)) from error
    if app_id != APPLICATION_ID and tables:
        raise NotAFieldRepDatabase(path, "foreign application id")


def upgrade(engine: Engine) -> None:
    """Bring the schema to the newest migration."""
    from alembic import command

    command.upgrade(alembic_config(engine), "head")
    with engine.begin() as connection:
        connection.exec_driver_sql(f"PRAGMA application_id={APPLICATION_ID}")


def open_database(path: Path | str, *, create: bool = True, migrate: bool = True) -> Engine:
    """Open (and create or migrate) a FieldRep database file.

    Raises :class:`NotAFieldRepDatabase` for a file that is not ours and
    :class:`FileNotFoundError` when ``create`` is false and the file is missing.
    """
    path = Path(path)
    if path.exists() and path.stat().st_size > 0:
        _check_is_fieldrep(path)
    elif not create:
        raise FileNotFoundError(path)
    else:
        path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(path)
    if migrate and current_revision(engine) != HEAD_REVISION:
        log.info("migrating %s to %s", path, HEAD_REVISION)
        upgrade(engine)
    return engine


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)
