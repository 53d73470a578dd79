"""What each printout shows, read from the database into frozen dataclasses.

Layout code never touches the ORM: every document is built from the snapshots
made here, inside one read session. Values stay raw (enums, dates, decimals) and
are turned into text in the document's language when it is laid out.
"""

from __future__ import annotations

import calendar
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from types import MappingProxyType
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Engine, or_, select
from sqlalchemy.orm import Session

from fieldrep.i18n import N_
from fieldrep.storage.enums import (
    AbcClass,
    ChannelType,
    ClassScheme,
    ComplaintCategory,
    ComplaintStatus,
    ContactMethod,
    CreditRisk,
    DecisionRole,
    FollowUpDirection,
    FollowUpStatus,
    LabelledEnum,
    LegacyCategory,
    LegacyStatus,
    NextStep,
    ObjectionOutcome,
    ObjectionType,
    PaymentTerms,
    PeriodType,
    PlanItemStatus,
    PromoType,
    RecordStatus,
    ReportSection,
    ResponsePattern,
    Role,
    TrainingTopic,
    VisitType,
)
from fieldrep.storage.errors import NotFound
from fieldrep.storage.models import (
    AfterSalesEvent,
    Agreement,
    AppUser,
    CarriedProduct,
    ClassHistory,
    CompetitorNote,
    Complaint,
    Contact,
    ContactRecord,
    ContactRecordParticipant,
    CreditAssessment,
    CustomerMgmtReport,
    Dealer,
    FollowUp,
    LegacyIssue,
    Objection,
    ObjectionAnswer,
    RelationshipGrade,
    ReportTask,
    RetailPriceChange,
    SalesFigure,
    SyncedBase,
    Territory,
    TrainingSession,
    VisitPlanItem,
)
from fieldrep.storage.services.core import live

ModelT = TypeVar("ModelT", bound=SyncedBase)

OPEN_FOLLOW_UP = (FollowUpStatus.OPEN, FollowUpStatus.IN_PROGRESS, FollowUpStatus.BLOCKED)
OPEN_LEGACY = (LegacyStatus.OPEN, LegacyStatus.IN_PROGRESS)
LAST_VISITS = 3
PAST_OBJECTIONS = 10
WORKED_ANSWERS = 6
SALES_MONTHS = 6
COMPETITOR_NOTES = 5
PRICE_CHANGES = 6


class NothingToPrint(Exception):
    """The request is valid but there is nothing to print (e.g. no visits that day)."""

    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason.format(**params))
        self.reason = reason  # English, marked with N_()
        self.params = params


# --- sessions and small lookups ------------------------------------------------


@contextmanager
def reading(source: Session | Engine) -> Iterator[Session]:
    """Use the caller's session, or open a short one on an engine."""
    if isinstance(source, Session):
        yield source
        return
    with Session(source) as session:
        yield session


def _get(session: Session, model: type[ModelT], row_id: str) -> ModelT:
    row = session.get(model, row_id)
    if row is None or row.deleted:
        raise NotFound(model.__tablename__, row_id)
    return row


def _rows(session: Session, statement: Any) -> list[Any]:
    return list(session.scalars(statement))


def user_names(session: Session, user_ids: Iterable[str | None]) -> dict[str, str]:
    """Display names of users by id (unknown ids map to themselves).

    Names are remembered for the session: a route pack asks for the same few
    people thirty times.
    """
    known: dict[str, str] = session.info.setdefault("fieldrep.reports.user_names", {})
    wanted = {user_id for user_id in user_ids if user_id}
    missing = wanted - known.keys()
    if missing:
        found = {
            user.id: user.display_name
            for user in session.scalars(select(AppUser).where(AppUser.id.in_(missing)))
        }
        known.update((user_id, found.get(user_id, user_id)) for user_id in missing)
    return {user_id: known[user_id] for user_id in wanted}


def _name(names: Mapping[str, str], user_id: str | None) -> str:
    return names.get(user_id, "") if user_id else ""


def _sum(values: Iterable[Decimal | None]) -> Decimal | None:
    present = [value for value in values if value is not None]
    return sum(present, Decimal(0)) if present else None


def _local_start(day: date) -> datetime:
    return datetime.combine(day, time.min).astimezone()


# --- shared snapshots ----------------------------------------------------------


@dataclass(frozen=True)
class Person:
    """A dealer contact as printed on the brief and the dealer card."""

    id: str
    name: str
    title: str | None
    department: str | None
    phone: str | None
    mobile: str | None
    email: str | None
    wechat: str | None
    address: str | None
    birth_date: date | None
    education: str | None
    native_place: str | None
    family: str | None
    personality: str | None
    hobbies: str | None
    decision_role: DecisionRole
    reports_to: str | None
    is_senior: bool
    is_business_contact: bool
    is_settlement_contact: bool
    is_counterpart: bool
    can_block: bool
    cooperation_interest: LabelledEnum | None
    project_role: LabelledEnum | None
    project_line: LabelledEnum | None
    met_at: str | None
    notes: str | None


def _people(session: Session, dealer_id: str) -> list[Person]:
    contacts = _rows(
        session,
        live(Contact)
        .where(Contact.dealer_id == dealer_id)
        .order_by(Contact.is_senior.desc(), Contact.name),
    )
    names = {contact.id: contact.name for contact in contacts}
    return [
        Person(
            id=contact.id,
            name=contact.name,
            title=contact.title,
            department=contact.department,
            phone=contact.phone,
            mobile=contact.mobile,
            email=contact.email,
            wechat=contact.wechat,
            address=contact.address,
            birth_date=contact.birth_date,
            education=contact.education,
            native_place=contact.native_place,
            family=contact.family,
            personality=contact.personality,
            hobbies=contact.hobbies,
            decision_role=contact.decision_role,
            reports_to=names.get(contact.reports_to_id or ""),
            is_senior=contact.is_senior,
            is_business_contact=contact.is_business_contact,
            is_settlement_contact=contact.is_settlement_contact,
            is_counterpart=contact.is_counterpart,
            can_block=contact.can_block,
            cooperation_interest=contact.cooperation_interest,
            project_role=contact.project_role,
            project_line=contact.project_line,
            met_at=contact.met_at,
            notes=contact.notes,
        )
        for contact in contacts
    ]


