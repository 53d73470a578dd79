"""The sync protocol: the one module the client and the server share (SYNC.md).

It declares, as data, everything both sides must agree on:

- the protocol version range and the request header that carries the client's
  version (a client outside the range gets HTTP 426);
- the synced tables, in parent-before-child order, with each field's wire type
  and whether it may be NULL; ``tests/sync/test_protocol_schema.py`` checks that
  these declarations match :mod:`fieldrep.storage.models` exactly;
- the field policies of the server's merge (see "Field policies" below);
- the pydantic models of every request and response of ``/v1``.

Wire values are JSON: ``string``/``text``/``code`` as strings, ``int`` as
integers, ``bool`` as booleans, ``decimal`` as a decimal string without exponent
(``"1234.50"``: trailing zeros kept), ``date`` as ``YYYY-MM-DD``, ``time`` as
``HH:MM:SS[.ffffff]``, ``datetime`` as UTC ``YYYY-MM-DDTHH:MM:SS.ffffffZ``,
``json_list`` as a list of strings and ``json`` as any JSON value. NULL is JSON
``null`` and is distinct from ``""``.

Field policies (decided here, enforced by the server, shown by the client):

- *Server-stamped* fields (``created_at``, ``updated_at``, ``updated_by``,
  ``deleted_at``) are informational: the server sets them (``created_at`` is
  taken from the client on insert). Values a client sends for them, and for the
  ``deleted`` flag, are ignored; the op's kind decides deletion.
- ``territory_id`` is the row's scope. It is required on insert and cannot be
  changed afterwards (reason ``territory_immutable``).
- *References* (:data:`REFERENCES`): whenever an op sets or changes a field that
  names another synced row, that row must be on the server, not deleted and in
  the same territory as the op's row; otherwise the field is refused with
  ``missing_parent``, ``parent_deleted`` or ``parent_out_of_scope`` (an insert
  is then rejected as a whole). Delete wins here too: nothing new is attached
  to a deleted parent; the refused change stays on the device that made it, in
  its list of refused changes, and a refused new row is sent again once its
  parent is live again (restored). Within one batch an op waits for the ops
  that create the rows it refers to, so a parent and its children made offline
  together are accepted whatever their order in the batch; a row the batch
  creates (or restores) counts as a parent even before it is applied, so new
  rows naming each other (A reports to B, B to A) are accepted too.
- *Manager-only* fields and tables: a rep's change to such a field is refused
  with reason ``manager_only``; the op's other fields still apply (status
  ``merged``, the refused field listed in ``refused``), or the op is
  ``rejected`` when nothing else was in it. On insert, a rep may give a
  manager-only *field* its first value (a new dealer needs a class); a rep may
  never insert, change or delete rows of a manager-only *table*.
- *Server-managed* tables (territories and users) are written only by the
  server's admin functions; any push to them is rejected (``read_only_table``).
- *Append-only*: a visit record (``contact_record``) is frozen once the server
  holds it with ``status = "final"``: later edits of any field and deletes are
  refused (``append_only``). An objection's wording (``type``, ``verbatim``,
  ``raised_on``, the dealer and who raised it) is write-once from creation,
  while its handling (concern, answer, outcome) stays editable; objections are
  never deleted. A refused append-only edit is not lost: it is kept as a conflict
  record of kind ``append_only`` for the manager to see (SYNC.md invariant 2).
- *Keep both*: for free-text notes fields, when both sides changed the text the
  server keeps both, the server text followed by :data:`KEEP_BOTH_MARKER` and the
  incoming text (without the common base prefix when the edit only appended),
  instead of raising a conflict. The op's status is ``merged`` with the field in
  ``kept_both``.
- Every other field merges three-way by value: server == base -> the new value
  wins; server == new -> nothing to do; otherwise a conflict record keeps the
  server value provisionally (status ``merged``, the field in ``conflicts``).
- Delete vs edit: a delete always wins. An edit that arrives for a deleted row
  is kept field by field as conflict records of kind ``delete_edit``; the row
  can be restored with an op of kind ``restore`` (or an upsert whose fields set
  ``deleted`` from true to false), which brings it back and applies its fields.
- A delete op may carry the fields its device edited before deleting, with their
  bases: they merge as an upsert's would, then the row is deleted (one change),
  so the tombstone holds them; on a row already deleted the differing ones are
  kept as ``delete_edit`` records (status ``merged``). A bare delete just deletes.
- Conflict records are rows of the pseudo-table ``sync_conflict`` in the same
  stream as the row they concern. Clients may change only their ``status``,
  ``resolution`` and ``resolved_value`` (a resolution); the chosen value itself
  is an ordinary upsert of the row, pushed in the same batch.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import UTC, date, datetime, time
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from typing import Annotated, Any, Final, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from fieldrep.i18n import N_

# --------------------------------------------------------------------------- versions

PROTOCOL_MIN: Final = 1
PROTOCOL_MAX: Final = 1
PROTOCOL_VERSION: Final = PROTOCOL_MAX
#: Version of the synced-table declarations below; bump on any change to them.
SCHEMA_VERSION: Final = 1
#: Every request to /v1/sync/* carries the client's protocol version in this header.
PROTOCOL_HEADER: Final = "X-FieldRep-Protocol"
#: Optional request fields added within a protocol version, listed by the server in
#: MetaResponse.features. Requests are strict (extra fields refused), so a client
#: sends one only to a server that lists it; an older server lists none.
FEATURE_RECONCILE_FROM: Final = "reconcile_from"  # PullRequest.reconcile_from
SERVER_FEATURES: Final = (FEATURE_RECONCILE_FROM,)
API_PREFIX: Final = "/v1"

#: The largest batch a client may push and the largest page it may ask for.
MAX_PUSH_OPS: Final = 5000
MAX_PULL_LIMIT: Final = 10000
DEFAULT_PULL_LIMIT: Final = 1000

#: Inserted between the two texts of a "keep both" merge ({who}: the pushing user).
KEEP_BOTH_MARKER: Final = "\n——（来自 {who} 的并行修改）——\n"
#: ``updated_by`` of the changes the server's administration commands make
#: (``fieldrep server set-role``, ``assign``, ``add-territory``...): no person signed
#: in made them, so a device's digest attributes them to the administrator.
SYSTEM_USER_ID: Final = "00000000-0000-0000-0000-000000000000"


# --------------------------------------------------------------------------- wire types


class WireType(StrEnum):
    """How a field's value is written on the wire."""

    STRING = "string"  # short text such as an id
    TEXT = "text"  # free text
    CODE = "code"  # a stable enumeration code from the field's choices
    INT = "int"
    BOOL = "bool"
    DECIMAL = "decimal"  # decimal string, never a float
    DATE = "date"  # ISO 8601 date
    TIME = "time"  # ISO 8601 time of day
    DATETIME = "datetime"  # ISO 8601 UTC instant with 'Z'
    JSON_LIST = "json_list"  # list of strings
    JSON = "json"  # any JSON value (conflict records carry other fields' values)


STRING = WireType.STRING
TEXT = WireType.TEXT
CODE = WireType.CODE
INT = WireType.INT
BOOL = WireType.BOOL
DECIMAL = WireType.DECIMAL
DATE = WireType.DATE
TIME = WireType.TIME
DATETIME = WireType.DATETIME
JSON_LIST = WireType.JSON_LIST
JSON = WireType.JSON


