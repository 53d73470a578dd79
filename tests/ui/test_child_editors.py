"""The dealer card's child lists as a rep edits them: agreements, prices, products, 5C reviews.

Each change is checked in the database and in the sync outbox (the triggers of
fieldrep.sync.capture), so it is known to go out with the next sync.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest
import shiboken6
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QCheckBox, QLineEdit, QMessageBox, QPlainTextEdit
from pytestqt.qtbot import QtBot
from shots import check_texts, save_screenshot
from sqlalchemy import Engine, select
from test_dealer_card import commit_text, manager_services_for, set_line, wait_loaded
from test_visit_record import english_words, ui_language

from fieldrep.i18n import _
from fieldrep.storage.enums import AbcClass, ComplaintCategory, ComplaintStatus, CreditRisk, Role
from fieldrep.storage.fields import field_label
from fieldrep.storage.models import (
    Agreement,
    CarriedProduct,
    Complaint,
    CreditAssessment,
    Dealer,
    FollowUp,
    RelationshipGrade,
    RetailPriceChange,
)
from fieldrep.storage.services.core import Store
from fieldrep.sync.local import OutboxOp, all_ops
from fieldrep.ui.child_editors import (
    GRADE_DIMENSIONS,
    ChildRecordDialog,
    ChildTable,
    ComplaintDialog,
    CreditReviewDialog,
    may_change_field,
    may_delete,
    may_write,
)
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.services import AppServices
from fieldrep.ui.views.dealer_card import DealerCardWindow, show_dealer_card


def outbox_ops(engine: Engine, table: str, row_id: str) -> list[OutboxOp]:
    with engine.connect() as connection:
        return [op for op in all_ops(connection) if op.table == table and op.row_id == row_id]


def type_line(
    qtbot: QtBot, dialog: ChildRecordDialog | ComplaintDialog, name: str, text: str
) -> None:
    """Replace a field's text as a user does: select all, delete, type (or commit Chinese)."""
    editor = dialog.binding.editors[name].editor
    editor.setFocus()
    if isinstance(editor, QPlainTextEdit):
        editor.clear()
        editor.insertPlainText(text)
        return
    assert isinstance(editor, QLineEdit)
    editor.selectAll()
    qtbot.keyClick(editor, Qt.Key.Key_Delete)
    if text.isascii():
        qtbot.keyClicks(editor, text)
    else:
        commit_text(editor, text)


def save(dialog: ChildRecordDialog | ComplaintDialog | CreditReviewDialog) -> None:
    button = dialog.buttons.button(dialog.buttons.StandardButton.Save)
    assert button is not None
    button.click()


def open_dialog(qtbot: QtBot, card: DealerCardWindow, kind: type[Any], name: str) -> Any:
    qtbot.waitUntil(lambda: any(d.isVisible() for d in card.findChildren(kind, name)))
    return next(d for d in card.findChildren(kind, name) if d.isVisible())


def select_row(table: ChildTable, position: int) -> Any:
    table.table.setFocus()
    table.table.setCurrentIndex(table.model.index(position, 0))
    return table.model.row(position)


@pytest.fixture
def dealer_id(demo_store: Store) -> str:
    """A class A dealer with product lines, price changes and a 5C history."""
    with demo_store.read() as session:
        found = session.scalar(
            select(Dealer.id)
            .where(
                Dealer.abc_class == AbcClass.A,
                Dealer.id.in_(select(CarriedProduct.dealer_id)),
                Dealer.id.in_(select(RetailPriceChange.dealer_id)),
                Dealer.id.in_(select(CreditAssessment.dealer_id)),
            )
            .order_by(Dealer.name)
            .limit(1)
        )
    assert found
    return found


def open_card(
    qtbot: QtBot, main_window: MainWindow, services: AppServices, dealer_id: str
) -> DealerCardWindow:
    card = show_dealer_card(services, main_window, dealer_id)
    wait_loaded(qtbot, card)
    return card


@pytest.fixture
def card(qtbot: QtBot, main_window: MainWindow, dealer_id: str) -> Iterator[DealerCardWindow]:
    assert main_window.services is not None
    window = open_card(qtbot, main_window, main_window.services, dealer_id)
    yield window
    if shiboken6.isValid(window):  # closing the main window may have closed it already
        window.close()