@dataclass(frozen=True)
class ObjectionLine:
    """One objection: what was said, what lay behind it, the answer and the outcome."""

    raised_on: date
    type: ObjectionType
    verbatim: str
    real_concern: str | None
    answer_given: str | None
    response_pattern: ResponsePattern | None
    outcome: ObjectionOutcome
    raised_by: str | None
    evidence_used: tuple[str, ...]


def _objection_lines(session: Session, objections: Sequence[Objection]) -> list[ObjectionLine]:
    contact_ids = {item.raised_by_contact_id for item in objections if item.raised_by_contact_id}
    playbook_ids = {item.playbook_answer_id for item in objections if item.playbook_answer_id}
    contacts = (
        {c.id: c.name for c in session.scalars(select(Contact).where(Contact.id.in_(contact_ids)))}
        if contact_ids
        else {}
    )
    playbook = (
        {
            a.id: a.answer_text
            for a in session.scalars(
                select(ObjectionAnswer).where(ObjectionAnswer.id.in_(playbook_ids))
            )
        }
        if playbook_ids
        else {}
    )
    return [
        ObjectionLine(
            raised_on=item.raised_on,
            type=item.type,
            verbatim=item.verbatim,
            real_concern=item.real_concern,
            answer_given=item.answer_given or playbook.get(item.playbook_answer_id or ""),
            response_pattern=item.response_pattern,
            outcome=item.outcome,
            raised_by=contacts.get(item.raised_by_contact_id or ""),
            evidence_used=tuple(item.evidence_used or ()),
        )
        for item in objections
    ]


@dataclass(frozen=True)
class FollowUpLine:
    """A commitment: what, who owns it (display name), by when, and where it stands."""

    title: str
    details: str | None
    owner_name: str
    due_on: date
    direction: FollowUpDirection
    status: FollowUpStatus
    dealer_name: str
    result: str | None
    completed_at: datetime | None


def _follow_up_lines(
    session: Session, follow_ups: Sequence[FollowUp], dealer_names: Mapping[str, str] | None = None
) -> list[FollowUpLine]:
    names = user_names(session, (item.owner_user_id for item in follow_ups))
    dealers = dict(dealer_names or {})
    missing = {
        item.dealer_id for item in follow_ups if item.dealer_id and item.dealer_id not in dealers
    }
    if missing:
        dealers.update(
            (row.id, row.name)
            for row in session.scalars(select(Dealer).where(Dealer.id.in_(missing)))
        )
    return [
        FollowUpLine(
            title=item.title,
            details=item.details,
            owner_name=_name(names, item.owner_user_id),
            due_on=item.due_on,
            direction=item.direction,
            status=item.status,
            dealer_name=dealers.get(item.dealer_id or "", ""),
            result=item.result,
            completed_at=item.completed_at,
        )
        for item in follow_ups
    ]


# --- 1. Visit summary ------------------------------------------------------------


@dataclass(frozen=True)
class TrainingLine:
    held_at: datetime
    topic_type: TrainingTopic
    topic: str
    attendees: tuple[str, ...]
    customer_names: tuple[str, ...]
    qa_notes: str | None


@dataclass(frozen=True)
class VisitSummary:
    """The contact record card of one visit (DOMAIN.md §2.8, §5.2)."""

    record_id: str
    dealer_id: str
    dealer_name: str
    dealer_address: str | None
    rep_name: str
    counterpart_name: str
    contact_at: datetime
    contact_method: ContactMethod
    visit_type: VisitType
    status: RecordStatus
    location: str | None
    participants: str | None
    participant_contacts: tuple[str, ...]
    content: str | None
    successes: str | None
    shortcomings: str | None
    lessons: str | None
    new_agreements: str | None
    new_plans: str | None
    special_notes: str | None
    other: str | None
    info_gaps: str | None
    sources_to_try: str | None
    cooperation_intent: str | None
    next_step: NextStep | None
    figures_confirmed: str | None
    objections: tuple[ObjectionLine, ...]
    follow_ups: tuple[FollowUpLine, ...]
    trainings: tuple[TrainingLine, ...]


