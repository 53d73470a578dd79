"""The pre-visit brief (DOMAIN.md §5.1)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from pdfcheck import Pdf, assert_fonts_embedded, zh
from reports_dataset import DEALER_NAME, SECOND_DEALER_NAME, DatasetIds
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fieldrep.i18n import translate
from fieldrep.reports import render_brief
from fieldrep.reports.brief import QUESTION_PROMPTS, SENIOR_PROMPT
from fieldrep.reports.data import gather_brief
from fieldrep.storage.enums import CHANNEL_TALKING_POINTS, ChannelType
from fieldrep.storage.errors import NotFound
from fieldrep.storage.preparation import PREP_MATERIALS

TODAY = date(2026, 11, 25)
NO_SENIOR = translate(
    "No senior manager is known at this dealer: learn who decides and ask for a senior visit.",
    "zh_CN",
)[:8]


def test_brief_has_profile_people_history_open_items_and_preparation(
    engine: Engine, dataset: DatasetIds, as_pdf: Callable[[bytes], Pdf]
) -> None:
    pdf = as_pdf(render_brief(engine, dataset.dealer_id, today=TODAY))
    text = pdf.flat_text
    assert zh("Pre-visit brief") in text and DEALER_NAME in text
    # Profile header: classes, tiers, credit grade, last relationship grade, channel type
    # with its mandated talking point.
    assert zh("Class A") in text and zh("Gold partner") in text and "AA" in text
    assert zh("Last relationship grade") in text and "优" in text
    assert zh(CHANNEL_TALKING_POINTS[ChannelType.DISTRIBUTION]) in text
    # Key people with decision roles, personality, hobbies; a senior is known: no warning.
    assert "陈国华" in text and zh("Decision maker") in text and "高尔夫、茶道" in text
    assert NO_SENIOR not in text
    # The last visits, open follow-ups, legacy issues by category and complaints.
    assert "总经理同意安排一次销售人员培训" not in text  # successes are not on the brief
    assert "没有准备好竞品对比表" in text
    assert "申请促销员支持" in text and "王强" in text
    assert "寄送行业需求资料" not in text  # done, so not open
    assert zh("Evidenced: must be resolved") in text and "前任经理承诺" in text
    assert zh("Cannot be resolved") in text
    assert "上月两批货延迟发货一周" in text
    # Objections raised before and the answer that worked.
    assert zh("Answers that worked") in text and "补充三项获利来源" in text
    # Sales figures and competitor notes.
    assert "720,000.00" in text and "2026-10" in text
    assert "ThinkPadE14" in text
    # This visit's goals, the question prompts and the materials checklist.
    assert "确认培训方案并预约培训时间" in text and "讨论培训安排" in text
    for prompt in QUESTION_PROMPTS:
        assert zh(prompt) in text, prompt
    for _code, material in PREP_MATERIALS:
        assert zh(material) in text, material
    assert "■" in text and "□" in text  # brochures and cases ticked, the rest open
    assert_fonts_embedded(pdf)


def test_no_senior_contact_is_warned_and_prompted(
    engine: Engine, dataset: DatasetIds, as_pdf: Callable[[bytes], Pdf]
) -> None:
    text = as_pdf(render_brief(engine, dataset.second_dealer_id, today=TODAY)).flat_text
    assert SECOND_DEALER_NAME in text
    assert NO_SENIOR in text
    assert zh(SENIOR_PROMPT) in text
    assert zh("No earlier visits recorded.") in text
    # Sections with nothing in them are left out, not printed empty.
    assert zh("Objections raised before") not in text
    assert zh("Sales figures and competitors") not in text


def test_brief_for_a_given_plan_item_or_none(engine: Engine, dataset: DatasetIds) -> None:
    with Session(engine) as session:
        planned = gather_brief(session, dataset.dealer_id, dataset.plan_item_ids[0])
        assert planned.plan is not None and planned.plan.route_seq == 1
        later = gather_brief(session, dataset.dealer_id, today=date(2027, 1, 1))
        assert later.plan is None
        assert [visit.contact_at for visit in later.last_visits] == sorted(
            (visit.contact_at for visit in later.last_visits), reverse=True
        )


def test_english_brief(engine: Engine, dataset: DatasetIds, as_pdf: Callable[[bytes], Pdf]) -> None:
    pdf = as_pdf(render_brief(engine, dataset.dealer_id, lang="en", today=TODAY))
    text = pdf.flat_text
    for words in ("Pre-visit brief", "Key people and decision chain", "Materials checklist"):
        assert words.replace(" ", "") in text
    assert DEALER_NAME in text
    assert_fonts_embedded(pdf)


def test_unknown_dealer(engine: Engine, dataset: DatasetIds) -> None:
    with pytest.raises(NotFound) as raised:
        render_brief(engine, "missing-dealer")
    assert raised.value.entity == "dealer"