@pytest.fixture
def manager_services(main_window: MainWindow, demo_store: Store) -> AppServices:
    """The same database opened by the area manager (credit reviews are manager-only)."""
    return manager_services_for(main_window, demo_store)


def test_the_policies_follow_the_sync_protocol() -> None:
    assert may_write(Role.REP, "agreement") and may_delete(Role.REP, "agreement")
    assert not may_write(Role.REP, "credit_assessment")
    assert may_write(Role.MANAGER, "credit_assessment")
    assert not may_delete(Role.MANAGER, "objection"), "objections are never deleted"
    assert not may_change_field(Role.REP, "dealer", "credit_grade")
    assert may_change_field(Role.REP, "dealer", "relationship_grade")
    assert may_change_field(Role.MANAGER, "dealer", "credit_grade")


def test_add_an_agreement(
    qtbot: QtBot, card: DealerCardWindow, demo_store: Store, demo_engine: Engine, dealer_id: str
) -> None:
    table = card.child_tables["agreements"]
    before = table.model.rowCount()
    set_line(qtbot, card, "fax", "0571-88886666")  # a profile edit not saved yet
    qtbot.mouseClick(table.add_button, Qt.MouseButton.LeftButton)
    dialog = open_dialog(qtbot, card, ChildRecordDialog, "child_dialog_agreements")
    assert dialog.windowTitle() == _("New agreement")
    save(dialog)
    title_error = dialog.binding.editors["title"].error
    assert title_error.isVisibleTo(dialog)
    assert title_error.text() == _(field_label(Agreement, "title")) + "：不能为空"
    type_line(qtbot, dialog, "title", "2027年度区域经销协议")
    type_line(qtbot, dialog, "valid_to", "2027-12-31")
    exclusive = dialog.binding.editors["is_exclusive"].editor
    assert isinstance(exclusive, QCheckBox)
    exclusive.setChecked(True)
    type_line(qtbot, dialog, "terms", "年度目标 300 万元，季度返点 2%")
    with qtbot.waitSignals([table.changed, card.loaded], timeout=10000):
        save(dialog)
    qtbot.waitUntil(lambda: table.model.rowCount() == before + 1)
    with demo_store.read() as session:
        row = session.scalars(
            select(Agreement).where(
                Agreement.dealer_id == dealer_id, Agreement.title == "2027年度区域经销协议"
            )
        ).one()
        dealer = session.get(Dealer, dealer_id)
        assert dealer is not None
        assert (
            row.is_exclusive
            and row.valid_to is not None
            and row.valid_to.isoformat() == "2027-12-31"
        )
        assert row.territory_id == dealer.territory_id
        assert row.signed_on == demo_store.today(), "a new agreement is signed today by default"
        row_id = row.id
    [op] = outbox_ops(demo_engine, "agreement", row_id)
    assert op.kind == "upsert" and op.created
    assert op.fields["title"] == "2027年度区域经销协议"
    titles = [table.model.index(r, 0).data() for r in range(table.model.rowCount())]
    assert "2027年度区域经销协议" in titles
    assert card.binding.editors["fax"].text() == "0571-88886666", "the reload keeps it"
    assert card.binding.changed_names() == ["fax"]


def test_edit_a_price_with_a_bad_value_then_fix_it(
    qtbot: QtBot, card: DealerCardWindow, demo_store: Store, demo_engine: Engine
) -> None:
    table = card.child_tables["prices"]
    record = select_row(table, 0)
    ops_before = outbox_ops(demo_engine, "retail_price_change", record.id)
    qtbot.keyClick(table.table, Qt.Key.Key_Return)
    dialog = open_dialog(qtbot, card, ChildRecordDialog, "child_dialog_prices")
    assert dialog.windowTitle() == _("Edit retail price change")
    assert dialog.binding.editors["product"].text() == record["product"]
    type_line(qtbot, dialog, "new_price", "12x9")
    save(dialog)
    error = dialog.binding.editors["new_price"].error
    assert error.isVisibleTo(dialog)
    assert (
        error.text() == _(field_label(RetailPriceChange, "new_price")) + "：应为数字，而不是“12x9”"
    )
    assert dialog.isVisible(), "the dialog stays open with the note at the field"
    with demo_store.read() as session:
        row = session.get(RetailPriceChange, record.id)
        assert row is not None and row.new_price == record["new_price"]
    assert outbox_ops(demo_engine, "retail_price_change", record.id) == ops_before
    type_line(qtbot, dialog, "new_price", "1,299")
    assert not error.text(), "typing again clears the note"
    with qtbot.waitSignals([table.changed, card.loaded], timeout=10000):
        save(dialog)
    with demo_store.read() as session:
        row = session.get(RetailPriceChange, record.id)
        assert row is not None and row.new_price == Decimal("1299")
    [op] = [
        op
        for op in outbox_ops(demo_engine, "retail_price_change", record.id)
        if op not in ops_before
    ]
    assert Decimal(str(op.fields["new_price"])) == Decimal("1299")


