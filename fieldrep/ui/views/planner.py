"""The Planner: the week or month of planned visits, proposals for free slots, preparation.

- A grid of days (one week, or the weeks of a month). Weekends and Chinese public
  holidays are shaded and named (国庆节 ...); a weekend declared a working day
  says so. Each day lists the rep's planned visits in route order: number, time
  slot, class and dealer.
- Beside it, dealers due by cadence proposed for the free slots of the period
  (:func:`fieldrep.storage.screens.planner.load_planner`). Drag one onto a day, or select
  it and press Enter (or "Plan"), to plan it.
- Reschedule by dragging a visit onto another day, or by keyboard on the selected
  visit: Ctrl+Left/Right moves it to the previous/next working day, Alt+Up/Down
  changes its place in the route, Delete takes it off the plan (after asking),
  Enter opens the visit record.
- Under the proposals, the selected visit's preparation (DOMAIN.md §4.1, §5.1):
  time slot, type, objective and agenda; the appointment and the checklist, each
  tick saved at once; the pre-visit brief and the day's route pack in print
  preview.

All data work runs on the database worker through the op helper; the view keeps
only the frozen :class:`~fieldrep.storage.screens.planner.PlannerData` it shows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import date
from functools import partial
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QMimeData, QPoint, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragMoveEvent,
    QDropEvent,
    QFocusEvent,
    QKeyEvent,
    QMouseEvent,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QButtonGroup,
    QCheckBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QSpinBox,
    QSplitter,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fieldrep.i18n import N_, _, current_language, ngettext
from fieldrep.storage.errors import ValidationError
from fieldrep.storage.models import VisitPlanItem
from fieldrep.storage.screens.planner import (
    DEFAULT_PER_DAY,
    PREP_MATERIALS,
    PREP_STEPS,
    PREP_TOTAL,
    DayInfo,
    PlanEntry,
    PlannerData,
    PlannerMode,
    Proposal,
    load_planner,
    move_item,
    period_of,
    plan_dealer,
    reorder_item,
    save_details,
    save_preparation,
    shift_anchor,
    unplan_item,
)
from fieldrep.storage.workdays import add_working_days
from fieldrep.ui.common import WEEKDAYS, format_day, make_bold
from fieldrep.ui.forms import FieldGrid, FormBinding
from fieldrep.ui.qtcompat import emit
from fieldrep.ui.uisettings import UiSettings
from fieldrep.ui.views.base import View

if TYPE_CHECKING:
    from fieldrep.storage.services.core import Record
    from fieldrep.ui.services import AppServices

log = logging.getLogger("fieldrep.ui")

PLAN_ITEM_MIME = "application/x-fieldrep-plan-item"
DEALER_MIME = "application/x-fieldrep-dealer"
ITEM_ROLE = int(Qt.ItemDataRole.UserRole) + 10
PROPOSAL_ROLE = int(Qt.ItemDataRole.UserRole) + 11

MODE_KEY = "planner/mode"
PER_DAY_KEY = "planner/per_day"
SPLITTER_MAIN = "planner_main"
SPLITTER_SIDE = "planner_side"

SHORT_WEEKDAYS = (
    N_("Mon"),
    N_("Tue"),
    N_("Wed"),
    N_("Thu"),
    N_("Fri"),
    N_("Sat"),
    N_("Sun"),
)
DAY_OFF_BACKGROUND = "#eeeeee"
OUTSIDE_BACKGROUND = "#f7f7f7"
TODAY_BORDER = "#1565c0"
HOLIDAY_COLOUR = "#c62828"
SWAPPED_COLOUR = "#1565c0"
STATUS_MARKS = {"done": "✓ ", "in_progress": "▶ ", "not_done": "✗ ", "added": "+ "}
STATUS_COLOURS = {"done": QColor("#607d8b"), "not_done": QColor("#c62828")}
OVERDUE_COLOUR = QColor("#c62828")


def _mime(kind: str, row_id: str) -> QMimeData:
    data = QMimeData()
    data.setData(kind, QByteArray(row_id.encode("ascii")))
    data.setText(row_id)
    return data


def _mime_id(data: QMimeData, kind: str) -> str | None:
    if not data.hasFormat(kind):
        return None
    return bytes(data.data(kind).data()).decode("ascii") or None


def month_title(day: date) -> str:
    """2026年11月 / November 2026."""
    if current_language() == "zh_CN":
        return f"{day.year}年{day.month}月"
    return day.strftime("%B %Y")


def period_title(mode: PlannerMode, anchor: date) -> str:
    """The heading of the shown period."""
    start, end = period_of(mode, anchor)
    if mode is PlannerMode.MONTH:
        return month_title(anchor)
    if current_language() == "zh_CN":
        return f"{start.year}年{start.month}月{start.day}日 – {end.month}月{end.day}日"
    return f"{start.day} {start.strftime('%b')} – {end.day} {end.strftime('%b')} {end.year}"


def item_text(item: PlanEntry, *, compact: bool) -> str:
    """A planned visit in a day cell: route number, time, class, dealer."""
    mark = STATUS_MARKS.get(item.status.code, "")
    slot = item.time_slot.strftime("%H:%M") if item.time_slot else ""
    if compact:
        return f"{mark}{item.route_seq}. {slot} {item.shown_name}".replace("  ", " ")
    head = " · ".join(part for part in (f"{item.route_seq}", slot, item.abc_class.code) if part)
    return f"{mark}{head}\n{item.shown_name}"


def item_tooltip(item: PlanEntry) -> str:
    lines = [
        item.dealer_name,
        f"{item.abc_class.label} · {item.visit_type.label} · {item.status.label}",
        _("Prepared: {done} of {total}").format(done=item.prepared, total=PREP_TOTAL),
    ]
    if item.objective:
        lines.append(item.objective)
    return "\n".join(lines)


class DayList(QListWidget):
    """The planned visits of one day: a drag source, a drop target, keyboard moves."""

    dropped = Signal(str, str, object)  # mime kind, id, day
    move_requested = Signal(str, int)  # plan item id, working days (+/-1)
    reorder_requested = Signal(str, int)  # plan item id, places (+/-1)
    unplan_requested = Signal(str)
    open_requested = Signal(str)
    item_selected = Signal(str, object)  # plan item id ("" for none), day
    day_clicked = Signal(object)

    def __init__(self, day: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.day = day
        self.setObjectName(f"day_{day.isoformat()}")
        self.setDragEnabled(True)
        self.setAcceptDrops(True)
        self.viewport().setAcceptDrops(True)
        self.setDropIndicatorShown(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
        self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setFrameShape(QFrame.Shape.NoFrame)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setStyleSheet("QListWidget { background: transparent; }")
        self.currentItemChanged.connect(self._current_changed)
        self.itemDoubleClicked.connect(self._open)

    def set_items(self, items: Sequence[PlanEntry], *, compact: bool) -> None:
        blocked = self.blockSignals(True)
        self.clear()
        for entry in items:
            item = QListWidgetItem(item_text(entry, compact=compact))
            item.setData(ITEM_ROLE, entry.id)
            item.setToolTip(item_tooltip(entry))
            colour = STATUS_COLOURS.get(entry.status.code)
            if colour is not None:
                item.setForeground(colour)
            flags = item.flags()
            if entry.locked:
                flags &= ~Qt.ItemFlag.ItemIsDragEnabled
            item.setFlags(flags & ~Qt.ItemFlag.ItemIsDropEnabled)
            self.addItem(item)
        self.blockSignals(blocked)

    def item_ids(self) -> list[str]:
        return [str(self.item(row).data(ITEM_ROLE)) for row in range(self.count())]

    def select_id(self, item_id: str) -> bool:
        for row in range(self.count()):
            if self.item(row).data(ITEM_ROLE) == item_id:
                self.setCurrentRow(row)
                return True
        return False

    def current_id(self) -> str | None:
        item = self.currentItem()
        return None if item is None else str(item.data(ITEM_ROLE))

    # -- drag and drop

    def mimeTypes(self) -> list[str]:
        return [PLAN_ITEM_MIME, DEALER_MIME]

    def mimeData(self, items: Sequence[QListWidgetItem]) -> QMimeData:
        return _mime(PLAN_ITEM_MIME, str(items[0].data(ITEM_ROLE))) if items else QMimeData()

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.MoveAction | Qt.DropAction.CopyAction

    def _accepts(self, data: QMimeData) -> bool:
        return data.hasFormat(PLAN_ITEM_MIME) or data.hasFormat(DEALER_MIME)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if self._accepts(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dragMoveEvent(self, event: QDragMoveEvent) -> None:
        if self._accepts(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        data = event.mimeData()
        for kind in (PLAN_ITEM_MIME, DEALER_MIME):
            row_id = _mime_id(data, kind)
            if row_id is not None:
                event.setDropAction(Qt.DropAction.CopyAction)  # the source list is reloaded
                event.accept()
                emit(self.dropped, kind, row_id, self.day)
                return
        event.ignore()

    # -- keyboard and mouse

    def keyPressEvent(self, event: QKeyEvent) -> None:
        current = self.current_id()
        key = event.key()
        modifiers = event.modifiers()
        if current is not None:
            if modifiers == Qt.KeyboardModifier.ControlModifier and key in (
                Qt.Key.Key_Left,
                Qt.Key.Key_Right,
            ):
                emit(self.move_requested, current, -1 if key == Qt.Key.Key_Left else 1)
                return
            if modifiers == Qt.KeyboardModifier.AltModifier and key in (
                Qt.Key.Key_Up,
                Qt.Key.Key_Down,
            ):
                emit(self.reorder_requested, current, -1 if key == Qt.Key.Key_Up else 1)
                return
            if key == Qt.Key.Key_Delete and not modifiers:
                emit(self.unplan_requested, current)
                return
            if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                emit(self.open_requested, current)
                return
        super().keyPressEvent(event)

    def mousePressEvent(self, event: QMouseEvent) -> None:
        emit(self.day_clicked, self.day)
        super().mousePressEvent(event)

    def focusInEvent(self, event: QFocusEvent) -> None:
        emit(self.day_clicked, self.day)
        super().focusInEvent(event)

    def _current_changed(self, current: QListWidgetItem | None, _previous: object) -> None:
        emit(self.item_selected, "" if current is None else str(current.data(ITEM_ROLE)), self.day)

    def _open(self, item: QListWidgetItem) -> None:
        emit(self.open_requested, str(item.data(ITEM_ROLE)))


class DayCell(QFrame):
    """One day of the grid: the date, the holiday's name, the day's visits."""

    def __init__(self, day: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.day = day
        self.info: DayInfo | None = None
        self.setObjectName(f"cell_{day.isoformat()}")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.heading = QLabel()
        self.heading.setObjectName(f"cell_heading_{day.isoformat()}")
        self.note = QLabel()
        self.note.setObjectName(f"cell_note_{day.isoformat()}")
        font = self.note.font()
        font.setPointSizeF(font.pointSizeF() * 0.9)
        self.note.setFont(font)
        self.list = DayList(day)
        # Columns stay equal whatever a day holds: texts elide or wrap, never widen.
        self.note.setWordWrap(True)
        for widget in (self.heading, self.note):
            widget.setSizePolicy(QSizePolicy.Policy.Ignored, widget.sizePolicy().verticalPolicy())
        self.list.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Ignored)
        self.setMinimumWidth(60)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(4, 2, 4, 2)
        layout.setSpacing(1)
        layout.addWidget(self.heading)
        layout.addWidget(self.note)
        layout.addWidget(self.list, 1)

    def show_day(
        self, info: DayInfo, items: Sequence[PlanEntry], *, mode: PlannerMode, data: PlannerData
    ) -> None:
        self.info = info
        day = info.day
        in_period = mode is PlannerMode.WEEK or day.month == data.anchor.month
        self.heading.setToolTip(f"{_(WEEKDAYS[day.weekday()])} {format_day(day)}")
        if mode is PlannerMode.WEEK:
            self.heading.setText(f"{day.month}/{day.day}")
        else:
            self.heading.setText(str(day.day) if day.day != 1 else f"{day.month}/{day.day}")
        label = info.label
        self.note.setText(_(label) if label else "")
        self.note.setVisible(bool(label))
        self.note.setStyleSheet(f"color: {SWAPPED_COLOUR if info.swapped else HOLIDAY_COLOUR};")
        self.note.setToolTip(_(label) if label else "")
        background = "palette(base)"
        if not info.working:
            background = DAY_OFF_BACKGROUND
        elif not in_period:
            background = OUTSIDE_BACKGROUND
        border = f"2px solid {TODAY_BORDER}" if day == data.today else "1px solid palette(mid)"
        self.setStyleSheet(
            f"DayCell {{ background: {background}; border: {border}; border-radius: 3px; }}"
        )
        bold = day == data.today
        font = self.heading.font()
        font.setBold(bold)
        self.heading.setFont(font)
        self.heading.setStyleSheet("" if in_period else "color: palette(mid);")
        self.list.set_items(items, compact=mode is PlannerMode.MONTH)
        self.list.setToolTip(
            _("Day off") if not info.working and not label else (_(label) if label else "")
        )


class ProposalList(QTreeWidget):
    """Dealers due by cadence proposed for free slots: a drag source; Enter plans one."""

    plan_requested = Signal(object)  # Proposal

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("planner_proposals")
        self.setRootIsDecorated(False)
        self.setUniformRowHeights(True)
        self.setAlternatingRowColors(True)
        self.setDragEnabled(True)
        self.setDragDropMode(QAbstractItemView.DragDropMode.DragOnly)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setColumnCount(4)
        header = self.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column in (0, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.itemDoubleClicked.connect(lambda item, _column: self._plan(item))

    def set_proposals(self, proposals: Sequence[Proposal]) -> None:
        self.clear()
        for proposal in proposals:
            dealer = proposal.dealer
            day = proposal.day
            item = QTreeWidgetItem(
                [
                    f"{_(SHORT_WEEKDAYS[day.weekday()])} {day.month}/{day.day}",
                    dealer.name,
                    dealer.abc_class.code,
                    _overdue_text(dealer.days_overdue),
                ]
            )
            item.setData(0, PROPOSAL_ROLE, proposal)
            item.setToolTip(
                1,
                _("{dealer}, {city}: due {due}, last visit {last}").format(
                    dealer=dealer.name,
                    city=dealer.city or "",
                    due=format_day(dealer.due_on),
                    last=format_day(dealer.last_visit_on) or _("never"),
                ),
            )
            if dealer.days_overdue > 0:
                item.setForeground(3, OVERDUE_COLOUR)
            self.addTopLevelItem(item)

    def proposal(self, item: QTreeWidgetItem | None) -> Proposal | None:
        if item is None:
            return None
        found = item.data(0, PROPOSAL_ROLE)
        return found if isinstance(found, Proposal) else None

    def current_proposal(self) -> Proposal | None:
        return self.proposal(self.currentItem())

    def mimeTypes(self) -> list[str]:
        return [DEALER_MIME]

    def mimeData(self, items: Sequence[QTreeWidgetItem]) -> QMimeData:
        proposal = self.proposal(items[0]) if items else None
        return _mime(DEALER_MIME, proposal.dealer.dealer_id) if proposal else QMimeData()

    def supportedDropActions(self) -> Qt.DropAction:
        return Qt.DropAction.CopyAction

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._plan(self.currentItem())
            return
        super().keyPressEvent(event)

    def _plan(self, item: QTreeWidgetItem | None) -> None:
        proposal = self.proposal(item)
        if proposal is not None:
            emit(self.plan_requested, proposal)


def _overdue_text(days: int) -> str:
    if days > 0:
        return ngettext("{days} day overdue", "{days} days overdue", days).format(days=days)
    if days == 0:
        return _("due")
    return ngettext("due in {days} day", "due in {days} days", -days).format(days=-days)


class CheckLine(QWidget):
    """A check box whose text wraps (a narrow side panel): a click on the text ticks it."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"prep_line_{name}")
        self.box = QCheckBox()
        self.box.setObjectName(f"prep_{name}")
        self.label = QLabel()
        self.label.setObjectName(f"prep_label_{name}")
        self.label.setWordWrap(True)
        self.label.setBuddy(self.box)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.box, 0, Qt.AlignmentFlag.AlignTop)
        layout.addWidget(self.label, 1)

    def set_text(self, text: str, tooltip: str = "") -> None:
        self.label.setText(text)
        self.box.setAccessibleName(text)
        self.setToolTip(tooltip)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton and self.box.isEnabled():
            self.box.toggle()
        super().mouseReleaseEvent(event)


