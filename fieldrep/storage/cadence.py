"""Visit cadence: when each dealer is due for its next visit, and who kept to it.

The rules (DOMAIN.md §3.1 and invariant 13), all numbers per territory settings:

- **Interval.** Class A is visited ``VISITS_PER_MONTH_A`` times a month (default
  2), class B ``VISITS_PER_MONTH_B`` times (default 1): the interval after a visit
  on day *d* is the number of days from *d* to the same day next month (clamped
  to that month's end: Jan 31 -> Feb 28/29) divided by the visits per month,
  rounded down. So with 2 a month, Jan 15 -> Jan 30 and Jan 31 -> Feb 14. Class C
  is visited every ``C_INTERVAL_DAYS`` days (default 60). A class with 0 visits
  a month is not on a cadence: its dealers are never due.
- **Due date.** The last visit plus the interval, moved forward to the next
  working day (:mod:`fieldrep.storage.workdays`). A dealer never visited counts
  from its relationship start date, or from the day it was created.
- **What is a visit.** A contact record that is not tombstoned, draft or final,
  whose contact method is ``visit``: a rep at the dealer in person. Phone calls,
  online contacts, and meetings or trainings elsewhere (the monthly dealer
  meeting at our office) are not; a training held at the dealer is recorded as a
  visit whose visit type is training. A record's day is its date in China.
- **Who is on a cadence.** Live dealers with status active that are not
  eliminated.
- **Compliance** over a period (:func:`compliance`): A and B are checked per
  calendar month, at least *k* visits in each month (a month the period or the
  relationship only partly covers needs ``k * covered_days // month_days``;
  several visits on one day count once); C must never have been overdue during
  the period.

Speed: the due list reads a local table ``_fr_visit_stats`` (one row a dealer:
last visit, visit count, the raw due date before the working-day move, and a
copy of what the list shows and filters on),
kept current by SQLite triggers on ``contact_record``, ``dealer`` and
``territory_setting`` (so synced rows and setting changes count at once) and
rebuilt in one statement after a bulk load. It is local only, never synced.
Moving to a working day never changes the order of due dates, so the list is
ordered and cut in SQL by the raw date, and only the returned rows are moved.
Changing the SQL below needs a new migration that calls
:func:`install_visit_stats` again.
"""

from __future__ import annotations

import calendar
import gc
import logging
import sqlite3
from collections import defaultdict
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Literal

from sqlalchemy import (
    Column,
    Connection,
    Integer,
    MetaData,
    Table,
    Text,
    func,
    select,
    type_coerce,
)
from sqlalchemy.orm import Session

from fieldrep.i18n import N_, _
from fieldrep.storage.derived import DerivedData, register
from fieldrep.storage.enums import (
    AbcClass,
    ContactMethod,
    DealerStatus,
    LifecycleStatus,
    PlanItemStatus,
)
from fieldrep.storage.models import AppUser, ContactRecord, Dealer, VisitPlanItem
from fieldrep.storage.services.core import get_live
from fieldrep.storage.services.settings_service import get_setting
from fieldrep.storage.settings import C_INTERVAL_DAYS, VISITS_PER_MONTH_A, VISITS_PER_MONTH_B
from fieldrep.storage.workdays import (
    CHINA_TZ,
    CHINA_UTC_OFFSET_HOURS,
    local_date,
    next_working_day,
    previous_working_day,
    working_days,
)

log = logging.getLogger("fieldrep.storage")

# --------------------------------------------------------------------------
# The rules in Python


def same_day_next_month(day: date) -> date:
    """The same day of the next month, or that month's last day if it is shorter."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


@dataclass(frozen=True)
class Cadence:
    """A territory's cadence settings."""

    visits_per_month_a: int = VISITS_PER_MONTH_A.default
    visits_per_month_b: int = VISITS_PER_MONTH_B.default
    c_interval_days: int = C_INTERVAL_DAYS.default

    def interval_days(self, anchor: date, abc_class: AbcClass) -> int | None:
        """Days from a visit on ``anchor`` to the next due one; None when not on a cadence."""
        if abc_class == AbcClass.C:
            return self.c_interval_days
        per_month = self.visits_per_month_a if abc_class == AbcClass.A else self.visits_per_month_b
        if per_month <= 0:
            return None
        return (same_day_next_month(anchor) - anchor).days // per_month

    def raw_due(self, anchor: date, abc_class: AbcClass) -> date | None:
        """The due date before it is moved to a working day."""
        days = self.interval_days(anchor, abc_class)
        return None if days is None else anchor + timedelta(days=days)

    def due(self, anchor: date, abc_class: AbcClass) -> date | None:
        """The next visit's due date after a visit (or relationship start) on ``anchor``."""
        raw = self.raw_due(anchor, abc_class)
        return None if raw is None else next_working_day(raw)

    def visits_required(self, abc_class: AbcClass) -> int:
        """Visits a class needs in a whole calendar month (0 for class C, checked by gaps)."""
        if abc_class == AbcClass.A:
            return self.visits_per_month_a
        if abc_class == AbcClass.B:
            return self.visits_per_month_b
        return 0