def gather_visit_summary(session: Session, record_id: str) -> VisitSummary:
    """Everything the printed contact record card of one visit shows."""
    record = _get(session, ContactRecord, record_id)
    dealer = _get(session, Dealer, record.dealer_id)
    participants = _rows(
        session,
        select(Contact)
        .join(ContactRecordParticipant, ContactRecordParticipant.contact_id == Contact.id)
        .where(
            ContactRecordParticipant.contact_record_id == record.id,
            ContactRecordParticipant.deleted.is_(False),
        )
        .order_by(Contact.name),
    )
    counterpart = session.get(Contact, dealer.their_contact_id) if dealer.their_contact_id else None
    if counterpart is None and participants:
        counterpart = next((c for c in participants if c.is_counterpart), participants[0])
    objections = _rows(
        session,
        live(Objection)
        .where(Objection.contact_record_id == record.id)
        .order_by(Objection.raised_on, Objection.created_at),
    )
    source_ids = {record.id, *(item.id for item in objections)}
    linked_ids = {item.follow_up_id for item in objections if item.follow_up_id}
    follow_ups = _rows(
        session,
        live(FollowUp)
        .where(or_(FollowUp.source_id.in_(source_ids), FollowUp.id.in_(linked_ids)))
        .order_by(FollowUp.due_on, FollowUp.created_at),
    )
    trainings = _rows(
        session,
        live(TrainingSession)
        .where(TrainingSession.contact_record_id == record.id)
        .order_by(TrainingSession.held_at),
    )
    names = user_names(session, [record.rep_user_id])
    return VisitSummary(
        record_id=record.id,
        dealer_id=dealer.id,
        dealer_name=dealer.name,
        dealer_address=dealer.address,
        rep_name=_name(names, record.rep_user_id),
        counterpart_name=counterpart.name if counterpart is not None else "",
        contact_at=record.contact_at,
        contact_method=record.contact_method,
        visit_type=record.visit_type,
        status=record.status,
        location=record.location,
        participants=record.participants,
        participant_contacts=tuple(
            f"{c.name}（{c.title}）" if c.title else c.name for c in participants
        ),
        content=record.content,
        successes=record.successes,
        shortcomings=record.shortcomings,
        lessons=record.lessons,
        new_agreements=record.new_agreements,
        new_plans=record.new_plans,
        special_notes=record.special_notes,
        other=record.other,
        info_gaps=record.info_gaps,
        sources_to_try=record.sources_to_try,
        cooperation_intent=record.cooperation_intent,
        next_step=record.next_step,
        figures_confirmed=record.figures_confirmed,
        objections=tuple(_objection_lines(session, objections)),
        follow_ups=tuple(_follow_up_lines(session, follow_ups, {dealer.id: dealer.name})),
        trainings=tuple(
            TrainingLine(
                held_at=item.held_at,
                topic_type=item.topic_type,
                topic=item.topic,
                attendees=tuple(item.attendees or ()),
                customer_names=tuple(item.customer_names_collected or ()),
                qa_notes=item.qa_notes,
            )
            for item in trainings
        ),
    )


# --- 2. Pre-visit brief ----------------------------------------------------------


@dataclass(frozen=True)
class DealerHeader:
    """The profile header of a brief: who the dealer is and how it is classed."""

    id: str
    name: str
    short_name: str | None
    city: str | None
    address: str | None
    phone: str | None
    abc_class: AbcClass
    performance_class: LabelledEnum | None
    credit_grade: str | None
    relationship_grade: str | None
    annual_integrated_class: str | None
    service_tier: LabelledEnum | None
    partner_tier: LabelledEnum | None
    is_key_account: bool
    is_benchmark: bool
    lifecycle_status: LabelledEnum
    channel_type: ChannelType | None
    our_contact_name: str
    main_products: str | None
    key_products: str | None
    industries: str | None


@dataclass(frozen=True)
class PastVisit:
    contact_at: datetime
    contact_method: ContactMethod
    visit_type: VisitType
    rep_name: str
    content: str | None
    new_agreements: str | None
    new_plans: str | None
    shortcomings: str | None
    next_step: NextStep | None


@dataclass(frozen=True)
class LegacyLine:
    category: LegacyCategory
    title: str
    description: str
    status: LegacyStatus
    origin: str | None
    amount: Decimal | None
    raised_on: date


@dataclass(frozen=True)
class ComplaintLine:
    received_at: datetime
    category: ComplaintCategory
    description: str
    status: ComplaintStatus
    handling: str | None
    responsible_dept: str | None
    result: str | None
    escalated: bool


@dataclass(frozen=True)
class SalesLine:
    """Sales of one period, summed over products."""

    period_type: PeriodType
    period_start: date
    volume: Decimal | None
    revenue: Decimal | None
    collected: Decimal | None
    receivable: Decimal | None
    inventory: Decimal | None
    confirmed: bool


@dataclass(frozen=True)
class PriceChangeLine:
    changed_on: date
    product: str
    old_price: Decimal | None
    new_price: Decimal
    notes: str | None


@dataclass(frozen=True)
class CompetitorLine:
    observed_at: datetime
    brand: str
    product: str | None
    price: Decimal | None
    promo_type: PromoType | None
    promo_details: str | None
    strengths: str | None
    weaknesses: str | None
    customer_opinion: str | None
    source: str


@dataclass(frozen=True)
class PlannedVisit:
    """The plan item a brief prepares for (goals and agenda)."""

    id: str
    dealer_id: str
    dealer_name: str
    dealer_address: str | None
    rep_name: str
    planned_date: date
    time_slot: time | None
    route_seq: int
    visit_type: VisitType
    objective: str | None
    agenda: str | None
    planned_minutes: int | None
    appointment_confirmed: bool
    prep_checklist: tuple[str, ...]


@dataclass(frozen=True)
class DealerBrief:
    """A pre-visit brief (DOMAIN.md §5.1)."""

    header: DealerHeader
    people: tuple[Person, ...]
    last_visits: tuple[PastVisit, ...]
    open_follow_ups: tuple[FollowUpLine, ...]
    legacy_issues: tuple[LegacyLine, ...]
    complaints: tuple[ComplaintLine, ...]
    past_objections: tuple[ObjectionLine, ...]
    worked_answers: tuple[ObjectionLine, ...]
    sales: tuple[SalesLine, ...]
    price_changes: tuple[PriceChangeLine, ...]
    competitors: tuple[CompetitorLine, ...]
    plan: PlannedVisit | None

    @property
    def has_senior_contact(self) -> bool:
        return any(person.is_senior for person in self.people)


def _latest_relationship_grade(session: Session, dealer: Dealer) -> str | None:
    latest = session.scalars(
        live(RelationshipGrade)
        .where(RelationshipGrade.dealer_id == dealer.id)
        .order_by(RelationshipGrade.period_start.desc())
        .limit(1)
    ).first()
    return latest.overall_grade if latest is not None else dealer.relationship_grade


