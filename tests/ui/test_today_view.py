"""Today: the route, the due dealers, the follow-ups and the red/yellow/green lights."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from fieldrep.i18n import language
from fieldrep.storage.cadence import due_dealers
from fieldrep.storage.enums import AbcClass, PeriodType
from fieldrep.storage.models import SalesFigure, SalesTarget
from fieldrep.storage.queries import todays_plan
from fieldrep.storage.services.core import Store, create
from fieldrep.storage.services.dealers import create_dealer
from fieldrep.storage.services.followups import FollowUpDraft, create_follow_up
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.today_data import Light, WarningKind, light_for, load_today
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


# ---------------------------------------------------------------- the lights' rules


def test_light_boundaries() -> None:
    line = Decimal(80)
    assert light_for(Decimal(100), line) == Light.GREEN
    assert light_for(Decimal("99.9"), line) == Light.YELLOW
    assert light_for(Decimal(80), line) == Light.YELLOW
    assert light_for(Decimal("79.9"), line) == Light.RED


def _month_target(store: Store, start: date, revenue: int, collection: int) -> None:
    create(
        store,
        SalesTarget,
        {
            "rep_user_id": store.user.user_id,
            "period_type": PeriodType.MONTH,
            "period_start": start,
            "revenue_target": Decimal(revenue),
            "collection_target": Decimal(collection),
        },
    )


def _figure(store: Store, dealer_id: str, start: date, revenue: int, collected: int) -> None:
    create(
        store,
        SalesFigure,
        {
            "dealer_id": dealer_id,
            "period_type": PeriodType.MONTH,
            "period_start": start,
            "revenue": Decimal(revenue),
            "collected": Decimal(collected),
        },
    )


@pytest.fixture
def own_dealer(store: Store) -> str:
    """A class A dealer of the rep, never visited, on the books for a year."""
    record = create_dealer(
        store,
        {
            "name": "杭州海信电器有限公司",
            "abc_class": AbcClass.A,
            "city": "杭州市",
            "our_contact_user_id": store.user.user_id,
            "relationship_start_date": store.today() - timedelta(days=365),
        },
    )
    return record.id


def test_sales_lights_follow_target_and_warning_line(store: Store, own_dealer: str) -> None:
    october, september = date(2026, 10, 1), date(2026, 9, 1)
    _month_target(store, september, 100_000, 100_000)
    _month_target(store, october, 100_000, 50_000)
    _month_target(store, date(2026, 11, 1), 100_000, 100_000)  # no figures yet: skipped
    _figure(store, own_dealer, september, 70_000, 100_000)
    _figure(store, own_dealer, october, 75_000, 45_000)
    data = load_today(store)
    sales = next(w for w in data.warnings if w.kind == WarningKind.SALES)
    collection = next(w for w in data.warnings if w.kind == WarningKind.COLLECTION)
    assert sales.light == Light.RED and sales.params["percent"] == Decimal("75.0")
    assert sales.params["second_red"], "September was red too"
    assert collection.light == Light.YELLOW and collection.params["percent"] == Decimal("90.0")
    assert sales.params["line"] == 80
    with language("zh_CN"):
        assert sales.message() == (
            "2026年10月销售额 7.5 万元，达成率 75.0%（目标 10 万元）：低于警戒线（80%）。"
            "已连续两个月低于警戒线：请立即采取措施。"
        )
    with language("en"):
        assert sales.message().startswith("Sales October 2026: 75,000 yuan, 75.0% of the")


def test_cadence_and_follow_up_lights(store: Store, own_dealer: str) -> None:
    day = store.today()
    data = load_today(store)
    cadence = next(w for w in data.warnings if w.kind == WarningKind.CADENCE)
    assert cadence.light == Light.RED
    assert (cadence.params["total"], cadence.params["overdue"]) == (1, 1)
    assert [dealer.dealer_id for dealer in data.due] == [own_dealer]
    follow = next(w for w in data.warnings if w.kind == WarningKind.FOLLOW_UPS)
    assert follow.light == Light.GREEN

    later = Store(store.engine, store.user, today=lambda: day + timedelta(days=10))
    create_follow_up(
        store, FollowUpDraft("寄送样品", due_on=day + timedelta(days=3)), dealer_id=own_dealer
    )
    data = load_today(later)
    follow = next(w for w in data.warnings if w.kind == WarningKind.FOLLOW_UPS)
    assert follow.light == Light.YELLOW
    assert follow.params == {"count": 1, "days": 7, "late": 0, "limit": 14}
    assert [row.days_overdue for row in data.follow_ups] == [7]

    much_later = Store(store.engine, store.user, today=lambda: day + timedelta(days=17))
    follow = next(w for w in load_today(much_later).warnings if w.kind == WarningKind.FOLLOW_UPS)
    assert follow.light == Light.RED and follow.params["late"] == 1


def test_no_targets_means_no_sales_light(store: Store) -> None:
    kinds = [warning.kind for warning in load_today(store).warnings]
    assert kinds == [WarningKind.FOLLOW_UPS], "no dealers on a cadence, no targets"