def cadence_for(session: Session, territory_id: str) -> Cadence:
    """The cadence settings of a territory (defaults where unset)."""
    return Cadence(
        get_setting(session, territory_id, VISITS_PER_MONTH_A),
        get_setting(session, territory_id, VISITS_PER_MONTH_B),
        get_setting(session, territory_id, C_INTERVAL_DAYS),
    )


# --------------------------------------------------------------------------
# Local visit statistics in SQL (created by migration 0003)

TRIGGER_PREFIX = "_fr_visit_stats_"
_metadata = MetaData()
# Besides the statistics, the row copies what the due list shows and filters on,
# so the list is one range scan of one covering index, with no join.
visit_stats = Table(
    "_fr_visit_stats",
    _metadata,
    Column("dealer_id", Text, primary_key=True),
    Column("last_visit_on", Text),  # ISO date in China of the last visit
    Column("visit_count", Integer, nullable=False),
    Column("due_on", Text),  # raw due date; NULL when the dealer is not on a cadence
    Column("abc_class", Text),
    Column("territory_id", Text),
    Column("rep_user_id", Text),  # dealer.our_contact_user_id
    Column("name", Text),
    Column("city", Text),
)
_COPIED = "territory_id, rep_user_id, name, city, abc_class"
_COPIED_FROM_DEALER = "d.territory_id, d.our_contact_user_id, d.name, d.city, d.abc_class"

_OFFSET_MODIFIER = f"+{int(CHINA_UTC_OFFSET_HOURS)} hours"
_OFFSET = f"'{_OFFSET_MODIFIER}'"
_IS_VISIT = f"c.deleted = 0 AND c.contact_method = '{ContactMethod.VISIT.code}'"
_ON_CADENCE = (
    f"d.deleted = 0 AND d.status = '{DealerStatus.ACTIVE.code}'"
    f" AND d.lifecycle_status <> '{LifecycleStatus.ELIMINATED.code}'"
)
_CADENCE_KEYS = ", ".join(
    f"'{setting.key}'" for setting in (VISITS_PER_MONTH_A, VISITS_PER_MONTH_B, C_INTERVAL_DAYS)
)


def _setting_sql(setting: Any) -> str:
    """The dealer's territory value of an integer setting, as get_setting reads it."""
    return (
        "COALESCE((SELECT CAST(ts.value AS INTEGER) FROM territory_setting ts"
        f" WHERE ts.territory_id = d.territory_id AND ts.key = '{setting.key}'"
        " AND ts.deleted = 0 AND ts.value <> '' AND ts.value NOT GLOB '*[^0-9]*'"
        f" AND CAST(ts.value AS INTEGER) BETWEEN {int(setting.minimum)} AND"
        f" {int(setting.maximum)}), {int(setting.default)})"
    )


def _due_sql(last_visit: str) -> str:
    """The raw due date of dealer ``d`` whose last visit is ``last_visit`` (SQL)."""
    base = f"COALESCE({last_visit}, d.relationship_start_date, date(d.created_at, {_OFFSET}))"
    per_month = (
        f"(CASE d.abc_class WHEN '{AbcClass.A.code}' THEN {_setting_sql(VISITS_PER_MONTH_A)}"
        f" ELSE {_setting_sql(VISITS_PER_MONTH_B)} END)"
    )
    month_later = (
        f"min(date({base}, '+1 month'), date({base}, 'start of month', '+2 months', '-1 day'))"
    )
    month_days = f"CAST(julianday({month_later}) - julianday({base}) AS INTEGER)"
    return (
        f"CASE WHEN NOT ({_ON_CADENCE}) THEN NULL"
        f" WHEN d.abc_class = '{AbcClass.C.code}'"
        f" THEN date({base}, printf('%+d days', {_setting_sql(C_INTERVAL_DAYS)}))"
        f" WHEN {per_month} > 0"
        f" THEN date({base}, printf('%+d days', {month_days} / {per_month}))"
        " END"
    )


