"""Health, meta, protocol versions (426), error bodies and the OpenAPI schema."""

from __future__ import annotations

import json
import logging

import httpx
import pytest
from servertest import ApiClient, World

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
