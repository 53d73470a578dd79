"""A rep's day with sync, through the main window against the real server app.

The server is the FastAPI app in-process (tests/sync/synce2e.py: a SQLite server
database, a territory with manager mona and rep alice); the window's Sync now
reaches it through a transport the test can switch off, as a lost network would.

The walk: alice stands in for the area manager, so her card lets her set a
credit limit. She edits a dealer offline in its card (Sync now fails: the status
bar says offline and shows the waiting change); meanwhile manager mona changes
the same fields on the server, and alice's stand-in ends (the server makes her a
rep again). Back online, Sync now brings two conflicts and a refused change: the
credit limit is a manager's field, and she could not know offline that she was no
longer one. alice resolves one field with "Take theirs" and one with a typed
value, syncs again, and both the server and mona see the resolution; the refused
change is listed and dismissed.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QLineEdit, QWidget
from pytestqt.qtbot import QtBot
from shots import save_screenshot
from tenacity import wait_none
from uitest import make_window

from fieldrep.server.services import admin
from fieldrep.storage.enums import AbcClass, Role
from fieldrep.storage.models import Dealer
from fieldrep.storage.services import core
from fieldrep.sync import api
from fieldrep.sync.engine import SyncSummary
from fieldrep.sync.protocol import CONFLICT_TABLE
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.ops import Severity, Workers
from fieldrep.ui.statusbar import Network
from fieldrep.ui.sync_bridge import SyncOutcome
from fieldrep.ui.uisettings import UiSettings
from fieldrep.ui.views.conflicts import ConflictsView
from fieldrep.ui.views.dealer_card import DealerCardWindow
from fieldrep.ui.views.digest import DigestDialog

# The end-to-end harness of the sync tests (a module beside their tests, not a package).
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
from synce2e import Device, World, make_world, server_rows
from synctest_keyring import MemoryKeyring


class NetworkSwitch(httpx.BaseTransport):
    """The road to the server: off, every request fails as with no network."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.online = True

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.online:
            raise httpx.ConnectError("network is down", request=request)
        return self.inner.handle_request(request)


@pytest.fixture
def keyring_in_memory() -> Iterator[None]:
    import keyring

    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def world(tmp_path: Path, keyring_in_memory: None) -> Iterator[World]:
    world = make_world(tmp_path)
    yield world
    world.transport.shutdown()
    world.database.dispose()


def set_server_role(world: World, username: str, role: str) -> None:
    """The administrator changes a user's role on the server (``fieldrep server
    set-role``): read at every request, and published in the user's app_user row,
    which devices follow after each sync."""
    admin.set_role(world.database, username, role)


@pytest.fixture
def devices(world: World, tmp_path: Path) -> Iterator[tuple[Device, Device]]:
    set_server_role(world, "alice", "manager")  # standing in: signed in as a manager
    alice = Device(world, tmp_path, "alice")
    mona = Device(world, tmp_path, "mona")
    yield alice, mona
    alice.close()
    mona.close()


@pytest.fixture
def network(world: World, monkeypatch: pytest.MonkeyPatch) -> NetworkSwitch:
    """The window's Sync now goes through this switch to the in-process server."""
    switch = NetworkSwitch(world.transport)
    real_run_sync = api.run_sync

    def run_sync(db_path: Path | str, progress: Any = None, **_options: Any) -> SyncSummary:
        return real_run_sync(db_path, progress, transport=switch, wait=wait_none(), max_attempts=2)

    monkeypatch.setattr(api, "run_sync", run_sync)
    return switch


def commit_text(widget: QWidget, text: str) -> None:
    """Chinese arrives from the input method as a committed string, not as key presses."""
    widget.setFocus()
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def type_into(qtbot: QtBot, card: DealerCardWindow, name: str, text: str) -> None:
    editor = card.binding.editors[name].editor
    assert isinstance(editor, QLineEdit), name
    editor.setFocus()
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    if text.isascii():
        qtbot.keyClicks(editor, text)
    else:
        commit_text(editor, text)


def sync_now(qtbot: QtBot, window: MainWindow) -> SyncOutcome:
    """Click Sync now in the status bar and wait for the outcome."""
    with qtbot.waitSignal(window.sync_finished, timeout=30_000) as finished:
        qtbot.mouseClick(window.status.sync_button, Qt.MouseButton.LeftButton)
    outcome = finished.args[0]
    assert isinstance(outcome, SyncOutcome)
    qtbot.waitUntil(lambda: not window.workers.busy, timeout=10_000)
    return outcome


