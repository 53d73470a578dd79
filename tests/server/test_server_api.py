"""Health, meta, protocol versions (426), error bodies and the OpenAPI schema."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from servertest import ApiClient, World
from sqlalchemy.exc import OperationalError

from fieldrep.server.api.routes import health as health_route
from fieldrep.server.core.logging import JsonLineFormatter
from fieldrep.sync.protocol import PROTOCOL_MAX, PROTOCOL_MIN, TABLE_ORDER, MetaResponse

pytestmark = pytest.mark.anyio


async def test_health(http: httpx.AsyncClient, world: World) -> None:
    response = await http.get("/health")
    assert response.status_code == 200
    assert response.json()["status"] == "ok"


async def test_meta_needs_no_sign_in(http: httpx.AsyncClient, world: World) -> None:
    meta = MetaResponse.model_validate((await http.get("/v1/sync/meta")).json())
    assert (meta.protocol_min, meta.protocol_max) == (PROTOCOL_MIN, PROTOCOL_MAX)
    assert meta.tables == list(TABLE_ORDER)
    assert meta.server_time.endswith("Z")


@pytest.mark.parametrize("version", [PROTOCOL_MIN - 1, PROTOCOL_MAX + 1])
async def test_an_unsupported_client_gets_426_everywhere(alice: ApiClient, version: int) -> None:
    headers = alice.headers() | {"X-FieldRep-Protocol": str(version)}
    for method, path in (
        ("GET", "/v1/sync/meta"),
        ("POST", "/v1/sync/pull"),
        ("POST", "/v1/sync/push"),
    ):
        body = {"cursors": {}} if path.endswith("pull") else None
        if path.endswith("push"):
            body = {
                "device_id": alice.device_id,
                "batch_id": "0" * 8 + "-0000-0000-0000-" + "0" * 12,
                "ops": [],
            }
        response = await alice.http.request(method, path, headers=headers, json=body)
        assert response.status_code == 426, path
        assert response.json()["code"] == "unsupported_client"
        assert "update FieldRep" in response.json()["message"]
        assert response.json()["details"]["max"] == PROTOCOL_MAX


async def test_a_missing_protocol_header_is_a_validation_error(alice: ApiClient) -> None:
    headers = {"Authorization": alice.headers()["Authorization"]}
    response = await alice.http.post("/v1/sync/pull", headers=headers, json={"cursors": {}})
    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"


@pytest.mark.parametrize(
    "body",
    [
        {"cursors": {}, "limit": 0},
        {"cursors": {}, "limit": 10**9},
        {"cursors": "nope"},
        {"cursors": {}, "surprise": 1},
    ],
)
async def test_bad_bodies_get_422_with_details(alice: ApiClient, body: object) -> None:
    response = await alice.post("/v1/sync/pull", body)
    assert response.status_code == 422
    payload = response.json()
    assert payload["code"] == "validation_error"
    assert payload["details"]


async def test_malformed_json_and_unknown_routes_get_error_bodies(alice: ApiClient) -> None:
    response = await alice.http.post(
        "/v1/sync/pull",
        headers=alice.headers() | {"Content-Type": "application/json"},
        content=b"{not json",
    )
    assert response.status_code == 422
    missing = await alice.http.get("/v1/nothing-here")
    assert missing.status_code == 404
    assert missing.json()["code"] == "not_found"


async def test_operation_ids_are_stable(http: httpx.AsyncClient, world: World) -> None:
    schema = (await http.get("/openapi.json")).json()
    operation_ids = {
        operation["operationId"] for path in schema["paths"].values() for operation in path.values()
    }
    assert operation_ids == {
        "health",
        "login",
        "refresh_token",
        "me",
        "list_devices",
        "revoke_device",
        "sync_meta",
        "sync_push",
        "sync_pull",
        "list_conflicts",
        "resolve_conflict",
        "list_audit",
    }


def test_logs_are_json_lines() -> None:
    record = logging.LogRecord(
        "fieldrep.server.access", logging.INFO, "x", 1, "GET %s", ("/",), None
    )
    record.status = 200
    line = JsonLineFormatter().format(record)
    entry = json.loads(line)
    assert (entry["message"], entry["status"], entry["logger"]) == (
        "GET /",
        200,
        "fieldrep.server.access",
    )


async def test_a_database_that_does_not_answer_gives_503(
    http: httpx.AsyncClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreachable(_database: object) -> None:
        raise OperationalError("SELECT 1", {}, Exception("connection refused"))

    monkeypatch.setattr(health_route, "ping", unreachable)
    response = await http.get("/health")
    assert response.status_code == 503
    assert response.json()["code"] == "server_busy"
    assert response.headers["retry-after"] == "1"


def test_the_server_shares_only_the_protocol_with_the_client() -> None:
    """Layering (STYLE.md 1): importing the server never imports client storage or sync code."""
    code = (
        "import sys, fieldrep.server.main, fieldrep.cli_server; "
        "prefixes = ('fieldrep.storage', 'fieldrep.sync', 'fieldrep.ui'); "
        "print(sorted(m for m in sys.modules if m.startswith(prefixes)))"
    )
    root = Path(__file__).resolve().parents[2]
    output = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        cwd=root,
        env={**os.environ, "PYTHONPATH": str(root)},
    ).stdout
    assert output.strip() == "['fieldrep.sync', 'fieldrep.sync.protocol']"