class PreparationPanel(QWidget):
    """The selected visit's preparation: details, appointment and checklist."""

    checklist_changed = Signal(str, list, bool)  # item id, ticked codes, appointment
    details_saved = Signal(str, dict)  # item id, parsed values
    brief_requested = Signal(str, str)  # dealer id, plan item id
    open_requested = Signal(str)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("planner_preparation")
        self.entry: PlanEntry | None = None
        self.heading = QLabel()
        self.heading.setObjectName("prep_heading")
        self.heading.setWordWrap(True)
        make_bold(self.heading)
        self.binding = FormBinding(VisitPlanItem)
        for name in ("time_slot", "visit_type", "objective"):
            self.binding.make(name)
        self.binding.make("agenda", long=True, lines=3)
        self.details = FieldGrid(
            self.binding.editors_for(("time_slot", "visit_type", "objective", "agenda")), pairs=1
        )
        self.save_button = QPushButton()
        self.save_button.setObjectName("prep_save_details")
        self.save_button.clicked.connect(self._save_details)
        self.appointment_line = CheckLine("appointment_confirmed")
        self.appointment = self.appointment_line.box
        self.lines: dict[str, CheckLine] = {}
        self.steps: dict[str, QCheckBox] = {}
        self.steps_box = QGroupBox()
        self.steps_box.setObjectName("prep_steps")
        steps_layout = QVBoxLayout(self.steps_box)
        steps_layout.addWidget(self.appointment_line)
        self.materials_box = QGroupBox()
        self.materials_box.setObjectName("prep_materials")
        materials_layout = QVBoxLayout(self.materials_box)
        for group, layout_of_group in (
            (PREP_STEPS, steps_layout),
            (PREP_MATERIALS, materials_layout),
        ):
            for code, _label in group:
                line = CheckLine(code)
                self.lines[code] = line
                self.steps[code] = line.box
                layout_of_group.addWidget(line)
        for box in (self.appointment, *self.steps.values()):
            box.toggled.connect(self._ticked)
        self.progress = QLabel()
        self.progress.setObjectName("prep_progress")
        self.saved_note = QLabel()
        self.saved_note.setObjectName("prep_saved")
        self.saved_note.setWordWrap(True)
        self.brief_button = QPushButton()
        self.brief_button.setObjectName("prep_print_brief")
        self.brief_button.clicked.connect(self._brief)
        self.open_button = QPushButton()
        self.open_button.setObjectName("prep_open_record")
        self.open_button.clicked.connect(self._open)
        self.empty = QLabel()
        self.empty.setObjectName("prep_empty")
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: palette(mid);")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)

        self.body = QWidget()
        body = QVBoxLayout(self.body)
        body.setContentsMargins(0, 0, 0, 0)
        body.addWidget(self.heading)
        body.addWidget(self.details)
        save_row = QHBoxLayout()
        save_row.addStretch(1)
        save_row.addWidget(self.save_button)
        body.addLayout(save_row)
        body.addWidget(self.steps_box)
        body.addWidget(self.materials_box)
        progress_row = QHBoxLayout()
        progress_row.addWidget(self.progress)
        progress_row.addStretch(1)
        body.addLayout(progress_row)
        body.addWidget(self.saved_note)
        buttons = QHBoxLayout()
        buttons.addWidget(self.brief_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        body.addLayout(buttons)
        body.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.empty)
        layout.addWidget(self.body)
        self.retranslate()
        self.show_entry(None)

    def retranslate(self) -> None:
        from fieldrep.storage.fields import field_label

        self.details.retranslate()
        self.binding.retranslate()
        self.save_button.setText(_("Save details"))
        self.steps_box.setTitle(_("Before the visit"))
        self.materials_box.setTitle(_("Materials to bring"))
        self.appointment_line.set_text(_(field_label(VisitPlanItem, "appointment_confirmed")))
        for code, label in PREP_STEPS + PREP_MATERIALS:
            self.lines[code].set_text(_(label))
        self.brief_button.setText(_("Pre-visit brief…"))
        self.open_button.setText(_("Open visit record"))
        self.empty.setText(
            _(
                "Select a planned visit to prepare it: the appointment, the agenda and the "
                "materials to bring."
            )
        )
        self._describe()

    def show_entry(self, entry: PlanEntry | None) -> None:
        """Show a visit's preparation (None: nothing selected)."""
        same = entry is not None and self.entry is not None and entry.id == self.entry.id
        self.entry = entry
        self.empty.setVisible(entry is None)
        self.body.setVisible(entry is not None)
        if entry is None:
            return
        if not same or not self.binding.changed_names():
            self.binding.load(
                {
                    "time_slot": entry.time_slot,
                    "visit_type": entry.visit_type,
                    "objective": entry.objective,
                    "agenda": entry.agenda,
                }
            )
        ticked = set(entry.prep_checklist)
        for box in (self.appointment, *self.steps.values()):
            box.blockSignals(True)
        self.appointment.setChecked(entry.appointment_confirmed)
        for code, box in self.steps.items():
            box.setChecked(code in ticked)
        for box in (self.appointment, *self.steps.values()):
            box.blockSignals(False)
        if not same:
            self.saved_note.setText("")
        self._describe()

    def _describe(self) -> None:
        entry = self.entry
        if entry is None:
            return
        self.heading.setText(
            _("{dealer} · {day} · number {seq} of the route").format(
                dealer=entry.dealer_name, day=format_day(entry.planned_date), seq=entry.route_seq
            )
        )
        self.progress.setText(
            _("Prepared: {done} of {total}").format(done=self.ticked_count(), total=PREP_TOTAL)
        )

    def ticked_codes(self) -> list[str]:
        return [code for code, box in self.steps.items() if box.isChecked()]

    def ticked_count(self) -> int:
        return len(self.ticked_codes()) + int(self.appointment.isChecked())

    def _ticked(self, _checked: bool) -> None:
        if self.entry is None:
            return
        self._describe()
        emit(
            self.checklist_changed, self.entry.id, self.ticked_codes(), self.appointment.isChecked()
        )

    def _save_details(self) -> None:
        if self.entry is None:
            return
        try:
            values = self.binding.values_of(("time_slot", "visit_type", "objective", "agenda"))
        except ValidationError:
            return  # each problem is shown under its field
        emit(self.details_saved, self.entry.id, values)

    def _brief(self) -> None:
        if self.entry is not None:
            emit(self.brief_requested, self.entry.dealer_id, self.entry.id)

    def _open(self) -> None:
        if self.entry is not None:
            emit(self.open_requested, self.entry.id)

    def note_saved(self, text: str) -> None:
        self.saved_note.setStyleSheet("color: #2e7d32;")
        self.saved_note.setText(text)

    def note_problem(self, text: str) -> None:
        self.saved_note.setStyleSheet("color: #c62828;")
        self.saved_note.setText(text)