@dataclass(frozen=True)
class FieldSpec:
    """One synced field: its name, wire type, whether NULL is allowed, its codes."""

    name: str
    wire_type: WireType
    required: bool = False  # NOT NULL; must be present on insert
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class TableSpec:
    """One synced table and its field policies.

    ``fields`` are every column except ``id``, ``row_version`` and ``deleted``,
    which travel as the change's own ``row_id``, ``row_version`` and ``deleted``.
    """

    name: str
    fields: Mapping[str, FieldSpec]
    manager_only_fields: frozenset[str] = frozenset()
    keep_both_fields: frozenset[str] = frozenset()
    write_once_fields: frozenset[str] = frozenset()
    #: (field, value): once the server row has this value, every field is frozen.
    frozen_when: tuple[str, str] | None = None
    manager_only: bool = False  # only managers and admins may write its rows
    server_managed: bool = False  # no client may push it
    never_deleted: bool = False  # deletes are refused (append-only)
    pseudo: bool = False  # not a client model (sync_conflict)
    client_writable_fields: frozenset[str] | None = None  # None: all but stamped
    #: Reference field -> the synced table it points at (a client foreign key).
    references: Mapping[str, str] = dataclass_field(default_factory=dict)

    def field(self, name: str) -> FieldSpec:
        return self.fields[name]


#: Set by the server; values sent by clients are ignored (created_at: insert only).
SERVER_STAMPED_FIELDS: Final = frozenset({"created_at", "updated_at", "updated_by", "deleted_at"})
#: Carried outside ``fields``; a client may still send ``deleted`` (ignored or restore).
ROW_META_FIELDS: Final = frozenset({"id", "row_version", "deleted"})
SCOPE_FIELD: Final = "territory_id"


def _f(
    name: str, wire_type: WireType, *, required: bool = False, choices: tuple[str, ...] = ()
) -> FieldSpec:
    return FieldSpec(name, wire_type, required, choices)


_COMMON_FIELDS: Final = (
    _f("territory_id", STRING, required=True),
    _f("deleted_at", DATETIME),
    _f("created_at", DATETIME, required=True),
    _f("updated_at", DATETIME, required=True),
    _f("updated_by", STRING),
)

# Enumeration codes (fieldrep.storage.enums; the schema test keeps them equal).
_ROLE: Final = ("rep", "manager", "admin")
_PERIODTYPE: Final = ("week", "month", "quarter", "year")
_ABCCLASS: Final = ("A", "B", "C")
_PERFORMANCECLASS: Final = ("5", "3", "2")
_SERVICETIER: Final = ("vip", "regular")
_PARTNERTIER: Final = ("gold", "silver", "none")
_LIFECYCLESTATUS: Final = (
    "prospect",
    "contacted",
    "intent_strong",
    "intent_weak",
    "training",
    "cooperating",
    "benchmark",
    "eliminated",
)
_DEALERSTATUS: Final = ("active", "dormant", "closed")
_PAYMENTTERMS: Final = ("prepay", "shortened", "normal", "extended")
_DEALERPHILOSOPHY: Final = ("quick_money", "sustained")
_REACHMODE: Final = ("direct", "via_sub_distributor", "cross_territory")
_CHANNELTYPE: Final = ("product", "distribution", "integration")
_CHANNELSEGMENT: Final = ("online", "offline_agent", "vertical", "cross_border")
_SALESFORM: Final = ("franchise", "agency", "distribution", "purchase_sale")
_PARTNERSHIPSYSTEM: Final = ("contract", "administered", "ownership")
_DEALERTIER: Final = ("dealer", "sub_distributor")
_OBJECTIONTYPE: Final = (
    "demand",
    "financial",
    "authority",
    "price",
    "product",
    "brand",
    "promotion",
    "reward",
)
_RESPONSEPATTERN: Final = (
    "affirm_supplement_guide",
    "fabe",
    "fab",
    "three_tier",
    "feature_value_evidence",
    "value_add_not_discount",
    "roi_quantify",
    "demo",
    "proof",
    "listen",
    "question",
    "other",
)
_PLANHORIZON: Final = ("day", "week", "month")
_CONFLICTTYPE: Final = ("cross_territory", "price_dumping", "price_deception")
_CONFLICTACTION: Final = ("warning", "graded_penalty", "arbitration", "crisis_plan")
_CASESTATUS: Final = ("open", "in_progress", "closed")
_CLASSSCHEME: Final = (
    "abc",
    "initial",
    "performance",
    "relationship",
    "credit",
    "annual_integrated",
    "service_tier",
    "partner_tier",
)
_PROMOTYPE: Final = ("time_limited_discount", "bundle", "other", "none")
_COMPLAINTCATEGORY: Final = (
    "sales_policy",
    "after_sales",
    "price_deception",
    "market_order",
    "cross_territory",
    "return_exchange",
    "quality",
    "advanced_expenses",
    "ordering_delivery",
    "expired_goods",
    "damaged_packaging",
    "transit_loss",
    "regulatory_penalty",
    "stockout",
)
_COMPLAINTSTATUS: Final = ("received", "handling", "escalated", "closed")
_DECISIONROLE: Final = ("decision_maker", "influencer", "user", "gatekeeper", "unknown")
_COOPERATIONINTEREST: Final = ("personal", "company")
_PROJECTROLE: Final = ("key_person", "decision_maker")
_PROJECTLINE: Final = ("technical", "economic")
_CREDITRISK: Final = ("low", "medium", "high")
_FOLLOWUPSOURCE: Final = (
    "visit_agreement",
    "visit_plan",
    "objection",
    "legacy_issue",
    "complaint",
    "training",
    "manual",
)
_FOLLOWUPDIRECTION: Final = ("we_owe", "dealer_owes", "internal")
_FOLLOWUPSTATUS: Final = ("open", "in_progress", "blocked", "done", "cancelled")
_LEGACYCATEGORY: Final = ("evidenced", "unresolvable", "discretionary")
_LEGACYSTATUS: Final = ("open", "in_progress", "resolved", "rejected", "closed")
_INFOSOURCE: Final = (
    "design_institute",
    "planning_approval",
    "fire_department",
    "tender_notary",
    "media",
    "contractor",
    "investor",
    "supervisor",
    "construction_site",
    "infrastructure_office",
    "fit_out_design",
)
_PROCUREMENTMODE: Final = (
    "owner_specifies_owner_buys",
    "owner_specifies_contractor_buys",
    "contractor_buys",
    "multiple_owners",
)
_PROJECTSTAGE: Final = (
    "research",
    "understand",
    "target",
    "manage",
    "terms",
    "first_phase",
    "bid",
    "collect",
)
_REPORTSECTION: Final = ("completed", "in_progress", "new")
_PLANITEMSTATUS: Final = ("planned", "done", "in_progress", "not_done", "added")
_VISITTYPE: Final = (
    "development",
    "return_visit",
    "training",
    "assisted",
    "exec_visit",
    "dealer_meeting",
    "briefing",
)
_CONTACTMETHOD: Final = ("visit", "phone", "meeting", "training", "online")
_NEXTSTEP: Final = ("pursue_training", "no_value", "continue")
_RECORDSTATUS: Final = ("draft", "final")
_NEGOTIATIONPOINT: Final = ("profit_margin", "investment", "rights", "risk", "support")
_OBJECTIONOUTCOME: Final = ("open", "resolved", "partially", "deferred", "lost")
_TRAININGTOPIC: Final = (
    "product_knowledge",
    "sales_skills",
    "shop_assistant",
    "bidding",
    "presales_tech",
    "system_use",
    "monthly_meeting",
)

