"""Read-only queries the views need, returning frozen dataclasses (never ORM objects).

Lists that can grow large are paged (``offset``/``limit``) and carry the total
count. Each list is ordered on an indexed column: dealers by class, city or
status in name order (composite indexes on ``dealer``), today's plan by
(rep, day, route), overdue follow-ups from (status, due date) or (owner, status,
due date), so closed follow-ups are never read.
Only live rows count: tombstoned rows and rows of tombstoned dealers are left out.
"""

from __future__ import annotations

import heapq
import sqlite3
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any, Generic, TypeVar

from pypinyin import lazy_pinyin
from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from fieldrep.i18n import N_, _
from fieldrep.storage.cadence import visit_stats
from fieldrep.storage.enums import (
    AbcClass,
    ComplaintCategory,
    ComplaintStatus,
    CreditRisk,
    DealerStatus,
    FollowUpDirection,
    FollowUpStatus,
    LabelledEnum,
    LegacyCategory,
    LegacyStatus,
    LifecycleStatus,
    PlanItemStatus,
    VisitType,
)
from fieldrep.storage.fields import field_label
from fieldrep.storage.models import (
    Complaint,
    Contact,
    ContactRecord,
    Dealer,
    FollowUp,
    LegacyIssue,
    Objection,
    VisitPlanItem,
)
from fieldrep.storage.search import (
    SearchHit,
    document_dealers,
    hit_order,
    match_expression,
    rank_documents,
    search_dealers,
)
from fieldrep.storage.services.core import Store, get_live
from fieldrep.storage.services.rules import latest_credit_risk
from fieldrep.storage.services.settings_service import get_setting
from fieldrep.storage.settings import STALE_PROFILE_DAYS
from fieldrep.storage.sorting import DEALER_NAME_SORT
from fieldrep.storage.workdays import next_working_day, previous_working_day

T = TypeVar("T")

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000
CLOSED_FOLLOW_UP = (FollowUpStatus.DONE, FollowUpStatus.CANCELLED)
OPEN_FOLLOW_UP = (FollowUpStatus.OPEN, FollowUpStatus.IN_PROGRESS, FollowUpStatus.BLOCKED)
OPEN_LEGACY = (LegacyStatus.OPEN, LegacyStatus.IN_PROGRESS)
OPEN_COMPLAINT = (ComplaintStatus.RECEIVED, ComplaintStatus.HANDLING, ComplaintStatus.ESCALATED)
# Joins field names in a message: translated, as Chinese lists use 、.
LIST_SEPARATOR = N_(", ")
# The profile fields whose absence makes a dealer card incomplete (invariant 12).
PROFILE_KEY_FIELDS = (
    "address",
    "phone",
    "legal_rep",
    "main_products",
    "channel_type",
    "settlement_method",
)


@dataclass(frozen=True)
class Page(Generic[T]):
    """One page of a longer list and the length of the whole list."""

    items: tuple[T, ...]
    total: int
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.items) < self.total


def _page_bounds(offset: int, limit: int) -> tuple[int, int]:
    return max(0, offset), max(1, min(limit, MAX_PAGE_SIZE))


def _paged(
    session: Session, query: Select[*tuple[Any, ...]], offset: int, limit: int
) -> tuple[list[Any], int]:
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery()))
    rows = session.execute(query.offset(offset).limit(limit)).all()
    return list(rows), int(total or 0)


# ---------------------------------------------------------------- dealers


@dataclass(frozen=True)
class DealerRow:
    """A dealer in a list."""

    id: str
    name: str
    short_name: str | None
    province: str | None
    city: str | None
    abc_class: AbcClass
    status: DealerStatus
    lifecycle_status: LifecycleStatus
    phone: str | None
    updated_at: datetime


def dealers(
    store: Store,
    *,
    abc_class: AbcClass | str | None = None,
    city: str | None = None,
    province: str | None = None,
    status: DealerStatus | str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_PAGE_SIZE,
) -> Page[DealerRow]:
    """Live dealers filtered by class, city, province and status, in pinyin name order."""
    offset, limit = _page_bounds(offset, limit)
    query = select(
        Dealer.id,
        Dealer.name,
        Dealer.short_name,
        Dealer.province,
        Dealer.city,
        Dealer.abc_class,
        Dealer.status,
        Dealer.lifecycle_status,
        Dealer.phone,
        Dealer.updated_at,
    ).where(Dealer.deleted.is_(False))
    if abc_class is not None:
        query = query.where(Dealer.abc_class == AbcClass.parse(abc_class))
    if city is not None:
        query = query.where(Dealer.city == city)
    if province is not None:
        query = query.where(Dealer.province == province)
    if status is not None:
        query = query.where(Dealer.status == DealerStatus.parse(status))
    query = query.order_by(DEALER_NAME_SORT, Dealer.id)
    with store.read() as session:
        rows, total = _paged(session, query, offset, limit)
    return Page(tuple(DealerRow(*row) for row in rows), total, offset, limit)


