"""The printed contact record card of one visit."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from pdfcheck import Pdf, assert_fonts_embedded, flat, zh
from reports_dataset import CONTENT_END_MARKER, DEALER_NAME, DatasetIds
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fieldrep.reports import render_visit_summary
from fieldrep.storage.errors import NotFound
from fieldrep.storage.models import ContactRecord

PRINTED = datetime(2026, 11, 25, 8, 30, tzinfo=UTC)


def test_chinese_card_shows_every_part_of_the_visit(
    engine: Engine, dataset: DatasetIds, as_pdf: Callable[[bytes], Pdf]
) -> None:
    pdf = as_pdf(render_visit_summary(engine, dataset.record_id, printed_at=PRINTED))
    text = pdf.flat_text
    assert DEALER_NAME in text
    # The card's own words are translated by the reports part of the catalogue.
    for label in ("Contact record card", "Key summary", "Signature", "Dealer counterpart"):
        assert zh(label) != label.replace(" ", ""), f"no Chinese translation for {label!r}"
        assert zh(label) in text, label
    # Field labels come from fieldrep.storage.fields, in the document's language.
    for label in (
        "Meeting place",
        "Conversation and activities",
        "Successes",
        "Shortcomings",
        "Lessons learned",
        "New agreements",
        "Objection type",
        "Real concern",
        "Answer given",
        "Owner",
        "Due date",
        "Information gaps",
        "Cooperation intent",
    ):
        assert zh(label) in text, label
    # Objections with their type label, the words, the answer and the outcome.
    assert zh("Price objection") in text
    assert "你们的价格太高了" in text
    assert "肯定其关注点" in text
    assert zh("Resolved") in text
    # Follow-ups with owners by display name and due dates.
    assert "提供培训方案" in text and "2026-12-05" in text
    assert "申请促销员支持" in text and "王强" in text
    # Key summary, training and the signature line of the dealer's counterpart.
    assert zh("Pursue a training slot") in text
    assert "西湖区人民医院" in text
    assert "周敏" in text
    # Header and footer: rep, date printed, page x of y.
    first_page = flat(pdf.page_text(1))
    assert "张伟" in first_page
    assert "2026-11-25" in first_page
    assert f"第1页/共{pdf.pages}页" in first_page


def test_every_font_is_embedded(
    engine: Engine, dataset: DatasetIds, as_pdf: Callable[[bytes], Pdf]
) -> None:
    pdf = as_pdf(render_visit_summary(engine, dataset.record_id))
    assert_fonts_embedded(pdf)
    assert pdf.render_first_page().stat().st_size > 0


def test_long_notes_flow_onto_further_pages_without_clipping(
    engine: Engine, dataset: DatasetIds, as_pdf: Callable[[bytes], Pdf]
) -> None:
    with Session(engine) as session:
        record = session.get(ContactRecord, dataset.long_record_id)
        assert record is not None and record.content is not None
        content = record.content
    assert len(content) > 20000
    pdf = as_pdf(render_visit_summary(engine, dataset.long_record_id))
    assert pdf.pages > 3
    text = pdf.flat_text
    assert CONTENT_END_MARKER in text
    assert content[-200:].replace(" ", "") in text
    # Nothing is clipped: every character of the note is printed (page breaks may
    # split a sentence, and the header and footer come between pages).
    for character in "渠库，。":
        assert text.count(character) >= content.count(character), character
    last = flat(pdf.page_text(pdf.pages))
    assert f"第{pdf.pages}页/共{pdf.pages}页" in last


def test_empty_optional_fields_are_left_out(
    engine: Engine, dataset: DatasetIds, as_pdf: Callable[[bytes], Pdf]
) -> None:
    # The long record has no place, participants, key summary or follow-ups.
    text = as_pdf(render_visit_summary(engine, dataset.long_record_id)).flat_text
    for label in ("Meeting place", "Participants", "Key summary", "Information gaps", "Follow-ups"):
        assert zh(label) not in text, label
    full = as_pdf(render_visit_summary(engine, dataset.record_id)).flat_text
    assert zh("Meeting place") in full and zh("Key summary") in full


def test_english_card(engine: Engine, dataset: DatasetIds, as_pdf: Callable[[bytes], Pdf]) -> None:
    pdf = as_pdf(render_visit_summary(engine, dataset.record_id, lang="en"))
    text = pdf.flat_text
    for label in ("Contact record card", "Meeting place", "Successes", "Price objection", "Owner"):
        assert label.replace(" ", "") in text, label
    assert "第1页" not in text
    assert "页" not in text
    assert f"Page 1 of {pdf.pages}" in pdf.page_text(1)
    assert DEALER_NAME in pdf.flat_text
    assert_fonts_embedded(pdf)


def test_unknown_visit_is_a_clear_error(engine: Engine, dataset: DatasetIds) -> None:
    with pytest.raises(NotFound) as raised:
        render_visit_summary(engine, "no-such-record")
    assert raised.value.entity == "contact_record"
    assert raised.value.row_id == "no-such-record"


def test_a_session_can_be_passed_instead_of_an_engine(engine: Engine, dataset: DatasetIds) -> None:
    with Session(engine) as session:
        data = render_visit_summary(session, dataset.record_id)
    assert data.startswith(b"%PDF-")