# Fields of every synced client table, parents before children (deferred FKs aside,
# a snapshot sends tables in this order so a page never needs a later page).
_TABLE_FIELDS: Final[dict[str, tuple[FieldSpec, ...]]] = {
    "app_user": (
        _f("username", TEXT, required=True),
        _f("display_name", TEXT, required=True),
        _f("role", CODE, required=True, choices=_ROLE),
        _f("phone", TEXT),
        _f("email", TEXT),
        _f("manager_user_id", STRING),
    ),
    "customer_mgmt_report": (
        _f("rep_user_id", STRING, required=True),
        _f("period_type", CODE, required=True, choices=_PERIODTYPE),
        _f("period_start", DATE, required=True),
        _f("period_end", DATE, required=True),
        _f("title", TEXT, required=True),
        _f("summary", TEXT),
        _f("dealer_confirmed_at", DATETIME),
        _f("submitted_at", DATETIME),
    ),
    "dealer": (
        _f("name", TEXT, required=True),
        _f("short_name", TEXT),
        _f("province", TEXT),
        _f("city", TEXT),
        _f("district", TEXT),
        _f("address", TEXT),
        _f("phone", TEXT),
        _f("fax", TEXT),
        _f("email", TEXT),
        _f("website", TEXT),
        _f("credit_code", TEXT),
        _f("legal_rep", TEXT),
        _f("key_personnel", TEXT),
        _f("outlet_count", INT),
        _f("outlets", TEXT),
        _f("business_scale", TEXT),
        _f("employee_count", INT),
        _f("registered_capital", DECIMAL),
        _f("category_sales_capacity", DECIMAL),
        _f("business_rules", TEXT),
        _f("relationship_start_date", DATE),
        _f("our_contact_user_id", STRING),
        _f("their_contact_id", STRING),
        _f("initial_class", TEXT),
        _f("main_products", TEXT),
        _f("reputation", TEXT),
        _f("location_desc", TEXT),
        _f("floor_area", DECIMAL),
        _f("attitude", TEXT),
        _f("volume_desc", TEXT),
        _f("stock_desc", TEXT),
        _f("abc_class", CODE, required=True, choices=_ABCCLASS),
        _f("performance_class", CODE, choices=_PERFORMANCECLASS),
        _f("credit_grade", TEXT),
        _f("relationship_grade", TEXT),
        _f("annual_integrated_class", TEXT),
        _f("service_tier", CODE, choices=_SERVICETIER),
        _f("partner_tier", CODE, choices=_PARTNERTIER),
        _f("is_key_account", BOOL, required=True),
        _f("is_benchmark", BOOL, required=True),
        _f("lifecycle_status", CODE, required=True, choices=_LIFECYCLESTATUS),
        _f("status", CODE, required=True, choices=_DEALERSTATUS),
        _f("settlement_time", TEXT),
        _f("settlement_method", TEXT),
        _f("invoice_usage", TEXT),
        _f("settlement_procedure", TEXT),
        _f("business_contact_id", STRING),
        _f("settlement_contact_id", STRING),
        _f("payment_terms", CODE, choices=_PAYMENTTERMS),
        _f("credit_limit", DECIMAL),
        _f("delivery_requirements", TEXT),
        _f("after_sales_terms", TEXT),
        _f("nature", TEXT),
        _f("history", TEXT),
        _f("staff_quality", TEXT),
        _f("warehouse_capacity", TEXT),
        _f("delivery_capacity", TEXT),
        _f("philosophy", CODE, choices=_DEALERPHILOSOPHY),
        _f("local_market_share", DECIMAL),
        _f("profit_level", TEXT),
        _f("financial_status", TEXT),
        _f("management_level", TEXT),
        _f("upstream_relations", TEXT),
        _f("core_area", TEXT),
        _f("radiation_area", TEXT),
        _f("reach_mode", CODE, choices=_REACHMODE),
        _f("customer_structure", TEXT),
        _f("promo_services", TEXT),
        _f("business_mode", TEXT),
        _f("product_dev_type", TEXT),
        _f("industries", TEXT),
        _f("success_case_industries", TEXT),
        _f("org_structure", TEXT),
        _f("decision_process", TEXT),
        _f("resource_focus", TEXT),
        _f("key_products", TEXT),
        _f("support_needs", TEXT),
        _f("cooperation_history", TEXT),
        _f("expectations", TEXT),
        _f("channel_type", CODE, choices=_CHANNELTYPE),
        _f("channel_segment", CODE, choices=_CHANNELSEGMENT),
        _f("sales_form", CODE, choices=_SALESFORM),
        _f("partnership_system", CODE, choices=_PARTNERSHIPSYSTEM),
        _f("tier", CODE, required=True, choices=_DEALERTIER),
        _f("has_business_license", BOOL, required=True),
        _f("qualification_certs", TEXT),
        _f("past_cases", TEXT),
        _f("after_sales_capability", TEXT),
        _f("coverage", TEXT),
        _f("customer_resources", TEXT),
        _f("team_size", INT),
        _f("financial_proof", TEXT),
        _f("notes", TEXT),
        _f("profile_reviewed_at", DATETIME),
    ),
    "objection_answer": (
        _f("type", CODE, required=True, choices=_OBJECTIONTYPE),
        _f("title", TEXT, required=True),
        _f("answer_text", TEXT, required=True),
        _f("response_pattern", CODE, choices=_RESPONSEPATTERN),
        _f("evidence", TEXT),
        _f("source", TEXT),
        _f("author_user_id", STRING),
    ),
    "territory": (
        _f("name", TEXT, required=True),
        _f("region", TEXT),
        _f("manager_user_id", STRING),
    ),
    "territory_setting": (
        _f("key", TEXT, required=True),
        _f("value", TEXT, required=True),
    ),
    "visit_plan": (
        _f("rep_user_id", STRING, required=True),
        _f("horizon", CODE, required=True, choices=_PLANHORIZON),
        _f("period_start", DATE, required=True),
        _f("period_end", DATE, required=True),
        _f("title", TEXT, required=True),
        _f("notes", TEXT),
        _f("review", TEXT),
    ),
    "after_sales_event": (
        _f("dealer_id", STRING, required=True),
        _f("occurred_on", DATE, required=True),
        _f("description", TEXT, required=True),
        _f("handling", TEXT),
    ),
    "agreement": (
        _f("dealer_id", STRING, required=True),
        _f("title", TEXT, required=True),
        _f("signed_on", DATE),
        _f("valid_from", DATE),
        _f("valid_to", DATE),
        _f("file_ref", TEXT),
        _f("terms", TEXT),
        _f("sales_area", TEXT),
        _f("price_system", TEXT),
        _f("after_sales_split", TEXT),
        _f("profit_margin", TEXT),
        _f("investment", TEXT),
        _f("rights", TEXT),
        _f("risk", TEXT),
        _f("support", TEXT),
        _f("is_exclusive", BOOL, required=True),
        _f("cross_territory_protection", BOOL, required=True),
        _f("policy_reference", TEXT),
    ),
    "carried_product": (
        _f("dealer_id", STRING, required=True),
        _f("brand", TEXT, required=True),
        _f("variety", TEXT),
        _f("spec", TEXT),
        _f("is_ours", BOOL, required=True),
    ),
    "channel_conflict": (
        _f("type", CODE, required=True, choices=_CONFLICTTYPE),
        _f("offender_dealer_id", STRING, required=True),
        _f("region", TEXT),
        _f("description", TEXT, required=True),
        _f("evidence", JSON_LIST),
        _f("action", CODE, required=True, choices=_CONFLICTACTION),
        _f("status", CODE, required=True, choices=_CASESTATUS),
        _f("reported_on", DATE, required=True),
        _f("closed_at", DATETIME),
    ),
    "class_history": (
        _f("dealer_id", STRING, required=True),
        _f("scheme", CODE, required=True, choices=_CLASSSCHEME),
        _f("old_value", TEXT),
        _f("new_value", TEXT, required=True),
        _f("reason", TEXT, required=True),
        _f("changed_on", DATE, required=True),
        _f("changed_by", STRING),
        _f("period_label", TEXT),
    ),
    "competitor_note": (
        _f("dealer_id", STRING),
        _f("brand", TEXT, required=True),
        _f("product", TEXT),
        _f("price", DECIMAL),
        _f("promo_type", CODE, choices=_PROMOTYPE),
        _f("promo_details", TEXT),
        _f("after_sales", TEXT),
        _f("channel_info", TEXT),
        _f("market_share", DECIMAL),
        _f("strengths", TEXT),
        _f("weaknesses", TEXT),
        _f("customer_opinion", TEXT),
        _f("is_competitor_agent", BOOL, required=True),
        _f("observed_at", DATETIME, required=True),
        _f("source", TEXT, required=True),
    ),
    "complaint": (
        _f("dealer_id", STRING, required=True),
        _f("category", CODE, required=True, choices=_COMPLAINTCATEGORY),
        _f("description", TEXT, required=True),
        _f("received_at", DATETIME, required=True),
        _f("handling", TEXT),
        _f("responsible_dept", TEXT),
        _f("result", TEXT),
        _f("status", CODE, required=True, choices=_COMPLAINTSTATUS),
        _f("escalated", BOOL, required=True),
        _f("closed_at", DATETIME),
    ),
    "contact": (
        _f("dealer_id", STRING, required=True),
        _f("name", TEXT, required=True),
        _f("title", TEXT),
        _f("department", TEXT),
        _f("phone", TEXT),
        _f("mobile", TEXT),
        _f("email", TEXT),
        _f("wechat", TEXT),
        _f("address", TEXT),
        _f("birth_date", DATE),
        _f("education", TEXT),
        _f("native_place", TEXT),
        _f("family", TEXT),
        _f("personality", TEXT),
        _f("hobbies", TEXT),
        _f("decision_role", CODE, required=True, choices=_DECISIONROLE),
        _f("reports_to_id", STRING),
        _f("is_senior", BOOL, required=True),
        _f("is_business_contact", BOOL, required=True),
        _f("is_settlement_contact", BOOL, required=True),
        _f("is_counterpart", BOOL, required=True),
        _f("is_sales_staff", BOOL, required=True),
        _f("is_shop_assistant", BOOL, required=True),
        _f("cooperation_interest", CODE, choices=_COOPERATIONINTEREST),
        _f("met_at", TEXT),
        _f("project_role", CODE, choices=_PROJECTROLE),
        _f("project_line", CODE, choices=_PROJECTLINE),
        _f("can_block", BOOL, required=True),
        _f("notes", TEXT),
    ),
    "credit_assessment": (
        _f("dealer_id", STRING, required=True),
        _f("reviewed_at", DATE, required=True),
        _f("capital", INT, required=True),
        _f("character", INT, required=True),
        _f("capacity", INT, required=True),
        _f("collateral", INT, required=True),
        _f("condition", INT, required=True),
        _f("overall_grade", TEXT, required=True),
        _f("risk_level", CODE, required=True, choices=_CREDITRISK),
        _f("payment_terms", CODE, choices=_PAYMENTTERMS),
        _f("credit_limit", DECIMAL),
        _f("fulfilment_record", TEXT),
        _f("third_party_source", TEXT),
        _f("notes", TEXT),
    ),
    "dealer_assessment": (
        _f("dealer_id", STRING, required=True),
        _f("assessed_at", DATE, required=True),
        _f("credit_standard", TEXT),
        _f("scale_standard", TEXT),
        _f("network_standard", TEXT),
        _f("philosophy_standard", TEXT),
        _f("scope_conflict", BOOL, required=True),
        _f("enthusiasm", TEXT),
        _f("operating_ability", TEXT),
        _f("reputation", TEXT),
        _f("social_relations", TEXT),
        _f("fit_score_pct", INT),
        _f("conclusion", TEXT),
    ),
    "follow_up": (
        _f("title", TEXT, required=True),
        _f("details", TEXT),
        _f("owner_user_id", STRING, required=True),
        _f("due_on", DATE, required=True),
        _f("dealer_id", STRING),
        _f("source_type", CODE, required=True, choices=_FOLLOWUPSOURCE),
        _f("source_id", STRING),
        _f("direction", CODE, required=True, choices=_FOLLOWUPDIRECTION),
        _f("counterpart_dept", TEXT),
        _f("status", CODE, required=True, choices=_FOLLOWUPSTATUS),
        _f("result", TEXT),
        _f("result_notified_at", DATETIME),
        _f("verify_by", DATE),
        _f("escalated", BOOL, required=True),
        _f("completed_at", DATETIME),
        _f("reminded_at", DATETIME),
    ),
    "legacy_issue": (
        _f("dealer_id", STRING, required=True),
        _f("title", TEXT, required=True),
        _f("description", TEXT, required=True),
        _f("category", CODE, required=True, choices=_LEGACYCATEGORY),
        _f("evidence", JSON_LIST),
        _f("origin", TEXT),
        _f("amount", DECIMAL),
        _f("resolution", TEXT),
        _f("answer_given", TEXT),
        _f("status", CODE, required=True, choices=_LEGACYSTATUS),
        _f("linked_plan", TEXT),
        _f("raised_on", DATE, required=True),
        _f("closed_at", DATETIME),
    ),
    "project": (
        _f("dealer_id", STRING, required=True),
        _f("name", TEXT, required=True),
        _f("end_customer", TEXT),
        _f("protection", TEXT),
        _f("is_small_deal_handoff", BOOL, required=True),
        _f("info_source", CODE, choices=_INFOSOURCE),
        _f("procurement_mode", CODE, choices=_PROCUREMENTMODE),
        _f("stage", CODE, required=True, choices=_PROJECTSTAGE),
        _f("estimated_amount", DECIMAL),
        _f("expected_close_on", DATE),
        _f("status", CODE, required=True, choices=_CASESTATUS),
        _f("notes", TEXT),
    ),
    "relationship_grade": (
        _f("dealer_id", STRING, required=True),
        _f("period_type", CODE, required=True, choices=_PERIODTYPE),
        _f("period_start", DATE, required=True),
        _f("familiarity", INT, required=True),
        _f("closeness", INT, required=True),
        _f("sales_support", INT, required=True),
        _f("complaint_level", INT, required=True),
        _f("receivable_level", INT, required=True),
        _f("overall_grade", TEXT, required=True),
        _f("notes", TEXT),
    ),
    "report_task": (
        _f("report_id", STRING, required=True),
        _f("section", CODE, required=True, choices=_REPORTSECTION),
        _f("seq", INT, required=True),
        _f("name", TEXT, required=True),
        _f("key_data", TEXT),
        _f("problems", TEXT),
        _f("effective_solutions", TEXT),
        _f("ineffective_solutions", TEXT),
        _f("thanks", TEXT),
        _f("help_needed", TEXT),
        _f("challenges", TEXT),
    ),
    "retail_price_change": (
        _f("dealer_id", STRING, required=True),
        _f("product", TEXT, required=True),
        _f("old_price", DECIMAL),
        _f("new_price", DECIMAL, required=True),
        _f("changed_on", DATE, required=True),
        _f("notes", TEXT),
    ),
    "sales_figure": (
        _f("dealer_id", STRING, required=True),
        _f("period_type", CODE, required=True, choices=_PERIODTYPE),
        _f("period_start", DATE, required=True),
        _f("product", TEXT),
        _f("volume", DECIMAL),
        _f("revenue", DECIMAL),
        _f("collected", DECIMAL),
        _f("receivable", DECIMAL),
        _f("dealer_inventory", DECIMAL),
        _f("retail_price", DECIMAL),
        _f("purchase_qty", DECIMAL),
        _f("purchase_frequency", INT),
        _f("market_share", DECIMAL),
        _f("dealer_confirmed_at", DATETIME),
    ),
    "sales_target": (
        _f("rep_user_id", STRING),
        _f("dealer_id", STRING),
        _f("channel", TEXT),
        _f("period_type", CODE, required=True, choices=_PERIODTYPE),
        _f("period_start", DATE, required=True),
        _f("revenue_target", DECIMAL),
        _f("volume_target", DECIMAL),
        _f("collection_target", DECIMAL),
        _f("warning_line_pct", DECIMAL),
    ),
    "visit_plan_item": (
        _f("plan_id", STRING),
        _f("dealer_id", STRING, required=True),
        _f("rep_user_id", STRING, required=True),
        _f("planned_date", DATE, required=True),
        _f("time_slot", TIME),
        _f("route_seq", INT, required=True),
        _f("frequency", TEXT),
        _f("planned_minutes", INT),
        _f("actual_minutes", INT),
        _f("status", CODE, required=True, choices=_PLANITEMSTATUS),
        _f("deviation_reason", TEXT),
        _f("visit_type", CODE, required=True, choices=_VISITTYPE),
        _f("objective", TEXT),
        _f("agenda", TEXT),
        _f("appointment_confirmed", BOOL, required=True),
        _f("prep_checklist", JSON_LIST),
        _f("contact_record_id", STRING),
    ),
    "channel_conflict_dealer": (
        _f("conflict_id", STRING, required=True),
        _f("dealer_id", STRING, required=True),
    ),
    "contact_record": (
        _f("dealer_id", STRING, required=True),
        _f("plan_item_id", STRING),
        _f("rep_user_id", STRING, required=True),
        _f("contact_at", DATETIME, required=True),
        _f("contact_method", CODE, required=True, choices=_CONTACTMETHOD),
        _f("visit_type", CODE, required=True, choices=_VISITTYPE),
        _f("location", TEXT),
        _f("participants", TEXT),
        _f("content", TEXT),
        _f("successes", TEXT),
        _f("shortcomings", TEXT),
        _f("lessons", TEXT),
        _f("new_agreements", TEXT),
        _f("new_plans", TEXT),
        _f("special_notes", TEXT),
        _f("other", TEXT),
        _f("info_gaps", TEXT),
        _f("sources_to_try", TEXT),
        _f("cooperation_intent", TEXT),
        _f("next_step", CODE, choices=_NEXTSTEP),
        _f("figures_confirmed", TEXT),
        _f("status", CODE, required=True, choices=_RECORDSTATUS),
        _f("finalised_at", DATETIME),
    ),
    "follow_up_step": (
        _f("follow_up_id", STRING, required=True),
        _f("seq", INT, required=True),
        _f("description", TEXT, required=True),
        _f("due_on", DATE, required=True),
        _f("done_at", DATETIME),
        _f("note", TEXT),
    ),
    "negotiation_note": (
        _f("dealer_id", STRING, required=True),
        _f("agreement_id", STRING),
        _f("point", CODE, required=True, choices=_NEGOTIATIONPOINT),
        _f("our_position", TEXT),
        _f("their_position", TEXT),
        _f("bottom_line", TEXT),
        _f("interests", TEXT),
        _f("concession", TEXT),
        _f("policy_reference", TEXT),
        _f("noted_on", DATE, required=True),
    ),
    "contact_record_participant": (
        _f("contact_record_id", STRING, required=True),
        _f("contact_id", STRING, required=True),
    ),
    "objection": (
        _f("dealer_id", STRING, required=True),
        _f("contact_record_id", STRING),
        _f("raised_by_contact_id", STRING),
        _f("type", CODE, required=True, choices=_OBJECTIONTYPE),
        _f("verbatim", TEXT, required=True),
        _f("real_concern", TEXT),
        _f("response_pattern", CODE, choices=_RESPONSEPATTERN),
        _f("answer_given", TEXT),
        _f("playbook_answer_id", STRING),
        _f("evidence_used", JSON_LIST),
        _f("outcome", CODE, required=True, choices=_OBJECTIONOUTCOME),
        _f("follow_up_id", STRING),
        _f("raised_on", DATE, required=True),
    ),
    "training_session": (
        _f("dealer_id", STRING, required=True),
        _f("held_at", DATETIME, required=True),
        _f("topic_type", CODE, required=True, choices=_TRAININGTOPIC),
        _f("topic", TEXT, required=True),
        _f("prepared_material", TEXT),
        _f("cases_discussed", TEXT),
        _f("attendees", JSON_LIST, required=True),
        _f("customer_names_collected", JSON_LIST, required=True),
        _f("qa_notes", TEXT),
        _f("exec_debrief_at", DATETIME),
        _f("contact_record_id", STRING),
    ),
}

