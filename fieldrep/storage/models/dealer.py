"""The dealer profile card (客户资料卡, DOMAIN.md §2.1) and what hangs off it."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from fieldrep.storage.enums import (
    AbcClass,
    ChannelSegment,
    ChannelType,
    ClassScheme,
    CooperationInterest,
    CreditRisk,
    DealerPhilosophy,
    DealerStatus,
    DealerTier,
    DecisionRole,
    LifecycleStatus,
    NegotiationPoint,
    PartnershipSystem,
    PartnerTier,
    PaymentTerms,
    PerformanceClass,
    PeriodType,
    ProjectLine,
    ProjectRole,
    ReachMode,
    SalesForm,
    ServiceTier,
)
from fieldrep.storage.models.base import SyncedBase, code, ref


class Dealer(SyncedBase):
    """A dealer (经销商) with the 17 sections of the customer profile card."""

    __tablename__ = "dealer"
    # Dealer lists filter by class, city or status, skip tombstones and page in
    # name order; with ``deleted`` in the index the total count never reads rows.
    __table_args__ = (
        Index("ix_dealer_live_name", "deleted", "name"),
        Index("ix_dealer_abc_class_name", "abc_class", "deleted", "name"),
        Index("ix_dealer_city_name", "city", "deleted", "name"),
        Index("ix_dealer_status_name", "status", "deleted", "name"),
    )

    # 1. Basic data
    name: Mapped[str] = mapped_column(index=True)
    short_name: Mapped[str | None]
    province: Mapped[str | None] = mapped_column(index=True)
    city: Mapped[str | None] = mapped_column(index=True)
    district: Mapped[str | None]
    address: Mapped[str | None]
    phone: Mapped[str | None]
    fax: Mapped[str | None]
    email: Mapped[str | None]
    website: Mapped[str | None]
    credit_code: Mapped[str | None]  # 统一社会信用代码
    legal_rep: Mapped[str | None]
    key_personnel: Mapped[str | None]
    outlet_count: Mapped[int | None] = mapped_column(Integer)
    outlets: Mapped[str | None]
    business_scale: Mapped[str | None]
    employee_count: Mapped[int | None] = mapped_column(Integer)
    registered_capital: Mapped[Decimal | None]
    category_sales_capacity: Mapped[Decimal | None]  # 同类产品的总销售能力 (yuan per year)
    business_rules: Mapped[str | None]
    # 2. Relationship start and counterparts
    relationship_start_date: Mapped[date | None]
    our_contact_user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    their_contact_id: Mapped[str | None] = mapped_column(String(36))
    # 4. Early classification and its criteria
    initial_class: Mapped[str | None]
    main_products: Mapped[str | None]
    reputation: Mapped[str | None]
    location_desc: Mapped[str | None]
    floor_area: Mapped[Decimal | None]  # square metres
    attitude: Mapped[str | None]
    volume_desc: Mapped[str | None]
    stock_desc: Mapped[str | None]
    # 5, 6, 15, 16 and other schemes (current values; history in class_history)
    abc_class: Mapped[AbcClass] = code(AbcClass, nullable=False, index=True)
    performance_class: Mapped[PerformanceClass | None] = code(PerformanceClass)
    credit_grade: Mapped[str | None]
    relationship_grade: Mapped[str | None]
    annual_integrated_class: Mapped[str | None]
    service_tier: Mapped[ServiceTier | None] = code(ServiceTier)
    partner_tier: Mapped[PartnerTier | None] = code(PartnerTier)
    is_key_account: Mapped[bool] = mapped_column(default=False)
    is_benchmark: Mapped[bool] = mapped_column(default=False)
    lifecycle_status: Mapped[LifecycleStatus] = code(
        LifecycleStatus, nullable=False, default=LifecycleStatus.COOPERATING
    )
    status: Mapped[DealerStatus] = code(DealerStatus, nullable=False, default=DealerStatus.ACTIVE)
    # 8, 9. Settlement
    settlement_time: Mapped[str | None]
    settlement_method: Mapped[str | None]
    invoice_usage: Mapped[str | None]
    settlement_procedure: Mapped[str | None]
    business_contact_id: Mapped[str | None] = mapped_column(String(36))
    settlement_contact_id: Mapped[str | None] = mapped_column(String(36))
    payment_terms: Mapped[PaymentTerms | None] = code(PaymentTerms)
    credit_limit: Mapped[Decimal | None]
    # 12, 14. Delivery and after-sales terms
    delivery_requirements: Mapped[str | None]
    after_sales_terms: Mapped[str | None]
    # Profile facts from the other seeds (nature, history, strength, reach)
    nature: Mapped[str | None]
    history: Mapped[str | None]
    staff_quality: Mapped[str | None]
    warehouse_capacity: Mapped[str | None]
    delivery_capacity: Mapped[str | None]
    philosophy: Mapped[DealerPhilosophy | None] = code(DealerPhilosophy)
    local_market_share: Mapped[Decimal | None]  # percent
    profit_level: Mapped[str | None]
    financial_status: Mapped[str | None]
    management_level: Mapped[str | None]
    upstream_relations: Mapped[str | None]
    core_area: Mapped[str | None]
    radiation_area: Mapped[str | None]
    reach_mode: Mapped[ReachMode | None] = code(ReachMode)
    customer_structure: Mapped[str | None]
    promo_services: Mapped[str | None]
    business_mode: Mapped[str | None]
    product_dev_type: Mapped[str | None]
    industries: Mapped[str | None]
    success_case_industries: Mapped[str | None]
    org_structure: Mapped[str | None]
    decision_process: Mapped[str | None]
    resource_focus: Mapped[str | None]
    key_products: Mapped[str | None]
    support_needs: Mapped[str | None]
    cooperation_history: Mapped[str | None]
    expectations: Mapped[str | None]
    channel_type: Mapped[ChannelType | None] = code(ChannelType)
    channel_segment: Mapped[ChannelSegment | None] = code(ChannelSegment)
    sales_form: Mapped[SalesForm | None] = code(SalesForm)
    partnership_system: Mapped[PartnershipSystem | None] = code(PartnershipSystem)
    tier: Mapped[DealerTier] = code(DealerTier, nullable=False, default=DealerTier.DEALER)
    # Recruitment documents (001)
    has_business_license: Mapped[bool] = mapped_column(default=False)
    qualification_certs: Mapped[str | None]
    past_cases: Mapped[str | None]
    after_sales_capability: Mapped[str | None]
    coverage: Mapped[str | None]
    customer_resources: Mapped[str | None]
    team_size: Mapped[int | None] = mapped_column(Integer)
    financial_proof: Mapped[str | None]
    notes: Mapped[str | None]
    profile_reviewed_at: Mapped[datetime | None]


class DealerAssessment(SyncedBase):
    """A dated assessment against the four selection standards and the fit rule (§2.2)."""

    __tablename__ = "dealer_assessment"

    dealer_id: Mapped[str] = ref("dealer", nullable=False)
    assessed_at: Mapped[date]
    credit_standard: Mapped[str | None]
    scale_standard: Mapped[str | None]
    network_standard: Mapped[str | None]
    philosophy_standard: Mapped[str | None]
    scope_conflict: Mapped[bool] = mapped_column(default=False)
    enthusiasm: Mapped[str | None]
    operating_ability: Mapped[str | None]
    reputation: Mapped[str | None]
    social_relations: Mapped[str | None]
    fit_score_pct: Mapped[int | None] = mapped_column(Integer)
    conclusion: Mapped[str | None]


class Contact(SyncedBase):
    """A person at a dealer (利害关系人) and their place in the decision chain (§2.3)."""

    __tablename__ = "contact"

    dealer_id: Mapped[str] = ref("dealer", nullable=False)
    name: Mapped[str] = mapped_column(index=True)
    title: Mapped[str | None]
    department: Mapped[str | None]
    phone: Mapped[str | None] = mapped_column(index=True)
    mobile: Mapped[str | None] = mapped_column(index=True)
    email: Mapped[str | None]
    wechat: Mapped[str | None]
    address: Mapped[str | None]
    birth_date: Mapped[date | None]
    education: Mapped[str | None]
    native_place: Mapped[str | None]
    family: Mapped[str | None]
    personality: Mapped[str | None]
    hobbies: Mapped[str | None]
    decision_role: Mapped[DecisionRole] = code(
        DecisionRole, nullable=False, default=DecisionRole.UNKNOWN
    )
    reports_to_id: Mapped[str | None] = ref("contact")
    is_senior: Mapped[bool] = mapped_column(default=False)
    is_business_contact: Mapped[bool] = mapped_column(default=False)
    is_settlement_contact: Mapped[bool] = mapped_column(default=False)
    is_counterpart: Mapped[bool] = mapped_column(default=False)
    is_sales_staff: Mapped[bool] = mapped_column(default=False)
    is_shop_assistant: Mapped[bool] = mapped_column(default=False)
    cooperation_interest: Mapped[CooperationInterest | None] = code(CooperationInterest)
    met_at: Mapped[str | None]
    project_role: Mapped[ProjectRole | None] = code(ProjectRole)
    project_line: Mapped[ProjectLine | None] = code(ProjectLine)
    can_block: Mapped[bool] = mapped_column(default=False)
    notes: Mapped[str | None]


class ClassHistory(SyncedBase):
    """One change of one classification scheme, with its reason (§2.4)."""

    __tablename__ = "class_history"

    dealer_id: Mapped[str] = ref("dealer", nullable=False)
    scheme: Mapped[ClassScheme] = code(ClassScheme, nullable=False)
    old_value: Mapped[str | None]
    new_value: Mapped[str]
    reason: Mapped[str]
    changed_on: Mapped[date]
    changed_by: Mapped[str | None] = mapped_column(String(36))
    period_label: Mapped[str | None]  # e.g. 2026Q3 or 2026 for periodic grades


class RelationshipGrade(SyncedBase):
    """The 客情 grade of one quarter or year on its five dimensions (§2.4, §2.1 item 15)."""

    __tablename__ = "relationship_grade"

    dealer_id: Mapped[str] = ref("dealer", nullable=False)
    period_type: Mapped[PeriodType] = code(PeriodType, nullable=False)
    period_start: Mapped[date]
    familiarity: Mapped[int] = mapped_column(Integer)
    closeness: Mapped[int] = mapped_column(Integer)
    sales_support: Mapped[int] = mapped_column(Integer)
    complaint_level: Mapped[int] = mapped_column(Integer)
    receivable_level: Mapped[int] = mapped_column(Integer)
    overall_grade: Mapped[str]
    notes: Mapped[str | None]


class CreditAssessment(SyncedBase):
    """A 5C credit review (§2.5); the score scale is a setting."""

    __tablename__ = "credit_assessment"

    dealer_id: Mapped[str] = ref("dealer", nullable=False)
    reviewed_at: Mapped[date]
    capital: Mapped[int] = mapped_column(Integer)
    character: Mapped[int] = mapped_column(Integer)
    capacity: Mapped[int] = mapped_column(Integer)
    collateral: Mapped[int] = mapped_column(Integer)
    condition: Mapped[int] = mapped_column(Integer)
    overall_grade: Mapped[str]
    risk_level: Mapped[CreditRisk] = code(CreditRisk, nullable=False)
    payment_terms: Mapped[PaymentTerms | None] = code(PaymentTerms)
    credit_limit: Mapped[Decimal | None]
    fulfilment_record: Mapped[str | None]
    third_party_source: Mapped[str | None]
    notes: Mapped[str | None]


class CarriedProduct(SyncedBase):
    """A brand, variety and spec the dealer carries, ours or a competitor's (§2.1 item 7)."""

    __tablename__ = "carried_product"

    dealer_id: Mapped[str] = ref("dealer", nullable=False)
    brand: Mapped[str]
    variety: Mapped[str | None]
    spec: Mapped[str | None]
    is_ours: Mapped[bool] = mapped_column(default=False)


