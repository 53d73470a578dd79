"""Forms built from the storage layer's field labels, with validation shown at the field.

A :class:`FieldEditor` edits one column of a model: the widget follows the
column's type (text, multi-line text, a choice of an enum's labels, a yes/no
box, a date, a number, a reference picked from a list) and the label comes from
:mod:`fieldrep.storage.fields`, so a field reads the same in forms, PDFs and
error messages. What the user types is checked with
:func:`~fieldrep.storage.fields.parse_field_value` when they leave the field;
a refused value, or a :class:`ValidationError` from a service, is shown in red
under the field in the user's language. :class:`FormBinding` holds the editors
of one record: it loads values, collects only the changed ones (all problems at
once, nothing half-parsed) and places a service's problems at their fields.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

from PySide6.QtCore import QDate, QEvent, QObject, Qt, Signal
from PySide6.QtGui import QFocusEvent, QPalette
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from fieldrep.i18n import N_, _
from fieldrep.storage.enums import LabelledEnum
from fieldrep.storage.errors import FieldProblem, ValidationError
from fieldrep.storage.fields import FieldKind, columns, field_kind, field_label, parse_field_value
from fieldrep.storage.models import Base
from fieldrep.storage.types import EnumCode
from fieldrep.ui.qtcompat import emit

log = logging.getLogger("fieldrep.ui")

ERROR_STYLE = "color: #c62828;"
ERROR_FRAME_STYLE = "border: 1px solid #c62828;"
LIST_JOINER = ", "

DATE_HINT = N_("e.g. 2026-03-31")
DATETIME_HINT = N_("e.g. 2026-03-31 14:30")
TIME_HINT = N_("e.g. 14:30")
LIST_HINT = N_("separate items with commas")
NUMBER_HINT = N_("a number")


def value_text(value: Any) -> str:
    """A stored value as the text a user would type for it."""
    if value is None:
        return ""
    if isinstance(value, LabelledEnum):
        return value.code
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, datetime):
        return value.astimezone().strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, time):
        return value.strftime("%H:%M")
    if isinstance(value, Decimal):
        text = format(value, "f")
        return text.rstrip("0").rstrip(".") if "." in text else text
    if isinstance(value, list | tuple):
        return LIST_JOINER.join(str(item) for item in value)
    return str(value)


#: A function that words a sentence in the current language (a FieldProblem's
#: ``message``, a ValidationError's ``message``): kept instead of its text, so the
#: sentence can be worded again after a language switch.
Describe = Callable[[], str]


def joined(describes: Sequence[Describe]) -> Describe | None:
    """The sentences of ``describes``, one a line, worded when shown (None: none)."""
    if not describes:
        return None
    kept = tuple(describes)
    return lambda: "\n".join(describe() for describe in kept)


class WordedLabel(QLabel):
    """A label whose sentence follows a language switch.

    It keeps the function that words the sentence and words it again on
    LanguageChange (which reaches every child of the window), for a line that says
    what just happened or what is wrong: its words depend on a moment, not on the
    window's own retranslate.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.describe: Describe | None = None

    def say(self, describe: Describe | None) -> None:
        """Show the sentence ``describe`` words (None: nothing)."""
        self.describe = describe
        self._render()

    def _render(self) -> None:
        self.setText(self.describe() if self.describe is not None else "")

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self._render()
        super().changeEvent(event)


class FieldError(WordedLabel):
    """The red line under a field that says what is wrong with it (hidden when
    nothing is); a language switch words it again (:class:`WordedLabel`)."""

    def __init__(self, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"error_{name}")
        self.setStyleSheet(ERROR_STYLE)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_error(self, describe: Describe | None) -> None:
        """Show the sentence ``describe`` words (None: no error, the line is hidden)."""
        self.say(describe)

    def _render(self) -> None:
        super()._render()
        self.setVisible(bool(self.text()))


class _FocusOut(QObject):
    """Calls back when the watched widget loses the keyboard focus."""

    def __init__(self, callback: Callable[[], None], parent: QObject) -> None:
        super().__init__(parent)
        self.callback = callback

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.FocusOut and isinstance(event, QFocusEvent):
            self.callback()
        return False


