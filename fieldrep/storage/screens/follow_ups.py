"""The follow-ups list: the lines it shows, and the due-date reminders (no Qt)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import select

from fieldrep.storage.enums import FollowUpDirection, FollowUpSource, FollowUpStatus
from fieldrep.storage.models import AppUser, Dealer, FollowUp

if TYPE_CHECKING:
    # The services are imported when first used: the view imports this module
    # at start-up, for the reminders, and the services cost a few more modules.
    from fieldrep.storage.services.core import Store

LIST_LIMIT = 1000
OPEN_FILTER = "open"
ALL_FILTER = "all"
OPEN_STATUSES = (FollowUpStatus.OPEN, FollowUpStatus.IN_PROGRESS, FollowUpStatus.BLOCKED)


@dataclass(frozen=True)
class FollowUpLine:
    """One follow-up as the list and the details show it."""

    id: str
    title: str
    details: str | None
    dealer_id: str | None
    dealer_name: str | None
    owner_user_id: str
    owner_name: str
    due_on: date
    days_overdue: int
    status: FollowUpStatus
    direction: FollowUpDirection
    source_type: FollowUpSource
    escalated: bool
    counterpart_dept: str | None
    result: str | None
    result_notified_at: datetime | None
    verify_by: date | None


@dataclass(frozen=True)
class FollowUpList:
    """The lines of the list, how many of them are overdue, and for whom and when."""

    lines: tuple[FollowUpLine, ...]
    overdue: int
    today: date
    me: str


def _lines(store: Store, ids: Sequence[str], today: date) -> dict[str, FollowUpLine]:
    if not ids:
        return {}
    with store.read() as session:
        rows = session.execute(
            select(FollowUp, Dealer.name, AppUser.display_name)
            .outerjoin(Dealer, Dealer.id == FollowUp.dealer_id)
            .outerjoin(AppUser, AppUser.id == FollowUp.owner_user_id)
            .where(FollowUp.id.in_(list(ids)))
        ).all()
        return {
            row.id: FollowUpLine(
                id=row.id,
                title=row.title,
                details=row.details,
                dealer_id=row.dealer_id,
                dealer_name=dealer_name,
                owner_user_id=row.owner_user_id,
                owner_name=owner_name or "",
                due_on=row.due_on,
                days_overdue=max(0, (today - row.due_on).days)
                if row.status in OPEN_STATUSES
                else 0,
                status=row.status,
                direction=row.direction,
                source_type=row.source_type,
                escalated=row.escalated,
                counterpart_dept=row.counterpart_dept,
                result=row.result,
                result_notified_at=row.result_notified_at,
                verify_by=row.verify_by,
            )
            for row, dealer_name, owner_name in rows
        }


def load_follow_ups(store: Store, *, mine: bool, status: str = OPEN_FILTER) -> FollowUpList:
    """Overdue first (most overdue first), then the rest by due date, filtered."""
    from fieldrep.storage.queries import overdue_follow_ups

    today = store.today()
    me = store.user.user_id
    owner = me if mine else None
    if status == OPEN_FILTER:
        statuses: tuple[FollowUpStatus, ...] = OPEN_STATUSES
    elif status == ALL_FILTER:
        statuses = tuple(FollowUpStatus)
    else:
        statuses = (FollowUpStatus(status),)
    overdue_ids: list[str] = []
    if any(wanted in OPEN_STATUSES for wanted in statuses):
        page = overdue_follow_ups(store, owner_user_id=owner, limit=LIST_LIMIT)
        overdue_ids = [row.id for row in page.items if row.status in statuses]
    query = (
        select(FollowUp.id)
        .outerjoin(Dealer, Dealer.id == FollowUp.dealer_id)
        .where(
            FollowUp.deleted.is_(False),
            FollowUp.status.in_(statuses),
            (Dealer.id.is_(None)) | Dealer.deleted.is_(False),
        )
        .order_by(FollowUp.due_on, FollowUp.id)
        .limit(LIST_LIMIT)
    )
    if owner is not None:
        query = query.where(FollowUp.owner_user_id == owner)
    if set(statuses) <= set(OPEN_STATUSES):
        query = query.where(FollowUp.due_on >= today)  # the overdue ones came above
    with store.read() as session:
        later_ids = [found for found in session.scalars(query) if found not in overdue_ids]
    lines = _lines(store, [*overdue_ids, *later_ids], today)
    ordered = tuple(lines[i] for i in [*overdue_ids, *later_ids] if i in lines)
    return FollowUpList(ordered, len(overdue_ids), today, me)


def due_for_reminder(store: Store) -> list[FollowUpLine]:
    """The user's open follow-ups due today or overdue that were not reminded today."""
    today = store.today()
    with store.read() as session:
        rows = session.execute(
            select(FollowUp.id, FollowUp.reminded_at).where(
                FollowUp.deleted.is_(False),
                FollowUp.owner_user_id == store.user.user_id,
                FollowUp.status.in_(OPEN_STATUSES),
                FollowUp.due_on <= today,
            )
        ).all()
    ids = [
        row_id
        for row_id, reminded in rows
        if reminded is None or reminded.astimezone().date() < today
    ]
    lines = _lines(store, ids, today)
    return sorted(lines.values(), key=lambda line: (line.due_on, line.id))


def mark_reminded(store: Store, ids: Sequence[str]) -> None:
    """Note that the user was reminded of these follow-ups now."""
    from fieldrep.storage.services.followups import update_follow_up
    from fieldrep.storage.types import utcnow

    now = utcnow()
    for follow_up_id in ids:
        update_follow_up(store, follow_up_id, {"reminded_at": now})
