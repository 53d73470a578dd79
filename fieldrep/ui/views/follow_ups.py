"""Follow-ups: every commitment with its owner, due date and status, overdue ones first.

The list comes from :func:`fieldrep.storage.queries.overdue_follow_ups` (most
overdue first) followed by the ones still to come (by due date), filtered to the
rep's own or everyone's, and by status. The selected follow-up shows its details
and its timeline (时间推动表); actions: mark done (the result, and for an item we
owe the dealer, that the dealer was told — invariant 3: refused otherwise, shown
at the field), add a timeline step, escalate to an internal department.

Reminders: :class:`FollowUpReminder` looks on start and every few minutes for
the user's follow-ups due today or overdue that were not yet reminded today,
shows a desktop notification through the system tray and notes ``reminded_at``.
Where there is no system tray (a headless session) it logs one line and stays
quiet.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, QObject, Qt, QTimer, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QApplication,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QStyle,
    QSystemTrayIcon,
    QVBoxLayout,
    QWidget,
)

from fieldrep.i18n import N_, _, ngettext
from fieldrep.storage.enums import FollowUpDirection, FollowUpStatus
from fieldrep.storage.errors import ValidationError
from fieldrep.storage.fields import field_label
from fieldrep.storage.models import FollowUp
from fieldrep.storage.screens.follow_ups import (
    ALL_FILTER,
    OPEN_FILTER,
    OPEN_STATUSES,
    FollowUpLine,
    FollowUpList,
    due_for_reminder,
    load_follow_ups,
    mark_reminded,
)
from fieldrep.ui.common import app_title, format_day, make_bold, with_aside
from fieldrep.ui.dialog_write import write_and_close
from fieldrep.ui.forms import FieldError, date_edit, joined, qdate_to_date
from fieldrep.ui.qtcompat import emit
from fieldrep.ui.rows_model import ROW_ROLE, RowColumn
from fieldrep.ui.uisettings import UiSettings
from fieldrep.ui.views.base import View
from fieldrep.ui.views.today import Panel

if TYPE_CHECKING:
    from fieldrep.storage.services.core import Record
    from fieldrep.ui.services import AppServices

log = logging.getLogger("fieldrep.ui")

REMINDER_INTERVAL_MS = 5 * 60 * 1000
NOTIFICATION_MS = 15000
OVERDUE_COLOUR = QColor("#c62828")
SPLITTER_KEY = "follow_ups_main"


# ---------------------------------------------------------------- dialogs


class _ActionDialog(QDialog):
    """A small form that runs one follow-up service on the worker and shows refusals."""

    completed = Signal(object)

    def __init__(self, services: AppServices, name: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.services = services
        self.form = QFormLayout()
        self.message = FieldError(f"{name}_message")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)
        self.errors: dict[str, FieldError] = {}

    def add_row(self, label: str, widget: QWidget, field_name: str) -> None:
        error = FieldError(field_name)
        self.errors[field_name] = error
        holder = QWidget()
        holder_layout = QVBoxLayout(holder)
        holder_layout.setContentsMargins(0, 0, 0, 0)
        holder_layout.addWidget(widget)
        holder_layout.addWidget(error)
        self.form.addRow(label, holder)

    def work(self) -> Callable[[], Any] | None:
        raise NotImplementedError

    def submit(self) -> None:
        for error in self.errors.values():
            error.show_error(None)
        self.message.show_error(None)
        work = self.work()
        if work is None:
            return
        write_and_close(
            self, self.services.workers, self.buttons, work, self.completed, self._show_refusal
        )

    def _show_refusal(self, error: ValidationError) -> None:
        unplaced = []
        for problem in error.problems:
            target = self.errors.get(problem.field)
            if target is not None:
                target.show_error(problem.message)
            else:
                unplaced.append(problem.message)
        self.message.show_error(joined(unplaced))


class MarkDoneDialog(_ActionDialog):
    """Close a follow-up: its result and, for what we owe, that the dealer was told."""

    def __init__(self, services: AppServices, line: FollowUpLine, parent: QWidget | None) -> None:
        super().__init__(services, "mark_done_dialog", parent)
        self.line = line
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.result_text = QPlainTextEdit()
        self.result_text.setObjectName("done_result")
        self.result_text.setTabChangesFocus(True)
        self.result_text.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 14)
        if line.result:
            self.result_text.setPlainText(line.result)
        self.notified = QCheckBox()
        self.notified.setObjectName("done_notified")
        self.notified.setChecked(line.result_notified_at is not None)
        self.form.addRow(self.intro)
        self.add_row(_(field_label(FollowUp, "result")), self.result_text, "result")
        self.add_row("", self.notified, "result_notified_at")
        self.notified.setVisible(line.direction == FollowUpDirection.WE_OWE)
        self.setWindowTitle(_("Mark the follow-up done"))
        self.intro.setText(line.title)
        self.notified.setText(_("The dealer was told of the result"))
        self.result_text.setPlaceholderText(_("What was done, and what came of it"))

    def work(self) -> Callable[[], Any] | None:
        from fieldrep.storage.services.followups import change_follow_up_status
        from fieldrep.storage.types import utcnow

        store, line = self.services.store, self.line
        result = self.result_text.toPlainText().strip() or None
        notified = (
            (line.result_notified_at or utcnow())
            if self.notified.isChecked() and self.notified.isVisibleTo(self)
            else None
        )
        return lambda: change_follow_up_status(
            store, line.id, FollowUpStatus.DONE, result=result, result_notified_at=notified
        )


class StepDialog(_ActionDialog):
    """Add a milestone to a follow-up's timeline."""

    def __init__(
        self, services: AppServices, line: FollowUpLine, today: date, parent: QWidget | None
    ) -> None:
        super().__init__(services, "step_dialog", parent)
        self.line = line
        self.description = QLineEdit()
        self.description.setObjectName("step_description")
        self.due = date_edit(max(today, line.due_on))
        self.due.setObjectName("step_due")
        self.add_row(_(field_label("FollowUpStep", "description")), self.description, "description")
        self.add_row(_(field_label("FollowUpStep", "due_on")), self.due, "due_on")
        self.setWindowTitle(_("Add a timeline step"))
        self.description.setPlaceholderText(_("e.g. phone to confirm the documents arrived"))

    def work(self) -> Callable[[], Any] | None:
        from fieldrep.storage.fields import REASON_REQUIRED, problem
        from fieldrep.storage.services.followups import add_step

        text = self.description.text().strip()
        if not text:
            self.errors["description"].show_error(
                problem("FollowUpStep", "description", REASON_REQUIRED).message
            )
            return None
        store, follow_up_id, day = self.services.store, self.line.id, qdate_to_date(self.due.date())
        return lambda: add_step(store, follow_up_id, text, day)


