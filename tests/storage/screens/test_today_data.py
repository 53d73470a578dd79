"""The Today view's data: the day's lists and the red/yellow/green lights' rules."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest

from fieldrep.i18n import language
from fieldrep.storage.enums import AbcClass, PeriodType
from fieldrep.storage.models import SalesFigure, SalesTarget
from fieldrep.storage.screens.today import Light, WarningKind, light_for, load_today
from fieldrep.storage.services.core import Store, create
from fieldrep.storage.services.dealers import create_dealer
from fieldrep.storage.services.followups import FollowUpDraft, create_follow_up


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