def _header(session: Session, dealer: Dealer) -> DealerHeader:
    names = user_names(session, [dealer.our_contact_user_id])
    return DealerHeader(
        id=dealer.id,
        name=dealer.name,
        short_name=dealer.short_name,
        city=" ".join(part for part in (dealer.province, dealer.city, dealer.district) if part)
        or None,
        address=dealer.address,
        phone=dealer.phone,
        abc_class=dealer.abc_class,
        performance_class=dealer.performance_class,
        credit_grade=dealer.credit_grade,
        relationship_grade=_latest_relationship_grade(session, dealer),
        annual_integrated_class=dealer.annual_integrated_class,
        service_tier=dealer.service_tier,
        partner_tier=dealer.partner_tier,
        is_key_account=dealer.is_key_account,
        is_benchmark=dealer.is_benchmark,
        lifecycle_status=dealer.lifecycle_status,
        channel_type=dealer.channel_type,
        our_contact_name=_name(names, dealer.our_contact_user_id),
        main_products=dealer.main_products,
        key_products=dealer.key_products,
        industries=dealer.industries,
    )


def _sales_lines(
    session: Session, dealer_id: str, period_type: PeriodType | None, limit: int
) -> list[SalesLine]:
    statement = live(SalesFigure).where(SalesFigure.dealer_id == dealer_id)
    if period_type is not None:
        statement = statement.where(SalesFigure.period_type == period_type)
    grouped: dict[tuple[PeriodType, date], list[SalesFigure]] = defaultdict(list)
    for figure in session.scalars(statement.order_by(SalesFigure.period_start.desc())):
        grouped[(figure.period_type, figure.period_start)].append(figure)
    keys = sorted(grouped, key=lambda key: key[1], reverse=True)[:limit]
    return [
        SalesLine(
            period_type=key[0],
            period_start=key[1],
            volume=_sum(f.volume for f in grouped[key]),
            revenue=_sum(f.revenue for f in grouped[key]),
            collected=_sum(f.collected for f in grouped[key]),
            receivable=_sum(f.receivable for f in grouped[key]),
            inventory=_sum(f.dealer_inventory for f in grouped[key]),
            confirmed=all(f.dealer_confirmed_at is not None for f in grouped[key]),
        )
        for key in keys
    ]


def _planned_visit(session: Session, item: VisitPlanItem, dealer: Dealer) -> PlannedVisit:
    names = user_names(session, [item.rep_user_id])
    return PlannedVisit(
        id=item.id,
        dealer_id=dealer.id,
        dealer_name=dealer.name,
        dealer_address=dealer.address,
        rep_name=_name(names, item.rep_user_id),
        planned_date=item.planned_date,
        time_slot=item.time_slot,
        route_seq=item.route_seq,
        visit_type=item.visit_type,
        objective=item.objective,
        agenda=item.agenda,
        planned_minutes=item.planned_minutes,
        appointment_confirmed=item.appointment_confirmed,
        prep_checklist=tuple(item.prep_checklist or ()),
    )


def _next_plan_item(session: Session, dealer_id: str, today: date) -> VisitPlanItem | None:
    statement = (
        live(VisitPlanItem)
        .where(
            VisitPlanItem.dealer_id == dealer_id,
            VisitPlanItem.planned_date >= today,
            VisitPlanItem.status.in_((PlanItemStatus.PLANNED, PlanItemStatus.ADDED)),
        )
        .order_by(VisitPlanItem.planned_date, VisitPlanItem.route_seq)
        .limit(1)
    )
    return session.scalars(statement).first()


def gather_brief(
    session: Session,
    dealer_id: str,
    plan_item_id: str | None = None,
    today: date | None = None,
) -> DealerBrief:
    """The pre-visit brief of a dealer, for a given plan item or the next planned visit."""
    dealer = _get(session, Dealer, dealer_id)
    if plan_item_id is not None:
        item: VisitPlanItem | None = _get(session, VisitPlanItem, plan_item_id)
    else:
        item = _next_plan_item(session, dealer.id, today or date.today())
    return _brief(session, dealer, item)


