"""Automatic sync: the app sends and receives by itself, without the rep clicking.

When it syncs (the delays come from :mod:`fieldrep.sync.schedule`):
- soon after local changes, once the rep has stopped editing for a while (debounced);
- periodically while online;
- at once when the operating system reports the network is back (QNetworkInformation);
- after a failed attempt, again and again, each wait longer (jittered, capped): no hard stop.

Never two at once (the window's own sync guard, and the profile's lock file against
the CLI), never while signed out or when the rep switched it off (Settings), and
never with a dialog: a background failure shows calmly in the status bar, which
already says offline or the last error. "Sync now" is still the rep's own.

One single-shot timer holds the next automatic sync; each event decides when that is.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from fieldrep.sync.schedule import SyncTiming, retry_delay

if TYPE_CHECKING:
    from PySide6.QtNetwork import QNetworkInformation

    from fieldrep.ui.mainwindow import MainWindow
    from fieldrep.ui.sync_bridge import SyncOutcome, SyncState

log = logging.getLogger("fieldrep.ui")


class AutoSync(QObject):
    """Decides when the window syncs by itself, and asks it to."""

    def __init__(
        self,
        window: MainWindow,
        timing: SyncTiming | None = None,
        rng: Callable[[], float] = random.random,
    ) -> None:
        super().__init__(window)
        self.setObjectName("auto_sync")
        self.window = window
        self.timing = timing or SyncTiming()
        self._rng = rng
        self.enabled = window.settings.auto_sync
        self.failures = 0  # failed attempts in a row
        self.reason = ""  # why the timer runs: "edit", "periodic", "retry", "soon"
        self.attempts = 0  # automatic syncs started (for the tests and the log)
        # A local change not yet in a sync: one made while a sync runs may miss it,
        # so after that sync the next one comes after the quiet spell, not the period.
        self.dirty = False
        # Set while the app's embedded server starts (fieldrep.ui.app): an attempt
        # before it listens would only fail; the app syncs once it is up.
        self.paused = False
        self.timer = QTimer(self)
        self.timer.setObjectName("auto_sync_timer")
        self.timer.setSingleShot(True)
        self.timer.timeout.connect(self._due)
        self.network: QNetworkInformation | None = None
        window.sync_finished.connect(self._finished)
        window.sync_state_changed.connect(self._state_changed)

    # -- events

    def watch(self, network: QNetworkInformation | None) -> None:
        """Follow the OS's reachability (the status bar's instance), and local writes."""
        self.network = network
        if network is not None:
            network.reachabilityChanged.connect(lambda _reach: self.network_changed())
        services = self.window.services
        if services is not None:
            workers = self.window.workers
            # Called on the database worker after a commit: hop to the GUI thread.
            services.store.write_listeners.append(lambda: workers.post(self, self.local_change))

    def local_change(self) -> None:
        """A local write committed: sync once the rep has paused (restarting the wait)."""
        self.dirty = True
        if self.failures:
            return  # offline or failing: the retry already waiting will send it
        if self.window.status.syncing:
            return  # the sync's outcome plans the next one (see _finished)
        self._arm(self.timing.after_edit, "edit")

    def network_changed(self) -> None:
        """The OS says the network changed: when back online, sync at once."""
        if self._os_offline():
            log.info("auto sync: the network is gone")
            return
        log.info("auto sync: the network is back")
        self.failures = 0
        self._arm(self.timing.soon, "soon")

    def set_enabled(self, enabled: bool) -> None:
        """The Settings switch: off stops the timer; on syncs soon."""
        self.enabled = enabled
        if not enabled:
            self.timer.stop()
            self.reason = ""
        else:
            self.failures = 0
            self._arm(self.timing.soon, "soon")

    def _state_changed(self, state: SyncState) -> None:
        # Signed in (at start, or just now in Settings) with nothing scheduled: sync soon.
        if state.signed_in and not self.timer.isActive() and not self.window.status.syncing:
            self._arm(self.timing.soon, "soon")
        elif not state.signed_in:
            self.timer.stop()
            self.reason = ""

    def _finished(self, outcome: SyncOutcome) -> None:
        """Any sync ended (automatic or the rep's): plan the next one from its outcome."""
        if outcome.not_configured:
            self.failures = 0
            self.timer.stop()  # signed out: nothing until a sign-in
            self.reason = ""
        elif outcome.ok:
            self.failures = 0
            if self.dirty:
                self._arm(self.timing.after_edit, "edit")
            else:
                self._arm(self.timing.periodic, "periodic")
        else:
            self.failed()

    def failed(self) -> None:
        """An attempt failed: try again after a longer, jittered wait, however many times."""
        self.failures += 1
        delay = retry_delay(self.failures, self.timing, self._rng)
        log.info("auto sync: attempt failed (%d in a row); next in %.0f s", self.failures, delay)
        self._arm(delay, "retry")

    # -- the timer

    def _arm(self, seconds: float, reason: str) -> None:
        if not self.enabled:
            return
        self.reason = reason
        self.timer.start(max(0, round(seconds * 1000)))

    def _due(self) -> None:
        state = self.window.status.state
        if self.window.workers.closed:
            return  # the window is closing: no sync any more
        if not self.enabled or self.paused or state is None or not state.signed_in:
            self.reason = ""
            return  # a sign-in (a state change) starts it again
        if self.window.status.syncing:
            # The rep's own sync is running: its outcome plans the next one.
            return
        if self._os_offline():
            # No network at all: no attempt, but keep a slow retry in case the OS is wrong.
            self.failed()
            return
        self.attempts += 1
        log.info("auto sync: starting (%s)", self.reason)
        self.window.sync_now(background=True)

    def _os_offline(self) -> bool:
        network = self.network
        if network is None:
            return False
        return network.reachability() == type(network).Reachability.Disconnected
