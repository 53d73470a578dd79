"""Validation rules: the write-time invariants of DOMAIN.md §6 and value formats.

Rules run inside the write transaction before anything is flushed (see
:func:`fieldrep.storage.services.core.validate`), so a refused change leaves no
trace. Each rule returns :class:`FieldProblem` s labelled from
:mod:`fieldrep.storage.fields`; every problem of a change is reported at once.

Checks of single values (required, formats, ranges, dates) look only at the
columns a change sets (every column of a new row), so a value that arrived by
sync in an older format never blocks an unrelated edit. Invariants about a
state (a final record, a closed issue) are checked whenever the row is in that
state and the change touches the state or the fields the invariant needs.

Choices we made where DOMAIN.md leaves room (documented here once):
- Invariant 2, agreed items need a timeline: a follow-up from a visit agreement
  must have a verify date (its due date is always required) unless it already
  has at least one timeline step. The visit service fills the verify date from
  the VERIFY_PERIOD_DAYS setting when the rep gives none.
- Invariant 3 applies to follow-ups the company owes (``we_owe``): done needs
  both a result and the time the dealer was told of it.
- Invariant 8: an unresolvable issue needs the apology or clear answer before it
  reaches any final status (resolved, rejected or closed).
- A complaint is closed only with its result (the feedback of §4.7).
- Plan items: "not done" needs the reason for the deviation (the check step of
  the plan-execute-check cycle, DOMAIN.md §2.7).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date
from typing import Any

from sqlalchemy import Boolean, Column, Date, select
from sqlalchemy.orm import Session

from fieldrep.i18n import N_
from fieldrep.storage import formats
from fieldrep.storage.enums import (
    ComplaintStatus,
    CreditRisk,
    FollowUpDirection,
    FollowUpSource,
    FollowUpStatus,
    LegacyCategory,
    LegacyStatus,
    PaymentTerms,
    PlanItemStatus,
    RecordStatus,
    VisitType,
)
from fieldrep.storage.errors import FieldProblem
from fieldrep.storage.fields import (
    REASON_NOT_CHOICE,
    SYNC_COLUMNS,
    columns,
    field_label,
    problem,
)
from fieldrep.storage.models import (
    Agreement,
    AppUser,
    Base,
    ChannelConflict,
    CompetitorNote,
    Complaint,
    Contact,
    ContactRecord,
    CreditAssessment,
    CustomerMgmtReport,
    Dealer,
    DealerAssessment,
    FollowUp,
    FollowUpStep,
    LegacyIssue,
    NegotiationNote,
    Objection,
    Project,
    RelationshipGrade,
    RetailPriceChange,
    SalesFigure,
    SalesTarget,
    VisitPlan,
    VisitPlanItem,
)
from fieldrep.storage.services.core import rule
from fieldrep.storage.services.settings_service import get_setting
from fieldrep.storage.settings import CREDIT_SCALE_MAX
from fieldrep.storage.types import EnumCode, UtcDateTime

REASON_REQUIRED = N_("must not be empty")
REASON_SCORE_RANGE = N_("must be a whole number from {low} to {high}")
REASON_NOT_BEFORE = N_("must not be before {other_label}")
REASON_AGREEMENT_TIMELINE = N_(
    "an agreed item needs a timeline: give a verify date or add timeline steps"
)
REASON_NOTIFY_BEFORE_DONE = N_(
    "tell the dealer the result before closing a follow-up the company owes"
)
REASON_RESULT_BEFORE_DONE = N_("record the result before closing the follow-up")
REASON_FINAL_NEEDS_TEXT = N_("must be written before the record is finalised")
REASON_DEVELOPMENT_NEEDS_NEXT_STEP = N_(
    "a development visit needs a next step (pursue training or no value) before it is finalised"
)
REASON_EVIDENCED_NOT_REJECTED = N_(
    "an evidenced legacy issue must be resolved; it cannot be rejected"
)
REASON_UNRESOLVABLE_NEEDS_ANSWER = N_(
    "give the dealer an apology or a clear answer before closing an unresolvable issue"
)
REASON_EXTENDED_TERMS_HIGH_RISK = N_(
    "extended payment terms are not allowed while the latest credit assessment is high risk"
)
REASON_CONCESSION_NEEDS_POLICY = N_("a concession needs the policy it is based on")
REASON_CLOSE_NEEDS_RESULT = N_("record the result before closing the complaint")
REASON_NOT_DONE_NEEDS_REASON = N_("say why the planned visit was not done")
REASON_BIRTH_IN_FUTURE = formats.REASON_IN_FUTURE

RELATIONSHIP_SCALE = (1, 5)

Problems = list[FieldProblem]
ValueCheck = Callable[[Any], str | None]


# ---------------------------------------------------------------- helpers


def is_blank(value: Any) -> bool:
    """None, blank text, or a list without a single non-blank item."""
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    if isinstance(value, list):
        return all(is_blank(item) for item in value)
    return False


def value_of(row: Base, name: str) -> Any:
    """The column's value, or the default it will get at flush when still unset."""
    value = getattr(row, name)
    if value is None:
        default = columns(type(row))[name].default
        if default is not None and default.is_scalar:
            return getattr(default, "arg", None)
    return value