def _brief(session: Session, dealer: Dealer, item: VisitPlanItem | None) -> DealerBrief:
    records = _rows(
        session,
        live(ContactRecord)
        .where(ContactRecord.dealer_id == dealer.id)
        .order_by(ContactRecord.contact_at.desc())
        .limit(LAST_VISITS),
    )
    rep_names = user_names(session, (record.rep_user_id for record in records))
    follow_ups = _rows(
        session,
        live(FollowUp)
        .where(FollowUp.dealer_id == dealer.id, FollowUp.status.in_(OPEN_FOLLOW_UP))
        .order_by(FollowUp.due_on),
    )
    legacy = _rows(
        session,
        live(LegacyIssue)
        .where(LegacyIssue.dealer_id == dealer.id, LegacyIssue.status.in_(OPEN_LEGACY))
        .order_by(LegacyIssue.category, LegacyIssue.raised_on),
    )
    complaints = _rows(
        session,
        live(Complaint)
        .where(Complaint.dealer_id == dealer.id, Complaint.status != ComplaintStatus.CLOSED)
        .order_by(Complaint.received_at.desc()),
    )
    objections = _rows(
        session,
        live(Objection)
        .where(Objection.dealer_id == dealer.id)
        .order_by(Objection.raised_on.desc(), Objection.created_at.desc())
        .limit(PAST_OBJECTIONS),
    )
    worked = _rows(
        session,
        live(Objection)
        .where(Objection.dealer_id == dealer.id, Objection.outcome == ObjectionOutcome.RESOLVED)
        .order_by(Objection.raised_on.desc())
        .limit(WORKED_ANSWERS),
    )
    prices = _rows(
        session,
        live(RetailPriceChange)
        .where(RetailPriceChange.dealer_id == dealer.id)
        .order_by(RetailPriceChange.changed_on.desc())
        .limit(PRICE_CHANGES),
    )
    competitors = _rows(
        session,
        live(CompetitorNote)
        .where(CompetitorNote.dealer_id == dealer.id)
        .order_by(CompetitorNote.observed_at.desc())
        .limit(COMPETITOR_NOTES),
    )
    return DealerBrief(
        header=_header(session, dealer),
        people=tuple(_people(session, dealer.id)),
        last_visits=tuple(
            PastVisit(
                contact_at=record.contact_at,
                contact_method=record.contact_method,
                visit_type=record.visit_type,
                rep_name=_name(rep_names, record.rep_user_id),
                content=record.content,
                new_agreements=record.new_agreements,
                new_plans=record.new_plans,
                shortcomings=record.shortcomings,
                next_step=record.next_step,
            )
            for record in records
        ),
        open_follow_ups=tuple(_follow_up_lines(session, follow_ups, {dealer.id: dealer.name})),
        legacy_issues=tuple(
            LegacyLine(
                category=issue.category,
                title=issue.title,
                description=issue.description,
                status=issue.status,
                origin=issue.origin,
                amount=issue.amount,
                raised_on=issue.raised_on,
            )
            for issue in legacy
        ),
        complaints=tuple(_complaint_lines(complaints)),
        past_objections=tuple(_objection_lines(session, objections)),
        worked_answers=tuple(
            line for line in _objection_lines(session, worked) if line.answer_given
        ),
        sales=tuple(_sales_lines(session, dealer.id, PeriodType.MONTH, SALES_MONTHS)),
        price_changes=tuple(
            PriceChangeLine(p.changed_on, p.product, p.old_price, p.new_price, p.notes)
            for p in prices
        ),
        competitors=tuple(
            CompetitorLine(
                observed_at=note.observed_at,
                brand=note.brand,
                product=note.product,
                price=note.price,
                promo_type=note.promo_type,
                promo_details=note.promo_details,
                strengths=note.strengths,
                weaknesses=note.weaknesses,
                customer_opinion=note.customer_opinion,
                source=note.source,
            )
            for note in competitors
        ),
        plan=_planned_visit(session, item, dealer) if item is not None else None,
    )


def _complaint_lines(complaints: Iterable[Complaint]) -> list[ComplaintLine]:
    return [
        ComplaintLine(
            received_at=item.received_at,
            category=item.category,
            description=item.description,
            status=item.status,
            handling=item.handling,
            responsible_dept=item.responsible_dept,
            result=item.result,
            escalated=item.escalated,
        )
        for item in complaints
    ]


# --- 3. Dealer profile card ------------------------------------------------------


@dataclass(frozen=True)
class AgreementLine:
    title: str
    signed_on: date | None
    valid_from: date | None
    valid_to: date | None
    terms: str | None
    sales_area: str | None
    price_system: str | None
    profit_margin: str | None
    support: str | None
    is_exclusive: bool
    cross_territory_protection: bool
    file_ref: str | None


@dataclass(frozen=True)
class CreditLine:
    reviewed_at: date
    capital: int
    character: int
    capacity: int
    collateral: int
    condition: int
    overall_grade: str
    risk_level: CreditRisk
    payment_terms: PaymentTerms | None
    credit_limit: Decimal | None


@dataclass(frozen=True)
class ProductLine:
    brand: str
    variety: str | None
    spec: str | None
    is_ours: bool


@dataclass(frozen=True)
class AfterSalesLine:
    occurred_on: date
    description: str
    handling: str | None


@dataclass(frozen=True)
class GradeLine:
    period_type: PeriodType
    period_start: date
    familiarity: int
    closeness: int
    sales_support: int
    complaint_level: int
    receivable_level: int
    overall_grade: str


@dataclass(frozen=True)
class ClassChange:
    changed_on: date
    scheme: ClassScheme
    old_value: str | None
    new_value: str
    reason: str
    period_label: str | None
    changed_by: str


@dataclass(frozen=True)
class DealerCard:
    """The customer profile card (客户资料卡): 17 sections, contacts and class history.

    ``columns`` holds every stored column of the dealer (a read-only snapshot);
    names of the people the card refers to are resolved here.
    """

    header: DealerHeader
    columns: Mapping[str, Any]
    their_contact_name: str
    business_contact_name: str
    settlement_contact_name: str
    people: tuple[Person, ...]
    agreements: tuple[AgreementLine, ...]
    credit_reviews: tuple[CreditLine, ...]
    products: tuple[ProductLine, ...]
    price_changes: tuple[PriceChangeLine, ...]
    sales: tuple[SalesLine, ...]
    complaints: tuple[ComplaintLine, ...]
    after_sales: tuple[AfterSalesLine, ...]
    grades: tuple[GradeLine, ...]
    class_history: tuple[ClassChange, ...]


