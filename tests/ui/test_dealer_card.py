"""The dealer card as a rep uses it: open it from the list, edit, plan and record a visit."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QInputMethodEvent
from PySide6.QtWidgets import QApplication, QComboBox, QLineEdit, QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from sqlalchemy import func, select
from test_visit_record import english_words, ui_language

from fieldrep.storage.enums import AbcClass, ClassScheme, Role, VisitType
from fieldrep.storage.fields import editable_fields
from fieldrep.storage.models import AppUser, ClassHistory, Contact, Dealer, VisitPlanItem
from fieldrep.storage.screens.visit_record import VisitTarget
from fieldrep.storage.services.core import Store, UserContext
from fieldrep.storage.services.dealers import create_dealer
from fieldrep.ui.language import apply_language
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.qtcompat import emit
from fieldrep.ui.rows_model import ROW_ROLE
from fieldrep.ui.services import AppServices
from fieldrep.ui.views.dealer_card import (
    SECTION_FIELDS,
    DealerCardWindow,
    PlanVisitDialog,
    ReasonDialog,
    show_dealer_card,
)
from fieldrep.ui.views.dealers import DealersView
from fieldrep.ui.views.visit_record import VisitRecordWindow, show_visit_record

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


def commit_text(widget: QWidget, text: str) -> None:
    """Chinese arrives from the input method as a committed string, not as key presses."""
    widget.setFocus()
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def set_line(qtbot: QtBot, card: DealerCardWindow, name: str, text: str) -> None:
    editor = card.binding.editors[name].editor
    assert isinstance(editor, QLineEdit)
    editor.setFocus()
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    if text.isascii():
        qtbot.keyClicks(editor, text)
    else:
        commit_text(editor, text)


def wait_loaded(qtbot: QtBot, card: DealerCardWindow) -> None:
    qtbot.waitUntil(lambda: card.data is not None and not card.busy)


@pytest.fixture
def dealer_id(demo_store: Store) -> str:
    """A cooperating demo dealer with contacts, visits and figures."""
    with demo_store.read() as session:
        found = session.scalar(
            select(Dealer.id)
            .join(Contact, Contact.dealer_id == Dealer.id)
            .where(Dealer.abc_class == AbcClass.A, Contact.reports_to_id.is_not(None))
            .order_by(Dealer.name)
            .limit(1)
        )
    assert found
    return found


@pytest.fixture
def card(qtbot: QtBot, main_window: MainWindow, dealer_id: str) -> Iterator[DealerCardWindow]:
    assert main_window.services is not None
    window = show_dealer_card(main_window.services, main_window, dealer_id)
    wait_loaded(qtbot, window)
    yield window
    # pytest-qt closes the main window first, which closes a card with nothing unsaved.
    if shiboken6.isValid(window):
        window.binding.load(window.data.dealer.values if window.data else {})
        window.close()


def test_open_the_card_from_the_dealer_list(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    main_window.show_view("dealers")
    view = main_window.views["dealers"]
    assert isinstance(view, DealersView)
    qtbot.waitUntil(lambda: view.model.loaded and not view.model.loading)
    view.table.setFocus()
    view.table.setCurrentIndex(view.model.index(3, 0))
    expected = view.model.dealer_id(3)
    qtbot.keyClick(view.table, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: bool(main_window.findChildren(DealerCardWindow)))
    card = main_window.findChildren(DealerCardWindow)[0]
    wait_loaded(qtbot, card)
    assert card.dealer_id == expected
    with demo_store.read() as session:
        dealer = session.get(Dealer, expected)
        assert dealer is not None
        assert card.heading.text() == dealer.name
        assert card.binding.editors["address"].text() == (dealer.address or "")
    # Opening the same dealer again brings the same window forward.
    main_window.open_record("dealer", expected)
    assert len(main_window.findChildren(DealerCardWindow)) == 1
    card.close()


def test_every_profile_field_has_a_labelled_editor(card: DealerCardWindow) -> None:
    assert set(card.binding.editors) == set(editable_fields(Dealer))
    assert len(card.section_boxes) == len(SECTION_FIELDS) == 19
    assert card.section_boxes[0].title() == "1. 客户基本资料"
    assert card.section_boxes[16].title().startswith("17. ")
    for grid in card.section_grids:
        for name, label in grid.labels.items():
            assert label.text(), name
    assert card.tables["sales"].model.rowCount() > 0
    assert card.chart.points, "monthly figures drawn in the chart"
    assert card.timeline.model.rowCount() > 0
    assert card.credit_box.values["overall_grade"].text() not in ("", "—")


def test_a_refused_value_is_shown_at_its_field_and_nothing_is_saved(
    qtbot: QtBot, card: DealerCardWindow, demo_store: Store, dealer_id: str
) -> None:
    set_line(qtbot, card, "phone", "0571-88886666")
    set_line(qtbot, card, "outlet_count", "十二")
    qtbot.mouseClick(card.save_button, Qt.MouseButton.LeftButton)
    error = card.binding.editors["outlet_count"].error
    assert error.isVisibleTo(card)
    assert error.text() == "营业网点数：应为整数，而不是“十二”"
    with demo_store.read() as session:
        dealer = session.get(Dealer, dealer_id)
        assert dealer is not None and dealer.phone != "0571-88886666"
    set_line(qtbot, card, "outlet_count", "12")
    assert not error.text()
    with qtbot.waitSignal(card.saved, timeout=10000):
        qtbot.mouseClick(card.save_button, Qt.MouseButton.LeftButton)
    wait_loaded(qtbot, card)
    with demo_store.read() as session:
        dealer = session.get(Dealer, dealer_id)
        assert dealer is not None
        assert (dealer.phone, dealer.outlet_count) == ("0571-88886666", 12)


def test_a_service_refusal_lands_at_its_field(
    qtbot: QtBot, card: DealerCardWindow, demo_store: Store
) -> None:
    set_line(qtbot, card, "email", "not-an-address")
    qtbot.mouseClick(card.save_button, Qt.MouseButton.LeftButton)
    error = card.binding.editors["email"].error
    qtbot.waitUntil(lambda: bool(error.text()))
    assert error.text().startswith("电子邮箱：")
    assert not card.busy


def manager_services_for(main_window: MainWindow, demo_store: Store) -> AppServices:
    """The same database opened by the area manager (classes and credit are theirs)."""
    assert main_window.services is not None
    with demo_store.read() as session:
        manager = session.scalars(select(AppUser).where(AppUser.role == Role.MANAGER)).first()
        assert manager is not None
    user = UserContext(manager.id, demo_store.user.territory_id, Role.MANAGER, manager.display_name)
    store = Store(demo_store.engine, user, today=demo_store.today)
    return dataclasses.replace(main_window.services, store=store)


MANAGER_FIELDS = ("abc_class", "credit_grade", "payment_terms", "credit_limit", "is_key_account")
REP_FIELDS = ("relationship_grade", "initial_class", "phone", "lifecycle_status")


def test_the_manager_only_fields_are_read_only_for_a_rep(
    qtbot: QtBot, qapp: QApplication, card: DealerCardWindow
) -> None:
    """Classes, credit grade and terms are a manager's: a rep sees them, cannot change
    them, and the tooltip says why (the server would refuse the change at sync)."""
    for name in MANAGER_FIELDS:
        editor = card.binding.editors[name]
        assert editor.is_read_only(), name
        assert editor.editor.toolTip() == "只有区域经理可以修改此项。", name
    for name in REP_FIELDS:
        assert not card.binding.editors[name].is_read_only(), name
        assert not card.binding.editors[name].editor.toolTip(), name
    credit_limit = card.binding.editors["credit_limit"].editor
    assert isinstance(credit_limit, QLineEdit)
    before = credit_limit.text()
    credit_limit.setFocus()
    qtbot.keyClicks(credit_limit, "50000")
    assert credit_limit.text() == before, "typing changes nothing"
    assert card.binding.changed_names() == []
    card.tabs.setCurrentIndex(0)
    card.resize(1280, 860)
    card.section_list.setCurrentRow(5)  # 6. credit grade, terms and limit
    QApplication.processEvents()
    assert card.grab().save(str(SCREENSHOTS / "dealer_card_rep_credit_zh_CN.png"))
    card.section_list.setCurrentRow(17)  # 18. flags: the visit class and the tiers
    QApplication.processEvents()
    assert card.grab().save(str(SCREENSHOTS / "dealer_card_rep_classes_zh_CN.png"))
    apply_language(qapp, "en")
    try:
        assert credit_limit.toolTip() == "Only an area manager can change this."
        QApplication.processEvents()
        assert card.grab().save(str(SCREENSHOTS / "dealer_card_rep_classes_en.png"))
        card.section_list.setCurrentRow(5)
        QApplication.processEvents()
        assert card.grab().save(str(SCREENSHOTS / "dealer_card_rep_credit_en.png"))
    finally:
        apply_language(qapp, "zh_CN")


def test_a_rep_sets_the_classes_of_a_dealer_not_synced_yet(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    """A dealer the rep made here reaches the server as a new row, classes included."""
    dealer = create_dealer(demo_store, {"name": "杭州新开电器商行", "abc_class": "C"})
    assert main_window.services is not None
    card = show_dealer_card(main_window.services, main_window, dealer.id)
    wait_loaded(qtbot, card)
    for name in MANAGER_FIELDS:
        assert not card.binding.editors[name].is_read_only(), name
        assert card.binding.editors[name].editor.toolTip().startswith("新客户同步后只有区域经理")
    set_line(qtbot, card, "credit_limit", "30000")
    with qtbot.waitSignals([card.saved, card.loaded], timeout=10000):
        qtbot.mouseClick(card.save_button, Qt.MouseButton.LeftButton)
    with demo_store.read() as session:
        saved = session.get(Dealer, dealer.id)
        assert saved is not None and saved.credit_limit == Decimal("30000")
    card.close()


def test_a_manager_edits_the_manager_only_fields(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store, dealer_id: str
) -> None:
    services = manager_services_for(main_window, demo_store)
    card = show_dealer_card(services, main_window, dealer_id)
    wait_loaded(qtbot, card)
    for name in MANAGER_FIELDS:
        assert not card.binding.editors[name].is_read_only(), name
        assert not card.binding.editors[name].editor.toolTip(), name
    card.close()


def test_an_open_card_follows_a_role_the_sync_changed(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store, dealer_id: str
) -> None:
    """A sync that makes the rep a manager, or the manager a rep again, reaches the
    open card (MainWindow.user_changed): no need to close it or sign in again."""
    services = manager_services_for(main_window, demo_store)
    store = services.store
    card = show_dealer_card(services, main_window, dealer_id)
    wait_loaded(qtbot, card)
    credit_limit = card.binding.editors["credit_limit"]
    saved_limit = credit_limit.text()
    set_line(qtbot, card, "credit_limit", "123456")
    set_line(qtbot, card, "phone", "0571-12345678")
    assert set(card.binding.changed_names()) == {"credit_limit", "phone"}

    # The sync brought a rep's user row (MainWindow.refresh_user sets it and tells).
    store.user = dataclasses.replace(store.user, role=Role.REP)
    with qtbot.waitSignal(card.loaded, timeout=10_000):
        emit(main_window.user_changed, store.user)
    for name in MANAGER_FIELDS:
        assert card.binding.editors[name].is_read_only(), name
        assert card.binding.editors[name].editor.toolTip() == "只有区域经理可以修改此项。"
    assert credit_limit.text() == saved_limit, "an edit she can no longer save is dropped"
    assert card.binding.changed_names() == ["phone"], "her own field's edit is kept"
    assert not any(button.isEnabled() for button in card.credit_review_buttons)

    # And a manager again at a later sync.
    store.user = dataclasses.replace(store.user, role=Role.MANAGER)
    with qtbot.waitSignal(card.loaded, timeout=10_000):
        emit(main_window.user_changed, store.user)
    for name in MANAGER_FIELDS:
        assert not card.binding.editors[name].is_read_only(), name
        assert not card.binding.editors[name].editor.toolTip(), name
    assert all(button.isEnabled() for button in card.credit_review_buttons)
    card.binding.load(card.data.dealer.values if card.data else {})
    card.close()


def test_changing_the_visit_class_asks_for_the_reason(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store, dealer_id: str
) -> None:
    services = manager_services_for(main_window, demo_store)
    card = show_dealer_card(services, main_window, dealer_id)
    wait_loaded(qtbot, card)
    combo = card.binding.editors["abc_class"].editor
    assert not combo.toolTip(), "a manager sets the visit class"
    assert isinstance(combo, QComboBox)
    combo.setCurrentIndex(combo.findData(AbcClass.B.code))
    qtbot.mouseClick(card.save_button, Qt.MouseButton.LeftButton)
    dialog = card.findChild(ReasonDialog)
    assert dialog is not None and dialog.isVisible()
    assert "拜访分类（ABC）" in dialog.intro.text()
    dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    assert dialog.error.text() == "变更原因：不能为空", "a reason is required"
    dialog.reason.insertPlainText("连续两个季度销量下滑")
    with qtbot.waitSignal(card.saved, timeout=10000):
        dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    with demo_store.read() as session:
        dealer = session.get(Dealer, dealer_id)
        assert dealer is not None and dealer.abc_class == AbcClass.B
        history = session.scalars(
            select(ClassHistory)
            .where(ClassHistory.dealer_id == dealer_id, ClassHistory.scheme == ClassScheme.ABC)
            .order_by(ClassHistory.created_at.desc())
        ).first()
        assert history is not None
        assert (history.old_value, history.new_value) == ("A", "B")
        assert history.reason == "连续两个季度销量下滑"
    card.close()


def test_key_people_as_a_list_and_a_decision_tree(
    qtbot: QtBot, card: DealerCardWindow, demo_store: Store, dealer_id: str
) -> None:
    with demo_store.read() as session:
        contacts = session.scalars(
            select(Contact).where(Contact.dealer_id == dealer_id, Contact.deleted.is_(False))
        ).all()
    assert card.people_list.topLevelItemCount() == len(contacts)
    by_id = {c.id: c for c in contacts}
    tree = card.people_tree
    for index in range(tree.topLevelItemCount()):
        root = tree.topLevelItem(index)
        assert root is not None
        for child_index in range(root.childCount()):
            child = root.child(child_index)
            assert child is not None
            child_contact = by_id[str(child.data(0, ROW_ROLE))]
            assert child_contact.reports_to_id == root.data(0, ROW_ROLE)
    seniors = [c for c in contacts if c.is_senior]
    assert seniors
    senior_items = [
        card.people_list.topLevelItem(i)
        for i in range(card.people_list.topLevelItemCount())
        if card.people_list.topLevelItem(i).text(0).startswith("★")  # type: ignore[union-attr]
    ]
    assert len(senior_items) == len(seniors)
    assert not card.senior_warning.isVisibleTo(card)


def test_a_dealer_without_senior_contact_warns_and_a_contact_can_be_added(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    dealer = create_dealer(demo_store, {"name": "杭州新开电器商行", "abc_class": "C"})
    assert main_window.services is not None
    card = show_dealer_card(main_window.services, main_window, dealer.id)
    wait_loaded(qtbot, card)
    card.tabs.setCurrentIndex(1)
    assert card.senior_warning.isVisibleTo(card)
    assert "高层" in card.senior_warning.text()
    name = card.contact_binding.editors["name"].editor
    commit_text(name, "王总")
    senior = card.contact_binding.editors["is_senior"].editor
    senior.setProperty("checked", True)
    with qtbot.waitSignal(card.contact_saved, timeout=10000):
        qtbot.mouseClick(card.save_contact_button, Qt.MouseButton.LeftButton)
    wait_loaded(qtbot, card)
    qtbot.waitUntil(lambda: card.people_list.topLevelItemCount() == 1)
    assert card.people_list.topLevelItem(0).text(0) == "★ 王总"  # type: ignore[union-attr]
    assert not card.senior_warning.isVisibleTo(card)
    card.close()


def test_plan_a_visit_with_the_date_picker(
    qtbot: QtBot, card: DealerCardWindow, demo_store: Store, dealer_id: str
) -> None:
    qtbot.mouseClick(card.plan_button, Qt.MouseButton.LeftButton)
    dialog = card.findChild(PlanVisitDialog)
    assert dialog is not None
    assert dialog.day.calendarPopup()
    day = dialog.day.date().addDays(2)
    dialog.day.setDate(day)
    dialog.visit_type.setCurrentIndex(dialog.visit_type.findData(VisitType.TRAINING.code))
    commit_text(dialog.objective, "店员产品培训")
    with qtbot.waitSignal(card.visit_planned, timeout=10000) as planned:
        dialog.buttons.button(dialog.buttons.StandardButton.Ok).click()
    item = planned.args[0]
    assert item["dealer_id"] == dealer_id
    assert item["planned_date"].isoformat() == day.toString("yyyy-MM-dd")
    with demo_store.read() as session:
        saved = session.get(VisitPlanItem, item.id)
        assert saved is not None
        assert saved.visit_type == VisitType.TRAINING and saved.objective == "店员产品培训"
        assert saved.rep_user_id == demo_store.user.user_id
    assert (
        "已计划" in card.message.text() or item["planned_date"].isoformat() in card.message.text()
    )


def test_record_a_visit_from_the_card(
    qtbot: QtBot, card: DealerCardWindow, main_window: MainWindow, dealer_id: str
) -> None:
    qtbot.mouseClick(card.record_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: bool(main_window.findChildren(VisitRecordWindow)))
    record = main_window.findChildren(VisitRecordWindow)[0]
    qtbot.waitUntil(lambda: record.context is not None)
    assert record.context is not None and record.context.dealer_id == dealer_id
    record.autosaver.discard()
    record.close()


def test_the_timeline_dates_fit_their_column_after_a_font_change(
    qtbot: QtBot, main_window: MainWindow, dealer_id: str, cjk_family: str
) -> None:
    """The date column is measured again when the font changes (it clipped 2026-11-11).

    Qt's header fits a column when its rows change, not when the font does: the
    dates kept the width of the old font and lost their last digit.
    """
    assert main_window.services is not None
    card = show_dealer_card(main_window.services, main_window, dealer_id)
    card.tabs.setCurrentIndex(2)
    wait_loaded(qtbot, card)
    QApplication.processEvents()
    table = card.timeline.table
    font = QFont(table.font())
    font.setFamilies([cjk_family])
    font.setPointSizeF(font.pointSizeF() * 1.5)
    table.setFont(font)
    QApplication.processEvents()
    metrics = table.fontMetrics()
    dates = [table.model().index(row, 0).data() for row in range(table.model().rowCount())]
    assert dates
    needed = max(metrics.horizontalAdvance(text) for text in dates) + 12  # item padding 6+6
    assert table.horizontalHeader().sectionSize(0) >= needed
    card.close()


def test_screenshots(qtbot: QtBot, main_window: MainWindow, dealer_id: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    assert main_window.services is not None
    for lang in ("zh_CN", "en"):
        with ui_language(lang):
            card = show_dealer_card(main_window.services, main_window, dealer_id)
            wait_loaded(qtbot, card)
            card.retranslate()
            card.resize(1180, 820)
            for index, name in enumerate(("profile", "people", "timeline", "sales")):
                card.tabs.setCurrentIndex(index)
                QApplication.processEvents()
                assert card.grab().save(str(SCREENSHOTS / f"dealer_card_{name}_{lang}.png"))
                if lang == "zh_CN":
                    assert not english_words(card), name
            qtbot.mouseClick(card.plan_button, Qt.MouseButton.LeftButton)
            plan = card.findChild(PlanVisitDialog)
            assert plan is not None
            QApplication.processEvents()
            assert plan.grab().save(str(SCREENSHOTS / f"dialog_plan_visit_{lang}.png"))
            if lang == "zh_CN":
                assert not english_words(plan)
            plan.reject()
            reason = ReasonDialog([_label("abc_class")], card)
            reason.show()
            QApplication.processEvents()
            assert reason.grab().save(str(SCREENSHOTS / f"dialog_class_reason_{lang}.png"))
            if lang == "zh_CN":
                assert not english_words(reason)
            reason.reject()
            card.close()
            qtbot.waitUntil(lambda: not main_window.findChildren(DealerCardWindow))


def _label(name: str) -> str:
    from fieldrep.i18n import _
    from fieldrep.storage.fields import field_label

    return _(field_label(Dealer, name))


def test_counts_do_not_change_on_open(demo_store: Store, card: DealerCardWindow) -> None:
    """Opening and looking writes nothing."""
    with demo_store.read() as session:
        assert session.scalar(select(func.count()).select_from(ClassHistory)) is not None
    assert not card.binding.changed_names()


def test_closing_the_app_asks_about_a_card_with_unsaved_changes_first(
    qtbot: QtBot, main_window: MainWindow, dealer_id: str
) -> None:
    assert main_window.services is not None
    main_window.show()
    card = show_dealer_card(main_window.services, main_window, dealer_id)
    wait_loaded(qtbot, card)
    set_line(qtbot, card, "phone", "0571-88886666")
    # The app does not close: the card asks, and comes to the front.
    assert not main_window.close()
    assert main_window.isVisible() and card.isVisible()
    qtbot.waitUntil(lambda: card.findChild(QMessageBox, "card_close_confirm") is not None)
    box = card.findChild(QMessageBox, "card_close_confirm")
    assert box is not None
    discard = box.button(QMessageBox.StandardButton.Discard)
    assert discard is not None
    qtbot.mouseClick(discard, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: not card.isVisible())
    # Nothing unsaved is left: now the app closes, and open record windows close with it.
    record = show_visit_record(main_window.services, main_window, VisitTarget())
    assert main_window.record_windows() == [record]
    assert main_window.close()
    assert not record.isVisible()
