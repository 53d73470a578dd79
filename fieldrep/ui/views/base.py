"""What every view of the main window has in common.

A view is a widget built from :class:`~fieldrep.ui.services.AppServices`. It sets
its visible texts in :meth:`View.retranslate`, which runs at construction and
again when the language changes (``QEvent.LanguageChange``), so switching the
language in the settings updates the open window. It asks for records to be
opened through :attr:`View.open_record` and the main window decides how.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout, QWidget

from fieldrep.i18n import _
from fieldrep.ui.common import make_bold
from fieldrep.ui.uisettings import UiSettings


class View(QWidget):
    """Base class of the navigation views."""

    # (kind, record id): kinds are the keys of fieldrep.ui.registry.RECORD_KINDS.
    open_record = Signal(str, str)
    # Another view of the main window, e.g. ("dealers", "due") from a warning.
    show_view = Signal(str, str)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        """Set every visible text in the current language."""

    def refresh(self) -> None:
        """Reload the data (F5, after a sync)."""

    def activate(self, argument: str = "") -> None:
        """The view is shown; ``argument`` may ask for a filter (e.g. "due")."""

    def focus_search(self) -> bool:
        """Put the cursor in the view's search box; False when it has none."""
        return False

    def save_state(self, settings: UiSettings) -> None:
        """Remember splitter positions and column widths."""

    def restore_state(self, settings: UiSettings) -> None:
        """Restore what :meth:`save_state` remembered."""


class PlaceholderView(View):
    """Stands in for a view another helper is still building: says what will be there."""

    def __init__(self, title: str, description: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._title_source = title
        self._description_source = description
        layout = QVBoxLayout(self)
        layout.setContentsMargins(48, 48, 48, 48)
        layout.addStretch(1)
        self.heading = QLabel()
        self.heading.setObjectName("placeholder_heading")
        self.heading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        make_bold(self.heading, 1.4)
        self.description = QLabel()
        self.description.setObjectName("placeholder_description")
        self.description.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.description.setWordWrap(True)
        self.note = QLabel()
        self.note.setObjectName("placeholder_note")
        self.note.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.note.setStyleSheet("color: palette(mid);")
        self.description.setMinimumWidth(360)
        self.description.setMaximumWidth(560)
        layout.setSpacing(12)
        # A wrapped label takes its height from its width: keep it in a row with
        # stretches rather than aligning it, or Qt squeezes it to a sliver.
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.description, 4)
        row.addStretch(1)
        layout.addWidget(self.heading)
        layout.addLayout(row)
        layout.addWidget(self.note)
        layout.addStretch(2)
        self.retranslate()

    def retranslate(self) -> None:
        self.heading.setText(_(self._title_source))
        self.description.setText(_(self._description_source))
        self.note.setText(_("This part of the workbench is being built."))