def gather_dealer_card(session: Session, dealer_id: str) -> DealerCard:
    """Everything on the dealer's profile card."""
    dealer = _get(session, Dealer, dealer_id)
    people = _people(session, dealer.id)
    person_names = {person.id: person.name for person in people}

    def of_dealer(model: type[ModelT], order: Any) -> list[ModelT]:
        return _rows(
            session,
            live(model).where(model.dealer_id == dealer.id).order_by(order),  # type: ignore[attr-defined]
        )

    agreements = of_dealer(Agreement, Agreement.signed_on.desc())
    credits = of_dealer(CreditAssessment, CreditAssessment.reviewed_at.desc())
    products = of_dealer(CarriedProduct, CarriedProduct.brand)
    prices = of_dealer(RetailPriceChange, RetailPriceChange.changed_on.desc())
    complaints = of_dealer(Complaint, Complaint.received_at.desc())
    after_sales = of_dealer(AfterSalesEvent, AfterSalesEvent.occurred_on.desc())
    grades = of_dealer(RelationshipGrade, RelationshipGrade.period_start.desc())
    history = of_dealer(ClassHistory, ClassHistory.changed_on.desc())
    changers = user_names(session, (change.changed_by for change in history))
    return DealerCard(
        header=_header(session, dealer),
        columns=MappingProxyType(
            {column.key: getattr(dealer, column.key) for column in Dealer.__table__.columns}
        ),
        their_contact_name=person_names.get(dealer.their_contact_id or "", ""),
        business_contact_name=person_names.get(dealer.business_contact_id or "", ""),
        settlement_contact_name=person_names.get(dealer.settlement_contact_id or "", ""),
        people=tuple(people),
        agreements=tuple(
            AgreementLine(
                title=a.title,
                signed_on=a.signed_on,
                valid_from=a.valid_from,
                valid_to=a.valid_to,
                terms=a.terms,
                sales_area=a.sales_area,
                price_system=a.price_system,
                profit_margin=a.profit_margin,
                support=a.support,
                is_exclusive=a.is_exclusive,
                cross_territory_protection=a.cross_territory_protection,
                file_ref=a.file_ref,
            )
            for a in agreements
        ),
        credit_reviews=tuple(
            CreditLine(
                reviewed_at=c.reviewed_at,
                capital=c.capital,
                character=c.character,
                capacity=c.capacity,
                collateral=c.collateral,
                condition=c.condition,
                overall_grade=c.overall_grade,
                risk_level=c.risk_level,
                payment_terms=c.payment_terms,
                credit_limit=c.credit_limit,
            )
            for c in credits
        ),
        products=tuple(ProductLine(p.brand, p.variety, p.spec, p.is_ours) for p in products),
        price_changes=tuple(
            PriceChangeLine(p.changed_on, p.product, p.old_price, p.new_price, p.notes)
            for p in prices
        ),
        sales=tuple(_sales_lines(session, dealer.id, None, 12)),
        complaints=tuple(_complaint_lines(complaints)),
        after_sales=tuple(
            AfterSalesLine(e.occurred_on, e.description, e.handling) for e in after_sales
        ),
        grades=tuple(
            GradeLine(
                period_type=g.period_type,
                period_start=g.period_start,
                familiarity=g.familiarity,
                closeness=g.closeness,
                sales_support=g.sales_support,
                complaint_level=g.complaint_level,
                receivable_level=g.receivable_level,
                overall_grade=g.overall_grade,
            )
            for g in grades
        ),
        class_history=tuple(
            ClassChange(
                changed_on=h.changed_on,
                scheme=h.scheme,
                old_value=h.old_value,
                new_value=h.new_value,
                reason=h.reason,
                period_label=h.period_label,
                changed_by=_name(changers, h.changed_by),
            )
            for h in history
        ),
    )


# --- 4. Customer management report -----------------------------------------------


class ReportItemKind(LabelledEnum):
    """Where a derived report line comes from."""

    VISIT = "visit", N_("Visit")
    PLAN_ITEM = "plan_item", N_("Planned visit")
    FOLLOW_UP = "follow_up", N_("Follow-up")
    RECORD_PLAN = "record_plan", N_("New plan from a visit")


@dataclass(frozen=True)
class ReportItem:
    """One line of a report section derived from the period's data."""

    section: ReportSection
    kind: ReportItemKind
    rep_name: str
    dealer_name: str
    on: date
    title: str  # the follow-up title; empty for visits and plan items
    visit_type: VisitType | None
    status: LabelledEnum | None
    detail: str | None  # successes, deviation reason, result or the new plan text
    overdue: bool = False


@dataclass(frozen=True)
class WrittenTask:
    """A named task the rep wrote into a stored report (§2.19)."""

    section: ReportSection
    rep_name: str
    name: str
    key_data: str | None
    problems: str | None
    effective_solutions: str | None
    ineffective_solutions: str | None
    thanks: str | None
    help_needed: str | None
    challenges: str | None


@dataclass(frozen=True)
class RepTally:
    """The period in numbers for one rep."""

    rep_name: str
    planned: int
    done: int
    in_progress: int
    not_done: int
    visits_recorded: int
    follow_ups_done: int
    follow_ups_open: int
    follow_ups_overdue: int
    next_period_planned: int


@dataclass(frozen=True)
class MgmtReport:
    """A weekly or monthly customer management report for a rep or a team."""

    period_type: PeriodType
    start: date
    end: date
    scope_name: str  # the rep's name, or the team's (territory names)
    owner_name: str  # the rep, or the manager for a team report
    is_team: bool
    tallies: tuple[RepTally, ...]
    summaries: tuple[tuple[str, str], ...]  # (rep name, summary) of stored reports
    written: tuple[WrittenTask, ...]
    items: tuple[ReportItem, ...]

    def items_in(self, section: ReportSection) -> list[ReportItem]:
        return [item for item in self.items if item.section == section]

    def written_in(self, section: ReportSection) -> list[WrittenTask]:
        return [task for task in self.written if task.section == section]


def period_bounds(period_type: PeriodType, on: date) -> tuple[date, date]:
    """The week (Monday to Sunday) or calendar month that contains ``on``."""
    if period_type == PeriodType.WEEK:
        start = on - timedelta(days=on.weekday())
        return start, start + timedelta(days=6)
    if period_type == PeriodType.MONTH:
        last = calendar.monthrange(on.year, on.month)[1]
        return on.replace(day=1), on.replace(day=last)
    raise ValueError(period_type)


