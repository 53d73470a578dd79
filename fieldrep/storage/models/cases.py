"""Legacy issues, complaints, competitor notes, conflicts, training, projects, reports."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fieldrep.storage.enums import (
    CaseStatus,
    ComplaintCategory,
    ComplaintStatus,
    ConflictAction,
    ConflictType,
    InfoSource,
    LegacyCategory,
    LegacyStatus,
    PeriodType,
    ProcurementMode,
    ProjectStage,
    PromoType,
    ReportSection,
    TrainingTopic,
)
from fieldrep.storage.models.base import SyncedBase, code, ref


class LegacyIssue(SyncedBase):
    """An inherited dealer grievance (历史遗留问题) in one of three categories (§2.11)."""

    __tablename__ = "legacy_issue"

    dealer_id: Mapped[str] = ref("dealer", nullable=False)
    title: Mapped[str]
    description: Mapped[str]
    category: Mapped[LegacyCategory] = code(LegacyCategory, nullable=False)
    evidence: Mapped[list[str] | None]
    origin: Mapped[str | None]
    amount: Mapped[Decimal | None]
    resolution: Mapped[str | None]
    answer_given: Mapped[str | None]  # the apology or clear answer for unresolvable issues
    status: Mapped[LegacyStatus] = code(
        LegacyStatus, nullable=False, default=LegacyStatus.OPEN, index=True
    )
    linked_plan: Mapped[str | None]
    raised_on: Mapped[date]
    closed_at: Mapped[datetime | None]


class Complaint(SyncedBase):
    """A dealer complaint or query and how it was handled (§2.12)."""

    __tablename__ = "complaint"

    dealer_id: Mapped[str] = ref("dealer", nullable=False)
    category: Mapped[ComplaintCategory] = code(ComplaintCategory, nullable=False)
    description: Mapped[str]
    received_at: Mapped[datetime]
    handling: Mapped[str | None]
    responsible_dept: Mapped[str | None]
    result: Mapped[str | None]
    status: Mapped[ComplaintStatus] = code(
        ComplaintStatus, nullable=False, default=ComplaintStatus.RECEIVED, index=True
    )
    escalated: Mapped[bool] = mapped_column(default=False)
    closed_at: Mapped[datetime | None]


class CompetitorNote(SyncedBase):
    """What was seen of a competitor, timestamped and sourced (§2.13)."""

    __tablename__ = "competitor_note"

    dealer_id: Mapped[str | None] = ref("dealer")
    brand: Mapped[str]
    product: Mapped[str | None]
    price: Mapped[Decimal | None]
    promo_type: Mapped[PromoType | None] = code(PromoType)
    promo_details: Mapped[str | None]
    after_sales: Mapped[str | None]
    channel_info: Mapped[str | None]
    market_share: Mapped[Decimal | None]
    strengths: Mapped[str | None]
    weaknesses: Mapped[str | None]
    customer_opinion: Mapped[str | None]
    is_competitor_agent: Mapped[bool] = mapped_column(default=False)
    observed_at: Mapped[datetime]
    source: Mapped[str]


class ChannelConflict(SyncedBase):
    """A channel conflict such as cross-territory selling or price dumping (§2.16)."""

    __tablename__ = "channel_conflict"

    type: Mapped[ConflictType] = code(ConflictType, nullable=False)
    offender_dealer_id: Mapped[str] = ref("dealer", nullable=False)
    region: Mapped[str | None]
    description: Mapped[str]
    evidence: Mapped[list[str] | None]
    action: Mapped[ConflictAction] = code(ConflictAction, nullable=False)
    status: Mapped[CaseStatus] = code(CaseStatus, nullable=False, default=CaseStatus.OPEN)
    reported_on: Mapped[date]
    closed_at: Mapped[datetime | None]


class ChannelConflictDealer(SyncedBase):
    """A dealer affected by a channel conflict (n-n)."""

    __tablename__ = "channel_conflict_dealer"
    __table_args__ = (UniqueConstraint("conflict_id", "dealer_id"),)

    conflict_id: Mapped[str] = ref("channel_conflict", nullable=False)
    dealer_id: Mapped[str] = ref("dealer", nullable=False)


class TrainingSession(SyncedBase):
    """A training of the dealer's staff, its attendees and the customer names collected."""

    __tablename__ = "training_session"

    dealer_id: Mapped[str] = ref("dealer", nullable=False)
    held_at: Mapped[datetime]
    topic_type: Mapped[TrainingTopic] = code(TrainingTopic, nullable=False)
    topic: Mapped[str]
    prepared_material: Mapped[str | None]
    cases_discussed: Mapped[str | None]
    attendees: Mapped[list[str]]
    customer_names_collected: Mapped[list[str]]
    qa_notes: Mapped[str | None]
    exec_debrief_at: Mapped[datetime | None]
    contact_record_id: Mapped[str | None] = ref("contact_record")


class Project(SyncedBase):
    """An opportunity or engineering project worked with an integrator (§2.18)."""

    __tablename__ = "project"

    dealer_id: Mapped[str] = ref("dealer", nullable=False)
    name: Mapped[str]
    end_customer: Mapped[str | None]
    protection: Mapped[str | None]
    is_small_deal_handoff: Mapped[bool] = mapped_column(default=False)
    info_source: Mapped[InfoSource | None] = code(InfoSource)
    procurement_mode: Mapped[ProcurementMode | None] = code(ProcurementMode)
    stage: Mapped[ProjectStage] = code(ProjectStage, nullable=False, default=ProjectStage.RESEARCH)
    estimated_amount: Mapped[Decimal | None]
    expected_close_on: Mapped[date | None]
    status: Mapped[CaseStatus] = code(CaseStatus, nullable=False, default=CaseStatus.OPEN)
    notes: Mapped[str | None]


class CustomerMgmtReport(SyncedBase):
    """A weekly, monthly or yearly customer management report (客户管理报告, §2.19)."""

    __tablename__ = "customer_mgmt_report"

    rep_user_id: Mapped[str] = mapped_column(String(36), index=True)
    period_type: Mapped[PeriodType] = code(PeriodType, nullable=False)
    period_start: Mapped[date]
    period_end: Mapped[date]
    title: Mapped[str]
    summary: Mapped[str | None]
    dealer_confirmed_at: Mapped[datetime | None]
    submitted_at: Mapped[datetime | None]


class ReportTask(SyncedBase):
    """A named task in one of the report's three sections."""

    __tablename__ = "report_task"

    report_id: Mapped[str] = ref("customer_mgmt_report", nullable=False)
    section: Mapped[ReportSection] = code(ReportSection, nullable=False)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    name: Mapped[str]
    key_data: Mapped[str | None]
    problems: Mapped[str | None]
    effective_solutions: Mapped[str | None]
    ineffective_solutions: Mapped[str | None]
    thanks: Mapped[str | None]
    help_needed: Mapped[str | None]
    challenges: Mapped[str | None]
