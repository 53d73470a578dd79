"""Enumerations stored as stable codes, each with a translatable label.

Codes never change once shipped (they are in databases and on the wire); labels
are English source strings translated through :mod:`fieldrep.i18n`.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, Self

from fieldrep.i18n import N_, _


class LabelledEnum(StrEnum):
    """A StrEnum whose members carry an English label marked for translation."""

    english: str

    def __new__(cls, code: str, english: str = "") -> Self:
        member = str.__new__(cls, code)
        member._value_ = code
        member.english = english or code
        return member

    @property
    def code(self) -> str:
        return str(self._value_)

    @property
    def label(self) -> str:
        """The label in the current language."""
        return _(self.english)

    @classmethod
    def parse(cls, value: Any) -> Self:
        """Accept a member, a code, or a label in any supported language."""
        if isinstance(value, cls):
            return value
        text = str(value).strip()
        for member in cls:
            if text in (member.code, member.english, member.label):
                return member
        raise ValueError(text)


class Role(LabelledEnum):
    REP = "rep", N_("Sales rep")
    MANAGER = "manager", N_("Area manager")
    ADMIN = "admin", N_("Administrator")


class AbcClass(LabelledEnum):
    A = "A", N_("Class A")
    B = "B", N_("Class B")
    C = "C", N_("Class C")


class PerformanceClass(LabelledEnum):
    """The 532 method's buckets; the cut-offs are a setting (DOMAIN.md GAP)."""

    FIVE = "5", N_("Top tier (5)")
    THREE = "3", N_("Middle tier (3)")
    TWO = "2", N_("Lower tier (2)")


class ClassScheme(LabelledEnum):
    ABC = "abc", N_("Visit class (A/B/C)")
    INITIAL = "initial", N_("Initial classification")
    PERFORMANCE = "performance", N_("Performance class (532)")
    RELATIONSHIP = "relationship", N_("Relationship grade")
    CREDIT = "credit", N_("Credit grade")
    ANNUAL_INTEGRATED = "annual_integrated", N_("Annual integrated class")
    SERVICE_TIER = "service_tier", N_("Service tier")
    PARTNER_TIER = "partner_tier", N_("Partner tier")


class ServiceTier(LabelledEnum):
    VIP = "vip", N_("VIP")
    REGULAR = "regular", N_("Regular")


class PartnerTier(LabelledEnum):
    GOLD = "gold", N_("Gold partner")
    SILVER = "silver", N_("Silver partner")
    NONE = "none", N_("No tier")


class LifecycleStatus(LabelledEnum):
    PROSPECT = "prospect", N_("Prospect")
    CONTACTED = "contacted", N_("Contacted")
    INTENT_STRONG = "intent_strong", N_("Strong intent")
    INTENT_WEAK = "intent_weak", N_("Weak intent")
    TRAINING = "training", N_("In training")
    COOPERATING = "cooperating", N_("Cooperating")
    BENCHMARK = "benchmark", N_("Benchmark dealer")
    ELIMINATED = "eliminated", N_("Eliminated")


class ChannelType(LabelledEnum):
    PRODUCT = "product", N_("Product type")
    DISTRIBUTION = "distribution", N_("Distribution type")
    INTEGRATION = "integration", N_("Integration type")


CHANNEL_TALKING_POINTS: dict[ChannelType, str] = {
    ChannelType.PRODUCT: N_("Focus on our product margins and where our products fit with theirs."),
    ChannelType.DISTRIBUTION: N_(
        "Focus on margins and market size; use past years' sales figures to raise interest."
    ),
    ChannelType.INTEGRATION: N_("Focus on our product margins and how we protect their projects."),
}


class ChannelSegment(LabelledEnum):
    ONLINE = "online", N_("Online marketplace")
    OFFLINE_AGENT = "offline_agent", N_("Offline agent network")
    VERTICAL = "vertical", N_("Industry vertical channel")
    CROSS_BORDER = "cross_border", N_("Cross-border channel")


class SalesForm(LabelledEnum):
    FRANCHISE = "franchise", N_("Franchise")
    AGENCY = "agency", N_("Agency")
    DISTRIBUTION = "distribution", N_("Distribution")
    PURCHASE_SALE = "purchase_sale", N_("Purchase and resale")


class PartnershipSystem(LabelledEnum):
    CONTRACT = "contract", N_("Contractual")
    ADMINISTERED = "administered", N_("Administered")
    OWNERSHIP = "ownership", N_("Ownership")