def _refresh_visits_sql(where: str) -> str:
    return (
        "UPDATE _fr_visit_stats SET"
        f" last_visit_on = (SELECT date(max(c.contact_at), {_OFFSET}) FROM contact_record c"
        f" WHERE c.dealer_id = _fr_visit_stats.dealer_id AND {_IS_VISIT}),"
        " visit_count = (SELECT count(*) FROM contact_record c"
        f" WHERE c.dealer_id = _fr_visit_stats.dealer_id AND {_IS_VISIT})"
        f" WHERE {where};"
    )


def _refresh_due_sql(where: str) -> str:
    return (
        f"UPDATE _fr_visit_stats SET ({_COPIED}, due_on) ="
        f" (SELECT {_COPIED_FROM_DEALER}, {_due_sql('_fr_visit_stats.last_visit_on')}"
        " FROM dealer d WHERE d.id = _fr_visit_stats.dealer_id)"
        f" WHERE {where};"
    )


_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS _fr_visit_stats ("
    " dealer_id TEXT NOT NULL PRIMARY KEY,"
    " last_visit_on TEXT,"
    " visit_count INTEGER NOT NULL DEFAULT 0,"
    " due_on TEXT,"
    " abc_class TEXT,"
    " territory_id TEXT,"
    " rep_user_id TEXT,"
    " name TEXT,"
    " city TEXT"
    ") WITHOUT ROWID",
    # Ordered as the list is (due date, class, dealer) and covering what it shows.
    "CREATE INDEX IF NOT EXISTS ix__fr_visit_stats_due_on ON _fr_visit_stats"
    " (due_on, abc_class, dealer_id, territory_id, rep_user_id, last_visit_on, name, city)"
    " WHERE due_on IS NOT NULL",
)

_SETTING_DEALERS = "dealer_id IN (SELECT id FROM dealer WHERE territory_id = {row}.territory_id)"

_TRIGGERS = {
    "dealer_insert": (
        "AFTER INSERT ON dealer",
        "INSERT OR REPLACE INTO _fr_visit_stats (dealer_id, visit_count) VALUES (NEW.id, 0);"
        + _refresh_visits_sql("dealer_id = NEW.id")
        + _refresh_due_sql("dealer_id = NEW.id"),
    ),
    "dealer_update": (
        "AFTER UPDATE OF abc_class, territory_id, status, lifecycle_status, deleted,"
        " relationship_start_date, created_at, our_contact_user_id, name, city ON dealer",
        _refresh_due_sql("dealer_id = NEW.id"),
    ),
    "dealer_delete": (
        "AFTER DELETE ON dealer",
        "DELETE FROM _fr_visit_stats WHERE dealer_id = OLD.id;",
    ),
    "record_insert": (
        "AFTER INSERT ON contact_record"
        f" WHEN NEW.deleted = 0 AND NEW.contact_method = '{ContactMethod.VISIT.code}'",
        _refresh_visits_sql("dealer_id = NEW.dealer_id")
        + _refresh_due_sql("dealer_id = NEW.dealer_id"),
    ),
    "record_update": (
        "AFTER UPDATE OF dealer_id, contact_at, contact_method, deleted ON contact_record",
        _refresh_visits_sql("dealer_id IN (OLD.dealer_id, NEW.dealer_id)")
        + _refresh_due_sql("dealer_id IN (OLD.dealer_id, NEW.dealer_id)"),
    ),
    "record_delete": (
        "AFTER DELETE ON contact_record"
        f" WHEN OLD.deleted = 0 AND OLD.contact_method = '{ContactMethod.VISIT.code}'",
        _refresh_visits_sql("dealer_id = OLD.dealer_id")
        + _refresh_due_sql("dealer_id = OLD.dealer_id"),
    ),
    "setting_insert": (
        f"AFTER INSERT ON territory_setting WHEN NEW.key IN ({_CADENCE_KEYS})",
        _refresh_due_sql(_SETTING_DEALERS.format(row="NEW")),
    ),
    "setting_update": (
        "AFTER UPDATE ON territory_setting"
        f" WHEN NEW.key IN ({_CADENCE_KEYS}) OR OLD.key IN ({_CADENCE_KEYS})",
        _refresh_due_sql(_SETTING_DEALERS.format(row="OLD"))
        + _refresh_due_sql(_SETTING_DEALERS.format(row="NEW")),
    ),
    "setting_delete": (
        f"AFTER DELETE ON territory_setting WHEN OLD.key IN ({_CADENCE_KEYS})",
        _refresh_due_sql(_SETTING_DEALERS.format(row="OLD")),
    ),
}

