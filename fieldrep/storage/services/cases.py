"""Legacy issues, complaints, competitor notes, channel conflicts, trainings, negotiations.

DOMAIN.md §2.11-§2.17 and workflows §4.6-§4.7. An evidenced legacy issue opens
a must-resolve follow-up at once; an escalated complaint opens an internal one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from fieldrep.storage.enums import (
    CaseStatus,
    ComplaintStatus,
    FollowUpDirection,
    FollowUpSource,
    LegacyCategory,
    LegacyStatus,
)
from fieldrep.storage.models import (
    ChannelConflict,
    ChannelConflictDealer,
    CompetitorNote,
    Complaint,
    Dealer,
    FollowUp,
    LegacyIssue,
    NegotiationNote,
    TrainingSession,
)
from fieldrep.storage.services.common import clean_values
from fieldrep.storage.services.core import (
    Record,
    Store,
    get_live,
    insert_row,
    snapshot,
    update_row,
)
from fieldrep.storage.services.followups import FollowUpDraft, insert_follow_up
from fieldrep.storage.services.rules import LEGACY_FINAL_STATUSES
from fieldrep.storage.types import utcnow


@dataclass(frozen=True)
class CaseWithFollowUp:
    """A case row and the follow-up it opened (None when it opened none)."""

    case: Record
    follow_up: Record | None


# ---------------------------------------------------------------- legacy issues


def create_legacy_issue(
    store: Store,
    dealer_id: str,
    values: Mapping[str, Any],
    *,
    follow_up: FollowUpDraft | None = None,
) -> CaseWithFollowUp:
    """Log an inherited grievance; an evidenced one opens a must-resolve follow-up.

    The follow-up (source ``legacy_issue``, the company owes it) takes its title
    from the issue unless ``follow_up`` says otherwise; owner and due date default
    to the current user and a week from today.
    """
    cleaned = clean_values(LegacyIssue, values, managed=("dealer_id", "closed_at"))
    with store.write() as session:
        dealer = get_live(session, Dealer, dealer_id)
        cleaned.update({"dealer_id": dealer.id, "territory_id": dealer.territory_id})
        cleaned.setdefault("raised_on", store.today())
        issue = insert_row(session, store, LegacyIssue, cleaned)
        opened = None
        if issue.category == LegacyCategory.EVIDENCED:
            draft = follow_up or FollowUpDraft(title=issue.title)
            opened = insert_follow_up(
                session,
                store,
                FollowUpDraft(
                    title=draft.title or issue.title,
                    due_on=draft.due_on,
                    owner_user_id=draft.owner_user_id,
                    direction=FollowUpDirection.WE_OWE,
                    details=draft.details or issue.description,
                    verify_by=draft.verify_by,
                ),
                dealer_id=dealer.id,
                source_type=FollowUpSource.LEGACY_ISSUE,
                source_id=issue.id,
                territory_id=dealer.territory_id,
            )
            if issue.status == LegacyStatus.OPEN or issue.status is None:
                update_row(session, store, issue, {"status": LegacyStatus.IN_PROGRESS})
        return CaseWithFollowUp(snapshot(issue), snapshot(opened) if opened else None)


def update_legacy_issue(store: Store, issue_id: str, values: Mapping[str, Any]) -> Record:
    """Edit a legacy issue (its status through :func:`set_legacy_status`)."""
    cleaned = clean_values(LegacyIssue, values, managed=("dealer_id", "status", "closed_at"))
    with store.write() as session:
        issue = get_live(session, LegacyIssue, issue_id)
        return snapshot(update_row(session, store, issue, cleaned))


def set_legacy_status(
    store: Store,
    issue_id: str,
    status: LegacyStatus | str,
    *,
    resolution: str | None = None,
    answer_given: str | None = None,
) -> Record:
    """Move a legacy issue on; evidenced issues cannot be rejected (invariant 7) and
    unresolvable ones need the apology or clear answer before closing (invariant 8)."""
    values: dict[str, Any] = {"status": LegacyStatus.parse(status)}
    if resolution is not None:
        values["resolution"] = resolution
    if answer_given is not None:
        values["answer_given"] = answer_given
    with store.write() as session:
        issue = get_live(session, LegacyIssue, issue_id)
        values["closed_at"] = utcnow() if values["status"] in LEGACY_FINAL_STATUSES else None
        return snapshot(update_row(session, store, issue, values))


# ---------------------------------------------------------------- complaints


def create_complaint(store: Store, dealer_id: str, values: Mapping[str, Any]) -> Record:
    """Log a dealer complaint (received now unless ``received_at`` is given)."""
    cleaned = clean_values(
        Complaint, values, managed=("dealer_id", "status", "escalated", "closed_at")
    )
    with store.write() as session:
        dealer = get_live(session, Dealer, dealer_id)
        cleaned.update({"dealer_id": dealer.id, "territory_id": dealer.territory_id})
        cleaned.setdefault("received_at", utcnow())
        cleaned["status"] = ComplaintStatus.RECEIVED
        return snapshot(insert_row(session, store, Complaint, cleaned))


def handle_complaint(
    store: Store, complaint_id: str, handling: str, *, responsible_dept: str | None = None
) -> Record:
    """Record the handling plan (and the department it went to); status: being handled."""
    values: dict[str, Any] = {"handling": handling, "status": ComplaintStatus.HANDLING}
    if responsible_dept is not None:
        values["responsible_dept"] = responsible_dept
    cleaned = clean_values(Complaint, values)
    with store.write() as session:
        complaint = get_live(session, Complaint, complaint_id)
        return snapshot(update_row(session, store, complaint, cleaned))


def escalate_complaint(
    store: Store,
    complaint_id: str,
    responsible_dept: str,
    *,
    follow_up: FollowUpDraft | None = None,
) -> CaseWithFollowUp:
    """Escalate to a department and open an internal follow-up to chase it."""
    with store.write() as session:
        complaint = get_live(session, Complaint, complaint_id)
        update_row(
            session,
            store,
            complaint,
            clean_values(
                Complaint,
                {
                    "escalated": True,
                    "status": ComplaintStatus.ESCALATED,
                    "responsible_dept": responsible_dept,
                },
            ),
        )
        draft = follow_up or FollowUpDraft(title=complaint.description)
        opened = insert_follow_up(
            session,
            store,
            FollowUpDraft(
                title=draft.title,
                due_on=draft.due_on,
                owner_user_id=draft.owner_user_id,
                direction=FollowUpDirection.INTERNAL,
                details=draft.details,
                counterpart_dept=responsible_dept,
            ),
            dealer_id=complaint.dealer_id,
            source_type=FollowUpSource.COMPLAINT,
            source_id=complaint.id,
            territory_id=complaint.territory_id,
        )
        return CaseWithFollowUp(snapshot(complaint), snapshot(opened))


def close_complaint(store: Store, complaint_id: str, result: str) -> Record:
    """Close a complaint with its result (the feedback the dealer was given)."""
    values: dict[str, Any] = {
        "result": result.strip() or None,
        "status": ComplaintStatus.CLOSED,
        "closed_at": utcnow(),
    }
    with store.write() as session:
        complaint = get_live(session, Complaint, complaint_id)
        return snapshot(update_row(session, store, complaint, values))


# ---------------------------------------------------------------- competitors, conflicts


def add_competitor_note(
    store: Store, values: Mapping[str, Any], *, dealer_id: str | None = None
) -> Record:
    """Log competitor information; when it was seen and the source are required."""
    cleaned = clean_values(CompetitorNote, values, managed=("dealer_id",))
    with store.write() as session:
        if dealer_id is not None:
            dealer = get_live(session, Dealer, dealer_id)
            cleaned.update({"dealer_id": dealer.id, "territory_id": dealer.territory_id})
        return snapshot(insert_row(session, store, CompetitorNote, cleaned))


def record_channel_conflict(
    store: Store, values: Mapping[str, Any], *, affected_dealer_ids: Sequence[str] = ()
) -> Record:
    """Log a channel conflict; the offending dealer and the action are required."""
    cleaned = clean_values(ChannelConflict, values)
    with store.write() as session:
        offender_id = cleaned.get("offender_dealer_id")
        if offender_id:
            get_live(session, Dealer, offender_id)
        cleaned.setdefault("reported_on", store.today())
        conflict = insert_row(session, store, ChannelConflict, cleaned)
        for dealer_id in dict.fromkeys(affected_dealer_ids):
            dealer = get_live(session, Dealer, dealer_id)
            insert_row(
                session,
                store,
                ChannelConflictDealer,
                {"conflict_id": conflict.id, "dealer_id": dealer.id},
            )
        return snapshot(conflict)


def set_conflict_status(store: Store, conflict_id: str, status: CaseStatus | str) -> Record:
    """Move a channel conflict on (closing stamps closed_at)."""
    new_status = CaseStatus.parse(status)
    with store.write() as session:
        conflict = get_live(session, ChannelConflict, conflict_id)
        closed_at: datetime | None = utcnow() if new_status == CaseStatus.CLOSED else None
        return snapshot(
            update_row(session, store, conflict, {"status": new_status, "closed_at": closed_at})
        )


# ---------------------------------------------------------------- training, negotiation


def record_training(
    store: Store,
    dealer_id: str,
    values: Mapping[str, Any],
    *,
    follow_ups: Sequence[FollowUpDraft] = (),
) -> CaseWithFollowUps:
    """Log a training with its attendees and the customer names collected (invariant 19)."""
    cleaned = clean_values(TrainingSession, values, managed=("dealer_id",))
    with store.write() as session:
        dealer = get_live(session, Dealer, dealer_id)
        cleaned.update({"dealer_id": dealer.id, "territory_id": dealer.territory_id})
        training = insert_row(session, store, TrainingSession, cleaned)
        opened: list[FollowUp] = [
            insert_follow_up(
                session,
                store,
                draft,
                dealer_id=dealer.id,
                source_type=FollowUpSource.TRAINING,
                source_id=training.id,
                territory_id=dealer.territory_id,
            )
            for draft in follow_ups
        ]
        return CaseWithFollowUps(snapshot(training), tuple(snapshot(row) for row in opened))


@dataclass(frozen=True)
class CaseWithFollowUps:
    """A case row and the follow-ups it opened."""

    case: Record
    follow_ups: tuple[Record, ...]


def add_negotiation_note(
    store: Store, dealer_id: str, values: Mapping[str, Any], *, noted_on: date | None = None
) -> Record:
    """Log where a negotiation stands on one of the five points; a concession
    needs its policy reference (invariant 15)."""
    cleaned = clean_values(NegotiationNote, values, managed=("dealer_id",))
    with store.write() as session:
        dealer = get_live(session, Dealer, dealer_id)
        cleaned.update({"dealer_id": dealer.id, "territory_id": dealer.territory_id})
        cleaned.setdefault("noted_on", noted_on or store.today())
        return snapshot(insert_row(session, store, NegotiationNote, cleaned))
