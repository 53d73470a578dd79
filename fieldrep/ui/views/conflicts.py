"""The conflict inbox: fields a colleague and I changed at the same time, one by one.

Each open conflict (:func:`fieldrep.sync.api.list_conflicts`) is one field of one
record: the value both started from (base), mine, and theirs (the value on the
server), with who wrote each and when the server saw the clash. One click keeps
mine or takes theirs; or I type the right value, checked at the field as I
type it (:func:`fieldrep.storage.fields.parse_field_value`, through the shared
:class:`~fieldrep.ui.forms.FieldEditor`). A resolution is an ordinary change
that syncs (:func:`fieldrep.sync.api.resolve_conflict`), run on the database
worker.

A second tab lists the changes the server refused (a rep changing a field only
a manager may change, an edit of a finalised record): SYNC.md keeps them
visible, never silently dropped (:func:`fieldrep.sync.api.list_rejected`). My
copy already shows the server's value again; the rep copies their value (to
ask a manager) and dismisses the line once seen
(:func:`fieldrep.sync.api.dismiss_rejected`).
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor, QGuiApplication
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fieldrep.i18n import N_, _, ngettext
from fieldrep.storage.enums import LabelledEnum
from fieldrep.storage.errors import ValidationError
from fieldrep.ui.common import make_bold
from fieldrep.ui.forms import FieldEditor, value_text
from fieldrep.ui.qtcompat import emit
from fieldrep.ui.uisettings import UiSettings
from fieldrep.ui.views.base import View

if TYPE_CHECKING:
    from fieldrep.sync.api import ConflictView, RefusedField, RejectedView
    from fieldrep.ui.services import AppServices

log = logging.getLogger("fieldrep.ui")

CONFLICT_ROLE = int(Qt.ItemDataRole.UserRole) + 20
REJECTED_ROLE = int(Qt.ItemDataRole.UserRole) + 21
SPLITTER = "conflicts_main"
MINE_COLOUR = "#1565c0"
THEIRS_COLOUR = "#6a1b9a"

KIND_EXPLANATIONS = {
    "field": N_("You and {who} changed this field at the same time."),
    "delete_edit": N_(
        "{who} deleted this record while you were editing it. Keeping your value "
        "brings the record back."
    ),
    "append_only": N_(
        "This field can no longer be changed (the record is final), so your edit was "
        "kept here for a decision."
    ),
}


def _model(table: str) -> Any:
    from fieldrep.storage.models import Base

    for mapper in Base.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == table:
            return mapper.class_
    return None


def conflict_value(table: str, field: str, wire: Any) -> Any:
    """A conflict's wire value as the column's Python value (enum members, dates ...)."""
    from fieldrep.sync.protocol import TABLES, from_wire

    if wire is None:
        return None
    spec = TABLES.get(table)
    if spec is None or field not in spec.fields:
        return wire
    try:
        value = from_wire(spec.fields[field].wire_type, wire)
    except ValueError:
        return wire
    model = _model(table)
    if model is not None and field in model.__table__.columns:
        enum_class = getattr(model.__table__.columns[field].type, "enum_class", None)
        if enum_class is not None:
            try:
                return enum_class(value)
            except ValueError:
                return value
    return value


def shown_value(value: Any) -> str:
    """A value as the inbox shows it, in the current language."""
    if value is None or value == "" or value == []:
        return _("(empty)")
    if isinstance(value, LabelledEnum):
        return value.label
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    return value_text(value)


def _moment(value: datetime | None) -> str:
    return "" if value is None else value.astimezone().strftime("%Y-%m-%d %H:%M")


def load_conflicts(engine: Any) -> list[ConflictView]:
    """The open conflicts, oldest first (database worker)."""
    from fieldrep.sync.api import list_conflicts

    return list_conflicts(engine)


def load_inbox(engine: Any) -> tuple[list[ConflictView], list[RejectedView]]:
    """The open conflicts and the refused changes, oldest first (database worker)."""
    from fieldrep.sync.api import list_conflicts, list_rejected

    return list_conflicts(engine), list_rejected(engine)


def current_label(table: str, field: str, loaded: str) -> str:
    """A field's label in the current language; ``loaded`` is the worker's (maybe older)."""
    from fieldrep.storage.fields import field_label

    try:
        return _(field_label(_model(table) or table, field))
    except KeyError:
        return loaded


def refused_label(change: RejectedView, field: RefusedField) -> str:
    """A refused field's label in the current language (the list may outlive a switch)."""
    return current_label(change.table, field.field, field.label)


