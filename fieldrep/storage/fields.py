"""One English label per column of every model, and turning typed text into values.

Error messages, CLI ``FIELD=VALUE`` arguments, forms and PDFs all name a field
with the label declared here (marked with ``N_`` and translated where shown), so
a field reads the same everywhere. :func:`parse_field_value` turns what a user
typed into the column's Python type, refusing bad text with a
:class:`~fieldrep.storage.errors.ValidationError` that names the field.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import Enum
from typing import Any

from sqlalchemy import Boolean, Column, Date, Integer, Time
from sqlalchemy.sql.type_api import TypeEngine

from fieldrep.i18n import N_
from fieldrep.storage.enums import LabelledEnum
from fieldrep.storage.errors import FieldProblem, ValidationError
from fieldrep.storage.models import Base
from fieldrep.storage.types import DecimalText, EnumCode, JsonList, UtcDateTime

# Columns every synced table carries; FieldRep manages them, users never type them.
SYNC_COLUMNS = frozenset(
    {
        "id",
        "territory_id",
        "row_version",
        "deleted",
        "deleted_at",
        "created_at",
        "updated_at",
        "updated_by",
    }
)

# Labels shared by every model that has the column (the sync columns and the
# references whose meaning never changes). Model entries below take precedence.
COMMON_LABELS: dict[str, str] = {
    "id": N_("ID"),
    "territory_id": N_("Territory"),
    "row_version": N_("Row version"),
    "deleted": N_("Deleted"),
    "deleted_at": N_("Deleted at"),
    "created_at": N_("Created at"),
    "updated_at": N_("Last updated"),
    "updated_by": N_("Updated by"),
    "dealer_id": N_("Dealer"),
    "notes": N_("Notes"),
    "contact_record_id": N_("Contact record"),
    "rep_user_id": N_("Sales rep"),
}

MODEL_LABELS: dict[str, dict[str, str]] = {
    "Dealer": {
        "name": N_("Dealer name"),
        "short_name": N_("Short name"),
        "province": N_("Province"),
        "city": N_("City"),
        "district": N_("District"),
        "address": N_("Address"),
        "phone": N_("Phone"),
        "fax": N_("Fax"),
        "email": N_("E-mail"),
        "website": N_("Website"),
        "credit_code": N_("Unified social credit code"),
        "legal_rep": N_("Legal representative"),
        "key_personnel": N_("Key personnel"),
        "outlet_count": N_("Number of outlets"),
        "outlets": N_("Outlets"),
        "business_scale": N_("Business scale"),
        "employee_count": N_("Number of employees"),
        "registered_capital": N_("Registered capital"),
        "category_sales_capacity": N_("Category sales capacity (yuan per year)"),
        "business_rules": N_("Business rules"),
        "relationship_start_date": N_("Relationship start date"),
        "our_contact_user_id": N_("Our counterpart"),
        "their_contact_id": N_("Their counterpart"),
        "initial_class": N_("Initial class"),
        "main_products": N_("Main products"),
        "reputation": N_("Reputation"),
        "location_desc": N_("Location"),
        "floor_area": N_("Floor area (m²)"),
        "attitude": N_("Attitude"),
        "volume_desc": N_("Sales volume"),
        "stock_desc": N_("Stock"),
        "abc_class": N_("Visit class"),
        "performance_class": N_("Performance class (532)"),
        "credit_grade": N_("Credit grade"),
        "relationship_grade": N_("Relationship grade"),
        "annual_integrated_class": N_("Annual integrated class"),
        "service_tier": N_("Service tier"),
        "partner_tier": N_("Partner tier"),
        "is_key_account": N_("Key account"),
        "is_benchmark": N_("Benchmark dealer"),
        "lifecycle_status": N_("Development stage"),
        "status": N_("Dealer status"),
        "settlement_time": N_("Settlement time"),
        "settlement_method": N_("Settlement method"),
        "invoice_usage": N_("Invoice usage"),
        "settlement_procedure": N_("Settlement procedure"),
        "business_contact_id": N_("Business contact"),
        "settlement_contact_id": N_("Settlement contact"),
        "payment_terms": N_("Payment terms"),
        "credit_limit": N_("Credit limit"),
        "delivery_requirements": N_("Delivery requirements"),
        "after_sales_terms": N_("After-sales terms"),
        "nature": N_("Nature of business"),
        "history": N_("Development history"),
        "staff_quality": N_("Staff quality"),
        "warehouse_capacity": N_("Warehouse capacity"),
        "delivery_capacity": N_("Delivery capacity"),
        "philosophy": N_("Business philosophy"),
        "local_market_share": N_("Local market share (%)"),
        "profit_level": N_("Profit level"),
        "financial_status": N_("Financial status"),
        "management_level": N_("Management level"),
        "upstream_relations": N_("Upstream relations"),
        "core_area": N_("Core area"),
        "radiation_area": N_("Radiation area"),
        "reach_mode": N_("How the area is reached"),
        "customer_structure": N_("Customer structure"),
        "promo_services": N_("Promotion services"),
        "business_mode": N_("Business mode"),
        "product_dev_type": N_("Product development or agency type"),
        "industries": N_("Industries served"),
        "success_case_industries": N_("Industries of success cases"),
        "org_structure": N_("Organisation structure"),
        "decision_process": N_("Decision process"),
        "resource_focus": N_("Where resources go"),
        "key_products": N_("Key products"),
        "support_needs": N_("Support needs"),
        "cooperation_history": N_("Cooperation history"),
        "expectations": N_("Expectations of us"),
        "channel_type": N_("Channel type"),
        "channel_segment": N_("Channel segment"),
        "sales_form": N_("Sales form"),
        "partnership_system": N_("Partnership system"),
        "tier": N_("Dealer tier"),
        "has_business_license": N_("Business licence provided"),
        "qualification_certs": N_("Qualification certificates"),
        "past_cases": N_("Past cooperation cases"),
        "after_sales_capability": N_("After-sales capability"),
        "coverage": N_("Coverage"),
        "customer_resources": N_("Customer resources"),
        "team_size": N_("Team size"),
        "financial_proof": N_("Financial proof"),
        "notes": N_("Notes"),
        "profile_reviewed_at": N_("Profile reviewed at"),
    },
    "DealerAssessment": {
        "assessed_at": N_("Assessment date"),
        "credit_standard": N_("Credit standard"),
        "scale_standard": N_("Scale and strength standard"),
        "network_standard": N_("Network and management standard"),
        "philosophy_standard": N_("Philosophy standard"),
        "scope_conflict": N_("Agency scope conflicts with ours"),
        "enthusiasm": N_("Enthusiasm"),
        "operating_ability": N_("Operating ability"),
        "reputation": N_("Reputation"),
        "social_relations": N_("Social relations"),
        "fit_score_pct": N_("Fit score (%)"),
        "conclusion": N_("Conclusion"),
    },
    "Contact": {
        "name": N_("Contact name"),
        "title": N_("Job title"),
        "department": N_("Department"),
        "phone": N_("Phone"),
        "mobile": N_("Mobile"),
        "email": N_("E-mail"),
        "wechat": N_("WeChat"),
        "address": N_("Address"),
        "birth_date": N_("Date of birth"),
        "education": N_("Education"),
        "native_place": N_("Native place"),
        "family": N_("Family"),
        "personality": N_("Personality"),
        "hobbies": N_("Hobbies"),
        "decision_role": N_("Decision role"),
        "reports_to_id": N_("Reports to"),
        "is_senior": N_("Senior management"),
        "is_business_contact": N_("Business contact"),
        "is_settlement_contact": N_("Settlement contact"),
        "is_counterpart": N_("Counterpart"),
        "is_sales_staff": N_("Sales staff"),
        "is_shop_assistant": N_("Shop assistant"),
        "cooperation_interest": N_("Cooperation interest"),
        "met_at": N_("Where we met"),
        "project_role": N_("Project role"),
        "project_line": N_("Project line"),
        "can_block": N_("Can block decisions"),
    },
    "ClassHistory": {
        "scheme": N_("Classification scheme"),
        "old_value": N_("Previous value"),
        "new_value": N_("New value"),
        "reason": N_("Reason for the change"),
        "changed_on": N_("Changed on"),
        "changed_by": N_("Changed by"),
        "period_label": N_("Period"),
    },
    "RelationshipGrade": {
        "period_type": N_("Period type"),
        "period_start": N_("Period start"),
        "familiarity": N_("Familiarity"),
        "closeness": N_("Closeness"),
        "sales_support": N_("Sales support"),
        "complaint_level": N_("Complaint frequency"),
        "receivable_level": N_("Receivables"),
        "overall_grade": N_("Overall grade"),
    },
    "CreditAssessment": {
        "reviewed_at": N_("Review date"),
        "capital": N_("Capital"),
        "character": N_("Character"),
        "capacity": N_("Capacity"),
        "collateral": N_("Collateral"),
        "condition": N_("Condition"),
        "overall_grade": N_("Overall grade"),
        "risk_level": N_("Risk level"),
        "payment_terms": N_("Payment terms"),
        "credit_limit": N_("Credit limit"),
        "fulfilment_record": N_("Fulfilment record"),
        "third_party_source": N_("Third-party credit source"),
    },
    "CarriedProduct": {
        "brand": N_("Brand"),
        "variety": N_("Variety"),
        "spec": N_("Specification"),
        "is_ours": N_("Our product"),
    },
    "RetailPriceChange": {
        "product": N_("Product"),
        "old_price": N_("Previous price"),
        "new_price": N_("New price"),
        "changed_on": N_("Changed on"),
    },
    "AfterSalesEvent": {
        "occurred_on": N_("Date"),
        "description": N_("Description"),
        "handling": N_("Handling"),
    },
    "SalesFigure": {
        "period_type": N_("Period type"),
        "period_start": N_("Period start"),
        "product": N_("Product"),
        "volume": N_("Sales volume"),
        "revenue": N_("Revenue"),
        "collected": N_("Amount collected"),
        "receivable": N_("Receivable"),
        "dealer_inventory": N_("Dealer inventory"),
        "retail_price": N_("Retail price"),
        "purchase_qty": N_("Purchase quantity"),
        "purchase_frequency": N_("Purchase frequency"),
        "market_share": N_("Market share (%)"),
        "dealer_confirmed_at": N_("Confirmed by the dealer at"),
    },
    "SalesTarget": {
        "channel": N_("Channel"),
        "period_type": N_("Period type"),
        "period_start": N_("Period start"),
        "revenue_target": N_("Revenue target"),
        "volume_target": N_("Volume target"),
        "collection_target": N_("Collection target"),
        "warning_line_pct": N_("Warning line (%)"),
    },
    "Agreement": {
        "title": N_("Agreement title"),
        "signed_on": N_("Signed on"),
        "valid_from": N_("Valid from"),
        "valid_to": N_("Valid to"),
        "file_ref": N_("File"),
        "terms": N_("Terms"),
        "sales_area": N_("Sales area"),
        "price_system": N_("Price system"),
        "after_sales_split": N_("After-sales responsibilities"),
        "profit_margin": N_("Profit margin"),
        "investment": N_("Dealer investment"),
        "rights": N_("Rights"),
        "risk": N_("Risk"),
        "support": N_("Support"),
        "is_exclusive": N_("Exclusive distribution"),
        "cross_territory_protection": N_("Cross-territory protection"),
        "policy_reference": N_("Policy reference"),
    },
    "NegotiationNote": {
        "agreement_id": N_("Agreement"),
        "point": N_("Negotiation point"),
        "our_position": N_("Our position"),
        "their_position": N_("Their position"),
        "bottom_line": N_("Bottom line"),
        "interests": N_("Interests behind the position"),
        "concession": N_("Concession"),
        "policy_reference": N_("Policy reference"),
        "noted_on": N_("Noted on"),
    },
    "Territory": {
        "name": N_("Territory name"),
        "region": N_("Region"),
        "manager_user_id": N_("Area manager"),
    },
    "AppUser": {
        "username": N_("User name"),
        "display_name": N_("Display name"),
        "role": N_("Role"),
        "phone": N_("Phone"),
        "email": N_("E-mail"),
        "manager_user_id": N_("Manager"),
    },
    "TerritorySetting": {
        "key": N_("Setting"),
        "value": N_("Value"),
    },
    "VisitPlan": {
        "horizon": N_("Plan horizon"),
        "period_start": N_("Period start"),
        "period_end": N_("Period end"),
        "title": N_("Plan title"),
        "review": N_("Review"),
    },
    "VisitPlanItem": {
        "plan_id": N_("Visit plan"),
        "planned_date": N_("Planned date"),
        "time_slot": N_("Time slot"),
        "route_seq": N_("Route order"),
        "frequency": N_("Frequency"),
        "planned_minutes": N_("Planned minutes"),
        "actual_minutes": N_("Actual minutes"),
        "status": N_("Plan status"),
        "deviation_reason": N_("Reason for the deviation"),
        "visit_type": N_("Visit type"),
        "objective": N_("Objective"),
        "agenda": N_("Agenda"),
        "appointment_confirmed": N_("Appointment confirmed"),
        "prep_checklist": N_("Preparation checklist"),
    },
    "ContactRecord": {
        "plan_item_id": N_("Planned visit"),
        "contact_at": N_("Contact time"),
        "contact_method": N_("Contact method"),
        "visit_type": N_("Visit type"),
        "location": N_("Meeting place"),
        "participants": N_("Participants"),
        "content": N_("Conversation and activities"),
        "successes": N_("Successes"),
        "shortcomings": N_("Shortcomings"),
        "lessons": N_("Lessons learned"),
        "new_agreements": N_("New agreements"),
        "new_plans": N_("New plans"),
        "special_notes": N_("Special notes"),
        "other": N_("Other"),
        "info_gaps": N_("Information gaps"),
        "sources_to_try": N_("Sources to try"),
        "cooperation_intent": N_("Cooperation intent"),
        "next_step": N_("Next step"),
        "figures_confirmed": N_("Figures confirmed"),
        "status": N_("Record status"),
        "finalised_at": N_("Finalised at"),
    },
    "ContactRecordParticipant": {
        "contact_id": N_("Contact"),
    },
    "Objection": {
        "raised_by_contact_id": N_("Raised by"),
        "type": N_("Objection type"),
        "verbatim": N_("Dealer's words"),
        "real_concern": N_("Real concern"),
        "response_pattern": N_("Response pattern"),
        "answer_given": N_("Answer given"),
        "playbook_answer_id": N_("Playbook answer"),
        "evidence_used": N_("Evidence used"),
        "outcome": N_("Outcome"),
        "follow_up_id": N_("Follow-up"),
        "raised_on": N_("Raised on"),
    },
    "ObjectionAnswer": {
        "type": N_("Objection type"),
        "title": N_("Answer title"),
        "answer_text": N_("Answer"),
        "response_pattern": N_("Response pattern"),
        "evidence": N_("Evidence"),
        "source": N_("Source"),
        "author_user_id": N_("Author"),
    },
    "FollowUp": {
        "title": N_("Follow-up title"),
        "details": N_("Details"),
        "owner_user_id": N_("Owner"),
        "due_on": N_("Due date"),
        "source_type": N_("Source"),
        "source_id": N_("Source record"),
        "direction": N_("Who owes whom"),
        "counterpart_dept": N_("Internal department"),
        "status": N_("Follow-up status"),
        "result": N_("Result"),
        "result_notified_at": N_("Dealer notified of the result at"),
        "verify_by": N_("Verify by"),
        "escalated": N_("Escalated"),
        "completed_at": N_("Completed at"),
        "reminded_at": N_("Reminded at"),
    },
    "FollowUpStep": {
        "follow_up_id": N_("Follow-up"),
        "seq": N_("Step order"),
        "description": N_("Step"),
        "due_on": N_("Step due date"),
        "done_at": N_("Done at"),
        "note": N_("Note"),
    },
    "LegacyIssue": {
        "title": N_("Issue title"),
        "description": N_("Description"),
        "category": N_("Legacy issue category"),
        "evidence": N_("Evidence"),
        "origin": N_("Origin"),
        "amount": N_("Amount involved"),
        "resolution": N_("Resolution"),
        "answer_given": N_("Apology or clear answer"),
        "status": N_("Issue status"),
        "linked_plan": N_("Linked market plan"),
        "raised_on": N_("Raised on"),
        "closed_at": N_("Closed at"),
    },
    "Complaint": {
        "category": N_("Complaint category"),
        "description": N_("Description"),
        "received_at": N_("Received at"),
        "handling": N_("Handling plan"),
        "responsible_dept": N_("Responsible department"),
        "result": N_("Result"),
        "status": N_("Complaint status"),
        "escalated": N_("Escalated"),
        "closed_at": N_("Closed at"),
    },
    "CompetitorNote": {
        "brand": N_("Competitor brand"),
        "product": N_("Product"),
        "price": N_("Price"),
        "promo_type": N_("Promotion type"),
        "promo_details": N_("Promotion details"),
        "after_sales": N_("After-sales service"),
        "channel_info": N_("Channel information"),
        "market_share": N_("Market share (%)"),
        "strengths": N_("Strengths"),
        "weaknesses": N_("Weaknesses"),
        "customer_opinion": N_("Customer opinion"),
        "is_competitor_agent": N_("Competitor's agent"),
        "observed_at": N_("Observed at"),
        "source": N_("Information source"),
    },
    "ChannelConflict": {
        "type": N_("Conflict type"),
        "offender_dealer_id": N_("Offending dealer"),
        "region": N_("Region"),
        "description": N_("Description"),
        "evidence": N_("Evidence"),
        "action": N_("Action taken"),
        "status": N_("Case status"),
        "reported_on": N_("Reported on"),
        "closed_at": N_("Closed at"),
    },
    "ChannelConflictDealer": {
        "conflict_id": N_("Channel conflict"),
        "dealer_id": N_("Affected dealer"),
    },
    "TrainingSession": {
        "held_at": N_("Held at"),
        "topic_type": N_("Training type"),
        "topic": N_("Topic"),
        "prepared_material": N_("Prepared material"),
        "cases_discussed": N_("Cases discussed"),
        "attendees": N_("Attendees"),
        "customer_names_collected": N_("Customer names collected"),
        "qa_notes": N_("Questions and answers"),
        "exec_debrief_at": N_("Senior debrief at"),
    },
    "Project": {
        "name": N_("Project name"),
        "end_customer": N_("End customer"),
        "protection": N_("Project protection"),
        "is_small_deal_handoff": N_("Small deal handed to the dealer"),
        "info_source": N_("Information source"),
        "procurement_mode": N_("Procurement mode"),
        "stage": N_("Project stage"),
        "estimated_amount": N_("Estimated amount"),
        "expected_close_on": N_("Expected close date"),
        "status": N_("Project status"),
    },
    "CustomerMgmtReport": {
        "period_type": N_("Report period"),
        "period_start": N_("Period start"),
        "period_end": N_("Period end"),
        "title": N_("Report title"),
        "summary": N_("Summary"),
        "dealer_confirmed_at": N_("Confirmed by the dealer at"),
        "submitted_at": N_("Submitted at"),
    },
    "ReportTask": {
        "report_id": N_("Report"),
        "section": N_("Report section"),
        "seq": N_("Order"),
        "name": N_("Task name"),
        "key_data": N_("Key data"),
        "problems": N_("Problems"),
        "effective_solutions": N_("Effective solutions"),
        "ineffective_solutions": N_("Ineffective solutions"),
        "thanks": N_("Thanks"),
        "help_needed": N_("Help needed"),
        "challenges": N_("Expected challenges"),
    },
}

BOOLEAN_WORDS: dict[str, bool] = {
    "是": True,
    "否": False,
    "yes": True,
    "no": False,
    "y": True,
    "n": False,
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "对": True,
    "有": True,
    "无": False,
}

# Items of a list typed on one line: commas (ASCII or full width), 、, ; or newlines.
LIST_SEPARATORS = re.compile(r"[,，、;；\n\r]+")

REASON_UNKNOWN_FIELD = N_("is not a field of this record")
REASON_NOT_EDITABLE = N_("is managed by FieldRep and cannot be set")
REASON_NOT_INTEGER = N_("must be a whole number, not “{text}”")
REASON_NOT_NUMBER = N_("must be a number, not “{text}”")
REASON_NOT_DATE = N_("must be a date like 2026-03-31, not “{text}”")
REASON_NOT_DATETIME = N_("must be a date and time like 2026-03-31 14:30, not “{text}”")
REASON_NOT_TIME = N_("must be a time like 14:30, not “{text}”")
REASON_NOT_BOOLEAN = N_("must be yes or no, not “{text}”")
REASON_NOT_CHOICE = N_("“{text}” is not one of: {choices}")
REASON_REQUIRED = N_("must not be empty")


def _model_name(model: type[Base] | str) -> str:
    return model if isinstance(model, str) else model.__name__


def field_label(model: type[Base] | str, field_name: str) -> str:
    """The English label of a column (marked for translation; translate with ``_``)."""
    own = MODEL_LABELS.get(_model_name(model), {})
    if field_name in own:
        return own[field_name]
    if field_name in COMMON_LABELS:
        return COMMON_LABELS[field_name]
    raise KeyError(f"{_model_name(model)}.{field_name} has no label")


def problem(model: type[Base] | str, field_name: str, reason: str, **params: Any) -> FieldProblem:
    """A :class:`FieldProblem` for a column, labelled from this module."""
    return FieldProblem(field_name, field_label(model, field_name), reason, params)


def columns(model: type[Base]) -> dict[str, Column[Any]]:
    """The model's columns by attribute name, in declaration order."""
    table: Any = model.__table__
    return {column.key: column for column in table.columns}