# ---------------------------------------------------------------- timeline


class TimelineKind(LabelledEnum):
    VISIT = "visit", N_("Visit record")
    OBJECTION = "objection", N_("Objection")
    FOLLOW_UP = "follow_up", N_("Follow-up")
    COMPLAINT = "complaint", N_("Complaint")
    LEGACY_ISSUE = "legacy_issue", N_("Legacy issue")


@dataclass(frozen=True)
class TimelineEvent:
    """One thing that happened with a dealer; ``status`` is the row's status code."""

    kind: TimelineKind
    at: datetime
    row_id: str
    title: str
    status: str | None
    detail: str | None = None


def _day_start(day: date) -> datetime:
    # Date-only events sort at the start of their day (UTC): after that day's visits.
    return datetime.combine(day, time.min, tzinfo=UTC)


def dealer_timeline(
    store: Store, dealer_id: str, *, offset: int = 0, limit: int = DEFAULT_PAGE_SIZE
) -> list[TimelineEvent]:
    """Visits, objections, follow-ups, complaints and legacy issues, newest first."""
    offset, limit = _page_bounds(offset, limit)
    wanted = offset + limit
    with store.read() as session:
        get_live(session, Dealer, dealer_id)
        streams: list[list[TimelineEvent]] = []

        visits = session.execute(
            select(
                ContactRecord.id,
                ContactRecord.contact_at,
                ContactRecord.visit_type,
                ContactRecord.status,
                ContactRecord.content,
            )
            .where(ContactRecord.dealer_id == dealer_id, ContactRecord.deleted.is_(False))
            .order_by(ContactRecord.contact_at.desc())
            .limit(wanted)
        ).all()
        streams.append(
            [
                TimelineEvent(
                    TimelineKind.VISIT,
                    at,
                    row_id,
                    VisitType(kind).label,
                    str(status),
                    _short(content),
                )
                for row_id, at, kind, status, content in visits
            ]
        )
        objections = session.execute(
            select(
                Objection.id,
                Objection.raised_on,
                Objection.created_at,
                Objection.verbatim,
                Objection.outcome,
            )
            .where(Objection.dealer_id == dealer_id, Objection.deleted.is_(False))
            .order_by(Objection.raised_on.desc(), Objection.created_at.desc())
            .limit(wanted)
        ).all()
        streams.append(
            [
                TimelineEvent(TimelineKind.OBJECTION, _day_start(day), row_id, verbatim, str(out))
                for row_id, day, _created, verbatim, out in objections
            ]
        )
        follow_ups = session.execute(
            select(
                FollowUp.id, FollowUp.created_at, FollowUp.title, FollowUp.status, FollowUp.due_on
            )
            .where(FollowUp.dealer_id == dealer_id, FollowUp.deleted.is_(False))
            .order_by(FollowUp.created_at.desc())
            .limit(wanted)
        ).all()
        streams.append(
            [
                TimelineEvent(
                    TimelineKind.FOLLOW_UP, at, row_id, title, str(status), due_on.isoformat()
                )
                for row_id, at, title, status, due_on in follow_ups
            ]
        )
        complaints = session.execute(
            select(Complaint.id, Complaint.received_at, Complaint.description, Complaint.status)
            .where(Complaint.dealer_id == dealer_id, Complaint.deleted.is_(False))
            .order_by(Complaint.received_at.desc())
            .limit(wanted)
        ).all()
        streams.append(
            [
                TimelineEvent(TimelineKind.COMPLAINT, at, row_id, _short(text) or "", str(status))
                for row_id, at, text, status in complaints
            ]
        )
        issues = session.execute(
            select(LegacyIssue.id, LegacyIssue.raised_on, LegacyIssue.title, LegacyIssue.status)
            .where(LegacyIssue.dealer_id == dealer_id, LegacyIssue.deleted.is_(False))
            .order_by(LegacyIssue.raised_on.desc())
            .limit(wanted)
        ).all()
        streams.append(
            [
                TimelineEvent(
                    TimelineKind.LEGACY_ISSUE, _day_start(day), row_id, title, str(status)
                )
                for row_id, day, title, status in issues
            ]
        )
    merged = heapq.merge(*streams, key=lambda event: event.at, reverse=True)
    return [event for index, event in enumerate(merged) if offset <= index < wanted]


def _short(text: str | None, length: int = 80) -> str | None:
    if text is None:
        return None
    flat = " ".join(text.split())
    return flat if len(flat) <= length else flat[: length - 1] + "…"


# ---------------------------------------------------------------- today's plan