def conflict_label(conflict: ConflictView) -> str:
    """A conflict's field label in the current language (the inbox may outlive a switch)."""
    return current_label(conflict.table, conflict.field, conflict.field_label)


def refused_values(change: RejectedView, which: str) -> str:
    """My values (``mine``) or the values my copy shows now (``now``) of a refused change.

    One field shows its value alone; several are "field: value" joined with "; ".
    """
    if change.kind == "delete":
        return _("(deleted)") if which == "mine" else _("(kept)")
    if change.created and which == "now":
        return _("(not on the server)")
    parts = []
    for field in change.fields:
        wire = field.mine if which == "mine" else field.now
        text = shown_value(conflict_value(change.table, field.field, wire))
        parts.append(text if len(change.fields) == 1 else f"{refused_label(change, field)}: {text}")
    return "; ".join(parts)


def refused_fields(change: RejectedView) -> str:
    """The fields of a refused change, as the rep knows them."""
    if change.kind == "delete":
        return _("Deleting the record")
    if change.created and len(change.fields) > 1:
        return _("New record")
    return ", ".join(refused_label(change, field) for field in change.fields)


class RejectedPanel(QWidget):
    """The changes the server refused: what I wanted, what my copy shows now, and why."""

    dismiss_requested = Signal(list)  # op ids

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("rejected_panel")
        self.changes: list[RejectedView] = []
        self.intro = QLabel()
        self.intro.setObjectName("rejected_intro")
        self.intro.setWordWrap(True)
        self.list = QTreeWidget()
        self.list.setObjectName("rejected_list")
        self.list.setRootIsDecorated(False)
        self.list.setAlternatingRowColors(True)
        self.list.setWordWrap(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.list.setColumnCount(6)
        header = self.list.header()
        header.setStretchLastSection(True)
        for column in range(5):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.list.itemSelectionChanged.connect(self._selection_changed)
        self.empty = QLabel()
        self.empty.setObjectName("rejected_empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: palette(mid);")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.list)
        self.stack.addWidget(self.empty)
        self.copy_button = QPushButton()
        self.copy_button.setObjectName("rejected_copy")
        self.copy_button.clicked.connect(self.copy_mine)
        self.dismiss_button = QPushButton()
        self.dismiss_button.setObjectName("rejected_dismiss")
        self.dismiss_button.clicked.connect(self.dismiss_selected)
        self.note = QLabel()
        self.note.setObjectName("rejected_note")
        self.note.setStyleSheet("color: palette(mid);")
        buttons = QHBoxLayout()
        buttons.addWidget(self.note, 1)
        buttons.addWidget(self.copy_button)
        buttons.addWidget(self.dismiss_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.stack, 1)
        layout.addLayout(buttons)
        self.retranslate()

    def retranslate(self) -> None:
        self.intro.setText(
            _(
                "The server refused these changes, for example a field only a manager may "
                "change. Your copy shows the server's value again; a new record the server "
                "refused leaves your copy when you dismiss it. Copy your value to ask "
                "someone who may change it, and dismiss a line once you have seen it."
            )
        )
        self.list.setHeaderLabels(
            [_("Record"), _("Field"), _("My value"), _("Now"), _("When"), _("Reason")]
        )
        self.empty.setText(_("No refused changes. The server took everything you sent."))
        self.copy_button.setText(_("Copy my value"))
        self.copy_button.setToolTip(_("Copy the value you had entered to the clipboard"))
        self.dismiss_button.setText(_("Dismiss"))
        self.dismiss_button.setToolTip(
            _("I have seen it: remove the line (your copy already shows the server's value)")
        )
        self.show_changes(self.changes)

    def show_changes(self, changes: list[RejectedView]) -> None:
        self.changes = changes
        selected = set(self.selected_ids())
        blocked = self.list.blockSignals(True)
        self.list.clear()
        for change in changes:
            item = QTreeWidgetItem(
                [
                    change.record_label,
                    refused_fields(change),
                    refused_values(change, "mine"),
                    refused_values(change, "now"),
                    _moment(change.created_at),
                    change.reason,
                ]
            )
            item.setData(0, REJECTED_ROLE, change.op_id)
            item.setToolTip(5, change.reason)
            item.setForeground(2, QColor(MINE_COLOUR))
            self.list.addTopLevelItem(item)
            item.setSelected(change.op_id in selected)
        self.list.blockSignals(blocked)
        if changes and not self.list.selectedItems():
            first = self.list.topLevelItem(0)
            if first is not None:
                self.list.setCurrentItem(first)
        self.stack.setCurrentWidget(self.list if changes else self.empty)
        self._selection_changed()

    def selected_ids(self) -> list[str]:
        return [str(item.data(0, REJECTED_ROLE)) for item in self.list.selectedItems()]

    def select(self, op_id: str) -> bool:
        for row in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(row)
            if item is not None and item.data(0, REJECTED_ROLE) == op_id:
                self.list.setCurrentItem(item)
                return True
        return False

    def _selection_changed(self) -> None:
        chosen = self.selected_ids()
        self.dismiss_button.setEnabled(bool(chosen))
        mine = [c for c in self.changes if c.op_id in chosen and c.kind != "delete" and c.fields]
        self.copy_button.setEnabled(bool(mine))

    def copy_mine(self) -> None:
        """Put my values of the selected changes on the clipboard, one line each."""
        chosen = set(self.selected_ids())
        lines = [
            _("{record}, {field}: {value}").format(
                record=change.record_label,
                field=refused_fields(change),
                value=refused_values(change, "mine"),
            )
            if len(chosen) > 1
            else refused_values(change, "mine")
            for change in self.changes
            if change.op_id in chosen and change.kind != "delete" and change.fields
        ]
        if lines:
            QGuiApplication.clipboard().setText("\n".join(lines))
            self.note.setText(_("Copied."))

    def dismiss_selected(self) -> None:
        chosen = self.selected_ids()
        if chosen:
            self.dismiss_button.setEnabled(False)
            self.note.setText("")
            emit(self.dismiss_requested, chosen)