def editable_fields(model: type[Base]) -> tuple[str, ...]:
    """The columns a user may set (everything but the sync bookkeeping)."""
    return tuple(name for name in columns(model) if name not in SYNC_COLUMNS)


def _enum_class(column_type: TypeEngine[Any]) -> type[LabelledEnum] | None:
    if isinstance(column_type, EnumCode):
        return column_type.enum_class
    return None


class FieldKind(Enum):
    """What a column holds, which decides the editor a form gives it."""

    TEXT = "text"
    LONG_TEXT = "long_text"
    CHOICE = "choice"
    REFERENCE = "reference"
    BOOL = "bool"
    DATE = "date"
    DATETIME = "datetime"
    TIME = "time"
    INTEGER = "integer"
    NUMBER = "number"
    LIST = "list"


def field_kind(model: type[Base], name: str, *, long: bool = False) -> FieldKind:
    """The editor kind of ``model.name`` from its column type."""
    column_type = columns(model)[name].type
    if isinstance(column_type, EnumCode):
        return FieldKind.CHOICE
    if isinstance(column_type, DecimalText):
        return FieldKind.NUMBER
    if isinstance(column_type, UtcDateTime):
        return FieldKind.DATETIME
    if isinstance(column_type, JsonList):
        return FieldKind.LIST
    if isinstance(column_type, Boolean):
        return FieldKind.BOOL
    if isinstance(column_type, Integer):
        return FieldKind.INTEGER
    if isinstance(column_type, Date):
        return FieldKind.DATE
    if isinstance(column_type, Time):
        return FieldKind.TIME
    return FieldKind.LONG_TEXT if long else FieldKind.TEXT


