"""What the Today view shows, gathered in one call on the database worker (no Qt).

- the day's planned visits in route order (:func:`fieldrep.storage.queries.todays_plan`);
- dealers due or overdue by cadence (:func:`fieldrep.storage.cadence.due_dealers`):
  the rep's own dealers when some are assigned to them, else the territory's;
- follow-ups of the user due today or overdue, most overdue first;
- red/yellow/green warnings (DOMAIN.md §3.3): green is on target, yellow below
  target but above the warning line, red below the warning line. The line is the
  target's own ``warning_line_pct`` or the territory's WARNING_LINE_PCT setting.
  Three lights: sales and collections against the latest month's target that
  has figures (a second red month in a row says to act now); visit cadence
  (share of the dealers on a cadence that are not overdue); overdue follow-ups
  (red once one is overdue by the verification period, two weeks by default,
  DOMAIN.md §4.5).

Warnings keep their numbers and render their sentence in the current language
when shown, so a language switch needs no reload.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldrep.i18n import N_, _, current_language, ngettext
from fieldrep.storage.cadence import DueDealer, due_dealers, visit_stats
from fieldrep.storage.display import format_money, join_sentences
from fieldrep.storage.enums import PeriodType, Role
from fieldrep.storage.models import Dealer, SalesFigure, SalesTarget
from fieldrep.storage.queries import FollowUpRow, PlanRow, overdue_follow_ups, todays_plan
from fieldrep.storage.services.core import Store
from fieldrep.storage.services.settings_service import get_setting
from fieldrep.storage.settings import VERIFY_PERIOD_DAYS, WARNING_LINE_PCT
from fieldrep.storage.workdays import previous_working_day

DUE_LIMIT = 100
FOLLOW_UP_LIMIT = 100


class Light(StrEnum):
    GREEN = "green"
    YELLOW = "yellow"
    RED = "red"


class WarningKind(StrEnum):
    SALES = "sales"
    COLLECTION = "collection"
    CADENCE = "cadence"
    FOLLOW_UPS = "follow_ups"


def light_for(percent: Decimal, line: Decimal) -> Light:
    """Green on target (100 % or more), yellow down to the warning line, red below it."""
    if percent >= 100:
        return Light.GREEN
    if percent >= line:
        return Light.YELLOW
    return Light.RED


def _percent(part: Decimal, whole: Decimal) -> Decimal:
    return (part * 100 / whole).quantize(Decimal("0.1"), ROUND_HALF_UP)


def month_label(period_start: date) -> str:
    """2026年10月 / October 2026."""
    if current_language() == "zh_CN":
        return f"{period_start.year}年{period_start.month}月"
    return period_start.strftime("%B %Y")


_SALES_MESSAGES = {
    Light.GREEN: N_("Sales {period}: {actual}, {percent} of the target {target}: on target."),
    Light.YELLOW: N_(
        "Sales {period}: {actual}, {percent} of the target {target}: below target, "
        "above the warning line ({line})."
    ),
    Light.RED: N_(
        "Sales {period}: {actual}, {percent} of the target {target}: below the warning "
        "line ({line})."
    ),
}
_COLLECTION_MESSAGES = {
    Light.GREEN: N_("Collections {period}: {actual}, {percent} of the target {target}: on target."),
    Light.YELLOW: N_(
        "Collections {period}: {actual}, {percent} of the target {target}: below target, "
        "above the warning line ({line})."
    ),
    Light.RED: N_(
        "Collections {period}: {actual}, {percent} of the target {target}: below the "
        "warning line ({line})."
    ),
}
SECOND_RED = N_("The second month in a row below the warning line: act now.")


@dataclass(frozen=True)
class TodayWarning:
    """One light of the Today view; ``view``/``argument`` say where a click leads."""

    kind: WarningKind
    light: Light
    params: Mapping[str, Any] = field(default_factory=dict)
    view: str = ""
    argument: str = ""

    def message(self) -> str:
        """The warning's sentence in the current language."""
        params = dict(self.params)
        if self.kind in (WarningKind.SALES, WarningKind.COLLECTION):
            table = _SALES_MESSAGES if self.kind == WarningKind.SALES else _COLLECTION_MESSAGES
            text = _(table[self.light]).format(
                period=month_label(params["period"]),
                actual=format_money(params["actual"]),
                target=format_money(params["target"]),
                percent=f"{params['percent']}%",
                line=f"{params['line']}%",
            )
            if params.get("second_red"):
                text = join_sentences(text, _(SECOND_RED))
            return text
        if self.kind == WarningKind.CADENCE:
            params["percent"] = f"{params['percent']}%"
            params["line"] = f"{params['line']}%"
            if self.light == Light.GREEN:
                return ngettext(
                    "Visit cadence: the {total} dealer on a cadence is visited on time.",
                    "Visit cadence: all {total} dealers on a cadence are visited on time.",
                    params["total"],
                ).format(**params)
            text = ngettext(
                "Visit cadence: {overdue} of {total} dealers is overdue for a visit "
                "({percent} on time).",
                "Visit cadence: {overdue} of {total} dealers are overdue for a visit "
                "({percent} on time).",
                params["overdue"],
            ).format(**params)
            if self.light == Light.RED:
                text = join_sentences(text, _("Below the warning line ({line}).").format(**params))
            return text
        if self.light == Light.GREEN:
            return _("Follow-ups: none overdue.")
        if self.light == Light.YELLOW:
            return ngettext(
                "Follow-ups: {count} overdue, the oldest by {days} days.",
                "Follow-ups: {count} overdue, the oldest by {days} days.",
                params["count"],
            ).format(**params)
        return ngettext(
            "Follow-ups: {count} overdue, {late} of them by {limit} days or more: "
            "escalate or report back to the dealer.",
            "Follow-ups: {count} overdue, {late} of them by {limit} days or more: "
            "escalate or report back to the dealers.",
            params["count"],
        ).format(**params)