class DealerTier(LabelledEnum):
    DEALER = "dealer", N_("Dealer")
    SUB_DISTRIBUTOR = "sub_distributor", N_("Sub-distributor")


class DealerPhilosophy(LabelledEnum):
    QUICK_MONEY = "quick_money", N_("Quick money")
    SUSTAINED = "sustained", N_("Sustained operation")


class ReachMode(LabelledEnum):
    DIRECT = "direct", N_("Direct")
    SUB_DISTRIBUTOR = "via_sub_distributor", N_("Through sub-distributors")
    CROSS_TERRITORY = "cross_territory", N_("Cross-territory selling")


class DealerStatus(LabelledEnum):
    ACTIVE = "active", N_("Active")
    DORMANT = "dormant", N_("Dormant")
    CLOSED = "closed", N_("Closed")


class DecisionRole(LabelledEnum):
    DECISION_MAKER = "decision_maker", N_("Decision maker")
    INFLUENCER = "influencer", N_("Influencer")
    USER = "user", N_("User")
    GATEKEEPER = "gatekeeper", N_("Gatekeeper")
    UNKNOWN = "unknown", N_("Unknown")


class CooperationInterest(LabelledEnum):
    PERSONAL = "personal", N_("Personal cooperation")
    COMPANY = "company", N_("Company cooperation")


class ProjectRole(LabelledEnum):
    KEY_PERSON = "key_person", N_("Key person")
    DECISION_MAKER = "decision_maker", N_("Decision maker")


class ProjectLine(LabelledEnum):
    TECHNICAL = "technical", N_("Technical line")
    ECONOMIC = "economic", N_("Economic line")


class CreditRisk(LabelledEnum):
    LOW = "low", N_("Low risk")
    MEDIUM = "medium", N_("Medium risk")
    HIGH = "high", N_("High risk")


class PaymentTerms(LabelledEnum):
    PREPAY = "prepay", N_("Prepayment")
    SHORTENED = "shortened", N_("Shortened terms")
    NORMAL = "normal", N_("Normal terms")
    EXTENDED = "extended", N_("Extended terms")


class PlanHorizon(LabelledEnum):
    DAY = "day", N_("Daily plan")
    WEEK = "week", N_("Weekly plan")
    MONTH = "month", N_("Monthly plan")


class PlanItemStatus(LabelledEnum):
    PLANNED = "planned", N_("Planned")
    DONE = "done", N_("Done")
    IN_PROGRESS = "in_progress", N_("In progress")
    NOT_DONE = "not_done", N_("Not done")
    ADDED = "added", N_("Added")


class VisitType(LabelledEnum):
    DEVELOPMENT = "development", N_("Development visit")
    RETURN_VISIT = "return_visit", N_("Return visit")
    TRAINING = "training", N_("Training")
    ASSISTED = "assisted", N_("Assisted visit")
    EXEC_VISIT = "exec_visit", N_("Senior management visit")
    DEALER_MEETING = "dealer_meeting", N_("Dealer meeting")
    BRIEFING = "briefing", N_("Dealer briefing")


class ContactMethod(LabelledEnum):
    VISIT = "visit", N_("Visit")
    PHONE = "phone", N_("Phone")
    MEETING = "meeting", N_("Meeting")
    TRAINING = "training", N_("Training")
    ONLINE = "online", N_("Online")


class RecordStatus(LabelledEnum):
    DRAFT = "draft", N_("Draft")
    FINAL = "final", N_("Final")


class NextStep(LabelledEnum):
    PURSUE_TRAINING = "pursue_training", N_("Pursue a training slot")
    NO_VALUE = "no_value", N_("No value, stop spending time")
    CONTINUE = "continue", N_("Keep following up")


class ObjectionType(LabelledEnum):
    DEMAND = "demand", N_("Demand objection")
    FINANCIAL = "financial", N_("Financial objection")
    AUTHORITY = "authority", N_("Authority objection")
    PRICE = "price", N_("Price objection")
    PRODUCT = "product", N_("Product objection")
    BRAND = "brand", N_("Brand objection")
    PROMOTION = "promotion", N_("Promotion objection")
    REWARD = "reward", N_("Reward objection")


OBJECTION_EXAMPLES: dict[ObjectionType, str] = {
    ObjectionType.DEMAND: N_("We already carry a similar brand."),
    ObjectionType.FINANCIAL: N_("Money is tight; we cannot stock up or pay cash."),
    ObjectionType.AUTHORITY: N_("Our boss is not here."),
    ObjectionType.PRICE: N_("Your price is too high; our margin is too thin."),
    ObjectionType.PRODUCT: N_("Your range is narrow and the styles are dated."),
    ObjectionType.BRAND: N_("Your brand is little known; consumers do not recognise it."),
    ObjectionType.PROMOTION: N_("Too few promotional items, and you send no promoters."),
    ObjectionType.REWARD: N_("Your rebates are too low; the margin is too thin."),
}


