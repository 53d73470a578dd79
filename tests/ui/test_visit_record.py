"""The visit record as a rep writes it: from today's plan, with an objection and follow-ups.

Walks through whole tasks on the demo territory: open a planned visit, type the
card, raise an objection answered from the playbook, agree a follow-up due today,
finalise; then see the follow-up on Today. Finalising without successes shows
the Chinese reason at the field. Closing the window keeps the draft.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date, timedelta
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QListView, QPlainTextEdit, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from uitest import all_texts, commit_text

from fieldrep.storage.enums import (
    ContactMethod,
    FollowUpSource,
    FollowUpStatus,
    ObjectionOutcome,
    ObjectionType,
    PlanItemStatus,
    RecordStatus,
)
from fieldrep.storage.models import (
    AppUser,
    ContactRecord,
    ContactRecordParticipant,
    Dealer,
    FollowUp,
    Objection,
    VisitPlanItem,
)
from fieldrep.storage.queries import todays_plan
from fieldrep.storage.screens.visit_record import resolve_target
from fieldrep.storage.services.core import Store
from fieldrep.ui import drafts
from fieldrep.ui.language import apply_language
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.views.today import TodayView
from fieldrep.ui.views.visit_record import ObjectionEditor, VisitRecordWindow

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
# Latin words a Chinese screen may show: the product name, key names, the A/B/C
# classes, the 5C credit system, VIP customers and the FAB/FABE answer techniques
# (their usual names in Chinese sales work too).
ALLOWED_LATIN = {"FieldRep", "Ctrl", "ABC", "FAB", "FABE", "5C", "VIP", "Q4", "2026Q4"}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]*")


@contextmanager
def ui_language(lang: str) -> Iterator[None]:
    """Switch the whole interface (FieldRep's catalogue and Qt's) as Settings does."""
    app = QApplication.instance()
    assert isinstance(app, QApplication)
    apply_language(app, lang)
    try:
        yield
    finally:
        apply_language(app, "zh_CN")


def english_words(root: QWidget) -> set[str]:
    """Latin words visible in ``root`` that a Chinese interface should not show."""
    found: set[str] = set()
    for text in all_texts(root):
        for word in LATIN_WORD.findall(text):
            if word not in ALLOWED_LATIN and not re.fullmatch(r"[ABCD]", word):
                found.add(word)
    return found


def type_into(qtbot: QtBot, window: VisitRecordWindow, name: str, text: str) -> None:
    """Type into a field of the card as a user does (key clicks into its editor)."""
    editor = window.binding.editors[name].editor
    editor.setFocus()
    if isinstance(editor, QPlainTextEdit):
        editor.clear()
        editor.insertPlainText(text)  # Chinese arrives committed from the input method
    elif text.isascii():
        qtbot.keyClicks(editor, text)
    else:
        commit_text(editor, text)


def wait_for_record_window(qtbot: QtBot, main_window: MainWindow) -> VisitRecordWindow:
    qtbot.waitUntil(lambda: bool(main_window.findChildren(VisitRecordWindow)))
    window = main_window.findChildren(VisitRecordWindow)[-1]
    qtbot.waitUntil(lambda: window.context is not None)
    return window


@pytest.fixture
def planned_item(demo_store: Store) -> Iterator[str]:
    """The first visit of today's route (not yet done)."""
    plan = [row for row in todays_plan(demo_store) if row.status == PlanItemStatus.PLANNED]
    assert plan, "the demo plans visits for today"
    yield plan[0].item_id


def test_an_id_resolves_to_what_it_opens(demo_store: Store, planned_item: str) -> None:
    target = resolve_target(demo_store, planned_item)
    assert target.plan_item_id == planned_item and target.dealer_id
    assert resolve_target(demo_store, target.dealer_id or "").dealer_id == target.dealer_id
    assert resolve_target(demo_store, "no-such-id").dealer_id is None