# --------------------------------------------------------------------------- field policies

#: Classes, credit and terms are set by managers (DOMAIN.md 1.2: "sets targets and classes").
MANAGER_ONLY_FIELDS: Final[dict[str, frozenset[str]]] = {
    "dealer": frozenset(
        {
            "abc_class",
            "performance_class",
            "credit_grade",
            "annual_integrated_class",
            "service_tier",
            "partner_tier",
            "is_key_account",
            "payment_terms",
            "credit_limit",
        }
    ),
}
#: Whole tables only managers and admins write: credit reviews, targets, territory rules.
MANAGER_ONLY_TABLES: Final = frozenset({"credit_assessment", "sales_target", "territory_setting"})
#: Written by the server's admin functions only.
SERVER_MANAGED_TABLES: Final = frozenset({"territory", "app_user"})
#: Free-text notes where both parallel texts are kept instead of a conflict.
KEEP_BOTH_FIELDS: Final[dict[str, frozenset[str]]] = {
    "dealer": frozenset({"notes"}),
    "contact": frozenset({"notes"}),
    "project": frozenset({"notes"}),
    "visit_plan": frozenset({"notes"}),
    "relationship_grade": frozenset({"notes"}),
    "retail_price_change": frozenset({"notes"}),
    "credit_assessment": frozenset({"notes"}),
    "follow_up_step": frozenset({"note"}),
    "training_session": frozenset({"qa_notes"}),
}
#: Append-only: an objection's wording is write-once from creation.
WRITE_ONCE_FIELDS: Final[dict[str, frozenset[str]]] = {
    "objection": frozenset(
        {"dealer_id", "contact_record_id", "raised_by_contact_id", "type", "verbatim", "raised_on"}
    ),
}
#: Append-only: a visit record is frozen once final.
FROZEN_WHEN: Final[dict[str, tuple[str, str]]] = {"contact_record": ("status", "final")}
#: Append-only: rows that are never deleted (a finalised record is also never deleted).
NEVER_DELETED_TABLES: Final = frozenset({"objection"})
#: References between synced rows: table -> {field: parent table}. Each is a foreign
#: key on the client (``tests/sync/test_protocol_schema.py`` keeps them equal), and
#: a territory's devices hold only that territory's rows, so the server accepts a
#: reference only to a live row of the same territory (reasons ``missing_parent``,
#: ``parent_deleted``, ``parent_out_of_scope``). Ids of people (``*_user_id``) and
#: the free ids without a foreign key are not references in this sense.
REFERENCES: Final[dict[str, dict[str, str]]] = {
    "after_sales_event": {"dealer_id": "dealer"},
    "agreement": {"dealer_id": "dealer"},
    "carried_product": {"dealer_id": "dealer"},
    "channel_conflict": {"offender_dealer_id": "dealer"},
    "channel_conflict_dealer": {"conflict_id": "channel_conflict", "dealer_id": "dealer"},
    "class_history": {"dealer_id": "dealer"},
    "competitor_note": {"dealer_id": "dealer"},
    "complaint": {"dealer_id": "dealer"},
    "contact": {"dealer_id": "dealer", "reports_to_id": "contact"},
    "contact_record": {"dealer_id": "dealer", "plan_item_id": "visit_plan_item"},
    "contact_record_participant": {"contact_record_id": "contact_record", "contact_id": "contact"},
    "credit_assessment": {"dealer_id": "dealer"},
    "dealer_assessment": {"dealer_id": "dealer"},
    "follow_up": {"dealer_id": "dealer"},
    "follow_up_step": {"follow_up_id": "follow_up"},
    "legacy_issue": {"dealer_id": "dealer"},
    "negotiation_note": {"dealer_id": "dealer", "agreement_id": "agreement"},
    "objection": {
        "dealer_id": "dealer",
        "contact_record_id": "contact_record",
        "raised_by_contact_id": "contact",
        "playbook_answer_id": "objection_answer",
    },
    "project": {"dealer_id": "dealer"},
    "relationship_grade": {"dealer_id": "dealer"},
    "report_task": {"report_id": "customer_mgmt_report"},
    "retail_price_change": {"dealer_id": "dealer"},
    "sales_figure": {"dealer_id": "dealer"},
    "sales_target": {"dealer_id": "dealer"},
    "training_session": {"dealer_id": "dealer", "contact_record_id": "contact_record"},
    "visit_plan_item": {"plan_id": "visit_plan", "dealer_id": "dealer"},
}