@dataclass(frozen=True)
class TodayData:
    """Everything the Today view shows for one day."""

    day: date
    plan: tuple[PlanRow, ...]
    due: tuple[DueDealer, ...]
    due_total: int
    follow_ups: tuple[FollowUpRow, ...]
    follow_ups_total: int
    warnings: tuple[TodayWarning, ...]


def _has_own_dealers(session: Session, user_id: str) -> bool:
    found = session.scalar(
        select(Dealer.id)
        .where(Dealer.our_contact_user_id == user_id, Dealer.deleted.is_(False))
        .limit(1)
    )
    return found is not None


def _scope(store: Store, session: Session) -> tuple[str | None, tuple[str, ...] | None]:
    """(rep user id, territory ids) that limit the dealers of the Today view."""
    user = store.user
    if user.role == Role.REP and _has_own_dealers(session, user.user_id):
        return user.user_id, None
    if user.role == Role.REP and user.territory_id:
        return None, (user.territory_id,)
    return None, None


def _cadence_counts(
    session: Session, day: date, rep: str | None, territories: tuple[str, ...] | None
) -> tuple[int, int, int]:
    """(dealers on a cadence, due or overdue today, overdue before today)."""
    stats = visit_stats.c
    due_by = previous_working_day(day).isoformat()
    overdue_by = previous_working_day(day - timedelta(days=1)).isoformat()
    query = (
        select(
            func.count(),
            func.count().filter(stats.due_on <= due_by),
            func.count().filter(stats.due_on <= overdue_by),
        )
        .select_from(visit_stats)
        .join(Dealer, Dealer.id == stats.dealer_id)
        .where(stats.due_on.is_not(None), Dealer.deleted.is_(False))
    )
    if rep is not None:
        query = query.where(Dealer.our_contact_user_id == rep)
    if territories is not None:
        query = query.where(Dealer.territory_id.in_(list(territories)))
    total, due, overdue = session.execute(query).one()
    return int(total), int(due), int(overdue)


