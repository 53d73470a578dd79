"""The pre-visit brief (拜访前简报, DOMAIN.md §5.1): what to know and bring before a visit."""

from __future__ import annotations

from itertools import groupby

from reportlab.platypus import Flowable

from fieldrep.i18n import N_, _
from fieldrep.reports.data import DealerBrief, DealerHeader, PlannedVisit
from fieldrep.reports.formatting import (
    excerpt,
    format_bool,
    format_date,
    format_datetime,
    format_money,
    format_number,
    format_time,
    format_value,
    label,
)
from fieldrep.reports.layout import (
    bullet_list,
    checklist,
    data_table,
    key_value_table,
    note,
    section,
    short_section,
    styles,
    subsection,
    text,
    text_block,
    title_block,
    warning,
)
from fieldrep.reports.visit_summary import follow_up_table
from fieldrep.storage.enums import CHANNEL_TALKING_POINTS
from fieldrep.storage.preparation import PREP_MATERIALS

# DOMAIN.md §4.1 step 2: what to learn during the visit.
QUESTION_PROMPTS = (
    N_("How does the company operate: organisation chart, departments and decision chain?"),
    N_("Where does it put its resources, and which products and industries matter most to it?"),
    N_("Which channel type is it: product, distribution or integration?"),
    N_("What is each person's role in decisions, and is their interest personal or the company's?"),
    N_("Which of our cases match its industries and customers?"),
    N_("What did the last visit leave open, and what does the dealer expect from us?"),
)
SENIOR_PROMPT = N_(
    "Who are the senior managers, what are they like, and can we arrange a senior visit?"
)

LAST_VISIT_CHARS = 400


def title() -> str:
    return _("Pre-visit brief")


def story(content: DealerBrief, stop_number: int | None = None) -> list[Flowable]:
    """The brief's flowables; ``stop_number`` titles it as a stop of a route pack."""
    header = content.header
    heading = title()
    if stop_number is not None:
        heading = _("Stop {number}: {title}").format(number=stop_number, title=heading)
    subtitle = header.name
    if content.plan is not None:
        when = " ".join(
            part
            for part in (
                format_date(content.plan.planned_date),
                format_time(content.plan.time_slot),
            )
            if part
        )
        subtitle = f"{header.name} · {when}"
    parts: list[Flowable] = title_block(heading, subtitle)
    parts.extend(_profile(header))
    parts.extend(_this_visit(content.plan))
    parts.extend(_people(content))
    parts.extend(_last_visits(content))
    parts.extend(_open_items(content))
    parts.extend(_objections(content))
    parts.extend(_figures(content))
    prompts = [_(prompt) for prompt in QUESTION_PROMPTS]
    if not content.has_senior_contact:
        prompts.append(_(SENIOR_PROMPT))
    parts.append(short_section(_("Question prompts"), bullet_list(prompts)))
    ticked = set(content.plan.prep_checklist) if content.plan is not None else set()
    parts.append(
        short_section(
            _("Materials checklist"),
            checklist((_(english), code in ticked) for code, english in PREP_MATERIALS),
        )
    )
    return parts


def _profile(header: DealerHeader) -> list[Flowable]:
    def field(name: str) -> str:
        return label("Dealer", name)

    parts: list[Flowable] = [*section(_("Dealer profile"))]
    parts.extend(
        key_value_table(
            [
                (field("name"), header.name),
                (field("short_name"), header.short_name),
                (_("Region"), header.city),
                (field("phone"), header.phone),
                (field("address"), header.address),
                (field("abc_class"), header.abc_class.label),
                (field("performance_class"), format_value(header.performance_class)),
                (field("credit_grade"), header.credit_grade),
                (_("Last relationship grade"), header.relationship_grade),
                (field("annual_integrated_class"), header.annual_integrated_class),
                (field("service_tier"), format_value(header.service_tier)),
                (field("partner_tier"), format_value(header.partner_tier)),
                (field("is_key_account"), format_bool(header.is_key_account or None)),
                (field("is_benchmark"), format_bool(header.is_benchmark or None)),
                (field("lifecycle_status"), header.lifecycle_status.label),
                (field("channel_type"), format_value(header.channel_type)),
                (field("our_contact_user_id"), header.our_contact_name),
                (field("main_products"), header.main_products),
                (field("key_products"), header.key_products),
                (field("industries"), header.industries),
            ]
        )
    )
    if header.channel_type is not None:
        point = CHANNEL_TALKING_POINTS.get(header.channel_type)
        if point:
            parts.append(
                text(
                    _("Talking point for a {channel}: {point}").format(
                        channel=header.channel_type.label, point=_(point)
                    ),
                    styles().callout,
                )
            )
    return parts


