"""Visit plans, contact record cards, objections and follow-ups (§2.7-§2.10)."""

from __future__ import annotations

from datetime import date, datetime, time

from sqlalchemy import Index, Integer, String, Time, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

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
from fieldrep.storage.models.base import SyncedBase, code, ref


class VisitPlan(SyncedBase):
    """A rep's daily, weekly or monthly visit plan (销售巡访计划)."""

    __tablename__ = "visit_plan"

    rep_user_id: Mapped[str] = mapped_column(String(36), index=True)
    horizon: Mapped[PlanHorizon] = code(PlanHorizon, nullable=False)
    period_start: Mapped[date] = mapped_column(index=True)
    period_end: Mapped[date]
    title: Mapped[str]
    notes: Mapped[str | None]
    review: Mapped[str | None]  # the check and improve step after the period


class VisitPlanItem(SyncedBase):
    """One planned visit with the six fixes: who, where, which dealer, route, cadence, time."""

    __tablename__ = "visit_plan_item"
    # Today's plan: one rep's items of one day in route order.
    __table_args__ = (
        Index("ix_visit_plan_item_rep_day_route", "rep_user_id", "planned_date", "route_seq"),
    )

    plan_id: Mapped[str | None] = ref("visit_plan")
    dealer_id: Mapped[str] = ref("dealer", nullable=False)
    rep_user_id: Mapped[str] = mapped_column(String(36), index=True)
    planned_date: Mapped[date] = mapped_column(index=True)
    time_slot: Mapped[time | None] = mapped_column(Time)
    route_seq: Mapped[int] = mapped_column(Integer, default=0)
    frequency: Mapped[str | None]
    planned_minutes: Mapped[int | None] = mapped_column(Integer)
    actual_minutes: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[PlanItemStatus] = code(
        PlanItemStatus, nullable=False, default=PlanItemStatus.PLANNED
    )
    deviation_reason: Mapped[str | None]
    visit_type: Mapped[VisitType] = code(VisitType, nullable=False, default=VisitType.RETURN_VISIT)
    objective: Mapped[str | None]
    agenda: Mapped[str | None]
    appointment_confirmed: Mapped[bool] = mapped_column(default=False)
    prep_checklist: Mapped[list[str] | None]  # codes of the preparation items ticked
    contact_record_id: Mapped[str | None] = mapped_column(String(36))


class ContactRecord(SyncedBase):
    """The contact record card (客户联系记录卡) of one visit or call, all 12 fields (§2.8)."""

    __tablename__ = "contact_record"

    dealer_id: Mapped[str] = ref("dealer", nullable=False)
    plan_item_id: Mapped[str | None] = ref("visit_plan_item")
    rep_user_id: Mapped[str] = mapped_column(String(36), index=True)
    contact_at: Mapped[datetime] = mapped_column(index=True)
    contact_method: Mapped[ContactMethod] = code(ContactMethod, nullable=False)
    visit_type: Mapped[VisitType] = code(VisitType, nullable=False, default=VisitType.RETURN_VISIT)
    location: Mapped[str | None]
    participants: Mapped[str | None]
    content: Mapped[str | None]
    successes: Mapped[str | None]
    shortcomings: Mapped[str | None]
    lessons: Mapped[str | None]
    new_agreements: Mapped[str | None]
    new_plans: Mapped[str | None]
    special_notes: Mapped[str | None]
    other: Mapped[str | None]
    # 重点总结 (key summary)
    info_gaps: Mapped[str | None]
    sources_to_try: Mapped[str | None]
    cooperation_intent: Mapped[str | None]
    next_step: Mapped[NextStep | None] = code(NextStep)
    figures_confirmed: Mapped[str | None]
    status: Mapped[RecordStatus] = code(RecordStatus, nullable=False, default=RecordStatus.DRAFT)
    finalised_at: Mapped[datetime | None]


class ContactRecordParticipant(SyncedBase):
    """A dealer contact who took part in a contact record (n-n)."""

    __tablename__ = "contact_record_participant"
    __table_args__ = (UniqueConstraint("contact_record_id", "contact_id"),)

    contact_record_id: Mapped[str] = ref("contact_record", nullable=False)
    contact_id: Mapped[str] = ref("contact", nullable=False)


class Objection(SyncedBase):
    """A dealer objection: its type, the words, the real concern, the answer and outcome."""

    __tablename__ = "objection"

    dealer_id: Mapped[str] = ref("dealer", nullable=False)
    contact_record_id: Mapped[str | None] = ref("contact_record")
    raised_by_contact_id: Mapped[str | None] = ref("contact")
    type: Mapped[ObjectionType] = code(ObjectionType, nullable=False, index=True)
    verbatim: Mapped[str]
    real_concern: Mapped[str | None]
    response_pattern: Mapped[ResponsePattern | None] = code(ResponsePattern)
    answer_given: Mapped[str | None]
    playbook_answer_id: Mapped[str | None] = ref("objection_answer")
    evidence_used: Mapped[list[str] | None]
    outcome: Mapped[ObjectionOutcome] = code(
        ObjectionOutcome, nullable=False, default=ObjectionOutcome.OPEN
    )
    follow_up_id: Mapped[str | None] = mapped_column(String(36))
    raised_on: Mapped[date] = mapped_column(index=True)


class ObjectionAnswer(SyncedBase):
    """An answer in the objection playbook; how often it worked is computed from outcomes."""

    __tablename__ = "objection_answer"

    type: Mapped[ObjectionType] = code(ObjectionType, nullable=False, index=True)
    title: Mapped[str]
    answer_text: Mapped[str]
    response_pattern: Mapped[ResponsePattern | None] = code(ResponsePattern)
    evidence: Mapped[str | None]
    source: Mapped[str | None]
    author_user_id: Mapped[str | None] = mapped_column(String(36))


class FollowUp(SyncedBase):
    """A commitment or task with an owner and a due date (§2.10)."""

    __tablename__ = "follow_up"
    # Overdue lists read only open follow-ups (by status), of everyone or of one owner.
    __table_args__ = (
        Index("ix_follow_up_status_due", "status", "deleted", "due_on"),
        Index("ix_follow_up_owner_due", "owner_user_id", "status", "due_on"),
    )

    title: Mapped[str]
    details: Mapped[str | None]
    owner_user_id: Mapped[str] = mapped_column(String(36), index=True)
    due_on: Mapped[date] = mapped_column(index=True)
    dealer_id: Mapped[str | None] = ref("dealer")
    source_type: Mapped[FollowUpSource] = code(
        FollowUpSource, nullable=False, default=FollowUpSource.MANUAL
    )
    source_id: Mapped[str | None] = mapped_column(String(36), index=True)
    direction: Mapped[FollowUpDirection] = code(
        FollowUpDirection, nullable=False, default=FollowUpDirection.WE_OWE
    )
    counterpart_dept: Mapped[str | None]
    status: Mapped[FollowUpStatus] = code(
        FollowUpStatus, nullable=False, default=FollowUpStatus.OPEN, index=True
    )
    result: Mapped[str | None]
    result_notified_at: Mapped[datetime | None]
    verify_by: Mapped[date | None]
    escalated: Mapped[bool] = mapped_column(default=False)
    completed_at: Mapped[datetime | None]
    reminded_at: Mapped[datetime | None]


class FollowUpStep(SyncedBase):
    """A milestone of a follow-up's timeline (时间推动表) and its progress."""

    __tablename__ = "follow_up_step"

    follow_up_id: Mapped[str] = ref("follow_up", nullable=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    description: Mapped[str]
    due_on: Mapped[date]
    done_at: Mapped[datetime | None]
    note: Mapped[str | None]
