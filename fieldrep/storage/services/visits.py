"""Visit plans and contact records (DOMAIN.md §2.7, §2.8, §4.1).

:func:`record_visit` writes a whole visit in one transaction: the contact record
card, its participants, objections, the follow-ups from every new agreement
and new plan (invariant 5) and the plan item it fulfils. Any refused value
rolls the whole visit back.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldrep.i18n import N_
from fieldrep.storage.enums import (
    ContactMethod,
    FollowUpDirection,
    FollowUpSource,
    FollowUpStatus,
    NextStep,
    ObjectionOutcome,
    ObjectionType,
    PlanHorizon,
    PlanItemStatus,
    RecordStatus,
    ResponsePattern,
    VisitType,
)
from fieldrep.storage.errors import FieldProblem, ValidationError
from fieldrep.storage.fields import field_label, problem
from fieldrep.storage.models import (
    AppUser,
    Contact,
    ContactRecord,
    ContactRecordParticipant,
    Dealer,
    FollowUp,
    Objection,
    VisitPlan,
    VisitPlanItem,
)
from fieldrep.storage.services.common import clean_values, lines
from fieldrep.storage.services.core import (
    Record,
    Store,
    get_live,
    insert_row,
    snapshot,
    update_row,
)
from fieldrep.storage.services.followups import FollowUpDraft, insert_follow_up, set_status
from fieldrep.storage.services.playbook import answer_copy_in
from fieldrep.storage.services.rules import REASON_NOT_BEFORE
from fieldrep.storage.types import utcnow

REASON_OTHER_DEALER = N_("belongs to another dealer")
REASON_OTHER_RECORD = N_("belongs to another visit record")
REASON_WRITE_ONCE = N_("is kept as first recorded and cannot be changed")
REASON_RECORD_FINAL = N_("cannot be changed: the visit record is finalised")
REASON_UNKNOWN_OWNER = N_("is not a known colleague")

# What of a saved objection may still change: how it was handled. Its wording
# (type, the dealer's words, who raised it, when, on which record) is write-once
# (fieldrep.sync.protocol.WRITE_ONCE_FIELDS): the server refuses a later edit.
OBJECTION_HANDLING_FIELDS = (
    "real_concern",
    "response_pattern",
    "answer_given",
    "playbook_answer_id",
    "evidence_used",
    "outcome",
)


@dataclass(frozen=True)
class AgreedItem:
    """One new agreement or new plan of a visit, with optional owner and due date."""

    title: str
    due_on: date | None = None
    owner_user_id: str | None = None
    direction: FollowUpDirection | str = FollowUpDirection.WE_OWE
    verify_by: date | None = None
    details: str | None = None

    @classmethod
    def from_lines(cls, text: str | None, **common: Any) -> tuple[AgreedItem, ...]:
        """One item per non-blank line of ``text`` (a form's multi-line field)."""
        return tuple(cls(line, **common) for line in lines(text))


@dataclass(frozen=True)
class ObjectionDraft:
    """An objection raised during the visit (DOMAIN.md §2.9, §4.4).

    ``follow_up_title`` creates a follow-up (source ``objection``) linked to it,
    as §4.4 asks for an objection that is still open.
    """

    type: ObjectionType | str
    verbatim: str
    real_concern: str | None = None
    response_pattern: ResponsePattern | str | None = None
    answer_given: str | None = None
    playbook_answer_id: str | None = None
    evidence_used: Sequence[str] = ()
    outcome: ObjectionOutcome | str = ObjectionOutcome.OPEN
    raised_by_contact_id: str | None = None
    follow_up_title: str | None = None
    follow_up_due_on: date | None = None
    follow_up_owner_user_id: str | None = None


@dataclass(frozen=True)
class VisitDraft:
    """Everything a rep records about one visit or call: the 12 fields and the key summary."""

    dealer_id: str
    contact_at: datetime
    contact_method: ContactMethod | str = ContactMethod.VISIT
    visit_type: VisitType | str = VisitType.RETURN_VISIT
    location: str | None = None
    participants: str | None = None
    participant_contact_ids: Sequence[str] = ()
    content: str | None = None
    successes: str | None = None
    shortcomings: str | None = None
    lessons: str | None = None
    new_agreements: Sequence[AgreedItem] = ()
    new_plans: Sequence[AgreedItem] = ()
    special_notes: str | None = None
    other: str | None = None
    info_gaps: str | None = None
    sources_to_try: str | None = None
    cooperation_intent: str | None = None
    next_step: NextStep | str | None = None
    figures_confirmed: str | None = None
    objections: Sequence[ObjectionDraft] = ()
    plan_item_id: str | None = None
    actual_minutes: int | None = None
    finalise: bool = False
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class VisitResult:
    """What :func:`record_visit` wrote, as detached snapshots."""

    record: Record
    participants: tuple[Record, ...]
    objections: tuple[Record, ...]
    follow_ups: tuple[Record, ...]
    plan_item: Record | None


@dataclass(frozen=True)
class ObjectionChange:
    """How a saved objection was handled since: new answer, technique, outcome...

    ``values`` may hold only :data:`OBJECTION_HANDLING_FIELDS`; ``follow_up``
    adds the objection's follow-up when it has none yet.
    """

    objection_id: str
    values: Mapping[str, Any] = field(default_factory=dict)
    follow_up: AgreedItem | None = None


@dataclass(frozen=True)
class FollowUpChange:
    """A follow-up of the record handed over, moved or progressed.

    ``status`` is logged on the follow-up's timeline; closing an item the
    company owes needs ``result`` and ``result_notified`` (invariant 3).
    """

    follow_up_id: str
    owner_user_id: str | None = None
    due_on: date | None = None
    status: FollowUpStatus | str | None = None
    result: str | None = None
    result_notified: bool = False


@dataclass(frozen=True)
class VisitAmendment:
    """What is added to or changed on a saved visit record, written in one transaction.

    A finalised record's own fields are frozen (``record_values`` must then be
    empty), but objections and follow-ups can still be added and progressed.
    """

    record_values: Mapping[str, Any] = field(default_factory=dict)
    finalise: bool = False
    objection_changes: Sequence[ObjectionChange] = ()
    new_objections: Sequence[ObjectionDraft] = ()
    follow_up_changes: Sequence[FollowUpChange] = ()
    new_follow_ups: Sequence[AgreedItem] = ()


class ItemValidationError(ValidationError):
    """A refused value of one objection or follow-up of a record, saying which one.

    ``item`` is the objection's or follow-up's id, or ``new-objection-<n>`` /
    ``new-follow-up-<n>`` for the n-th (from 0) new one, so a form can show the
    message at that row.
    """

    def __init__(self, problems: list[FieldProblem], entity: str, item: str) -> None:
        super().__init__(problems, entity)
        self.item = item


def due_date_problem(visit_day: date, due_on: date | None) -> FieldProblem | None:
    """A follow-up of a visit cannot be due before the visit took place."""
    if due_on is None or due_on >= visit_day:
        return None
    return problem(
        FollowUp,
        "due_on",
        REASON_NOT_BEFORE,
        other_label=field_label(ContactRecord, "contact_at"),
    )


# ---------------------------------------------------------------- plans


def create_plan(
    store: Store,
    horizon: PlanHorizon | str,
    period_start: date,
    period_end: date,
    title: str,
    *,
    notes: str | None = None,
    rep_user_id: str | None = None,
) -> Record:
    """A daily, weekly or monthly visit plan (销售巡访计划) of a rep."""
    values = clean_values(
        VisitPlan,
        {
            "horizon": horizon,
            "period_start": period_start,
            "period_end": period_end,
            "title": title,
            "notes": notes,
        },
    )
    values["rep_user_id"] = rep_user_id or store.user.user_id
    with store.write() as session:
        return snapshot(insert_row(session, store, VisitPlan, values))


def plan_visit(
    store: Store,
    dealer_id: str,
    planned_date: date,
    *,
    values: Mapping[str, Any] | None = None,
    rep_user_id: str | None = None,
) -> Record:
    """Plan a visit to a dealer on a day (the six fixes: rep, dealer, route, time...).

    Without a ``route_seq`` the visit goes last in the rep's route of that day.
    """
    cleaned = clean_values(
        VisitPlanItem,
        dict(values or {}),
        managed=("dealer_id", "planned_date", "contact_record_id", "rep_user_id"),
    )
    rep = rep_user_id or store.user.user_id
    with store.write() as session:
        dealer = get_live(session, Dealer, dealer_id)
        if cleaned.get("route_seq") is None:
            last = session.scalar(
                select(func.max(VisitPlanItem.route_seq)).where(
                    VisitPlanItem.rep_user_id == rep,
                    VisitPlanItem.planned_date == planned_date,
                    VisitPlanItem.deleted.is_(False),
                )
            )
            cleaned["route_seq"] = (last or 0) + 1
        cleaned.update(
            {
                "dealer_id": dealer.id,
                "planned_date": planned_date,
                "rep_user_id": rep,
                "territory_id": dealer.territory_id,
            }
        )
        return snapshot(insert_row(session, store, VisitPlanItem, cleaned))


def update_plan_item(store: Store, item_id: str, values: Mapping[str, Any]) -> Record:
    """Edit a planned visit (status, deviation reason, time slot, route order...)."""
    cleaned = clean_values(VisitPlanItem, values, managed=("dealer_id",))
    with store.write() as session:
        item = get_live(session, VisitPlanItem, item_id)
        return snapshot(update_row(session, store, item, cleaned))


def set_plan_item_status(
    store: Store,
    item_id: str,
    status: PlanItemStatus | str,
    *,
    deviation_reason: str | None = None,
) -> Record:
    """Done / in progress / not done (needs a reason) / added."""
    values: dict[str, Any] = {"status": status}
    if deviation_reason is not None:
        values["deviation_reason"] = deviation_reason
    return update_plan_item(store, item_id, values)


# ---------------------------------------------------------------- visits


def record_visit(store: Store, draft: VisitDraft) -> VisitResult:
    """Write one visit whole: record card, participants, objections, follow-ups, plan item.

    Every new agreement becomes a follow-up with source ``visit_agreement`` and
    every new plan one with source ``visit_plan`` (owner: the current user, due:
    a week from today, unless given). The plan item, given or found among the
    rep's planned visits to this dealer that day, is marked done.
    """
    record_values = clean_values(
        ContactRecord,
        {
            "contact_method": draft.contact_method,
            "visit_type": draft.visit_type,
            "location": draft.location,
            "participants": draft.participants,
            "content": draft.content,
            "successes": draft.successes,
            "shortcomings": draft.shortcomings,
            "lessons": draft.lessons,
            "special_notes": draft.special_notes,
            "other": draft.other,
            "info_gaps": draft.info_gaps,
            "sources_to_try": draft.sources_to_try,
            "cooperation_intent": draft.cooperation_intent,
            "next_step": draft.next_step,
            "figures_confirmed": draft.figures_confirmed,
            **draft.extra,
        },
        managed=("dealer_id", "status", "finalised_at", "plan_item_id", "rep_user_id"),
    )
    record_values["contact_at"] = draft.contact_at
    record_values["new_agreements"] = _joined(draft.new_agreements)
    record_values["new_plans"] = _joined(draft.new_plans)
    if draft.finalise:
        record_values["status"] = RecordStatus.FINAL
        record_values["finalised_at"] = utcnow()
    else:
        record_values["status"] = RecordStatus.DRAFT

    with store.write() as session:
        dealer = get_live(session, Dealer, draft.dealer_id)
        territory = dealer.territory_id
        plan_item = _plan_item_for(session, store, draft)
        record_values.update(
            {
                "dealer_id": dealer.id,
                "territory_id": territory,
                "rep_user_id": store.user.user_id,
                "plan_item_id": plan_item.id if plan_item else None,
            }
        )
        record = insert_row(session, store, ContactRecord, record_values)

        participants = tuple(
            _add_participant(session, store, record, contact_id)
            for contact_id in dict.fromkeys(draft.participant_contact_ids)
        )
        follow_ups = []
        for items, source in (
            (draft.new_agreements, FollowUpSource.VISIT_AGREEMENT),
            (draft.new_plans, FollowUpSource.VISIT_PLAN),
        ):
            for item in items:
                follow_ups.append(
                    insert_follow_up(
                        session,
                        store,
                        FollowUpDraft(
                            title=item.title,
                            due_on=item.due_on,
                            owner_user_id=item.owner_user_id,
                            direction=item.direction,
                            verify_by=item.verify_by,
                            details=item.details,
                        ),
                        dealer_id=dealer.id,
                        source_type=source,
                        source_id=record.id,
                        territory_id=territory,
                    )
                )
        objections = []
        for objection_draft in draft.objections:
            objection, follow_up = _add_objection(
                session, store, record, dealer, objection_draft, draft.contact_at
            )
            objections.append(objection)
            if follow_up is not None:
                follow_ups.append(follow_up)

        if plan_item is not None:
            item_values: dict[str, Any] = {
                "status": PlanItemStatus.DONE,
                "contact_record_id": record.id,
            }
            if draft.actual_minutes is not None:
                item_values["actual_minutes"] = draft.actual_minutes
            update_row(session, store, plan_item, item_values)

        return VisitResult(
            record=snapshot(record),
            participants=tuple(snapshot(row) for row in participants),
            objections=tuple(snapshot(row) for row in objections),
            follow_ups=tuple(snapshot(row) for row in follow_ups),
            plan_item=snapshot(plan_item) if plan_item else None,
        )


def finalise_record(
    store: Store, record_id: str, values: Mapping[str, Any] | None = None
) -> Record:
    """Finalise a contact record, optionally filling fields at the same time.

    Refused while content, successes, shortcomings or lessons are empty
    (invariant 4) and, for a development visit, without a next step (invariant 6).
    """
    cleaned = clean_values(
        ContactRecord,
        dict(values or {}),
        managed=("dealer_id", "status", "finalised_at", "new_agreements", "new_plans"),
    )
    cleaned["status"] = RecordStatus.FINAL
    cleaned["finalised_at"] = utcnow()
    with store.write() as session:
        record = get_live(session, ContactRecord, record_id)
        return snapshot(update_row(session, store, record, cleaned))


def update_record(store: Store, record_id: str, values: Mapping[str, Any]) -> Record:
    """Edit a contact record's text (agreements become follow-ups only in record_visit)."""
    cleaned = clean_values(
        ContactRecord,
        values,
        managed=("dealer_id", "status", "finalised_at", "new_agreements", "new_plans"),
    )
    with store.write() as session:
        record = get_live(session, ContactRecord, record_id)
        return snapshot(update_row(session, store, record, cleaned))


def amend_visit(store: Store, record_id: str, amendment: VisitAmendment) -> VisitResult:
    """Add objections and follow-ups to a saved record and progress the existing ones.

    Everything is written in one transaction or nothing is. A refused objection
    or follow-up raises :class:`ItemValidationError` naming it. New follow-ups
    (source ``visit_agreement``) and new objections' follow-ups are owned by a
    known colleague and due no earlier than the visit day.
    """
    record_values = clean_values(
        ContactRecord,
        amendment.record_values,
        managed=("dealer_id", "status", "finalised_at", "new_agreements", "new_plans"),
    )
    with store.write() as session:
        record = get_live(session, ContactRecord, record_id)
        dealer = get_live(session, Dealer, record.dealer_id)
        visit_day = record.contact_at.astimezone().date()
        if record.status == RecordStatus.FINAL and (record_values or amendment.finalise):
            names = list(record_values) or ["status"]
            raise ValidationError(
                [problem(ContactRecord, name, REASON_RECORD_FINAL) for name in names],
                "contact_record",
            )
        if amendment.finalise:
            record_values["status"] = RecordStatus.FINAL
            record_values["finalised_at"] = utcnow()
        if record_values:
            update_row(session, store, record, record_values)

        objections: list[Objection] = []
        follow_ups: list[FollowUp] = []
        for change in amendment.objection_changes:
            with _about(change.objection_id):
                objection, follow_up = _change_objection(session, store, record, change, visit_day)
                objections.append(objection)
                if follow_up is not None:
                    follow_ups.append(follow_up)
        for index, draft in enumerate(amendment.new_objections):
            with _about(f"new-objection-{index}"):
                _check_new_follow_up(
                    session, store, visit_day, draft.follow_up_due_on, draft.follow_up_owner_user_id
                )
                objection, follow_up = _add_objection(
                    session, store, record, dealer, draft, record.contact_at
                )
                objections.append(objection)
                if follow_up is not None:
                    follow_ups.append(follow_up)
        sources = {record.id, *_objection_ids(session, record.id)}
        for follow_up_change in amendment.follow_up_changes:
            with _about(follow_up_change.follow_up_id):
                follow_ups.append(
                    _change_follow_up(session, store, sources, follow_up_change, visit_day)
                )
        for index, item in enumerate(amendment.new_follow_ups):
            with _about(f"new-follow-up-{index}"):
                _check_new_follow_up(session, store, visit_day, item.due_on, item.owner_user_id)
                follow_ups.append(
                    insert_follow_up(
                        session,
                        store,
                        _follow_up_draft(item),
                        dealer_id=dealer.id,
                        source_type=FollowUpSource.VISIT_AGREEMENT,
                        source_id=record.id,
                        territory_id=record.territory_id,
                    )
                )
        return VisitResult(
            record=snapshot(record),
            participants=(),
            objections=tuple(snapshot(row) for row in objections),
            follow_ups=tuple(snapshot(row) for row in follow_ups),
            plan_item=None,
        )


@contextmanager
def _about(item: str) -> Iterator[None]:
    """Name the objection or follow-up a refused value belongs to."""
    try:
        yield
    except ItemValidationError:
        raise
    except ValidationError as error:
        raise ItemValidationError(error.problems, error.entity, item) from error


def _follow_up_draft(item: AgreedItem) -> FollowUpDraft:
    return FollowUpDraft(
        title=item.title,
        due_on=item.due_on,
        owner_user_id=item.owner_user_id,
        direction=item.direction,
        verify_by=item.verify_by,
        details=item.details,
    )


def _objection_ids(session: Session, record_id: str) -> list[str]:
    return list(
        session.scalars(
            select(Objection.id).where(
                Objection.contact_record_id == record_id, Objection.deleted.is_(False)
            )
        )
    )


def _check_new_follow_up(
    session: Session, store: Store, visit_day: date, due_on: date | None, owner: str | None
) -> None:
    problems = [found for found in [due_date_problem(visit_day, due_on)] if found]
    if owner and not _known_user(session, store, owner):
        problems.append(problem(FollowUp, "owner_user_id", REASON_UNKNOWN_OWNER))
    if problems:
        raise ValidationError(problems, "follow_up")


def _known_user(session: Session, store: Store, user_id: str) -> bool:
    if user_id == store.user.user_id:
        return True
    row = session.get(AppUser, user_id)
    return row is not None and not row.deleted


def _change_objection(
    session: Session,
    store: Store,
    record: ContactRecord,
    change: ObjectionChange,
    visit_day: date,
) -> tuple[Objection, FollowUp | None]:
    wording = [name for name in change.values if name not in OBJECTION_HANDLING_FIELDS]
    if wording:
        raise ValidationError(
            [problem(Objection, name, REASON_WRITE_ONCE) for name in wording], "objection"
        )
    objection = get_live(session, Objection, change.objection_id)
    if objection.contact_record_id != record.id:
        raise ValidationError(
            [problem(Objection, "contact_record_id", REASON_OTHER_RECORD)], "objection"
        )
    values = clean_values(Objection, change.values)
    if values.get("playbook_answer_id"):
        values["playbook_answer_id"] = answer_copy_in(
            session, store, str(values["playbook_answer_id"]), objection.territory_id
        )
    if values:
        update_row(session, store, objection, values)
    follow_up = None
    if change.follow_up is not None and not objection.follow_up_id:
        item = change.follow_up
        _check_new_follow_up(session, store, visit_day, item.due_on, item.owner_user_id)
        follow_up = insert_follow_up(
            session,
            store,
            _follow_up_draft(item),
            dealer_id=objection.dealer_id,
            source_type=FollowUpSource.OBJECTION,
            source_id=objection.id,
            territory_id=objection.territory_id,
        )
        update_row(session, store, objection, {"follow_up_id": follow_up.id})
    return objection, follow_up


def _change_follow_up(
    session: Session,
    store: Store,
    sources: set[str],
    change: FollowUpChange,
    visit_day: date,
) -> FollowUp:
    row = get_live(session, FollowUp, change.follow_up_id)
    if row.source_id not in sources:
        raise ValidationError([problem(FollowUp, "source_id", REASON_OTHER_RECORD)], "follow_up")
    values: dict[str, Any] = {}
    if change.owner_user_id and change.owner_user_id != row.owner_user_id:
        if not _known_user(session, store, change.owner_user_id):
            raise ValidationError(
                [problem(FollowUp, "owner_user_id", REASON_UNKNOWN_OWNER)], "follow_up"
            )
        values["owner_user_id"] = change.owner_user_id
    if change.due_on is not None and change.due_on != row.due_on:
        found = due_date_problem(visit_day, change.due_on)
        if found is not None:
            raise ValidationError([found], "follow_up")
        values["due_on"] = change.due_on
    if values:
        update_row(session, store, row, clean_values(FollowUp, values))
    status = FollowUpStatus.parse(change.status) if change.status else None
    if status is not None and status != row.status:
        set_status(
            session,
            store,
            row,
            status,
            result=change.result.strip() if change.result and change.result.strip() else None,
            result_notified_at=utcnow() if change.result_notified else None,
        )
    return row


def _joined(items: Sequence[AgreedItem]) -> str | None:
    return "\n".join(item.title.strip() for item in items) or None


def _plan_item_for(session: Session, store: Store, draft: VisitDraft) -> VisitPlanItem | None:
    if draft.plan_item_id:
        item = get_live(session, VisitPlanItem, draft.plan_item_id)
        if item.dealer_id != draft.dealer_id:
            raise ValidationError(
                [problem(ContactRecord, "plan_item_id", REASON_OTHER_DEALER)], "contact_record"
            )
        return item
    # The rep's open plan item for this dealer on the day of the visit, if any.
    day = draft.contact_at.astimezone().date()
    return session.scalars(
        select(VisitPlanItem)
        .where(
            VisitPlanItem.dealer_id == draft.dealer_id,
            VisitPlanItem.rep_user_id == store.user.user_id,
            VisitPlanItem.planned_date == day,
            VisitPlanItem.status.in_([PlanItemStatus.PLANNED, PlanItemStatus.IN_PROGRESS]),
            VisitPlanItem.deleted.is_(False),
        )
        .order_by(VisitPlanItem.route_seq)
        .limit(1)
    ).first()


def _add_participant(
    session: Session, store: Store, record: ContactRecord, contact_id: str
) -> ContactRecordParticipant:
    contact = get_live(session, Contact, contact_id)
    if contact.dealer_id != record.dealer_id:
        raise ValidationError(
            [problem(ContactRecordParticipant, "contact_id", REASON_OTHER_DEALER)],
            "contact_record_participant",
        )
    return insert_row(
        session,
        store,
        ContactRecordParticipant,
        {
            "contact_record_id": record.id,
            "contact_id": contact.id,
            "territory_id": record.territory_id,
        },
    )


def _add_objection(
    session: Session,
    store: Store,
    record: ContactRecord,
    dealer: Dealer,
    draft: ObjectionDraft,
    contact_at: datetime,
) -> tuple[Objection, Any]:
    values = clean_values(
        Objection,
        {
            "type": draft.type,
            "verbatim": draft.verbatim,
            "real_concern": draft.real_concern,
            "response_pattern": draft.response_pattern,
            "answer_given": draft.answer_given,
            "playbook_answer_id": draft.playbook_answer_id,
            "outcome": draft.outcome,
            "raised_by_contact_id": draft.raised_by_contact_id,
        },
    )
    if values.get("playbook_answer_id"):
        # The picked answer may be another territory's: name its copy in the dealer's.
        values["playbook_answer_id"] = answer_copy_in(
            session, store, str(values["playbook_answer_id"]), dealer.territory_id
        )
    values.update(
        {
            "dealer_id": dealer.id,
            "territory_id": dealer.territory_id,
            "contact_record_id": record.id,
            "evidence_used": list(draft.evidence_used) or None,
            "raised_on": contact_at.astimezone().date(),
        }
    )
    objection = insert_row(session, store, Objection, values)
    follow_up = None
    if draft.follow_up_title:
        follow_up = insert_follow_up(
            session,
            store,
            FollowUpDraft(
                title=draft.follow_up_title,
                due_on=draft.follow_up_due_on,
                owner_user_id=draft.follow_up_owner_user_id,
            ),
            dealer_id=dealer.id,
            source_type=FollowUpSource.OBJECTION,
            source_id=objection.id,
            territory_id=dealer.territory_id,
        )
        update_row(session, store, objection, {"follow_up_id": follow_up.id})
    return objection, follow_up
