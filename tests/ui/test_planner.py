"""The Planner as a rep uses it: plan from the due list, reschedule, prepare, print.

Drag and drop is driven the way Qt delivers it: the source view makes the MIME
data of the dragged row (its own ``mimeData``), and the target day's list gets
drag-enter and drop events at a point inside it.
"""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtWidgets import QApplication, QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import select

from fieldrep.storage.enums import PlanItemStatus
from fieldrep.storage.models import VisitPlanItem
from fieldrep.storage.screens.planner import PlannerMode
from fieldrep.storage.services.core import Store
from fieldrep.storage.workdays import add_working_days
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.views.planner import DayList, PlannerView, item_text

# The demo's today is Wednesday 2026-11-25; the week after has free slots.
NEXT_WEEK = date(2026, 12, 2)


def open_planner(qtbot: QtBot, window: MainWindow, day: date | None = None) -> PlannerView:
    window.show_view("planner", day.isoformat() if day else "")
    view = window.views["planner"]
    assert isinstance(view, PlannerView)
    qtbot.waitUntil(lambda: view.data is not None and not view.loading)
    if day is not None:
        qtbot.waitUntil(lambda: view.data is not None and view.data.anchor == day)
    return view


def reloaded(qtbot: QtBot, view: PlannerView, before: object) -> None:
    """Wait for the reload that follows a change."""
    qtbot.waitUntil(lambda: view.data is not before and not view.loading)
    qtbot.waitUntil(lambda: not view.services.workers.busy)