@dataclass(frozen=True)
class PlanRow:
    """A planned visit of the day with what the route sheet shows."""

    item_id: str
    dealer_id: str
    dealer_name: str
    city: str | None
    address: str | None
    route_seq: int
    time_slot: time | None
    status: PlanItemStatus
    visit_type: VisitType
    objective: str | None
    planned_minutes: int | None


def todays_plan(
    store: Store, *, day: date | None = None, rep_user_id: str | None = None
) -> list[PlanRow]:
    """The rep's planned visits of a day (today by default) in route order."""
    day = day or store.today()
    rep = rep_user_id or store.user.user_id
    query = (
        select(
            VisitPlanItem.id,
            VisitPlanItem.dealer_id,
            Dealer.name,
            Dealer.city,
            Dealer.address,
            VisitPlanItem.route_seq,
            VisitPlanItem.time_slot,
            VisitPlanItem.status,
            VisitPlanItem.visit_type,
            VisitPlanItem.objective,
            VisitPlanItem.planned_minutes,
        )
        .join(Dealer, Dealer.id == VisitPlanItem.dealer_id)
        .where(
            VisitPlanItem.rep_user_id == rep,
            VisitPlanItem.planned_date == day,
            VisitPlanItem.deleted.is_(False),
            Dealer.deleted.is_(False),
        )
        .order_by(VisitPlanItem.route_seq, VisitPlanItem.time_slot, DEALER_NAME_SORT)
    )
    with store.read() as session:
        return [PlanRow(*row) for row in session.execute(query)]


# ---------------------------------------------------------------- follow-ups


@dataclass(frozen=True)
class FollowUpRow:
    """An open follow-up in a list, with how many days it is overdue."""

    id: str
    title: str
    dealer_id: str | None
    dealer_name: str | None
    owner_user_id: str
    due_on: date
    days_overdue: int
    status: FollowUpStatus
    direction: FollowUpDirection
    escalated: bool


def overdue_follow_ups(
    store: Store,
    *,
    today: date | None = None,
    owner_user_id: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_PAGE_SIZE,
) -> Page[FollowUpRow]:
    """Follow-ups past their due date and not done or cancelled, most overdue first."""
    offset, limit = _page_bounds(offset, limit)
    today = today or store.today()
    query = (
        select(
            FollowUp.id,
            FollowUp.title,
            FollowUp.dealer_id,
            Dealer.name,
            FollowUp.owner_user_id,
            FollowUp.due_on,
            FollowUp.status,
            FollowUp.direction,
            FollowUp.escalated,
        )
        .outerjoin(Dealer, Dealer.id == FollowUp.dealer_id)
        .where(
            FollowUp.deleted.is_(False),
            FollowUp.due_on < today,
            FollowUp.status.in_(OPEN_FOLLOW_UP),
            (Dealer.id.is_(None)) | Dealer.deleted.is_(False),
        )
        .order_by(FollowUp.due_on, FollowUp.id)
    )
    if owner_user_id is not None:
        query = query.where(FollowUp.owner_user_id == owner_user_id)
    with store.read() as session:
        rows, total = _paged(session, query, offset, limit)
    items = tuple(
        FollowUpRow(
            id=row.id,
            title=row.title,
            dealer_id=row.dealer_id,
            dealer_name=row.name,
            owner_user_id=row.owner_user_id,
            due_on=row.due_on,
            days_overdue=(today - row.due_on).days,
            status=row.status,
            direction=row.direction,
            escalated=bool(row.escalated),
        )
        for row in rows
    )
    return Page(items, total, offset, limit)


# ---------------------------------------------------------------- cases


@dataclass(frozen=True)
class LegacyIssueRow:
    id: str
    dealer_id: str
    dealer_name: str
    title: str
    category: LegacyCategory
    status: LegacyStatus
    raised_on: date
    amount: Decimal | None


def open_legacy_issues(
    store: Store,
    *,
    dealer_id: str | None = None,
    category: LegacyCategory | str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_PAGE_SIZE,
) -> Page[LegacyIssueRow]:
    """Legacy issues still open or being resolved, oldest first."""
    offset, limit = _page_bounds(offset, limit)
    query = (
        select(
            LegacyIssue.id,
            LegacyIssue.dealer_id,
            Dealer.name,
            LegacyIssue.title,
            LegacyIssue.category,
            LegacyIssue.status,
            LegacyIssue.raised_on,
            LegacyIssue.amount,
        )
        .join(Dealer, Dealer.id == LegacyIssue.dealer_id)
        .where(
            LegacyIssue.deleted.is_(False),
            LegacyIssue.status.in_(OPEN_LEGACY),
            Dealer.deleted.is_(False),
        )
        .order_by(LegacyIssue.raised_on, LegacyIssue.id)
    )
    if dealer_id is not None:
        query = query.where(LegacyIssue.dealer_id == dealer_id)
    if category is not None:
        query = query.where(LegacyIssue.category == LegacyCategory.parse(category))
    with store.read() as session:
        rows, total = _paged(session, query, offset, limit)
    return Page(tuple(LegacyIssueRow(*row) for row in rows), total, offset, limit)


