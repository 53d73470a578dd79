"""The status bar: online or offline and who is signed in, pending changes, last sync,
conflicts, sync now.

Online/offline comes from the operating system (QNetworkInformation, where a
backend exists) and from the last real sync attempt: a laptop on a hotel Wi-Fi
portal looks online to the OS, but if the server could not be reached the bar
says so.

Layout: the permanent widgets on the right always get their full size hint (they
are short, and their tooltips hold the details); the transient message on the
left takes what room is left and is elided to it, its full text in the tooltip.
A long sync message therefore never squeezes "Last sync" or the conflicts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date, datetime
from enum import Enum
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QResizeEvent
from PySide6.QtWidgets import QLabel, QSizePolicy, QStatusBar, QToolButton, QWidget

from fieldrep.i18n import _, ngettext
from fieldrep.ui.common import format_moment
from fieldrep.ui.sync_bridge import SyncState

if TYPE_CHECKING:
    from PySide6.QtNetwork import QNetworkInformation

log = logging.getLogger("fieldrep.ui")

MESSAGE_MS = 15000
#: A transient message: a plain text, or a function that words it in the current
#: language (called again when the language is switched while it is shown).
Message = str | Callable[[], str]
# A long user name is elided to this many average characters in the network label.
USER_NAME_CHARS = 10
# The status bar's normal (non-permanent) widgets: the message label, left of the others.
NORMAL_WIDGETS = 1


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


class ElidedLabel(QLabel):
    """A one-line label that takes only the room it is given: its text is elided to its
    width ("…"), and then the tooltip holds the full text."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.full_text = ""
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.setMinimumWidth(0)

    def set_full_text(self, text: str) -> None:
        self.full_text = text
        self._elide()

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self._elide()

    def _elide(self) -> None:
        width = self.contentsRect().width()
        shown = self.fontMetrics().elidedText(self.full_text, Qt.TextElideMode.ElideRight, width)
        if shown != self.text():
            self.setText(shown)
        self.setToolTip(self.full_text if shown != self.full_text else "")


def short_moment(moment: datetime, today: date) -> str:
    """A time stamp short enough for the status bar: the time today, month, day and time
    this year, only the date before (the tooltip always has date and time in full)."""
    local = moment.astimezone()
    if local.date() == today:
        return local.strftime("%H:%M")
    if local.year == today.year:
        return local.strftime("%m-%d %H:%M")
    return local.strftime("%Y-%m-%d")


