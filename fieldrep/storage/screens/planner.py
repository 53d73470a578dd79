"""What the Planner shows and does, as plain functions for the database worker (no Qt).

- The calendar: working days, weekends and Chinese public holidays with their
  names (国庆节 ...), from :mod:`fieldrep.storage.workdays` and the official
  arrangement of ``chinesecalendar``; years it does not know yet fall back to the
  statutory holidays, as the working-day rules do.
- The rep's planned visits of a period in route order (the six fixes of
  DOMAIN.md §2.7: rep, dealer, route order, time slot ...).
- Proposals for the free slots: dealers due by cadence
  (:func:`fieldrep.storage.cadence.proposed_visits`) spread over the working days
  left in the period, at most ``per_day`` visits a day counting those already
  planned.
- Planning, moving, reordering and un-planning visits, and the pre-visit
  preparation checklist (DOMAIN.md §4.1 step 1 and the materials of §5.1) kept in
  ``VisitPlanItem.prep_checklist`` and ``appointment_confirmed``.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date, time, timedelta
from enum import StrEnum
from functools import cache
from typing import Any

import chinese_calendar
from lunar_python import Lunar, Solar
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldrep.i18n import N_
from fieldrep.storage.cadence import DueDealer, proposed_visits
from fieldrep.storage.enums import AbcClass, PlanItemStatus, Role, VisitType
from fieldrep.storage.errors import ValidationError
from fieldrep.storage.fields import problem
from fieldrep.storage.models import Dealer, VisitPlanItem
from fieldrep.storage.preparation import PREP_CODES, PREP_MATERIALS, PREP_STEPS
from fieldrep.storage.services.core import (
    Record,
    Store,
    get_live,
    snapshot,
    tombstone_row,
    update_row,
)
from fieldrep.storage.services.visits import plan_visit, update_plan_item
from fieldrep.storage.workdays import KNOWN_YEARS, is_working_day, working_days_between

DEFAULT_PER_DAY = 6


LOCKED_STATUSES = (PlanItemStatus.DONE,)
REASON_VISIT_DONE = N_("the visit has already been made")

# ----------------------------------------------------------------- calendar

HOLIDAY_NAMES: dict[str, str] = {
    "New Year's Day": N_("New Year's Day"),
    "Spring Festival": N_("Spring Festival"),
    "Tomb-sweeping Day": N_("Tomb-sweeping Day"),
    "Labour Day": N_("Labour Day"),
    "Dragon Boat Festival": N_("Dragon Boat Festival"),
    "National Day": N_("National Day"),
    "Mid-autumn Festival": N_("Mid-autumn Festival"),
    "Anti-Fascist 70th Day": N_("Victory Day"),
}
SWAPPED_WORKING_DAY = N_("Working day (swapped)")


@dataclass(frozen=True)
class DayInfo:
    """One day of the calendar: working or not, and the holiday it belongs to."""

    day: date
    working: bool
    holiday: str | None  # English, marked (HOLIDAY_NAMES); None on ordinary days
    swapped: bool  # a weekend day declared a working day (调休)

    @property
    def label(self) -> str | None:
        """What the day cell says under the date (English, marked), or None."""
        if self.swapped:
            return SWAPPED_WORKING_DAY
        if not self.working:
            return self.holiday
        return None


def _to_date(solar: Solar) -> date:
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


@cache
def _statutory_names(year: int) -> dict[date, str]:
    """The statutory holidays of a year the calendar package does not know, named."""
    names: dict[date, str] = {date(year, 1, 1): "New Year's Day"}
    names.update({date(year, 5, day): "Labour Day" for day in (1, 2)})
    names.update({date(year, 10, day): "National Day" for day in (1, 2, 3)})
    new_year = Lunar.fromYmd(year, 1, 1)
    for offset in (-1, 0, 1, 2):
        names[_to_date(new_year.next(offset).getSolar())] = "Spring Festival"
    names[_to_date(Lunar.fromYmd(year, 5, 5).getSolar())] = "Dragon Boat Festival"
    names[_to_date(Lunar.fromYmd(year, 8, 15).getSolar())] = "Mid-autumn Festival"
    names[_to_date(Solar.fromYmd(year, 4, 15).getLunar().getJieQiTable()["清明"])] = (
        "Tomb-sweeping Day"
    )
    return names


def day_info(day: date) -> DayInfo:
    """Working day or day off, with the holiday's name where there is one."""
    working = is_working_day(day)
    if day.year in KNOWN_YEARS:
        _on_holiday, name = chinese_calendar.get_holiday_detail(day)
    else:
        name = _statutory_names(day.year).get(day)
    holiday = HOLIDAY_NAMES.get(name, name) if name else None
    swapped = working and day.weekday() >= 5
    return DayInfo(day, working, None if working else holiday, swapped)