_REBUILD = (
    "DELETE FROM _fr_visit_stats",
    f"INSERT INTO _fr_visit_stats (dealer_id, last_visit_on, visit_count, due_on, {_COPIED})"
    " SELECT d.id, v.last_visit_on, COALESCE(v.visit_count, 0),"
    f" {_due_sql('v.last_visit_on')}, {_COPIED_FROM_DEALER}"
    " FROM dealer d LEFT JOIN ("
    f"  SELECT c.dealer_id, date(max(c.contact_at), {_OFFSET}) AS last_visit_on,"
    "  count(*) AS visit_count"
    f"  FROM contact_record c WHERE {_IS_VISIT} GROUP BY c.dealer_id"
    " ) v ON v.dealer_id = d.id",
)


def install_visit_stats(connection: Connection) -> None:
    """Create (or re-create) the visit statistics table and triggers, then fill it."""
    for statement in _SCHEMA:
        connection.exec_driver_sql(statement)
    for name, (event, body) in _TRIGGERS.items():
        connection.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{TRIGGER_PREFIX}{name}"')
        connection.exec_driver_sql(
            f'CREATE TRIGGER "{TRIGGER_PREFIX}{name}" {event} BEGIN {body} END'
        )
    rebuild_visit_stats(connection)


def uninstall_visit_stats(connection: Connection) -> None:
    """Drop the visit statistics triggers and table (migration downgrade)."""
    for name in _TRIGGERS:
        connection.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{TRIGGER_PREFIX}{name}"')
    connection.exec_driver_sql("DROP TABLE IF EXISTS _fr_visit_stats")


def rebuild_visit_stats(connection: Connection) -> None:
    """Recompute every dealer's row from dealers, visits and settings (bulk loads)."""
    for statement in _REBUILD:
        connection.exec_driver_sql(statement)


register(DerivedData("visit_stats", TRIGGER_PREFIX, rebuild_visit_stats))


# --------------------------------------------------------------------------
# Due and overdue lists


@dataclass(frozen=True, slots=True)  # slots: the full due list makes ~15,000 of them
class DueDealer:
    """A dealer due or overdue for a visit; ``days_overdue`` < 0 when due later."""

    dealer_id: str
    name: str
    city: str | None
    abc_class: AbcClass
    last_visit_on: date | None
    due_on: date
    days_overdue: int


_CLASS_RANK = {AbcClass.A: 0, AbcClass.B: 1, AbcClass.C: 2}
_CLASS_BY_CODE = {member.code: member for member in AbcClass}  # Enum() lookups are slow
# Longer than any run of days off, so a due date this far before a day can never
# be moved onto or after it.
_LONGEST_DAYS_OFF = timedelta(days=31)


class _ParsedDays(dict[str | None, date | None]):
    """ISO date text -> date, each distinct text parsed once (None stays None)."""

    def __missing__(self, text: str | None) -> date | None:
        day = self[text] = None if text is None else date.fromisoformat(text)
        return day