class FieldEditor(QWidget):
    """One field of a record: its editor and the red message line under it.

    ``text()``/``set_text()`` carry what the user typed (drafts keep it as is);
    ``value()`` parses it into the column's value or raises ValidationError.
    """

    changed = Signal()

    def __init__(
        self,
        model: type[Base],
        name: str,
        *,
        kind: FieldKind | None = None,
        long: bool = False,
        lines: int = 3,
        label: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.lines = lines
        self.name = name
        self.kind = kind or field_kind(model, name, long=long)
        self.label_source = label or field_label(model, name)
        column = columns(model).get(name)
        self.nullable = column.nullable if column is not None else True
        self.enum_class: type[LabelledEnum] | None = None
        if column is not None and isinstance(column.type, EnumCode):
            self.enum_class = column.type.enum_class
        self.setObjectName(f"field_{name}")
        self.original = ""
        self._loading = False

        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        self.editor: QWidget = self._make_editor()
        self.editor.setObjectName(f"edit_{name}")
        self.error = FieldError(name)
        layout.addWidget(self.editor)
        layout.addWidget(self.error)
        self.retranslate()

    # -- construction

    def _make_editor(self) -> QWidget:
        if self.kind is FieldKind.LONG_TEXT:
            text = QPlainTextEdit()
            text.setTabChangesFocus(True)
            # A few lines tall; longer text scrolls inside (the form stays compact).
            text.setFixedHeight(text.fontMetrics().lineSpacing() * self.lines + 14)
            text.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)
            text.textChanged.connect(self._on_edit)
            text.installEventFilter(_FocusOut(lambda: self._validate_quietly(), text))
            return text
        if self.kind in (FieldKind.CHOICE, FieldKind.REFERENCE):
            combo = QComboBox()
            combo.setSizeAdjustPolicy(
                QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon
            )
            combo.setMinimumContentsLength(8)
            if self.kind is FieldKind.CHOICE and self.enum_class is not None:
                if self.nullable:
                    combo.addItem("", "")
                for member in self.enum_class:
                    combo.addItem(member.label, member.code)
            combo.currentIndexChanged.connect(lambda _index: self._on_edit())
            return combo
        if self.kind is FieldKind.BOOL:
            box = QCheckBox()
            box.toggled.connect(lambda _checked: self._on_edit())
            return box
        line = QLineEdit()
        line.textEdited.connect(lambda _text: self._on_edit())
        line.editingFinished.connect(self.validate)
        return line

    # -- text in and out

    def text(self) -> str:
        """What the field holds, as text (a choice's code, "1"/"0" for a box)."""
        editor = self.editor
        if isinstance(editor, QPlainTextEdit):
            return editor.toPlainText()
        if isinstance(editor, QComboBox):
            data = editor.currentData()
            return "" if data is None else str(data)
        if isinstance(editor, QCheckBox):
            return "1" if editor.isChecked() else "0"
        assert isinstance(editor, QLineEdit)
        return editor.text()

    def set_text(self, text: str) -> None:
        """Show ``text`` without marking the field as edited by the user."""
        self._loading = True
        try:
            editor = self.editor
            if isinstance(editor, QPlainTextEdit):
                editor.setPlainText(text)
            elif isinstance(editor, QComboBox):
                position = editor.findData(text)
                if position < 0 and text:
                    editor.addItem(text, text)  # a value no longer offered stays visible
                    position = editor.count() - 1
                editor.setCurrentIndex(max(position, 0))
            elif isinstance(editor, QCheckBox):
                editor.setChecked(text in ("1", "true", "True"))
            else:
                assert isinstance(editor, QLineEdit)
                editor.setText(text)
                editor.setCursorPosition(0)
        finally:
            self._loading = False

    def load(self, value: Any) -> None:
        """Show a stored value and remember it as the unchanged state."""
        self.original = value_text(value)
        if self.kind is FieldKind.BOOL:
            self.original = "1" if value else "0"
        self.set_text(self.original)
        self.clear_problem()

    def is_changed(self) -> bool:
        return self.text().strip() != self.original.strip()

    def value(self) -> Any:
        """The typed value parsed into the column's type (ValidationError if refused)."""
        text = self.text()
        if self.kind is FieldKind.BOOL:
            return text == "1"
        if self.kind is FieldKind.REFERENCE:
            return text or None
        if self.name not in columns(self.model):
            return text.strip() or None
        return parse_field_value(self.model, self.name, text)

    def set_choices(self, choices: Sequence[tuple[str, str]], *, blank: bool = True) -> None:
        """The (label, value) pairs of a reference field; keeps the current value."""
        editor = self.editor
        if not isinstance(editor, QComboBox):
            raise TypeError(f"{self.name} is not a choice field")
        current = self.text() or self.original
        self._loading = True
        try:
            editor.clear()
            if blank:
                editor.addItem("", "")
            for label, data in choices:
                editor.addItem(label, data)
        finally:
            self._loading = False
        self.set_text(current)

    def set_read_only(self, read_only: bool) -> None:
        """Shown but not editable: text stays selectable (it can be copied), a choice
        or a box is greyed out."""
        editor = self.editor
        if isinstance(editor, QLineEdit | QPlainTextEdit):
            editor.setReadOnly(read_only)
            # The window's background instead of the field's: it does not look typeable.
            palette = QPalette(editor.palette())
            base = QPalette.ColorRole.Window if read_only else QPalette.ColorRole.Base
            palette.setColor(QPalette.ColorRole.Base, self.palette().color(base))
            editor.setPalette(palette)
        else:
            editor.setEnabled(not read_only)

    def is_read_only(self) -> bool:
        editor = self.editor
        if isinstance(editor, QLineEdit | QPlainTextEdit):
            return editor.isReadOnly()
        return not editor.isEnabled()

    # -- validation

    def validate(self) -> bool:
        """Parse what was typed and show the reason at the field when it is refused."""
        try:
            self.value()
        except ValidationError as error:
            self.show_problem(error.message)
            return False
        self.clear_problem()
        return True

    def _validate_quietly(self) -> None:
        self.validate()

    def show_problem(self, describe: Describe) -> None:
        self.error.show_error(describe)
        if isinstance(self.editor, QLineEdit | QPlainTextEdit):
            self.editor.setStyleSheet(ERROR_FRAME_STYLE)

    def clear_problem(self) -> None:
        self.error.show_error(None)
        if isinstance(self.editor, QLineEdit | QPlainTextEdit):
            self.editor.setStyleSheet("")

    @property
    def has_problem(self) -> bool:
        return self.error.isVisibleTo(self) and bool(self.error.text())

    def _on_edit(self) -> None:
        if self._loading:
            return
        if self.error.text():
            self.clear_problem()
        emit(self.changed)

    # -- language

    def label_text(self) -> str:
        return _(self.label_source)

    def retranslate(self) -> None:
        editor = self.editor
        if isinstance(editor, QComboBox) and self.kind is FieldKind.CHOICE and self.enum_class:
            for position in range(editor.count()):
                code = editor.itemData(position)
                if code:
                    with contextlib.suppress(ValueError):
                        editor.setItemText(position, self.enum_class(code).label)
        if isinstance(editor, QLineEdit):
            hint = {
                FieldKind.DATE: DATE_HINT,
                FieldKind.DATETIME: DATETIME_HINT,
                FieldKind.TIME: TIME_HINT,
                FieldKind.LIST: LIST_HINT,
                FieldKind.NUMBER: NUMBER_HINT,
                FieldKind.INTEGER: NUMBER_HINT,
            }.get(self.kind)
            editor.setPlaceholderText(_(hint) if hint else "")
        # The red line under the field words itself again (FieldError): validating
        # here instead would drop a service's refusal the field's parsing accepts.
        self.editor.setAccessibleName(self.label_text())


