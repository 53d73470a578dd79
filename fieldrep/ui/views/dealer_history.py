"""The dealer card's Change history tab (变更记录): the server's audit trail of one dealer.

Every accepted change of the dealer and of its rows (contacts, visit records,
...): when, who, on which device, and each field old -> new. The trail lives on
the server only, so the tab asks it (:func:`fieldrep.sync.api.fetch_audit`) on
the network pool when first shown and on Refresh; offline it says the history
needs the network. The server decides who may read it (managers, within their
team's territories); a refusal is shown as the server's sentence.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QHeaderView,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fieldrep.i18n import N_, _, ngettext
from fieldrep.sync import api
from fieldrep.sync.client import SyncError
from fieldrep.ui.forms import WordedLabel
from fieldrep.ui.qtcompat import emit

if TYPE_CHECKING:
    from fieldrep.ui.services import AppServices

log = logging.getLogger("fieldrep.ui")

#: Most changes the tab lists (newest first); a dealer's history is usually far shorter.
HISTORY_LIMIT = 1000

COLUMNS = (N_("When"), N_("Who"), N_("Device"), N_("Record"), N_("Change"))


def fetch_history(db_path: Path, dealer_id: str) -> api.AuditResult:
    """The dealer's audit trail (runs on the network pool)."""
    return api.fetch_audit(db_path, dealer_id=dealer_id, limit=HISTORY_LIMIT)


class DealerHistoryTab(QWidget):
    """The list of accepted changes of one dealer and its rows, newest first."""

    fetched = Signal()  # a fetch ended: entries shown, or a sentence says why none

    def __init__(
        self, services: AppServices, dealer_id: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("card_history")
        self.services = services
        self.dealer_id = dealer_id
        self.result: api.AuditResult | None = None
        self.fetching = False
        self.asked = False  # fetched at least once (a language switch asks again)

        self.status = WordedLabel()
        self.status.setObjectName("card_history_status")
        self.status.setWordWrap(True)
        self.refresh_button = QPushButton()
        self.refresh_button.setObjectName("card_history_refresh")
        self.refresh_button.clicked.connect(self.fetch)
        self.tree = QTreeWidget()
        self.tree.setObjectName("card_history_tree")
        self.tree.setColumnCount(len(COLUMNS))
        self.tree.setRootIsDecorated(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setUniformRowHeights(True)
        header = self.tree.header()
        header.setStretchLastSection(True)
        header.setMinimumSectionSize(72)
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)

        top = QHBoxLayout()
        top.addWidget(self.status, 1)
        top.addWidget(self.refresh_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.tree, 1)
        self.retranslate()

    def fetch(self) -> None:
        """Ask the server for the history (again); the answer arrives on the GUI thread."""
        if self.fetching:
            return
        self.fetching = True
        self.asked = True
        self.refresh_button.setEnabled(False)
        self.status.say(lambda: _("Asking the server for the change history…"))
        db_path, dealer_id = self.services.db_path, self.dealer_id
        self.services.workers.run_io(
            self, lambda: fetch_history(db_path, dealer_id), self._show, self._failed
        )

    def ensure_fetched(self) -> None:
        """Fetch once, the first time the tab is shown."""
        if not self.asked:
            self.fetch()

    def _show(self, result: api.AuditResult) -> None:
        self.fetching = False
        self.refresh_button.setEnabled(True)
        self.result = result
        self.tree.clear()
        for view in reversed(result.entries):
            item = _entry_item(view)
            self.tree.addTopLevelItem(item)
            # A change opens on its fields; a creation (every field) stays folded.
            item.setExpanded(view.action != "insert")
        count, more = len(result.entries), result.more
        if not count:
            self.status.say(lambda: _("No changes of this dealer on the server yet."))
        elif more:
            self.status.say(
                lambda: _("Only the oldest {count} changes are shown: the server has more.").format(
                    count=HISTORY_LIMIT
                )
            )
        else:
            self.status.say(
                lambda: ngettext(
                    "{count} change, newest first.", "{count} changes, newest first.", count
                ).format(count=count)
            )
        emit(self.fetched)

    def _failed(self, error: BaseException) -> None:
        self.fetching = False
        self.refresh_button.setEnabled(True)
        self.tree.clear()
        self.result = None
        if isinstance(error, SyncError):
            # Offline, a rep (the server keeps the trail for managers), signed out:
            # the error's own sentence, worded again after a language switch.
            log.info("change history not shown: %s", error)
            self.status.say(error.user_message)
        else:
            self.status.say(lambda: _("The change history could not be loaded."))
            self.services.workers.show_failure(self, error)
        emit(self.fetched)

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
            if self.result is not None:
                # Field labels, actions and values were worded when fetched.
                self.fetch()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.refresh_button.setText(_("Refresh"))
        self.refresh_button.setToolTip(_("Ask the server for the change history again"))
        self.tree.setHeaderLabels([_(title) for title in COLUMNS])


def _entry_item(view: api.AuditView) -> QTreeWidgetItem:
    """One change: who did what to which record; a child row per field old -> new."""
    record = _("{kind} “{record}”").format(kind=view.table_label, record=view.record_label)
    item = QTreeWidgetItem(
        [
            view.at.astimezone().strftime("%Y-%m-%d %H:%M"),
            view.user,
            _device_text(view),
            record,
            view.action_label,
        ]
    )
    item.setToolTip(1, view.username)
    item.setToolTip(2, view.device_id or "")
    item.setData(0, Qt.ItemDataRole.UserRole, view.id)
    for change in view.changes:
        child = QTreeWidgetItem(
            ["", "", "", change.label, _("{old} → {new}").format(old=change.old, new=change.new)]
        )
        child.setToolTip(4, child.text(4))
        item.addChild(child)
    return item


def _device_text(view: api.AuditView) -> str:
    """This device, or the end of another device's id (random, unlike its start)."""
    if view.this_device:
        return _("this device")
    if not view.device_id:
        return _("unknown device")
    return "…" + view.device_id[-8:]
