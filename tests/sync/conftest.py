"""Fixtures of the sync tests: a fresh data folder and database per test.

The end-to-end tests share one ``world`` (the real server app in-process) and
its two reps' devices, ``alice`` and ``bob``, each with its own files.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from sqlalchemy import Engine
from synce2e import Device, World, make_world
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
def engine(home: Path, migrated_database: Path) -> Iterator[Engine]:
    path = home / "fieldrep.db"
    shutil.copyfile(migrated_database, path)  # the migrations ran once (tests/conftest.py)
    engine = open_database(path)
    yield engine
    engine.dispose()


@pytest.fixture
def store(engine: Engine) -> Store:
    return Store(engine, UserContext(REP, TERRITORY, Role.REP, "小李"))


@pytest.fixture
def world(tmp_path: Path, home: Path, memory_keyring: MemoryKeyring) -> Iterator[World]:
    world = make_world(tmp_path)
    yield world
    world.transport.shutdown()
    world.database.dispose()


@pytest.fixture
def alice(world: World, tmp_path: Path) -> Iterator[Device]:
    device = Device(world, tmp_path, "alice")
    yield device
    device.close()


@pytest.fixture
def bob(world: World, tmp_path: Path) -> Iterator[Device]:
    device = Device(world, tmp_path, "bob")
    yield device
    device.close()