def touched(row: Base, before: Mapping[str, Any], *names: str) -> bool:
    """True for a new row, or when any of ``names`` changed."""
    if not before:
        return True
    return any(before.get(name) != getattr(row, name) for name in names)


def _has_default(column: Column[Any]) -> bool:
    return column.default is not None or column.server_default is not None


# ---------------------------------------------------------------- generic column checks

MONEY_COLUMNS: dict[type[Base], tuple[str, ...]] = {
    Dealer: ("registered_capital", "category_sales_capacity", "credit_limit"),
    CreditAssessment: ("credit_limit",),
    LegacyIssue: ("amount",),
    CompetitorNote: ("price",),
    Project: ("estimated_amount",),
    RetailPriceChange: ("old_price", "new_price"),
    SalesFigure: ("revenue", "collected", "receivable", "retail_price"),
    SalesTarget: ("revenue_target", "collection_target"),
}
NON_NEGATIVE_COLUMNS: dict[type[Base], tuple[str, ...]] = {
    Dealer: ("floor_area", "outlet_count", "employee_count", "team_size"),
    SalesFigure: ("volume", "dealer_inventory", "purchase_qty", "purchase_frequency"),
    SalesTarget: ("volume_target",),
    VisitPlanItem: ("planned_minutes", "actual_minutes", "route_seq"),
    FollowUpStep: ("seq",),
}
PERCENT_COLUMNS: dict[type[Base], tuple[str, ...]] = {
    Dealer: ("local_market_share",),
    SalesFigure: ("market_share",),
    CompetitorNote: ("market_share",),
    SalesTarget: ("warning_line_pct",),
    DealerAssessment: ("fit_score_pct",),
}
FORMAT_COLUMNS: dict[type[Base], dict[str, ValueCheck]] = {
    Dealer: {
        "phone": formats.phone_problem,
        "fax": formats.landline_problem,
        "email": formats.email_problem,
        "credit_code": formats.credit_code_problem,
    },
    Contact: {
        "phone": formats.phone_problem,
        "mobile": formats.mobile_problem,
        "email": formats.email_problem,
    },
    AppUser: {"phone": formats.phone_problem, "email": formats.email_problem},
}
# Date pairs that must be in order: (model, earlier column, later column).
DATE_ORDER: tuple[tuple[type[Base], str, str], ...] = (
    (Agreement, "valid_from", "valid_to"),
    (VisitPlan, "period_start", "period_end"),
    (CustomerMgmtReport, "period_start", "period_end"),
    (FollowUp, "due_on", "verify_by"),
    (Complaint, "received_at", "closed_at"),
)