def test_delete_a_product_line_with_the_delete_key(
    qtbot: QtBot, card: DealerCardWindow, demo_store: Store, demo_engine: Engine
) -> None:
    table = card.child_tables["products"]
    before = table.model.rowCount()
    record = select_row(table, 0)
    qtbot.keyClick(table.table, Qt.Key.Key_Delete)
    box = open_dialog(qtbot, card, QMessageBox, "child_delete_confirm")
    assert record["brand"] in box.text()
    yes = box.button(QMessageBox.StandardButton.Yes)
    assert yes is not None
    with qtbot.waitSignals([table.changed, card.loaded], timeout=10000):
        yes.click()
    qtbot.waitUntil(lambda: table.model.rowCount() == before - 1)
    assert record.id not in [row.id for row in table.model.rows()]
    with demo_store.read() as session:
        row = session.get(CarriedProduct, record.id)
        assert row is not None and row.deleted, "deleted by tombstone"
    assert [op.kind for op in outbox_ops(demo_engine, "carried_product", record.id)] == ["delete"]


def test_insert_opens_a_new_row_and_a_stakeholder_opens_under_key_people(
    qtbot: QtBot, card: DealerCardWindow, demo_engine: Engine
) -> None:
    table = card.child_tables["products"]
    select_row(table, 0)
    qtbot.keyClick(table.table, Qt.Key.Key_Insert)
    dialog = open_dialog(qtbot, card, ChildRecordDialog, "child_dialog_products")
    assert dialog.windowTitle() == _("New product line")
    assert dialog.binding.editors["brand"].text() == ""
    dialog.reject()
    people = card.tables["stakeholders"]
    contact = people.model.row(1)
    people.table.setCurrentIndex(people.model.index(1, 0))
    qtbot.keyClick(people.table, Qt.Key.Key_Return)
    assert card.tabs.currentIndex() == 1
    assert card.current_contact_id == contact.id


def test_the_5c_review_button_is_greyed_for_a_rep_with_the_reason(
    qtbot: QtBot, card: DealerCardWindow, dealer_id: str
) -> None:
    """The server refuses a rep's credit assessment (a manager-only table, new rows
    included), so the button a rep sees is greyed and its tooltip says why."""
    from fieldrep.sync.protocol import TABLES

    assert TABLES["credit_assessment"].manager_only, "the server's policy this follows"
    card.tabs.setCurrentIndex(3)
    for button in card.credit_review_buttons:
        assert not button.isEnabled(), button.objectName()
        assert button.toolTip() == "只有区域经理可以录入5C信用评估", button.objectName()
    qtbot.mouseClick(card.credit_review_buttons[1], Qt.MouseButton.LeftButton)
    assert not card.findChildren(CreditReviewDialog)
    card.resize(1280, 860)
    QApplication.processEvents()
    save_screenshot(card, "dealer_card_rep_credit_review_zh_CN")
    with ui_language("en"):
        card.retranslate()
        assert card.credit_review_buttons[1].toolTip() == (
            "Only an area manager can record a 5C credit review"
        )
        QApplication.processEvents()
        save_screenshot(card, "dealer_card_rep_credit_review_en")
    card.retranslate()


