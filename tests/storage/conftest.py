"""Fixtures of the storage tests: a fresh data folder and migrated database per test.

The schema is migrated once per session into a template file; each test gets a
copy, so tests stay isolated without paying for the migrations every time.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from fieldrep.i18n import set_language
from fieldrep.storage.db import open_database
from fieldrep.storage.enums import Role
from fieldrep.storage.models import Base
from fieldrep.storage.services.core import Record, Store, UserContext
from fieldrep.storage.services.dealers import create_dealer

TERRITORY = "0190a000-0000-7000-8000-000000000001"
REP = "0190a000-0000-7000-8000-0000000000a1"
OTHER_REP = "0190a000-0000-7000-8000-0000000000a2"
# A Monday: the tests' fixed "today".
TODAY = date(2026, 3, 16)


@pytest.fixture(scope="session")
def template_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    open_database(path).dispose()
    return path


@pytest.fixture
def engine(home: Path, tmp_path: Path, template_db: Path) -> Iterator[Engine]:
    path = tmp_path / "fieldrep.db"
    shutil.copyfile(template_db, path)
    engine = open_database(path)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> Store:
    return Store(engine, UserContext(REP, TERRITORY, Role.REP, "Rep"), today=lambda: TODAY)


@pytest.fixture
def english() -> Iterator[None]:
    set_language("en")
    yield
    set_language("zh_CN")


@pytest.fixture
def count(store: Store) -> Callable[[type[Base]], int]:
    """Number of rows of a model (tombstones included): proves nothing was written."""

    def counter(model: type[Base]) -> int:
        with store.read() as session:
            return int(session.scalar(select(func.count()).select_from(model)) or 0)

    return counter


@pytest.fixture
def make_dealer(store: Store) -> Callable[..., Record]:
    """Create a dealer with sensible defaults; keyword arguments override them."""
    serial = iter(range(1, 10_000))

    def make(**values: Any) -> Record:
        number = next(serial)
        defaults: dict[str, Any] = {
            "name": f"测试经销商{number}号",
            "abc_class": "B",
            "city": "杭州市",
            "province": "浙江省",
        }
        defaults.update(values)
        return create_dealer(store, defaults)

    return make