def _query_due(
    session: Session,
    on: date,
    *,
    due_from: date | None,
    due_until: date,
    territory_ids: list[str] | tuple[str, ...] | None,
    rep_user_id: str | None,
    limit: int | None,
) -> list[DueDealer]:
    # The hot path of the due views: a plain statement run on the session's own
    # sqlite3 connection (same transaction), so rows come back as bare tuples
    # instead of SQLAlchemy rows built and wrapped one by one.
    conditions = ["due_on IS NOT NULL", "due_on <= ?"]
    parameters: list[str | int] = [due_until.isoformat()]
    if due_from is not None:
        # Moved to a working day, a raw date lands on or after due_from exactly when
        # it is later than the last working day before due_from.
        conditions.append("due_on > ?")
        parameters.append(previous_working_day(due_from - timedelta(days=1)).isoformat())
    if territory_ids is not None:
        conditions.append(f"territory_id IN ({', '.join('?' * len(territory_ids))})")
        parameters.extend(territory_ids)
    if rep_user_id is not None:
        conditions.append("rep_user_id = ?")
        parameters.append(rep_user_id)
    sql = (
        "SELECT dealer_id, name, city, abc_class, last_visit_on, due_on"
        f" FROM {visit_stats.name} WHERE {' AND '.join(conditions)}"
        " ORDER BY due_on, abc_class, dealer_id"
    )
    if limit is not None:
        # Rows the working-day move pushes past due_until are all at the end,
        # so cutting in SQL keeps exactly the first ``limit`` due dealers.
        sql += " LIMIT ?"
        parameters.append(limit)
    raw_connection = session.connection().connection.driver_connection
    assert isinstance(raw_connection, sqlite3.Connection)
    # Thousands of rows share a few hundred dates: parse and move each date once.
    moved: dict[str, tuple[date, int]] = {}  # raw due date -> (working day, days overdue)
    visit_days = _ParsedDays()
    class_by_code = _CLASS_BY_CODE
    found: list[DueDealer] = []
    append = found.append
    # The loop makes tens of thousands of objects that all live on: a collection
    # in the middle would only walk them (and the whole heap, for a full one).
    collecting = gc.isenabled()
    gc.disable()
    try:
        rows = raw_connection.execute(sql, parameters).fetchall()
        for dealer_id, name, city, abc_class, last_visit_on, raw_due in rows:
            due_and_overdue = moved.get(raw_due)
            if due_and_overdue is None:
                due = next_working_day(date.fromisoformat(raw_due))
                due_and_overdue = moved[raw_due] = (due, (on - due).days)
            due, overdue = due_and_overdue
            if due > due_until:
                break  # the move keeps the order, so every later row is later still
            append(
                DueDealer(
                    dealer_id,
                    name,
                    city,
                    class_by_code[abc_class],
                    visit_days[last_visit_on],
                    due,
                    overdue,
                )
            )
    finally:
        if collecting:
            gc.enable()
    return found


def due_dealers(
    session: Session,
    on: date,
    *,
    territory_ids: list[str] | tuple[str, ...] | None = None,
    within_days: int = 0,
    limit: int | None = None,
    rep_user_id: str | None = None,
) -> list[DueDealer]:
    """Dealers due or overdue on ``on`` (or due within the next ``within_days``).

    Most overdue first, then class A before B before C. Based on the visits
    recorded now, whatever ``on`` is. ``rep_user_id`` keeps one rep's dealers.
    """
    if within_days < 0:
        raise ValueError("within_days must not be negative")
    if limit is not None and limit <= 0:
        return []
    return _query_due(
        session,
        on,
        due_from=None,
        due_until=on + timedelta(days=within_days),
        territory_ids=territory_ids,
        rep_user_id=rep_user_id,
        limit=limit,
    )


def due_this_week(
    session: Session,
    on: date,
    *,
    territory_ids: list[str] | tuple[str, ...] | None = None,
    rep_user_id: str | None = None,
) -> list[DueDealer]:
    """Dealers falling due from ``on`` to the end of its week (Sunday), soonest first.

    Dealers already overdue are not here (see :func:`due_dealers`); those due on
    ``on`` itself are in both lists.
    """
    sunday = on + timedelta(days=6 - on.weekday())
    return _query_due(
        session,
        on,
        due_from=on,
        due_until=sunday,
        territory_ids=territory_ids,
        rep_user_id=rep_user_id,
        limit=None,
    )


def _day_start_utc(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=CHINA_TZ)


def dealer_anchor(dealer: Dealer) -> date:
    """Where a never-visited dealer's cadence starts: relationship start or creation day."""
    return dealer.relationship_start_date or local_date(dealer.created_at)


def _on_cadence(dealer: Dealer) -> bool:
    return (
        not dealer.deleted
        and dealer.status == DealerStatus.ACTIVE
        and dealer.lifecycle_status != LifecycleStatus.ELIMINATED
    )


def next_due(session: Session, dealer_id: str, on: date) -> date | None:
    """The dealer's next visit due date given the visits recorded up to ``on``.

    Before ``on`` when the dealer is overdue; None when it is not on a cadence.
    Raises NotFound for a missing or deleted dealer.
    """
    dealer = get_live(session, Dealer, dealer_id)
    if not _on_cadence(dealer):
        return None
    last_visit = session.scalar(
        select(func.max(ContactRecord.contact_at)).where(
            ContactRecord.dealer_id == dealer_id,
            ContactRecord.deleted.is_(False),
            ContactRecord.contact_method == ContactMethod.VISIT,
            ContactRecord.contact_at < _day_start_utc(on + timedelta(days=1)),
        )
    )
    anchor = local_date(last_visit) if last_visit is not None else dealer_anchor(dealer)
    return cadence_for(session, dealer.territory_id).due(anchor, dealer.abc_class)


