"""Fixtures of the server tests: a server database (SQLite, and PostgreSQL when asked),
a small organisation in it, and API clients signed in as its people.

The PostgreSQL variant of every test runs when FIELDREP_TEST_DATABASE_URL is set
(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test); each test gets its own
schema, dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from servertest import ApiClient, World, build_world, server_settings
from sqlalchemy import create_engine, text

from fieldrep.server.core.config import Settings, normalise_database_url, sqlite_url
from fieldrep.server.core.db import Database, open_server_database

POSTGRES_ENV = "FIELDREP_TEST_DATABASE_URL"
POSTGRES_SKIP = (
    f"PostgreSQL variant NOT RUN: set {POSTGRES_ENV} "
    "(e.g. postgresql+psycopg://postgres@127.0.0.1:5432/test) to run it"
)


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _postgres_database() -> Iterator[Database]:
    raw_url = os.environ.get(POSTGRES_ENV)
    if not raw_url:
        pytest.skip(POSTGRES_SKIP)
    url = normalise_database_url(raw_url)
    schema = f"fr_test_{uuid.uuid4().hex[:12]}"
    owner = create_engine(url)
    with owner.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    database = open_server_database(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield database
    finally:
        database.dispose()
        with owner.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        owner.dispose()


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database(request: pytest.FixtureRequest, tmp_path: Path, home: Path) -> Iterator[Database]:
    """An empty, migrated server database on each backend."""
    if request.param == "postgresql":
        yield from _postgres_database()
        return
    database = open_server_database(sqlite_url(tmp_path / "server.db"))
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def settings(database: Database) -> Settings:
    return server_settings(database)


@pytest.fixture
def world(database: Database, settings: Settings) -> World:
    """Two territories: 杭州 (reps alice, bob; manager mona's team) and 宁波 (rep carol)."""
    return build_world(database, settings)


@pytest.fixture
async def http(world: World) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=world.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://fieldrep.test") as client:
        yield client


@pytest.fixture
async def alice(http: httpx.AsyncClient) -> ApiClient:
    return await ApiClient.sign_in(http, "alice")


@pytest.fixture
async def bob(http: httpx.AsyncClient) -> ApiClient:
    return await ApiClient.sign_in(http, "bob")


@pytest.fixture
async def carol(http: httpx.AsyncClient) -> ApiClient:
    return await ApiClient.sign_in(http, "carol")


@pytest.fixture
async def mona(http: httpx.AsyncClient) -> ApiClient:
    return await ApiClient.sign_in(http, "mona")


@pytest.fixture
async def root(http: httpx.AsyncClient) -> ApiClient:
    return await ApiClient.sign_in(http, "root")