def _column_checks(model: type[Base]) -> dict[str, list[ValueCheck]]:
    checks: dict[str, list[ValueCheck]] = {}
    for name in MONEY_COLUMNS.get(model, ()):
        checks.setdefault(name, []).append(formats.money_problem)
    for name in NON_NEGATIVE_COLUMNS.get(model, ()):
        checks.setdefault(name, []).append(formats.non_negative_problem)
    for name in PERCENT_COLUMNS.get(model, ()):
        checks.setdefault(name, []).append(formats.percent_problem)
    for name, check in FORMAT_COLUMNS.get(model, {}).items():
        checks.setdefault(name, []).append(check)
    return checks


def column_problems(model: type[Base], row: Base, before: Mapping[str, Any]) -> Problems:
    """Required values, formats, ranges and dates of the columns this change sets."""
    problems: Problems = []
    value_checks = _column_checks(model)
    for name, column in columns(model).items():
        if name in SYNC_COLUMNS or not touched(row, before, name):
            continue
        value = getattr(row, name)
        if is_blank(value):
            if not column.nullable and not _has_default(column):
                problems.append(problem(model, name, REASON_REQUIRED))
            continue
        if isinstance(column.type, Boolean):
            continue
        if isinstance(column.type, EnumCode):
            enum_class = column.type.enum_class
            try:
                enum_class(value)
            except ValueError:
                choices = " / ".join(member.code for member in enum_class)
                problems.append(
                    problem(model, name, REASON_NOT_CHOICE, text=value, choices=choices)
                )
            continue
        if isinstance(column.type, Date | UtcDateTime):
            reason = formats.date_problem(value)
            if reason is not None:
                problems.append(
                    problem(
                        model,
                        name,
                        reason,
                        earliest=formats.EARLIEST_DATE.isoformat(),
                        latest=formats.LATEST_DATE.isoformat(),
                    )
                )
                continue
        for check in value_checks.get(name, []):
            reason = check(value)
            if reason is not None:
                problems.append(problem(model, name, reason, places=2))
                break
    for order_model, earlier, later in DATE_ORDER:
        if order_model is not model or not touched(row, before, earlier, later):
            continue
        first, second = getattr(row, earlier), getattr(row, later)
        if first is not None and second is not None and second < first:
            problems.append(
                problem(model, later, REASON_NOT_BEFORE, other_label=field_label(model, earlier))
            )
    return problems


def _register_column_rules() -> None:
    for mapper in Base.registry.mappers:
        model = mapper.class_
        if getattr(model, "__sync__", False):

            def check(
                session: Session,
                row: Any,
                before: Mapping[str, Any],
                model: type[Base] = model,
            ) -> Problems:
                return column_problems(model, row, before)

            rule(model)(check)


_register_column_rules()


# ---------------------------------------------------------------- invariants of §6


@rule(FollowUp)
def follow_up_rules(session: Session, row: FollowUp, before: Mapping[str, Any]) -> Problems:
    """Invariants 1-3: owner and due date (column checks), timeline, closing we-owe items."""
    problems: Problems = []
    if (
        value_of(row, "source_type") == FollowUpSource.VISIT_AGREEMENT
        and row.verify_by is None
        and touched(row, before, "source_type", "verify_by")
        and not _has_steps(session, row)
    ):
        problems.append(problem(FollowUp, "verify_by", REASON_AGREEMENT_TIMELINE))
    done = value_of(row, "status") == FollowUpStatus.DONE
    if (
        done
        and value_of(row, "direction") == FollowUpDirection.WE_OWE
        and touched(row, before, "status", "direction", "result", "result_notified_at")
    ):
        if is_blank(row.result):
            problems.append(problem(FollowUp, "result", REASON_RESULT_BEFORE_DONE))
        if row.result_notified_at is None:
            problems.append(problem(FollowUp, "result_notified_at", REASON_NOTIFY_BEFORE_DONE))
    return problems


