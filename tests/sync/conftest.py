"""Fixtures of the sync tests: a fresh data folder and database per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from sqlalchemy import Engine
from synctest import REP, TERRITORY
from synctest_keyring import MemoryKeyring

from fieldrep.storage.db import open_database
from fieldrep.storage.enums import Role
from fieldrep.storage.services.core import Store, UserContext


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    try:
        yield backend
    finally:
        keyring.set_keyring(previous)


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "home"
    folder.mkdir()
    monkeypatch.setenv("FIELDREP_HOME", str(folder))
    return folder


@pytest.fixture
def engine(home: Path) -> Iterator[Engine]:
    engine = open_database(home / "fieldrep.db")
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> Store:
    return Store(engine, UserContext(REP, TERRITORY, Role.REP, "小李"))