# --------------------------------------------------------------------------- conflict records

CONFLICT_TABLE: Final = "sync_conflict"


class ConflictKind(StrEnum):
    """Why a conflict record exists."""

    FIELD = "field"  # both sides changed the field
    DELETE_EDIT = "delete_edit"  # the row was deleted; the edit is kept here
    APPEND_ONLY = "append_only"  # the edit reached a finalised or write-once field


class ConflictStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class Resolution(StrEnum):
    """How a conflict was resolved; the chosen value is an ordinary change of the row."""

    MINE = "mine"  # the pushed value (conflict's 'mine') was applied
    THEIRS = "theirs"  # the server value was kept
    VALUE = "value"  # another value was applied (see resolved_value)
    DISMISSED = "dismissed"  # nothing to apply (e.g. an append-only edit)


_CONFLICT_FIELDS: Final = (
    _f("table_name", STRING, required=True),
    _f("row_id", STRING, required=True),
    _f("field", STRING, required=True),
    _f("kind", CODE, required=True, choices=tuple(k.value for k in ConflictKind)),
    _f("base_known", BOOL, required=True),
    _f("base", JSON),
    _f("mine", JSON),
    _f("theirs", JSON),
    _f("base_version", INT, required=True),
    _f("author_user_id", STRING, required=True),
    _f("device_id", STRING),
    _f("op_id", STRING),
    _f("theirs_user_id", STRING),
    _f("status", CODE, required=True, choices=tuple(s.value for s in ConflictStatus)),
    _f("resolution", CODE, choices=tuple(r.value for r in Resolution)),
    _f("resolved_value", JSON),
    _f("resolved_by", STRING),
    _f("resolved_at", DATETIME),
)