def parse_field_value(model: type[Base], field_name: str, text: str) -> Any:
    """Turn text a user typed for ``model.field_name`` into the column's Python value.

    Empty text means "no value" (None) for optional columns and is refused for
    required ones. Raises :class:`ValidationError` naming the field on bad text.
    """
    table = columns(model)
    if field_name not in table:
        raise ValidationError(
            [FieldProblem(field_name, field_name, REASON_UNKNOWN_FIELD)], model.__tablename__
        )
    if field_name in SYNC_COLUMNS:
        raise ValidationError(
            [problem(model, field_name, REASON_NOT_EDITABLE)], model.__tablename__
        )
    column = table[field_name]
    stripped = text.strip()
    if not stripped:
        if column.nullable:
            return None
        raise ValidationError([problem(model, field_name, REASON_REQUIRED)], model.__tablename__)
    try:
        return _convert(column, stripped)
    except _BadText as bad:
        raise ValidationError(
            [problem(model, field_name, bad.reason, text=stripped, **bad.params)],
            model.__tablename__,
        ) from None


class _BadText(Exception):
    def __init__(self, reason: str, **params: Any) -> None:
        super().__init__(reason)
        self.reason = reason
        self.params = params


def _convert(column: Column[Any], text: str) -> Any:
    column_type = column.type
    enum_class = _enum_class(column_type)
    if enum_class is not None:
        try:
            return enum_class.parse(text)
        except ValueError:
            choices = " / ".join(member.code for member in enum_class)
            raise _BadText(REASON_NOT_CHOICE, choices=choices) from None
    if isinstance(column_type, DecimalText):
        return parse_decimal(text)
    if isinstance(column_type, UtcDateTime):
        return parse_datetime(text)
    if isinstance(column_type, JsonList):
        return split_list(text)
    if isinstance(column_type, Boolean):
        return parse_bool(text)
    if isinstance(column_type, Integer):
        try:
            return int(text.replace(",", ""))
        except ValueError:
            raise _BadText(REASON_NOT_INTEGER) from None
    if isinstance(column_type, Date):
        return parse_date(text)
    if isinstance(column_type, Time):
        return parse_time(text)
    return text