class PlannerMode(StrEnum):
    WEEK = "week"
    MONTH = "month"


def period_of(mode: PlannerMode, anchor: date) -> tuple[date, date]:
    """The week (Monday to Sunday) or calendar month containing ``anchor``."""
    if mode is PlannerMode.WEEK:
        start = anchor - timedelta(days=anchor.weekday())
        return start, start + timedelta(days=6)
    last = calendar.monthrange(anchor.year, anchor.month)[1]
    return anchor.replace(day=1), anchor.replace(day=last)


def grid_days(mode: PlannerMode, anchor: date) -> list[date]:
    """The days the grid shows: the week, or whole weeks covering the month."""
    start, end = period_of(mode, anchor)
    first = start - timedelta(days=start.weekday())
    last = end + timedelta(days=6 - end.weekday())
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def shift_anchor(mode: PlannerMode, anchor: date, steps: int) -> date:
    """The anchor of the previous (-1) or next (+1) week or month."""
    if mode is PlannerMode.WEEK:
        return anchor + timedelta(weeks=steps)
    month_index = anchor.year * 12 + anchor.month - 1 + steps
    year, month = divmod(month_index, 12)
    return date(year, month + 1, 1)


# ----------------------------------------------------------------- plan and proposals


@dataclass(frozen=True)
class PlanEntry:
    """A planned visit as the planner shows it."""

    id: str
    dealer_id: str
    dealer_name: str
    short_name: str | None
    city: str | None
    abc_class: AbcClass
    planned_date: date
    route_seq: int
    time_slot: time | None
    status: PlanItemStatus
    visit_type: VisitType
    objective: str | None
    agenda: str | None
    appointment_confirmed: bool
    prep_checklist: tuple[str, ...]

    @property
    def shown_name(self) -> str:
        """The short name where there is one (calendar cells are narrow)."""
        return self.short_name or self.dealer_name

    @property
    def locked(self) -> bool:
        """A visit already made stays on its day."""
        return self.status in LOCKED_STATUSES

    @property
    def prepared(self) -> int:
        """How many preparation items are done (checklist codes plus the appointment)."""
        return len(set(self.prep_checklist) & set(PREP_CODES)) + int(self.appointment_confirmed)


PREP_TOTAL = len(PREP_CODES) + 1


@dataclass(frozen=True)
class Proposal:
    """A dealer due by cadence, proposed for a free slot on ``day``."""

    day: date
    dealer: DueDealer


@dataclass(frozen=True)
class PlannerData:
    """Everything the planner shows for one period."""

    mode: PlannerMode
    anchor: date
    today: date
    days: tuple[DayInfo, ...]
    items: tuple[PlanEntry, ...]
    proposals: tuple[Proposal, ...]
    per_day: int

    def items_on(self, day: date) -> list[PlanEntry]:
        return [item for item in self.items if item.planned_date == day]

    def proposals_on(self, day: date) -> list[Proposal]:
        return [proposal for proposal in self.proposals if proposal.day == day]

    def item(self, item_id: str) -> PlanEntry | None:
        return next((item for item in self.items if item.id == item_id), None)


def _entry(row: Any) -> PlanEntry:
    return PlanEntry(
        id=row.id,
        dealer_id=row.dealer_id,
        dealer_name=row.name,
        short_name=row.short_name,
        city=row.city,
        abc_class=row.abc_class,
        planned_date=row.planned_date,
        route_seq=row.route_seq,
        time_slot=row.time_slot,
        status=row.status,
        visit_type=row.visit_type,
        objective=row.objective,
        agenda=row.agenda,
        appointment_confirmed=bool(row.appointment_confirmed),
        prep_checklist=tuple(row.prep_checklist or ()),
    )