class ConflictDetail(QWidget):
    """One conflict: base, mine and theirs side by side; keep, take, or type a value."""

    resolve_requested = Signal(str, str, object)  # conflict id, choice, typed value

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("conflict_detail")
        self.conflict: ConflictView | None = None
        self.editor: FieldEditor | None = None
        self.heading = QLabel()
        self.heading.setObjectName("conflict_heading")
        self.heading.setWordWrap(True)
        make_bold(self.heading, 1.2)
        self.explanation = QLabel()
        self.explanation.setObjectName("conflict_explanation")
        self.explanation.setWordWrap(True)

        self.values_box = QGroupBox()
        self.values_box.setObjectName("conflict_values")
        grid = QGridLayout(self.values_box)
        grid.setColumnStretch(1, 1)
        self.row_titles: dict[str, QLabel] = {}
        self.row_values: dict[str, QLabel] = {}
        self.row_sources: dict[str, QLabel] = {}
        for row, name in enumerate(("base", "mine", "theirs")):
            title = QLabel()
            title.setObjectName(f"conflict_{name}_title")
            value = QLabel()
            value.setObjectName(f"conflict_{name}")
            value.setWordWrap(True)
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            source = QLabel()
            source.setObjectName(f"conflict_{name}_source")
            source.setStyleSheet("color: palette(mid);")
            source.setWordWrap(True)
            grid.addWidget(title, row, 0, Qt.AlignmentFlag.AlignTop)
            grid.addWidget(value, row, 1)
            grid.addWidget(source, row, 2, Qt.AlignmentFlag.AlignTop)
            self.row_titles[name] = title
            self.row_values[name] = value
            self.row_sources[name] = source
        self.row_values["mine"].setStyleSheet(f"color: {MINE_COLOUR}; font-weight: bold;")
        self.row_values["theirs"].setStyleSheet(f"color: {THEIRS_COLOUR}; font-weight: bold;")

        self.keep_mine = QPushButton()
        self.keep_mine.setObjectName("conflict_keep_mine")
        self.keep_mine.clicked.connect(lambda: self._resolve("mine"))
        self.take_theirs = QPushButton()
        self.take_theirs.setObjectName("conflict_take_theirs")
        self.take_theirs.clicked.connect(lambda: self._resolve("theirs"))
        buttons = QHBoxLayout()
        buttons.addWidget(self.keep_mine)
        buttons.addWidget(self.take_theirs)
        buttons.addStretch(1)

        self.edit_box = QGroupBox()
        self.edit_box.setObjectName("conflict_edit")
        self.edit_layout = QVBoxLayout(self.edit_box)
        self.edit_hint = QLabel()
        self.edit_hint.setObjectName("conflict_edit_hint")
        self.edit_hint.setWordWrap(True)
        self.edit_layout.addWidget(self.edit_hint)
        self.use_value = QPushButton()
        self.use_value.setObjectName("conflict_use_value")
        self.use_value.clicked.connect(self._use_typed)
        use_row = QHBoxLayout()
        use_row.addStretch(1)
        use_row.addWidget(self.use_value)
        self.edit_layout.addLayout(use_row)

        self.problem = QLabel()
        self.problem.setObjectName("conflict_problem")
        self.problem.setWordWrap(True)
        self.problem.setStyleSheet("color: #c62828;")

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.explanation)
        layout.addWidget(self.values_box)
        layout.addLayout(buttons)
        layout.addWidget(self.edit_box)
        layout.addWidget(self.problem)
        layout.addStretch(1)
        self.retranslate()

    def retranslate(self) -> None:
        self.values_box.setTitle(_("The three values"))
        self.row_titles["base"].setText(_("Before both changes:"))
        self.row_titles["mine"].setText(_("Mine:"))
        self.row_titles["theirs"].setText(_("Theirs (on the server):"))
        self.keep_mine.setText(_("Keep mine"))
        self.take_theirs.setText(_("Take theirs"))
        self.edit_box.setTitle(_("Or enter the right value"))
        self.use_value.setText(_("Use this value"))
        if self.editor is not None:
            self.editor.retranslate()
        self._describe()

    def show_conflict(self, conflict: ConflictView | None) -> None:
        self.conflict = conflict
        self.problem.setText("")
        if self.editor is not None:
            self.edit_layout.removeWidget(self.editor)
            self.editor.deleteLater()
            self.editor = None
        if conflict is None:
            return
        model = _model(conflict.table)
        editable = model is not None and conflict.field in model.__table__.columns
        if editable:
            self.editor = FieldEditor(model, conflict.field, long=self._is_long(conflict))
            self.editor.setObjectName("conflict_editor")
            self.editor.load(conflict_value(conflict.table, conflict.field, conflict.mine))
            self.editor.changed.connect(lambda: self.problem.setText(""))
            self.edit_layout.insertWidget(1, self.editor)
            self.editor.show()  # at once, not when the event loop next runs
        self.edit_box.setVisible(editable)
        # A resolution just sent disabled all three (see _busy); this conflict is new.
        for button in (self.keep_mine, self.take_theirs, self.use_value):
            button.setEnabled(True)
        self._describe()

    @staticmethod
    def _is_long(conflict: ConflictView) -> bool:
        texts = [conflict.mine, conflict.theirs, conflict.base]
        return any(isinstance(text, str) and (len(text) > 60 or "\n" in text) for text in texts)

    def _describe(self) -> None:
        conflict = self.conflict
        if conflict is None:
            return
        self.heading.setText(
            _("{record}: {field}").format(
                record=conflict.record_label, field=conflict_label(conflict)
            )
        )
        who = conflict.theirs_author or _("A colleague")
        explanation = KIND_EXPLANATIONS.get(conflict.kind, KIND_EXPLANATIONS["field"])
        self.explanation.setText(_(explanation).format(who=who))
        for name, wire in (
            ("base", conflict.base),
            ("mine", conflict.mine),
            ("theirs", conflict.theirs),
        ):
            self.row_values[name].setText(
                shown_value(conflict_value(conflict.table, conflict.field, wire))
            )
        self.row_sources["base"].setText("")
        self.row_sources["mine"].setText(_("by {who}").format(who=conflict.author))
        when = _moment(conflict.created_at)
        self.row_sources["theirs"].setText(
            _("by {who}, {when}").format(who=who, when=when)
            if when
            else _("by {who}").format(who=who)
        )
        if self.editor is not None:
            hint = _("Type the value to keep; it is checked as for any edit of {field}.")
            self.edit_hint.setText(hint.format(field=conflict_label(conflict)))

    def _resolve(self, choice: str) -> None:
        if self.conflict is not None:
            self._busy()
            emit(self.resolve_requested, self.conflict.id, choice, None)

    def _use_typed(self) -> None:
        if self.conflict is None or self.editor is None:
            return
        if not self.editor.validate():
            return  # the reason is shown under the field
        self._busy()
        emit(self.resolve_requested, self.conflict.id, "value", self.editor.text())

    def _busy(self) -> None:
        for button in (self.keep_mine, self.take_theirs, self.use_value):
            button.setEnabled(False)

    def show_refusal(self, error: ValidationError) -> None:
        """A refused value: under the field when it is this field, else below."""
        for button in (self.keep_mine, self.take_theirs, self.use_value):
            button.setEnabled(True)
        if self.editor is not None and any(p.field == self.editor.name for p in error.problems):
            self.editor.show_problem(error.message)
            return
        self.problem.setText(error.message())


