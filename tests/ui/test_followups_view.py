"""The Follow-ups view and reminders, and the whole day of a rep from dealer list to Today."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from pypinyin import Style, lazy_pinyin
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication, QPlainTextEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from test_planner import drop, open_planner, reloaded
from test_visit_record import english_words, ui_language
from uitest import commit_text

from fieldrep.storage.enums import FollowUpDirection, FollowUpStatus, ObjectionType
from fieldrep.storage.models import FollowUp, FollowUpStep, Objection, VisitPlanItem
from fieldrep.storage.queries import overdue_follow_ups
from fieldrep.storage.services.core import Store
from fieldrep.storage.services.followups import FollowUpDraft, create_follow_up
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.views.dealer_card import DealerCardWindow
from fieldrep.ui.views.dealers import DealersView
from fieldrep.ui.views.follow_ups import (
    EscalateDialog,
    FollowUpReminder,
    FollowUpsView,
    MarkDoneDialog,
    StepDialog,
    start_follow_up_reminders,
)
from fieldrep.ui.views.today import TodayView
from fieldrep.ui.views.visit_record import VisitRecordWindow

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def show_follow_ups(qtbot: QtBot, main_window: MainWindow, argument: str = "") -> FollowUpsView:
    main_window.show_view("follow_ups", argument)
    view = main_window.views["follow_ups"]
    assert isinstance(view, FollowUpsView)
    qtbot.waitUntil(lambda: view.data is not None and not main_window.workers.busy)
    return view


@pytest.fixture
def view(qtbot: QtBot, main_window: MainWindow) -> Iterator[FollowUpsView]:
    yield show_follow_ups(qtbot, main_window)


def test_overdue_first_most_overdue_first_then_by_due_date(
    view: FollowUpsView, demo_store: Store
) -> None:
    assert view.data is not None
    lines = view.data.lines
    overdue = overdue_follow_ups(demo_store, owner_user_id=demo_store.user.user_id, limit=1000)
    assert [line.id for line in lines[: view.data.overdue]] == [row.id for row in overdue.items]
    assert view.data.overdue > 0, "the demo rep has overdue follow-ups"
    later = lines[view.data.overdue :]
    assert all(line.days_overdue == 0 for line in later)
    assert [line.due_on for line in later] == sorted(line.due_on for line in later)
    assert all(line.owner_user_id == demo_store.user.user_id for line in lines)
    assert all(line.status.code in ("open", "in_progress", "blocked") for line in lines)
    # Overdue rows are red in the list.
    colour = view.panel.model.index(0, 1).data(Qt.ItemDataRole.ForegroundRole)
    assert colour is not None and colour.color().name() == "#c62828"


def test_filters_mine_everyone_and_status(
    qtbot: QtBot, view: FollowUpsView, demo_store: Store, main_window: MainWindow
) -> None:
    assert view.data is not None
    mine = len(view.data.lines)
    view.owner_filter.setCurrentIndex(1)
    qtbot.waitUntil(lambda: not main_window.workers.busy)
    assert view.data is not None
    assert len(view.data.lines) > mine
    assert {line.owner_user_id for line in view.data.lines} != {demo_store.user.user_id}
    view.status_filter.setCurrentIndex(view.status_filter.findData(FollowUpStatus.DONE.code))
    qtbot.waitUntil(lambda: not main_window.workers.busy)
    assert view.data is not None and view.data.lines
    assert {line.status for line in view.data.lines} == {FollowUpStatus.DONE}
    assert view.data.overdue == 0


def _our_open_follow_up(store: Store, title: str) -> str:
    return create_follow_up(
        store,
        FollowUpDraft(title, due_on=store.today() - timedelta(days=400)),
        source_type="manual",
    ).id


def test_closing_what_we_owe_needs_the_dealer_told(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    follow_up_id = _our_open_follow_up(demo_store, "寄送样品到门店")
    view = show_follow_ups(qtbot, main_window, follow_up_id)
    qtbot.waitUntil(lambda: view.current_line() is not None)
    line = view.current_line()
    assert line is not None and line.id == follow_up_id, "the most overdue comes first"
    assert line.direction == FollowUpDirection.WE_OWE
    qtbot.mouseClick(view.done_button, Qt.MouseButton.LeftButton)
    dialog = view.findChild(MarkDoneDialog)
    assert dialog is not None and dialog.notified.isVisibleTo(dialog)
    dialog.result_text.insertPlainText("样品已送达，店长签收")
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    error = dialog.errors["result_notified_at"]
    qtbot.waitUntil(lambda: bool(error.text()))
    assert error.text().startswith("已通报经销商处理结果的时间：") or "通报" in error.text()
    with demo_store.read() as session:
        row = session.get(FollowUp, follow_up_id)
        assert row is not None and row.status == FollowUpStatus.OPEN
    dialog.notified.setChecked(True)
    with qtbot.waitSignal(dialog.completed, timeout=10000):
        dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    with demo_store.read() as session:
        row = session.get(FollowUp, follow_up_id)
        assert row is not None
        assert row.status == FollowUpStatus.DONE
        assert row.result == "样品已送达，店长签收"
        assert row.result_notified_at is not None
    qtbot.waitUntil(lambda: not main_window.workers.busy)
    assert view.data is not None
    assert follow_up_id not in [line.id for line in view.data.lines], "done ones leave the list"


def test_add_a_step_and_escalate(qtbot: QtBot, main_window: MainWindow, demo_store: Store) -> None:
    follow_up_id = _our_open_follow_up(demo_store, "申请特价支持")
    view = show_follow_ups(qtbot, main_window, follow_up_id)
    qtbot.waitUntil(lambda: view.current_line() is not None)
    qtbot.mouseClick(view.step_button, Qt.MouseButton.LeftButton)
    step = view.findChild(StepDialog)
    assert step is not None
    step.buttons.button(step.buttons.StandardButton.Ok).click()
    assert step.errors["description"].text(), "a step needs a description"
    commit_text(step.description, "电话确认资料已收到")
    step.due.setDate(QDate(2026, 12, 1))
    with qtbot.waitSignal(step.completed, timeout=10000):
        step.buttons.button(step.buttons.StandardButton.Ok).click()
    qtbot.waitUntil(
        lambda: any(
            "电话确认资料已收到" in view.timeline.item(i).text()
            for i in range(view.timeline.count())
        )
    )
    qtbot.mouseClick(view.escalate_button, Qt.MouseButton.LeftButton)
    escalate = view.findChild(EscalateDialog)
    assert escalate is not None
    commit_text(escalate.department, "市场部")
    with qtbot.waitSignal(escalate.completed, timeout=10000):
        escalate.buttons.button(escalate.buttons.StandardButton.Ok).click()
    with demo_store.read() as session:
        row = session.get(FollowUp, follow_up_id)
        assert row is not None
        assert row.escalated and row.status == FollowUpStatus.BLOCKED
        assert row.counterpart_dept == "市场部"
        steps = session.scalars(
            select(FollowUpStep.description).where(FollowUpStep.follow_up_id == follow_up_id)
        ).all()
        assert "电话确认资料已收到" in steps
        assert any("市场部" in text for text in steps)


def test_reminders_tell_once_a_day_about_what_falls_due(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    assert main_window.services is not None
    told: list[tuple[str, str]] = []
    reminder = FollowUpReminder(
        main_window.services, main_window, notify=lambda title, text: told.append((title, text))
    )
    with qtbot.waitSignal(reminder.reminded, timeout=10000) as reminded:
        reminder.check()
    lines = reminded.args[0]
    assert lines and all(line.due_on <= demo_store.today() for line in lines)
    assert all(line.owner_user_id == demo_store.user.user_id for line in lines)
    assert told[0][0] == f"{len(lines)} 项跟进事项已到期"
    qtbot.waitUntil(lambda: not main_window.workers.busy)
    with demo_store.read() as session:
        reminded_at = session.scalars(
            select(FollowUp.reminded_at).where(FollowUp.id.in_([line.id for line in lines]))
        ).all()
        assert all(stamp is not None for stamp in reminded_at)
    reminder.check()
    qtbot.waitUntil(lambda: not main_window.workers.busy)
    assert len(told) == 1, "already reminded today"


@pytest.mark.parametrize(
    ("lang", "opening", "closing"), [("zh_CN", "（", "）"), ("en", " (", ")")], ids=["zh", "en"]
)
def test_a_reminder_sets_the_dealer_in_the_brackets_of_its_language(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store, lang: str, opening: str, closing: str
) -> None:
    assert main_window.services is not None
    told: list[tuple[str, str]] = []
    reminder = FollowUpReminder(
        main_window.services, main_window, notify=lambda title, text: told.append((title, text))
    )
    with ui_language(lang):
        with qtbot.waitSignal(reminder.reminded, timeout=10000) as reminded:
            reminder.check()
        qtbot.waitUntil(lambda: not main_window.workers.busy)
    lines = reminded.args[0][:3]
    assert any(line.dealer_name for line in lines), "the demo's due follow-ups name dealers"
    expected = [
        f"{line.title}{opening}{line.dealer_name}{closing}" if line.dealer_name else line.title
        for line in lines
    ]
    assert told[0][1].splitlines()[: len(lines)] == expected
    other = "（" if lang == "en" else " ("
    assert other not in told[0][1]


def test_no_system_tray_means_no_reminders_and_one_log_line(
    main_window: MainWindow, caplog: pytest.LogCaptureFixture
) -> None:
    assert main_window.services is not None
    with caplog.at_level(logging.INFO, logger="fieldrep.ui"):
        assert start_follow_up_reminders(main_window.services, main_window) is None
    assert "no system tray" in caplog.text


def test_a_rep_day_from_the_dealer_list_to_today(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    # The morning: the Planner proposes the dealers due by cadence; take the first.
    day = demo_store.today()
    planner = open_planner(qtbot, main_window, day)
    assert planner.data is not None and planner.data.proposals
    source = planner.proposals.topLevelItem(0)
    proposal = planner.proposals.proposal(source)
    assert proposal is not None
    dealer_id, name = proposal.dealer.dealer_id, proposal.dealer.name

    # Look the dealer up in the list by the pinyin initials of its name, as a rep types.
    main_window.show_view("dealers")
    dealers = main_window.views["dealers"]
    assert isinstance(dealers, DealersView)
    qtbot.waitUntil(lambda: dealers.model.loaded and not dealers.model.loading)
    everyone = dealers.model.rowCount()
    initials = "".join(lazy_pinyin(name[:4], style=Style.FIRST_LETTER)).lower()
    assert initials.isascii() and len(initials) == 4, initials
    dealers.search.setFocus()
    qtbot.keyClicks(dealers.search, initials)

    def found_row() -> int | None:
        if dealers.model.loading or dealers.model.rowCount() >= everyone:
            return None
        rows = range(dealers.model.rowCount())
        return next((row for row in rows if dealers.model.dealer_id(row) == dealer_id), None)

    qtbot.waitUntil(lambda: found_row() is not None, timeout=10_000)
    row = found_row()
    assert row is not None
    assert 0 < dealers.model.rowCount() < everyone, "the list is filtered"
    dealers.table.setFocus()
    dealers.table.setCurrentIndex(dealers.model.index(row, 0))
    qtbot.keyClick(dealers.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(main_window.findChildren(DealerCardWindow)))
    card = main_window.findChildren(DealerCardWindow)[0]
    qtbot.waitUntil(lambda: card.data is not None)
    assert card.dealer_id == dealer_id
    card.close()

    # Plan it for today from the Planner's due list: drag it onto today.
    planner = open_planner(qtbot, main_window, day)
    assert planner.data is not None
    [source] = [
        item
        for item in (
            planner.proposals.topLevelItem(i) for i in range(planner.proposals.topLevelItemCount())
        )
        if (found := planner.proposals.proposal(item)) and found.dealer.dealer_id == dealer_id
    ]
    before = planner.data
    assert drop(planner.cell(day).list, planner.proposals.mimeData([source]))
    reloaded(qtbot, planner, before)
    assert planner.data is not None
    [planned] = [item for item in planner.data.items_on(day) if item.dealer_id == dealer_id]
    item_id = planned.id

    # It is on Today's route; open it from there.
    today = main_window.views["today"]
    assert isinstance(today, TodayView)
    main_window.show_view("today")
    qtbot.waitUntil(
        lambda: today.data is not None and any(r.item_id == item_id for r in today.data.plan)
    )
    row = next(i for i, r in enumerate(today.plan.model.rows()) if r.item_id == item_id)
    today.plan.table.setCurrentIndex(today.plan.model.index(row, 0))
    today.plan.table.setFocus()
    qtbot.keyClick(today.plan.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(main_window.findChildren(VisitRecordWindow)))
    record = main_window.findChildren(VisitRecordWindow)[0]
    qtbot.waitUntil(lambda: record.context is not None)

    # Record it: the card, an objection answered from the playbook, a follow-up due today.
    texts = {
        "content": "与老板谈了新品铺货和返利政策。",
        "successes": "老板认可新品定位。",
        "shortcomings": "返利政策没讲清楚。",
        "lessons": "带上返利测算表。",
        "new_agreements": "明天前发返利测算表",
    }
    for name, text in texts.items():
        editor = record.binding.editors[name].editor
        assert isinstance(editor, QPlainTextEdit)
        editor.setFocus()
        editor.insertPlainText(text)
    agreed = record.agreed.rows[("agreement", 0)]
    agreed.due.setDate(agreed.due.date().addDays(-7))
    objection = record.add_objection()
    objection.type.setCurrentIndex(objection.type.findData(ObjectionType.REWARD.code))
    commit_text(objection.verbatim, "你们的返利太低了")
    objection.answer.setCurrentIndex(1)
    answer = objection.picked_answer()
    assert answer is not None
    with qtbot.waitSignal(record.saved, timeout=10000):
        qtbot.mouseClick(record.finalise_button, Qt.MouseButton.LeftButton)

    with demo_store.read() as session:
        saved_item = session.get(VisitPlanItem, item_id)
        assert saved_item is not None and saved_item.status.code == "done"
        follow_up = session.scalars(
            select(FollowUp).where(FollowUp.title == "明天前发返利测算表")
        ).one()
        assert follow_up.dealer_id == dealer_id
        assert (
            session.scalars(
                select(Objection.playbook_answer_id).where(Objection.verbatim == "你们的返利太低了")
            ).one()
            == answer.id
        )

    # The follow-up is in the Follow-ups view and on Today.
    view = show_follow_ups(qtbot, main_window, follow_up.id)
    qtbot.waitUntil(lambda: view.current_line() is not None)
    line = view.current_line()
    assert line is not None and line.id == follow_up.id
    main_window.show_view("today")
    qtbot.waitUntil(
        lambda: (
            today.data is not None and any(row.id == follow_up.id for row in today.data.follow_ups)
        )
    )
    shown = [row.title for row in today.follow_ups.model.rows() if row.id == follow_up.id]
    assert shown == ["明天前发返利测算表"], "listed on Today's follow-ups panel"


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_screenshot(qtbot: QtBot, main_window: MainWindow, lang: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    with ui_language(lang):
        view = show_follow_ups(qtbot, main_window)
        view.retranslate()
        main_window.retranslate()
        main_window.resize(1280, 780)
        qtbot.waitUntil(lambda: view.timeline.count() > 0)
        QApplication.processEvents()
        assert main_window.grab().save(str(SCREENSHOTS / f"follow_ups_{lang}.png"))
        if lang == "zh_CN":
            assert not english_words(view)
        view.mark_done()
        dialog = view.findChild(MarkDoneDialog)
        assert dialog is not None
        QApplication.processEvents()
        assert dialog.grab().save(str(SCREENSHOTS / f"dialog_mark_done_{lang}.png"))
        if lang == "zh_CN":
            assert not english_words(dialog)
        dialog.reject()