class ResponsePattern(LabelledEnum):
    AFFIRM_SUPPLEMENT_GUIDE = "affirm_supplement_guide", N_("Affirm + supplement + guide")
    FABE = "fabe", N_("FABE")
    FAB = "fab", N_("FAB")
    THREE_TIER = "three_tier", N_("Three-tier answer")
    FEATURE_VALUE_EVIDENCE = "feature_value_evidence", N_("Feature - value - evidence")
    VALUE_ADD_NOT_DISCOUNT = "value_add_not_discount", N_("Added value, not a discount")
    ROI_QUANTIFY = "roi_quantify", N_("Quantify the return")
    DEMO = "demo", N_("Demonstration")
    PROOF = "proof", N_("Proof material")
    LISTEN = "listen", N_("Listen")
    QUESTION = "question", N_("Ask questions")
    OTHER = "other", N_("Other")


class ObjectionOutcome(LabelledEnum):
    OPEN = "open", N_("Still open")
    RESOLVED = "resolved", N_("Resolved")
    PARTIALLY = "partially", N_("Partly resolved")
    DEFERRED = "deferred", N_("Deferred")
    LOST = "lost", N_("Lost")


class FollowUpDirection(LabelledEnum):
    WE_OWE = "we_owe", N_("We owe the dealer")
    DEALER_OWES = "dealer_owes", N_("The dealer owes us")
    INTERNAL = "internal", N_("Internal")


class FollowUpSource(LabelledEnum):
    VISIT_AGREEMENT = "visit_agreement", N_("New agreement from a visit")
    VISIT_PLAN = "visit_plan", N_("New plan from a visit")
    OBJECTION = "objection", N_("Objection")
    LEGACY_ISSUE = "legacy_issue", N_("Legacy issue")
    COMPLAINT = "complaint", N_("Complaint")
    TRAINING = "training", N_("Training")
    MANUAL = "manual", N_("Entered by hand")


class FollowUpStatus(LabelledEnum):
    OPEN = "open", N_("Open")
    IN_PROGRESS = "in_progress", N_("In progress")
    BLOCKED = "blocked", N_("Blocked")
    DONE = "done", N_("Done")
    CANCELLED = "cancelled", N_("Cancelled")


class LegacyCategory(LabelledEnum):
    EVIDENCED = "evidenced", N_("Evidenced: must be resolved")
    UNRESOLVABLE = "unresolvable", N_("Cannot be resolved")
    DISCRETIONARY = "discretionary", N_("May or may not be resolved")


class LegacyStatus(LabelledEnum):
    OPEN = "open", N_("Open")
    IN_PROGRESS = "in_progress", N_("Being resolved")
    RESOLVED = "resolved", N_("Resolved")
    REJECTED = "rejected", N_("Rejected")
    CLOSED = "closed", N_("Closed with an answer")


class ComplaintCategory(LabelledEnum):
    SALES_POLICY = "sales_policy", N_("Sales policy")
    AFTER_SALES = "after_sales", N_("After-sales service")
    PRICE_DECEPTION = "price_deception", N_("Price cheating")
    MARKET_ORDER = "market_order", N_("Market order")
    CROSS_TERRITORY = "cross_territory", N_("Cross-territory selling")
    RETURN_EXCHANGE = "return_exchange", N_("Returns and exchanges")
    QUALITY = "quality", N_("Quality")
    ADVANCED_EXPENSES = "advanced_expenses", N_("Expenses advanced by the dealer")
    ORDERING_DELIVERY = "ordering_delivery", N_("Ordering and delivery")
    EXPIRED_GOODS = "expired_goods", N_("Expired goods")
    DAMAGED_PACKAGING = "damaged_packaging", N_("Damaged packaging")
    TRANSIT_LOSS = "transit_loss", N_("Loss in transit")
    REGULATORY_PENALTY = "regulatory_penalty", N_("Penalty")
    STOCKOUT = "stockout", N_("Stock-out")


class ComplaintStatus(LabelledEnum):
    RECEIVED = "received", N_("Received")
    HANDLING = "handling", N_("Being handled")
    ESCALATED = "escalated", N_("Escalated")
    CLOSED = "closed", N_("Closed")