def status_shows(qtbot: QtBot, window: MainWindow, check: Callable[[Any], bool]) -> None:
    qtbot.waitUntil(lambda: window.status.state is not None and check(window.status.state))


def test_offline_edit_conflict_resolution_and_a_refused_change(
    qtbot: QtBot,
    workers: Workers,
    ui_settings: UiSettings,
    shown_errors: list[tuple[str, Severity]],
    world: World,
    devices: tuple[Device, Device],
    network: NetworkSwitch,
) -> None:
    alice, mona = devices
    dealer = core.create(
        alice.store,
        Dealer,
        {"name": "杭州恒达", "abc_class": AbcClass.B, "city": "杭州", "employee_count": 10},
    )
    alice.sync()
    mona.sync()

    window = make_window(qtbot, workers, ui_settings, alice.store, alice.db_path)
    status = window.status
    status_shows(qtbot, window, lambda state: state.configured and state.pending == 0)

    # Offline: the edit is saved locally and waits; Sync now says the server was not reached.
    network.online = False
    window.open_record("dealer", dealer.id)
    [card] = window.findChildren(DealerCardWindow)
    qtbot.waitUntil(lambda: card.data is not None and not card.busy)
    assert not card.binding.editors["credit_limit"].is_read_only(), "a manager's field, hers now"
    type_into(qtbot, card, "city", "宁波")
    type_into(qtbot, card, "employee_count", "15")
    type_into(qtbot, card, "credit_limit", "50000")
    # Saved, then reloaded: the card holds the saved values and closes without asking.
    with qtbot.waitSignals([card.saved, card.loaded], timeout=10_000):
        qtbot.mouseClick(card.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: card.data is not None and not card.busy)
    assert card.binding.changed_names() == []
    assert card.close()
    assert not card.isVisible()

    offline = sync_now(qtbot, window)
    assert not offline.ok and not offline.reached_server
    assert status.network() is Network.OFFLINE
    assert status.network_label.text().startswith("○ 离线")
    status_shows(qtbot, window, lambda state: state.pending == 1)
    assert status.pending_label.text() == "1 条修改待同步"
    assert server_rows(world)[("dealer", dealer.id)]["city"] == "杭州", "nothing reached it"

    # Meanwhile the manager changes the same two fields on the server, and alice's
    # stand-in ends: the server now takes her for a rep.
    core.update(mona.store, Dealer, dealer.id, {"city": "温州", "employee_count": 12})
    assert mona.sync().rejected == []
    set_server_role(world, "alice", "rep")

    # Her card, open again while she still counts as the manager here.
    window.open_record("dealer", dealer.id)
    [card] = window.findChildren(DealerCardWindow)
    qtbot.waitUntil(lambda: card.data is not None and not card.busy)
    credit_limit = card.binding.editors["credit_limit"]
    assert not credit_limit.is_read_only(), "nothing has told this device yet"
    assert all(button.isEnabled() for button in card.credit_review_buttons)

    # Online again: two conflicts and one refused change come back.
    network.online = True
    online = sync_now(qtbot, window)
    assert online.ok and online.conflicts == 2, online.message
    # The sync brought her user row, a rep's again: the open card follows it.
    qtbot.waitUntil(credit_limit.is_read_only, timeout=10_000)
    assert window.services is not None and window.services.store.user.role is Role.REP
    assert credit_limit.editor.toolTip() == "只有区域经理可以修改此项。"
    assert not any(button.isEnabled() for button in card.credit_review_buttons)
    card.resize(1280, 860)
    card.section_list.setCurrentRow(5)  # 6. credit grade, terms and limit
    QApplication.processEvents()
    save_screenshot(card, "walkthrough_card_after_demotion_zh_CN")
    assert card.close()
    # The manager's changes open the digest by itself; read, it is closed.
    digest = window.findChild(DigestDialog, "digest_dialog")
    assert digest is not None and digest.isVisible()
    qtbot.waitUntil(lambda: digest.entries is not None and len(digest.entries) == 3)
    assert all("王经理" in entry.text for entry in digest.entries[:2])
    # Her role is news too: it says why the manager's fields are closed to her now.
    assert digest.entries[2].text == "管理员 将 李雷 的角色由 区域销售经理 改为 业务代表"
    digest.close()
    assert status.network() is not Network.OFFLINE
    status_shows(qtbot, window, lambda state: state.conflicts == 2 and state.rejected == 1)
    assert status.conflicts_button.text() == "2 个冲突 · 1 条被拒绝的更改"
    assert status.pending_label.text() == "0 条修改待同步"
    server = server_rows(world)[("dealer", dealer.id)]
    assert (server["city"], server["employee_count"], server["credit_limit"]) == ("温州", 12, None)

    # The conflicts button opens the inbox; resolve field by field.
    qtbot.mouseClick(status.conflicts_button, Qt.MouseButton.LeftButton)
    view = window.views["conflicts"]
    assert isinstance(view, ConflictsView) and window.current_view() is view
    qtbot.waitUntil(lambda: not view.loading and len(view.conflicts) == 2)
    assert view.tabs.currentIndex() == 0, "conflicts first while there are any"
    by_field = {conflict.field: conflict for conflict in view.conflicts}
    assert set(by_field) == {"city", "employee_count"}
    assert (by_field["city"].mine, by_field["city"].theirs) == ("宁波", "温州")

    assert view.select_conflict(by_field["city"].id)
    assert view.detail.row_values["theirs"].text() == "温州"
    with qtbot.waitSignal(view.resolved, timeout=10_000):
        qtbot.mouseClick(view.detail.take_theirs, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.loading and len(view.conflicts) == 1)

    assert view.select_conflict(by_field["employee_count"].id)
    editor = view.detail.editor
    assert editor is not None and editor.text() == "15"  # starts from my value
    line = editor.editor
    assert isinstance(line, QLineEdit)
    line.clear()
    qtbot.keyClicks(line, "13")
    assert view.detail.use_value.isEnabled(), "the button works after the first resolution"
    with qtbot.waitSignal(view.resolved, timeout=10_000):
        qtbot.mouseClick(view.detail.use_value, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.loading and view.conflicts == [])
    assert view.right.currentWidget() is view.empty
    # Waiting: two resolutions and the typed value (taking theirs changes no row).
    status_shows(qtbot, window, lambda state: state.conflicts == 0 and state.pending == 3)

    # Sync again: the server has the resolution; the manager's device sees it too.
    again = sync_now(qtbot, window)
    assert again.ok and again.conflicts == 0, again.message
    status_shows(qtbot, window, lambda state: state.pending == 0 and state.conflicts == 0)
    rows = server_rows(world)
    server = rows[("dealer", dealer.id)]
    assert (server["city"], server["employee_count"]) == ("温州", 13)
    decisions = {
        values["field"]: (values["status"], values["resolution"])
        for (table, _id), values in rows.items()
        if table == CONFLICT_TABLE and values["row_id"] == dealer.id
    }
    assert decisions == {"city": ("resolved", "theirs"), "employee_count": ("resolved", "value")}
    mona.sync()
    assert api.list_conflicts(mona.engine) == []
    assert api.list_conflicts(alice.engine) == []
    with mona.engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT city, employee_count, credit_limit FROM dealer WHERE id = ?", (dealer.id,)
        ).one() == ("温州", 13, None)

    # The refused credit limit: listed with my value and the server's, then dismissed.
    with alice.engine.connect() as connection:
        assert connection.exec_driver_sql(
            "SELECT city, employee_count, credit_limit FROM dealer WHERE id = ?", (dealer.id,)
        ).one() == ("温州", 13, None), "my copy shows the server's values"
    qtbot.waitUntil(lambda: not view.loading and len(view.rejected) == 1)
    view.tabs.setCurrentWidget(view.rejected_panel)
    panel = view.rejected_panel
    item = panel.list.topLevelItem(0)
    assert item is not None
    assert [item.text(column) for column in range(4)] == ["杭州恒达", "信用额度", "50000", "（空）"]
    assert "经理" in item.text(5)
    [refused] = view.rejected
    assert refused.fields[0].mine in ("50000", "50000.00", Decimal("50000"))
    with qtbot.waitSignal(view.dismissed, timeout=10_000):
        qtbot.mouseClick(panel.dismiss_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not view.loading and view.rejected == [])
    status_shows(qtbot, window, lambda state: state.rejected == 0)
    assert status.conflicts_button.text() == "0 个冲突"
    assert api.rejected_count(alice.engine) == 0
    quiet = sync_now(qtbot, window)
    assert quiet.ok and quiet.conflicts == 0
    assert not digest.isVisible(), "syncs that brought nothing new leave the digest closed"
    assert not shown_errors, shown_errors