def _has_steps(session: Session, row: FollowUp) -> bool:
    if row.id is None:
        return False
    with session.no_autoflush:
        found = session.scalars(
            select(FollowUpStep.id).where(
                FollowUpStep.follow_up_id == row.id, FollowUpStep.deleted.is_(False)
            )
        ).first()
    return found is not None


FINAL_RECORD_FIELDS = ("content", "successes", "shortcomings", "lessons")


@rule(ContactRecord)
def contact_record_rules(
    session: Session, row: ContactRecord, before: Mapping[str, Any]
) -> Problems:
    """Invariants 4 and 6: what a contact record needs before it is final."""
    problems: Problems = []
    if value_of(row, "status") != RecordStatus.FINAL:
        return problems
    if touched(row, before, "status", *FINAL_RECORD_FIELDS):
        problems.extend(
            problem(ContactRecord, name, REASON_FINAL_NEEDS_TEXT)
            for name in FINAL_RECORD_FIELDS
            if is_blank(getattr(row, name))
        )
    if (
        value_of(row, "visit_type") == VisitType.DEVELOPMENT
        and row.next_step is None
        and touched(row, before, "status", "visit_type", "next_step")
    ):
        problems.append(problem(ContactRecord, "next_step", REASON_DEVELOPMENT_NEEDS_NEXT_STEP))
    return problems


LEGACY_FINAL_STATUSES = (LegacyStatus.RESOLVED, LegacyStatus.REJECTED, LegacyStatus.CLOSED)


@rule(LegacyIssue)
def legacy_issue_rules(session: Session, row: LegacyIssue, before: Mapping[str, Any]) -> Problems:
    """Invariants 7 and 8: evidenced issues are never rejected; unresolvable ones get an answer."""
    problems: Problems = []
    status = value_of(row, "status")
    if not touched(row, before, "status", "category", "answer_given"):
        return problems
    if row.category == LegacyCategory.EVIDENCED and status == LegacyStatus.REJECTED:
        problems.append(problem(LegacyIssue, "status", REASON_EVIDENCED_NOT_REJECTED))
    if (
        row.category == LegacyCategory.UNRESOLVABLE
        and status in LEGACY_FINAL_STATUSES
        and is_blank(row.answer_given)
    ):
        problems.append(problem(LegacyIssue, "answer_given", REASON_UNRESOLVABLE_NEEDS_ANSWER))
    return problems


@rule(Dealer)
def dealer_payment_terms_rule(session: Session, row: Dealer, before: Mapping[str, Any]) -> Problems:
    """Invariant 14: no extended payment terms while the latest 5C review is high risk."""
    if row.payment_terms != PaymentTerms.EXTENDED or not touched(row, before, "payment_terms"):
        return []
    if row.id is None or latest_credit_risk(session, row.id) != CreditRisk.HIGH:
        return []
    return [problem(Dealer, "payment_terms", REASON_EXTENDED_TERMS_HIGH_RISK)]


def latest_credit_risk(session: Session, dealer_id: str) -> CreditRisk | None:
    """The risk level of the dealer's most recent live credit assessment."""
    with session.no_autoflush:
        risk = session.scalars(
            select(CreditAssessment.risk_level)
            .where(CreditAssessment.dealer_id == dealer_id, CreditAssessment.deleted.is_(False))
            .order_by(CreditAssessment.reviewed_at.desc(), CreditAssessment.created_at.desc())
            .limit(1)
        ).first()
    return CreditRisk(risk) if risk is not None else None


FIVE_C = ("capital", "character", "capacity", "collateral", "condition")


@rule(CreditAssessment)
def credit_assessment_rules(
    session: Session, row: CreditAssessment, before: Mapping[str, Any]
) -> Problems:
    """5C scores within 1..CREDIT_SCALE_MAX; invariant 14 within the assessment itself."""
    problems: Problems = []
    high = get_setting(session, row.territory_id, CREDIT_SCALE_MAX)
    problems.extend(_score_problems(CreditAssessment, row, before, FIVE_C, 1, high))
    if (
        row.payment_terms == PaymentTerms.EXTENDED
        and row.risk_level == CreditRisk.HIGH
        and touched(row, before, "payment_terms", "risk_level")
    ):
        problems.append(problem(CreditAssessment, "payment_terms", REASON_EXTENDED_TERMS_HIGH_RISK))
    return problems