def test_the_5c_review_button_is_open_to_a_manager(
    qtbot: QtBot, main_window: MainWindow, manager_services: AppServices, dealer_id: str
) -> None:
    card = open_card(qtbot, main_window, manager_services, dealer_id)
    for button in card.credit_review_buttons:
        assert button.isEnabled(), button.objectName()
        assert button.toolTip() == "为五个 C 打分；等级和风险随打分即时计算", button.objectName()
    card.close()


def test_record_a_5c_review_and_see_the_credit_box_update(
    qtbot: QtBot,
    main_window: MainWindow,
    manager_services: AppServices,
    demo_store: Store,
    demo_engine: Engine,
    dealer_id: str,
) -> None:
    card = open_card(qtbot, main_window, manager_services, dealer_id)
    card.tabs.setCurrentIndex(3)
    reviews_before = card.credit_history.model.rowCount()
    qtbot.mouseClick(card.credit_review_buttons[1], Qt.MouseButton.LeftButton)
    dialog = open_dialog(qtbot, card, CreditReviewDialog, "credit_review_dialog")
    for spin in dialog.scores.values():
        spin.setValue(1)
    assert _(CreditRisk.HIGH.label) in dialog.outcome.text() and "D" in dialog.outcome.text()
    for name, score in zip(
        ("character", "capacity", "capital", "collateral", "condition"),
        (5, 5, 4, 5, 5),
        strict=True,
    ):
        dialog.scores[name].setFocus()
        dialog.scores[name].selectAll()
        qtbot.keyClicks(dialog.scores[name], str(score))
    assert dialog.grade_and_risk() == ("A", CreditRisk.LOW)
    assert "4.80" in dialog.outcome.text() and "A" in dialog.outcome.text()
    type_line(qtbot, dialog, "notes", "回款及时，仓库扩建完成")  # type: ignore[arg-type]
    with qtbot.waitSignal(card.credit_reviewed, timeout=10000) as reviewed:
        save(dialog)
    assessment = reviewed.args[0]
    qtbot.waitUntil(lambda: card.credit_history.model.rowCount() == reviews_before + 1)
    assert card.credit_box.values["capital"].text() == "4"
    assert card.credit_box.values["overall_grade"].text() == "A"
    assert card.credit_box.values["risk_level"].text() == _(CreditRisk.LOW.label)
    with demo_store.read() as session:
        row = session.get(CreditAssessment, assessment.id)
        assert row is not None and row.reviewed_at == demo_store.today()
        assert (row.character, row.capital, row.notes) == (5, 4, "回款及时，仓库扩建完成")
        dealer = session.get(Dealer, dealer_id)
        assert dealer is not None and dealer.credit_grade == "A"
    [op] = outbox_ops(demo_engine, "credit_assessment", assessment.id)
    assert op.created and op.fields["overall_grade"] == "A"
    card.close()


