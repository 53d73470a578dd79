"""Small dialogs of the main window, imported when first opened (keeps the start fast)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from fieldrep.i18n import _
from fieldrep.ui import registry
from fieldrep.ui.common import make_bold

if TYPE_CHECKING:
    from fieldrep.ui.mainwindow import MainWindow


class RecordPlaceholderDialog(QDialog):
    """Says what will open here while the record's window is still being built."""

    def __init__(self, kind: registry.RecordKind, record_label: str, parent: QWidget) -> None:
        super().__init__(parent)
        self.setObjectName(f"placeholder_{kind.kind}")
        self.kind = kind
        self.record_label = record_label
        layout = QVBoxLayout(self)
        self.heading = QLabel()
        make_bold(self.heading, 1.2)
        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setMinimumWidth(420)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(self.heading)
        layout.addWidget(self.description)
        layout.addWidget(buttons)
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.retranslate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setWindowTitle(_(self.kind.title))
        self.heading.setText(_(self.kind.title))
        note = _("This part of the workbench is being built.")
        self.description.setText(f"{_(self.kind.placeholder)}\n\n{note}")


class ShortcutsDialog(QDialog):
    """Help > Keyboard shortcuts: every shortcut with what it does."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.setObjectName("shortcuts_dialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.window_ = window
        self.form = QFormLayout()
        self.form.setHorizontalSpacing(24)
        layout = QVBoxLayout(self)
        layout.addLayout(self.form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.retranslate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def rows(self) -> list[tuple[str, str]]:
        """(key sequence, what it does) in the current language."""
        found = []
        for action in self.window_.shortcut_actions():
            sequence = action.shortcut().toString(QKeySequence.SequenceFormat.NativeText)
            found.append((sequence, action.text().replace("&", "").rstrip("…")))
        return found

    def retranslate(self) -> None:
        self.setWindowTitle(_("Keyboard shortcuts"))
        while self.form.rowCount():
            self.form.removeRow(0)
        for sequence, text in self.rows():
            key = QLabel(sequence)
            key.setStyleSheet("font-weight: bold;")
            self.form.addRow(key, QLabel(text))
