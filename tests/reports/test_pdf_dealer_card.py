"""The customer profile card: 17 sections, contacts and classification history."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pdfcheck import Pdf, assert_fonts_embedded, zh
from reports_dataset import DEALER_NAME, SECOND_DEALER_NAME, DatasetIds
from sqlalchemy import Engine

from fieldrep.reports import render_dealer_card
from fieldrep.reports.dealer_card import SECTION_TITLES
from fieldrep.storage.errors import NotFound


def test_card_has_the_17_sections_and_their_content(
    engine: Engine, dataset: DatasetIds, as_pdf: Callable[[bytes], Pdf]
) -> None:
    pdf = as_pdf(render_dealer_card(engine, dataset.dealer_id))
    text = pdf.flat_text
    assert zh("Customer profile card") in text and DEALER_NAME in text
    assert len(SECTION_TITLES) == 17
    for number, title in enumerate(SECTION_TITLES, start=1):
        assert f"{number}.{zh(title)}" in text, title
    for fact in (
        "陈国华（总经理）、周敏（采购经理）",  # 1 key personnel
        "2021-03-15",  # 2 relationship start
        "2026年度经销协议",  # 3 agreement
        "本地商誉良好",  # 4 reputation
        "800,000.00",  # 6 credit limit
        "增值税专用发票",  # 8 invoices
        "先对账，财务审核后付款",  # 9 procedure
        "5,299.00",  # 10 price change
        "720,000.00",  # 11 contribution
        "下单后48小时内送达杭州仓库",  # 12 delivery
        "上月两批货延迟发货一周",  # 13 complaint
        "48小时内上门更换",  # 14 after-sales case
        "A+",  # 16 integrated class
        "1972-05-08",  # 17 a stakeholder's birth date
        "年度销量进入前20%",  # classification history
    ):
        assert fact in text, fact
    assert zh("Classification history") in text
    assert_fonts_embedded(pdf)


def test_empty_sections_say_so(
    engine: Engine, dataset: DatasetIds, as_pdf: Callable[[bytes], Pdf]
) -> None:
    text = as_pdf(render_dealer_card(engine, dataset.second_dealer_id)).flat_text
    assert SECOND_DEALER_NAME in text
    assert text.count(zh("Not recorded yet.")) >= 10
    assert zh("Classification history") not in text


def test_english_card(engine: Engine, dataset: DatasetIds, as_pdf: Callable[[bytes], Pdf]) -> None:
    text = as_pdf(render_dealer_card(engine, dataset.dealer_id, lang="en")).flat_text
    assert "Customerprofilecard" in text and "17.Stakeholders" in text
    assert DEALER_NAME in text


def test_unknown_dealer(engine: Engine, dataset: DatasetIds) -> None:
    with pytest.raises(NotFound):
        render_dealer_card(engine, "missing-dealer")
