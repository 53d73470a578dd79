"""Layout under stress: tables that cross pages, cells taller than a page, empty values."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta

from pdfcheck import Pdf, assert_fonts_embedded, flat
from reports_dataset import DatasetIds
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fieldrep.i18n import translate
from fieldrep.reports import render_brief, render_visit_summary
from fieldrep.reports.layout import key_value_table, present
from fieldrep.storage.enums import ObjectionOutcome, ObjectionType
from fieldrep.storage.models import FollowUp, Objection
from fieldrep.storage.types import new_id


def test_a_long_table_repeats_its_header_on_every_page(
    engine: Engine, dataset: DatasetIds, as_pdf: Callable[[bytes], Pdf]
) -> None:
    with Session(engine) as session, session.begin():
        for number in range(90):
            session.add(
                FollowUp(
                    id=new_id(),
                    territory_id=dataset.territory_id,
                    title=f"跟进任务第{number:03d}项",
                    owner_user_id=dataset.rep_id,
                    due_on=date(2026, 12, 1) + timedelta(days=number),
                    dealer_id=dataset.second_dealer_id,
                )
            )
    pdf = as_pdf(render_brief(engine, dataset.second_dealer_id, today=date(2026, 11, 25)))
    header = translate("Follow-up title", "zh_CN").replace(" ", "")
    pages_with_rows = [
        page for page in range(1, pdf.pages + 1) if "跟进任务第" in flat(pdf.page_text(page))
    ]
    assert len(pages_with_rows) >= 2
    for page in pages_with_rows:
        assert header in flat(pdf.page_text(page)), page
    text = pdf.flat_text
    assert all(f"跟进任务第{number:03d}项" in text for number in range(90))


def test_a_table_cell_longer_than_a_page_is_split_not_clipped(
    engine: Engine, dataset: DatasetIds, as_pdf: Callable[[bytes], Pdf]
) -> None:
    answer = "我们提供完整的返利说明和书面政策，并安排市场部支持。" * 260 + "答复结束"
    with Session(engine) as session, session.begin():
        session.add(
            Objection(
                id=new_id(),
                territory_id=dataset.territory_id,
                dealer_id=dataset.dealer_id,
                contact_record_id=dataset.long_record_id,
                type=ObjectionType.REWARD,
                verbatim="你们的返利太低",
                answer_given=answer,
                outcome=ObjectionOutcome.PARTIALLY,
                raised_on=date(2026, 11, 3),
            )
        )
    pdf = as_pdf(render_visit_summary(engine, dataset.long_record_id))
    text = pdf.flat_text
    assert "答复结束" in text
    # Every character is printed (a page break may split a phrase, never drop text).
    for character in "返策持场":
        assert text.count(character) >= answer.count(character), character
    assert_fonts_embedded(pdf)


def test_only_filled_fields_are_kept() -> None:
    assert present([("A", "x"), ("B", None), ("C", "  "), ("D", " y ")]) == [
        ("A", "x"),
        ("D", "y"),
    ]
    assert key_value_table([("A", None), ("B", "")]) == []
    assert len(key_value_table([("A", "x")])) == 1