def _this_visit(plan: PlannedVisit | None) -> list[Flowable]:
    parts: list[Flowable] = [*section(_("This visit"))]
    if plan is None:
        parts.append(note(_("No visit is planned for this dealer.")))
        return parts

    def field(name: str) -> str:
        return label("VisitPlanItem", name)

    parts.extend(
        key_value_table(
            [
                (field("planned_date"), format_date(plan.planned_date)),
                (field("time_slot"), format_time(plan.time_slot)),
                (field("visit_type"), plan.visit_type.label),
                (field("route_seq"), str(plan.route_seq) if plan.route_seq else ""),
                (
                    field("planned_minutes"),
                    format_number(plan.planned_minutes) if plan.planned_minutes else "",
                ),
                (field("appointment_confirmed"), format_bool(plan.appointment_confirmed)),
                (label("VisitPlanItem", "rep_user_id"), plan.rep_name),
            ]
        )
    )
    parts.extend(text_block(field("objective"), plan.objective))
    parts.extend(text_block(field("agenda"), plan.agenda))
    return parts


def _people(content: DealerBrief) -> list[Flowable]:
    parts: list[Flowable] = [*section(_("Key people and decision chain"))]
    if not content.has_senior_contact:
        parts.append(
            warning(
                _(
                    "No senior manager is known at this dealer: learn who decides and "
                    "ask for a senior visit."
                )
            )
        )
    if not content.people:
        parts.append(note(_("No contacts recorded.")))
        return parts

    def field(name: str) -> str:
        return label("Contact", name)

    rows = []
    for person in content.people:
        role = person.decision_role.label
        if person.is_senior:
            role = f"{role} · {field('is_senior')}"
        if person.can_block:
            role = f"{role} · {field('can_block')}"
        if person.reports_to:
            role = f"{role}\n{field('reports_to_id')}: {person.reports_to}"
        rows.append(
            [
                person.name,
                person.title or "",
                role,
                person.personality or "",
                person.hobbies or "",
                person.mobile or person.phone or "",
            ]
        )
    parts.append(
        data_table(
            [
                field("name"),
                field("title"),
                field("decision_role"),
                field("personality"),
                field("hobbies"),
                field("phone"),
            ],
            rows,
            [1.1, 1.2, 1.7, 1.6, 1.5, 1.3],
        )
    )
    return parts


def _last_visits(content: DealerBrief) -> list[Flowable]:
    parts: list[Flowable] = [*section(_("Last visits"))]
    if not content.last_visits:
        parts.append(note(_("No earlier visits recorded.")))
        return parts

    def field(name: str) -> str:
        return label("ContactRecord", name)

    for visit in content.last_visits:
        parts.extend(
            subsection(
                " · ".join(
                    part
                    for part in (
                        format_datetime(visit.contact_at),
                        visit.visit_type.label,
                        visit.contact_method.label,
                        visit.rep_name,
                    )
                    if part
                )
            )
        )
        parts.extend(
            key_value_table(
                [
                    (field("content"), excerpt(visit.content, LAST_VISIT_CHARS)),
                    (field("new_agreements"), visit.new_agreements),
                    (field("new_plans"), visit.new_plans),
                    (field("shortcomings"), visit.shortcomings),
                    (field("next_step"), format_value(visit.next_step)),
                ]
            )
        )
    return parts


def _open_items(content: DealerBrief) -> list[Flowable]:
    parts: list[Flowable] = [*section(_("Open items"))]
    if not (content.open_follow_ups or content.legacy_issues or content.complaints):
        parts.append(note(_("No open follow-ups, legacy issues or complaints.")))
        return parts
    if content.open_follow_ups:
        parts.extend(subsection(_("Open follow-ups")))
        parts.append(follow_up_table(content.open_follow_ups))
    if content.legacy_issues:
        parts.extend(subsection(_("Legacy issues")))
        for category, issues in groupby(content.legacy_issues, key=lambda issue: issue.category):
            parts.append(text(category.label, styles().caption))
            parts.append(
                data_table(
                    [
                        label("LegacyIssue", "title"),
                        label("LegacyIssue", "description"),
                        label("LegacyIssue", "origin"),
                        label("LegacyIssue", "amount"),
                        label("LegacyIssue", "status"),
                    ],
                    [
                        [
                            issue.title,
                            issue.description,
                            issue.origin or "",
                            format_money(issue.amount),
                            issue.status.label,
                        ]
                        for issue in issues
                    ],
                    [1.6, 3.0, 1.2, 1.1, 1.1],
                    numeric=(3,),
                )
            )
    if content.complaints:
        parts.extend(subsection(_("Complaints")))
        parts.append(
            data_table(
                [
                    label("Complaint", "received_at"),
                    label("Complaint", "category"),
                    label("Complaint", "description"),
                    label("Complaint", "handling"),
                    label("Complaint", "status"),
                ],
                [
                    [
                        format_date(item.received_at),
                        item.category.label,
                        item.description,
                        item.handling or "",
                        item.status.label,
                    ]
                    for item in content.complaints
                ],
                [1.0, 1.2, 3.0, 2.0, 0.9],
            )
        )
    return parts


