"""The printed contact record card of one visit (客户联系记录卡, DOMAIN.md §2.8 and §5.2)."""

from __future__ import annotations

from reportlab.platypus import Flowable

from fieldrep.i18n import _
from fieldrep.reports.data import FollowUpLine, ObjectionLine, VisitSummary
from fieldrep.reports.formatting import format_date, format_datetime, format_value, label
from fieldrep.reports.layout import (
    data_table,
    key_value_table,
    section,
    signature_block,
    text_block,
    title_block,
)

RECORD = "ContactRecord"


def title() -> str:
    return _("Contact record card")


def story(summary: VisitSummary) -> list[Flowable]:
    """The flowables of the card, top to bottom; empty fields and sections are left out."""

    def field(name: str) -> str:
        return label(RECORD, name)

    parts: list[Flowable] = title_block(
        title(), f"{summary.dealer_name} · {format_datetime(summary.contact_at)}"
    )
    parts.extend(section(_("Visit")))
    parts.extend(
        key_value_table(
            [
                (label("Dealer", "name"), summary.dealer_name),
                (field("contact_at"), format_datetime(summary.contact_at)),
                (field("contact_method"), summary.contact_method.label),
                (field("visit_type"), summary.visit_type.label),
                (label(RECORD, "rep_user_id"), summary.rep_name),
                (field("status"), summary.status.label),
                (field("location"), summary.location),
                (label("Dealer", "address"), summary.dealer_address),
                (field("participants"), summary.participants),
                (_("Dealer contacts present"), "、".join(summary.participant_contacts)),
            ]
        )
    )
    content = text_block(None, summary.content)
    if content:
        parts.extend(section(field("content")))
        parts.extend(content)
    if summary.objections:
        parts.extend(section(_("Objections")))
        parts.append(objection_table(summary.objections))
    review = [
        *text_block(field("successes"), summary.successes),
        *text_block(field("shortcomings"), summary.shortcomings),
        *text_block(field("lessons"), summary.lessons),
    ]
    if review:
        parts.extend(section(_("Review")))
        parts.extend(review)
    agreements = [
        *text_block(field("new_agreements"), summary.new_agreements),
        *text_block(field("new_plans"), summary.new_plans),
    ]
    if agreements:
        parts.extend(section(_("Agreements and next steps")))
        parts.extend(agreements)
    if summary.follow_ups:
        parts.extend(section(_("Follow-ups")))
        parts.append(follow_up_table(summary.follow_ups))
    key_summary = key_value_table(
        [
            (field("info_gaps"), summary.info_gaps),
            (field("sources_to_try"), summary.sources_to_try),
            (field("cooperation_intent"), summary.cooperation_intent),
            (field("next_step"), format_value(summary.next_step)),
        ]
    )
    if key_summary:
        parts.extend(section(_("Key summary")))
        parts.extend(key_summary)
    for training in summary.trainings:
        parts.extend(section(_("Training")))
        parts.extend(
            key_value_table(
                [
                    (label("TrainingSession", "held_at"), format_datetime(training.held_at)),
                    (label("TrainingSession", "topic_type"), training.topic_type.label),
                    (label("TrainingSession", "topic"), training.topic),
                    (label("TrainingSession", "attendees"), "、".join(training.attendees)),
                    (
                        label("TrainingSession", "customer_names_collected"),
                        "、".join(training.customer_names),
                    ),
                    (label("TrainingSession", "qa_notes"), training.qa_notes),
                ]
            )
        )
    other = [
        *text_block(field("special_notes"), summary.special_notes),
        *text_block(field("other"), summary.other),
        *text_block(field("figures_confirmed"), summary.figures_confirmed),
    ]
    if other:
        parts.extend(section(_("Other notes")))
        parts.extend(other)
    parts.append(
        signature_block(
            _("Signatures"),
            [
                (label(RECORD, "rep_user_id"), summary.rep_name),
                (_("Dealer counterpart"), summary.counterpart_name),
            ],
        )
    )
    return parts


def objection_table(objections: tuple[ObjectionLine, ...]) -> Flowable:
    """Objections with their type label, the words, the real concern, the answer and outcome."""
    return data_table(
        [
            label("Objection", "type"),
            label("Objection", "verbatim"),
            label("Objection", "real_concern"),
            label("Objection", "answer_given"),
            label("Objection", "response_pattern"),
            label("Objection", "outcome"),
        ],
        [
            [
                item.type.label,
                item.verbatim,
                item.real_concern or "",
                item.answer_given or "",
                format_value(item.response_pattern),
                item.outcome.label,
            ]
            for item in objections
        ],
        [1.1, 2, 1.7, 2.4, 1.2, 0.9],
    )


def follow_up_table(follow_ups: tuple[FollowUpLine, ...]) -> Flowable:
    """Follow-ups with their owner's display name and due date."""
    return data_table(
        [
            label("FollowUp", "title"),
            label("FollowUp", "owner_user_id"),
            label("FollowUp", "due_on"),
            label("FollowUp", "direction"),
            label("FollowUp", "status"),
        ],
        [
            [
                f"{item.title}\n{item.details}" if item.details else item.title,
                item.owner_name,
                format_date(item.due_on),
                item.direction.label,
                item.status.label,
            ]
            for item in follow_ups
        ],
        [3.6, 1.2, 1.1, 1.5, 0.9],
    )