def elide_name(label: QLabel, name: str) -> str:
    """A user name short enough for the status bar (the tooltip has it in full)."""
    metrics = label.fontMetrics()
    return metrics.elidedText(
        name, Qt.TextElideMode.ElideRight, metrics.averageCharWidth() * USER_NAME_CHARS
    )


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
        self.message_source: Message = ""
        self.message_label = ElidedLabel()
        self.message_label.setObjectName("status_message")
        self.message_label.setContentsMargins(4, 0, 0, 0)  # off the window's edge
        self.message_timer = QTimer(self)
        self.message_timer.setSingleShot(True)
        self.message_timer.setInterval(MESSAGE_MS)
        self.message_timer.timeout.connect(lambda: self.show_message(""))
        self.addWidget(self.message_label, 1)
        # Online or offline, and who is signed in: one short label, the sentences in its tooltip.
        self.network_label = QLabel()
        self.network_label.setObjectName("status_network")
        self.pending_label = QLabel()
        self.pending_label.setObjectName("status_pending")
        self.last_sync_label = QLabel()
        self.last_sync_label.setObjectName("status_last_sync")
        self.conflicts_button = QToolButton()
        self.conflicts_button.setObjectName("status_conflicts")
        self.conflicts_button.setAutoRaise(True)
        self.conflicts_button.clicked.connect(self.conflicts_clicked)
        self.sync_button = QToolButton()
        self.sync_button.setObjectName("status_sync_now")
        self.sync_button.clicked.connect(self.sync_clicked)
        for widget in (
            self.network_label,
            self.pending_label,
            self.last_sync_label,
            self.conflicts_button,
            self.sync_button,
        ):
            self.addPermanentWidget(widget)
        self._network: QNetworkInformation | None = None
        self.update_texts()

    def addPermanentWidget(self, widget: QWidget, stretch: int | None = 0) -> None:
        """Permanent widgets (this bar's and those other parts add) keep their size hint."""
        widget.setSizePolicy(QSizePolicy.Policy.Fixed, widget.sizePolicy().verticalPolicy())
        super().addPermanentWidget(widget, stretch or 0)

    def insertPermanentWidget(self, index: int, widget: QWidget, stretch: int | None = 0) -> int:
        """``index`` counts among the permanent widgets only (0: the first on the right)."""
        widget.setSizePolicy(QSizePolicy.Policy.Fixed, widget.sizePolicy().verticalPolicy())
        return super().insertPermanentWidget(NORMAL_WIDGETS + index, widget, stretch or 0)

    def watch_network(self) -> None:
        """Start following the OS's online state (after the window is shown: it loads a
        network plug-in, which is not needed for the first paint)."""
        self._network = load_network_information()
        if self._network is not None:
            self._network.reachabilityChanged.connect(lambda _reach: self.update_texts())
        self.update_texts()

    @property
    def network_information(self) -> QNetworkInformation | None:
        """The OS reachability service this bar follows (None before watch_network
        or where Qt has no backend)."""
        return self._network

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.update_texts()
            self._render_message()
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
        self._update_network()
        state = self.state
        if state is None:
            self.pending_label.setText(_("Pending changes: …"))
            self.last_sync_label.setText("")
            self.conflicts_button.setText(_("Conflicts: …"))
        else:
            self.pending_label.setText(
                ngettext("{count} unsent change", "{count} unsent changes", state.pending).format(
                    count=state.pending
                )
            )
            self.pending_label.setToolTip(
                _("Changes made on this computer that the server has not received yet.")
            )
            if state.last_sync is None:
                self.last_sync_label.setText(_("Never synced"))
                self.last_sync_label.setToolTip("")
            else:
                self.last_sync_label.setText(
                    _("Last sync: {time}").format(time=short_moment(state.last_sync, self._today))
                )
                self.last_sync_label.setToolTip(
                    _("Last synced with the server on {time}.").format(
                        time=state.last_sync.astimezone().strftime("%Y-%m-%d %H:%M")
                    )
                )
            conflicts = ngettext("{count} conflict", "{count} conflicts", state.conflicts).format(
                count=state.conflicts
            )
            if state.rejected:
                refused = ngettext("{count} refused", "{count} refused", state.rejected).format(
                    count=state.rejected
                )
                conflicts = _("{conflicts} · {refused}").format(
                    conflicts=conflicts, refused=refused
                )
            self.conflicts_button.setText(conflicts)
            self.conflicts_button.setToolTip(
                _("Conflicts to resolve and changes the server refused: click to see them.")
            )
            self.conflicts_button.setStyleSheet(
                "color: #c62828; font-weight: bold;" if state.conflicts or state.rejected else ""
            )
        self.sync_button.setText(_("Syncing…") if self.syncing else _("Sync now"))
        self.sync_button.setEnabled(not self.syncing)
        self.sync_button.setToolTip(_("Send your changes and receive your colleagues' (Ctrl+S)"))

    def _update_network(self) -> None:
        """ "● Online · alice": the network and who is signed in, the sentences in the tooltip."""
        network = self.network()
        text = {
            Network.ONLINE: _("● Online"),
            Network.OFFLINE: _("○ Offline"),
            Network.UNKNOWN: _("Network status unknown"),
        }[network]
        if self.last_attempt is not None and not self.last_attempt[1]:
            details = [
                _("Offline: the server was not reached at {time}.").format(
                    time=format_moment(self.last_attempt[0], self._today)
                )
            ]
        else:
            details = [
                {
                    Network.ONLINE: _("This computer is online."),
                    Network.OFFLINE: _("This computer has no network connection."),
                    Network.UNKNOWN: _("Whether this computer is online is not known."),
                }[network]
            ]
        state = self.state
        if state is not None:
            if state.signed_in and state.username:
                user = elide_name(self.network_label, state.username)
                text = _("{network} · {user}").format(network=text, user=user)
                details.append(
                    _("Signed in to {server} as {user}.").format(
                        server=state.server_url, user=state.username
                    )
                )
            else:
                text = _("{network} · not signed in").format(network=text)
                details.append(_("Not signed in: sign in under File > Settings to sync."))
        self.network_label.setText(text)
        self.network_label.setToolTip("\n".join(details))
        colour = {"online": "#2e7d32", "offline": "#b26a00", "unknown": "palette(mid)"}
        self.network_label.setStyleSheet(f"color: {colour[network.value]};")

    def show_message(self, message: Message) -> None:
        """A transient message (sync results, explanations), elided to the room left of the
        permanent widgets (the tooltip has it in full); it goes after a while.

        Pass a function that words it (``lambda: _("Syncing…")``, a summary's ``line``)
        and the message follows a language switch while it is on screen; a plain text
        stays as it is."""
        self.message_source = message
        self._render_message()
        if self.message_label.full_text:
            self.message_timer.start()
        else:
            self.message_timer.stop()

    def _render_message(self) -> None:
        source = self.message_source
        self.message_label.set_full_text(source() if callable(source) else source)

    def currentMessage(self) -> str:
        """The transient message in full: this bar's own, else one Qt showed (a status tip)."""
        return self.message_label.full_text or super().currentMessage()
