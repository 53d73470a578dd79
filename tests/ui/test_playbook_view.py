"""The objection playbook: answers per type sorted by how often they worked; add and edit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from test_visit_record import english_words, ui_language
from uitest import commit_text

from fieldrep.storage.enums import ObjectionType, ResponsePattern
from fieldrep.storage.models import Dealer, Objection, ObjectionAnswer
from fieldrep.storage.services import core
from fieldrep.storage.services.core import Store, UserContext
from fieldrep.storage.services.playbook import add_answer, playbook_stats
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.views.playbook import PlaybookView, success_order

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


@pytest.fixture
def view(qtbot: QtBot, main_window: MainWindow) -> Iterator[PlaybookView]:
    main_window.show_view("playbook")
    found = main_window.views["playbook"]
    assert isinstance(found, PlaybookView)
    qtbot.waitUntil(lambda: found.data is not None)
    yield found


def test_eight_types_with_their_example_words(view: PlaybookView) -> None:
    assert view.types.count() == 8
    labels = [view.types.item(row).text() for row in range(8)]
    assert labels[0].startswith("需求异议")
    view.select_type(ObjectionType.PRICE)
    assert view.heading.text() == "价格异议"
    assert "价格" in view.example.text()


def test_answers_are_sorted_by_success_and_match_the_statistics(
    view: PlaybookView, demo_store: Store
) -> None:
    for kind in ObjectionType:
        view.select_type(kind)
        rows = view.panel.model.rows()
        expected = {s.answer_id: s for s in playbook_stats(demo_store, kind)}
        assert {row.id for row in rows} == set(expected)
        assert list(rows) == sorted(rows, key=success_order)
        for row in rows:
            assert row.stats == expected[row.id]
    # Some answers were used in the demo's recorded visits: a rate is shown for them.
    view.select_type(ObjectionType.PRICE)
    first = view.panel.model.rows()[0]
    assert first.stats.times_used > 0
    rate_column = len(view.panel.model.columns) - 1
    shown = view.panel.model.index(0, rate_column).data()
    stats = first.stats
    rate = f"{first.success_rate * 100:.0f}%"
    assert shown == f"成功 {stats.times_resolved} 次，共用 {stats.times_used} 次（{rate}）"
    tooltip = view.panel.model.index(0, rate_column).data(Qt.ItemDataRole.ToolTipRole)
    assert f"{stats.confidence_floor * 100:.0f}%" in tooltip  # type: ignore[operator]


def test_add_an_answer_with_inline_validation(
    qtbot: QtBot, view: PlaybookView, demo_store: Store
) -> None:
    view.select_type(ObjectionType.BRAND)
    qtbot.mouseClick(view.new_button, Qt.MouseButton.LeftButton)
    assert view.binding.editors["type"].text() == ObjectionType.BRAND.code
    commit_text(view.binding.editors["title"].editor, "用本地样板市场说话")
    qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    error = view.binding.editors["answer_text"].error
    qtbot.waitUntil(lambda: bool(error.text()))
    assert error.text() == "应答话术：不能为空"
    editor = view.binding.editors["answer_text"].editor
    editor.setFocus()
    editor.insertPlainText("带客户去看杭州的样板门店，用销量数据证明品牌认知在提升。")  # type: ignore[attr-defined]
    pattern = view.binding.editors["response_pattern"].editor
    pattern.setCurrentIndex(pattern.findData(ResponsePattern.PROOF.code))  # type: ignore[attr-defined]
    with qtbot.waitSignal(view.answer_saved, timeout=10000) as saved:
        qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    answer = saved.args[0]
    with demo_store.read() as session:
        row = session.get(ObjectionAnswer, answer.id)
        assert row is not None
        assert row.type == ObjectionType.BRAND
        assert row.response_pattern == ResponsePattern.PROOF
        assert row.author_user_id == demo_store.user.user_id
    qtbot.waitUntil(lambda: any(e.id == answer.id for e in view.panel.model.rows()))
    assert view.current_answer_id == answer.id


def test_edit_an_answer(qtbot: QtBot, view: PlaybookView, demo_store: Store) -> None:
    view.select_type(ObjectionType.REWARD)
    entry = view.panel.model.rows()[0]
    assert view.binding.editors["title"].text() == entry.stats.title
    title = view.binding.editors["title"].editor
    title.selectAll()  # type: ignore[attr-defined]
    commit_text(title, "返利与年终奖捆绑任务")
    assert view.state.text()
    with qtbot.waitSignal(view.answer_saved, timeout=10000):
        qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    with demo_store.read() as session:
        assert (
            session.scalar(select(ObjectionAnswer.title).where(ObjectionAnswer.id == entry.id))
            == "返利与年终奖捆绑任务"
        )


def test_an_answer_copied_into_another_territory_is_listed_once(
    qtbot: QtBot, view: PlaybookView, demo_store: Store
) -> None:
    """The same answer in two territories: one row, both copies' uses, edited together.

    Before, the demo's copy per territory listed every answer three times with its
    success split between the copies (用数据证明 3/3, 4/5, 0/4).
    """
    view.select_type(ObjectionType.PRICE)
    entry = view.panel.model.rows()[0]
    before = entry.stats
    with demo_store.read() as session:
        far = session.scalars(
            select(Dealer)
            .where(Dealer.territory_id != demo_store.user.territory_id, Dealer.deleted.is_(False))
            .order_by(Dealer.id)
            .limit(1)
        ).one()
        far_dealer, far_territory = far.id, far.territory_id
    elsewhere = Store(
        demo_store.engine,
        UserContext(demo_store.user.user_id, far_territory, demo_store.user.role, "经理"),
        today=demo_store.today,
    )
    copy = add_answer(
        elsewhere,
        {"type": "price", "title": before.title, "answer_text": entry.answer["answer_text"]},
    )
    for outcome in ("resolved", "lost"):
        core.create(
            elsewhere,
            Objection,
            {
                "dealer_id": far_dealer,
                "type": "price",
                "verbatim": "价格太高",
                "raised_on": date(2026, 11, 20),
                "playbook_answer_id": copy.id,
                "outcome": outcome,
            },
        )
    with qtbot.waitSignal(view.data_loaded, timeout=10000):
        view.refresh()
    view.select_type(ObjectionType.PRICE)
    rows = [row for row in view.panel.model.rows() if row.stats.title == before.title]
    assert len(rows) == 1, "one row for both copies"
    [row] = rows
    assert row.id == entry.id, "shown as the copy of the user's territory"
    assert (row.stats.times_used, row.stats.times_resolved) == (
        before.times_used + 2,
        before.times_resolved + 1,
    )
    # Editing it changes both copies: it stays one answer.
    assert view.select_answer(row.id)
    title = view.binding.editors["title"].editor
    title.selectAll()  # type: ignore[attr-defined]
    commit_text(title, "肯定+补充+引导（改）")
    with qtbot.waitSignal(view.answer_saved, timeout=10000):
        qtbot.mouseClick(view.save_button, Qt.MouseButton.LeftButton)
    with demo_store.read() as session:
        titles = session.scalars(
            select(ObjectionAnswer.title).where(ObjectionAnswer.id.in_([row.id, copy.id]))
        ).all()
    assert titles == ["肯定+补充+引导（改）"] * 2


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_screenshot(qtbot: QtBot, main_window: MainWindow, lang: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    with ui_language(lang):
        main_window.show_view("playbook")
        view = main_window.views["playbook"]
        assert isinstance(view, PlaybookView)
        qtbot.waitUntil(lambda: view.data is not None)
        view.select_type(ObjectionType.PRICE)
        view.retranslate()
        main_window.retranslate()
        main_window.resize(1280, 780)
        QApplication.processEvents()
        assert main_window.grab().save(str(SCREENSHOTS / f"playbook_{lang}.png"))
        if lang == "zh_CN":
            assert not english_words(view)
