"""Follow-ups: commitments with an owner, a due date and a timeline (DOMAIN.md §2.10, §4.5).

Every status change is logged as a done step of the follow-up's timeline
(时间推动表), so the timeline shows both the planned milestones and what happened.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldrep.i18n import N_, _
from fieldrep.storage.enums import FollowUpDirection, FollowUpSource, FollowUpStatus
from fieldrep.storage.models import FollowUp, FollowUpStep
from fieldrep.storage.services.common import clean_values
from fieldrep.storage.services.core import (
    Record,
    Store,
    get_live,
    insert_row,
    live,
    snapshot,
    update_row,
)
from fieldrep.storage.services.settings_service import get_setting
from fieldrep.storage.settings import VERIFY_PERIOD_DAYS
from fieldrep.storage.types import utcnow

# Days from today to the default due date of a new follow-up.
DEFAULT_DUE_DAYS = 7
CLOSED_STATUSES = (FollowUpStatus.DONE, FollowUpStatus.CANCELLED)

STEP_ESCALATED = N_("Escalated to {department}")
STEP_RESULT_NOTIFIED = N_("Dealer told of the result")


@dataclass(frozen=True)
class FollowUpDraft:
    """A follow-up to create; owner and due date default to the current user and a week on."""

    title: str
    due_on: date | None = None
    owner_user_id: str | None = None
    direction: FollowUpDirection | str = FollowUpDirection.WE_OWE
    details: str | None = None
    verify_by: date | None = None
    counterpart_dept: str | None = None


def default_due_on(store: Store) -> date:
    """Today plus :data:`DEFAULT_DUE_DAYS`."""
    return store.today() + timedelta(days=DEFAULT_DUE_DAYS)


def insert_follow_up(
    session: Session,
    store: Store,
    draft: FollowUpDraft,
    *,
    dealer_id: str | None,
    source_type: FollowUpSource,
    source_id: str | None = None,
    territory_id: str | None = None,
) -> FollowUp:
    """Add a follow-up inside the caller's transaction, filling owner and due date.

    Agreed items (source ``visit_agreement``) get a verify date from the
    VERIFY_PERIOD_DAYS setting when none is given, which is their timeline.
    """
    due_on = draft.due_on or default_due_on(store)
    verify_by = draft.verify_by
    if verify_by is None and source_type == FollowUpSource.VISIT_AGREEMENT:
        period = get_setting(session, territory_id or store.user.territory_id, VERIFY_PERIOD_DAYS)
        verify_by = due_on + timedelta(days=period)
    values: dict[str, Any] = {
        "title": draft.title.strip() if draft.title else draft.title,
        "details": draft.details,
        "owner_user_id": draft.owner_user_id or store.user.user_id,
        "due_on": due_on,
        "dealer_id": dealer_id,
        "source_type": source_type,
        "source_id": source_id,
        "direction": FollowUpDirection.parse(draft.direction),
        "counterpart_dept": draft.counterpart_dept,
        "verify_by": verify_by,
        "status": FollowUpStatus.OPEN,
    }
    if territory_id:
        values["territory_id"] = territory_id
    return insert_row(session, store, FollowUp, values)


def create_follow_up(
    store: Store,
    draft: FollowUpDraft,
    *,
    dealer_id: str | None = None,
    source_type: FollowUpSource | str = FollowUpSource.MANUAL,
    source_id: str | None = None,
) -> Record:
    """Add a follow-up in its own transaction."""
    with store.write() as session:
        return snapshot(
            insert_follow_up(
                session,
                store,
                draft,
                dealer_id=dealer_id,
                source_type=FollowUpSource.parse(source_type),
                source_id=source_id,
            )
        )


def update_follow_up(store: Store, follow_up_id: str, values: Mapping[str, Any]) -> Record:
    """Edit a follow-up's fields (use :func:`change_follow_up_status` for its status)."""
    cleaned = clean_values(FollowUp, values, managed=("status", "completed_at"))
    with store.write() as session:
        row = get_live(session, FollowUp, follow_up_id)
        return snapshot(update_row(session, store, row, cleaned))


