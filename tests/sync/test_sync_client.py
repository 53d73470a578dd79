"""SyncClient: a decoded answer's body is freed at once, not at the next full collection."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Callable, Iterator

import httpx
import pytest

from fieldrep.sync.client import SyncClient
from fieldrep.sync.protocol import PullRequest, PullResponse, TokenResponse, UserInfo
from fieldrep.sync.tokens import Tokens


@pytest.fixture
def collector_off() -> Iterator[None]:
    # With the cyclic collector off, only reference counting frees objects: an
    # answer caught in a reference cycle stays alive and the test sees it.
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


def signed_in_client(serve: Callable[[httpx.Request], httpx.Response]) -> SyncClient:
    """A client holding tokens, its requests answered by ``serve``."""
    tokens = Tokens("access", "refresh", "device")
    return SyncClient("http://sync.test", tokens=tokens, transport=httpx.MockTransport(serve))


def test_a_pulled_page_is_freed_once_decoded(collector_off: None) -> None:
    sent: list[weakref.ref[httpx.Response]] = []

    def serve(request: httpx.Request) -> httpx.Response:
        page = PullResponse(epoch="e1", changes=[], cursors={"t1": "c1"}, has_more=False)
        response = httpx.Response(200, content=page.model_dump_json().encode())
        sent.append(weakref.ref(response))
        return response

    with signed_in_client(serve) as client:
        page = client.pull(PullRequest())
        assert page.cursors == {"t1": "c1"}
        assert len(sent) == 1
        assert sent[0]() is None


def test_a_refused_token_answer_is_freed_too(collector_off: None) -> None:
    sent: list[weakref.ref[httpx.Response]] = []

    def serve(request: httpx.Request) -> httpx.Response:
        if request.url.path.endswith("/auth/refresh"):
            fresh = TokenResponse(
                access_token="a2",
                refresh_token="r2",
                expires_in=900,
                refresh_expires_in=86400,
                device_id="device",
                user=UserInfo(id="u1", username="rep", display_name="Rep", role="rep"),
                epoch="e1",
            )
            response = httpx.Response(200, content=fresh.model_dump_json().encode())
        elif request.headers["Authorization"] == "Bearer access":
            response = httpx.Response(401, json={"code": "token_expired", "message": "expired"})
        else:
            page = PullResponse(epoch="e1", changes=[], cursors={}, has_more=False)
            response = httpx.Response(200, content=page.model_dump_json().encode())
        sent.append(weakref.ref(response))
        return response

    with signed_in_client(serve) as client:
        client.pull(PullRequest())
        assert client.tokens is not None and client.tokens.access_token == "a2"
        assert len(sent) == 3
        assert [ref() for ref in sent] == [None, None, None]