def _plan_query(rep_user_id: str, first: date, last: date) -> Any:
    return (
        select(
            VisitPlanItem.id,
            VisitPlanItem.dealer_id,
            Dealer.name,
            Dealer.short_name,
            Dealer.city,
            Dealer.abc_class,
            VisitPlanItem.planned_date,
            VisitPlanItem.route_seq,
            VisitPlanItem.time_slot,
            VisitPlanItem.status,
            VisitPlanItem.visit_type,
            VisitPlanItem.objective,
            VisitPlanItem.agenda,
            VisitPlanItem.appointment_confirmed,
            VisitPlanItem.prep_checklist,
        )
        .join(Dealer, Dealer.id == VisitPlanItem.dealer_id)
        .where(
            VisitPlanItem.rep_user_id == rep_user_id,
            VisitPlanItem.planned_date >= first,
            VisitPlanItem.planned_date <= last,
            VisitPlanItem.deleted.is_(False),
            Dealer.deleted.is_(False),
        )
        .order_by(
            VisitPlanItem.planned_date,
            VisitPlanItem.route_seq,
            VisitPlanItem.time_slot,
            Dealer.name,
        )
    )


def _dealer_scope(session: Session, store: Store) -> tuple[str | None, tuple[str, ...] | None]:
    """(rep, territories) whose due dealers are proposed: the rep's own dealers when
    some are assigned to them, else their territory's (as the Today view does)."""
    user = store.user
    if user.role == Role.REP:
        own = session.scalar(
            select(Dealer.id)
            .where(Dealer.our_contact_user_id == user.user_id, Dealer.deleted.is_(False))
            .limit(1)
        )
        if own is not None:
            return user.user_id, None
        if user.territory_id:
            return None, (user.territory_id,)
    return None, None


def spread_over_free_slots(
    proposals: Sequence[tuple[date, DueDealer]],
    days: Sequence[date],
    planned_per_day: Mapping[date, int],
    per_day: int,
) -> list[Proposal]:
    """Move proposals to the first day on or after their own that has a free slot.

    ``proposed_visits`` fills every day up to ``per_day``; visits already planned
    take slots too, so a proposal for a full day moves to the next day with room
    (a later day still has the dealer due). Proposals that find no room are dropped.
    """
    free = {day: max(per_day - planned_per_day.get(day, 0), 0) for day in days}
    placed: list[Proposal] = []
    for proposed_day, dealer in proposals:
        for day in days:
            if day >= proposed_day and free[day] > 0:
                free[day] -= 1
                overdue = (day - dealer.due_on).days
                placed.append(Proposal(day, replace(dealer, days_overdue=overdue)))
                break
    return placed


def load_planner(
    store: Store, mode: PlannerMode, anchor: date, per_day: int = DEFAULT_PER_DAY
) -> PlannerData:
    """The grid's days, the rep's plan in them, and proposals for the free slots."""
    today = store.today()
    shown = grid_days(mode, anchor)
    start, end = period_of(mode, anchor)
    rep = store.user.user_id
    with store.read() as session:
        items = tuple(_entry(row) for row in session.execute(_plan_query(rep, shown[0], shown[-1])))
        first = max(start, today)
        proposals: list[Proposal] = []
        count = working_days_between(first, end + timedelta(days=1)) if first <= end else 0
        if count > 0 and per_day > 0:
            rep_scope, territories = _dealer_scope(session, store)
            raw = proposed_visits(
                session,
                first,
                count,
                per_day=per_day,
                territory_ids=territories,
                rep_user_id=rep_scope,
            )
            planned: dict[date, int] = defaultdict(int)
            for item in items:
                if item.status != PlanItemStatus.NOT_DONE:
                    planned[item.planned_date] += 1
            plan_days = sorted({day for day, _dealer in raw} | set(planned))
            plan_days = [day for day in plan_days if first <= day <= end and is_working_day(day)]
            proposals = spread_over_free_slots(raw, plan_days, planned, per_day)
    return PlannerData(
        mode=mode,
        anchor=anchor,
        today=today,
        days=tuple(day_info(day) for day in shown),
        items=items,
        proposals=tuple(proposals),
        per_day=per_day,
    )


