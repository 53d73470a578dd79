"""Signing in and out through File > Settings against the real server app in-process.

The server is tests/sync/synce2e.py's (a SQLite server database, a territory
with manager mona and reps alice and bob); tokens go to an in-memory keyring. The
dialog's sign-in and the status bar's Sync now reach the server through the
harness's transport (the server address typed is the harness's fake one).
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import keyring
import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine
from tenacity import wait_none
from uitest import make_window

from fieldrep.storage.db import open_database
from fieldrep.storage.enums import AbcClass
from fieldrep.storage.models import Dealer
from fieldrep.storage.services import core
from fieldrep.storage.services.core import Store
from fieldrep.sync import api, local
from fieldrep.sync.engine import SyncSummary
from fieldrep.sync.tokens import SERVICE
from fieldrep.ui.language import apply_language
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.ops import Severity, Workers
from fieldrep.ui.settings_dialog import ERROR_STYLE, SettingsDialog
from fieldrep.ui.startup import resolve_user
from fieldrep.ui.sync_bridge import SyncOutcome
from fieldrep.ui.uisettings import UiSettings

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "sync"))
from shots import clipped_labels, save_screenshot
from synce2e import PASSWORD, SERVER_URL, World, fresh_database, make_world, server_rows
from synctest_keyring import MemoryKeyring

# The size of the screenshot tests (tests/ui/test_screenshots.py): the status bar fits.
SCREENSHOT_SIZE = (1280, 800)


@pytest.fixture
def memory_keyring() -> Iterator[MemoryKeyring]:
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


@pytest.fixture
def world(tmp_path: Path, memory_keyring: MemoryKeyring) -> Iterator[World]:
    world = make_world(tmp_path)
    yield world
    world.transport.shutdown()
    world.database.dispose()


@pytest.fixture
def to_the_server(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """Sign-in and sync go to the in-process server, as they would over the network."""
    real_login, real_run_sync = api.login, api.run_sync

    def login(db_path: Path | str, server: str, user: str, password: str, **options: Any) -> Any:
        return real_login(db_path, server, user, password, transport=world.transport, **options)

    def run_sync(db_path: Path | str, progress: Any = None, **_options: Any) -> SyncSummary:
        return real_run_sync(
            db_path, progress, transport=world.transport, wait=wait_none(), max_attempts=2
        )

    monkeypatch.setattr(api, "login", login)
    monkeypatch.setattr(api, "run_sync", run_sync)


@pytest.fixture
def laptop(tmp_path: Path) -> Iterator[tuple[Path, Engine]]:
    """A new database that has never been signed in."""
    path = tmp_path / "laptop.db"
    fresh_database(path)
    engine = open_database(path)
    yield path, engine
    engine.dispose()


def open_dialog(qtbot: QtBot, window: MainWindow) -> SettingsDialog:
    window.open_settings()
    dialogs = [d for d in window.findChildren(SettingsDialog) if d.isVisible()]
    assert len(dialogs) == 1
    return dialogs[0]


def sign_in(qtbot: QtBot, dialog: SettingsDialog, password: str) -> None:
    for field, text in ((dialog.server, SERVER_URL), (dialog.username, "alice")):
        field.clear()
        qtbot.keyClicks(field, text)
    qtbot.keyClicks(dialog.password, password)
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.sign_in_button.isEnabled(), timeout=20_000)


def sync_now(qtbot: QtBot, window: MainWindow) -> SyncOutcome:
    with qtbot.waitSignal(window.sync_finished, timeout=30_000) as finished:
        qtbot.mouseClick(window.status.sync_button, Qt.MouseButton.LeftButton)
    outcome = finished.args[0]
    assert isinstance(outcome, SyncOutcome)
    return outcome


def pending(engine: Engine) -> list[str]:
    with engine.connect() as connection:
        return [op.row_id for op in local.all_ops(connection, "pending")]


def test_sign_in_sync_and_sign_out_through_the_settings_dialog(
    qtbot: QtBot,
    qapp: QApplication,
    workers: Workers,
    ui_settings: UiSettings,
    shown_errors: list[tuple[str, Severity]],
    world: World,
    memory_keyring: MemoryKeyring,
    to_the_server: None,
    laptop: tuple[Path, Engine],
) -> None:
    db_path, engine = laptop
    store = Store(engine, resolve_user(engine))
    window = make_window(qtbot, workers, ui_settings, store, db_path)
    status = window.status
    qtbot.waitUntil(lambda: status.state is not None)
    assert status.network_label.text().endswith(" · 未登录")
    made_offline = core.create(
        store, Dealer, {"name": "杭州恒达", "abc_class": AbcClass.B, "city": "杭州"}
    )

    # A wrong password: one translated sentence at the dialog, nothing in the keyring.
    dialog = open_dialog(qtbot, window)
    sign_in(qtbot, dialog, "not the password")
    message = dialog.sync_message.text()
    assert message == "用户名或密码错误。", message
    assert dialog.sync_message.styleSheet() == ERROR_STYLE
    assert dialog.password.text() == ""
    assert memory_keyring.secrets == {}
    assert not shown_errors, "no error dialog, no traceback"
    assert status.network_label.text().endswith(" · 未登录")

    # The right one: signed in, the status bar says who, the sync sends the offline work.
    sign_in(qtbot, dialog, PASSWORD)
    assert dialog.sync_message.text() == "已登录为 李雷。", dialog.sync_message.text()
    assert dialog.sync_message.styleSheet() == ""
    assert [key[0] for key in memory_keyring.secrets] == [SERVICE]
    qtbot.waitUntil(lambda: status.network_label.text().endswith(" · alice"))
    save_screenshot(dialog, "settings_signed_in_zh_CN")
    dialog.reject()
    outcome = sync_now(qtbot, window)
    assert outcome.ok, outcome.message
    qtbot.waitUntil(lambda: status.state is not None and status.state.pending == 0)
    assert server_rows(world)[("dealer", made_offline.id)]["name"] == "杭州恒达"
    assert status.network_label.text().endswith(" · alice")
    assert "已以 alice 身份登录" in status.network_label.toolTip()
    window.resize(*SCREENSHOT_SIZE)
    QApplication.processEvents()
    save_screenshot(window, "status_signed_in_zh_CN")
    assert clipped_labels(status) == []

    # Sign out: the tokens leave the keyring, a waiting change stays in the outbox.
    store = window.services.store if window.services is not None else store
    waiting = core.create(
        store, Dealer, {"name": "宁波远航", "abc_class": AbcClass.C, "city": "宁波"}
    )
    assert pending(engine) == [waiting.id]
    dialog = open_dialog(qtbot, window)
    qtbot.mouseClick(dialog.sign_out_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.sync_message.text() != "")
    assert dialog.sync_message.text() == "已退出登录。尚未发送的修改仍保留在本机。"
    assert memory_keyring.secrets == {}
    assert pending(engine) == [waiting.id], "the outbox is kept"
    qtbot.waitUntil(lambda: status.network_label.text().endswith(" · 未登录"))
    apply_language(qapp, "en")
    try:
        assert status.network_label.text().endswith(" · not signed in")
        dialog.adjustSize()
        QApplication.processEvents()
        assert clipped_labels(dialog) == []
        save_screenshot(dialog, "settings_signed_out_en")
        window.resize(*SCREENSHOT_SIZE)
        QApplication.processEvents()
        save_screenshot(window, "status_signed_out_en")

        assert clipped_labels(status) == []
    finally:
        apply_language(qapp, "zh_CN")
    dialog.reject()

    # Signed out, Sync now sends nothing and says what to do.
    refused = sync_now(qtbot, window)
    assert not refused.ok
    assert "登录" in refused.message, refused.message
    assert pending(engine) == [waiting.id]
    assert ("dealer", waiting.id) not in server_rows(world)
    assert not shown_errors, shown_errors


def test_an_account_with_two_territories_picks_the_home_of_offline_records_by_name(
    qtbot: QtBot,
    qapp: QApplication,
    workers: Workers,
    ui_settings: UiSettings,
    shown_errors: list[tuple[str, Severity]],
    world: World,
    memory_keyring: MemoryKeyring,
    to_the_server: None,
    laptop: tuple[Path, Engine],
) -> None:
    from fieldrep.server.services import admin

    ningbo = admin.add_territory(world.database, "宁波", region="华东", manager="mona")
    admin.assign(world.database, "alice", "宁波")
    db_path, engine = laptop
    store = Store(engine, resolve_user(engine))
    window = make_window(qtbot, workers, ui_settings, store, db_path)
    made_offline = core.create(
        store, Dealer, {"name": "杭州恒达", "abc_class": AbcClass.B, "city": "杭州"}
    )
    dialog = open_dialog(qtbot, window)
    assert dialog.territory.isHidden(), "no question before the server answers"

    # The server says: two territories. Not signed in yet; the dialog asks which one.
    sign_in(qtbot, dialog, PASSWORD)
    assert memory_keyring.secrets == {}, "not signed in until a territory is chosen"
    assert dialog.territory.isVisible()
    names = [dialog.territory.itemText(i) for i in range(dialog.territory.count())]
    assert names == ["宁波", "杭州"], "names, not ids"
    message = dialog.sync_message.text()
    assert message == (
        "您的账号有 2 个辖区。请选择本机登录前所建的 1 条记录归入哪个辖区，然后再次登录。"
    ), message
    assert dialog.sync_message.styleSheet() == ""
    assert dialog.password.text() == PASSWORD, "kept: choose, then sign in again"
    assert not shown_errors
    dialog.adjustSize()
    QApplication.processEvents()
    assert clipped_labels(dialog) == []
    save_screenshot(dialog, "settings_territory_zh_CN")
    apply_language(qapp, "en")
    try:
        assert dialog.territory_label.text() == "Territory of offline records"
        assert dialog.sync_message.text() == (
            "Your account has 2 territories. Choose the one that takes the 1 record made "
            "on this computer before signing in, then sign in again."
        ), "the question follows the language"
        dialog.adjustSize()
        QApplication.processEvents()
        assert clipped_labels(dialog) == []
        save_screenshot(dialog, "settings_territory_en")
    finally:
        apply_language(qapp, "zh_CN")

    # 宁波 chosen: signed in, and the offline dealer goes to 宁波 on the server.
    dialog.territory.setCurrentIndex(names.index("宁波"))
    qtbot.mouseClick(dialog.sign_in_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: dialog.sign_in_button.isEnabled(), timeout=20_000)
    assert dialog.sync_message.text() == "已登录为 李雷。", dialog.sync_message.text()
    assert dialog.territory.isHidden()
    assert dialog.sync_message.styleSheet() == ""
    assert [key[0] for key in memory_keyring.secrets] == [SERVICE]
    dialog.reject()
    qtbot.waitUntil(lambda: window.status.network_label.text().endswith(" · alice"))
    outcome = sync_now(qtbot, window)
    assert outcome.ok, outcome.message
    assert server_rows(world)[("dealer", made_offline.id)]["territory_id"] == ningbo
    assert ningbo != world.territory
    assert not shown_errors, shown_errors


def test_one_territory_asks_nothing(
    qtbot: QtBot,
    workers: Workers,
    ui_settings: UiSettings,
    world: World,
    memory_keyring: MemoryKeyring,
    to_the_server: None,
    laptop: tuple[Path, Engine],
) -> None:
    db_path, engine = laptop
    store = Store(engine, resolve_user(engine))
    window = make_window(qtbot, workers, ui_settings, store, db_path)
    made_offline = core.create(
        store, Dealer, {"name": "杭州恒达", "abc_class": AbcClass.B, "city": "杭州"}
    )
    dialog = open_dialog(qtbot, window)
    sign_in(qtbot, dialog, PASSWORD)
    assert dialog.sync_message.text() == "已登录为 李雷。", dialog.sync_message.text()
    assert dialog.territory.isHidden()
    dialog.reject()
    qtbot.waitUntil(lambda: window.status.network_label.text().endswith(" · alice"))
    assert sync_now(qtbot, window).ok
    assert server_rows(world)[("dealer", made_offline.id)]["territory_id"] == world.territory
