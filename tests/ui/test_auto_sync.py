"""Automatic sync through the main window against the real server app in-process.

The rep never clicks: an edit is pushed after a short quiet spell; with the
network gone the attempts fail, calmly (no dialog) and again and again with
growing waits; when the OS says the network is back the change goes at once;
signed out or switched off, nothing is attempted. The delays are shortened
(SyncTiming), the policy itself is tested in tests/sync/test_sync_schedule.py.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import shiboken6
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from shots import save_screenshot
from tenacity import wait_none
from uitest import NetworkSwitch, make_window

from fieldrep.storage.enums import AbcClass
from fieldrep.storage.models import Dealer
from fieldrep.storage.services import core
from fieldrep.sync import api
from fieldrep.sync.engine import SyncSummary
from fieldrep.sync.schedule import SyncTiming
from fieldrep.ui import sync_bridge
from fieldrep.ui.language import apply_language
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.ops import Severity, Workers
from fieldrep.ui.statusbar import Network
from fieldrep.ui.uisettings import UiSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
from synce2e import Device, World, server_rows

FAST = SyncTiming(after_edit=0.3, periodic=600.0, soon=0.05, retry_first=0.2, retry_cap=0.4)


@pytest.fixture
def alice(world: World, tmp_path: Path) -> Iterator[Device]:
    device = Device(world, tmp_path, "alice")
    yield device
    device.close()


class Counted:
    """The run_sync of the tests: through the switch, counted, and known to be running."""

    def __init__(self, switch: NetworkSwitch) -> None:
        self.switch = switch
        self.attempts = 0
        self.running = 0
        self._real = api.run_sync
        self.during: Callable[[], None] | None = None  # run on the worker, mid-sync

    def __call__(self, db_path: Path | str, progress: Any = None, **_options: Any) -> SyncSummary:
        self.attempts += 1
        self.running += 1
        try:
            summary = self._real(
                db_path, progress, transport=self.switch, wait=wait_none(), max_attempts=1
            )
            if self.during is not None:
                during, self.during = self.during, None
                during()  # after the sync's push and pull, before the window hears of its end
            return summary
        finally:
            self.running -= 1


@pytest.fixture
def network(world: World, monkeypatch: pytest.MonkeyPatch) -> Counted:
    counted = Counted(NetworkSwitch(world.transport))
    monkeypatch.setattr(api, "run_sync", counted)
    return counted


@pytest.fixture
def windows(network: Counted, qtbot: QtBot, ui_settings: UiSettings) -> Iterator[list[MainWindow]]:
    """The windows of a test; before the server goes, their automatic syncs stop and
    the one running ends (else it would reach a server shutting down)."""
    ui_settings.auto_sync = True  # the app's default (the other UI tests switch it off)
    made: list[MainWindow] = []
    yield made
    for window in made:
        if shiboken6.isValid(window):
            window.auto_sync.set_enabled(False)
    qtbot.waitUntil(lambda: network.running == 0, timeout=10_000)


def fast_window(
    qtbot: QtBot, workers: Workers, settings: UiSettings, device: Device, made: list[MainWindow]
) -> MainWindow:
    window = make_window(qtbot, workers, settings, device.store, device.db_path)
    made.append(window)
    window.auto_sync.timing = FAST
    window.auto_sync.network = None  # the machine's own network says nothing here
    window.auto_sync._rng = lambda: 1.0  # the longest wait of each step, for a steady test
    return window


def new_dealer(device: Device, name: str) -> str:
    return core.create(device.store, Dealer, {"name": name, "abc_class": AbcClass.B}).id


def test_an_edit_is_sent_without_a_click(
    qtbot: QtBot,
    workers: Workers,
    ui_settings: UiSettings,
    shown_errors: list[tuple[str, Severity]],
    world: World,
    alice: Device,
    network: Counted,
    windows: list[MainWindow],
) -> None:
    window = fast_window(qtbot, workers, ui_settings, alice, windows)
    # Signed in at start: the first sync comes by itself.
    qtbot.waitUntil(lambda: network.attempts >= 1, timeout=10_000)
    qtbot.waitUntil(lambda: window.auto_sync.reason == "periodic", timeout=10_000)
    started = network.attempts

    first = new_dealer(alice, "杭州恒达")
    qtbot.waitUntil(lambda: window.auto_sync.reason == "edit")
    second = new_dealer(alice, "宁波顺发")  # within the quiet spell: one sync takes both
    qtbot.waitUntil(lambda: ("dealer", second) in server_rows(world), timeout=10_000)
    assert ("dealer", first) in server_rows(world)
    assert network.attempts == started + 1
    # The sync ends (the server has the rows a moment before): next, the periodic one.
    qtbot.waitUntil(lambda: window.auto_sync.reason == "periodic", timeout=10_000)
    assert window.auto_sync.timer.isActive() and window.auto_sync.failures == 0
    assert network.attempts == started + 1
    assert not shown_errors


def test_a_failure_is_retried_and_the_network_coming_back_sends_at_once(
    qtbot: QtBot,
    qapp: QApplication,
    workers: Workers,
    ui_settings: UiSettings,
    shown_errors: list[tuple[str, Severity]],
    world: World,
    alice: Device,
    network: Counted,
    windows: list[MainWindow],
) -> None:
    network.switch.online = False
    window = fast_window(qtbot, workers, ui_settings, alice, windows)
    dealer = new_dealer(alice, "杭州恒达")
    # Attempt after attempt fails, each one planned again: no hard stop, no dialog.
    qtbot.waitUntil(lambda: window.auto_sync.failures >= 4, timeout=15_000)
    assert window.auto_sync.reason == "retry" and window.auto_sync.timer.isActive()
    assert window.status.network() == Network.OFFLINE
    assert not shown_errors, "a background failure opens no dialog"
    assert not window.status.syncing
    save_screenshot(window, "auto_sync_offline_zh_CN")
    apply_language(qapp, "en")
    try:
        qtbot.wait(100)  # the layout follows the longer English labels first
        save_screenshot(window, "auto_sync_offline_en")
    finally:
        apply_language(qapp, "zh_CN")

    # Now the retries wait ten minutes; the network coming back does not wait for them.
    window.auto_sync.timing = SyncTiming(soon=0.05, retry_first=600.0, retry_cap=600.0)
    failures = window.auto_sync.failures
    qtbot.waitUntil(lambda: window.auto_sync.failures > failures, timeout=10_000)
    assert window.auto_sync.timer.remainingTime() > 500_000
    assert ("dealer", dealer) not in server_rows(world)
    network.switch.online = True
    window.auto_sync.network_changed()  # what QNetworkInformation.reachabilityChanged calls
    qtbot.waitUntil(lambda: ("dealer", dealer) in server_rows(world), timeout=10_000)
    qtbot.waitUntil(lambda: window.auto_sync.reason == "periodic")
    assert window.auto_sync.failures == 0
    assert not shown_errors


@pytest.mark.parametrize("why", ["signed_out", "switched_off", "server_starting"])
def test_no_attempt_when_signed_out_or_switched_off(
    qtbot: QtBot,
    workers: Workers,
    ui_settings: UiSettings,
    shown_errors: list[tuple[str, Severity]],
    world: World,
    alice: Device,
    network: Counted,
    windows: list[MainWindow],
    why: str,
) -> None:
    if why == "signed_out":
        assert sync_bridge.sign_out(alice.db_path).ok
    else:
        ui_settings.auto_sync = False
    window = fast_window(qtbot, workers, ui_settings, alice, windows)
    if why == "server_starting":
        window.auto_sync.paused = True  # what fieldrep.ui.app sets until its server listens
    qtbot.waitUntil(lambda: window.status.state is not None)
    dealer = new_dealer(alice, "杭州恒达")
    qtbot.wait(1500)  # many times every delay of FAST
    assert network.attempts == 0
    assert ("dealer", dealer) not in server_rows(world)
    assert not shown_errors
    if why == "switched_off":
        # Switched on again (Settings): it syncs soon, without a click.
        window.auto_sync.set_enabled(True)
        qtbot.waitUntil(lambda: ("dealer", dealer) in server_rows(world), timeout=10_000)


def test_an_edit_made_during_a_sync_is_sent_soon_after_it(
    qtbot: QtBot,
    workers: Workers,
    ui_settings: UiSettings,
    shown_errors: list[tuple[str, Severity]],
    world: World,
    alice: Device,
    network: Counted,
    windows: list[MainWindow],
) -> None:
    window = fast_window(qtbot, workers, ui_settings, alice, windows)
    qtbot.waitUntil(lambda: window.auto_sync.reason == "periodic", timeout=10_000)
    late: list[str] = []
    # The rep saves while the sync ends, after its push: that sync cannot take it.
    network.during = lambda: late.append(new_dealer(alice, "杭州恒达"))
    window.sync_now()
    # Not the periodic sync ten minutes later: the next comes after the quiet spell.
    qtbot.waitUntil(
        lambda: bool(late) and ("dealer", late[0]) in server_rows(world), timeout=10_000
    )
    assert not shown_errors


def test_a_timer_firing_after_the_workers_shut_down_starts_nothing(
    qtbot: QtBot,
    ui_settings: UiSettings,
    world: World,
    alice: Device,
    network: Counted,
    windows: list[MainWindow],
) -> None:
    """Between the workers' shutdown and the window's end (app exit, a test's
    teardown) the single-shot timer may still fire: no sync, no error."""
    own_workers = Workers()
    window = fast_window(qtbot, own_workers, ui_settings, alice, windows)
    qtbot.waitUntil(lambda: network.attempts >= 1, timeout=10_000)
    qtbot.waitUntil(lambda: network.running == 0 and not window.status.syncing, timeout=10_000)
    started = network.attempts
    own_workers.shutdown()

    window.auto_sync._due()  # what the timer does when it fires
    window.sync_now()

    assert network.attempts == started
    assert not window.status.syncing