def _next_period(period_type: PeriodType, end: date) -> tuple[date, date]:
    return period_bounds(period_type, end + timedelta(days=1))


@dataclass(frozen=True)
class ReportScope:
    """Whose work a report covers."""

    rep_ids: tuple[str, ...]
    scope_name: str
    owner_name: str
    is_team: bool = False
    names: Mapping[str, str] = field(default_factory=dict)


def find_user(session: Session, key: str) -> AppUser:
    """A user by id or username (NotFound otherwise)."""
    user = session.get(AppUser, key)
    if user is None or user.deleted:
        user = session.scalars(
            live(AppUser).where(AppUser.username == key).order_by(AppUser.created_at)
        ).first()
    if user is None:
        raise NotFound(AppUser.__tablename__, key)
    return user


def rep_scope(session: Session, rep_key: str) -> ReportScope:
    user = find_user(session, rep_key)
    return ReportScope(
        (user.id,), user.display_name, user.display_name, False, {user.id: user.display_name}
    )


def team_scope(
    session: Session, territory_ids: Sequence[str] = (), manager_key: str | None = None
) -> ReportScope:
    """All reps of the given territories, or of the territories a manager runs."""
    manager = find_user(session, manager_key) if manager_key else None
    territories: list[Territory] = []
    for territory_id in territory_ids:
        territories.append(_get(session, Territory, territory_id))
    if manager is not None:
        territories.extend(
            _rows(session, live(Territory).where(Territory.manager_user_id == manager.id))
        )
    territory_ids = sorted({territory.id for territory in territories})
    conditions: list[ColumnElement[bool]] = [AppUser.territory_id.in_(territory_ids)]
    if manager is not None:
        conditions.append(AppUser.manager_user_id == manager.id)
    reps = _rows(
        session,
        live(AppUser)
        .where(or_(*conditions), AppUser.role == Role.REP)
        .order_by(AppUser.display_name),
    )
    scope_name = "、".join(sorted({territory.name for territory in territories}))
    return ReportScope(
        rep_ids=tuple(rep.id for rep in reps),
        scope_name=scope_name or (manager.display_name if manager is not None else ""),
        owner_name=manager.display_name if manager is not None else "",
        is_team=True,
        names={rep.id: rep.display_name for rep in reps},
    )