def _build_tables() -> dict[str, TableSpec]:
    tables: dict[str, TableSpec] = {}
    for name, own_fields in _TABLE_FIELDS.items():
        fields = {spec.name: spec for spec in (*own_fields, *_COMMON_FIELDS)}
        tables[name] = TableSpec(
            name=name,
            fields=fields,
            manager_only_fields=MANAGER_ONLY_FIELDS.get(name, frozenset()),
            keep_both_fields=KEEP_BOTH_FIELDS.get(name, frozenset()),
            write_once_fields=WRITE_ONCE_FIELDS.get(name, frozenset()),
            frozen_when=FROZEN_WHEN.get(name),
            manager_only=name in MANAGER_ONLY_TABLES,
            server_managed=name in SERVER_MANAGED_TABLES,
            never_deleted=name in NEVER_DELETED_TABLES,
            references=REFERENCES.get(name, {}),
        )
    tables[CONFLICT_TABLE] = TableSpec(
        name=CONFLICT_TABLE,
        fields={spec.name: spec for spec in (*_CONFLICT_FIELDS, *_COMMON_FIELDS)},
        pseudo=True,
        never_deleted=True,
        client_writable_fields=frozenset({"status", "resolution", "resolved_value"}),
    )
    return tables


#: Every synced table by name, in the order a snapshot sends them (parents first).
TABLES: Final[dict[str, TableSpec]] = _build_tables()
TABLE_ORDER: Final[tuple[str, ...]] = tuple(TABLES)
#: The client's own model tables (everything but the pseudo-table of conflicts).
MODEL_TABLES: Final[tuple[str, ...]] = tuple(n for n, t in TABLES.items() if not t.pseudo)


# --------------------------------------------------------------------------- values


class WireValueError(ValueError):
    """A value that does not fit its field's wire type."""


_DATETIME_FORMAT: Final = "%Y-%m-%dT%H:%M:%S.%fZ"
_UUID_RE: Final = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
#: Canonical text form of a row id: a lower-case hyphenated UUID.
ROW_ID_PATTERN: Final = _UUID_RE.pattern


def format_datetime(value: datetime) -> str:
    """The wire text of an aware instant: UTC with microseconds and 'Z'."""
    if value.tzinfo is None:
        raise WireValueError("naive datetime")
    return value.astimezone(UTC).strftime(_DATETIME_FORMAT)


def parse_datetime(text: str) -> datetime:
    """Parse a wire instant (any ISO 8601 form with an offset) to an aware UTC datetime."""
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError as error:
        raise WireValueError(f"not an ISO 8601 date-time: {text!r}") from error
    if parsed.tzinfo is None:
        raise WireValueError(f"date-time without a time zone: {text!r}")
    return parsed.astimezone(UTC)


def normalise_value(spec: FieldSpec, value: Any) -> Any:
    """Check a wire value against its field and return its canonical wire form.

    Raises :class:`WireValueError` naming what is wrong. NULL is refused for
    required fields; decimals keep their trailing zeros; instants become UTC 'Z'.
    """
    if value is None:
        if spec.required:
            raise WireValueError("a value is required")
        return None
    wire_type = spec.wire_type
    if wire_type in (STRING, TEXT, CODE):
        if not isinstance(value, str):
            raise WireValueError("expected text")
        if "\x00" in value:
            raise WireValueError("text contains a NUL character")
        if wire_type is CODE and spec.choices and value not in spec.choices:
            raise WireValueError(f"unknown code {value!r}")
        return value
    if wire_type is INT:
        if isinstance(value, bool) or not isinstance(value, int):
            raise WireValueError("expected an integer")
        if not -(2**63) <= value < 2**63:
            raise WireValueError("integer out of range")
        return value
    if wire_type is BOOL:
        if not isinstance(value, bool):
            raise WireValueError("expected true or false")
        return value
    if wire_type is DECIMAL:
        if not isinstance(value, str):
            raise WireValueError("expected a decimal string")
        try:
            number = Decimal(value)
        except InvalidOperation as error:
            raise WireValueError(f"not a decimal: {value!r}") from error
        if not number.is_finite():
            raise WireValueError("decimal must be finite")
        text = format(number, "f")
        if len(text) > 40:
            raise WireValueError("decimal too long")
        return text
    if wire_type is DATE:
        if not isinstance(value, str):
            raise WireValueError("expected a date string")
        try:
            return date.fromisoformat(value).isoformat()
        except ValueError as error:
            raise WireValueError(f"not an ISO 8601 date: {value!r}") from error
    if wire_type is TIME:
        if not isinstance(value, str):
            raise WireValueError("expected a time string")
        try:
            parsed_time = time.fromisoformat(value)
        except ValueError as error:
            raise WireValueError(f"not an ISO 8601 time: {value!r}") from error
        if parsed_time.tzinfo is not None:
            raise WireValueError("time of day must not carry a time zone")
        return parsed_time.isoformat()
    if wire_type is DATETIME:
        if not isinstance(value, str):
            raise WireValueError("expected a date-time string")
        return format_datetime(parse_datetime(value))
    if wire_type is JSON_LIST:
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            raise WireValueError("expected a list of strings")
        return list(value)
    return value  # JSON: any JSON value


def same_value(spec: FieldSpec, left: Any, right: Any) -> bool:
    """Whether two canonical wire values mean the same (decimals compare by value)."""
    if left is None or right is None:
        return left is None and right is None
    if spec.wire_type is DECIMAL:
        return bool(Decimal(left) == Decimal(right))
    return bool(left == right)


def to_wire(wire_type: WireType, value: Any) -> Any:
    """The wire form of a Python value of the given type (client side helper)."""
    if value is None:
        return None
    if wire_type is DECIMAL:
        return format(value if isinstance(value, Decimal) else Decimal(str(value)), "f")
    if wire_type is DATETIME:
        return format_datetime(value)
    if wire_type in (DATE, TIME):
        return value.isoformat()
    if wire_type is CODE:
        return str(value)
    if wire_type is JSON_LIST:
        return list(value)
    return value


