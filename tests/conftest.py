"""Fixtures shared by every test: a private data folder, a migrated database, a Store.

Qt runs offscreen so the suite works without a display; subfolders add their own
fixtures in their own conftest.py. Under pytest-xdist each worker gets its own
PostgreSQL database (see :func:`pytest_configure`).
"""

from __future__ import annotations

import os
import shutil

# Before anything imports Qt: without a display pytest-qt would abort the whole run.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from fieldrep.i18n import DEFAULT_LANGUAGE, set_language
from fieldrep.storage.db import open_database
from fieldrep.storage.enums import Role
from fieldrep.storage.models import AppUser, Territory
from fieldrep.storage.services.core import Store, UserContext
from fieldrep.storage.types import new_id

# The fixed "today" of the store fixture: a Wednesday, so weeks and months have edges nearby.
TODAY = date(2026, 11, 25)

POSTGRES_ENV = "FIELDREP_TEST_DATABASE_URL"


def pytest_configure(config: pytest.Config) -> None:
    """Point an xdist worker's PostgreSQL tests at a database of its own.

    Tests already get a schema each, but some server state is per database, not
    per schema: the log pruning's advisory lock, for one. Two workers pruning in
    one database would each see the other's lock and skip their pass.
    """
    worker = os.environ.get("PYTEST_XDIST_WORKER")
    url = os.environ.get(POSTGRES_ENV)
    if worker and url:
        os.environ[POSTGRES_ENV] = _worker_database(url, worker)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Under pytest-xdist, each worker starts with its share of the tests marked slow.

    A minutes-long test started near the end of a run would keep one worker busy
    long after the others ran out of work; started first, their short tests fill
    that time. Two slow tests on one worker would run one after the other, so they
    are dealt out: the test command's worksteal scheduler gives worker k the k-th
    of n equal runs of this list to start with (tests are taken from the end of a
    busy worker's run later), and slow test j goes at the head of run j mod n. The
    other tests keep their order; a run in one process keeps the file order.
    """
    workers = int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "0"))
    if not os.environ.get("PYTEST_XDIST_WORKER") or workers < 1:
        return
    slow = [item for item in items if item.get_closest_marker("slow") is not None]
    rest = [item for item in items if item.get_closest_marker("slow") is None]
    heads: list[list[pytest.Item]] = [slow[worker::workers] for worker in range(workers)]
    # The sizes the scheduler gives out: what is left, split evenly among the
    # workers still without tests (xdist.scheduler.worksteal.check_schedule).
    ordered: list[pytest.Item] = []
    left = len(items)
    for worker, head in enumerate(heads):
        size = left // (workers - worker)
        ordered += head
        take = max(0, size - len(head))
        ordered += rest[:take]
        rest = rest[take:]
        left -= size
    items[:] = ordered + rest


def _worker_database(raw_url: str, worker: str) -> str:
    """The URL of database ``<name>_<worker>`` beside the given one, created if missing.

    It is kept afterwards (empty: every test drops its schema) for the next run.
    """
    from fieldrep.server.core.config import normalise_database_url

    url = make_url(normalise_database_url(raw_url))
    name = f"{url.database}_{worker}"
    owner = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with owner.connect() as connection:
            found = connection.scalar(
                text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
            )
            if not found:
                try:
                    connection.execute(text(f'CREATE DATABASE "{name}"'))
                except DBAPIError:
                    # Another run's worker of the same name made it first: use it.
                    if not connection.scalar(
                        text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": name}
                    ):
                        raise
    finally:
        owner.dispose()
    return url.set(database=name).render_as_string(hide_password=False)


@pytest.fixture(autouse=True)
def fieldrep_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own user data folder and starts in the default language."""
    home = tmp_path / "fieldrep-home"
    monkeypatch.setenv("FIELDREP_HOME", str(home))
    set_language(DEFAULT_LANGUAGE)
    yield home
    set_language(DEFAULT_LANGUAGE)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder that exists, for the storage, server and sync tests."""
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("FIELDREP_HOME", str(folder))
    return folder


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An empty database file migrated once per session (per xdist worker): tests copy it.

    Running the migrations takes a third of a second; copying the result, a few
    milliseconds.
    """
    path = tmp_path_factory.mktemp("migrated") / "fieldrep.db"
    open_database(path).dispose()  # the last connection closed: the WAL is in the file
    return path


@pytest.fixture
def engine(tmp_path: Path, migrated_database: Path) -> Iterator[Engine]:
    """A fresh database file at the newest schema."""
    path = tmp_path / "fieldrep.db"
    shutil.copyfile(migrated_database, path)
    database = open_database(path)
    yield database
    database.dispose()


@pytest.fixture
def user_context(engine: Engine) -> UserContext:
    """A rep in a territory, both present as rows so foreign data is consistent."""
    territory_id = new_id()
    user_id = new_id()
    with Session(engine) as session, session.begin():
        session.add(
            Territory(id=territory_id, territory_id=territory_id, name="华东一区", region="华东")
        )
        session.add(
            AppUser(
                id=user_id,
                territory_id=territory_id,
                username="zhangwei",
                display_name="张伟",
                role=Role.REP,
                phone="13812345678",
            )
        )
    return UserContext(user_id, territory_id, Role.REP, "张伟")


@pytest.fixture
def store(engine: Engine, user_context: UserContext) -> Store:
    """The service handle of that rep, with today fixed to :data:`TODAY`."""
    return Store(engine, user_context, today=lambda: TODAY)