def parse_decimal(text: str) -> Decimal:
    """A decimal from text, allowing thousands separators and a leading ¥."""
    cleaned = text.strip().lstrip("¥￥").replace(",", "").replace("，", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise _BadText(REASON_NOT_NUMBER) from None
    if not value.is_finite():
        raise _BadText(REASON_NOT_NUMBER)
    return value


def parse_date(text: str) -> date:
    """A date written YYYY-MM-DD (also YYYY/MM/DD)."""
    try:
        return date.fromisoformat(text.strip().replace("/", "-"))
    except ValueError:
        raise _BadText(REASON_NOT_DATE) from None


def parse_datetime(text: str) -> datetime:
    """An instant: ISO 8601; without an offset it is the machine's local time."""
    cleaned = text.strip().replace("/", "-")
    try:
        value = datetime.fromisoformat(cleaned)
    except ValueError:
        raise _BadText(REASON_NOT_DATETIME) from None
    if value.tzinfo is None:
        value = value.astimezone()  # a naive time is what the user's clock shows
    return value.astimezone(UTC)


def parse_time(text: str) -> time:
    try:
        return time.fromisoformat(text.strip().replace("：", ":"))
    except ValueError:
        raise _BadText(REASON_NOT_TIME) from None


def parse_bool(text: str) -> bool:
    word = text.strip().lower()
    if word not in BOOLEAN_WORDS:
        raise _BadText(REASON_NOT_BOOLEAN)
    return BOOLEAN_WORDS[word]


def split_list(text: str) -> list[str]:
    """Items separated by commas, 、, semicolons or new lines; blanks dropped."""
    return [item.strip() for item in LIST_SEPARATORS.split(text) if item.strip()]


# The 17 sections of the customer profile card (客户资料卡) in the seed's order
# (004); the printed card and the card view both follow it.
PROFILE_CARD_SECTIONS: tuple[str, ...] = (
    N_("Basic data"),
    N_("Start of the relationship and counterparts"),
    N_("Supply and cooperation agreements"),
    N_("Early classification"),
    N_("Classification by results (annual volume, 532 method)"),
    N_("Credit standing (5C)"),
    N_("Brands, varieties and specifications carried"),
    N_("Settlement time, method and invoices"),
    N_("Settlement procedure and contacts"),
    N_("Retail price changes"),
    N_("Contribution: volume, revenue, collections and receivables"),
    N_("Delivery time and requirements"),
    N_("Complaints and how they were handled"),
    N_("After-sales terms and cases"),
    N_("Relationship grade by quarter and year"),
    N_("Annual integrated classification"),
    N_("Stakeholders"),
)
