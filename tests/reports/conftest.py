"""Fixtures of the printout tests: a dealer history in a fresh database, PDF inspection."""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pdfcheck import Pdf
from reports_dataset import DatasetIds, build
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fieldrep.storage.db import open_database
from fieldrep.storage.enums import Role
from fieldrep.storage.models import AppUser, Territory
from fieldrep.storage.types import new_id

POPPLER_TOOLS = ("pdftotext", "pdffonts", "pdfinfo", "pdftoppm")


@pytest.fixture(scope="session")
def _template(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, DatasetIds]:
    """The dataset built once in a migrated database file; tests get a copy.

    Printing only reads, so every test can start from the same file: copying it
    is much faster than migrating and filling a database per test.
    """
    path = tmp_path_factory.mktemp("reports-template") / "fieldrep.db"
    engine = open_database(path)
    territory_id, user_id = new_id(), new_id()
    with Session(engine) as session, session.begin():
        session.add(Territory(id=territory_id, territory_id=territory_id, name="华东一区"))
        session.add(
            AppUser(
                id=user_id,
                territory_id=territory_id,
                username="zhangwei",
                display_name="张伟",
                role=Role.REP,
            )
        )
        session.flush()
        ids = build(session, territory_id, user_id)
    engine.dispose()  # closes the last connection: SQLite folds the WAL into the file
    return path, ids


@pytest.fixture
def engine(_template: tuple[Path, DatasetIds], tmp_path: Path) -> Iterator[Engine]:
    """A private copy of the dataset's database (overrides the empty database fixture)."""
    copy = tmp_path / "fieldrep.db"
    shutil.copyfile(_template[0], copy)
    database = open_database(copy)
    yield database
    database.dispose()


@pytest.fixture
def dataset(_template: tuple[Path, DatasetIds], engine: Engine) -> DatasetIds:
    """Two dealers with people, visits, objections, follow-ups, figures and a report."""
    return _template[1]


@pytest.fixture
def as_pdf(tmp_path: Path) -> Callable[[bytes], Pdf]:
    """Turn PDF bytes into a :class:`Pdf` in the test's folder."""
    counter = iter(range(1000))

    def make(data: bytes) -> Pdf:
        return Pdf(data, tmp_path, f"document-{next(counter)}")

    return make
