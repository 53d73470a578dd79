"""Fixtures of the sync tests: a fresh data folder and database per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from sqlalchemy import Engine
from synctest import REP, TERRITORY

from fieldrep.storage.db import open_database
from fieldrep.storage.enums import Role
from fieldrep.storage.services.core import Store, UserContext


class MemoryKeyring(KeyringBackend):
    """A keyring that keeps secrets in a dict: the tests' secure backend."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


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