class EscalateDialog(_ActionDialog):
    """Escalate a blocked follow-up to an internal department."""

    def __init__(self, services: AppServices, line: FollowUpLine, parent: QWidget | None) -> None:
        super().__init__(services, "escalate_dialog", parent)
        self.line = line
        self.department = QLineEdit()
        self.department.setObjectName("escalate_department")
        self.department.setText(line.counterpart_dept or "")
        self.note = QLineEdit()
        self.note.setObjectName("escalate_note")
        self.add_row(_(field_label(FollowUp, "counterpart_dept")), self.department, "department")
        self.add_row(_(field_label("FollowUpStep", "note")), self.note, "note")
        self.setWindowTitle(_("Escalate the follow-up"))
        self.department.setPlaceholderText(_("e.g. customer service, finance, product"))

    def work(self) -> Callable[[], Any] | None:
        from fieldrep.storage.fields import REASON_REQUIRED, problem
        from fieldrep.storage.services.followups import escalate_follow_up

        department = self.department.text().strip()
        if not department:
            self.errors["department"].show_error(
                problem(FollowUp, "counterpart_dept", REASON_REQUIRED).message
            )
            return None
        note = self.note.text().strip() or None
        store, follow_up_id = self.services.store, self.line.id
        return lambda: escalate_follow_up(store, follow_up_id, department, note=note)


# ---------------------------------------------------------------- the view


def _overdue_text(line: FollowUpLine) -> str:
    if line.days_overdue <= 0:
        return ""
    return ngettext("{days} day", "{days} days", line.days_overdue).format(days=line.days_overdue)