class ConflictsView(View):
    """The conflict inbox: the list on the left, the selected conflict on the right."""

    loaded = Signal()
    resolved = Signal(str, str)  # conflict id, choice
    dismissed = Signal(list)  # op ids of refused changes the rep has seen

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.conflicts: list[ConflictView] = []
        self.rejected: list[RejectedView] = []
        self.loading = False
        self._select_after: str | None = None
        # On opening, the refused changes' tab comes forward when there is nothing else.
        self._open_rejected_if_alone = True

        self.title = QLabel()
        self.title.setObjectName("conflicts_title")
        make_bold(self.title, 1.2)
        self.intro = QLabel()
        self.intro.setObjectName("conflicts_intro")
        self.intro.setWordWrap(True)

        self.list = QTreeWidget()
        self.list.setObjectName("conflicts_list")
        self.list.setRootIsDecorated(False)
        self.list.setUniformRowHeights(True)
        self.list.setAlternatingRowColors(True)
        self.list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.list.setColumnCount(5)
        header = self.list.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in range(1, 5):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.list.currentItemChanged.connect(lambda current, _previous: self._selected(current))

        self.detail = ConflictDetail()
        self.detail.resolve_requested.connect(self.resolve)
        self.empty = QLabel()
        self.empty.setObjectName("conflicts_empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: palette(mid);")
        self.right = QStackedWidget()
        self.right.addWidget(self.detail)
        self.right.addWidget(self.empty)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName(SPLITTER)
        self.splitter.addWidget(self.list)
        self.splitter.addWidget(self.right)
        self.splitter.setSizes([520, 560])
        self.splitter.setChildrenCollapsible(False)
        line = QFrame()
        line.setFrameShape(QFrame.Shape.HLine)
        line.setFrameShadow(QFrame.Shadow.Sunken)
        conflicts_page = QWidget()
        conflicts_layout = QVBoxLayout(conflicts_page)
        conflicts_layout.addWidget(self.intro)
        conflicts_layout.addWidget(line)
        conflicts_layout.addWidget(self.splitter, 1)

        self.rejected_panel = RejectedPanel()
        self.rejected_panel.dismiss_requested.connect(self.dismiss)
        self.tabs = QTabWidget()
        self.tabs.setObjectName("conflicts_tabs")
        self.tabs.addTab(conflicts_page, "")
        self.tabs.addTab(self.rejected_panel, "")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.addWidget(self.title)
        layout.addWidget(self.tabs, 1)
        self.retranslate()
        self.refresh()

    def retranslate(self) -> None:
        self.intro.setText(
            _(
                "Each line is one field that you and a colleague changed at the same time. "
                "The server keeps their value until you decide; your decision syncs like any "
                "other change."
            )
        )
        self.list.setHeaderLabels([_("Record"), _("Field"), _("Mine"), _("Theirs"), _("When")])
        self.empty.setText(_("No conflicts. Everything you changed reached the server as it was."))
        self.detail.retranslate()
        self.rejected_panel.retranslate()
        self._show()
        if (self.conflicts or self.rejected) and self.isVisible():
            self.refresh()  # field labels come translated from the worker

    def save_state(self, settings: UiSettings) -> None:
        settings.set_bytes(settings.splitter_key(SPLITTER), self.splitter.saveState())

    def restore_state(self, settings: UiSettings) -> None:
        state = settings.bytes(settings.splitter_key(SPLITTER))
        if state is not None:
            self.splitter.restoreState(state)

    def activate(self, argument: str = "") -> None:
        if argument == "rejected":
            self.tabs.setCurrentWidget(self.rejected_panel)
        self._open_rejected_if_alone = argument != "conflicts"
        self.refresh()

    # -- data

    def refresh(self) -> None:
        if self.loading:
            return
        self.loading = True
        engine = self.services.store.engine
        self.services.workers.run_db(self, lambda: load_inbox(engine), self._loaded, self._failed)

    def _loaded(self, inbox: tuple[list[ConflictView], list[RejectedView]]) -> None:
        self.loading = False
        self.conflicts, self.rejected = inbox
        self.rejected_panel.show_changes(self.rejected)
        if self._open_rejected_if_alone and self.rejected and not self.conflicts:
            self.tabs.setCurrentWidget(self.rejected_panel)
        self._open_rejected_if_alone = False
        self._show()
        # The status bar's count may be older than the inbox (a sync just ran).
        window = self.window()
        state = getattr(getattr(window, "status", None), "state", None)
        refresh_state = getattr(window, "refresh_sync_state", None)
        stale = state is not None and (
            state.conflicts != len(self.conflicts)
            or getattr(state, "rejected", 0) != len(self.rejected)
        )
        if stale and callable(refresh_state):
            refresh_state()
        emit(self.loaded)

    def _failed(self, error: BaseException) -> None:
        self.loading = False
        self.services.workers.show_failure(self, error)

    def _show(self) -> None:
        count = len(self.conflicts)
        self.title.setText(
            ngettext("{count} conflict to resolve", "{count} conflicts to resolve", count).format(
                count=count
            )
            if count
            else _("Conflicts")
        )
        self.tabs.setTabText(0, _("Conflicts ({count})").format(count=count))
        self.tabs.setTabText(1, _("Refused changes ({count})").format(count=len(self.rejected)))
        current = self.detail.conflict.id if self.detail.conflict is not None else None
        wanted = self._select_after or current
        blocked = self.list.blockSignals(True)
        self.list.clear()
        select: QTreeWidgetItem | None = None
        for conflict in self.conflicts:
            item = QTreeWidgetItem(
                [
                    conflict.record_label,
                    conflict_label(conflict),
                    shown_value(conflict_value(conflict.table, conflict.field, conflict.mine)),
                    shown_value(conflict_value(conflict.table, conflict.field, conflict.theirs)),
                    _moment(conflict.created_at),
                ]
            )
            item.setData(0, CONFLICT_ROLE, conflict.id)
            item.setToolTip(0, conflict.record_label)
            self.list.addTopLevelItem(item)
            if conflict.id == wanted:
                select = item
        self.list.blockSignals(blocked)
        if select is None and self.list.topLevelItemCount():
            select = self.list.topLevelItem(0)
        self._select_after = None
        if select is not None:
            self.list.setCurrentItem(select)
            self._selected(select)
            self.right.setCurrentWidget(self.detail)
        else:
            self.detail.show_conflict(None)
            self.right.setCurrentWidget(self.empty)

    def _selected(self, item: QTreeWidgetItem | None) -> None:
        if item is None:
            return
        conflict_id = item.data(0, CONFLICT_ROLE)
        conflict = next((c for c in self.conflicts if c.id == conflict_id), None)
        if conflict is None:
            return
        if self.detail.conflict is None or self.detail.conflict.id != conflict.id:
            self.detail.show_conflict(conflict)
        else:
            self.detail.conflict = conflict
            self.detail.retranslate()

    def select_conflict(self, conflict_id: str) -> bool:
        for row in range(self.list.topLevelItemCount()):
            item = self.list.topLevelItem(row)
            if item is not None and item.data(0, CONFLICT_ROLE) == conflict_id:
                self.list.setCurrentItem(item)
                return True
        return False

    # -- resolving

    def resolve(self, conflict_id: str, choice: str, value: object) -> None:
        """Resolve one field on the database worker, then reload the inbox."""
        from fieldrep.sync.api import resolve_conflict

        store = self.services.store
        ids = [conflict.id for conflict in self.conflicts]
        position = ids.index(conflict_id) if conflict_id in ids else 0
        following = ids[position + 1] if position + 1 < len(ids) else None
        following = following or (ids[position - 1] if position > 0 else None)

        def done(_result: None) -> None:
            self._select_after = following
            self.detail.conflict = None
            emit(self.resolved, conflict_id, choice)
            self.refresh()
            window = self.window()
            refresh_state = getattr(window, "refresh_sync_state", None)
            if callable(refresh_state):
                refresh_state()
            for key, view in (getattr(window, "views", None) or {}).items():
                if key != "conflicts" and isinstance(view, View):
                    view.refresh()

        def refused(error: BaseException) -> None:
            if isinstance(error, ValidationError):
                self.detail.show_refusal(error)
                return
            self.detail.show_conflict(self.detail.conflict)
            self.services.workers.show_failure(self, error)

        self.services.workers.run_db(
            self, lambda: resolve_conflict(store, conflict_id, choice, value), done, refused
        )

    # -- refused changes

    def dismiss(self, op_ids: list[str]) -> None:
        """Remove refused changes the rep has seen, on the database worker; then reload."""
        from fieldrep.sync.api import dismiss_rejected

        engine = self.services.store.engine

        def done(_count: int) -> None:
            emit(self.dismissed, op_ids)
            self.refresh()
            window = self.window()
            refresh_state = getattr(window, "refresh_sync_state", None)
            if callable(refresh_state):
                refresh_state()

        def failed(error: BaseException) -> None:
            self.rejected_panel.show_changes(self.rejected)
            self.services.workers.show_failure(self, error)

        self.services.workers.run_db(self, lambda: dismiss_rejected(engine, op_ids), done, failed)


def create_view(services: AppServices, parent: QWidget | None) -> View:
    """Registry entry: the conflict inbox."""
    return ConflictsView(services, parent)


__all__ = [
    "ConflictDetail",
    "ConflictsView",
    "RejectedPanel",
    "conflict_value",
    "create_view",
    "load_inbox",
    "shown_value",
]