class FieldGrid(QWidget):
    """Labelled editors in a grid of ``pairs`` label/field pairs; long texts span the row."""

    def __init__(
        self, editors: Sequence[FieldEditor], *, pairs: int = 2, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.editors = tuple(editors)
        self.labels: dict[str, QLabel] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(10)
        grid.setVerticalSpacing(6)
        row, column = 0, 0
        for editor in self.editors:
            label = QLabel()
            label.setObjectName(f"label_{editor.name}")
            label.setBuddy(editor.editor)
            label.setWordWrap(True)
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            label.setContentsMargins(0, 4, 0, 0)
            self.labels[editor.name] = label
            wide = editor.kind is FieldKind.LONG_TEXT
            if wide and column:
                row, column = row + 1, 0
            grid.addWidget(label, row, column * 2)
            span = pairs * 2 - 1 if wide else 1
            grid.addWidget(editor, row, column * 2 + 1, 1, span)
            column = 0 if wide else column + 1
            if column == 0 or column >= pairs:
                row, column = row + 1, 0
        for position in range(pairs):
            grid.setColumnStretch(position * 2, 0)
            grid.setColumnStretch(position * 2 + 1, 1)
            grid.setColumnMinimumWidth(position * 2, 90)
        self.retranslate()

    def retranslate(self) -> None:
        for editor in self.editors:
            self.labels[editor.name].setText(editor.label_text())


class FormBinding:
    """The editors of one record: load, collect changes, show a service's problems."""

    def __init__(self, model: type[Base]) -> None:
        self.model = model
        self.editors: dict[str, FieldEditor] = {}

    def add(self, editor: FieldEditor) -> FieldEditor:
        self.editors[editor.name] = editor
        return editor

    def make(
        self,
        name: str,
        *,
        long: bool = False,
        lines: int = 3,
        kind: FieldKind | None = None,
        label: str | None = None,
    ) -> FieldEditor:
        """A new editor for ``name`` of this binding's model, added to the binding."""
        return self.add(
            FieldEditor(self.model, name, long=long, lines=lines, kind=kind, label=label)
        )

    def editors_for(self, names: Iterable[str]) -> list[FieldEditor]:
        return [self.editors[name] for name in names]

    def load(self, values: Mapping[str, Any]) -> None:
        for name, editor in self.editors.items():
            editor.load(values.get(name))

    def changed_names(self) -> list[str]:
        return [name for name, editor in self.editors.items() if editor.is_changed()]

    def changed_values(self) -> dict[str, Any]:
        """The parsed values of the changed fields; every refusal shown, then raised together."""
        return self.values_of(self.changed_names())

    def values_of(self, names: Iterable[str]) -> dict[str, Any]:
        """Parse the named fields; raise one ValidationError listing every refused field."""
        values: dict[str, Any] = {}
        problems: list[FieldProblem] = []
        for name in names:
            editor = self.editors[name]
            try:
                values[name] = editor.value()
            except ValidationError as error:
                editor.show_problem(error.message)
                problems.extend(error.problems)
            else:
                editor.clear_problem()
        if problems:
            raise ValidationError(problems, self.model.__tablename__)
        return values

    def show_error(self, error: ValidationError) -> list[Describe]:
        """Show each problem at its field; returns the messages no field here could
        show (as functions that word them: see :func:`joined`)."""
        unplaced: list[Describe] = []
        by_field: dict[str, list[Describe]] = {}
        for problem in error.problems:
            if problem.field in self.editors:
                by_field.setdefault(problem.field, []).append(problem.message)
            else:
                unplaced.append(problem.message)
        for name, messages in by_field.items():
            describe = joined(messages)
            assert describe is not None  # a field is listed with its messages
            self.editors[name].show_problem(describe)
        first = next((self.editors[name] for name in by_field), None)
        if first is not None:
            first.editor.setFocus()
        return unplaced

    def clear_errors(self) -> None:
        for editor in self.editors.values():
            editor.clear_problem()

    def problems_shown(self) -> dict[str, str]:
        """Field name to the message shown under it (tests and the status line)."""
        return {name: e.error.text() for name, e in self.editors.items() if e.error.text()}

    def retranslate(self) -> None:
        for editor in self.editors.values():
            editor.retranslate()


def date_edit(day: date, *, minimum: date | None = None) -> QDateEdit:
    """A date field with a calendar pop-up, shown as 2026-03-31 in every language."""
    edit = QDateEdit(QDate(day.year, day.month, day.day))
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    if minimum is not None:
        edit.setMinimumDate(QDate(minimum.year, minimum.month, minimum.day))
    return edit


def qdate_to_date(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def enum_combo(enum_class: type[LabelledEnum], *, blank: bool = False) -> QComboBox:
    """A combo box of an enumeration's labels (codes as item data)."""
    combo = QComboBox()
    if blank:
        combo.addItem("", "")
    for member in enum_class:
        combo.addItem(member.label, member.code)
    return combo


def retranslate_enum_combo(combo: QComboBox, enum_class: type[LabelledEnum]) -> None:
    """Set the labels of an :func:`enum_combo` in the current language."""
    for position in range(combo.count()):
        code = combo.itemData(position)
        if code:
            combo.setItemText(position, enum_class(code).label)


def select_data(combo: QComboBox, data: Any) -> None:
    """Select the item whose data is ``data`` (the first item when none is)."""
    position = combo.findData(data)
    combo.setCurrentIndex(max(position, 0))


__all__ = [
    "FieldEditor",
    "FieldError",
    "FieldGrid",
    "FieldKind",
    "FormBinding",
    "date_edit",
    "enum_combo",
    "field_kind",
    "qdate_to_date",
    "retranslate_enum_combo",
    "select_data",
    "value_text",
]