def drop(target: DayList, data: QMimeData) -> bool:
    """Deliver drag-enter and drop of ``data`` at the middle of ``target``; True if taken."""
    point = QPointF(target.viewport().rect().center())
    actions = Qt.DropAction.CopyAction | Qt.DropAction.MoveAction
    # Qt's QDragEnterEvent takes a QPoint, its QDropEvent a QPointF.
    enter = QDragEnterEvent(
        point.toPoint(), actions, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(target.viewport(), enter)
    if not enter.isAccepted():
        return False
    event = QDropEvent(
        point, actions, data, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    )
    QApplication.sendEvent(target.viewport(), event)
    return event.isAccepted()


def plan_rows(store: Store, dealer_id: str) -> list[VisitPlanItem]:
    with store.read() as session:
        rows = session.scalars(
            select(VisitPlanItem).where(
                VisitPlanItem.dealer_id == dealer_id, VisitPlanItem.deleted.is_(False)
            )
        ).all()
        session.expunge_all()
        return list(rows)


def movable_item(view: PlannerView, day: date) -> str:
    assert view.data is not None
    return next(item.id for item in view.data.items_on(day) if not item.locked)


# ----------------------------------------------------------------- planning


def test_plan_a_due_dealer_by_drag_and_drop(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    view = open_planner(qtbot, main_window, NEXT_WEEK)
    assert view.data is not None and view.data.proposals
    source = view.proposals.topLevelItem(0)
    proposal = view.proposals.proposal(source)
    assert proposal is not None
    target_day = date(2026, 12, 4)
    before_count = len(view.data.items_on(target_day))
    data = view.proposals.mimeData([source])
    before = view.data
    assert drop(view.cell(target_day).list, data)
    reloaded(qtbot, view, before)
    assert view.data is not None
    planned = view.data.items_on(target_day)
    assert len(planned) == before_count + 1
    assert planned[-1].dealer_id == proposal.dealer.dealer_id
    assert planned[-1].route_seq == max(item.route_seq for item in planned)
    # The new visit is selected and no longer proposed.
    assert view.selected_id == planned[-1].id
    assert proposal.dealer.dealer_id not in {p.dealer.dealer_id for p in view.data.proposals}
    [row] = plan_rows(demo_store, proposal.dealer.dealer_id)[-1:]
    assert row.planned_date == target_day


def test_plan_a_due_dealer_by_keyboard(qtbot: QtBot, main_window: MainWindow) -> None:
    view = open_planner(qtbot, main_window, NEXT_WEEK)
    assert view.data is not None
    view.proposals.setFocus()
    view.proposals.setCurrentItem(view.proposals.topLevelItem(1))
    proposal = view.proposals.current_proposal()
    assert proposal is not None
    before = view.data
    qtbot.keyClick(view.proposals, Qt.Key.Key_Return)
    reloaded(qtbot, view, before)
    assert view.data is not None
    route = view.data.items_on(proposal.day)
    entry = route[-1]
    assert entry.dealer_id == proposal.dealer.dealer_id
    # It shows last in the day's cell: route number, time slot, class and dealer.
    listing = view.cell(proposal.day).list
    assert listing.item(listing.count() - 1).text() == item_text(entry, compact=False)
    assert entry.shown_name in listing.item(listing.count() - 1).text()
    assert listing.item_ids() == [item.id for item in route]


def test_reschedule_by_drag_and_drop(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    view = open_planner(qtbot, main_window, date(2026, 11, 25))
    source_day, target_day = date(2026, 11, 26), date(2026, 11, 27)
    item_id = movable_item(view, source_day)
    source = view.cell(source_day).list
    assert source.select_id(item_id)
    data = source.mimeData([source.currentItem()])
    before = view.data
    assert drop(view.cell(target_day).list, data)
    reloaded(qtbot, view, before)
    assert view.data is not None
    assert item_id not in {item.id for item in view.data.items_on(source_day)}
    moved = view.data.item(item_id)
    assert moved is not None and moved.planned_date == target_day
    assert moved.route_seq == max(item.route_seq for item in view.data.items_on(target_day))
    with demo_store.read() as session:
        assert session.get(VisitPlanItem, item_id).planned_date == target_day  # type: ignore[union-attr]


def test_a_visit_already_made_cannot_be_dragged(qtbot: QtBot, main_window: MainWindow) -> None:
    view = open_planner(qtbot, main_window, date(2026, 11, 25))
    assert view.data is not None
    done = next(item for item in view.data.items if item.status == PlanItemStatus.DONE)
    listing = view.cell(done.planned_date).list
    listing.select_id(done.id)
    assert not listing.currentItem().flags() & Qt.ItemFlag.ItemIsDragEnabled


def test_keyboard_moves_reorders_and_unplans(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    view = open_planner(qtbot, main_window, date(2026, 11, 25))
    day = date(2026, 11, 26)  # Thursday
    item_id = movable_item(view, day)
    assert view.select_item(item_id)
    listing = view.cell(day).list

    # Ctrl+Right: the next working day (Friday), last in its route.
    before = view.data
    qtbot.keyClick(listing, Qt.Key.Key_Right, Qt.KeyboardModifier.ControlModifier)
    reloaded(qtbot, view, before)
    assert view.data is not None
    friday = add_working_days(day, 1)
    moved = view.data.item(item_id)
    assert moved is not None and moved.planned_date == friday
    route = view.data.items_on(friday)
    assert route[-1].id == item_id
    assert view.selected_id == item_id

    # Alt+Up: one place earlier in Friday's route; the route is numbered 1..n.
    friday_list = view.cell(friday).list
    assert friday_list.current_id() == item_id
    before = view.data
    qtbot.keyClick(friday_list, Qt.Key.Key_Up, Qt.KeyboardModifier.AltModifier)
    reloaded(qtbot, view, before)
    route = view.data.items_on(friday)
    assert [item.id for item in route].index(item_id) == len(route) - 2
    assert [item.route_seq for item in route] == list(range(1, len(route) + 1))

    # Ctrl+Left: back to Thursday.
    assert view.select_item(item_id)
    before = view.data
    qtbot.keyClick(friday_list, Qt.Key.Key_Left, Qt.KeyboardModifier.ControlModifier)
    reloaded(qtbot, view, before)
    assert view.data.item(item_id).planned_date == day  # type: ignore[union-attr]

    # Delete asks first; No keeps the visit, Yes takes it off the plan.
    listing = view.cell(day).list
    assert view.select_item(item_id)
    qtbot.keyClick(listing, Qt.Key.Key_Delete)
    box = view.findChild(QMessageBox, "planner_unplan_confirm")
    assert box is not None and box.isVisible()
    box.button(QMessageBox.StandardButton.No).click()
    qtbot.waitUntil(lambda: not view.services.workers.busy)
    assert view.data.item(item_id) is not None  # type: ignore[union-attr]
    assert view.select_item(item_id)
    qtbot.keyClick(listing, Qt.Key.Key_Delete)
    box = view.findChild(QMessageBox, "planner_unplan_confirm")
    assert box is not None
    before = view.data
    box.button(QMessageBox.StandardButton.Yes).click()
    reloaded(qtbot, view, before)
    assert view.data.item(item_id) is None  # type: ignore[union-attr]
    with demo_store.read() as session:
        row = session.get(VisitPlanItem, item_id)
        assert row is not None and row.deleted


def test_preparation_checklist_is_saved(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    view = open_planner(qtbot, main_window, date(2026, 11, 25))
    item_id = movable_item(view, date(2026, 11, 27))
    assert view.select_item(item_id)
    panel = view.preparation
    assert panel.entry is not None and panel.entry.id == item_id

    before = view.data
    qtbot.mouseClick(panel.steps["research"], Qt.MouseButton.LeftButton)
    reloaded(qtbot, view, before)
    before = view.data
    panel.lines["brochures"].label.setFocus()
    qtbot.mouseClick(panel.lines["brochures"].label, Qt.MouseButton.LeftButton)  # text ticks too
    reloaded(qtbot, view, before)
    before = view.data
    qtbot.mouseClick(panel.appointment, Qt.MouseButton.LeftButton)
    reloaded(qtbot, view, before)
    with demo_store.read() as session:
        row = session.get(VisitPlanItem, item_id)
        assert row is not None
        assert set(row.prep_checklist or ()) >= {"research", "brochures"}
        assert row.appointment_confirmed
    assert "已保存" in panel.saved_note.text() or "saved" in panel.saved_note.text()
    entry = view.data.item(item_id)  # type: ignore[union-attr]
    assert entry is not None and entry.prepared >= 3

    # Details: a bad time is refused at the field, in the user's language.
    time_editor = panel.binding.editors["time_slot"]
    time_editor.set_text("25:99")
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    assert time_editor.error.text()
    time_editor.set_text("10:30")
    panel.binding.editors["agenda"].set_text("介绍新品；核对库存")
    before = view.data
    qtbot.mouseClick(panel.save_button, Qt.MouseButton.LeftButton)
    reloaded(qtbot, view, before)
    with demo_store.read() as session:
        row = session.get(VisitPlanItem, item_id)
        assert row is not None and row.time_slot is not None
        assert row.time_slot.strftime("%H:%M") == "10:30" and row.agenda == "介绍新品；核对库存"


def test_month_view_shades_and_names_holidays(qtbot: QtBot, main_window: MainWindow) -> None:
    view = open_planner(qtbot, main_window, date(2026, 10, 8))
    view.set_mode(PlannerMode.MONTH)
    qtbot.waitUntil(lambda: view.data is not None and view.data.mode is PlannerMode.MONTH)
    qtbot.waitUntil(lambda: not view.loading)
    national = view.cell(date(2026, 10, 1))
    assert national.note.text() == "国庆节"
    assert "background: #eeeeee" in national.styleSheet()
    assert view.cell(date(2026, 10, 10)).note.text() == "调休上班"
    assert "#eeeeee" not in view.cell(date(2026, 10, 9)).styleSheet()
    assert len(view.cells) == 35


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_planner_screenshots(
    qtbot: QtBot, qapp: QApplication, main_window: MainWindow, lang: str
) -> None:
    from shots import check_texts, save_screenshot

    from fieldrep.ui.language import apply_language

    apply_language(qapp, lang)
    try:
        main_window.resize(1280, 800)
        view = open_planner(qtbot, main_window, date(2026, 11, 25))
        view.set_mode(PlannerMode.WEEK)
        qtbot.waitUntil(lambda: not view.loading and view.data is not None)
        assert view.select_item(movable_item(view, date(2026, 11, 27)))
        QApplication.processEvents()
        save_screenshot(main_window, f"planner_week_{lang}")
        problems = check_texts(main_window, lang)
        view.activate("2026-10-08")
        view.set_mode(PlannerMode.MONTH)
        qtbot.waitUntil(lambda: not view.loading and view.data is not None)
        qtbot.waitUntil(lambda: view.data is not None and view.data.anchor.month == 10)
        QApplication.processEvents()
        save_screenshot(main_window, f"planner_month_{lang}")
        problems += check_texts(main_window, lang)
        assert not problems, problems
    finally:
        apply_language(qapp, "zh_CN")
