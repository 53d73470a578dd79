"""The customer profile card (客户资料卡): the 17 sections of DOMAIN.md §2.1 and §5.3.

Unlike the other printouts, the card keeps every numbered section even when it
is empty ("not recorded yet"): a rep uses it to see what is still to be learnt.
"""

from __future__ import annotations

from collections.abc import Sequence

from reportlab.platypus import Flowable

from fieldrep.i18n import _
from fieldrep.reports.data import ClassChange, DealerCard, Person
from fieldrep.reports.formatting import (
    format_bool,
    format_date,
    format_money,
    format_number,
    format_period,
    format_value,
    label,
)
from fieldrep.reports.layout import (
    data_table,
    key_value_table,
    note,
    section,
    subsection,
    title_block,
)
from fieldrep.storage.fields import PROFILE_CARD_SECTIONS

SECTION_TITLES = PROFILE_CARD_SECTIONS

BASIC = (
    "name",
    "short_name",
    "province",
    "city",
    "district",
    "address",
    "phone",
    "fax",
    "email",
    "website",
    "credit_code",
    "legal_rep",
    "key_personnel",
    "outlet_count",
    "outlets",
    "business_scale",
    "employee_count",
    "registered_capital",
    "category_sales_capacity",
    "business_rules",
)
EARLY_CLASS = (
    "initial_class",
    "main_products",
    "reputation",
    "location_desc",
    "floor_area",
    "attitude",
    "volume_desc",
    "stock_desc",
)
CLASSIFICATION = (
    "abc_class",
    "service_tier",
    "partner_tier",
    "is_key_account",
    "is_benchmark",
    "lifecycle_status",
    "status",
    "tier",
    "channel_type",
    "channel_segment",
    "sales_form",
    "partnership_system",
)
PROFILE_FACTS = (
    "nature",
    "history",
    "staff_quality",
    "warehouse_capacity",
    "delivery_capacity",
    "philosophy",
    "local_market_share",
    "profit_level",
    "financial_status",
    "management_level",
    "upstream_relations",
    "core_area",
    "radiation_area",
    "reach_mode",
    "customer_structure",
    "promo_services",
    "business_mode",
    "product_dev_type",
    "industries",
    "success_case_industries",
    "org_structure",
    "decision_process",
    "resource_focus",
    "key_products",
    "support_needs",
    "cooperation_history",
    "expectations",
    "has_business_license",
    "qualification_certs",
    "past_cases",
    "after_sales_capability",
    "coverage",
    "customer_resources",
    "team_size",
    "financial_proof",
    "notes",
    "profile_reviewed_at",
)
MONEY_COLUMNS = frozenset({"registered_capital", "category_sales_capacity", "credit_limit"})


def title() -> str:
    return _("Customer profile card")