def _objections(content: DealerBrief) -> list[Flowable]:
    if not content.past_objections:
        return []

    def field(name: str) -> str:
        return label("Objection", name)

    parts: list[Flowable] = [*section(_("Objections raised before"))]
    parts.append(
        data_table(
            [
                field("raised_on"),
                field("type"),
                field("verbatim"),
                field("real_concern"),
                field("outcome"),
            ],
            [
                [
                    format_date(item.raised_on),
                    item.type.label,
                    item.verbatim,
                    item.real_concern or "",
                    item.outcome.label,
                ]
                for item in content.past_objections
            ],
            [1.0, 1.1, 2.6, 2.4, 0.9],
        )
    )
    if content.worked_answers:
        parts.extend(subsection(_("Answers that worked")))
        parts.append(
            data_table(
                [
                    field("type"),
                    field("verbatim"),
                    field("answer_given"),
                    field("response_pattern"),
                ],
                [
                    [
                        item.type.label,
                        item.verbatim,
                        item.answer_given or "",
                        format_value(item.response_pattern),
                    ]
                    for item in content.worked_answers
                ],
                [1.1, 2.2, 3.6, 1.2],
            )
        )
    return parts


def _figures(content: DealerBrief) -> list[Flowable]:
    if not (content.sales or content.price_changes or content.competitors):
        return []
    parts: list[Flowable] = [*section(_("Sales figures and competitors"))]
    if content.sales:

        def sales(name: str) -> str:
            return label("SalesFigure", name)

        parts.extend(subsection(_("Recent months")))
        parts.append(
            data_table(
                [
                    _("Month"),
                    sales("volume"),
                    sales("revenue"),
                    sales("collected"),
                    sales("receivable"),
                    sales("dealer_inventory"),
                    _("Confirmed"),
                ],
                [
                    [
                        line.period_start.strftime("%Y-%m"),
                        format_number(line.volume),
                        format_money(line.revenue),
                        format_money(line.collected),
                        format_money(line.receivable),
                        format_number(line.inventory),
                        format_bool(line.confirmed),
                    ]
                    for line in content.sales
                ],
                [0.8, 0.9, 1.2, 1.2, 1.2, 1.1, 0.9],
                numeric=(1, 2, 3, 4, 5),
            )
        )
    if content.price_changes:
        parts.extend(subsection(_("Retail price changes")))
        parts.append(
            data_table(
                [
                    label("RetailPriceChange", "changed_on"),
                    label("RetailPriceChange", "product"),
                    label("RetailPriceChange", "old_price"),
                    label("RetailPriceChange", "new_price"),
                    label("RetailPriceChange", "notes"),
                ],
                [
                    [
                        format_date(line.changed_on),
                        line.product,
                        format_money(line.old_price),
                        format_money(line.new_price),
                        line.notes or "",
                    ]
                    for line in content.price_changes
                ],
                [1, 2, 1, 1, 2.5],
                numeric=(2, 3),
            )
        )
    if content.competitors:

        def competitor(name: str) -> str:
            return label("CompetitorNote", name)

        parts.extend(subsection(_("Competitor notes")))
        parts.append(
            data_table(
                [
                    competitor("observed_at"),
                    competitor("brand"),
                    competitor("product"),
                    competitor("price"),
                    competitor("promo_type"),
                    _("Strengths and weaknesses"),
                    competitor("source"),
                ],
                [
                    [
                        format_date(note_line.observed_at),
                        note_line.brand,
                        note_line.product or "",
                        format_money(note_line.price),
                        " ".join(
                            part
                            for part in (
                                format_value(note_line.promo_type),
                                note_line.promo_details or "",
                            )
                            if part
                        ),
                        "\n".join(
                            part
                            for part in (
                                f"+ {note_line.strengths}" if note_line.strengths else "",
                                f"− {note_line.weaknesses}" if note_line.weaknesses else "",
                                note_line.customer_opinion or "",
                            )
                            if part
                        ),
                        note_line.source,
                    ]
                    for note_line in content.competitors
                ],
                [0.9, 0.9, 1.1, 0.8, 1.3, 2.4, 1],
            )
        )
    return parts
