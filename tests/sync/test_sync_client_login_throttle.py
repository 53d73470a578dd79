"""The sync client turns a sign-in lock (429 too_many_attempts) into a readable error at once."""

from __future__ import annotations

import httpx
import pytest
from tenacity import wait_none

from fieldrep.i18n import language
from fieldrep.sync.client import SyncClient, TooManyAttempts, Unreachable


def answering(
    status: int, body: dict[str, object], headers: dict[str, str]
) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(status, json=body, headers=headers)

    return httpx.MockTransport(handle), seen


LOCKED = {
    "code": "too_many_attempts",
    "message": "Too many failed sign-ins: sign-in is paused for a while. Try again later.",
    "details": {"retry_after": 90},
}


def test_a_sign_in_lock_is_not_retried_and_says_how_long_to_wait() -> None:
    transport, seen = answering(429, LOCKED, {"Retry-After": "90"})
    client = SyncClient("http://server.test", transport=transport, max_attempts=5)
    with client, pytest.raises(TooManyAttempts) as caught:
        client.login("alice", "wrong", None)
    assert len(seen) == 1
    assert caught.value.retry_after == 90
    with language("en"):
        assert caught.value.user_message() == (
            "Too many failed sign-ins: sign-in is paused. Try again in 2 min."
        )
    with language("zh_CN"):
        assert "2" in caught.value.user_message()
        assert "登录" in caught.value.user_message()


def test_other_429_answers_are_still_retried_as_a_busy_server() -> None:
    transport, seen = answering(429, {"code": "server_busy", "message": "busy"}, {})
    client = SyncClient("http://server.test", transport=transport, max_attempts=3, wait=wait_none())
    with client, pytest.raises(Unreachable):
        client.login("alice", "wrong", None)
    assert len(seen) == 3