def from_wire(wire_type: WireType, value: Any) -> Any:
    """The Python value of a canonical wire value (client side helper)."""
    if value is None:
        return None
    if wire_type is DECIMAL:
        return Decimal(value)
    if wire_type is DATETIME:
        return parse_datetime(value)
    if wire_type is DATE:
        return date.fromisoformat(value)
    if wire_type is TIME:
        return time.fromisoformat(value)
    if wire_type is JSON_LIST:
        return list(value)
    return value


def keep_both(server_text: str, base_text: str | None, mine: str, who: str) -> str:
    """Both parallel texts: the server's, the marker, then the incoming text.

    When the incoming text only appended to the common base, only the appended
    part follows the marker (the base is already in the server text).
    """
    addition = mine
    if base_text and mine.startswith(base_text) and server_text.startswith(base_text):
        addition = mine[len(base_text) :].lstrip("\n")
    return server_text + KEEP_BOTH_MARKER.format(who=who) + addition


# --------------------------------------------------------------------------- reasons


class Reason(StrEnum):
    """Stable codes for refusals and errors; the client translates :data:`REASON_MESSAGES`."""

    OUT_OF_SCOPE = "out_of_scope"
    UNKNOWN_TABLE = "unknown_table"
    UNKNOWN_FIELD = "unknown_field"
    INVALID_VALUE = "invalid_value"
    MISSING_FIELD = "missing_field"
    READ_ONLY_TABLE = "read_only_table"
    READ_ONLY_FIELD = "read_only_field"
    MANAGER_ONLY = "manager_only"
    APPEND_ONLY = "append_only"
    TERRITORY_IMMUTABLE = "territory_immutable"
    ROW_DELETED = "row_deleted"
    CONFLICT = "conflict"
    NOT_DELETED = "not_deleted"
    MISSING_PARENT = "missing_parent"
    PARENT_DELETED = "parent_deleted"
    PARENT_OUT_OF_SCOPE = "parent_out_of_scope"
    # request-level errors
    UNSUPPORTED_CLIENT = "unsupported_client"
    CURSOR_TOO_OLD = "cursor_too_old"
    EPOCH_CHANGED = "epoch_changed"
    NOT_AUTHENTICATED = "not_authenticated"
    TOKEN_EXPIRED = "token_expired"
    INVALID_TOKEN = "invalid_token"
    DEVICE_REVOKED = "device_revoked"
    INVALID_CREDENTIALS = "invalid_credentials"
    REFRESH_REUSED = "refresh_reused"
    FORBIDDEN = "forbidden"
    WRONG_DEVICE = "wrong_device"
    NOT_FOUND = "not_found"
    BATCH_MISMATCH = "batch_mismatch"
    VALIDATION_ERROR = "validation_error"
    BAD_REQUEST = "bad_request"
    SERVER_BUSY = "server_busy"
    TOO_MANY_ATTEMPTS = "too_many_attempts"
    INTERNAL_ERROR = "internal_error"


#: English message templates (translated where shown); placeholders come from ``params``.
REASON_MESSAGES: Final[dict[Reason, str]] = {
    Reason.OUT_OF_SCOPE: N_("The record belongs to a territory you are not assigned to."),
    Reason.UNKNOWN_TABLE: N_("This kind of record ({table}) is not synced."),
    Reason.UNKNOWN_FIELD: N_("{field}: no such field."),
    Reason.INVALID_VALUE: N_("{field}: the value is not valid ({detail})."),
    Reason.MISSING_FIELD: N_("{field}: a value is required."),
    Reason.READ_ONLY_TABLE: N_("This kind of record ({table}) can only be changed on the server."),
    Reason.READ_ONLY_FIELD: N_("{field}: this field cannot be changed."),
    Reason.MANAGER_ONLY: N_("{field}: only a manager can change this."),
    Reason.APPEND_ONLY: N_(
        "{field}: finalised records cannot be changed; the edit is kept for your manager."
    ),
    Reason.TERRITORY_IMMUTABLE: N_("A record cannot be moved to another territory."),
    Reason.ROW_DELETED: N_(
        "Someone deleted this record; your changes are kept as conflicts and it can be restored."
    ),
    Reason.CONFLICT: N_(
        "{field}: changed elsewhere at the same time; the other value stays until resolved."
    ),
    Reason.NOT_DELETED: N_("The record is not deleted, so there is nothing to restore."),
    Reason.MISSING_PARENT: N_("{field}: the record it refers to is not on the server."),
    Reason.PARENT_DELETED: N_(
        "{field}: the record it refers to was deleted elsewhere; restore it first."
    ),
    Reason.PARENT_OUT_OF_SCOPE: N_(
        "{field}: the record it refers to belongs to another territory."
    ),
    Reason.UNSUPPORTED_CLIENT: N_(
        "This version of FieldRep is not supported by the server. Please update FieldRep."
    ),
    Reason.CURSOR_TOO_OLD: N_(
        "The server no longer keeps changes that old; a full resync is needed."
    ),
    Reason.EPOCH_CHANGED: N_("The server was restored from a backup; a full resync is needed."),
    Reason.NOT_AUTHENTICATED: N_("Please sign in."),
    Reason.TOKEN_EXPIRED: N_("The session has expired; please sign in again."),
    Reason.INVALID_TOKEN: N_("The sign-in token is not valid; please sign in again."),
    Reason.DEVICE_REVOKED: N_("This device has been revoked by a manager."),
    Reason.INVALID_CREDENTIALS: N_("Wrong user name or password."),
    Reason.REFRESH_REUSED: N_(
        "The sign-in token was used twice; the device was signed out for safety."
    ),
    Reason.FORBIDDEN: N_("You are not allowed to do this."),
    Reason.WRONG_DEVICE: N_("The request names another device than the one signed in."),
    Reason.NOT_FOUND: N_("Not found."),
    Reason.BATCH_MISMATCH: N_("A batch with this id was already sent with other content."),
    Reason.VALIDATION_ERROR: N_("The request is not valid."),
    Reason.BAD_REQUEST: N_("The request is not valid."),
    Reason.SERVER_BUSY: N_("The server is busy; please try again."),
    Reason.TOO_MANY_ATTEMPTS: N_(
        "Too many failed sign-ins: sign-in is paused for a while. Try again later."
    ),
    Reason.INTERNAL_ERROR: N_("The server had an internal error."),
}


def reason_message(reason: Reason, **params: Any) -> str:
    """The English message of a reason with its placeholders filled in."""
    return REASON_MESSAGES[reason].format_map(_Defaulting(params))