def test_record_a_planned_visit_with_objection_and_follow_up(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store, planned_item: str
) -> None:
    main_window.open_record("plan_item", planned_item)
    window = wait_for_record_window(qtbot, main_window)
    assert window.target.plan_item_id == planned_item
    assert window.participants.count() > 0, "the dealer's contacts can be ticked"
    window.participants.item(0).setCheckState(Qt.CheckState.Checked)
    participant = str(window.participants.item(0).data(Qt.ItemDataRole.UserRole + 1))

    type_into(qtbot, window, "location", "经销商门店")
    type_into(qtbot, window, "content", "介绍了新款产品线，了解了门店库存和下季度进货计划。")
    type_into(qtbot, window, "successes", "老板同意先试销两个型号。")
    type_into(qtbot, window, "shortcomings", "没有带齐样品资料。")
    type_into(qtbot, window, "lessons", "下次带上当地标杆客户案例。")
    type_into(qtbot, window, "new_agreements", "周五前寄送新价格表\n安排店员培训")
    assert len(window.agreed.rows) == 2, "each line becomes a follow-up row"
    first_row = window.agreed.rows[("agreement", 0)]
    first_row.due.setDate(first_row.due.date().addDays(-7))  # due today: shows on Today

    objection = window.add_objection(focus=True)
    objection.type.setCurrentIndex(objection.type.findData(ObjectionType.PRICE.code))
    assert "价格" in objection.verbatim.placeholderText(), "the example phrase is the hint"
    qtbot.keyClicks(objection.verbatim, "jiage tai gao")
    assert objection.answer.count() > 1, "the playbook offers answers for price objections"
    objection.answer.setCurrentIndex(1)
    picked = objection.picked_answer()
    assert picked is not None
    assert objection.answer_text.toPlainText() == picked.text
    objection.outcome.setCurrentIndex(objection.outcome.findData(ObjectionOutcome.RESOLVED.code))

    with qtbot.waitSignal(window.saved, timeout=10000):
        qtbot.mouseClick(window.finalise_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not main_window.findChildren(VisitRecordWindow))

    with demo_store.read() as session:
        record = session.scalars(
            select(ContactRecord).where(ContactRecord.plan_item_id == planned_item)
        ).one()
        assert record.status == RecordStatus.FINAL
        assert record.contact_method == ContactMethod.VISIT
        assert record.successes == "老板同意先试销两个型号。"
        assert record.new_agreements == "周五前寄送新价格表\n安排店员培训"
        item = session.get(VisitPlanItem, planned_item)
        assert item is not None and item.status == PlanItemStatus.DONE
        assert session.scalars(
            select(ContactRecordParticipant.contact_id).where(
                ContactRecordParticipant.contact_record_id == record.id
            )
        ).all() == [participant]
        saved_objection = session.scalars(
            select(Objection).where(Objection.contact_record_id == record.id)
        ).one()
        assert saved_objection.playbook_answer_id == picked.id
        assert saved_objection.outcome == ObjectionOutcome.RESOLVED
        assert saved_objection.verbatim == "jiage tai gao"
        follow_ups = session.scalars(
            select(FollowUp).where(FollowUp.source_id == record.id).order_by(FollowUp.title)
        ).all()
        assert {f.title for f in follow_ups} == {"周五前寄送新价格表", "安排店员培训"}
        assert all(f.source_type == FollowUpSource.VISIT_AGREEMENT for f in follow_ups)
        assert all(f.owner_user_id == demo_store.user.user_id for f in follow_ups)
        due = {f.title: f.due_on for f in follow_ups}
        assert due["周五前寄送新价格表"] == demo_store.today()
        assert due["安排店员培训"] == demo_store.today() + timedelta(days=7)

    today = main_window.views["today"]
    assert isinstance(today, TodayView)
    qtbot.waitUntil(
        lambda: (
            today.data is not None
            and any(row.title == "周五前寄送新价格表" for row in today.data.follow_ups)
        )
    )
    assert not drafts.read_drafts(), "the draft is gone once the record is saved"