def test_a_complaint_follows_its_workflow(
    qtbot: QtBot, card: DealerCardWindow, demo_store: Store, demo_engine: Engine
) -> None:
    table = card.child_tables["complaints"]
    assert not table.delete_button.isVisibleTo(card), "complaints are closed, not deleted"
    qtbot.mouseClick(table.add_button, Qt.MouseButton.LeftButton)
    dialog = open_dialog(qtbot, card, ChildRecordDialog, "child_dialog_complaints")
    type_line(qtbot, dialog, "description", "上批货到店时外箱破损三件")
    with qtbot.waitSignals([table.changed, card.loaded], timeout=10000):
        save(dialog)
    with demo_store.read() as session:
        row = session.scalars(
            select(Complaint).where(Complaint.description == "上批货到店时外箱破损三件")
        ).one()
        assert row.status == ComplaintStatus.RECEIVED
        complaint_id = row.id
    position = next(i for i, r in enumerate(table.model.rows()) if r.id == complaint_id)
    table.table.scrollTo(table.model.index(position, 0))
    cell = table.table.visualRect(table.model.index(position, 2)).center()
    qtbot.mouseClick(table.table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    qtbot.mouseDClick(table.table.viewport(), Qt.MouseButton.LeftButton, pos=cell)
    handle = open_dialog(qtbot, card, ComplaintDialog, "complaint_dialog")
    handle.action.setCurrentIndex(handle.action.findData("close"))
    save(handle)
    assert handle.binding.editors["result"].error.text().endswith("不能为空")
    type_line(qtbot, handle, "result", "已补发三件并致歉")
    with qtbot.waitSignals([table.changed, card.loaded], timeout=10000):
        save(handle)
    with demo_store.read() as session:
        closed = session.get(Complaint, complaint_id)
        assert closed is not None and closed.status == ComplaintStatus.CLOSED
        assert closed.result == "已补发三件并致歉"
    [op] = outbox_ops(demo_engine, "complaint", complaint_id)
    assert op.fields["status"] == "closed"


def test_screenshots_of_the_dialogs(
    qtbot: QtBot, main_window: MainWindow, manager_services: AppServices, dealer_id: str
) -> None:
    from fieldrep.storage.services.cases import create_complaint

    # An open complaint, so the workflow dialog shows its next steps.
    create_complaint(
        manager_services.store,
        dealer_id,
        {"category": ComplaintCategory.AFTER_SALES, "description": "两台打印机到货即故障"},
    )
    problems: list[str] = []
    for lang in ("zh_CN", "en"):
        with ui_language(lang):
            card = open_card(qtbot, main_window, manager_services, dealer_id)
            card.retranslate()
            card.resize(1180, 820)
            card.tabs.setCurrentIndex(0)
            card.profile_scroll.ensureWidgetVisible(card.child_tables["prices"])
            QApplication.processEvents()
            save_screenshot(card, f"dealer_card_child_lists_{lang}")
            # The card shows the dealer's own data too (service tier "VIP", grades such
            # as "AA"): the card's check of test_dealer_card allows those words.
            words = {w for w in english_words(card) if not re.fullmatch("[A-D]+", w)}
            if lang == "zh_CN" and words:
                problems.append(f"card: English words {sorted(words)}")
            for key in ("agreements", "prices", "products", "complaints", "after_sales", "grades"):
                table = card.child_tables[key]
                qtbot.mouseClick(table.add_button, Qt.MouseButton.LeftButton)
                dialog = open_dialog(qtbot, card, ChildRecordDialog, f"child_dialog_{key}")
                QApplication.processEvents()
                save_screenshot(dialog, f"dialog_child_{key}_{lang}")
                problems += [f"{key} {lang}: {p}" for p in check_texts(dialog, lang)]
                dialog.reject()
            prices = card.child_tables["prices"]
            prices.edit_row(prices.model.row(0))
            edit = open_dialog(qtbot, card, ChildRecordDialog, "child_dialog_prices")
            type_line(qtbot, edit, "new_price", "约1299")
            save(edit)
            assert edit.binding.editors["new_price"].error.isVisibleTo(edit)
            QApplication.processEvents()
            save_screenshot(edit, f"dialog_child_prices_refused_{lang}")
            problems += [f"price error {lang}: {p}" for p in check_texts(edit, lang)]
            edit.reject()
            products = card.child_tables["products"]
            # A row without Latin letters in its name (brands like TP-LINK are data).
            chinese_row = next(
                position
                for position, row in enumerate(products.model.rows())
                if not re.search("[A-Za-z]", f"{row['brand']}{row['variety'] or ''}")
            )
            select_row(products, chinese_row)
            products.delete_current()
            box = open_dialog(qtbot, card, QMessageBox, "child_delete_confirm")
            QApplication.processEvents()
            save_screenshot(box, f"dialog_child_delete_{lang}")
            problems += [f"delete {lang}: {p}" for p in check_texts(box, lang)]
            no = box.button(QMessageBox.StandardButton.No)
            assert no is not None
            no.click()
            complaints = card.child_tables["complaints"]
            if complaints.model.rowCount():
                rows = complaints.model.rows()
                open_ones = [r for r in rows if r["status"] != ComplaintStatus.CLOSED]
                complaints.edit_row((open_ones or list(rows))[0])
                handle = open_dialog(qtbot, card, ComplaintDialog, "complaint_dialog")
                QApplication.processEvents()
                save_screenshot(handle, f"dialog_complaint_workflow_{lang}")
                problems += [f"complaint {lang}: {p}" for p in check_texts(handle, lang)]
                handle.reject()
            card.tabs.setCurrentIndex(3)
            qtbot.mouseClick(card.credit_review_buttons[1], Qt.MouseButton.LeftButton)
            review = open_dialog(qtbot, card, CreditReviewDialog, "credit_review_dialog")
            QApplication.processEvents()
            save_screenshot(review, f"dialog_credit_review_{lang}")
            problems += [f"5C {lang}: {p}" for p in check_texts(review, lang)]
            review.reject()
            save_screenshot(card, f"dealer_card_sales_credit_{lang}")
            card.close()
            qtbot.waitUntil(lambda: not main_window.findChildren(DealerCardWindow))
    assert not problems, problems


def test_a_grade_out_of_range_is_refused_by_the_service_at_its_field(
    qtbot: QtBot, card: DealerCardWindow, demo_store: Store, demo_engine: Engine, dealer_id: str
) -> None:
    table = card.child_tables["grades"]
    before = table.model.rowCount()
    qtbot.mouseClick(table.add_button, Qt.MouseButton.LeftButton)
    dialog = open_dialog(qtbot, card, ChildRecordDialog, "child_dialog_grades")
    for name, score in zip(GRADE_DIMENSIONS, ("4", "7", "3", "4", "5"), strict=True):
        type_line(qtbot, dialog, name, score)
    type_line(qtbot, dialog, "overall_grade", "B")
    save(dialog)
    error = dialog.binding.editors["closeness"].error
    qtbot.waitUntil(lambda: bool(error.text()))
    assert (
        error.text() == _(field_label(RelationshipGrade, "closeness")) + "：应为 1 到 5 之间的整数"
    )
    assert dialog.buttons.isEnabled() and dialog.isVisible()
    assert table.model.rowCount() == before
    with demo_engine.connect() as connection:
        assert not [op for op in all_ops(connection) if op.table == "relationship_grade"]
    type_line(qtbot, dialog, "closeness", "5")
    with qtbot.waitSignals([table.changed, card.loaded], timeout=10000):
        save(dialog)
    assert table.model.rowCount() == before + 1
    with demo_store.read() as session:
        grade = session.scalars(
            select(RelationshipGrade).where(
                RelationshipGrade.dealer_id == dealer_id,
                RelationshipGrade.deleted.is_(False),
                RelationshipGrade.closeness == 5,
                RelationshipGrade.familiarity == 4,
                RelationshipGrade.overall_grade == "B",
            )
        ).one()
    [op] = outbox_ops(demo_engine, "relationship_grade", grade.id)
    assert op.created and op.fields["closeness"] == 5


def test_escalating_a_complaint_opens_an_internal_follow_up(
    qtbot: QtBot, card: DealerCardWindow, demo_store: Store, demo_engine: Engine, dealer_id: str
) -> None:
    table = card.child_tables["complaints"]
    qtbot.mouseClick(table.add_button, Qt.MouseButton.LeftButton)
    dialog = open_dialog(qtbot, card, ChildRecordDialog, "child_dialog_complaints")
    type_line(qtbot, dialog, "description", "返利到账晚了两个月")
    with qtbot.waitSignals([table.changed, card.loaded], timeout=10000):
        save(dialog)
    record = next(r for r in table.model.rows() if r["description"] == "返利到账晚了两个月")
    table.edit_row(record)
    handle = open_dialog(qtbot, card, ComplaintDialog, "complaint_dialog")
    handle.action.setCurrentIndex(handle.action.findData("escalate"))
    type_line(qtbot, handle, "responsible_dept", "财务部")
    with qtbot.waitSignals([table.changed, card.loaded], timeout=10000):
        save(handle)
    with demo_store.read() as session:
        complaint = session.get(Complaint, record.id)
        assert complaint is not None and complaint.status == ComplaintStatus.ESCALATED
        assert complaint.escalated and complaint.responsible_dept == "财务部"
        follow_up = session.scalars(
            select(FollowUp).where(FollowUp.source_id == record.id, FollowUp.dealer_id == dealer_id)
        ).one()
        assert follow_up.counterpart_dept == "财务部"
    assert outbox_ops(demo_engine, "follow_up", follow_up.id), "the follow-up is queued too"
    row = next(r for r in table.model.rows() if r.id == record.id)
    assert row["status"] == ComplaintStatus.ESCALATED