def proposed_visits(
    session: Session,
    start: date,
    days: int,
    *,
    per_day: int,
    territory_ids: list[str] | tuple[str, ...] | None = None,
    rep_user_id: str | None = None,
) -> list[tuple[date, DueDealer]]:
    """Which due dealers to visit on which of the next ``days`` working days from ``start``.

    Each day takes up to ``per_day`` dealers due by that day, most overdue first
    and class A first among equals; a dealer is proposed once, and dealers that
    already have a visit planned in those days are left out. ``days_overdue`` is
    counted to the proposed day.
    """
    if days <= 0 or per_day <= 0:
        raise ValueError("days and per_day must be positive")
    plan_days = working_days(start, days)
    candidates = due_dealers(
        session, plan_days[-1], territory_ids=territory_ids, rep_user_id=rep_user_id
    )
    planned = set(
        session.scalars(
            select(VisitPlanItem.dealer_id).where(
                VisitPlanItem.deleted.is_(False),
                VisitPlanItem.planned_date >= plan_days[0],
                VisitPlanItem.planned_date <= plan_days[-1],
                VisitPlanItem.status != PlanItemStatus.NOT_DONE,
            )
        ).all()
    )
    queue = sorted(
        (dealer for dealer in candidates if dealer.dealer_id not in planned),
        key=lambda dealer: (dealer.due_on, _CLASS_RANK[dealer.abc_class]),
    )
    proposals: list[tuple[date, DueDealer]] = []
    position = 0
    for day in plan_days:
        taken = 0
        while taken < per_day and position < len(queue) and queue[position].due_on <= day:
            dealer = queue[position]
            proposals.append((day, replace(dealer, days_overdue=(day - dealer.due_on).days)))
            position += 1
            taken += 1
    return proposals


# --------------------------------------------------------------------------
# Compliance


@dataclass(frozen=True)
class ComplianceRow:
    """One rep's or one class's dealers and how many were visited within cadence."""

    key: str | None  # rep user id (None: no rep assigned) or class code
    label: str  # rep's name or class label, in the current language
    dealers: int
    compliant: int
    percent: Decimal  # one decimal place


def _months(start: date, end: date) -> list[tuple[date, date]]:
    """Calendar months touching [start, end], each clipped to it: (first, last) days."""
    spans = []
    first = start
    while first <= end:
        month_end = date(first.year, first.month, calendar.monthrange(first.year, first.month)[1])
        spans.append((first, min(month_end, end)))
        first = month_end + timedelta(days=1)
    return spans


def visited_within_cadence(
    cadence: Cadence,
    abc_class: AbcClass,
    window: tuple[date, date],
    visits: list[date],
    anchor: date,
) -> bool:
    """Whether a dealer kept its cadence over ``window`` (first and last day, included).

    ``visits`` are the dealer's visit days within the window, ``anchor`` its last
    visit before the window (or its relationship start). Several visits on one
    day count once.
    """
    start, end = window
    days = sorted(set(visits))
    if abc_class == AbcClass.C:
        for visit in days:
            due = cadence.due(anchor, abc_class)
            if due is not None and visit > due:
                return False
            anchor = max(anchor, visit)
        due = cadence.due(anchor, abc_class)
        return due is None or end <= due
    required_per_month = cadence.visits_required(abc_class)
    for first, last in _months(start, end):
        month_days = calendar.monthrange(first.year, first.month)[1]
        required = required_per_month * ((last - first).days + 1) // month_days
        if sum(first <= visit <= last for visit in days) < required:
            return False
    return True


