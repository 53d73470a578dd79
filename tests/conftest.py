"""Fixtures shared by every test: a private data folder, a migrated database, a Store.

Qt runs offscreen so the suite works without a display; subfolders add their own
fixtures in their own conftest.py.
"""

from __future__ import annotations

import os

# Before anything imports Qt: without a display pytest-qt would abort the whole run.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fieldrep.i18n import DEFAULT_LANGUAGE, set_language
from fieldrep.storage.db import open_database
from fieldrep.storage.enums import Role
from fieldrep.storage.models import AppUser, Territory
from fieldrep.storage.services.core import Store, UserContext
from fieldrep.storage.types import new_id

# The fixed "today" of the store fixture: a Wednesday, so weeks and months have edges nearby.
TODAY = date(2026, 11, 25)


@pytest.fixture(autouse=True)
def fieldrep_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every test gets its own user data folder and starts in the default language."""
    home = tmp_path / "fieldrep-home"
    monkeypatch.setenv("FIELDREP_HOME", str(home))
    set_language(DEFAULT_LANGUAGE)
    yield home
    set_language(DEFAULT_LANGUAGE)


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    """A fresh database file migrated to the newest schema."""
    database = open_database(tmp_path / "fieldrep.db")
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