COLUMNS = (
    RowColumn(N_("Due"), lambda line: format_day(line.due_on)),
    RowColumn(
        N_("Overdue"),
        _overdue_text,
        align_right=True,
        colour=lambda line: OVERDUE_COLOUR if line.days_overdue > 0 else None,
    ),
    RowColumn(
        N_("Follow-up"), lambda line: line.title, tooltip=lambda line: line.title, stretch=True
    ),
    RowColumn(N_("Dealer"), lambda line: line.dealer_name or "", width=150),
    RowColumn(N_("Owner"), lambda line: line.owner_name),
    RowColumn(N_("Status"), lambda line: line.status.label),
)


class FollowUpsView(View):
    """The Follow-ups view: list, filters, details with the timeline, actions."""

    data_loaded = Signal()
    changed = Signal()

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.data: FollowUpList | None = None
        self.pending_select: str | None = None
        self.steps: list[Record] = []
        self.steps_of: str | None = None  # the follow-up whose steps are in self.steps

        self.heading = QLabel()
        self.heading.setObjectName("follow_ups_heading")
        make_bold(self.heading, 1.3)
        self.owner_filter = QComboBox()
        self.owner_filter.setObjectName("follow_ups_owner")
        self.owner_filter.addItem("", True)
        self.owner_filter.addItem("", False)
        self.status_filter = QComboBox()
        self.status_filter.setObjectName("follow_ups_status")
        self.status_filter.addItem("", OPEN_FILTER)
        for status in FollowUpStatus:
            self.status_filter.addItem(status.label, status.code)
        self.status_filter.addItem("", ALL_FILTER)
        bar = QHBoxLayout()
        bar.addWidget(self.heading, 1)
        bar.addWidget(self.owner_filter)
        bar.addWidget(self.status_filter)

        self.panel = Panel("follow_ups", COLUMNS, N_("No follow-ups match."))
        self.panel.title.hide()
        self.panel.table.row_activated.connect(lambda _line: self.mark_done())
        selection = self.panel.table.selectionModel()
        selection.currentRowChanged.connect(lambda current, _previous: self._row_selected(current))

        # Details
        self.detail_title = QLabel()
        self.detail_title.setObjectName("follow_up_title")
        self.detail_title.setWordWrap(True)
        make_bold(self.detail_title)
        self.detail_labels: dict[str, QLabel] = {}
        self.detail_values: dict[str, QLabel] = {}
        details = QGridLayout()
        for row, name in enumerate(
            (
                "dealer_id",
                "owner_user_id",
                "due_on",
                "status",
                "direction",
                "source_type",
                "verify_by",
                "counterpart_dept",
                "details",
                "result",
                "result_notified_at",
            )
        ):
            label = QLabel()
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            value = QLabel()
            value.setObjectName(f"follow_up_{name}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            self.detail_labels[name] = label
            self.detail_values[name] = value
            details.addWidget(label, row, 0)
            details.addWidget(value, row, 1)
        details.setColumnStretch(1, 1)
        self.timeline_label = QLabel()
        make_bold(self.timeline_label)
        self.timeline = QListWidget()
        self.timeline.setObjectName("follow_up_timeline")
        self.timeline.setWordWrap(True)
        self.done_button = QPushButton()
        self.done_button.setObjectName("follow_up_done")
        self.done_button.clicked.connect(self.mark_done)
        self.step_button = QPushButton()
        self.step_button.setObjectName("follow_up_step")
        self.step_button.clicked.connect(self.add_step)
        self.escalate_button = QPushButton()
        self.escalate_button.setObjectName("follow_up_escalate")
        self.escalate_button.clicked.connect(self.escalate)
        self.dealer_button = QPushButton()
        self.dealer_button.setObjectName("follow_up_dealer")
        self.dealer_button.clicked.connect(self.open_dealer)
        actions = QGridLayout()
        actions.addWidget(self.done_button, 0, 0)
        actions.addWidget(self.step_button, 0, 1)
        actions.addWidget(self.escalate_button, 1, 0)
        actions.addWidget(self.dealer_button, 1, 1)
        detail = QWidget()
        detail_layout = QVBoxLayout(detail)
        detail_layout.setContentsMargins(8, 0, 0, 0)
        detail_layout.addWidget(self.detail_title)
        detail_layout.addLayout(details)
        detail_layout.addLayout(actions)
        detail_layout.addWidget(self.timeline_label)
        detail_layout.addWidget(self.timeline, 1)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName(SPLITTER_KEY)
        self.splitter.addWidget(self.panel)
        self.splitter.addWidget(detail)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([780, 420])

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.addLayout(bar)
        layout.addWidget(self.splitter, 1)
        self.owner_filter.currentIndexChanged.connect(lambda _i: self.refresh())
        self.status_filter.currentIndexChanged.connect(lambda _i: self.refresh())
        self.retranslate()
        self._show_line(None)
        self.refresh()

    # -- data

    def refresh(self) -> None:
        store = self.services.store
        mine = bool(self.owner_filter.currentData())
        status = str(self.status_filter.currentData())
        self.services.workers.run_db(
            self, lambda: load_follow_ups(store, mine=mine, status=status), self.show_data
        )

    def show_data(self, data: FollowUpList) -> None:
        current = self.current_line()
        selected = self.pending_select or (current.id if current is not None else None)
        self.data = data
        self.panel.set_rows(data.lines)
        self.retranslate()
        ids = [line.id for line in data.lines]
        if selected in ids:
            self.select(selected or "")
            self.pending_select = None
        elif data.lines:
            self.panel.table.setCurrentIndex(self.panel.model.index(0, 0))
        else:
            self._show_line(None)
        if self.pending_select and self.pending_select not in ids:
            # The follow-up asked for is hidden by the filters: show everyone's, all statuses.
            if (
                self.owner_filter.currentIndex() != 1
                or self.status_filter.currentData() != ALL_FILTER
            ):
                blocked = [w.blockSignals(True) for w in (self.owner_filter, self.status_filter)]
                self.owner_filter.setCurrentIndex(1)
                self.status_filter.setCurrentIndex(self.status_filter.findData(ALL_FILTER))
                for widget, was in zip(
                    (self.owner_filter, self.status_filter), blocked, strict=True
                ):
                    widget.blockSignals(was)
                self.refresh()
                return
            self.pending_select = None
        emit(self.data_loaded)

    def current_line(self) -> FollowUpLine | None:
        index = self.panel.table.currentIndex()
        if not index.isValid():
            return None
        line = index.data(ROW_ROLE)
        return line if isinstance(line, FollowUpLine) else None

    def select(self, follow_up_id: str) -> bool:
        for row, line in enumerate(self.panel.model.rows()):
            if line.id == follow_up_id:
                self.panel.table.setCurrentIndex(self.panel.model.index(row, 0))
                self.panel.table.scrollTo(self.panel.model.index(row, 0))
                return True
        return False

    def _row_selected(self, index: QModelIndex) -> None:
        line = index.data(ROW_ROLE) if index.isValid() else None
        self._show_line(line if isinstance(line, FollowUpLine) else None)

    def _show_line(self, line: FollowUpLine | None) -> None:
        self._fill_details(line)
        self.timeline.clear()
        if line is None:
            return
        store, follow_up_id = self.services.store, line.id

        def load_steps() -> list[Record]:
            from fieldrep.storage.services.followups import follow_up_timeline

            return follow_up_timeline(store, follow_up_id)

        self.services.workers.run_db(
            self, load_steps, lambda steps: self._show_steps(follow_up_id, steps)
        )

    def _fill_details(self, line: FollowUpLine | None) -> None:
        for button in (self.done_button, self.step_button, self.escalate_button):
            button.setEnabled(line is not None and line.status in OPEN_STATUSES)
        self.dealer_button.setEnabled(line is not None and line.dealer_id is not None)
        if line is None:
            self.detail_title.setText(_("Select a follow-up to see its details."))
            for value in self.detail_values.values():
                value.setText("")
            return
        self.detail_title.setText(line.title)
        notified = line.result_notified_at
        values = {
            "dealer_id": line.dealer_name or "",
            "owner_user_id": line.owner_name,
            "due_on": format_day(line.due_on)
            + (_(" ({overdue})").format(overdue=_overdue_text(line)) if line.days_overdue else ""),
            "status": line.status.label + (" · " + _("escalated") if line.escalated else ""),
            "direction": line.direction.label,
            "source_type": line.source_type.label,
            "verify_by": format_day(line.verify_by),
            "counterpart_dept": line.counterpart_dept or "",
            "details": line.details or "",
            "result": line.result or "",
            "result_notified_at": notified.astimezone().strftime("%Y-%m-%d %H:%M")
            if notified
            else "",
        }
        for name, text in values.items():
            self.detail_values[name].setText(text)
            self.detail_values[name].setStyleSheet(
                f"color: {OVERDUE_COLOUR.name()};" if name == "due_on" and line.days_overdue else ""
            )

    def _show_steps(self, follow_up_id: str, steps: list[Record]) -> None:
        line = self.current_line()
        if line is None or line.id != follow_up_id:
            return
        self.steps = steps
        self.steps_of = follow_up_id
        self._render_steps()

    def _render_steps(self) -> None:
        """The timeline's lines in the current language."""
        steps = self.steps
        self.timeline.clear()
        for step in steps:
            done = step["done_at"]
            mark = "✔" if done else "○"
            when = (
                done.astimezone().strftime("%Y-%m-%d")
                if done
                else _("due {day}").format(day=format_day(step["due_on"]))
            )
            text = f"{mark} {when}  {step['description']}"
            if step["note"]:
                text += f"\n    {step['note']}"
            self.timeline.addItem(text)
        if not steps:
            self.timeline.addItem(_("No steps yet."))

    # -- actions

    def _run_dialog(self, dialog: _ActionDialog) -> None:
        dialog.completed.connect(lambda _result: self._changed())
        dialog.open()

    def _changed(self) -> None:
        emit(self.changed)
        window = self.window()
        views = getattr(window, "views", None)
        if isinstance(views, dict):
            for view in views.values():
                view.refresh()
        else:
            self.refresh()

    def mark_done(self) -> None:
        line = self.current_line()
        if line is not None and line.status in OPEN_STATUSES:
            self._run_dialog(MarkDoneDialog(self.services, line, self))

    def add_step(self) -> None:
        line = self.current_line()
        if line is not None:
            today = self.data.today if self.data else self.services.store.today()
            self._run_dialog(StepDialog(self.services, line, today, self))

    def escalate(self) -> None:
        line = self.current_line()
        if line is not None:
            self._run_dialog(EscalateDialog(self.services, line, self))

    def open_dealer(self) -> None:
        line = self.current_line()
        if line is not None and line.dealer_id:
            emit(self.open_record, "dealer", line.dealer_id)

    def current_dealer_id(self) -> str | None:
        line = self.current_line()
        return line.dealer_id if line is not None else None

    # -- View

    def activate(self, argument: str = "") -> None:
        if argument and not self.select(argument):
            self.pending_select = argument
            self.refresh()

    def retranslate(self) -> None:
        data = self.data
        if data is None:
            self.heading.setText(_("Follow-ups"))
        else:
            text = ngettext(
                "Follow-ups: {count} listed", "Follow-ups: {count} listed", len(data.lines)
            ).format(count=len(data.lines))
            if data.overdue:
                text += "  " + ngettext(
                    "({count} overdue)", "({count} overdue)", data.overdue
                ).format(count=data.overdue)
            self.heading.setText(text)
        self.owner_filter.setItemText(0, _("My follow-ups"))
        self.owner_filter.setItemText(1, _("Everyone's follow-ups"))
        self.status_filter.setItemText(0, _("Not done yet"))
        for position, status in enumerate(FollowUpStatus, start=1):
            self.status_filter.setItemText(position, status.label)
        self.status_filter.setItemText(self.status_filter.count() - 1, _("Any status"))
        self.panel.retranslate()
        for name, label in self.detail_labels.items():
            label.setText(_(field_label(FollowUp, name)))
        self.detail_labels["dealer_id"].setText(_("Dealer"))
        self.timeline_label.setText(_("Timeline"))
        self.done_button.setText(_("Mark done…"))
        self.step_button.setText(_("Add a step…"))
        self.escalate_button.setText(_("Escalate…"))
        self.dealer_button.setText(_("Open the dealer card"))
        line = self.current_line()
        self._fill_details(line)
        if line is not None and line.id == self.steps_of:
            self._render_steps()

    def save_state(self, settings: UiSettings) -> None:
        settings.set_bytes(settings.splitter_key(SPLITTER_KEY), self.splitter.saveState())

    def restore_state(self, settings: UiSettings) -> None:
        state = settings.bytes(settings.splitter_key(SPLITTER_KEY))
        if state is not None:
            self.splitter.restoreState(state)


# ---------------------------------------------------------------- reminders


Notifier = Callable[[str, str], None]


class FollowUpReminder(QObject):
    """Looks for follow-ups falling due and tells the user through the system tray."""

    reminded = Signal(list)  # the FollowUpLines notified

    def __init__(
        self,
        services: AppServices,
        window: QMainWindow,
        notify: Notifier | None = None,
        interval_ms: int = REMINDER_INTERVAL_MS,
    ) -> None:
        super().__init__(window)
        self.setObjectName("follow_up_reminder")
        self.services = services
        self.window = window
        self.tray: QSystemTrayIcon | None = None
        self.notify = notify or self._tray_message
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self.check)

    def start(self) -> None:
        """Check now and then every few minutes."""
        self.timer.start()
        self.check()

    def check(self) -> None:
        store = self.services.store
        self.services.workers.run_db(
            self,
            lambda: due_for_reminder(store),
            self._notify_due,
            lambda error: log.warning("follow-up reminder check failed: %s", error),
        )

    def _notify_due(self, lines: list[FollowUpLine]) -> None:
        if not lines:
            return
        title = ngettext(
            "{count} follow-up is due", "{count} follow-ups are due", len(lines)
        ).format(count=len(lines))
        shown = [with_aside(line.title, line.dealer_name) for line in lines[:3]]
        message = "\n".join(shown)
        if len(lines) > 3:
            message += "\n" + _("and {count} more").format(count=len(lines) - 3)
        self.notify(title, message)
        emit(self.reminded, lines)
        store, ids = self.services.store, [line.id for line in lines]
        self.services.workers.run_db(
            self,
            lambda: mark_reminded(store, ids),
            lambda _none: None,
            lambda error: log.warning("could not note the reminder: %s", error),
        )

    def _tray_message(self, title: str, message: str) -> None:
        if self.tray is None:
            app = QApplication.instance()
            style = app.style() if isinstance(app, QApplication) else None
            icon = self.window.windowIcon()
            if icon.isNull() and style is not None:
                icon = style.standardIcon(QStyle.StandardPixmap.SP_MessageBoxInformation)
            self.tray = QSystemTrayIcon(icon, self)
            self.tray.setToolTip(app_title())
            self.tray.messageClicked.connect(self._show_follow_ups)
            self.tray.show()
        self.tray.showMessage(
            title, message, QSystemTrayIcon.MessageIcon.Information, NOTIFICATION_MS
        )

    def _show_follow_ups(self) -> None:
        show = getattr(self.window, "show_view", None)
        if callable(show):
            show("follow_ups")
        bring = getattr(self.window, "bring_to_front", None)
        if callable(bring):
            bring()


def start_follow_up_reminders(
    services: AppServices, window: QMainWindow
) -> FollowUpReminder | None:
    """Start the due-date reminders, unless this session has no system tray."""
    if not QSystemTrayIcon.isSystemTrayAvailable():
        log.info("no system tray: follow-up reminders are shown in the Follow-ups view only")
        return None
    reminder = FollowUpReminder(services, window)
    reminder.start()
    return reminder


# ---------------------------------------------------------------- registry entries


def create_view(services: AppServices, parent: QWidget | None = None) -> FollowUpsView:
    """The Follow-ups view (registry entry point)."""
    return FollowUpsView(services, parent)


def open_record(services: AppServices, window: QMainWindow, record_id: str) -> None:
    """Registry entry: show a follow-up in the Follow-ups view."""
    show = getattr(window, "show_view", None)
    if callable(show):
        show("follow_ups", record_id)


__all__ = [
    "FollowUpLine",
    "FollowUpList",
    "FollowUpReminder",
    "FollowUpsView",
    "create_view",
    "due_for_reminder",
    "load_follow_ups",
    "open_record",
    "start_follow_up_reminders",
]