def add_step(
    store: Store, follow_up_id: str, description: str, due_on: date, *, note: str | None = None
) -> Record:
    """Add a milestone to the follow-up's timeline, after the existing ones."""
    with store.write() as session:
        follow_up = get_live(session, FollowUp, follow_up_id)
        return snapshot(_insert_step(session, store, follow_up, description, due_on, note=note))


def complete_step(store: Store, step_id: str, *, note: str | None = None) -> Record:
    """Mark a timeline milestone done now."""
    with store.write() as session:
        step = get_live(session, FollowUpStep, step_id)
        values: dict[str, Any] = {"done_at": utcnow()}
        if note is not None:
            values["note"] = note
        return snapshot(update_row(session, store, step, values))


def change_follow_up_status(
    store: Store,
    follow_up_id: str,
    status: FollowUpStatus | str,
    *,
    note: str | None = None,
    result: str | None = None,
    result_notified_at: datetime | None = None,
) -> Record:
    """Move a follow-up to ``status`` and log the change on its timeline.

    Closing (done) an item the company owes needs the result and the time the
    dealer was told (invariant 3); both may be given here.
    """
    with store.write() as session:
        row = get_live(session, FollowUp, follow_up_id)
        set_status(
            session,
            store,
            row,
            status,
            note=note,
            result=result,
            result_notified_at=result_notified_at,
        )
        return snapshot(row)


def set_status(
    session: Session,
    store: Store,
    row: FollowUp,
    status: FollowUpStatus | str,
    *,
    note: str | None = None,
    result: str | None = None,
    result_notified_at: datetime | None = None,
) -> FollowUp:
    """:func:`change_follow_up_status` inside the caller's transaction."""
    new_status = FollowUpStatus.parse(status)
    values: dict[str, Any] = {"status": new_status}
    if result is not None:
        values["result"] = result
    if result_notified_at is not None:
        values["result_notified_at"] = result_notified_at
    if new_status == FollowUpStatus.DONE:
        values["completed_at"] = utcnow()
    elif row.completed_at is not None:
        values["completed_at"] = None
    update_row(session, store, row, values)
    description = note or _(new_status.english)
    _insert_step(session, store, row, description, store.today(), done=True)
    return row


def notify_result(store: Store, follow_up_id: str, *, at: datetime | None = None) -> Record:
    """Record that the dealer was told of the result (通报), now unless ``at`` is given."""
    with store.write() as session:
        row = get_live(session, FollowUp, follow_up_id)
        update_row(session, store, row, {"result_notified_at": at or utcnow()})
        _insert_step(session, store, row, _(STEP_RESULT_NOTIFIED), store.today(), done=True)
        return snapshot(row)


def escalate_follow_up(
    store: Store, follow_up_id: str, department: str, *, note: str | None = None
) -> Record:
    """Escalate a blocked follow-up to an internal department (公司沟通四步骤)."""
    with store.write() as session:
        row = get_live(session, FollowUp, follow_up_id)
        update_row(
            session,
            store,
            row,
            {"escalated": True, "counterpart_dept": department, "status": FollowUpStatus.BLOCKED},
        )
        description = note or _(STEP_ESCALATED).format(department=department)
        _insert_step(session, store, row, description, store.today(), done=True)
        return snapshot(row)


def follow_up_timeline(store: Store, follow_up_id: str) -> list[Record]:
    """The follow-up's timeline steps in order."""
    with store.read() as session:
        steps = session.scalars(
            live(FollowUpStep)
            .where(FollowUpStep.follow_up_id == follow_up_id)
            .order_by(FollowUpStep.seq, FollowUpStep.created_at)
        ).all()
        return [snapshot(step) for step in steps]


def _insert_step(
    session: Session,
    store: Store,
    follow_up: FollowUp,
    description: str,
    due_on: date,
    *,
    note: str | None = None,
    done: bool = False,
) -> FollowUpStep:
    last = session.scalar(
        select(func.max(FollowUpStep.seq)).where(FollowUpStep.follow_up_id == follow_up.id)
    )
    return insert_row(
        session,
        store,
        FollowUpStep,
        {
            "follow_up_id": follow_up.id,
            "territory_id": follow_up.territory_id,
            "seq": (last or 0) + 1,
            "description": description,
            "due_on": due_on,
            "done_at": utcnow() if done else None,
            "note": note,
        },
    )
