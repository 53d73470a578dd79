"""Helpers of the server tests: the test organisation, a signed-in API client, op builders."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

import httpx
from fastapi import FastAPI

from fieldrep.server.core.config import Settings
from fieldrep.server.core.db import Database
from fieldrep.server.core.security import Passwords, new_id
from fieldrep.server.main import create_app
from fieldrep.server.services import admin
from fieldrep.sync.protocol import (
    PROTOCOL_HEADER,
    PROTOCOL_VERSION,
    Change,
    PullResponse,
    PushResponse,
    TokenResponse,
)

PASSWORD = "correct horse battery"
# Cheap argon2 parameters: the tests sign in a lot.
TEST_PASSWORDS = Passwords(time_cost=1, memory_kib=8, parallelism=1)


@dataclass
class World:
    """The test organisation: the app and the ids of its two territories."""

    database: Database
    settings: Settings
    app: FastAPI
    t1: str  # 杭州: alice, bob (team of mona)
    t2: str  # 宁波: carol


def build_world(database: Database, settings: Settings) -> World:
    """Two territories: 杭州 (reps alice, bob; manager mona's team) and 宁波 (rep carol)."""
    admin.initialise(database)
    for username, role, display, manager in (
        ("mona", "manager", "王经理", None),
        ("alice", "rep", "李雷", "mona"),
        ("bob", "rep", "韩梅梅", "mona"),
        ("carol", "rep", "张伟", None),
        ("root", "admin", "管理员", None),
    ):
        admin.add_user(
            database,
            TEST_PASSWORDS,
            username,
            PASSWORD,
            role=role,
            display_name=display,
            manager=manager,
        )
    hangzhou = admin.add_territory(database, "杭州", region="华东")
    ningbo = admin.add_territory(database, "宁波", region="华东")
    admin.assign(database, "alice", "杭州")
    admin.assign(database, "bob", "杭州")
    admin.assign(database, "carol", "宁波")
    app = create_app(settings, database=database)
    return World(database=database, settings=settings, app=app, t1=hangzhou, t2=ningbo)


def server_settings(database: Database) -> Settings:
    """Settings with a fixed secret and cheap password hashing."""
    return Settings(
        database_url=database.url,
        secret="test-secret-that-is-long-enough-for-hs256",
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
    )


def contact_fields(territory_id: str, dealer_id: str, name: str = "王采购") -> dict[str, Any]:
    """Every required field of a new contact of ``dealer_id``."""
    return {
        "territory_id": territory_id,
        "dealer_id": dealer_id,
        "name": name,
        "decision_role": "unknown",
        "is_senior": False,
        "is_business_contact": False,
        "is_settlement_contact": False,
        "is_counterpart": False,
        "is_sales_staff": False,
        "is_shop_assistant": False,
        "can_block": False,
    }


def dealer_fields(territory_id: str, name: str = "杭州恒达", **overrides: Any) -> dict[str, Any]:
    """Every required field of a new dealer, plus overrides."""
    fields: dict[str, Any] = {
        "territory_id": territory_id,
        "name": name,
        "abc_class": "B",
        "lifecycle_status": "cooperating",
        "status": "active",
        "tier": "dealer",
        "is_key_account": False,
        "is_benchmark": False,
        "has_business_license": False,
        "created_at": "2026-11-20T08:00:00.000000Z",
    }
    fields.update(overrides)
    return fields


def op(
    table: str,
    row_id: str,
    fields: dict[str, Any] | None = None,
    *,
    kind: str = "upsert",
    base: dict[str, Any] | None = None,
    base_version: int = 0,
) -> dict[str, Any]:
    """One push op as JSON."""
    return {
        "op_id": str(uuid.uuid4()),
        "table": table,
        "row_id": row_id,
        "kind": kind,
        "fields": fields or {},
        "base": base or {},
        "base_version": base_version,
    }


@dataclass
class ApiClient:
    """A user signed in on one device, talking to the app over httpx."""

    http: httpx.AsyncClient
    tokens: TokenResponse
    cursors: dict[str, str] = field(default_factory=dict)

    @classmethod
    async def sign_in(
        cls, http: httpx.AsyncClient, username: str, *, device_id: str | None = None
    ) -> ApiClient:
        body: dict[str, Any] = {"username": username, "password": PASSWORD}
        if device_id:
            body["device_id"] = device_id
        response = await http.post("/v1/auth/login", json=body)
        assert response.status_code == 200, response.text
        return cls(http, TokenResponse.model_validate(response.json()))

    @property
    def user_id(self) -> str:
        return self.tokens.user.id

    @property
    def device_id(self) -> str:
        return self.tokens.device_id

    def headers(self) -> dict[str, str]:
        return {
            "Authorization": f"Bearer {self.tokens.access_token}",
            PROTOCOL_HEADER: str(PROTOCOL_VERSION),
        }

    async def get(self, path: str, **params: Any) -> httpx.Response:
        return await self.http.get(path, headers=self.headers(), params=params)

    async def post(self, path: str, body: Any) -> httpx.Response:
        return await self.http.post(path, headers=self.headers(), json=body)

    async def push_raw(self, *ops: dict[str, Any], batch_id: str | None = None) -> httpx.Response:
        body = {"device_id": self.device_id, "batch_id": batch_id or str(uuid.uuid4()), "ops": ops}
        return await self.post("/v1/sync/push", body)

    async def push(self, *ops: dict[str, Any], batch_id: str | None = None) -> PushResponse:
        response = await self.push_raw(*ops, batch_id=batch_id)
        assert response.status_code == 200, response.text
        return PushResponse.model_validate(response.json())

    async def pull_page(
        self, limit: int = 1000, epoch: str | None = None, reconcile_from: str | None = None
    ) -> httpx.Response:
        body: dict[str, Any] = {"cursors": self.cursors, "limit": limit}
        if epoch is not None:
            body["epoch"] = epoch
        if reconcile_from is not None:
            body["reconcile_from"] = reconcile_from
        return await self.post("/v1/sync/pull", body)

    async def pull(self, limit: int = 1000, reconcile_from: str | None = None) -> list[Change]:
        """Pull until has_more is false; remember the cursors; return every change."""
        changes: list[Change] = []
        for _ in range(10_000):
            response = await self.pull_page(limit, reconcile_from=reconcile_from)
            assert response.status_code == 200, response.text
            page = PullResponse.model_validate(response.json())
            changes.extend(page.changes)
            self.cursors = page.cursors
            if not page.has_more:
                return changes
        raise AssertionError("pull never ended")

    async def insert_dealer(self, territory_id: str, name: str = "杭州恒达", **fields: Any) -> str:
        row_id = new_id()
        result = await self.push(op("dealer", row_id, dealer_fields(territory_id, name, **fields)))
        assert result.results[0].status == "applied", result
        return row_id


def latest(changes: list[Change]) -> dict[tuple[str, str], Change]:
    """The newest change of each row (what a client would hold after applying them)."""
    rows: dict[tuple[str, str], Change] = {}
    for change in changes:
        key = (change.table, change.row_id)
        if key not in rows or rows[key].row_version < change.row_version:
            rows[key] = change
    return rows