class _Card:
    """Builds the card's flowables section by section."""

    def __init__(self, card: DealerCard) -> None:
        self.card = card
        self.parts: list[Flowable] = []
        self.number = 0

    def value(self, column: str) -> str:
        raw = self.card.columns.get(column)
        if column in MONEY_COLUMNS:
            return format_money(raw)
        if isinstance(raw, bool) and not raw and column.startswith(("is_", "has_")):
            return ""  # an unset flag is not a fact worth printing
        return format_value(raw)

    def dealer_fields(self, columns: Sequence[str]) -> list[tuple[str, str | None]]:
        return [(label("Dealer", column), self.value(column)) for column in columns]

    def numbered(self, blocks: list[Flowable]) -> None:
        """The next numbered section; 'not recorded yet' when it has nothing."""
        self.number += 1
        heading = _(SECTION_TITLES[self.number - 1])
        self.parts.extend(section(f"{self.number}. {heading}"))
        self.parts.extend(blocks or [note(_("Not recorded yet."))])

    def build(self) -> list[Flowable]:
        card = self.card
        header = card.header
        self.parts = title_block(title(), header.name)
        self.numbered(key_value_table(self.dealer_fields(BASIC)))
        self.numbered(
            key_value_table(
                [
                    *self.dealer_fields(["relationship_start_date"]),
                    (label("Dealer", "our_contact_user_id"), header.our_contact_name),
                    (label("Dealer", "their_contact_id"), card.their_contact_name),
                ]
            )
        )
        self.numbered(self.agreements())
        self.numbered(key_value_table(self.dealer_fields(EARLY_CLASS)))
        self.numbered(
            [
                *key_value_table(self.dealer_fields(["performance_class"])),
                *self.history_of("performance"),
            ]
        )
        self.numbered(self.credit())
        self.numbered(self.products())
        self.numbered(
            key_value_table(
                self.dealer_fields(["settlement_time", "settlement_method", "invoice_usage"])
            )
        )
        self.numbered(
            key_value_table(
                [
                    *self.dealer_fields(["settlement_procedure"]),
                    (label("Dealer", "business_contact_id"), card.business_contact_name),
                    (label("Dealer", "settlement_contact_id"), card.settlement_contact_name),
                ]
            )
        )
        self.numbered(self.prices())
        self.numbered(self.sales())
        self.numbered(key_value_table(self.dealer_fields(["delivery_requirements"])))
        self.numbered(self.complaints())
        self.numbered(self.after_sales())
        self.numbered(self.grades())
        self.numbered(
            [
                *key_value_table(self.dealer_fields(["annual_integrated_class"])),
                *self.history_of("annual_integrated"),
            ]
        )
        self.numbered(self.stakeholders())
        extra = key_value_table(self.dealer_fields(CLASSIFICATION))
        if extra:
            self.parts.extend(section(_("Classification and status")))
            self.parts.extend(extra)
        facts = key_value_table(self.dealer_fields(PROFILE_FACTS))
        if facts:
            self.parts.extend(section(_("Further profile facts")))
            self.parts.extend(facts)
        if card.class_history:
            self.parts.extend(section(_("Classification history")))
            self.parts.append(self.history_table(card.class_history))
        return self.parts

    def agreements(self) -> list[Flowable]:
        blocks: list[Flowable] = []
        for agreement in self.card.agreements:

            def field(name: str) -> str:
                return label("Agreement", name)

            blocks.extend(subsection(agreement.title))
            validity = " – ".join(
                part
                for part in (format_date(agreement.valid_from), format_date(agreement.valid_to))
            )
            blocks.extend(
                key_value_table(
                    [
                        (field("signed_on"), format_date(agreement.signed_on)),
                        (_("Validity"), validity if validity.strip(" –") else ""),
                        (field("is_exclusive"), format_bool(agreement.is_exclusive)),
                        (
                            field("cross_territory_protection"),
                            format_bool(agreement.cross_territory_protection),
                        ),
                        (field("sales_area"), agreement.sales_area),
                        (field("price_system"), agreement.price_system),
                        (field("profit_margin"), agreement.profit_margin),
                        (field("support"), agreement.support),
                        (field("terms"), agreement.terms),
                        (field("file_ref"), agreement.file_ref),
                    ]
                )
            )
        return blocks

    def credit(self) -> list[Flowable]:
        blocks = key_value_table(
            self.dealer_fields(["credit_grade", "payment_terms", "credit_limit"])
        )
        if self.card.credit_reviews:

            def field(name: str) -> str:
                return label("CreditAssessment", name)

            blocks.append(
                data_table(
                    [
                        field("reviewed_at"),
                        field("capital"),
                        field("character"),
                        field("capacity"),
                        field("collateral"),
                        field("condition"),
                        field("overall_grade"),
                        field("risk_level"),
                        field("payment_terms"),
                    ],
                    [
                        [
                            format_date(line.reviewed_at),
                            str(line.capital),
                            str(line.character),
                            str(line.capacity),
                            str(line.collateral),
                            str(line.condition),
                            line.overall_grade,
                            line.risk_level.label,
                            format_value(line.payment_terms),
                        ]
                        for line in self.card.credit_reviews
                    ],
                    [1.2, 0.7, 0.7, 0.7, 0.7, 0.7, 0.8, 1, 1.1],
                )
            )
        return blocks

    def products(self) -> list[Flowable]:
        if not self.card.products:
            return []

        def field(name: str) -> str:
            return label("CarriedProduct", name)

        return [
            data_table(
                [field("brand"), field("variety"), field("spec"), field("is_ours")],
                [
                    [line.brand, line.variety or "", line.spec or "", format_bool(line.is_ours)]
                    for line in self.card.products
                ],
                [1.5, 2, 2.5, 0.8],
            )
        ]

    def prices(self) -> list[Flowable]:
        if not self.card.price_changes:
            return []

        def field(name: str) -> str:
            return label("RetailPriceChange", name)

        return [
            data_table(
                [
                    field("changed_on"),
                    field("product"),
                    field("old_price"),
                    field("new_price"),
                    field("notes"),
                ],
                [
                    [
                        format_date(line.changed_on),
                        line.product,
                        format_money(line.old_price),
                        format_money(line.new_price),
                        line.notes or "",
                    ]
                    for line in self.card.price_changes
                ],
                [1, 2, 1, 1, 2.5],
                numeric=(2, 3),
            )
        ]

    def sales(self) -> list[Flowable]:
        if not self.card.sales:
            return []

        def field(name: str) -> str:
            return label("SalesFigure", name)

        return [
            data_table(
                [
                    _("Period"),
                    field("volume"),
                    field("revenue"),
                    field("collected"),
                    field("receivable"),
                    field("dealer_inventory"),
                    _("Confirmed"),
                ],
                [
                    [
                        format_period(line.period_type, line.period_start),
                        format_number(line.volume),
                        format_money(line.revenue),
                        format_money(line.collected),
                        format_money(line.receivable),
                        format_number(line.inventory),
                        format_bool(line.confirmed),
                    ]
                    for line in self.card.sales
                ],
                [1.1, 0.9, 1.2, 1.2, 1.2, 1.1, 0.9],
                numeric=(1, 2, 3, 4, 5),
            )
        ]

    def complaints(self) -> list[Flowable]:
        if not self.card.complaints:
            return []

        def field(name: str) -> str:
            return label("Complaint", name)

        return [
            data_table(
                [
                    field("received_at"),
                    field("category"),
                    field("description"),
                    field("handling"),
                    field("result"),
                    field("status"),
                ],
                [
                    [
                        format_date(item.received_at),
                        item.category.label,
                        item.description,
                        item.handling or "",
                        item.result or "",
                        item.status.label,
                    ]
                    for item in self.card.complaints
                ],
                [1, 1.1, 2.4, 1.7, 1.5, 0.9],
            )
        ]

    def after_sales(self) -> list[Flowable]:
        blocks = key_value_table(self.dealer_fields(["after_sales_terms"]))
        if self.card.after_sales:

            def field(name: str) -> str:
                return label("AfterSalesEvent", name)

            blocks.append(
                data_table(
                    [field("occurred_on"), field("description"), field("handling")],
                    [
                        [format_date(e.occurred_on), e.description, e.handling or ""]
                        for e in self.card.after_sales
                    ],
                    [1, 3.5, 3],
                )
            )
        return blocks

    def grades(self) -> list[Flowable]:
        blocks = key_value_table(self.dealer_fields(["relationship_grade"]))
        if self.card.grades:

            def field(name: str) -> str:
                return label("RelationshipGrade", name)

            blocks.append(
                data_table(
                    [
                        _("Period"),
                        field("familiarity"),
                        field("closeness"),
                        field("sales_support"),
                        field("complaint_level"),
                        field("receivable_level"),
                        field("overall_grade"),
                    ],
                    [
                        [
                            format_period(g.period_type, g.period_start),
                            str(g.familiarity),
                            str(g.closeness),
                            str(g.sales_support),
                            str(g.complaint_level),
                            str(g.receivable_level),
                            g.overall_grade,
                        ]
                        for g in self.card.grades
                    ],
                    [1.3, 1, 1, 1, 1, 1, 1],
                )
            )
        return blocks

    def stakeholders(self) -> list[Flowable]:
        blocks: list[Flowable] = []
        for person in self.card.people:
            blocks.extend(subsection(_person_heading(person)))
            blocks.extend(key_value_table(_person_fields(person)))
        return blocks

    def history_of(self, scheme_code: str) -> list[Flowable]:
        changes = tuple(c for c in self.card.class_history if c.scheme.code == scheme_code)
        return [self.history_table(changes)] if changes else []

    def history_table(self, changes: Sequence[ClassChange]) -> Flowable:
        def field(name: str) -> str:
            return label("ClassHistory", name)

        rows = [
            [
                format_date(change.changed_on),
                change.scheme.label,
                change.old_value or "",
                change.new_value,
                change.period_label or "",
                change.reason,
                change.changed_by,
            ]
            for change in changes
        ]
        return data_table(
            [
                field("changed_on"),
                field("scheme"),
                field("old_value"),
                field("new_value"),
                field("period_label"),
                field("reason"),
                field("changed_by"),
            ],
            rows,
            [1, 1.4, 0.8, 0.8, 0.8, 2.4, 1],
        )


