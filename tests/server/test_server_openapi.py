"""schemathesis over the server's OpenAPI schema: never a 5xx, responses match the schema.

Requests are generated from the schema (bodies, query strings, the protocol
header) and sent to the app in process, signed in as a manager so that the
authenticated paths are reached too. Examples per operation are bounded for CI;
FIELDREP_SCHEMATHESIS_EXAMPLES raises them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)
from servertest import PASSWORD, World, build_world, server_settings

from fieldrep.server.core.config import sqlite_url
from fieldrep.server.core.db import open_server_database
from fieldrep.sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION

EXAMPLES = int(os.environ.get("FIELDREP_SCHEMATHESIS_EXAMPLES", "30"))


@pytest.fixture
def openapi_world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    monkeypatch.setenv("FIELDREP_HOME", str(tmp_path / "home"))
    database = open_server_database(sqlite_url(tmp_path / "server.db"))
    try:
        yield build_world(database, server_settings(database))
    finally:
        database.dispose()


@pytest.fixture
def signed_in(openapi_world: World) -> tuple[str, str]:
    """Access token and device id of the manager mona."""

    async def sign_in() -> tuple[str, str]:
        transport = httpx.ASGITransport(app=openapi_world.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
            response = await client.post(
                "/v1/auth/login", json={"username": "mona", "password": PASSWORD}
            )
            body = response.json()
            return str(body["access_token"]), str(body["device_id"])

    return asyncio.run(sign_in())


@pytest.fixture
def api_schema(openapi_world: World) -> schemathesis.BaseSchema:
    return schemathesis.openapi.from_asgi("/openapi.json", openapi_world.app)


def _check(case: schemathesis.Case, access_token: str, device_id: str) -> None:
    # 426 is covered elsewhere; a valid version and device let requests reach the merge.
    if isinstance(case.body, dict) and "device_id" in case.body:
        case.body["device_id"] = device_id
    headers = {"Authorization": f"Bearer {access_token}", PROTOCOL_HEADER: str(PROTOCOL_VERSION)}
    response = case.call(headers=headers)
    assert response.status_code < 500, (case.operation.label, response.text)
    case.validate_response(
        response,
        checks=[status_code_conformance, content_type_conformance, response_schema_conformance],
    )


def test_every_operation_answers_within_its_schema(
    api_schema: schemathesis.BaseSchema, signed_in: tuple[str, str]
) -> None:
    access_token, device_id = signed_in
    # schemathesis' own pytest plugin does not support pytest 9 yet: drive hypothesis here.
    labels = []
    for result in api_schema.get_all_operations():
        operation = result.ok()
        labels.append(operation.label)
        # Valid requests and invalid ones (wrong types, missing fields): never a 5xx.
        cases = operation.as_strategy(GenerationMode.POSITIVE) | operation.as_strategy(
            GenerationMode.NEGATIVE
        )

        @given(case=cases)
        @settings(
            max_examples=EXAMPLES,
            deadline=None,
            database=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        )
        def check(case: schemathesis.Case) -> None:
            _check(case, access_token, device_id)

        check()
    assert len(labels) == 12