class _Defaulting(dict[str, Any]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


# --------------------------------------------------------------------------- models

_STRICT = ConfigDict(extra="forbid")

RowId = Annotated[str, StringConstraints(pattern=ROW_ID_PATTERN, max_length=36)]
Role = Literal["rep", "manager", "admin"]


class ErrorResponse(BaseModel):
    """The body of every 4xx/5xx answer: a stable code, a message, optional details."""

    code: str
    message: str
    details: Any = None


class MetaResponse(BaseModel):
    """GET /v1/sync/meta: what a client checks before a sync.

    ``features``: the optional request fields this server takes (see
    ``SERVER_FEATURES``; empty from older servers).
    """

    epoch: str
    protocol_min: int
    protocol_max: int
    schema_version: int
    server_time: str
    tables: list[str]
    features: list[str] = Field(default_factory=list)


OpKind = Literal["upsert", "delete", "restore"]
OpStatus = Literal["applied", "merged", "rejected"]


class PushOp(BaseModel):
    """One change of one row: the changed fields' new values and their base values."""

    model_config = _STRICT

    op_id: UUID
    table: str = Field(min_length=1, max_length=64)
    row_id: RowId
    kind: OpKind
    fields: dict[str, Any] = Field(default_factory=dict)
    base: dict[str, Any] = Field(default_factory=dict)
    base_version: int = Field(default=0, ge=0)


class PushRequest(BaseModel):
    """POST /v1/sync/push: a frozen batch; a retry resends the same batch_id and ops."""

    model_config = _STRICT

    device_id: str = Field(min_length=1, max_length=64)
    batch_id: UUID
    ops: list[PushOp] = Field(max_length=MAX_PUSH_OPS)


class FieldIssue(BaseModel):
    """A field of an op that did not take the op's value, and why."""

    field: str
    reason: Reason
    message: str
    params: dict[str, str] = Field(default_factory=dict)


class OpResult(BaseModel):
    """The outcome of one op; nothing is dropped silently.

    ``applied``: every field took effect. ``merged``: the op was accepted but some
    fields kept another value (``conflicts``, each with a conflict record in
    ``conflict_ids``), were combined (``kept_both``) or were refused (``refused``).
    ``rejected``: nothing took effect; ``reason`` and ``message`` say why.
    ``row_version`` is the row's version after the op: the client's next base.
    """

    op_id: UUID
    status: OpStatus
    row_version: int | None = None
    deleted: bool | None = None
    conflicts: list[str] = Field(default_factory=list)
    conflict_ids: list[str] = Field(default_factory=list)
    kept_both: list[str] = Field(default_factory=list)
    refused: list[FieldIssue] = Field(default_factory=list)
    reason: Reason | None = None
    message: str | None = None
    params: dict[str, str] = Field(default_factory=dict)


class PushResponse(BaseModel):
    """The answer to a batch; a repeat of the batch gets the same answer."""

    batch_id: UUID
    epoch: str
    results: list[OpResult]


class PullRequest(BaseModel):
    """POST /v1/sync/pull: one opaque cursor per stream (territory) the client holds.

    A stream in the caller's scope without a cursor starts in snapshot mode.
    ``epoch``, when given, must be the server's (else 410 ``epoch_changed``).

    ``reconcile_from`` (optional, only to a server that lists it in
    ``MetaResponse.features``): while a device reconciles after an epoch
    change, the epoch it knew before (the one whose rows it may hold states of
    that a restore lost). The server then answers each change's
    ``restore_version`` and ``restored`` relative to the *first* restore after
    that epoch, however many followed (an epoch it does not know: relative to the
    beginning, nothing taken as shared). Without it: the latest restore, and no
    ``restored``.
    """

    model_config = _STRICT

    epoch: str | None = Field(default=None, max_length=64)
    cursors: dict[str, str] = Field(default_factory=dict, max_length=1000)
    limit: int = Field(default=DEFAULT_PULL_LIMIT, ge=1, le=MAX_PULL_LIMIT)
    reconcile_from: str | None = Field(default=None, max_length=64)


class Change(BaseModel):
    """The current state of one row, in server order, with its new row_version.

    ``change_no`` is the stream's change number in log mode and null in snapshot
    mode. ``values`` holds every field of the table (tombstones included).
    A row changed while a snapshot is being paged can arrive twice (from the
    snapshot and again from the log): apply a change only when its row_version
    is newer than the local one. Cursors are opaque: store them as received.

    ``restore_version`` is the row's version when the server was last restored
    from a backup (0: the row was created after it; null: never restored, or a
    server that does not say). Versions are reused after a restore: a device
    whose copy of the row is newer than this lost that state, and if the row's
    version is above it too, the row also changed after the restore.

    ``restored`` (only for a pull with ``reconcile_from``; null otherwise, or when
    the server cannot tell): the fields of the row changed since that restore,
    each with its value at the restore (wire values; null for a row created after
    it: no state shared). A field not in it has not changed since. With it a device
    that lost a state of the row settles each field three-way, the value at the
    restore as base: changed only by the device (its lost edit) is applied again,
    changed only on the server is taken, changed on both is a conflict record.
    """

    stream: str
    change_no: int | None
    table: str
    row_id: str
    row_version: int
    deleted: bool
    values: dict[str, Any]
    restore_version: int | None = None
    restored: dict[str, Any] | None = None


class UserInfo(BaseModel):
    """A person as clients see them (for names in digests and owner pickers)."""

    id: str
    username: str
    display_name: str
    role: Role
    territory_ids: list[str] = Field(default_factory=list)
    #: The names of ``territory_ids`` (sign-in answers only; empty from older servers):
    #: a rep with several territories picks one by name.
    territory_names: dict[str, str] = Field(default_factory=dict)


class PullResponse(BaseModel):
    """A page of changes and the cursors to store in the same transaction."""

    epoch: str
    changes: list[Change]
    cursors: dict[str, str]
    has_more: bool
    #: Streams the client sent a cursor for but may no longer see: drop their rows.
    revoked_streams: list[str] = Field(default_factory=list)
    #: The territories (streams) in the caller's scope when the page was made, as the
    #: server's pull computes it; null: every territory (an admin), or a server too
    #: old to say. A device that resynced (410: it sent no cursors, so nothing could be
    #: revoked) drops the rows of every other territory once the pull ends.
    scope: list[str] | None = None
    #: The people named in ``updated_by`` of these changes.
    users: list[UserInfo] = Field(default_factory=list)


# --- auth


class LoginRequest(BaseModel):
    """POST /v1/auth/login. Without ``device_id`` the server registers a new device."""

    model_config = _STRICT

    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=1024)
    device_id: str | None = Field(default=None, max_length=64)
    device_name: str = Field(default="FieldRep", min_length=1, max_length=200)


class RefreshRequest(BaseModel):
    """POST /v1/auth/refresh: a refresh token is valid once; it is rotated on use."""

    model_config = _STRICT

    refresh_token: str = Field(min_length=1, max_length=512)


class TokenResponse(BaseModel):
    """Tokens for one device: a short-lived access token and a rotating refresh token."""

    access_token: str
    refresh_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    refresh_expires_in: int
    device_id: str
    user: UserInfo
    epoch: str


class DeviceInfo(BaseModel):
    """A registered device of a user."""

    id: str
    user_id: str
    username: str
    name: str
    created_at: str
    last_seen_at: str | None
    revoked_at: str | None


class DeviceList(BaseModel):
    devices: list[DeviceInfo]


# --- audit and conflicts


class FieldChange(BaseModel):
    old: Any = None
    new: Any = None


class AuditEntry(BaseModel):
    """One accepted change: who, which device, when, and each field old -> new."""

    id: int
    at: str
    user_id: str
    username: str
    device_id: str | None
    territory_id: str
    table: str
    row_id: str
    action: Literal["insert", "update", "delete", "restore"]
    row_version: int
    change_no: int
    changes: dict[str, FieldChange]


#: Most row ids one GET /v1/audit may name (a record and its child rows; more in
#: several requests, so the query string stays short).
AUDIT_MAX_ROW_IDS = 100


class AuditPage(BaseModel):
    """A page of audit entries, newest last; pass ``next_after`` as ``after`` for more."""

    entries: list[AuditEntry]
    next_after: int | None


class ConflictRecord(BaseModel):
    """A conflict record as listed in the conflict inbox."""

    id: str
    territory_id: str
    row_version: int
    table_name: str
    row_id: str
    field: str
    kind: ConflictKind
    base_known: bool
    base: Any = None
    mine: Any = None
    theirs: Any = None
    base_version: int
    author_user_id: str
    device_id: str | None = None
    op_id: str | None = None
    theirs_user_id: str | None = None
    status: ConflictStatus
    resolution: Resolution | None = None
    resolved_value: Any = None
    resolved_by: str | None = None
    resolved_at: str | None = None
    created_at: str


class ConflictPage(BaseModel):
    conflicts: list[ConflictRecord]
    next_after: str | None


class ResolveRequest(BaseModel):
    """POST /v1/conflicts/{id}/resolve: keep theirs, apply mine, or apply another value."""

    model_config = _STRICT

    resolution: Resolution
    value: Any = None


class ResolveResponse(BaseModel):
    conflict: ConflictRecord
    #: The row's version after the resolution (None when nothing changed).
    row_version: int | None


class HealthResponse(BaseModel):
    status: Literal["ok"]
    database: Literal["ok"]
    epoch: str
