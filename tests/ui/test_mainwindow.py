"""The main window: navigation and shortcuts, placeholders, restart, status bar, sync now."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from uitest import make_window

from fieldrep.i18n import language
from fieldrep.storage.services.core import Store
from fieldrep.ui import registry
from fieldrep.ui.dialogs import ShortcutsDialog
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.ops import Severity, Workers
from fieldrep.ui.uisettings import UiSettings
from fieldrep.ui.views.base import PlaceholderView
from fieldrep.ui.views.dealers import DealersView
from fieldrep.ui.views.today import TodayView

LATIN_WORD = re.compile(r"[A-Za-z]{2,}")


def test_ctrl_number_switches_views(qtbot: QtBot, main_window: MainWindow) -> None:
    for number, key in enumerate(registry.NAV_KEYS, start=1):
        qtbot.keyClick(
            main_window, Qt.Key(Qt.Key.Key_0 + number), Qt.KeyboardModifier.ControlModifier
        )
        assert main_window.current_key == key
        assert main_window.navigation.currentRow() == number - 1
        assert main_window.stack.currentWidget() is main_window.views[key]
    qtbot.keyClick(main_window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert isinstance(main_window.current_view(), TodayView)


def test_navigation_list_switches_views(main_window: MainWindow) -> None:
    main_window.navigation.setCurrentRow(1)
    assert isinstance(main_window.current_view(), DealersView)
    assert [main_window.navigation.item(i).text() for i in range(7)] == [
        "今日",
        "经销商",
        "计划",
        "跟进事项",
        "异议话术",
        "报表",
        "冲突",
    ]


@pytest.mark.parametrize(
    "key", ["today", "dealers", "planner", "follow_ups", "playbook", "reports", "conflicts"]
)
def test_every_view_of_the_navigation_is_built(main_window: MainWindow, key: str) -> None:
    """No placeholder is left in the shipped workbench: each view has its factory."""
    assert registry.view_factory(key) is not None
    main_window.show_view(key)
    assert not isinstance(main_window.current_view(), PlaceholderView)


def test_registered_view_replaces_the_placeholder(
    qtbot: QtBot, workers: Workers, ui_settings: UiSettings, demo_store: Store, tmp_path: Path
) -> None:
    built: list[str] = []

    def factory(services: object, parent: object) -> PlaceholderView:
        built.append("planner")
        return PlaceholderView("Planner", "A test planner")

    registry.register_view("planner", factory)
    try:
        window = make_window(qtbot, workers, ui_settings, demo_store, tmp_path / "x.db")
        window.show_view("planner")
        assert built == ["planner"]
        window.show_view("today")
        window.show_view("planner")
        assert built == ["planner"], "a view is built once"
    finally:
        registry.unregister("planner")


def test_restart_restores_view_and_geometry(
    qtbot: QtBot, workers: Workers, ui_settings: UiSettings, demo_store: Store, tmp_path: Path
) -> None:
    db_path = tmp_path / "fieldrep.db"
    first = make_window(qtbot, workers, ui_settings, demo_store, db_path)
    first.resize(760, 540)  # within the offscreen screen (800 x 600)
    first.show_view("dealers")
    QApplication.processEvents()
    default_width = first.splitter.sizes()[0]
    first.splitter.setSizes([first.navigation.minimumWidth(), 10_000])
    QApplication.processEvents()
    nav_width = first.splitter.sizes()[0]
    assert nav_width != default_width
    size = (first.width(), first.height())
    assert size[1] == 540
    first.close()

    again = UiSettings()
    second = MainWindow(workers, again, db_path)
    qtbot.addWidget(second)
    second.show()
    QApplication.processEvents()
    assert second.current_key == "dealers"
    assert second.navigation.currentRow() == 1
    assert (second.width(), second.height()) == size
    assert second.splitter.sizes()[0] == nav_width
    second.attach_store(demo_store)
    assert isinstance(second.current_view(), DealersView)


def test_before_the_database_opens_the_window_answers(
    qtbot: QtBot, workers: Workers, ui_settings: UiSettings, tmp_path: Path
) -> None:
    window = MainWindow(workers, ui_settings, tmp_path / "fieldrep.db")
    qtbot.addWidget(window)
    window.show()
    assert window.stack.currentWidget() is window.loading
    assert window.loading.text() == "正在打开数据库…"
    window.show_view("dealers")
    assert window.current_key == "dealers"
    assert window.stack.currentWidget() is window.loading


def test_ctrl_f_finds_a_dealer(qtbot: QtBot, main_window: MainWindow) -> None:
    main_window.activateWindow()
    qtbot.waitUntil(main_window.isActiveWindow)
    qtbot.keyClick(main_window, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    view = main_window.current_view()
    assert isinstance(view, DealersView)
    qtbot.waitUntil(lambda: QApplication.focusWidget() is view.search)


def test_ctrl_n_opens_a_visit_record_for_the_selected_dealer(
    qtbot: QtBot, main_window: MainWindow
) -> None:
    main_window.show_view("dealers")
    view = main_window.views["dealers"]
    assert isinstance(view, DealersView)
    qtbot.waitUntil(lambda: view.model.loaded)
    view.table.setCurrentIndex(view.model.index(2, 0))
    with qtbot.waitSignal(main_window.record_requested) as opened:
        qtbot.keyClick(main_window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)
    assert opened.args == ["new_visit", view.model.dealer_id(2)]


def test_f5_reloads_the_current_view(qtbot: QtBot, main_window: MainWindow) -> None:
    view = main_window.current_view()
    assert isinstance(view, TodayView)
    with qtbot.waitSignal(view.data_loaded):
        qtbot.keyClick(main_window, Qt.Key.Key_F5)


def test_openers_come_from_the_registry(qtbot: QtBot, main_window: MainWindow) -> None:
    opened: list[tuple[str, str]] = []
    registry.register_opener("dealer", lambda services, window, rid: opened.append(("dealer", rid)))
    try:
        main_window.open_record("dealer", "D1")
    finally:
        registry.unregister("dealer")
    assert opened == [("dealer", "D1")]


def test_status_bar_shows_sync_state(qtbot: QtBot, main_window: MainWindow) -> None:
    status = main_window.status
    qtbot.waitUntil(lambda: status.state is not None)
    assert status.pending_label.text() == "0 条修改待同步"
    assert status.last_sync_label.text() == "尚未同步"
    assert status.conflicts_button.text() == "0 个冲突"
    assert status.sync_button.text() == "立即同步"
    network, signed_in = status.network_label.text().split(" · ")
    assert network in ("● 在线", "○ 离线", "网络状态未知")
    assert signed_in == "未登录", "the demo has no server to sign in to"


def test_sync_now_without_a_server_explains_in_the_status_bar(
    qtbot: QtBot, main_window: MainWindow
) -> None:
    status = main_window.status
    qtbot.waitUntil(lambda: status.state is not None)
    qtbot.keyClick(main_window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    assert "尚未设置同步" in status.currentMessage()
    assert not status.syncing


def test_sync_now_when_signed_out_says_so(
    qtbot: QtBot,
    workers: Workers,
    ui_settings: UiSettings,
    demo_store: Store,
    demo_path_with_server: Path,
    shown_errors: list[tuple[str, Severity]],
) -> None:
    window = make_window(qtbot, workers, ui_settings, demo_store, demo_path_with_server)
    status = window.status
    qtbot.waitUntil(lambda: status.state is not None and status.state.configured)
    window.sync_now()
    assert status.syncing
    qtbot.waitUntil(lambda: not status.syncing, timeout=20000)
    message = status.currentMessage()
    assert message, "the outcome is in the status bar"
    assert "Traceback" not in message
    assert not shown_errors


@pytest.fixture
def demo_path_with_server(demo_store: Store, demo: object) -> Path:
    """The demo database configured for a server, but without tokens (signed out)."""
    from fieldrep.sync import local

    with demo_store.engine.begin() as connection:
        local.set_state(connection, local.SERVER_URL, "http://127.0.0.1:9")
        local.set_state(connection, local.USER_NAME, "liming")
    return Path(str(demo_store.engine.url.database))


def test_shortcuts_dialog_lists_every_shortcut(main_window: MainWindow) -> None:
    dialog = ShortcutsDialog(main_window)
    rows = dict(dialog.rows())
    assert rows["Ctrl+F"] == "查找经销商"
    assert rows["Ctrl+N"] == "新建拜访记录"
    assert rows["Ctrl+S"] == "立即同步"
    assert rows["F5"] == "刷新"
    assert rows["Ctrl+1"] == "今日"
    assert rows["Ctrl+7"] == "冲突"
    dialog.close()


def test_second_raise_request_brings_the_window_up(main_window: MainWindow) -> None:
    main_window.showMinimized()
    main_window.bring_to_front()
    assert not main_window.isMinimized()


def test_window_title_and_menus_follow_the_language(
    qtbot: QtBot, main_window: MainWindow, qapp: QApplication
) -> None:
    from fieldrep.ui.language import apply_language

    assert main_window.windowTitle() == "FieldRep 销售拜访工作台"
    apply_language(qapp, "en")
    try:
        assert main_window.windowTitle() == "FieldRep sales visit workbench"
        assert main_window.file_menu.title() == "&File"
        assert main_window.navigation.item(0).text() == "Today"
        assert main_window.status.sync_button.text() == "Sync now"
        today = main_window.views["today"]
        assert isinstance(today, TodayView)
        assert today.heading.text() == "Today, Wednesday, 25 November 2026"
        with language("en"):
            assert today.warning_lines[0].warning.message() in today.warning_lines[0].text()
    finally:
        apply_language(qapp, "zh_CN")
    assert main_window.navigation.item(0).text() == "今日"


def test_a_sync_reloads_the_view_on_screen_now_and_hidden_ones_when_shown(
    main_window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    main_window.show_view("dealers")
    main_window.show_view("today")
    reloaded: list[str] = []
    for key, view in main_window.views.items():
        monkeypatch.setattr(view, "refresh", lambda key=key: reloaded.append(key))
    main_window.refresh_after_sync()
    assert reloaded == ["today"]
    assert main_window.stale_views == {"dealers"}
    main_window.show_view("dealers")
    assert reloaded == ["today", "dealers"]
    main_window.show_view("today")
    main_window.show_view("dealers")
    assert reloaded == ["today", "dealers"], "shown again without a sync: not reloaded"