@dataclass(frozen=True)
class ComplaintRow:
    id: str
    dealer_id: str
    dealer_name: str
    category: ComplaintCategory
    description: str
    status: ComplaintStatus
    received_at: datetime
    escalated: bool
    responsible_dept: str | None


def open_complaints(
    store: Store,
    *,
    dealer_id: str | None = None,
    offset: int = 0,
    limit: int = DEFAULT_PAGE_SIZE,
) -> Page[ComplaintRow]:
    """Complaints not yet closed, oldest first."""
    offset, limit = _page_bounds(offset, limit)
    query = (
        select(
            Complaint.id,
            Complaint.dealer_id,
            Dealer.name,
            Complaint.category,
            Complaint.description,
            Complaint.status,
            Complaint.received_at,
            Complaint.escalated,
            Complaint.responsible_dept,
        )
        .join(Dealer, Dealer.id == Complaint.dealer_id)
        .where(
            Complaint.deleted.is_(False),
            Complaint.status.in_(OPEN_COMPLAINT),
            Dealer.deleted.is_(False),
        )
        .order_by(Complaint.received_at, Complaint.id)
    )
    if dealer_id is not None:
        query = query.where(Complaint.dealer_id == dealer_id)
    with store.read() as session:
        rows, total = _paged(session, query, offset, limit)
    return Page(tuple(ComplaintRow(*row) for row in rows), total, offset, limit)


# ---------------------------------------------------------------- warnings


class WarningCode(LabelledEnum):
    NO_SENIOR_CONTACT = "no_senior_contact", N_("No senior contact")
    STALE_PROFILE = "stale_profile", N_("Stale profile")
    INCOMPLETE_PROFILE = "incomplete_profile", N_("Incomplete profile")
    HIGH_CREDIT_RISK = "high_credit_risk", N_("High credit risk")


WARNING_MESSAGES: dict[WarningCode, str] = {
    WarningCode.NO_SENIOR_CONTACT: N_(
        "No senior manager is known at this dealer: find out who decides and ask for a "
        "senior visit."
    ),
    WarningCode.STALE_PROFILE: N_(
        "The profile was last updated {days} days ago (more than {limit}): review it."
    ),
    WarningCode.INCOMPLETE_PROFILE: N_("The profile is missing: {fields}."),
    WarningCode.HIGH_CREDIT_RISK: N_(
        "The latest credit assessment is high risk: prepayment or shortened terms only."
    ),
}


@dataclass(frozen=True)
class DealerWarning:
    """A warning on a dealer card: a code, and its message with parameters."""

    code: WarningCode
    params: Mapping[str, Any] = field(default_factory=dict)
    field_names: Sequence[str] = ()

    def message(self) -> str:
        """The warning in the current language."""
        params = dict(self.params)
        if self.field_names:
            params["fields"] = _(LIST_SEPARATOR).join(
                _(field_label(Dealer, name)) for name in self.field_names
            )
        return _(WARNING_MESSAGES[self.code]).format(**params)


def dealer_warnings(store: Store, dealer_id: str) -> list[DealerWarning]:
    """What the dealer card should warn about (invariants 10, 12 and 14)."""
    warnings: list[DealerWarning] = []
    with store.read() as session:
        dealer = get_live(session, Dealer, dealer_id)
        senior = session.scalar(
            select(Contact.id)
            .where(
                Contact.dealer_id == dealer_id,
                Contact.deleted.is_(False),
                Contact.is_senior.is_(True),
            )
            .limit(1)
        )
        if senior is None:
            warnings.append(DealerWarning(WarningCode.NO_SENIOR_CONTACT))
        limit_days = get_setting(session, dealer.territory_id, STALE_PROFILE_DAYS)
        last = max(
            stamp for stamp in (dealer.updated_at, dealer.profile_reviewed_at) if stamp is not None
        )
        age = (store.today() - last.astimezone().date()).days
        if age > limit_days:
            warnings.append(
                DealerWarning(WarningCode.STALE_PROFILE, {"days": age, "limit": limit_days})
            )
        missing = tuple(name for name in PROFILE_KEY_FIELDS if _empty(getattr(dealer, name)))
        if missing:
            warnings.append(DealerWarning(WarningCode.INCOMPLETE_PROFILE, field_names=missing))
        if latest_credit_risk(session, dealer_id) == CreditRisk.HIGH:
            warnings.append(DealerWarning(WarningCode.HIGH_CREDIT_RISK))
    return warnings


