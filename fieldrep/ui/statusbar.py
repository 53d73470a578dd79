"""The status bar: online or offline, pending changes, last sync, conflicts, sync now.

Online/offline comes from the operating system (QNetworkInformation, where a
backend exists) and from the last real sync attempt: a laptop on a hotel Wi-Fi
portal looks online to the OS, but if the server could not be reached the bar
says so.
"""

from __future__ import annotations

import logging
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Signal
from PySide6.QtWidgets import QLabel, QStatusBar, QToolButton, QWidget

from fieldrep.i18n import _, ngettext
from fieldrep.ui.common import format_moment
from fieldrep.ui.sync_bridge import SyncState

if TYPE_CHECKING:
    from PySide6.QtNetwork import QNetworkInformation

log = logging.getLogger("fieldrep.ui")

MESSAGE_MS = 15000


class Network(Enum):
    ONLINE = "online"
    OFFLINE = "offline"
    UNKNOWN = "unknown"


def load_network_information() -> QNetworkInformation | None:
    """The OS reachability service, or None where Qt has no backend for it."""
    from PySide6.QtNetwork import QNetworkInformation

    try:
        if QNetworkInformation.instance() is None and not QNetworkInformation.loadDefaultBackend():
            return None
    except RuntimeError:  # no backend plugin on this platform
        return None
    return QNetworkInformation.instance()


class SyncStatusBar(QStatusBar):
    """Permanent widgets for the sync state plus transient messages."""

    sync_clicked = Signal()
    conflicts_clicked = Signal()

    def __init__(self, parent: QWidget | None = None, *, today: date | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("status_bar")
        self._today = today or date.today()
        self.state: SyncState | None = None
        self.syncing = False
        self.last_attempt: tuple[datetime, bool] | None = None  # when, server reached
        self.network_label = QLabel()
        self.network_label.setObjectName("status_network")
        self.pending_label = QLabel()
        self.pending_label.setObjectName("status_pending")
        self.last_sync_label = QLabel()
        self.last_sync_label.setObjectName("status_last_sync")
        self.account_label = QLabel()
        self.account_label.setObjectName("status_account")
        self.conflicts_button = QToolButton()
        self.conflicts_button.setObjectName("status_conflicts")
        self.conflicts_button.setAutoRaise(True)
        self.conflicts_button.clicked.connect(self.conflicts_clicked)
        self.sync_button = QToolButton()
        self.sync_button.setObjectName("status_sync_now")
        self.sync_button.clicked.connect(self.sync_clicked)
        for widget in (
            self.network_label,
            self.account_label,
            self.pending_label,
            self.last_sync_label,
            self.conflicts_button,
            self.sync_button,
        ):
            self.addPermanentWidget(widget)
        self._network: QNetworkInformation | None = None
        self.update_texts()

    def watch_network(self) -> None:
        """Start following the OS's online state (after the window is shown: it loads a
        network plug-in, which is not needed for the first paint)."""
        self._network = load_network_information()
        if self._network is not None:
            self._network.reachabilityChanged.connect(lambda _reach: self.update_texts())
        self.update_texts()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.update_texts()
        super().changeEvent(event)

    # -- state

    def network(self) -> Network:
        """Online, offline or unknown: the OS's view, corrected by the last attempt."""
        if self.last_attempt is not None and not self.last_attempt[1]:
            return Network.OFFLINE
        if self._network is not None:
            reachability = type(self._network).Reachability
            reach = self._network.reachability()
            if reach == reachability.Disconnected:
                return Network.OFFLINE
            if reach in (reachability.Online, reachability.Site, reachability.Local):
                return Network.ONLINE
        if self.last_attempt is not None:
            return Network.ONLINE
        return Network.UNKNOWN

    def set_state(self, state: SyncState) -> None:
        self.state = state
        self.update_texts()

    def set_syncing(self, syncing: bool) -> None:
        self.syncing = syncing
        self.update_texts()

    def note_attempt(self, reached_server: bool, when: datetime | None = None) -> None:
        """Remember the outcome of a real sync attempt (drives online/offline)."""
        self.last_attempt = (when or datetime.now().astimezone(), reached_server)
        self.update_texts()

    def set_today(self, today: date) -> None:
        self._today = today
        self.update_texts()

    # -- texts

    def update_texts(self) -> None:
        network = self.network()
        network_text = {
            Network.ONLINE: _("● Online"),
            Network.OFFLINE: _("○ Offline"),
            Network.UNKNOWN: _("Network status unknown"),
        }[network]
        if self.last_attempt is not None and not self.last_attempt[1]:
            network_text = _("○ Offline (server not reached at {time})").format(
                time=format_moment(self.last_attempt[0], self._today)
            )
        self.network_label.setText(network_text)
        colour = {"online": "#2e7d32", "offline": "#b26a00", "unknown": "palette(mid)"}
        self.network_label.setStyleSheet(f"color: {colour[network.value]};")
        state = self.state
        if state is None:
            self.pending_label.setText(_("Pending changes: …"))
            self.last_sync_label.setText("")
            self.account_label.setText("")
            self.conflicts_button.setText(_("Conflicts: …"))
        else:
            self.account_label.setText(
                _("Signed in: {user}").format(user=state.username)
                if state.signed_in
                else _("Not signed in")
            )
            self.pending_label.setText(
                ngettext(
                    "{count} change waiting to sync",
                    "{count} changes waiting to sync",
                    state.pending,
                ).format(count=state.pending)
            )
            if state.last_sync is None:
                self.last_sync_label.setText(_("Never synced"))
            else:
                self.last_sync_label.setText(
                    _("Last sync: {time}").format(time=format_moment(state.last_sync, self._today))
                )
            conflicts = ngettext("{count} conflict", "{count} conflicts", state.conflicts).format(
                count=state.conflicts
            )
            if state.rejected:
                refused = ngettext(
                    "{count} refused change", "{count} refused changes", state.rejected
                ).format(count=state.rejected)
                conflicts = _("{conflicts} · {refused}").format(
                    conflicts=conflicts, refused=refused
                )
            self.conflicts_button.setText(conflicts)
            self.conflicts_button.setStyleSheet(
                "color: #c62828; font-weight: bold;" if state.conflicts or state.rejected else ""
            )
        self.sync_button.setText(_("Syncing…") if self.syncing else _("Sync now"))
        self.sync_button.setEnabled(not self.syncing)
        self.sync_button.setToolTip(_("Send your changes and receive your colleagues' (Ctrl+S)"))

    def show_message(self, text: str) -> None:
        """A transient message (sync results, explanations)."""
        self.showMessage(text, MESSAGE_MS)
