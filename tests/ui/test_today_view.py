"""Today: the route, the due dealers, the follow-ups and the red/yellow/green lights.

The lights' rules are tested with their data, in tests/storage/screens/test_today_data.py.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from fieldrep.storage.cadence import due_dealers
from fieldrep.storage.queries import todays_plan
from fieldrep.storage.screens.today import WarningKind
from fieldrep.storage.services.core import Store
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
