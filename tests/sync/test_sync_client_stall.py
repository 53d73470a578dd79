"""A hanging server ends a sync after a bounded time without an answer (not minutes).

The clock is injected: each request to the stalling transport "takes" its whole
timeout on that clock, so the test runs in milliseconds.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from tenacity import wait_none

from fieldrep.i18n import language as use_language
from fieldrep.sync.client import NotResponding, SignedOut, SyncClient, Unreachable
from fieldrep.sync.protocol import PullRequest, PullResponse
from fieldrep.sync.tokens import Tokens

PAGE = PullResponse(epoch="e1", changes=[], cursors={}, has_more=False)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client_with(clock: Clock, serve: httpx.MockTransport, **options: float) -> SyncClient:
    return SyncClient(
        "http://sync.test",
        tokens=Tokens("access", "refresh", "device"),
        transport=serve,
        max_attempts=1000,  # only the stall limit may end these syncs
        wait=wait_none(),
        clock=clock,
        **options,  # type: ignore[arg-type]
    )


def test_a_hanging_server_ends_the_sync_after_the_stall_limit() -> None:
    clock = Clock()
    timeouts: list[float] = []

    def hang(request: httpx.Request) -> httpx.Response:
        timeout = request.extensions["timeout"]["read"]
        timeouts.append(timeout)
        clock.now += timeout  # the request waits its whole timeout, then fails
        raise httpx.ReadTimeout("timed out", request=request)

    with client_with(clock, httpx.MockTransport(hang), timeout=30.0, stall_limit=75.0) as client:
        start = clock.now
        with pytest.raises(NotResponding) as raised:
            client.pull(PullRequest())
    # 30 + 30 + the 15 s left: no attempt outlasts the limit, none runs after it.
    assert timeouts == [30.0, 30.0, 15.0]
    assert clock.now - start == 75.0
    assert isinstance(raised.value, Unreachable), "the CLI's exit code 3, the GUI's offline"
    with use_language("zh_CN"):
        assert raised.value.user_message().startswith("服务器无响应")
    with use_language("en"):
        assert raised.value.user_message() == (
            "The server is not responding: no answer for 75 s. "
            "Your changes are kept and will be sent later."
        )


def test_a_slow_sync_that_keeps_getting_answers_is_not_cut_off() -> None:
    clock = Clock()

    def slow(request: httpx.Request) -> httpx.Response:
        clock.now += 50.0  # every page takes 50 s, but it comes
        return httpx.Response(200, content=PAGE.model_dump_json().encode())

    with client_with(clock, httpx.MockTransport(slow), stall_limit=75.0) as client:
        start = clock.now
        for _page in range(10):
            client.pull(PullRequest())
    assert clock.now - start == 500.0


def test_busy_answers_are_no_progress() -> None:
    clock = Clock()
    calls = 0

    def busy(request: httpx.Request) -> httpx.Response:
        nonlocal calls
        calls += 1
        clock.now += 10.0
        return httpx.Response(503)

    client = client_with(clock, httpx.MockTransport(busy), stall_limit=75.0)
    with client, pytest.raises(NotResponding):
        client.pull(PullRequest())
    assert calls == 8  # 80 s of 503s: the stall limit, not the attempt count, ended it


@pytest.mark.parametrize(
    ("language", "detail", "expected"),
    [
        (
            "zh_CN",
            "此设备已被停用。",
            "您已退出登录（此设备已被停用）。未发送的修改已保留：请重新登录，"
            "或导出这些修改交给技术支持（文件 > 导出未同步的更改…）。",
        ),
        (
            "en",
            "This device was revoked.",
            "You are signed out (This device was revoked). Your unsent changes are kept: "
            "sign in again, or export them for support (File > Export unsent changes…).",
        ),
    ],
)
def test_the_signed_out_message_has_one_full_stop(
    language: str, detail: str, expected: str
) -> None:
    with use_language(language):
        message = SignedOut(detail).user_message()
    assert message == expected
    assert "。）。" not in message and ".)." not in message


def test_fieldrep_sync_against_a_hanging_server_exits_3_with_the_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from fieldrep import cli
    from fieldrep.logging_setup import shutdown_logging
    from fieldrep.sync import api

    database = tmp_path / "rep.db"
    assert cli.main(["demo", "--db", str(database), "--dealers", "3", "--seed", "1"]) == 0
    clock = Clock()

    def hang(request: httpx.Request) -> httpx.Response:
        clock.now += request.extensions["timeout"]["read"]
        raise httpx.ReadTimeout("timed out", request=request)

    def run_sync(db_path: Path | str, progress: Any = None, **_options: Any) -> Any:
        # What the sync does first, against a server that never answers.
        with client_with(clock, httpx.MockTransport(hang)) as client:
            return client.pull(PullRequest())

    monkeypatch.setattr(api, "run_sync", run_sync)
    capsys.readouterr()
    try:
        code = cli.main(["sync", "--db", str(database)])
    finally:
        shutdown_logging()  # as tests/test_cli.py does after each command
    err = capsys.readouterr().err
    assert code == 3
    assert "服务器无响应：75 秒内没有应答。" in err and "Traceback" not in err