RELATIONSHIP_DIMENSIONS = (
    "familiarity",
    "closeness",
    "sales_support",
    "complaint_level",
    "receivable_level",
)


@rule(RelationshipGrade)
def relationship_grade_rules(
    session: Session, row: RelationshipGrade, before: Mapping[str, Any]
) -> Problems:
    """The five 客情 dimensions are scored 1..5."""
    low, high = RELATIONSHIP_SCALE
    return _score_problems(RelationshipGrade, row, before, RELATIONSHIP_DIMENSIONS, low, high)


def _score_problems(
    model: type[Base],
    row: Base,
    before: Mapping[str, Any],
    names: tuple[str, ...],
    low: int,
    high: int,
) -> Problems:
    problems: Problems = []
    for name in names:
        value = getattr(row, name)
        if value is None or not touched(row, before, name):
            continue  # a missing score is reported by the column checks
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            problems.append(problem(model, name, REASON_SCORE_RANGE, low=low, high=high))
    return problems


@rule(NegotiationNote)
def negotiation_note_rules(
    session: Session, row: NegotiationNote, before: Mapping[str, Any]
) -> Problems:
    """Invariant 15: a concession names the policy it is based on."""
    if is_blank(row.concession) or not is_blank(row.policy_reference):
        return []
    if not touched(row, before, "concession", "policy_reference"):
        return []
    return [problem(NegotiationNote, "policy_reference", REASON_CONCESSION_NEEDS_POLICY)]


@rule(Complaint)
def complaint_rules(session: Session, row: Complaint, before: Mapping[str, Any]) -> Problems:
    """A complaint is closed with the result the dealer was given (§4.7 feedback)."""
    if (
        value_of(row, "status") == ComplaintStatus.CLOSED
        and is_blank(row.result)
        and touched(row, before, "status", "result")
    ):
        return [problem(Complaint, "result", REASON_CLOSE_NEEDS_RESULT)]
    return []


@rule(VisitPlanItem)
def plan_item_rules(session: Session, row: VisitPlanItem, before: Mapping[str, Any]) -> Problems:
    """The check step: a planned visit that was not done says why."""
    if (
        value_of(row, "status") == PlanItemStatus.NOT_DONE
        and is_blank(row.deviation_reason)
        and touched(row, before, "status", "deviation_reason")
    ):
        return [problem(VisitPlanItem, "deviation_reason", REASON_NOT_DONE_NEEDS_REASON)]
    return []


@rule(Contact)
def contact_rules(session: Session, row: Contact, before: Mapping[str, Any]) -> Problems:
    """A birth date is in the past."""
    if (
        row.birth_date is not None
        and touched(row, before, "birth_date")
        and row.birth_date > date.today()
    ):
        return [problem(Contact, "birth_date", REASON_BIRTH_IN_FUTURE)]
    return []


# Invariants 9 (objection type), 16 (conflict offender and action), 17 (named report
# tasks), 18 (competitor notes timestamped and sourced) and 19 (training attendees
# and customer names) are required columns, enforced by the column checks above;
# these names make the registry easy to find from DOMAIN.md.
REQUIRED_BY_INVARIANT: dict[int, tuple[type[Base], tuple[str, ...]]] = {
    1: (FollowUp, ("owner_user_id", "due_on")),
    9: (Objection, ("type",)),
    16: (ChannelConflict, ("offender_dealer_id", "action")),
    18: (CompetitorNote, ("observed_at", "source")),
}

__all__ = [
    "FINAL_RECORD_FIELDS",
    "FIVE_C",
    "REQUIRED_BY_INVARIANT",
    "column_problems",
    "is_blank",
    "latest_credit_risk",
    "touched",
    "value_of",
]