class PromoType(LabelledEnum):
    TIME_LIMITED_DISCOUNT = "time_limited_discount", N_("Time-limited discount")
    BUNDLE = "bundle", N_("Bundle")
    OTHER = "other", N_("Other")
    NONE = "none", N_("None")


class PeriodType(LabelledEnum):
    WEEK = "week", N_("Week")
    MONTH = "month", N_("Month")
    QUARTER = "quarter", N_("Quarter")
    YEAR = "year", N_("Year")


class NegotiationPoint(LabelledEnum):
    PROFIT_MARGIN = "profit_margin", N_("Profit margin")
    INVESTMENT = "investment", N_("Dealer investment")
    RIGHTS = "rights", N_("Rights")
    RISK = "risk", N_("Risk")
    SUPPORT = "support", N_("Support")


class ConflictType(LabelledEnum):
    CROSS_TERRITORY = "cross_territory", N_("Cross-territory selling")
    PRICE_DUMPING = "price_dumping", N_("Price dumping")
    PRICE_DECEPTION = "price_deception", N_("Price cheating")


class ConflictAction(LabelledEnum):
    WARNING = "warning", N_("Warning")
    GRADED_PENALTY = "graded_penalty", N_("Graded penalty")
    ARBITRATION = "arbitration", N_("Arbitration")
    CRISIS_PLAN = "crisis_plan", N_("Crisis plan")


class CaseStatus(LabelledEnum):
    OPEN = "open", N_("Open")
    IN_PROGRESS = "in_progress", N_("In progress")
    CLOSED = "closed", N_("Closed")


class TrainingTopic(LabelledEnum):
    PRODUCT_KNOWLEDGE = "product_knowledge", N_("Product knowledge")
    SALES_SKILLS = "sales_skills", N_("Sales skills")
    SHOP_ASSISTANT = "shop_assistant", N_("Shop assistant selling skills")
    BIDDING = "bidding", N_("Bidding support")
    PRESALES_TECH = "presales_tech", N_("Pre-sales technical support")
    SYSTEM_USE = "system_use", N_("System use")
    MONTHLY_MEETING = "monthly_meeting", N_("Monthly meeting training")


class InfoSource(LabelledEnum):
    DESIGN_INSTITUTE = "design_institute", N_("Design institute")
    PLANNING_APPROVAL = "planning_approval", N_("Planning approval office")
    FIRE_DEPARTMENT = "fire_department", N_("Fire department")
    TENDER_NOTARY = "tender_notary", N_("Tender notary office")
    MEDIA = "media", N_("Media and web")
    CONTRACTOR = "contractor", N_("Contractor (party B)")
    INVESTOR = "investor", N_("Investor (party A)")
    SUPERVISOR = "supervisor", N_("Supervision company")
    CONSTRUCTION_SITE = "construction_site", N_("Construction site")
    INFRASTRUCTURE_OFFICE = "infrastructure_office", N_("Infrastructure office")
    FIT_OUT_DESIGN = "fit_out_design", N_("Fit-out design firm")


class ProcurementMode(LabelledEnum):
    OWNER_SPECIFIES_OWNER_BUYS = "owner_specifies_owner_buys", N_("Owner specifies, owner buys")
    OWNER_SPECIFIES_CONTRACTOR_BUYS = (
        "owner_specifies_contractor_buys",
        N_("Owner specifies, contractor buys"),
    )
    CONTRACTOR_BUYS = "contractor_buys", N_("Contractor buys")
    MULTIPLE_OWNERS = "multiple_owners", N_("Several owners")


class ProjectStage(LabelledEnum):
    RESEARCH = "research", N_("1 Research the market")
    UNDERSTAND = "understand", N_("2 Understand the situation")
    TARGET = "target", N_("3 Set the target people")
    MANAGE = "manage", N_("4 Manage the customer")
    TERMS = "terms", N_("5 Clarify cooperation terms")
    FIRST_PHASE = "first_phase", N_("6 Agree first-phase terms")
    BID = "bid", N_("7 Bid, evaluation and signing")
    COLLECT = "collect", N_("8 Collect payment")


class ReportSection(LabelledEnum):
    COMPLETED = "completed", N_("Completed")
    IN_PROGRESS = "in_progress", N_("In progress")
    NEW = "new", N_("New plans")


class WarningLevel(LabelledEnum):
    GREEN = "green", N_("Green")
    YELLOW = "yellow", N_("Yellow")
    RED = "red", N_("Red")