def _person_heading(person: Person) -> str:
    parts = [person.name, person.title or "", person.department or ""]
    return " · ".join(part for part in parts if part)


def _person_fields(person: Person) -> list[tuple[str, str | None]]:
    def field(name: str) -> str:
        return label("Contact", name)

    roles = [
        field(flag)
        for flag, on in (
            ("is_senior", person.is_senior),
            ("is_counterpart", person.is_counterpart),
            ("is_business_contact", person.is_business_contact),
            ("is_settlement_contact", person.is_settlement_contact),
            ("can_block", person.can_block),
        )
        if on
    ]
    return [
        (field("decision_role"), person.decision_role.label),
        (_("Roles"), "、".join(roles)),
        (field("mobile"), person.mobile),
        (field("phone"), person.phone),
        (field("email"), person.email),
        (field("wechat"), person.wechat),
        (field("birth_date"), format_date(person.birth_date)),
        (field("education"), person.education),
        (field("native_place"), person.native_place),
        (field("reports_to_id"), person.reports_to),
        (field("cooperation_interest"), format_value(person.cooperation_interest)),
        (field("project_role"), format_value(person.project_role)),
        (field("project_line"), format_value(person.project_line)),
        (field("met_at"), person.met_at),
        (field("address"), person.address),
        (field("family"), person.family),
        (field("personality"), person.personality),
        (field("hobbies"), person.hobbies),
        (label("Contact", "notes"), person.notes),
    ]


def story(card: DealerCard) -> list[Flowable]:
    """The card's flowables, top to bottom."""
    return _Card(card).build()
