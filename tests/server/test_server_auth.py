"""Sign-in, rotating refresh tokens, expiry, forgery and device revocation."""

from __future__ import annotations

from datetime import timedelta

import httpx
import jwt
import pytest
from servertest import PASSWORD, ApiClient, World

from fieldrep.server.core.security import AccessClaims, issue_access_token, utcnow
from fieldrep.sync.protocol import TokenResponse

pytestmark = pytest.mark.anyio


async def test_login_gives_tokens_user_and_scope(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(
        "/v1/auth/login", json={"username": "alice", "password": PASSWORD, "device_name": "笔记本"}
    )
    assert response.status_code == 200
    tokens = TokenResponse.model_validate(response.json())
    assert tokens.user.display_name == "李雷"
    assert tokens.user.territory_ids == [world.t1]
    assert tokens.user.territory_names == {world.t1: "杭州"}, "a picker shows names"
    assert tokens.expires_in == world.settings.access_token_minutes * 60
    me = await http.get("/v1/auth/me", headers={"Authorization": f"Bearer {tokens.access_token}"})
    assert me.json()["username"] == "alice"


@pytest.mark.parametrize(
    ("username", "password"), [("alice", "wrong password"), ("nobody", PASSWORD)]
)
async def test_wrong_credentials_are_refused_alike(
    http: httpx.AsyncClient, world: World, username: str, password: str
) -> None:
    response = await http.post("/v1/auth/login", json={"username": username, "password": password})
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_credentials"
    assert response.headers["www-authenticate"] == "Bearer"


async def test_login_again_on_the_same_device_keeps_the_device(
    http: httpx.AsyncClient, alice: ApiClient
) -> None:
    again = await ApiClient.sign_in(http, "alice", device_id=alice.device_id)
    assert again.device_id == alice.device_id
    elsewhere = await ApiClient.sign_in(http, "bob", device_id=alice.device_id)
    assert elsewhere.device_id != alice.device_id  # another user's device is never shared


async def test_refresh_rotates_and_a_stolen_token_reuse_signs_the_device_out(
    http: httpx.AsyncClient, alice: ApiClient
) -> None:
    first = alice.tokens.refresh_token
    rotated = await http.post("/v1/auth/refresh", json={"refresh_token": first})
    assert rotated.status_code == 200
    second = TokenResponse.model_validate(rotated.json())
    assert second.refresh_token != first
    assert second.device_id == alice.device_id
    # The successor is used: the chain is live ...
    third = await http.post("/v1/auth/refresh", json={"refresh_token": second.refresh_token})
    assert third.status_code == 200
    # ... so presenting the first token again is theft: every token of the device dies.
    reuse = await http.post("/v1/auth/refresh", json={"refresh_token": first})
    assert reuse.status_code == 401
    assert reuse.json()["code"] == "refresh_reused"
    newest = TokenResponse.model_validate(third.json())
    after = await http.post("/v1/auth/refresh", json={"refresh_token": newest.refresh_token})
    assert after.status_code == 401
    pull = await http.post(
        "/v1/sync/pull",
        json={"cursors": {}},
        headers={"Authorization": f"Bearer {newest.access_token}", "X-FieldRep-Protocol": "1"},
    )
    assert pull.status_code == 401


async def test_a_refresh_whose_answer_was_lost_can_be_retried(
    http: httpx.AsyncClient, alice: ApiClient
) -> None:
    first = alice.tokens.refresh_token
    lost = await http.post("/v1/auth/refresh", json={"refresh_token": first})
    assert lost.status_code == 200  # the client never saw this answer
    retry = await http.post("/v1/auth/refresh", json={"refresh_token": first})
    assert retry.status_code == 200
    never_received = TokenResponse.model_validate(lost.json()).refresh_token
    assert (
        await http.post("/v1/auth/refresh", json={"refresh_token": never_received})
    ).status_code == 401
    current = TokenResponse.model_validate(retry.json()).refresh_token
    assert (await http.post("/v1/auth/refresh", json={"refresh_token": current})).status_code == 200


async def test_an_expired_access_token_is_refused_and_refresh_continues(
    http: httpx.AsyncClient, alice: ApiClient, world: World
) -> None:
    assert world.settings.secret is not None
    expired = issue_access_token(
        world.settings.secret,
        AccessClaims(alice.user_id, alice.device_id, 0),
        timedelta(minutes=15),
        now=utcnow() - timedelta(hours=1),
    )
    alice.tokens = alice.tokens.model_copy(update={"access_token": expired})
    response = await alice.pull_page()
    assert response.status_code == 401
    assert response.json()["code"] == "token_expired"
    refreshed = await http.post(
        "/v1/auth/refresh", json={"refresh_token": alice.tokens.refresh_token}
    )
    alice.tokens = TokenResponse.model_validate(refreshed.json())
    assert (await alice.pull_page()).status_code == 200


@pytest.mark.parametrize("kind", ["other_secret", "none_alg", "garbage", "refresh_as_access"])
async def test_forged_tokens_are_refused(alice: ApiClient, world: World, kind: str) -> None:
    claims = {"iss": "fieldrep-server", "typ": "access", "sub": alice.user_id}
    claims |= {"did": alice.device_id, "gen": 0, "iat": 0, "exp": 4_000_000_000}
    if kind == "other_secret":
        token = jwt.encode(claims, "not-the-server-secret-but-long-enough", algorithm="HS256")
    elif kind == "none_alg":
        token = jwt.encode(claims, None, algorithm="none")
    elif kind == "garbage":
        token = "abc.def.ghi"
    else:
        token = alice.tokens.refresh_token
    alice.tokens = alice.tokens.model_copy(update={"access_token": token})
    response = await alice.pull_page()
    assert response.status_code == 401
    assert response.json()["code"] == "invalid_token"


async def test_no_token_is_refused(http: httpx.AsyncClient, world: World) -> None:
    response = await http.post(
        "/v1/sync/pull", json={"cursors": {}}, headers={"X-FieldRep-Protocol": "1"}
    )
    assert response.status_code == 401
    assert response.json()["code"] == "not_authenticated"


async def test_a_manager_revokes_a_team_device_and_it_is_refused(
    http: httpx.AsyncClient, alice: ApiClient, mona: ApiClient, carol: ApiClient
) -> None:
    listed = (await mona.get("/v1/devices")).json()["devices"]
    assert alice.device_id in {device["id"] for device in listed}
    assert carol.device_id not in {device["id"] for device in listed}  # not her team
    outside = await mona.post(f"/v1/devices/{carol.device_id}/revoke", {})
    assert outside.status_code == 404
    revoked = await mona.post(f"/v1/devices/{alice.device_id}/revoke", {})
    assert revoked.status_code == 200
    assert revoked.json()["revoked_at"] is not None
    response = await alice.pull_page()
    assert response.status_code == 401
    assert response.json()["code"] == "device_revoked"
    refresh = await http.post(
        "/v1/auth/refresh", json={"refresh_token": alice.tokens.refresh_token}
    )
    assert refresh.status_code == 401
    relogin = await http.post(
        "/v1/auth/login",
        json={"username": "alice", "password": PASSWORD, "device_id": alice.device_id},
    )
    assert relogin.status_code == 401
    assert relogin.json()["code"] == "device_revoked"


async def test_a_rep_sees_and_revokes_only_their_own_devices(
    alice: ApiClient, bob: ApiClient
) -> None:
    listed = (await alice.get("/v1/devices")).json()["devices"]
    assert [device["id"] for device in listed] == [alice.device_id]
    assert (await alice.post(f"/v1/devices/{bob.device_id}/revoke", {})).status_code == 404
