"""The GUI's sync against a server that does not speak this client's protocol (SYNC.md 13).

The server is the real app in-process (tests/sync/synce2e.py); the client is made
older or newer than the server's protocol range by its version constant, so the
server answers 426 as it would to an outdated FieldRep. The rep must read "update
FieldRep" in the status bar, and nothing waiting may be lost.
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from tenacity import wait_none
from uitest import make_window

from fieldrep.storage.enums import AbcClass
from fieldrep.storage.models import Dealer
from fieldrep.storage.services import core
from fieldrep.sync import api, client
from fieldrep.sync.engine import SyncSummary
from fieldrep.sync.protocol import PROTOCOL_MAX, PROTOCOL_MIN
from fieldrep.ui import sync_bridge
from fieldrep.ui.language import apply_language
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.ops import Severity, Workers
from fieldrep.ui.sync_bridge import SyncOutcome
from fieldrep.ui.uisettings import UiSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
from shots import save_screenshot
from synce2e import Device, World, server_rows

REAL_RUN_SYNC = api.run_sync  # before the fixture below sends every sync to the world
UPDATE_ZH = "服务器不支持此版本的 FieldRep，请更新 FieldRep。"
UPDATE_EN = "This version of FieldRep is not supported by the server. Please update FieldRep."


@pytest.fixture
def alice(world: World, tmp_path: Path) -> Iterator[Device]:
    device = Device(world, tmp_path, "alice")
    yield device
    device.close()


@pytest.fixture(autouse=True)
def to_the_server(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    real_run_sync = api.run_sync

    def run_sync(db_path: Path | str, progress: Any = None, **_options: Any) -> SyncSummary:
        return real_run_sync(
            db_path, progress, transport=world.transport, wait=wait_none(), max_attempts=2
        )

    monkeypatch.setattr(api, "run_sync", run_sync)


def sync_now(qtbot: QtBot, window: MainWindow) -> SyncOutcome:
    with qtbot.waitSignal(window.sync_finished, timeout=30_000) as finished:
        qtbot.mouseClick(window.status.sync_button, Qt.MouseButton.LeftButton)
    outcome = finished.args[0]
    assert isinstance(outcome, SyncOutcome)
    return outcome


@pytest.mark.parametrize("version", [PROTOCOL_MIN - 1, PROTOCOL_MAX + 1], ids=["old", "new"])
def test_a_client_outside_the_protocol_range_is_told_to_update(
    qtbot: QtBot,
    qapp: QApplication,
    workers: Workers,
    ui_settings: UiSettings,
    shown_errors: list[tuple[str, Severity]],
    world: World,
    alice: Device,
    monkeypatch: pytest.MonkeyPatch,
    version: int,
) -> None:
    dealer = core.create(alice.store, Dealer, {"name": "杭州恒达", "abc_class": AbcClass.B})
    window = make_window(qtbot, workers, ui_settings, alice.store, alice.db_path)
    qtbot.waitUntil(lambda: window.status.state is not None and window.status.state.pending == 1)

    monkeypatch.setattr(client, "PROTOCOL_VERSION", version)
    outcome = sync_now(qtbot, window)
    assert (outcome.ok, outcome.reached_server, outcome.message) == (False, True, UPDATE_ZH)
    assert window.status.currentMessage() == UPDATE_ZH
    assert not shown_errors, "a sentence in the status bar, not an error dialog"
    qtbot.waitUntil(lambda: window.status.state is not None)
    assert window.status.state.pending == 1, "the change still waits"
    assert ("dealer", dealer.id) not in server_rows(world)

    # The bridge the status bar calls says it in the current language.
    apply_language(qapp, "en")
    try:
        english = sync_bridge.sync_now(alice.db_path)
    finally:
        apply_language(qapp, "zh_CN")
    assert (english.ok, english.message) == (False, UPDATE_EN)

    # The same FieldRep at the server's version syncs: the refusal was the version's.
    monkeypatch.setattr(client, "PROTOCOL_VERSION", PROTOCOL_MAX)
    assert sync_now(qtbot, window).ok
    assert ("dealer", dealer.id) in server_rows(world)
    assert not shown_errors, shown_errors


class ToClosedPort(httpx.HTTPTransport):
    """A real network request, to a port where nothing listens (connection refused)."""

    def __init__(self) -> None:
        super().__init__()
        closed = socket.socket()
        closed.bind(("127.0.0.1", 0))
        self.port = closed.getsockname()[1]
        closed.close()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        request.url = request.url.copy_with(scheme="http", host="127.0.0.1", port=self.port)
        return super().handle_request(request)


def test_an_unreachable_server_is_named_in_words_in_the_status_bar(
    qtbot: QtBot,
    qapp: QApplication,
    workers: Workers,
    ui_settings: UiSettings,
    shown_errors: list[tuple[str, Severity]],
    alice: Device,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Not "无法连接服务器（ConnectError: [Errno 111] Connection refused）"."""
    core.create(alice.store, Dealer, {"name": "杭州恒达", "abc_class": AbcClass.B})
    window = make_window(qtbot, workers, ui_settings, alice.store, alice.db_path)
    qtbot.waitUntil(lambda: window.status.state is not None and window.status.state.pending == 1)

    def refused(db_path: Path | str, progress: Any = None, **_options: Any) -> SyncSummary:
        return REAL_RUN_SYNC(
            db_path, progress, transport=ToClosedPort(), wait=wait_none(), max_attempts=1
        )

    monkeypatch.setattr(api, "run_sync", refused)
    chinese = "无法连接服务器（服务器拒绝连接）。您的修改已保留，稍后会发送。"
    english = (
        "The server cannot be reached (the server refused the connection). "
        "Your changes are kept and will be sent later."
    )
    outcome = sync_now(qtbot, window)
    assert (outcome.ok, outcome.message) == (False, chinese)
    assert window.status.currentMessage() == chinese
    assert not shown_errors, "a sentence in the status bar, not an error dialog"
    window.resize(1180, 720)
    save_screenshot(window.status, "statusbar_unreachable_zh_CN")

    apply_language(qapp, "en")
    try:
        qtbot.waitUntil(lambda: window.status.currentMessage() == english)
        qtbot.wait(200)
        save_screenshot(window.status, "statusbar_unreachable_en")
        assert sync_bridge.sync_now(alice.db_path).message == english
    finally:
        apply_language(qapp, "zh_CN")
    assert window.status.state is not None and window.status.state.pending == 1