class RetailPriceChange(SyncedBase):
    """A change of the end retail price seen at the dealer (§2.1 item 10)."""

    __tablename__ = "retail_price_change"

    dealer_id: Mapped[str] = ref("dealer", nullable=False)
    product: Mapped[str]
    old_price: Mapped[Decimal | None]
    new_price: Mapped[Decimal]
    changed_on: Mapped[date]
    notes: Mapped[str | None]


class AfterSalesEvent(SyncedBase):
    """An after-sales case at the dealer (§2.1 item 14)."""

    __tablename__ = "after_sales_event"

    dealer_id: Mapped[str] = ref("dealer", nullable=False)
    occurred_on: Mapped[date]
    description: Mapped[str]
    handling: Mapped[str | None]


class SalesFigure(SyncedBase):
    """Sales, collections and stock of one dealer, period and product (§2.14)."""

    __tablename__ = "sales_figure"

    dealer_id: Mapped[str] = ref("dealer", nullable=False)
    period_type: Mapped[PeriodType] = code(PeriodType, nullable=False)
    period_start: Mapped[date] = mapped_column(index=True)
    product: Mapped[str | None]
    volume: Mapped[Decimal | None]
    revenue: Mapped[Decimal | None]
    collected: Mapped[Decimal | None]
    receivable: Mapped[Decimal | None]
    dealer_inventory: Mapped[Decimal | None]
    retail_price: Mapped[Decimal | None]
    purchase_qty: Mapped[Decimal | None]
    purchase_frequency: Mapped[int | None] = mapped_column(Integer)
    market_share: Mapped[Decimal | None]
    dealer_confirmed_at: Mapped[datetime | None]


