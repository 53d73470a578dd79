"""What the dealer card reads besides the printed card: figures, people, child lists (no Qt)."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from fieldrep.storage.enums import PeriodType
from fieldrep.storage.models import AppUser, SalesFigure, SyncedBase

if TYPE_CHECKING:
    # The services are imported when first used, as they were by the card window:
    # the chart imports this module for MonthPoint alone.
    from fieldrep.storage.services.core import Record, Store


@dataclass(frozen=True)
class MonthPoint:
    """One month of a dealer's figures (summed over products)."""

    month: date
    revenue: Decimal | None
    collected: Decimal | None


def monthly_figures(store: Store, dealer_id: str, months: int) -> list[MonthPoint]:
    """Revenue and collections of the last ``months`` months, summed over products."""
    from fieldrep.storage.services.core import live

    revenue: dict[date, Decimal] = defaultdict(Decimal)
    collected: dict[date, Decimal] = defaultdict(Decimal)
    seen: set[date] = set()
    with store.read() as session:
        for figure in session.scalars(
            live(SalesFigure).where(
                SalesFigure.dealer_id == dealer_id,
                SalesFigure.period_type == PeriodType.MONTH,
            )
        ):
            month = figure.period_start
            seen.add(month)
            revenue[month] += figure.revenue or Decimal(0)
            collected[month] += figure.collected or Decimal(0)
    latest = sorted(seen)[-months:]
    return [MonthPoint(month, revenue[month], collected[month]) for month in latest]


def user_names(store: Store) -> tuple[tuple[str, str], ...]:
    """(user id, display name) of every user on this device, by name."""
    from fieldrep.storage.services.core import live

    with store.read() as session:
        return tuple(
            (row.id, row.display_name)
            for row in session.scalars(live(AppUser).order_by(AppUser.display_name))
        )


@dataclass(frozen=True)
class ChildList:
    """Which rows make one child list of the card, and in which order."""

    model: type[SyncedBase]
    order: tuple[str, ...]
    newest_first: bool


def load_child_lists(
    store: Store, dealer_id: str, lists: Mapping[str, ChildList]
) -> dict[str, tuple[Record, ...]]:
    """The live rows of each child list of one dealer, by the lists' keys."""
    from fieldrep.storage.services.core import live, snapshot

    children: dict[str, tuple[Record, ...]] = {}
    with store.read() as session:
        for key, wanted in lists.items():
            model: Any = wanted.model
            ordering = [getattr(model, name) for name in wanted.order]
            if wanted.newest_first:
                ordering = [column.desc() for column in ordering]
            rows = session.scalars(
                live(model).where(model.dealer_id == dealer_id).order_by(*ordering, model.id)
            )
            children[key] = tuple(snapshot(row) for row in rows)
    return children


@dataclass(frozen=True)
class CreditScale:
    """The territory's 5C scale: scores run 1..maximum; high risk below a line."""

    maximum: int
    high_risk_below: Decimal


def load_credit_scale(store: Store, territory_id: str) -> CreditScale:
    """The 5C scale set for ``territory_id``."""
    from fieldrep.storage.services.settings_service import get_setting
    from fieldrep.storage.settings import CREDIT_HIGH_RISK_BELOW, CREDIT_SCALE_MAX

    with store.read() as session:
        return CreditScale(
            get_setting(session, territory_id, CREDIT_SCALE_MAX),
            Decimal(get_setting(session, territory_id, CREDIT_HIGH_RISK_BELOW)),
        )