def test_finalising_without_successes_shows_the_chinese_reason_at_the_field(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store, planned_item: str
) -> None:
    main_window.open_record("plan_item", planned_item)
    window = wait_for_record_window(qtbot, main_window)
    type_into(qtbot, window, "content", "谈了回款。")
    type_into(qtbot, window, "shortcomings", "时间太短。")
    type_into(qtbot, window, "lessons", "提前预约。")
    qtbot.mouseClick(window.finalise_button, Qt.MouseButton.LeftButton)
    error = window.binding.editors["successes"].error
    qtbot.waitUntil(lambda: bool(error.text()))
    assert error.isVisibleTo(window)
    assert error.text() == "成功之处：定稿前必须填写"
    assert set(window.binding.problems_shown()) == {"successes"}
    with demo_store.read() as session:
        assert (
            session.scalars(
                select(ContactRecord).where(ContactRecord.plan_item_id == planned_item)
            ).first()
            is None
        ), "nothing is saved half-way"
    assert window.isVisible(), "the record stays open to be completed"
    # Typing in the field clears its message.
    type_into(qtbot, window, "successes", "约好了培训。")
    assert not error.text()
    window.close()


def test_a_saved_record_opens_for_editing_and_finalising(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store, planned_item: str
) -> None:
    main_window.open_record("plan_item", planned_item)
    window = wait_for_record_window(qtbot, main_window)
    type_into(qtbot, window, "content", "第一次记录。")
    with qtbot.waitSignal(window.saved, timeout=10000):
        qtbot.mouseClick(window.save_button, Qt.MouseButton.LeftButton)
    with demo_store.read() as session:
        record = session.scalars(
            select(ContactRecord).where(ContactRecord.plan_item_id == planned_item)
        ).one()
        assert record.status == RecordStatus.DRAFT
    # The planned visit is done now: opening it again shows the saved record.
    main_window.open_record("plan_item", planned_item)
    qtbot.waitUntil(
        lambda: any(
            w.target.record_id == record.id and w.context is not None
            for w in main_window.findChildren(VisitRecordWindow)
        )
    )
    window = next(
        w for w in main_window.findChildren(VisitRecordWindow) if w.target.record_id == record.id
    )
    assert window.binding.editors["content"].text() == "第一次记录。"
    assert window.add_objection_button.isVisibleTo(window), "objections can still be added"
    assert window.finalise_button.isVisibleTo(window)
    for name, text in (("successes", "有"), ("shortcomings", "无"), ("lessons", "多听")):
        type_into(qtbot, window, name, text)
    with qtbot.waitSignal(window.saved, timeout=10000):
        qtbot.mouseClick(window.finalise_button, Qt.MouseButton.LeftButton)
    with demo_store.read() as session:
        saved = session.get(ContactRecord, record.id)
        assert saved is not None and saved.status == RecordStatus.FINAL
        assert saved.lessons == "多听"


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_screenshots(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store, planned_item: str, lang: str
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    with ui_language(lang):
        main_window.open_record("plan_item", planned_item)
        window = wait_for_record_window(qtbot, main_window)
        window.retranslate()
        type_into(qtbot, window, "content", "介绍新品，了解库存。")
        type_into(qtbot, window, "new_agreements", "周五前寄送新价格表")
        objection = window.add_objection()
        objection.type.setCurrentIndex(objection.type.findData(ObjectionType.PRICE.code))
        objection.answer.setCurrentIndex(1)
        window.resize(960, 1500)
        # Widgets added to a shown layout appear, then lay out, on later passes.
        row = window.agreed.rows[("agreement", 0)]
        qtbot.waitUntil(
            lambda: (
                objection.isVisible()
                and row.isVisible()
                and objection.height() >= objection.sizeHint().height()
                and objection.y() > 0
            )
        )
        assert window.grab().save(str(SCREENSHOTS / f"visit_record_{lang}.png"))
        if lang == "zh_CN":
            assert not english_words(window)
        # The playbook's answers as the picker lists them: best first, how often each worked
        # (a list over the picker's model: the offscreen platform cannot open its popup).
        answers = QListView()
        answers.setModel(objection.answer.model())
        answers.resize(objection.answer.width(), answers.sizeHintForRow(0) * 8)
        assert answers.grab().save(str(SCREENSHOTS / f"visit_record_answers_{lang}.png"))
        window.autosaver.discard()
        window.close()
        qtbot.waitUntil(lambda: not main_window.findChildren(VisitRecordWindow))


def test_switching_to_english_relabels_the_open_windows(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store, planned_item: str
) -> None:
    from fieldrep.ui.views.dealer_card import DealerCardWindow, show_dealer_card
    from fieldrep.ui.views.follow_ups import FollowUpsView
    from fieldrep.ui.views.playbook import PlaybookView

    assert main_window.services is not None
    main_window.open_record("plan_item", planned_item)
    record = wait_for_record_window(qtbot, main_window)
    assert record.context is not None
    card = show_dealer_card(main_window.services, main_window, record.context.dealer_id)
    qtbot.waitUntil(lambda: card.data is not None)
    main_window.show_view("playbook")
    main_window.show_view("follow_ups")
    playbook = main_window.views["playbook"]
    follow_ups = main_window.views["follow_ups"]
    assert isinstance(playbook, PlaybookView) and isinstance(follow_ups, FollowUpsView)
    qtbot.waitUntil(lambda: playbook.data is not None and follow_ups.data is not None)
    assert record.finalise_button.text() == "保存并定稿"
    assert card.tabs.tabText(0) == "资料卡"

    with ui_language("en"):
        # The windows were open in Chinese: the switch relabels them in place.
        assert record.finalise_button.text() == "Save and finalise"
        assert record.binding.editors["successes"].label_text() == "Successes"
        assert record.contact_grid.labels["contact_method"].text() == "Contact method"
        assert card.tabs.tabText(0) == "Profile card"
        assert card.section_boxes[0].title() == "1. Basic data"
        assert card.binding.editors["abc_class"].label_text() == "Visit class"
        assert follow_ups.done_button.text() == "Mark done…"
        assert follow_ups.owner_filter.itemText(0) == "My follow-ups"
        assert playbook.save_button.text() == "Save answer"
        assert playbook.heading.text().endswith("objection")
        for root in (record, card, follow_ups, playbook):
            assert not any("\u4e00" <= char <= "\u9fff" for char in _labels(root)), root
    assert card.tabs.tabText(0) == "资料卡"
    record.autosaver.discard()
    record.close()
    assert isinstance(card, DealerCardWindow)
    card.close()


def _labels(root: QWidget) -> str:
    """The interface's own words (field labels, buttons, titles), not the data shown."""
    from PySide6.QtWidgets import QAbstractButton, QGroupBox, QLabel

    texts = [w.text() for w in root.findChildren(QAbstractButton)]
    texts += [w.title() for w in root.findChildren(QGroupBox)]
    texts += [w.text() for w in root.findChildren(QLabel) if w.objectName().startswith("label_")]
    return "".join(texts)


def test_an_ad_hoc_visit_picks_its_dealer_first(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    with demo_store.read() as session:
        dealer_id, name = session.execute(
            select(Dealer.id, Dealer.name).order_by(Dealer.name).limit(1)
        ).one()
    main_window.show_view("today")
    main_window.actions_by_name["new_visit"].trigger()  # Ctrl+N with no dealer selected
    qtbot.waitUntil(lambda: bool(main_window.findChildren(VisitRecordWindow)))
    window = main_window.findChildren(VisitRecordWindow)[0]
    assert window.picker.isVisibleTo(window)
    assert not window.save_button.isEnabled(), "nothing to save before the dealer is known"
    commit_text(window.picker.search, name[:6])
    qtbot.waitUntil(
        lambda: any(
            window.picker.results.item(i).data(Qt.ItemDataRole.UserRole + 2) == dealer_id
            for i in range(window.picker.results.count())
        )
    )
    row = next(
        i
        for i in range(window.picker.results.count())
        if window.picker.results.item(i).data(Qt.ItemDataRole.UserRole + 2) == dealer_id
    )
    window.picker.results.setCurrentRow(row)
    window.picker.search.setFocus()
    qtbot.keyClick(window.picker.search, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: window.context is not None)
    assert window.context is not None and window.context.dealer_id == dealer_id
    assert not window.picker.isVisibleTo(window)
    assert window.heading.text() == f"拜访记录：{name}"
    assert window.save_button.isEnabled()
    assert window.subheading.text() == "计划外拜访"
    window.autosaver.discard()
    window.close()


# ---------------------------------------------------------------- a saved record, amended


def final_record_with_objection(store: Store) -> str:
    """A finalised visit record of the demo rep with at least one objection."""
    with store.read() as session:
        record_id = session.scalars(
            select(ContactRecord.id)
            .join(Objection, Objection.contact_record_id == ContactRecord.id)
            .where(
                ContactRecord.status == RecordStatus.FINAL,
                ContactRecord.rep_user_id == store.user.user_id,
            )
            .order_by(ContactRecord.contact_at.desc())
            .limit(1)
        ).first()
    assert record_id, "the demo has finalised records with objections"
    return record_id


def colleague_of(store: Store) -> tuple[str, str]:
    """Another person of the rep's territory (id, display name)."""
    with store.read() as session:
        row = session.execute(
            select(AppUser.id, AppUser.display_name)
            .where(
                AppUser.territory_id == store.user.territory_id,
                AppUser.id != store.user.user_id,
            )
            .order_by(AppUser.display_name)
            .limit(1)
        ).one()
    return str(row[0]), str(row[1])


def outbox_rows(store: Store, table: str) -> dict[str, dict[str, object]]:
    """The pending outbox ops of a table by row id (what the next sync pushes)."""
    with store.engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT row_id, created, fields FROM outbox WHERE table_name = ?", (table,)
        ).all()
    return {str(row[0]): {"created": row[1], **json.loads(row[2])} for row in rows}


def open_saved(qtbot: QtBot, main_window: MainWindow, record_id: str) -> VisitRecordWindow:
    main_window.open_record("visit", record_id)
    qtbot.waitUntil(
        lambda: any(
            w.target.record_id == record_id and w.context is not None
            for w in main_window.findChildren(VisitRecordWindow)
        )
    )
    return next(
        w for w in main_window.findChildren(VisitRecordWindow) if w.target.record_id == record_id
    )


def choose(qtbot: QtBot, combo: QWidget, data: str) -> None:
    """Pick an item of a combo box with the keyboard (focus, arrows) as a rep would."""
    from PySide6.QtWidgets import QComboBox

    assert isinstance(combo, QComboBox)
    combo.setFocus()
    target = combo.findData(data)
    assert target >= 0, data
    key = Qt.Key.Key_Down if target > combo.currentIndex() else Qt.Key.Key_Up
    while combo.currentIndex() != target:
        qtbot.keyClick(combo, key)


def test_a_final_record_gets_an_objection_with_a_follow_up_owned_by_a_colleague(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    record_id = final_record_with_objection(demo_store)
    owner_id, owner_name = colleague_of(demo_store)
    window = open_saved(qtbot, main_window, record_id)
    assert window.frozen_note.isVisibleTo(window), "a final record says why its text is frozen"
    content = window.binding.editors["content"].editor
    assert isinstance(content, QPlainTextEdit) and content.isReadOnly()
    assert not window.finalise_button.isVisibleTo(window)
    saved = list(window.saved_objection_editors.values())
    assert saved and all(not e.type.isEnabled() and e.verbatim.isReadOnly() for e in saved)
    assert "不能" in saved[0].verbatim.toolTip(), "the tooltip says why the words are read-only"
    with demo_store.read() as session:
        words = session.get(Objection, next(iter(window.saved_objection_editors)))
        assert words is not None and saved[0].verbatim.text() == words.verbatim
    assert window.add_objection_button.isVisibleTo(window)

    qtbot.mouseClick(window.add_objection_button, Qt.MouseButton.LeftButton)
    editor = window.objections[-1]
    assert isinstance(editor, ObjectionEditor)
    choose(qtbot, editor.type, ObjectionType.REWARD.code)
    commit_text(editor.verbatim, "你们的年终奖励比别家少")
    commit_text(editor.follow_up, "申请年终奖励政策说明")
    assert editor.follow_up_owner.currentData() == demo_store.user.user_id, "me by default"
    choose(qtbot, editor.follow_up_owner, owner_id)
    assert editor.follow_up_owner.currentText() == owner_name
    with qtbot.waitSignal(window.saved, timeout=10000):
        qtbot.mouseClick(window.save_button, Qt.MouseButton.LeftButton)

    with demo_store.read() as session:
        objection = session.scalars(
            select(Objection).where(
                Objection.contact_record_id == record_id,
                Objection.verbatim == "你们的年终奖励比别家少",
            )
        ).one()
        assert objection.type == ObjectionType.REWARD
        follow_up = session.get(FollowUp, objection.follow_up_id)
        assert follow_up is not None and follow_up.title == "申请年终奖励政策说明"
        assert follow_up.owner_user_id == owner_id
        assert follow_up.source_type == FollowUpSource.OBJECTION
        record = session.get(ContactRecord, record_id)
        assert record is not None and record.status == RecordStatus.FINAL
    # Both rows wait in the outbox as creations; the frozen record itself does not.
    objections = outbox_rows(demo_store, "objection")
    assert objections[objection.id]["created"] == 1
    assert objections[objection.id]["verbatim"] == "你们的年终奖励比别家少"
    assert outbox_rows(demo_store, "follow_up")[follow_up.id]["owner_user_id"] == owner_id
    assert record_id not in outbox_rows(demo_store, "contact_record")
    assert not drafts.read_drafts()


def test_an_objection_outcome_changes_on_a_saved_record(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    record_id = final_record_with_objection(demo_store)
    window = open_saved(qtbot, main_window, record_id)
    objection_id, editor = next(iter(window.saved_objection_editors.items()))
    with demo_store.read() as session:
        before = session.get(Objection, objection_id)
        assert before is not None
        wording = (before.type, before.verbatim)
        new_outcome = (
            ObjectionOutcome.PARTIALLY
            if before.outcome != ObjectionOutcome.PARTIALLY
            else ObjectionOutcome.RESOLVED
        )
    choose(qtbot, editor.outcome, new_outcome.code)
    commit_text(editor.real_concern, "担心旺季断货")
    with qtbot.waitSignal(window.saved, timeout=10000):
        qtbot.keyClick(window, Qt.Key.Key_S, Qt.KeyboardModifier.ControlModifier)
    with demo_store.read() as session:
        after = session.get(Objection, objection_id)
        assert after is not None
        assert after.outcome == new_outcome
        assert after.real_concern is not None and after.real_concern.endswith("担心旺季断货")
        assert (after.type, after.verbatim) == wording
    pushed = outbox_rows(demo_store, "objection")[objection_id]
    assert pushed["outcome"] == new_outcome.code
    assert "verbatim" not in pushed and "type" not in pushed, "only the handling is pushed"


def test_a_follow_up_due_before_the_visit_is_refused_at_its_row(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    record_id = final_record_with_objection(demo_store)
    window = open_saved(qtbot, main_window, record_id)
    assert window.context is not None and window.context.record is not None
    visit_day = window.visit_day()
    qtbot.mouseClick(window.record_follow_ups.add_button, Qt.MouseButton.LeftButton)
    row = window.record_follow_ups.new_rows[-1]
    assert row.title.hasFocus(), "the new follow-up is ready to type into"
    commit_text(row.title, "补寄样品")
    row.due.setDate(row.due.date().addDays(-(row.due.date().toPython() - visit_day).days - 1))
    before = outbox_rows(demo_store, "follow_up")
    qtbot.mouseClick(window.save_button, Qt.MouseButton.LeftButton)
    assert row.error.text() == "截止日期：不能早于联系时间", row.error.text()
    qtbot.waitUntil(lambda: row.error.isVisible())  # the new row is laid out on a later pass
    assert window.isVisible(), "nothing saved, the record stays open"
    assert outbox_rows(demo_store, "follow_up") == before
    # A valid date clears the message and saves; moving a saved follow-up works the same way.
    row.due.setDate(row.due.date().addDays(3))
    assert not row.error.text()
    saved_row = next(iter(window.record_follow_ups.saved_rows.values()), None)
    if saved_row is not None:
        choose(qtbot, saved_row.status, FollowUpStatus.IN_PROGRESS.code)
    with qtbot.waitSignal(window.saved, timeout=10000):
        qtbot.mouseClick(window.save_button, Qt.MouseButton.LeftButton)
    with demo_store.read() as session:
        added = session.scalars(
            select(FollowUp).where(FollowUp.source_id == record_id, FollowUp.title == "补寄样品")
        ).one()
        assert added.due_on == visit_day + timedelta(days=2)
        if saved_row is not None:
            moved = session.get(FollowUp, saved_row.row.id)
            assert moved is not None and moved.status == FollowUpStatus.IN_PROGRESS


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_screenshots_of_a_saved_record(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store, lang: str
) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    record_id = final_record_with_objection(demo_store)
    owner_id, _name = colleague_of(demo_store)
    with ui_language(lang):
        window = open_saved(qtbot, main_window, record_id)
        window.retranslate()
        editor = window.add_objection()
        editor.type.setCurrentIndex(editor.type.findData(ObjectionType.PROMOTION.code))
        editor.verbatim.setText("促销活动太少")
        editor.follow_up.setText("申请季度促销支持")
        select = editor.follow_up_owner
        select.setCurrentIndex(select.findData(owner_id))
        row = window.record_follow_ups.add_new()
        row.title.setText("补寄样品")
        window.resize(1000, 1500)
        editors = [*window.saved_objection_editors.values(), editor]
        # Widgets added to a shown layout appear, then lay out, on later passes.
        qtbot.waitUntil(
            lambda: (
                row.isVisible()
                and all(e.isVisible() and e.height() >= e.sizeHint().height() for e in editors)
            )
        )
        window.scroll_area.ensureWidgetVisible(window.objections_intro)
        assert window.grab().save(str(SCREENSHOTS / f"visit_record_saved_{lang}.png"))
        if lang == "zh_CN":
            assert not english_words(window)
        window.autosaver.discard()
        window.close()
        qtbot.waitUntil(lambda: not main_window.findChildren(VisitRecordWindow))


def test_changes_to_a_saved_record_are_kept_in_its_draft(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    record_id = final_record_with_objection(demo_store)
    owner_id, _name = colleague_of(demo_store)
    window = open_saved(qtbot, main_window, record_id)
    objection_id, editor = next(iter(window.saved_objection_editors.items()))
    choose(qtbot, editor.outcome, ObjectionOutcome.DEFERRED.code)
    row = window.record_follow_ups.add_new(focus=True)
    commit_text(row.title, "约老板下周面谈")
    choose(qtbot, row.owner, owner_id)
    window.close()  # closing keeps the draft; nothing is saved yet
    qtbot.waitUntil(lambda: not main_window.findChildren(VisitRecordWindow))
    with demo_store.read() as session:
        unchanged = session.get(Objection, objection_id)
        assert unchanged is not None and unchanged.outcome != ObjectionOutcome.DEFERRED

    again = open_saved(qtbot, main_window, record_id)
    restored = again.saved_objection_editors[objection_id]
    assert restored.outcome.currentData() == ObjectionOutcome.DEFERRED.code
    [new_row] = again.record_follow_ups.new_rows
    assert new_row.title.text() == "约老板下周面谈"
    assert new_row.owner.currentData() == owner_id
    with qtbot.waitSignal(again.saved, timeout=10000):
        qtbot.mouseClick(again.save_button, Qt.MouseButton.LeftButton)
    with demo_store.read() as session:
        saved = session.get(Objection, objection_id)
        assert saved is not None and saved.outcome == ObjectionOutcome.DEFERRED
        added = session.scalars(
            select(FollowUp).where(
                FollowUp.source_id == record_id, FollowUp.title == "约老板下周面谈"
            )
        ).one()
        assert added.owner_user_id == owner_id
    assert not drafts.read_drafts()


def test_an_owner_unknown_to_this_device_stays_the_owner(qapp: QApplication) -> None:
    from fieldrep.ui.views.visit_record import owner_combo

    combo = owner_combo([("u1", "李明"), ("u2", "张伟")], "someone-else")
    assert combo.currentData() == "someone-else"
    assert combo.currentText() == "不在本机上的同事"
    assert owner_combo([("u1", "李明"), ("u2", "张伟")], "u2").currentText() == "张伟"


def test_closing_what_we_owe_needs_the_result_and_the_dealer_told(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    from fieldrep.storage.services.visits import AgreedItem, VisitAmendment, amend_visit

    record_id = final_record_with_objection(demo_store)
    added = amend_visit(
        demo_store, record_id, VisitAmendment(new_follow_ups=(AgreedItem("寄送新价格表"),))
    ).follow_ups[0]
    window = open_saved(qtbot, main_window, record_id)
    row = window.record_follow_ups.saved_rows[added.id]
    assert not row.closing.isVisibleTo(window)
    choose(qtbot, row.status, FollowUpStatus.DONE.code)
    assert row.closing.isVisibleTo(window), "done asks for the result and whether the dealer knows"
    qtbot.mouseClick(window.save_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(row.error.text()))
    assert "落实结果" in row.error.text() and "通报" in row.error.text(), row.error.text()
    assert window.isVisible()
    commit_text(row.result, "价格表已寄出")
    row.told.setFocus()
    qtbot.keyClick(row.told, Qt.Key.Key_Space)
    assert row.told.isChecked()
    with qtbot.waitSignal(window.saved, timeout=10000):
        qtbot.mouseClick(window.save_button, Qt.MouseButton.LeftButton)
    with demo_store.read() as session:
        done = session.get(FollowUp, added.id)
        assert done is not None and done.status == FollowUpStatus.DONE
        assert done.result == "价格表已寄出" and done.result_notified_at is not None


def test_the_answer_picker_offers_the_best_answer_first_with_how_often_it_worked(
    qapp: QApplication,
) -> None:
    from fieldrep.storage.screens.visit_record import AnswerChoice

    # As the screen data hands them over: ranked best first (not by title).
    price = (
        AnswerChoice("a1", "price", "十中九", "稳定", None, times_used=10, times_resolved=9),
        AnswerChoice("a2", "price", "一次就成", "碰巧", None, times_used=1, times_resolved=1),
        AnswerChoice("a3", "price", "未用过", "新写的", None),
    )
    brand = (AnswerChoice("b1", "brand", "样板市场", "看样板", None, times_used=2),)
    editor = ObjectionEditor({"price": price, "brand": brand}, date(2026, 11, 25))
    editor.type.setCurrentIndex(editor.type.findData(ObjectionType.PRICE.code))
    texts = [editor.answer.itemText(row) for row in range(editor.answer.count())]
    assert texts == [
        "自己填写应答",
        "十中九 · 成功 9 次，共用 10 次",
        "一次就成 · 成功 1 次，共用 1 次",
        "未用过 · 尚未使用",
    ]
    assert [editor.answer.itemData(row) for row in range(1, 4)] == ["a1", "a2", "a3"]
    assert editor.answer.itemData(1, Qt.ItemDataRole.ToolTipRole) == "稳定"
    editor.answer.setCurrentIndex(1)
    picked = editor.picked_answer()
    assert picked is not None and picked.title == "十中九"
    assert editor.answer_text.toPlainText() == "稳定"

    # Another type offers its own answers; English says it with the plural.
    editor.type.setCurrentIndex(editor.type.findData(ObjectionType.BRAND.code))
    with ui_language("en"):
        editor.retranslate()  # the visit record window does this for its objections
        texts = [editor.answer.itemText(row) for row in range(editor.answer.count())]
        assert texts == ["Write my own answer", "样板市场 · worked 0 of 2 times"]
        editor.type.setCurrentIndex(editor.type.findData(ObjectionType.PRICE.code))
        assert editor.answer.itemText(2) == "一次就成 · worked 1 of 1 time"
        assert editor.answer.itemText(3) == "未用过 · not used yet"