# ----------------------------------------------------------------- changes


def _refuse_if_done(item: VisitPlanItem, field: str) -> None:
    if item.status in LOCKED_STATUSES:
        raise ValidationError(
            [problem(VisitPlanItem, field, REASON_VISIT_DONE)], VisitPlanItem.__tablename__
        )


def _last_seq(session: Session, rep: str, day: date, exclude: str | None = None) -> int:
    query = select(func.max(VisitPlanItem.route_seq)).where(
        VisitPlanItem.rep_user_id == rep,
        VisitPlanItem.planned_date == day,
        VisitPlanItem.deleted.is_(False),
    )
    if exclude is not None:
        query = query.where(VisitPlanItem.id != exclude)
    return int(session.scalar(query) or 0)


def plan_dealer(store: Store, dealer_id: str, day: date) -> Record:
    """Plan a visit to a due dealer on ``day``, last in that day's route."""
    return plan_visit(store, dealer_id, day)


def move_item(store: Store, item_id: str, day: date) -> Record:
    """Reschedule a planned visit to ``day``; it goes last in that day's route."""
    with store.read() as session:
        item = get_live(session, VisitPlanItem, item_id)
        _refuse_if_done(item, "planned_date")
        if item.planned_date == day:
            return snapshot(item)
        seq = _last_seq(session, item.rep_user_id, day, exclude=item_id) + 1
    return update_plan_item(store, item_id, {"planned_date": day, "route_seq": seq})


def reorder_item(store: Store, item_id: str, step: int) -> bool:
    """Move a visit ``step`` places earlier (<0) or later (>0) in its day's route.

    The day's route is renumbered 1..n in one transaction, so gaps and equal
    numbers left by other devices are straightened out. False at either end.
    """
    with store.write() as session:
        item = get_live(session, VisitPlanItem, item_id)
        route = list(
            session.scalars(
                select(VisitPlanItem)
                .where(
                    VisitPlanItem.rep_user_id == item.rep_user_id,
                    VisitPlanItem.planned_date == item.planned_date,
                    VisitPlanItem.deleted.is_(False),
                )
                .order_by(
                    VisitPlanItem.route_seq, VisitPlanItem.time_slot, VisitPlanItem.created_at
                )
            )
        )
        position = next(index for index, row in enumerate(route) if row.id == item_id)
        target = position + step
        if not 0 <= target < len(route):
            return False
        route.insert(target, route.pop(position))
        for seq, row in enumerate(route, start=1):
            if row.route_seq != seq:
                update_row(session, store, row, {"route_seq": seq})
    return True


def unplan_item(store: Store, item_id: str) -> None:
    """Take a visit off the plan (a tombstone, so the removal syncs)."""
    with store.write() as session:
        item = get_live(session, VisitPlanItem, item_id)
        _refuse_if_done(item, "status")
        tombstone_row(session, store, item)


def save_preparation(
    store: Store, item_id: str, checklist: Sequence[str], appointment_confirmed: bool
) -> Record:
    """Store which preparation items are done (codes in a fixed order) and the appointment."""
    ticked = set(checklist)
    codes = [code for code in PREP_CODES if code in ticked]
    return update_plan_item(
        store,
        item_id,
        {"prep_checklist": codes, "appointment_confirmed": appointment_confirmed},
    )


def save_details(store: Store, item_id: str, values: Mapping[str, Any]) -> Record:
    """Store the visit's time slot, type, objective and agenda."""
    return update_plan_item(store, item_id, values)


__all__ = [
    "DEFAULT_PER_DAY",
    "PREP_CODES",
    "PREP_MATERIALS",
    "PREP_STEPS",
    "PREP_TOTAL",
    "DayInfo",
    "PlanEntry",
    "PlannerData",
    "PlannerMode",
    "Proposal",
    "day_info",
    "grid_days",
    "load_planner",
    "move_item",
    "period_of",
    "plan_dealer",
    "reorder_item",
    "save_details",
    "save_preparation",
    "shift_anchor",
    "spread_over_free_slots",
    "unplan_item",
]
