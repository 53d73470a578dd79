"""The digest after a sync: what colleagues changed since the last one, each line a link.

:func:`install_digest` wires it into the main window: after a sync that brought
colleagues' changes (``MainWindow.sync_finished``) the digest opens by itself, and
a status-bar button opens the digest of the last sync at any time. The lines come
from :func:`fieldrep.sync.api.digest_entries` on the database worker: who changed
what on which dealer, and follow-ups newly assigned to me. A click (or Enter) on a
line opens its record, the dealer card or the follow-up, through the window's
record openers.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from fieldrep.i18n import N_, _, ngettext
from fieldrep.ui.common import make_bold
from fieldrep.ui.qtcompat import emit

if TYPE_CHECKING:
    from sqlalchemy import Engine

    from fieldrep.sync.api import DigestEntry
    from fieldrep.ui.mainwindow import MainWindow

log = logging.getLogger("fieldrep.ui")

ENTRY_ROLE = int(Qt.ItemDataRole.UserRole) + 30
LINK_COLOUR = QColor("#1565c0")
LINK_TIPS = {
    "dealer": N_("Open the dealer card"),
    "follow_up": N_("Open the follow-up"),
}


def load_digest(engine: Engine) -> list[DigestEntry]:
    """The digest lines of the last sync (database worker)."""
    from fieldrep.sync.api import digest_entries

    return digest_entries(engine)


class DigestDialog(QDialog):
    """The lines of the last sync's digest; a click opens the record a line is about."""

    loaded = Signal()
    record_opened = Signal(str, str)  # kind, record id

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window, Qt.WindowType.Window)
        self.setObjectName("digest_dialog")
        self.window_ = window
        self.entries: list[DigestEntry] | None = None
        self.heading = QLabel()
        self.heading.setObjectName("digest_heading")
        self.heading.setWordWrap(True)
        make_bold(self.heading, 1.15)
        self.hint = QLabel()
        self.hint.setObjectName("digest_hint")
        self.hint.setWordWrap(True)
        self.hint.setStyleSheet("color: palette(mid);")
        self.lines = QListWidget()
        self.lines.setObjectName("digest_lines")
        self.lines.setWordWrap(True)
        self.lines.setSpacing(2)
        self.lines.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.lines.setMouseTracking(True)
        self.lines.itemClicked.connect(self._open)
        self.lines.itemActivated.connect(self._open)
        self.lines.setCursor(Qt.CursorShape.PointingHandCursor)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.hint)
        layout.addWidget(self.lines, 1)
        layout.addWidget(self.buttons)
        self.resize(640, 420)
        self.retranslate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
            # The lines are sentences in the language of the moment; a closed digest
            # (or one whose window is gone) reloads when it is shown again instead.
            if self.isVisible() and self.window_.isVisible():
                self.refresh()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setWindowTitle(_("Changes by colleagues"))
        entries = self.entries
        if entries is None:
            self.heading.setText(_("Loading…"))
        elif entries:
            self.heading.setText(
                ngettext(
                    "{count} change by colleagues since your last sync",
                    "{count} changes by colleagues since your last sync",
                    len(entries),
                ).format(count=len(entries))
            )
        else:
            self.heading.setText(_("Colleagues changed nothing of yours in the last sync."))
        self.hint.setText(_("Click a line to open the dealer card or the follow-up."))
        self.hint.setVisible(bool(entries))

    def refresh(self) -> None:
        """Load the last sync's digest on the database worker."""
        services = self.window_.services
        if services is None or services.workers.closed:
            return  # no database yet, or the application is shutting down
        engine = services.store.engine
        services.workers.run_db(self, lambda: load_digest(engine), self._loaded)

    def _loaded(self, entries: list[DigestEntry]) -> None:
        self.entries = entries
        self.lines.clear()
        for entry in entries:
            item = QListWidgetItem(entry.text)
            item.setData(ENTRY_ROLE, entry)
            if entry.kind is not None and entry.record_id is not None:
                item.setForeground(QBrush(LINK_COLOUR))
                font = QFont(item.font())
                font.setUnderline(True)
                item.setFont(font)
                item.setToolTip(_(LINK_TIPS.get(entry.kind, LINK_TIPS["dealer"])))
            self.lines.addItem(item)
        self.retranslate()
        emit(self.loaded)

    def entry(self, row: int) -> DigestEntry | None:
        from fieldrep.sync.api import DigestEntry

        item = self.lines.item(row)
        found = item.data(ENTRY_ROLE) if item is not None else None
        return found if isinstance(found, DigestEntry) else None

    def _open(self, item: QListWidgetItem) -> None:
        entry = item.data(ENTRY_ROLE)
        if entry is None or entry.kind is None or entry.record_id is None:
            return
        emit(self.record_opened, entry.kind, entry.record_id)
        self.window_.open_record(entry.kind, entry.record_id)


def show_digest(window: MainWindow) -> DigestDialog:
    """Open (or bring to the front) the digest of the last sync and load it."""
    dialog = window.findChild(DigestDialog, "digest_dialog")
    if dialog is None:
        dialog = DigestDialog(window)
    dialog.refresh()
    dialog.show()
    dialog.raise_()
    return dialog


def close_digest(window: MainWindow) -> None:
    """Close the window's digest, if open: it shows that window's data and goes with it."""
    dialog = window.findChild(DigestDialog, "digest_dialog")
    if dialog is not None:
        dialog.close()


class DigestButton(QToolButton):
    """The status-bar button that opens the digest of the last sync."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("status_digest")
        self.setAutoRaise(True)
        self.count: int | None = None
        self.retranslate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def set_count(self, count: int) -> None:
        self.count = count
        self.retranslate()

    def retranslate(self) -> None:
        if self.count:
            # Short: the status bar's permanent widgets must fit 1024 px (the tooltip says more).
            self.setText(
                ngettext(
                    "{count} colleague change", "{count} colleague changes", self.count
                ).format(count=self.count)
            )
        else:
            self.setText(_("Colleagues' changes"))
        self.setToolTip(_("What colleagues changed in the last sync"))


def install_digest(window: MainWindow) -> DigestButton:
    """Show the digest after each sync that brought changes, and add its status-bar button."""
    button = DigestButton(window.status)
    window.status.insertPermanentWidget(0, button)
    button.clicked.connect(lambda: show_digest(window))

    def synced(outcome: Any) -> None:
        if not getattr(outcome, "ok", False):
            return
        lines = tuple(getattr(outcome, "digest", ()))
        button.set_count(len(lines))
        # After an automatic sync the button says it; a window would interrupt the rep.
        if lines and not getattr(outcome, "background", False):
            show_digest(window)

    window.sync_finished.connect(synced)
    return button


__all__ = [
    "DigestButton",
    "DigestDialog",
    "close_digest",
    "install_digest",
    "load_digest",
    "show_digest",
]
