"""The day's route pack: a cover page, then the briefs in route order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from pdfcheck import Pdf, assert_fonts_embedded, flat, zh
from reports_dataset import DEALER_NAME, ROUTE_DAY, SECOND_DEALER_NAME, DatasetIds
from sqlalchemy import Engine

from fieldrep.reports import NothingToPrint, render_route_pack


def test_route_pack_in_route_order(
    engine: Engine, dataset: DatasetIds, as_pdf: Callable[[bytes], Pdf]
) -> None:
    pdf = as_pdf(render_route_pack(engine, ROUTE_DAY))
    cover = flat(pdf.page_text(1))
    assert zh("Route pack") in cover and ROUTE_DAY.isoformat() in cover
    assert cover.index(DEALER_NAME) < cover.index(SECOND_DEALER_NAME)
    assert "09:30" in cover and "14:00" in cover
    text = pdf.flat_text
    first = text.index(zh("Stop {number}: {title}").format(number=1, title=zh("Pre-visit brief")))
    second = text.index(zh("Stop {number}: {title}").format(number=2, title=zh("Pre-visit brief")))
    assert first < text.index("确认培训方案并预约培训时间", first) < second
    assert text.index("了解店面销售情况", second) > second
    # Each brief starts on its own page, after the cover.
    assert pdf.pages >= 3
    assert SECOND_DEALER_NAME in flat(pdf.page_text(pdf.pages)) or any(
        zh("Stop {number}: {title}").format(number=2, title=zh("Pre-visit brief"))
        in flat(pdf.page_text(page))
        for page in range(2, pdf.pages + 1)
    )
    assert f"第{pdf.pages}页/共{pdf.pages}页" in flat(pdf.page_text(pdf.pages))
    assert_fonts_embedded(pdf)


def test_route_pack_of_one_rep(engine: Engine, dataset: DatasetIds) -> None:
    assert render_route_pack(engine, ROUTE_DAY, rep="zhangwei").startswith(b"%PDF-")
    with pytest.raises(NothingToPrint):
        render_route_pack(engine, ROUTE_DAY, rep="wangqiang")


def test_a_day_without_visits(engine: Engine, dataset: DatasetIds) -> None:
    with pytest.raises(NothingToPrint) as raised:
        render_route_pack(engine, ROUTE_DAY + timedelta(days=30))
    assert raised.value.params == {"day": (ROUTE_DAY + timedelta(days=30)).isoformat()}


def test_english_route_pack(
    engine: Engine, dataset: DatasetIds, as_pdf: Callable[[bytes], Pdf]
) -> None:
    text = as_pdf(render_route_pack(engine, ROUTE_DAY, lang="en")).flat_text
    assert "Routepack" in text and "2visits" in text and "Stop2:Pre-visitbrief" in text