def compliance(
    session: Session,
    start: date,
    end: date,
    *,
    group_by: Literal["rep", "class"],
    territory_ids: list[str] | tuple[str, ...] | None = None,
) -> list[ComplianceRow]:
    """Per rep (the dealer's ``our_contact_user_id``) or per class: dealers on a cadence
    during [start, end], how many were visited within it, and the percentage.

    Uses each dealer's current class and its territory's current settings. A
    dealer counts from its relationship start (or creation) if that is later.
    """
    if end < start:
        raise ValueError("end must not be before start")
    # Plain columns, not ORM objects: a report may cover tens of thousands of dealers.
    dealer_query = select(
        Dealer.id,
        Dealer.territory_id,
        type_coerce(Dealer.abc_class, Text),
        Dealer.our_contact_user_id,
        func.coalesce(
            type_coerce(Dealer.relationship_start_date, Text),
            func.date(Dealer.created_at, _OFFSET_MODIFIER),
        ),
    ).where(
        Dealer.deleted.is_(False),
        Dealer.status == DealerStatus.ACTIVE,
        Dealer.lifecycle_status != LifecycleStatus.ELIMINATED,
    )
    if territory_ids is not None:
        dealer_query = dealer_query.where(Dealer.territory_id.in_(list(territory_ids)))
    connection = session.connection()
    dealers = connection.execute(dealer_query).all()

    visit_day = func.date(ContactRecord.contact_at, _OFFSET_MODIFIER)
    is_visit = (
        ContactRecord.deleted.is_(False),
        ContactRecord.contact_method == ContactMethod.VISIT,
    )
    visits: dict[str, list[date]] = defaultdict(list)
    for dealer_id, day in connection.execute(
        select(ContactRecord.dealer_id, visit_day).where(
            *is_visit,
            ContactRecord.contact_at >= _day_start_utc(start),
            ContactRecord.contact_at < _day_start_utc(end + timedelta(days=1)),
        )
    ):
        visits[dealer_id].append(date.fromisoformat(day))
    # Only class C looks back before the period. A visit older than the longest
    # interval leaves the dealer overdue at the start whichever it is, as does
    # its relationship start, so older visits need not be read.
    look_back = start - timedelta(days=int(C_INTERVAL_DAYS.maximum or 366)) - _LONGEST_DAYS_OFF
    before: dict[str, date] = {
        dealer_id: date.fromisoformat(day)
        for dealer_id, day in connection.execute(
            select(ContactRecord.dealer_id, func.max(visit_day))
            .join(Dealer, Dealer.id == ContactRecord.dealer_id)
            .where(
                *is_visit,
                Dealer.abc_class == AbcClass.C,
                ContactRecord.contact_at >= _day_start_utc(look_back),
                ContactRecord.contact_at < _day_start_utc(start),
            )
            .group_by(ContactRecord.dealer_id)
        )
    }

    cadences: dict[str, Cadence] = {}
    totals: dict[str | None, list[int]] = defaultdict(lambda: [0, 0])
    for dealer_id, territory_id, class_code, rep_user_id, begins_text in dealers:
        abc_class = _CLASS_BY_CODE[class_code]
        cadence = cadences.get(territory_id)
        if cadence is None:
            cadence = cadences[territory_id] = cadence_for(session, territory_id)
        if cadence.interval_days(start, abc_class) is None:
            continue  # a class with no visits a month is not on a cadence
        begins = date.fromisoformat(begins_text)
        window_start = max(start, begins)
        if window_start > end:
            continue
        kept = visited_within_cadence(
            cadence,
            abc_class,
            (window_start, end),
            [day for day in visits.get(dealer_id, []) if day >= window_start],
            before.get(dealer_id, begins),
        )
        key = rep_user_id if group_by == "rep" else class_code
        totals[key][0] += 1
        totals[key][1] += kept

    labels = _labels(session, group_by, list(totals))
    rows = [
        ComplianceRow(key, labels[key], count, kept, _percent(kept, count))
        for key, (count, kept) in totals.items()
    ]
    if group_by == "class":
        rows.sort(key=lambda row: row.key or "")
    else:
        rows.sort(key=lambda row: (row.key is None, row.label, row.key or ""))
    return rows


def _percent(part: int, whole: int) -> Decimal:
    return (Decimal(100 * part) / Decimal(whole)).quantize(Decimal("0.1"), ROUND_HALF_UP)


UNASSIGNED_REP = N_("No rep assigned")


def _labels(session: Session, group_by: str, keys: list[str | None]) -> dict[str | None, str]:
    if group_by == "class":
        return {key: AbcClass(str(key)).label for key in keys}
    names: dict[str, str] = dict(
        session.execute(
            select(AppUser.id, AppUser.display_name).where(
                AppUser.id.in_([key for key in keys if key is not None])
            )
        ).all()
    )
    return {key: (_(UNASSIGNED_REP) if key is None else names.get(key, key)) for key in keys}