def _sales_warnings(
    store: Store, session: Session, day: date, rep: str | None
) -> list[TodayWarning]:
    user = store.user
    targets = session.scalars(
        select(SalesTarget)
        .where(
            SalesTarget.rep_user_id == user.user_id,
            SalesTarget.dealer_id.is_(None),
            SalesTarget.deleted.is_(False),
            SalesTarget.period_type == PeriodType.MONTH,
            SalesTarget.period_start <= day,
        )
        .order_by(SalesTarget.period_start.desc())
        .limit(6)
    ).all()
    default_line = Decimal(get_setting(session, user.territory_id, WARNING_LINE_PCT))
    measured: list[tuple[SalesTarget, Decimal, Decimal, Decimal]] = []
    for target in targets:
        query = (
            select(func.count(), func.sum(SalesFigure.revenue), func.sum(SalesFigure.collected))
            .join(Dealer, Dealer.id == SalesFigure.dealer_id)
            .where(
                SalesFigure.deleted.is_(False),
                SalesFigure.period_type == target.period_type,
                SalesFigure.period_start == target.period_start,
                Dealer.deleted.is_(False),
            )
        )
        if rep is not None:
            query = query.where(Dealer.our_contact_user_id == rep)
        count, revenue, collected = session.execute(query).one()
        if count:
            measured.append(
                (target, default_line, Decimal(str(revenue or 0)), Decimal(str(collected or 0)))
            )
        if len(measured) == 2:
            break
    if not measured:
        return []
    warnings: list[TodayWarning] = []
    target, line, revenue, collected = measured[0]
    if target.warning_line_pct is not None:
        line = Decimal(target.warning_line_pct)
    previous = measured[1] if len(measured) > 1 else None
    for kind, goal, actual, previous_goal, previous_actual in (
        (
            WarningKind.SALES,
            target.revenue_target,
            revenue,
            previous[0].revenue_target if previous else None,
            previous[2] if previous else None,
        ),
        (
            WarningKind.COLLECTION,
            target.collection_target,
            collected,
            previous[0].collection_target if previous else None,
            previous[3] if previous else None,
        ),
    ):
        if not goal:
            continue
        percent = _percent(actual, Decimal(goal))
        light = light_for(percent, line)
        second_red = bool(
            light == Light.RED
            and previous_goal
            and previous_actual is not None
            and light_for(_percent(previous_actual, Decimal(previous_goal)), line) == Light.RED
        )
        warnings.append(
            TodayWarning(
                kind,
                light,
                {
                    "period": target.period_start,
                    "actual": actual,
                    "target": Decimal(goal),
                    "percent": percent,
                    "line": int(line),
                    "second_red": second_red,
                },
                view="reports",
            )
        )
    return warnings


def load_sales_warnings(store: Store, day: date | None = None) -> tuple[TodayWarning, ...]:
    """The sales and collection lights alone (the slow part: sums over sales figures)."""
    day = day or store.today()
    with store.read() as session:
        rep, _territories = _scope(store, session)
        return tuple(_sales_warnings(store, session, day, rep))


def load_today(store: Store, day: date | None = None, *, include_sales: bool = True) -> TodayData:
    """The Today view's data for ``day`` (the store's today by default).

    Without ``include_sales`` the sales lights are left out, for a view that loads
    them apart with :func:`load_sales_warnings` so the rest shows sooner.
    """
    day = day or store.today()
    user = store.user
    plan = tuple(todays_plan(store, day=day))
    tomorrow = day + timedelta(days=1)
    follow_page = overdue_follow_ups(
        store, today=tomorrow, owner_user_id=user.user_id, limit=FOLLOW_UP_LIMIT
    )
    follow_ups = tuple(
        replace(row, days_overdue=(day - row.due_on).days) for row in follow_page.items
    )
    overdue_total = overdue_follow_ups(store, today=day, owner_user_id=user.user_id, limit=1).total
    with store.read() as session:
        verify_days = get_setting(session, user.territory_id, VERIFY_PERIOD_DAYS)
        line = get_setting(session, user.territory_id, WARNING_LINE_PCT)
        rep, territories = _scope(store, session)
        due = tuple(
            due_dealers(session, day, territory_ids=territories, rep_user_id=rep, limit=DUE_LIMIT)
        )
        on_cadence, due_total, overdue_dealers = _cadence_counts(session, day, rep, territories)
        warnings = _sales_warnings(store, session, day, rep) if include_sales else []
    late_total = overdue_follow_ups(
        store, today=day - timedelta(days=verify_days - 1), owner_user_id=user.user_id, limit=1
    ).total
    if on_cadence:
        on_time = _percent(Decimal(on_cadence - overdue_dealers), Decimal(on_cadence))
        cadence_light = (
            Light.GREEN
            if overdue_dealers == 0
            else (Light.YELLOW if on_time >= line else Light.RED)
        )
        warnings.append(
            TodayWarning(
                WarningKind.CADENCE,
                cadence_light,
                {
                    "total": on_cadence,
                    "overdue": overdue_dealers,
                    "percent": on_time,
                    "line": line,
                },
                view="dealers",
                argument="due",
            )
        )
    if overdue_total == 0:
        follow_light = Light.GREEN
    elif late_total == 0:
        follow_light = Light.YELLOW
    else:
        follow_light = Light.RED
    oldest = max((row.days_overdue for row in follow_ups), default=0)
    warnings.append(
        TodayWarning(
            WarningKind.FOLLOW_UPS,
            follow_light,
            {"count": overdue_total, "days": oldest, "late": late_total, "limit": verify_days},
            view="follow_ups",
        )
    )
    return TodayData(
        day=day,
        plan=plan,
        due=due,
        due_total=due_total,
        follow_ups=follow_ups,
        follow_ups_total=follow_page.total,
        warnings=tuple(warnings),
    )
