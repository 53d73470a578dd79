"""Today: the route, the due dealers, the follow-ups and the red/yellow/green lights.

The lights' rules are tested with their data, in tests/storage/screens/test_today_data.py.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from shots import clipped_labels, save_screenshot

from fieldrep.storage.cadence import due_dealers
from fieldrep.storage.queries import todays_plan
from fieldrep.storage.screens.today import WarningKind
from fieldrep.storage.services.core import Store
from fieldrep.ui.language import apply_language
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.views.dealers import DealersView
from fieldrep.ui.views.today import TodayView


def _today_view(window: MainWindow) -> TodayView:
    view = window.views["today"]
    assert isinstance(view, TodayView)
    assert view.data is not None
    return view


def test_today_shows_the_route_and_the_due_dealers(
    main_window: MainWindow, demo_store: Store
) -> None:
    view = _today_view(main_window)
    assert main_window.current_view() is view
    plan = todays_plan(demo_store)
    assert plan, "the demo plans visits for its today"
    shown = [view.plan.model.row(row).item_id for row in range(view.plan.model.rowCount())]
    assert shown == [item.item_id for item in plan]
    assert [view.plan.model.row(r).route_seq for r in range(len(plan))] == sorted(
        item.route_seq for item in plan
    )
    with demo_store.read() as session:
        due = due_dealers(
            session, demo_store.today(), rep_user_id=demo_store.user.user_id, limit=100
        )
    assert [view.due.model.row(r).dealer_id for r in range(view.due.model.rowCount())] == [
        dealer.dealer_id for dealer in due
    ]
    assert view.heading.text() == "今日 · 2026年11月25日 星期三"
    assert view.plan.title.text() == f"今日拜访：计划 {len(plan)} 家，按线路顺序"


def test_follow_ups_due_today_or_overdue(main_window: MainWindow, demo_store: Store) -> None:
    view = _today_view(main_window)
    rows = [view.follow_ups.model.row(r) for r in range(view.follow_ups.model.rowCount())]
    assert rows, "the demo rep has follow-ups due"
    assert all(row.due_on <= demo_store.today() for row in rows)
    assert all(row.owner_user_id == demo_store.user.user_id for row in rows)
    assert [row.due_on for row in rows] == sorted(row.due_on for row in rows)


def test_warnings_have_lights_and_lead_somewhere(qtbot: QtBot, main_window: MainWindow) -> None:
    view = _today_view(main_window)
    kinds = [line.warning.kind for line in view.warning_lines]
    assert kinds == [
        WarningKind.SALES,
        WarningKind.COLLECTION,
        WarningKind.CADENCE,
        WarningKind.FOLLOW_UPS,
    ]
    cadence = next(line for line in view.warning_lines if line.warning.kind == WarningKind.CADENCE)
    assert "拜访频率" in cadence.text()
    qtbot.mouseClick(cadence, Qt.MouseButton.LeftButton)
    assert main_window.current_key == "dealers"
    dealers = main_window.views["dealers"]
    assert isinstance(dealers, DealersView)
    assert dealers.due_filter.isChecked()
    qtbot.waitUntil(lambda: dealers.model.filters.due_only and not dealers.model.loading)


def test_enter_on_a_planned_visit_opens_it(qtbot: QtBot, main_window: MainWindow) -> None:
    view = _today_view(main_window)
    table = view.plan.table
    table.setFocus()
    table.setCurrentIndex(view.plan.model.index(1, 0))
    expected = view.plan.model.row(1).item_id
    with qtbot.waitSignal(main_window.record_requested) as opened:
        qtbot.keyClick(table, Qt.Key.Key_Return)
    assert opened.args == ["plan_item", expected]


def test_double_click_on_a_due_dealer_opens_its_card(qtbot: QtBot, main_window: MainWindow) -> None:
    view = _today_view(main_window)
    table = view.due.table
    index = view.due.model.index(0, 0)
    with qtbot.waitSignal(main_window.record_requested) as opened:
        table.doubleClicked.emit(index)
    assert opened.args == ["dealer", view.due.model.row(0).dealer_id]


def test_unfinished_drafts_are_named_on_today_and_open_the_list(
    qtbot: QtBot, qapp: QApplication, main_window: MainWindow
) -> None:
    from fieldrep.ui import drafts
    from fieldrep.ui.drafts import DraftsDialog, DraftsHint, write_draft_file

    view = _today_view(main_window)
    qtbot.waitUntil(lambda: not main_window.workers.busy)
    notice = view.drafts_notice
    assert notice.isHidden(), "no drafts, no line"

    for number in (1, 2):
        write_draft_file(
            f"visit-{number}",
            {"version": drafts.FORMAT_VERSION, "title": "拜访记录", "summary": f"第{number}稿"},
        )
    view.refresh()
    qtbot.waitUntil(notice.isVisible)
    assert notice.label.text() == "2 份未完成的拜访记录草稿"
    assert notice.open_button.text() == "查看草稿…"
    hint = main_window.findChild(DraftsHint)
    assert hint is not None
    qtbot.waitUntil(lambda: hint.isVisible() and hint.count == 2)  # the two count together
    main_window.resize(1280, 800)
    QApplication.processEvents()
    assert clipped_labels(view) == []
    save_screenshot(main_window, "today_drafts_zh_CN")
    apply_language(qapp, "en")
    try:
        assert notice.label.text() == "2 unfinished visit record drafts"
        assert notice.open_button.text() == "Open the drafts…"
        QApplication.processEvents()
        assert clipped_labels(view) == []
        save_screenshot(main_window, "today_drafts_en")
    finally:
        apply_language(qapp, "zh_CN")

    # The link opens the list of drafts; with both discarded, the line goes.
    qtbot.mouseClick(notice.open_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: main_window.findChild(DraftsDialog) is not None)
    dialog = main_window.findChild(DraftsDialog)
    assert dialog is not None and not dialog.at_start
    assert dialog.list.count() == 2
    for number in (1, 2):
        drafts.discard_draft(f"visit-{number}")
    dialog.reject()
    qtbot.waitUntil(notice.isHidden)
    qtbot.waitUntil(lambda: not main_window.workers.busy)