def _empty(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


# ---------------------------------------------------------------- dealer list (GUI)

# The most dealers a search shows: the best matches first (BM25).
DEALER_SEARCH_LIMIT = 2000
# Columns the dealer list sorts on, in SQL.
DEALER_SORT_KEYS = (
    "name",
    "city",
    "abc_class",
    "credit_grade",
    "lifecycle_status",
    "last_visit_on",
    "due_on",
    "open_follow_ups",
    "phone",
)


@dataclass(frozen=True)
class DealerListFilter:
    """What the dealer list shows: search text and filters (all must hold)."""

    text: str = ""
    abc_class: AbcClass | None = None
    city: str | None = None
    credit_grade: str | None = None
    due_only: bool = False  # due or overdue for a visit by cadence
    with_open_follow_ups: bool = False
    territory_ids: tuple[str, ...] | None = None


@dataclass(frozen=True)
class DealerIds:
    """The ids of the dealers a filter shows, in display order."""

    ids: tuple[str, ...]
    truncated: bool = False  # the search found more than DEALER_SEARCH_LIMIT


@dataclass(frozen=True)
class DealerListRow:
    """One line of the dealer list; ``due_on`` is already moved to a working day."""

    id: str
    name: str
    short_name: str | None
    city: str | None
    abc_class: AbcClass
    credit_grade: str | None
    lifecycle_status: LifecycleStatus
    phone: str | None
    last_visit_on: date | None
    due_on: date | None
    open_follow_ups: int


@dataclass(frozen=True)
class DealerListPage:
    """The head of a dealer list, known before the whole list (:func:`dealer_list_steps`)."""

    ids: tuple[str, ...]  # the first dealers in display order
    count: int  # how many dealers the whole list has (the whole list's count decides)
    truncated: bool
    rows: dict[str, DealerListRow]  # the list lines of ``ids``


@dataclass(frozen=True)
class DealerChoices:
    """The values the dealer list's filters offer."""

    cities: tuple[str, ...]
    credit_grades: tuple[str, ...]


def _open_follow_up_condition() -> Any:
    return (
        FollowUp.dealer_id == Dealer.id,
        FollowUp.deleted.is_(False),
        FollowUp.status.not_in(CLOSED_FOLLOW_UP),
    )


def dealer_list_ids(
    store: Store,
    filters: DealerListFilter,
    *,
    sort: str | None = None,
    descending: bool = False,
) -> DealerIds:
    """Ids of the live dealers matching ``filters``, sorted in SQL.

    With search text and no ``sort``, the best matches come first; without text
    the default order is by name. ``sort`` is one of :data:`DEALER_SORT_KEYS`.
    """
    found = dealer_list_steps(store, filters, sort=sort, descending=descending)
    assert found is not None  # always wanted
    return found


# Documents looked up per statement while the whole list is made: between two
# chunks the loader asks whether the list is still wanted.
_LOOKUP_CHUNK = 500
_ID_CHUNK = 5000


def dealer_list_steps(
    store: Store,
    filters: DealerListFilter,
    *,
    sort: str | None = None,
    descending: bool = False,
    first: int = 0,
    on_first_page: Callable[[DealerListPage], None] | None = None,
    wanted: Callable[[], bool] = lambda: True,
) -> DealerIds | None:
    """:func:`dealer_list_ids` in two steps inside one read transaction.

    The list GUI shows one screen at a time, and the first screen is most of
    what a keystroke waits for: ``on_first_page`` gets the first ``first`` ids,
    their list rows and the count of the whole list as soon as they are known
    (a search ranks every match but reads the dealers of the best-scored ones
    only; a filter reads its first ``first`` ids by index and counts the rest).
    Then the whole list is made as :func:`dealer_list_ids` makes it and
    returned, its head the same ids. Between chunks of that second step
    ``wanted()`` is asked: when it turns False (the rep typed on), the work
    stops and None is returned. A search combined with filters, a sort or
    territories comes in one step: ``on_first_page`` is not called.
    """
    if sort is not None and sort not in DEALER_SORT_KEYS:
        raise ValueError(f"unknown sort key {sort!r}")
    stats = visit_stats.c
    with store.read() as session:
        raw = _driver(session)

        def show(ids: Sequence[str], count: int, truncated: bool) -> None:
            if on_first_page is not None:
                page = tuple(ids[:first])
                on_first_page(DealerListPage(page, count, truncated, _list_rows(raw, page)))

        ranks: dict[str, int] | None = None
        truncated = False
        if filters.text.strip():
            unfiltered = filters == DealerListFilter(
                text=filters.text, territory_ids=filters.territory_ids
            )
            if sort is None and unfiltered and filters.territory_ids is None:
                # Search alone (every keystroke): the hits are the list, best first.
                return _search_steps(raw, filters.text, first, show, wanted)
            hits, truncated = _search_hits(session, filters)
            if not hits:
                return DealerIds(())
            ranks = {dealer_id: rank for rank, dealer_id in enumerate(hits)}
            if sort is None and unfiltered:
                return DealerIds(tuple(ranks), truncated)
        query = select(Dealer.id).where(Dealer.deleted.is_(False))
        needs_stats = filters.due_only or sort in ("last_visit_on", "due_on")
        if needs_stats:
            query = query.outerjoin(visit_stats, stats.dealer_id == Dealer.id)
        if ranks is not None:
            query = query.where(Dealer.id.in_(list(ranks)))
        if filters.territory_ids is not None:
            query = query.where(Dealer.territory_id.in_(list(filters.territory_ids)))
        if filters.abc_class is not None:
            query = query.where(Dealer.abc_class == filters.abc_class)
        if filters.city is not None:
            query = query.where(Dealer.city == filters.city)
        if filters.credit_grade is not None:
            query = query.where(Dealer.credit_grade == filters.credit_grade)
        if filters.due_only:
            # Due on or before today once moved to a working day: the raw due date is
            # on or before the last working day up to today (moving keeps the order).
            last_working = previous_working_day(store.today())
            query = query.where(stats.due_on.is_not(None), stats.due_on <= last_working.isoformat())
        if filters.with_open_follow_ups:
            query = query.where(select(FollowUp.id).where(*_open_follow_up_condition()).exists())
        if sort is None and ranks is not None:
            found = _first_column(session, query)
            ordered = sorted(found, key=lambda dealer_id: ranks[dealer_id])
            return DealerIds(tuple(ordered), truncated)
        ordered_query = query.order_by(
            *_dealer_order(sort or "name", descending), DEALER_NAME_SORT, Dealer.id
        )
        if on_first_page is not None:
            # The first screen by index (LIMIT), and the count, before all the ids.
            count = session.scalar(select(func.count()).select_from(query.subquery()))
            show(_first_column(session, ordered_query.limit(first)), int(count or 0), False)
        ids = _first_column_while(session, ordered_query, wanted)
        return None if ids is None else DealerIds(tuple(ids), truncated)


# The first page of a too-broad search (below): the dealers of the first matches,
# walked in pinyin name order on the covering index of fieldrep.storage.sorting
# until a page is found. The page is the head of what _BROAD_SQL sorts, without
# reading 2,000 dealer rows: matches spread over the alphabet end the walk after
# a few thousand index entries (about 3 ms for 50,000 dealers); matches that all
# sort last walk the whole index, about twice _BROAD_SQL.
_BROAD_FIRST_SQL = (
    "SELECT d.id FROM dealer AS d INDEXED BY ix_dealer_live_name_sort"
    " WHERE d.deleted = 0 AND d.id IN ("
    "  SELECT doc.dealer_id FROM ("
    "   SELECT rowid AS docid FROM search_fts WHERE search_fts MATCH ? LIMIT ?"
    "  ) AS found JOIN search_doc AS doc ON doc.docid = found.docid"
    " )"
    " ORDER BY d.name_sort, d.id LIMIT ?"
)


def _search_steps(
    raw: sqlite3.Connection,
    text: str,
    first: int,
    show: Callable[[Sequence[str], int, bool], None],
    wanted: Callable[[], bool],
) -> DealerIds | None:
    """The search-only list (every keystroke) in two steps, see dealer_list_steps.

    Reading a dealer row (its name orders equal scores) is what a search of
    2,000 hits spends most on; the first page needs the dealers of the best
    scores only.
    """
    expression = match_expression(text)
    if expression is None:
        return DealerIds(())
    (matches,) = raw.execute(_BOUNDED_COUNT_SQL, (expression, DEALER_SEARCH_LIMIT + 1)).fetchone()
    if matches > DEALER_SEARCH_LIMIT:
        first_ids = raw.execute(_BROAD_FIRST_SQL, (expression, DEALER_SEARCH_LIMIT, first))
        # Every document is a live dealer's (search_doc), so the list has the limit.
        show([str(row[0]) for row in first_ids], DEALER_SEARCH_LIMIT, True)
        if not wanted():
            return None
        rows = raw.execute(_BROAD_SQL, (expression, DEALER_SEARCH_LIMIT)).fetchall()
        return DealerIds(tuple(str(row[0]) for row in rows), True)
    scores = rank_documents(raw, text, DEALER_SEARCH_LIMIT, matches=matches)
    # Best score first; hits of equal score are ordered by name once looked up.
    order = sorted(scores, key=scores.__getitem__, reverse=True)
    hits: list[SearchHit] = []
    done = 0
    while done < len(order) and len(hits) < first:
        # Whole groups of equal score: every document after them scores lower, so
        # the best ``first`` of these hits are the head of the whole list.
        end = min(len(order), done + first - len(hits))
        while end < len(order) and scores[order[end]] == scores[order[end - 1]]:
            end += 1
        hits += document_dealers(raw, {docid: scores[docid] for docid in order[done:end]})
        done = end
    if first:
        hits.sort(key=hit_order)
        count = len(hits) + len(order) - done
        show([hit.dealer_id for hit in hits], count, count >= DEALER_SEARCH_LIMIT)
    while done < len(order):
        if not wanted():
            return None
        end = min(len(order), done + _LOOKUP_CHUNK)
        hits += document_dealers(raw, {docid: scores[docid] for docid in order[done:end]})
        done = end
    hits.sort(key=hit_order)
    return DealerIds(tuple(hit.dealer_id for hit in hits), len(hits) >= DEALER_SEARCH_LIMIT)


def _first_column(session: Session, query: Select[str]) -> list[str]:
    """The first value of each row of ``query``, read as plain sqlite3 tuples.

    The whole list is 50,000 ids: SQLAlchemy takes longer to make its rows than
    SQLite to find them. The values are rendered into the statement by
    SQLAlchemy's own literal rendering (quotes escaped), so nothing is bound.
    """
    return [row[0] for row in _first_column_cursor(session, query)]


def _first_column_while(
    session: Session, query: Select[str], wanted: Callable[[], bool]
) -> list[str] | None:
    """:func:`_first_column` read in chunks: None as soon as ``wanted()`` is False."""
    cursor = _first_column_cursor(session, query)
    values: list[str] = []
    while chunk := cursor.fetchmany(_ID_CHUNK):
        values += [row[0] for row in chunk]
        if not wanted():
            cursor.close()
            return None
    return values


def _first_column_cursor(session: Session, query: Select[str]) -> sqlite3.Cursor:
    statement = query.compile(
        dialect=session.get_bind().dialect, compile_kwargs={"literal_binds": True}
    )
    return _driver(session).execute(str(statement))


# A search matching more dealers than the list shows (one letter, 有限) is too broad
# for ranking to mean anything, and ranking every match is what costs (BM25 over
# tens of thousands of documents): such a search shows the first matches found, in
# pinyin name order, and says the list is cut so the rep types on. Counting stops
# one past the limit: a one-letter search need not count all 50,000 matches.
# Plain statements on the session's sqlite3 connection: these run on every
# keystroke, and SQLAlchemy's rows cost more than the statements for 2,000 ids.
_BOUNDED_COUNT_SQL = (
    "SELECT count(*) FROM ( SELECT 1 FROM search_fts WHERE search_fts MATCH ? LIMIT ?)"
)
_BROAD_SQL = (
    "SELECT d.id FROM ("
    " SELECT rowid AS docid FROM search_fts WHERE search_fts MATCH ? LIMIT ?"
    ") AS found"
    " JOIN search_doc AS doc ON doc.docid = found.docid"
    " JOIN dealer AS d ON d.id = doc.dealer_id"
    " WHERE d.deleted = 0"
    " ORDER BY d.name_sort, d.id"
)


def _driver(session: Session) -> sqlite3.Connection:
    raw = session.connection().connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


def _search_hits(session: Session, filters: DealerListFilter) -> tuple[list[str], bool]:
    """Dealer ids the search text finds (best first) and whether the list was cut."""
    matches: int | None = None
    if filters.territory_ids is None:
        expression = match_expression(filters.text)
        if expression is None:
            return [], False
        raw = _driver(session)
        (matches,) = raw.execute(
            _BOUNDED_COUNT_SQL, (expression, DEALER_SEARCH_LIMIT + 1)
        ).fetchone()
        if matches > DEALER_SEARCH_LIMIT:
            rows = raw.execute(_BROAD_SQL, (expression, DEALER_SEARCH_LIMIT)).fetchall()
            return [str(row[0]) for row in rows], True
    hits = search_dealers(
        session,
        filters.text,
        DEALER_SEARCH_LIMIT,
        territory_ids=filters.territory_ids,
        matches=matches,
    )
    return [hit.dealer_id for hit in hits], len(hits) >= DEALER_SEARCH_LIMIT


def _dealer_order(sort: str, descending: bool) -> list[Any]:
    stats = visit_stats.c
    column: Any
    if sort == "last_visit_on":
        column = stats.last_visit_on
    elif sort == "due_on":
        column = stats.due_on
    elif sort == "open_follow_ups":
        column = (
            select(func.count(FollowUp.id))
            .where(*_open_follow_up_condition())
            .correlate(Dealer)
            .scalar_subquery()
        )
    elif sort == "name":
        # Pinyin order (fieldrep.storage.sorting); never NULL, and a NULLS LAST
        # here would keep SQLite from reading the order off the index.
        return [DEALER_NAME_SORT.desc() if descending else DEALER_NAME_SORT.asc()]
    else:
        column = getattr(Dealer, sort)
    ordered = column.desc() if descending else column.asc()
    return [ordered.nulls_last()]


_ROWS_SQL = (
    "SELECT d.id, d.name, d.short_name, d.city, d.abc_class, d.credit_grade,"
    " d.lifecycle_status, d.phone, s.last_visit_on, s.due_on,"
    " (SELECT count(*) FROM follow_up AS f WHERE f.dealer_id = d.id AND f.deleted = 0"
    "  AND f.status NOT IN ({closed})) AS open_follow_ups"
    " FROM dealer AS d LEFT JOIN {stats} AS s ON s.dealer_id = d.id"
    " WHERE d.id IN ({ids})"
)
_CLOSED_CODES = tuple(status.code for status in CLOSED_FOLLOW_UP)
_ABC_BY_CODE = {member.code: member for member in AbcClass}
_LIFECYCLE_BY_CODE = {member.code: member for member in LifecycleStatus}


def dealer_list_rows(store: Store, ids: Sequence[str]) -> dict[str, DealerListRow]:
    """The list lines of the given dealers (one page), by id; missing ids are left out."""
    if not ids:
        return {}
    with store.read() as session:
        return _list_rows(_driver(session), ids)


def _list_rows(raw: sqlite3.Connection, ids: Sequence[str]) -> dict[str, DealerListRow]:
    if not ids:
        return {}
    sql = _ROWS_SQL.format(
        closed=", ".join("?" for _ in _CLOSED_CODES),
        stats=visit_stats.name,
        ids=", ".join("?" for _ in ids),
    )
    rows: dict[str, DealerListRow] = {}
    # A page shares a few dozen dates: parse and move each one once.
    days: dict[str, date] = {}
    due_days: dict[str, date] = {}
    found = raw.execute(sql, (*_CLOSED_CODES, *ids)).fetchall()
    for (
        dealer_id,
        name,
        short_name,
        city,
        abc_class,
        credit_grade,
        lifecycle_status,
        phone,
        last_visit_on,
        due_on,
        open_count,
    ) in found:
        last_day = None
        if last_visit_on:
            last_day = days.get(last_visit_on) or days.setdefault(
                last_visit_on, date.fromisoformat(last_visit_on)
            )
        due_day = None
        if due_on:
            due_day = due_days.get(due_on)
            if due_day is None:
                due_day = due_days[due_on] = next_working_day(date.fromisoformat(due_on))
        rows[dealer_id] = DealerListRow(
            id=dealer_id,
            name=name,
            short_name=short_name,
            city=city,
            abc_class=_ABC_BY_CODE[abc_class],
            credit_grade=credit_grade,
            lifecycle_status=_LIFECYCLE_BY_CODE[lifecycle_status],
            phone=phone,
            last_visit_on=last_day,
            due_on=due_day,
            open_follow_ups=int(open_count or 0),
        )
    return rows


def _grade_order(grade: str) -> tuple[str, int, str]:
    # AAA before AA before A, then B, C ...: letter first, longer runs first.
    return (grade[:1], -len(grade), grade)


def dealer_filter_choices(
    store: Store, territory_ids: Sequence[str] | None = None
) -> DealerChoices:
    """The cities (in pinyin order) and credit grades that live dealers have."""
    query_cities = select(Dealer.city).where(Dealer.deleted.is_(False), Dealer.city.is_not(None))
    query_grades = select(Dealer.credit_grade).where(
        Dealer.deleted.is_(False), Dealer.credit_grade.is_not(None)
    )
    if territory_ids is not None:
        query_cities = query_cities.where(Dealer.territory_id.in_(list(territory_ids)))
        query_grades = query_grades.where(Dealer.territory_id.in_(list(territory_ids)))
    with store.read() as session:
        cities = [str(city) for city in session.scalars(query_cities.distinct()) if city]
        grades = [str(grade) for grade in session.scalars(query_grades.distinct()) if grade]
    return DealerChoices(
        tuple(sorted(cities, key=lambda city: ("".join(lazy_pinyin(city)), city))),
        tuple(sorted(grades, key=_grade_order)),
    )


__all__ = [
    "DEALER_SEARCH_LIMIT",
    "DEALER_SORT_KEYS",
    "ComplaintRow",
    "DealerChoices",
    "DealerIds",
    "DealerListFilter",
    "DealerListPage",
    "DealerListRow",
    "DealerRow",
    "DealerWarning",
    "FollowUpRow",
    "LegacyIssueRow",
    "Page",
    "PlanRow",
    "TimelineEvent",
    "TimelineKind",
    "WarningCode",
    "dealer_filter_choices",
    "dealer_list_ids",
    "dealer_list_rows",
    "dealer_list_steps",
    "dealer_timeline",
    "dealer_warnings",
    "dealers",
    "open_complaints",
    "open_legacy_issues",
    "overdue_follow_ups",
    "todays_plan",
]