def gather_mgmt_report(
    session: Session, period_type: PeriodType, on: date, scope: ReportScope
) -> MgmtReport:
    """Completed work, work in progress and new plans of a rep or team in a period."""
    start, end = period_bounds(period_type, on)
    next_start, next_end = _next_period(period_type, end)
    reps = list(scope.rep_ids)
    names = dict(scope.names) or user_names(session, reps)
    since, until = _local_start(start), _local_start(end + timedelta(days=1))

    plan_items = _rows(
        session,
        live(VisitPlanItem)
        .where(
            VisitPlanItem.rep_user_id.in_(reps),
            VisitPlanItem.planned_date >= start,
            VisitPlanItem.planned_date <= next_end,
        )
        .order_by(VisitPlanItem.planned_date, VisitPlanItem.route_seq),
    )
    records = _rows(
        session,
        live(ContactRecord)
        .where(
            ContactRecord.rep_user_id.in_(reps),
            ContactRecord.contact_at >= since,
            ContactRecord.contact_at < until,
        )
        .order_by(ContactRecord.contact_at),
    )
    follow_ups = _rows(
        session,
        live(FollowUp)
        .where(
            FollowUp.owner_user_id.in_(reps),
            or_(
                FollowUp.status.in_(OPEN_FOLLOW_UP),
                (FollowUp.completed_at >= since) & (FollowUp.completed_at < until),
                (FollowUp.created_at >= since) & (FollowUp.created_at < until),
            ),
        )
        .order_by(FollowUp.due_on),
    )
    dealer_ids = {row.dealer_id for row in [*plan_items, *records, *follow_ups] if row.dealer_id}
    dealers = (
        {d.id: d.name for d in session.scalars(select(Dealer).where(Dealer.id.in_(dealer_ids)))}
        if dealer_ids
        else {}
    )

    items: list[ReportItem] = []
    for record in records:
        items.append(
            ReportItem(
                ReportSection.COMPLETED,
                ReportItemKind.VISIT,
                names.get(record.rep_user_id, ""),
                dealers.get(record.dealer_id, ""),
                record.contact_at.astimezone().date(),
                "",
                record.visit_type,
                record.status,
                record.successes,
            )
        )
        if record.new_plans and record.new_plans.strip():
            items.append(
                ReportItem(
                    ReportSection.NEW,
                    ReportItemKind.RECORD_PLAN,
                    names.get(record.rep_user_id, ""),
                    dealers.get(record.dealer_id, ""),
                    record.contact_at.astimezone().date(),
                    "",
                    None,
                    None,
                    record.new_plans,
                )
            )
    in_period = [item for item in plan_items if item.planned_date <= end]
    for item in in_period:
        if item.status in (PlanItemStatus.IN_PROGRESS, PlanItemStatus.NOT_DONE) or (
            item.status == PlanItemStatus.PLANNED and item.contact_record_id is None
        ):
            items.append(
                ReportItem(
                    ReportSection.IN_PROGRESS,
                    ReportItemKind.PLAN_ITEM,
                    names.get(item.rep_user_id, ""),
                    dealers.get(item.dealer_id, ""),
                    item.planned_date,
                    "",
                    item.visit_type,
                    item.status,
                    item.deviation_reason or item.objective,
                )
            )
    upcoming = [item for item in plan_items if item.planned_date >= next_start]
    for item in upcoming:
        items.append(
            ReportItem(
                ReportSection.NEW,
                ReportItemKind.PLAN_ITEM,
                names.get(item.rep_user_id, ""),
                dealers.get(item.dealer_id, ""),
                item.planned_date,
                "",
                item.visit_type,
                item.status,
                item.objective,
            )
        )
    for follow_up in follow_ups:
        done_in_period = (
            follow_up.status == FollowUpStatus.DONE
            and follow_up.completed_at is not None
            and since <= follow_up.completed_at < until
        )
        created_in_period = since <= follow_up.created_at < until
        if done_in_period:
            section = ReportSection.COMPLETED
        elif follow_up.status in OPEN_FOLLOW_UP and created_in_period and follow_up.due_on > end:
            section = ReportSection.NEW
        elif follow_up.status in OPEN_FOLLOW_UP:
            section = ReportSection.IN_PROGRESS
        else:
            continue
        items.append(
            ReportItem(
                section,
                ReportItemKind.FOLLOW_UP,
                names.get(follow_up.owner_user_id, ""),
                dealers.get(follow_up.dealer_id or "", ""),
                follow_up.due_on,
                follow_up.title,
                None,
                follow_up.status,
                follow_up.result if done_in_period else follow_up.details,
                overdue=follow_up.status in OPEN_FOLLOW_UP and follow_up.due_on < end,
            )
        )

    stored = _rows(
        session,
        live(CustomerMgmtReport)
        .where(
            CustomerMgmtReport.rep_user_id.in_(reps),
            CustomerMgmtReport.period_type == period_type,
            CustomerMgmtReport.period_start >= start,
            CustomerMgmtReport.period_start <= end,
        )
        .order_by(CustomerMgmtReport.period_start),
    )
    report_reps = {report.id: names.get(report.rep_user_id, "") for report in stored}
    tasks = (
        _rows(
            session,
            live(ReportTask)
            .where(ReportTask.report_id.in_(report_reps))
            .order_by(ReportTask.section, ReportTask.seq),
        )
        if report_reps
        else []
    )

    tallies = []
    for rep_id in reps:
        mine = [item for item in in_period if item.rep_user_id == rep_id]
        owned = [f for f in follow_ups if f.owner_user_id == rep_id]
        tallies.append(
            RepTally(
                rep_name=names.get(rep_id, ""),
                planned=len(mine),
                done=sum(1 for item in mine if item.status == PlanItemStatus.DONE),
                in_progress=sum(1 for item in mine if item.status == PlanItemStatus.IN_PROGRESS),
                not_done=sum(1 for item in mine if item.status == PlanItemStatus.NOT_DONE),
                visits_recorded=sum(1 for record in records if record.rep_user_id == rep_id),
                follow_ups_done=sum(
                    1
                    for f in owned
                    if f.status == FollowUpStatus.DONE
                    and f.completed_at is not None
                    and since <= f.completed_at < until
                ),
                follow_ups_open=sum(1 for f in owned if f.status in OPEN_FOLLOW_UP),
                follow_ups_overdue=sum(
                    1 for f in owned if f.status in OPEN_FOLLOW_UP and f.due_on < end
                ),
                next_period_planned=sum(1 for item in upcoming if item.rep_user_id == rep_id),
            )
        )
    return MgmtReport(
        period_type=period_type,
        start=start,
        end=end,
        scope_name=scope.scope_name,
        owner_name=scope.owner_name,
        is_team=scope.is_team,
        tallies=tuple(tallies),
        summaries=tuple(
            (report_reps[report.id], report.summary)
            for report in stored
            if report.summary and report.summary.strip()
        ),
        written=tuple(
            WrittenTask(
                section=task.section,
                rep_name=report_reps.get(task.report_id, ""),
                name=task.name,
                key_data=task.key_data,
                problems=task.problems,
                effective_solutions=task.effective_solutions,
                ineffective_solutions=task.ineffective_solutions,
                thanks=task.thanks,
                help_needed=task.help_needed,
                challenges=task.challenges,
            )
            for task in tasks
        ),
        items=tuple(items),
    )


# --- 5. Route pack ---------------------------------------------------------------


@dataclass(frozen=True)
class RoutePack:
    """The day's planned visits in route order, each with its brief."""

    day: date
    rep_names: tuple[str, ...]
    stops: tuple[PlannedVisit, ...]
    briefs: tuple[DealerBrief, ...]


def route_plan_items(session: Session, day: date, rep_id: str | None = None) -> list[str]:
    """Ids of the visits planned for a day, in route order (route_seq, then time)."""
    statement = live(VisitPlanItem).where(VisitPlanItem.planned_date == day)
    if rep_id is not None:
        statement = statement.where(VisitPlanItem.rep_user_id == rep_id)
    statement = statement.order_by(
        VisitPlanItem.rep_user_id,
        VisitPlanItem.route_seq,
        VisitPlanItem.time_slot,
        VisitPlanItem.created_at,
    )
    return [item.id for item in session.scalars(statement)]


def gather_route_pack(session: Session, day: date, plan_item_ids: Sequence[str]) -> RoutePack:
    """Briefs of the given plan items (in the order given) for the day's pack."""
    if not plan_item_ids:
        raise NothingToPrint(N_("No visits are planned on {day}."), day=day.isoformat())
    briefs = []
    for item_id in plan_item_ids:
        item = _get(session, VisitPlanItem, item_id)
        briefs.append(_brief(session, _get(session, Dealer, item.dealer_id), item))
    stops = tuple(brief.plan for brief in briefs if brief.plan is not None)
    rep_names = tuple(dict.fromkeys(stop.rep_name for stop in stops if stop.rep_name))
    return RoutePack(day=day, rep_names=rep_names, stops=stops, briefs=tuple(briefs))