class PlannerView(View):
    """Week and month plan, proposals for free slots, drag and drop, preparation."""

    loaded = Signal()  # new data is shown
    changed = Signal(object)  # a change was saved (its Record, or None)

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.data: PlannerData | None = None
        self.loading = False
        self._reload_again = False
        stored_mode = services.settings.text(MODE_KEY, PlannerMode.WEEK.value)
        self.mode = (
            PlannerMode(stored_mode)
            if stored_mode in {m.value for m in PlannerMode}
            else PlannerMode.WEEK
        )
        self.anchor = services.store.today()
        self.selected_id: str | None = None
        self.selected_day: date = self.anchor
        self.cells: dict[date, DayCell] = {}

        # Toolbar
        self.week_button = QPushButton()
        self.week_button.setObjectName("planner_week")
        self.month_button = QPushButton()
        self.month_button.setObjectName("planner_month")
        self.mode_group = QButtonGroup(self)
        for button, mode in (
            (self.week_button, PlannerMode.WEEK),
            (self.month_button, PlannerMode.MONTH),
        ):
            button.setCheckable(True)
            button.setChecked(mode is self.mode)
            button.clicked.connect(partial(self.set_mode, mode))
            self.mode_group.addButton(button)
        self.previous_button = QPushButton("‹")
        self.previous_button.setObjectName("planner_previous")
        self.previous_button.clicked.connect(lambda: self.go(-1))
        self.today_button = QPushButton()
        self.today_button.setObjectName("planner_today")
        self.today_button.clicked.connect(self.go_today)
        self.next_button = QPushButton("›")
        self.next_button.setObjectName("planner_next")
        self.next_button.clicked.connect(lambda: self.go(1))
        for button in (self.previous_button, self.next_button):
            button.setFixedWidth(self.fontMetrics().horizontalAdvance("‹") + 24)
        self.period_label = QLabel()
        self.period_label.setObjectName("planner_period")
        make_bold(self.period_label, 1.2)
        self.route_button = QPushButton()
        self.route_button.setObjectName("planner_route_pack")
        self.route_button.clicked.connect(self.print_route_pack)
        bar = QHBoxLayout()
        bar.addWidget(self.week_button)
        bar.addWidget(self.month_button)
        bar.addSpacing(12)
        bar.addWidget(self.previous_button)
        bar.addWidget(self.today_button)
        bar.addWidget(self.next_button)
        bar.addSpacing(12)
        bar.addWidget(self.period_label)
        bar.addStretch(1)
        bar.addWidget(self.route_button)

        # The grid of days
        self.grid_widget = QWidget()
        self.grid_widget.setObjectName("planner_grid")
        self.grid = QGridLayout(self.grid_widget)
        self.grid.setContentsMargins(0, 0, 0, 0)
        self.grid.setSpacing(3)
        self.weekday_labels: list[QLabel] = []
        for column in range(7):
            label = QLabel()
            label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Fixed)
            label.setObjectName(f"weekday_{column}")
            label.setAlignment(Qt.AlignmentFlag.AlignCenter)
            self.weekday_labels.append(label)
            self.grid.addWidget(label, 0, column)
            self.grid.setColumnStretch(column, 1)
        self.message = QLabel()
        self.message.setObjectName("planner_message")
        self.message.setWordWrap(True)
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.grid_widget, 1)
        left_layout.addWidget(self.message)

        # Proposals
        self.proposals_title = QLabel()
        self.proposals_title.setObjectName("planner_proposals_title")
        self.proposals_title.setWordWrap(True)
        make_bold(self.proposals_title)
        self.per_day_label = QLabel()
        self.per_day_label.setObjectName("planner_per_day_label")
        self.per_day = QSpinBox()
        self.per_day.setObjectName("planner_per_day")
        self.per_day.setRange(1, 20)
        stored = services.settings.text(PER_DAY_KEY, str(DEFAULT_PER_DAY))
        self.per_day.setValue(int(stored) if stored.isdigit() else DEFAULT_PER_DAY)
        self.per_day.valueChanged.connect(self._per_day_changed)
        self.per_day_label.setBuddy(self.per_day)
        self.proposals = ProposalList()
        self.proposals.plan_requested.connect(self.plan_proposal)
        self.proposals_empty = QLabel()
        self.proposals_empty.setObjectName("planner_proposals_empty")
        self.proposals_empty.setWordWrap(True)
        self.proposals_empty.setAlignment(Qt.AlignmentFlag.AlignTop | Qt.AlignmentFlag.AlignLeft)
        self.proposals_empty.setStyleSheet("color: palette(mid);")
        self.plan_button = QPushButton()
        self.plan_button.setObjectName("planner_plan_selected")
        self.plan_button.clicked.connect(lambda: self._plan_current_proposal())
        per_day_row = QHBoxLayout()
        per_day_row.addWidget(self.per_day_label)
        per_day_row.addWidget(self.per_day)
        per_day_row.addStretch(1)
        per_day_row.addWidget(self.plan_button)
        proposals_box = QWidget()
        proposals_layout = QVBoxLayout(proposals_box)
        proposals_layout.setContentsMargins(0, 0, 0, 0)
        proposals_layout.addWidget(self.proposals_title)
        proposals_layout.addLayout(per_day_row)
        proposals_layout.addWidget(self.proposals, 1)
        proposals_layout.addWidget(self.proposals_empty, 1)

        # Preparation
        self.preparation = PreparationPanel()
        self.preparation.checklist_changed.connect(self.save_checklist)
        self.preparation.details_saved.connect(self.save_details)
        self.preparation.brief_requested.connect(self.print_brief)
        self.preparation.open_requested.connect(
            lambda item_id: emit(self.open_record, "plan_item", item_id)
        )
        preparation_scroll = QScrollArea()
        preparation_scroll.setObjectName("planner_preparation_scroll")
        preparation_scroll.setWidgetResizable(True)
        preparation_scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        preparation_scroll.setFrameShape(QFrame.Shape.NoFrame)
        preparation_scroll.setWidget(self.preparation)

        self.side = QSplitter(Qt.Orientation.Vertical)
        self.side.setObjectName(SPLITTER_SIDE)
        self.side.addWidget(proposals_box)
        self.side.addWidget(preparation_scroll)
        self.side.setSizes([260, 440])
        self.side.setChildrenCollapsible(False)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName(SPLITTER_MAIN)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.side)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 0)
        self.splitter.setSizes([760, 360])
        self.splitter.setChildrenCollapsible(False)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        self.retranslate()
        self.refresh()

    # -- language and state

    def retranslate(self) -> None:
        self.week_button.setText(_("Week"))
        self.month_button.setText(_("Month"))
        self.today_button.setText(_("Today"))
        self.previous_button.setToolTip(_("Previous week or month"))
        self.next_button.setToolTip(_("Next week or month"))
        self.route_button.setText(_("Print route pack…"))
        self.route_button.setToolTip(
            _("The briefs of the selected day's visits in route order, behind a cover page")
        )
        for column, label in enumerate(self.weekday_labels):
            label.setText(_(WEEKDAYS[column]))
        self.proposals_title.setText(_("Due by cadence, proposed for free slots"))
        self.per_day_label.setText(_("Visits a day:"))
        self.plan_button.setText(_("Plan"))
        self.plan_button.setToolTip(
            _("Plan the selected dealer on the proposed day (Enter); or drag it onto a day")
        )
        self.proposals.setHeaderLabels([_("Day"), _("Dealer"), _("Class"), _("Due")])
        self.proposals_empty.setText(_("No free slots to fill in this period."))
        self.grid_widget.setToolTip(
            _(
                "Drag a visit to another day. Keyboard: Ctrl+Left/Right moves the selected "
                "visit a working day, Alt+Up/Down changes its place in the route, Delete takes "
                "it off the plan, Enter opens the visit record."
            )
        )
        self.preparation.retranslate()
        self._show_data()

    def save_state(self, settings: UiSettings) -> None:
        settings.set_text(MODE_KEY, self.mode.value)
        settings.set_text(PER_DAY_KEY, str(self.per_day.value()))
        settings.set_bytes(settings.splitter_key(SPLITTER_MAIN), self.splitter.saveState())
        settings.set_bytes(settings.splitter_key(SPLITTER_SIDE), self.side.saveState())

    def restore_state(self, settings: UiSettings) -> None:
        for splitter, name in ((self.splitter, SPLITTER_MAIN), (self.side, SPLITTER_SIDE)):
            state = settings.bytes(settings.splitter_key(name))
            if state is not None:
                splitter.restoreState(state)

    def activate(self, argument: str = "") -> None:
        """Shown: ``argument`` may be an ISO day to show."""
        if argument:
            try:
                day = date.fromisoformat(argument)
            except ValueError:
                return
            self.anchor = day
            self.selected_day = day
            self.refresh()

    # -- navigation

    def set_mode(self, mode: PlannerMode) -> None:
        self.mode = mode
        self.week_button.setChecked(mode is PlannerMode.WEEK)
        self.month_button.setChecked(mode is PlannerMode.MONTH)
        self.services.settings.set_text(MODE_KEY, mode.value)
        self.refresh()

    def go(self, steps: int) -> None:
        self.anchor = shift_anchor(self.mode, self.anchor, steps)
        self.selected_day = period_of(self.mode, self.anchor)[0]
        self.refresh()

    def go_today(self) -> None:
        self.anchor = self.services.store.today()
        self.selected_day = self.anchor
        self.refresh()

    def _per_day_changed(self, value: int) -> None:
        self.services.settings.set_text(PER_DAY_KEY, str(value))
        self.refresh()

    # -- data

    def refresh(self) -> None:
        """Reload the period on the database worker."""
        if self.loading:
            self._reload_again = True
            return
        self.loading = True
        store = self.services.store
        mode, anchor, per_day = self.mode, self.anchor, self.per_day.value()
        self.services.workers.run_db(
            self,
            lambda: load_planner(store, mode, anchor, per_day),
            self._loaded,
            self._load_failed,
        )

    def _loaded(self, data: PlannerData) -> None:
        self.loading = False
        if self._reload_again:
            self._reload_again = False
            self.refresh()
            return
        self.data = data
        self._show_data()
        emit(self.loaded)

    def _load_failed(self, error: BaseException) -> None:
        self.loading = False
        self._reload_again = False
        self.services.workers.show_failure(self, error)

    def _build_grid(self, days: Sequence[date]) -> None:
        for cell in self.cells.values():
            self.grid.removeWidget(cell)
            cell.deleteLater()
        self.cells = {}
        for position, day in enumerate(days):
            cell = DayCell(day)
            row, column = divmod(position, 7)
            self.grid.addWidget(cell, row + 1, column)
            self.cells[day] = cell
            listing = cell.list
            listing.dropped.connect(self._dropped)
            listing.move_requested.connect(self.move_by_working_days)
            listing.reorder_requested.connect(self.reorder)
            listing.unplan_requested.connect(self.confirm_unplan)
            listing.open_requested.connect(
                lambda item_id: emit(self.open_record, "plan_item", item_id)
            )
            listing.item_selected.connect(self._item_selected)
            listing.day_clicked.connect(self._day_clicked)
        rows = (len(days) + 6) // 7
        for row in range(1, 8):
            self.grid.setRowStretch(row, 1 if row <= rows else 0)

    def _show_data(self) -> None:
        data = self.data
        self.period_label.setText(period_title(self.mode, self.anchor))
        if data is None:
            return
        days = [info.day for info in data.days]
        if list(self.cells) != days:
            self._build_grid(days)
        focused = self.focusWidget()
        had_focus = isinstance(focused, DayList)
        for info in data.days:
            self.cells[info.day].show_day(info, data.items_on(info.day), mode=data.mode, data=data)
        self.proposals.set_proposals(data.proposals)
        has_proposals = bool(data.proposals)
        self.proposals.setVisible(has_proposals)
        self.plan_button.setEnabled(has_proposals)
        self.proposals_empty.setVisible(not has_proposals)
        entry = data.item(self.selected_id) if self.selected_id else None
        if entry is not None:
            listing = self.cells[entry.planned_date].list
            listing.blockSignals(True)
            listing.select_id(entry.id)
            listing.blockSignals(False)
            if had_focus:
                listing.setFocus()
        else:
            self.selected_id = None
        self.preparation.show_entry(entry)
        self.route_button.setEnabled(bool(data.items_on(self.selected_day)))

    # -- selection

    def _item_selected(self, item_id: str, day: date) -> None:
        if not item_id:
            return
        self.selected_id = item_id
        self.selected_day = day
        for cell in self.cells.values():
            if cell.day != day:
                blocked = cell.list.blockSignals(True)
                cell.list.setCurrentRow(-1)
                cell.list.clearSelection()
                cell.list.blockSignals(blocked)
        if self.data is not None:
            self.preparation.show_entry(self.data.item(item_id))
            self.route_button.setEnabled(bool(self.data.items_on(day)))

    def _day_clicked(self, day: date) -> None:
        self.selected_day = day
        if self.data is not None:
            self.route_button.setEnabled(bool(self.data.items_on(day)))

    def select_item(self, item_id: str) -> bool:
        """Select a planned visit shown in the grid (and focus its day)."""
        if self.data is None:
            return False
        entry = self.data.item(item_id)
        if entry is None:
            return False
        listing = self.cells[entry.planned_date].list
        listing.setFocus()
        return listing.select_id(item_id)

    # -- changes

    def _run_change(
        self,
        work: Callable[[], Any],
        done: Callable[[Any], None] | None = None,
    ) -> None:
        def succeeded(result: Any) -> None:
            self.message.setText("")
            if done is not None:
                done(result)
            emit(self.changed, result if not isinstance(result, bool) else None)
            self.refresh()
            self._refresh_other_views()

        self.services.workers.run_db(self, work, succeeded, self._change_failed)

    def _change_failed(self, error: BaseException) -> None:
        if isinstance(error, ValidationError):
            self.message.setStyleSheet("color: #c62828;")
            self.message.setText(error.message())
            self.preparation.note_problem(error.message())
            return
        self.services.workers.show_failure(self, error)

    def _follow(self, record: Record) -> None:
        """Keep a planned or moved visit selected, in view."""
        self.selected_id = record.id
        day = record["planned_date"]
        self.selected_day = day
        start, end = period_of(self.mode, self.anchor)
        if not start <= day <= end:
            self.anchor = day

    def _dropped(self, kind: str, row_id: str, day: date) -> None:
        if kind == DEALER_MIME:
            self.plan_on(row_id, day)
        elif kind == PLAN_ITEM_MIME:
            self.move_to(row_id, day)

    def plan_on(self, dealer_id: str, day: date) -> None:
        """Plan a visit to a dealer on a day (last in that day's route)."""
        store = self.services.store
        self._run_change(lambda: plan_dealer(store, dealer_id, day), self._follow)

    def plan_proposal(self, proposal: Proposal) -> None:
        self.plan_on(proposal.dealer.dealer_id, proposal.day)

    def _plan_current_proposal(self) -> None:
        proposal = self.proposals.current_proposal()
        if proposal is not None:
            self.plan_proposal(proposal)

    def move_to(self, item_id: str, day: date) -> None:
        """Reschedule a planned visit to a day (last in that day's route)."""
        store = self.services.store
        self._run_change(lambda: move_item(store, item_id, day), self._follow)

    def move_by_working_days(self, item_id: str, steps: int) -> None:
        if self.data is None:
            return
        entry = self.data.item(item_id)
        if entry is None:
            return
        self.move_to(item_id, add_working_days(entry.planned_date, steps))

    def reorder(self, item_id: str, step: int) -> None:
        store = self.services.store
        self.selected_id = item_id
        self._run_change(lambda: reorder_item(store, item_id, step))

    def confirm_unplan(self, item_id: str) -> None:
        """Ask, then take the visit off the plan."""
        entry = self.data.item(item_id) if self.data is not None else None
        if entry is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            _("Take the visit off the plan"),
            _("Take the visit to {dealer} on {day} off the plan?").format(
                dealer=entry.dealer_name, day=format_day(entry.planned_date)
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setObjectName("planner_unplan_confirm")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(button: int) -> None:
            if button == QMessageBox.StandardButton.Yes:
                self.unplan(item_id)

        box.finished.connect(answered)
        box.open()

    def unplan(self, item_id: str) -> None:
        store = self.services.store
        if self.selected_id == item_id:
            self.selected_id = None
        self._run_change(lambda: unplan_item(store, item_id))

    def save_checklist(self, item_id: str, codes: list[str], appointment: bool) -> None:
        store = self.services.store

        def saved(_record: Record) -> None:
            self.preparation.note_saved(_("Preparation saved."))

        self._run_change(lambda: save_preparation(store, item_id, codes, appointment), saved)

    def save_details(self, item_id: str, values: dict[str, Any]) -> None:
        store = self.services.store

        def saved(_record: Record) -> None:
            self.preparation.binding.load(
                {name: values.get(name) for name in self.preparation.binding.editors}
            )
            self.preparation.note_saved(_("Details saved."))

        def refused(error: BaseException) -> None:
            if isinstance(error, ValidationError):
                unplaced = self.preparation.binding.show_error(error)
                if unplaced:
                    self.preparation.note_problem("\n".join(describe() for describe in unplaced))
                return
            self.services.workers.show_failure(self, error)

        def succeeded(record: Record) -> None:
            saved(record)
            emit(self.changed, record)
            self.refresh()
            self._refresh_other_views()

        self.services.workers.run_db(
            self, lambda: save_details(store, item_id, values), succeeded, refused
        )

    def _refresh_other_views(self) -> None:
        """Today shows the day's route too."""
        window = self.window()
        views = getattr(window, "views", None)
        if isinstance(views, dict):
            for key, view in views.items():
                if key != "planner" and isinstance(view, View):
                    view.refresh()

    # -- printing

    def print_route_pack(self) -> None:
        """Print preview of the selected day's route pack."""
        from fieldrep.ui.print_preview import DocumentKind, DocumentRequest, show_preview

        request = DocumentRequest(
            DocumentKind.ROUTE_PACK, day=self.selected_day, rep=self.services.store.user.user_id
        )
        show_preview(self.services, self, request)

    def print_brief(self, dealer_id: str, plan_item_id: str) -> None:
        from fieldrep.ui.print_preview import DocumentKind, DocumentRequest, show_preview

        request = DocumentRequest(
            DocumentKind.BRIEF, record_id=dealer_id, plan_item_id=plan_item_id
        )
        show_preview(self.services, self, request)

    def cell(self, day: date) -> DayCell:
        return self.cells[day]

    def drop_point(self, day: date) -> QPoint:
        """A point inside a day's list (tests drop there)."""
        return self.cells[day].list.viewport().rect().center()


def create_view(services: AppServices, parent: QWidget | None) -> View:
    """Registry entry: the Planner."""
    return PlannerView(services, parent)


__all__ = [
    "DEALER_MIME",
    "PLAN_ITEM_MIME",
    "DayCell",
    "DayList",
    "PlannerView",
    "PreparationPanel",
    "ProposalList",
    "create_view",
]