class SalesTarget(SyncedBase):
    """A target broken down by period and channel, with its warning line (§2.14, §3.3)."""

    __tablename__ = "sales_target"

    rep_user_id: Mapped[str | None] = mapped_column(String(36), index=True)
    dealer_id: Mapped[str | None] = ref("dealer")
    channel: Mapped[str | None]
    period_type: Mapped[PeriodType] = code(PeriodType, nullable=False)
    period_start: Mapped[date]
    revenue_target: Mapped[Decimal | None]
    volume_target: Mapped[Decimal | None]
    collection_target: Mapped[Decimal | None]
    warning_line_pct: Mapped[Decimal | None]


class Agreement(SyncedBase):
    """A supply and cooperation agreement and its key terms (§2.15, §2.1 item 3)."""

    __tablename__ = "agreement"

    dealer_id: Mapped[str] = ref("dealer", nullable=False)
    title: Mapped[str]
    signed_on: Mapped[date | None]
    valid_from: Mapped[date | None]
    valid_to: Mapped[date | None]
    file_ref: Mapped[str | None]
    terms: Mapped[str | None]
    sales_area: Mapped[str | None]
    price_system: Mapped[str | None]
    after_sales_split: Mapped[str | None]
    profit_margin: Mapped[str | None]
    investment: Mapped[str | None]
    rights: Mapped[str | None]
    risk: Mapped[str | None]
    support: Mapped[str | None]
    is_exclusive: Mapped[bool] = mapped_column(default=False)
    cross_territory_protection: Mapped[bool] = mapped_column(default=False)
    policy_reference: Mapped[str | None]


class NegotiationNote(SyncedBase):
    """Where a negotiation stands on one of the five points (§2.15)."""

    __tablename__ = "negotiation_note"

    dealer_id: Mapped[str] = ref("dealer", nullable=False)
    agreement_id: Mapped[str | None] = ref("agreement")
    point: Mapped[NegotiationPoint] = code(NegotiationPoint, nullable=False)
    our_position: Mapped[str | None]
    their_position: Mapped[str | None]
    bottom_line: Mapped[str | None]
    interests: Mapped[str | None]
    concession: Mapped[str | None]
    policy_reference: Mapped[str | None]
    noted_on: Mapped[date]
