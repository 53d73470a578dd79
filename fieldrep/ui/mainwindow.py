"""The main window: navigation, the views, menus and shortcuts, the sync status bar.

It holds layout and wiring only. Views come from :mod:`fieldrep.ui.registry`
(built on first use), records open through the registry's openers, and all data
work goes through the window's :class:`~fieldrep.ui.ops.Workers`.

Start-up order (see :mod:`fieldrep.ui.app`): the window is shown first, with a
"opening the database" page; :meth:`MainWindow.attach_store` then builds the
current view once the database is open on the worker. So the window answers the
user at once on a cold start, whatever the size of the database.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMenu,
    QSplitter,
    QStackedWidget,
    QWidget,
)

from fieldrep.i18n import N_, _, ngettext
from fieldrep.storage.display import join_sentences
from fieldrep.ui import registry
from fieldrep.ui import uisettings as keys
from fieldrep.ui.common import app_title
from fieldrep.ui.ops import Workers
from fieldrep.ui.qtcompat import emit
from fieldrep.ui.services import AppServices
from fieldrep.ui.statusbar import SyncStatusBar
from fieldrep.ui.sync_bridge import SyncOutcome, SyncState, not_configured_text
from fieldrep.ui.uisettings import UiSettings
from fieldrep.ui.views.base import PlaceholderView, View

if TYPE_CHECKING:
    from fieldrep.storage.services.core import Store, UserContext

log = logging.getLogger("fieldrep.ui")

SYNC_STATE_REFRESH_MS = 60_000
NAV_SPLITTER = "main_navigation"
DEFAULT_VIEW = "today"


# The shortcuts listed in Help > Keyboard shortcuts, in menu order.
SHORTCUT_LABELS: tuple[tuple[str, str], ...] = (
    ("find_dealer", N_("Find a dealer")),
    ("new_visit", N_("New visit record")),
    ("refresh", N_("Refresh")),
    ("sync", N_("Sync now")),
    ("settings", N_("Settings")),
    ("shortcuts", N_("Keyboard shortcuts")),
    ("quit", N_("Quit")),
)
SHORTCUT_KEYS: dict[str, QKeySequence.StandardKey | str] = {
    "find_dealer": "Ctrl+F",
    "new_visit": "Ctrl+N",
    "refresh": "F5",
    "sync": "Ctrl+S",
    "settings": "Ctrl+,",
    "shortcuts": "F1",
    "quit": "Ctrl+Q",
}


def sync_message(outcome: SyncOutcome) -> str:
    """The status bar's line about a sync, in the current language (worded again
    when the language is switched while it is shown)."""
    message = outcome.text()
    if outcome.ok and outcome.digest:
        colleagues = ngettext(
            "{count} change by colleagues.", "{count} changes by colleagues.", len(outcome.digest)
        ).format(count=len(outcome.digest))
        message = join_sentences(message, colleagues)
    return message


def export_folder() -> Path:
    """Where the export is offered first: the user's documents folder."""
    from PySide6.QtCore import QStandardPaths

    folder = QStandardPaths.writableLocation(QStandardPaths.StandardLocation.DocumentsLocation)
    return Path(folder) if folder else Path.home()


def choose_export_file(parent: QWidget, default: Path) -> Path | None:
    """Ask where to write the export (None: cancelled). Tests replace this function."""
    from PySide6.QtWidgets import QFileDialog

    chosen, _filter = QFileDialog.getSaveFileName(
        parent, _("Export unsent changes"), str(default), _("JSON files (*.json)")
    )
    return Path(chosen) if chosen else None


class MainWindow(QMainWindow):
    """The workbench window. Built from explicit services; no global state."""

    view_shown = Signal(str)
    record_requested = Signal(str, str)
    sync_finished = Signal(object)  # SyncOutcome: the digest helper listens here
    sync_state_changed = Signal(object)  # SyncState
    # UserContext: a sync brought the signed-in user a new role or name (the store
    # has it already); open windows that show by role (the dealer card) look again.
    user_changed = Signal(object)

    def __init__(
        self,
        workers: Workers,
        settings: UiSettings,
        db_path: Path,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("main_window")
        self.workers = workers
        self.settings = settings
        self.db_path = db_path
        self.services: AppServices | None = None
        self.views: dict[str, View] = {}
        # Views whose data a sync changed while they were hidden: reloaded when shown.
        self.stale_views: set[str] = set()
        self.last_digest: tuple[str, ...] = ()
        stored_view = settings.text(keys.LAST_VIEW, DEFAULT_VIEW)
        self.current_key = stored_view if stored_view in registry.NAV_KEYS else DEFAULT_VIEW

        self.navigation = QListWidget()
        self.navigation.setObjectName("navigation")
        self.navigation.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # Ctrl+1..7 instead
        for slot in registry.NAVIGATION:
            item = QListWidgetItem()
            item.setData(Qt.ItemDataRole.UserRole, slot.key)
            self.navigation.addItem(item)
        self.navigation.currentRowChanged.connect(self._on_navigation_row)
        self.navigation.setStyleSheet(
            "QListWidget#navigation { border: none; outline: 0; padding-top: 8px;"
            " background: palette(base); }"
            "QListWidget#navigation::item { padding: 8px 12px; margin: 1px 6px;"
            " border-radius: 4px; }"
            "QListWidget#navigation::item:selected { background: palette(highlight);"
            " color: palette(highlighted-text); }"
        )

        self.stack = QStackedWidget()
        self.stack.setObjectName("view_stack")
        self.loading = QLabel()
        self.loading.setObjectName("loading_page")
        self.loading.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack.addWidget(self.loading)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName(NAV_SPLITTER)
        self.splitter.addWidget(self.navigation)
        self.splitter.addWidget(self.stack)
        self.splitter.setStretchFactor(0, 0)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([170, 1000])
        self.setCentralWidget(self.splitter)

        self.status = SyncStatusBar(self)
        self.status.sync_clicked.connect(self.sync_now)
        self.status.conflicts_clicked.connect(lambda: self.show_view("conflicts"))
        self.setStatusBar(self.status)
        # After a sync, the digest of colleagues' changes; a status-bar button reopens it.
        from fieldrep.ui.views.digest import install_digest

        install_digest(self)

        self._build_actions()
        self.retranslate()
        self._restore_layout()
        self._select_navigation(self.current_key)

        self._sync_timer = QTimer(self)
        self._sync_timer.setInterval(SYNC_STATE_REFRESH_MS)
        self._sync_timer.timeout.connect(self.refresh_sync_state)
        # Syncs by itself after edits, periodically, when the network is back (and retries).
        from fieldrep.ui.auto_sync import AutoSync

        self.auto_sync = AutoSync(self)

    # -- actions and menus

    def _action(self, name: str, slot: Callable[[], object]) -> QAction:
        action = QAction(self)
        action.setObjectName(f"action_{name}")
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        self.actions_by_name: dict[str, QAction] = {
            "find_dealer": self._action("find_dealer", self.find_dealer),
            "new_visit": self._action("new_visit", self.new_visit),
            "refresh": self._action("refresh", self.refresh),
            "sync": self._action("sync", self.sync_now),
            "settings": self._action("settings", self.open_settings),
            "shortcuts": self._action("shortcuts", self.show_shortcuts),
            "quit": self._action("quit", self.close),
            "about": self._action("about", self.show_about),
            "drafts": self._action("drafts", self.show_drafts),
            "export_unsent": self._action("export_unsent", self.export_unsent),
        }
        for name, sequence in SHORTCUT_KEYS.items():
            self.actions_by_name[name].setShortcut(QKeySequence(sequence))
        self.actions_by_name["quit"].setMenuRole(QAction.MenuRole.QuitRole)
        self.actions_by_name["settings"].setMenuRole(QAction.MenuRole.PreferencesRole)
        self.view_actions: dict[str, QAction] = {}
        for number, slot in enumerate(registry.NAVIGATION, start=1):
            action = self._action(f"view_{slot.key}", partial(self.show_view, slot.key))
            action.setShortcut(QKeySequence(f"Ctrl+{number}"))
            self.view_actions[slot.key] = action

        bar = self.menuBar()
        self.file_menu = QMenu(self)
        self.file_menu.setObjectName("menu_file")
        for name in ("sync", "export_unsent", "settings", "drafts"):
            self.file_menu.addAction(self.actions_by_name[name])
        self.file_menu.addSeparator()
        self.file_menu.addAction(self.actions_by_name["quit"])
        self.view_menu = QMenu(self)
        self.view_menu.setObjectName("menu_view")
        for action in self.view_actions.values():
            self.view_menu.addAction(action)
        self.view_menu.addSeparator()
        self.view_menu.addAction(self.actions_by_name["refresh"])
        self.dealer_menu = QMenu(self)
        self.dealer_menu.setObjectName("menu_dealers")
        self.dealer_menu.addAction(self.actions_by_name["find_dealer"])
        self.dealer_menu.addAction(self.actions_by_name["new_visit"])
        self.help_menu = QMenu(self)
        self.help_menu.setObjectName("menu_help")
        self.help_menu.addAction(self.actions_by_name["shortcuts"])
        self.help_menu.addAction(self.actions_by_name["about"])
        for menu in (self.file_menu, self.view_menu, self.dealer_menu, self.help_menu):
            bar.addMenu(menu)

    def shortcut_actions(self) -> list[QAction]:
        """Every action with a shortcut, as Help > Keyboard shortcuts lists them."""
        listed = [self.actions_by_name[name] for name, _label in SHORTCUT_LABELS]
        return listed[:2] + list(self.view_actions.values()) + listed[2:]

    # -- language

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        self.setWindowTitle(app_title())
        for row, slot in enumerate(registry.NAVIGATION):
            item = self.navigation.item(row)
            item.setText(_(slot.title))
            self.view_actions[slot.key].setText(_(slot.title))
        for name, label in SHORTCUT_LABELS:
            text = _(label)
            if name in ("settings", "shortcuts"):
                text += "…"
            self.actions_by_name[name].setText(text)
        self.actions_by_name["about"].setText(_("About FieldRep") + "…")
        self.actions_by_name["drafts"].setText(_("Unsaved visit drafts") + "…")
        self.actions_by_name["export_unsent"].setText(_("Export unsent changes") + "…")
        self.actions_by_name["export_unsent"].setStatusTip(
            _("Write the changes the server has not received to a file, e.g. for support.")
        )
        self.file_menu.setTitle(_("&File"))
        self.view_menu.setTitle(_("&View"))
        self.dealer_menu.setTitle(_("&Dealers"))
        self.help_menu.setTitle(_("&Help"))
        self.loading.setText(_("Opening the database…"))
        metrics = self.navigation.fontMetrics()
        widest = max(metrics.horizontalAdvance(_(slot.title)) for slot in registry.NAVIGATION)
        self.navigation.setMinimumWidth(widest + 48)

    # -- start-up

    def attach_store(self, store: Store) -> None:
        """The database is open: build the current view and start the sync status."""
        self.services = AppServices(store, self.db_path, self.workers, self.settings)
        self.status.set_today(store.today())
        self.status.watch_network()
        self.auto_sync.watch(self.status.network_information)
        self.show_view(self.current_key)
        self.refresh_sync_state()
        self._sync_timer.start()
        # Visit records left unsaved by a crash or a closed lid are offered back.
        from fieldrep.ui.drafts import offer_saved_drafts
        from fieldrep.ui.views.follow_ups import start_follow_up_reminders

        offer_saved_drafts(self.services, self)
        start_follow_up_reminders(self.services, self)

    def _restore_layout(self) -> None:
        geometry = self.settings.bytes(keys.GEOMETRY)
        if geometry is None or not self.restoreGeometry(geometry):
            self.resize(1180, 760)
        state = self.settings.bytes(keys.WINDOW_STATE)
        if state is not None:
            self.restoreState(state)
        splitter = self.settings.bytes(self.settings.splitter_key(NAV_SPLITTER))
        if splitter is not None:
            self.splitter.restoreState(splitter)

    def save_layout(self) -> None:
        """Remember size, layout and the current view for the next start."""
        self.settings.set_bytes(keys.GEOMETRY, self.saveGeometry())
        self.settings.set_bytes(keys.WINDOW_STATE, self.saveState())
        self.settings.set_bytes(self.settings.splitter_key(NAV_SPLITTER), self.splitter.saveState())
        self.settings.set_text(keys.LAST_VIEW, self.current_key)
        for view in self.views.values():
            view.save_state(self.settings)
        self.settings.sync()

    def closeEvent(self, event: QCloseEvent) -> None:
        # Record windows (dealer cards, visit records) close first: one with unsaved
        # work asks about it, and its answer decides whether the app closes at all.
        for window in self.record_windows():
            if not window.close():
                window.raise_()
                window.activateWindow()
                event.ignore()
                return
        self._sync_timer.stop()
        self.auto_sync.timer.stop()
        self.save_layout()
        # The digest is a window of its own over this window's data: it closes with it
        # rather than outliving it (and its workers) on screen.
        from fieldrep.ui.views.digest import close_digest

        close_digest(self)
        super().closeEvent(event)

    def record_windows(self) -> list[QWidget]:
        """The record windows open over this window (not its dialogs)."""
        return [
            child
            for child in self.findChildren(QWidget)
            if child.isWindow()
            and child.isVisible()
            and child.parentWidget() is self
            and not isinstance(child, QDialog)
        ]

    def bring_to_front(self) -> None:
        """Another start asked for this window: show it, un-minimised, on top."""
        if self.isMinimized():
            self.showNormal()
        self.show()
        self.raise_()
        self.activateWindow()

    # -- views

    def _select_navigation(self, key: str) -> None:
        row = registry.NAV_KEYS.index(key)
        blocked = self.navigation.blockSignals(True)
        self.navigation.setCurrentRow(row)
        self.navigation.blockSignals(blocked)

    def _on_navigation_row(self, row: int) -> None:
        if 0 <= row < len(registry.NAV_KEYS):
            self.show_view(registry.NAV_KEYS[row])

    def view(self, key: str) -> View | None:
        """The view of a navigation slot, built on first use (None before the store opens)."""
        if self.services is None:
            return None
        found = self.views.get(key)
        if found is None:
            found = self._create_view(key, self.services)
            self.views[key] = found
            self.stack.addWidget(found)
        return found

    def _create_view(self, key: str, services: AppServices) -> View:
        slot = next(slot for slot in registry.NAVIGATION if slot.key == key)
        view: View
        try:
            factory = registry.view_factory(key)
            view = (
                factory(services, self.stack)
                if factory is not None
                else PlaceholderView(slot.title, slot.placeholder)
            )
        except Exception as error:  # a broken view must not take the window down
            self.workers.show_failure(self, error)
            view = PlaceholderView(slot.title, slot.placeholder)
        view.setObjectName(f"view_{key}")
        view.open_record.connect(self.open_record)
        view.show_view.connect(self.show_view)
        view.restore_state(self.settings)
        return view

    def show_view(self, key: str, argument: str = "") -> None:
        """Switch to a navigation view; ``argument`` is passed to its ``activate``."""
        if key not in registry.NAV_KEYS:
            raise KeyError(key)
        self.current_key = key
        self._select_navigation(key)
        view = self.view(key)
        if view is None:
            self.stack.setCurrentWidget(self.loading)
            return
        self.stack.setCurrentWidget(view)
        if key in self.stale_views:
            self.stale_views.discard(key)
            view.refresh()
        view.activate(argument)
        emit(self.view_shown, key)

    def current_view(self) -> View | None:
        widget = self.stack.currentWidget()
        return widget if isinstance(widget, View) else None

    # -- records

    def open_record(self, kind: str, record_id: str) -> None:
        """Open a record (dealer card, planned visit, follow-up ...) through the registry."""
        emit(self.record_requested, kind, record_id)
        if self.services is None:
            return
        opener = registry.record_opener(kind)
        if opener is not None:
            opener(self.services, self, record_id)
            return
        from fieldrep.ui.dialogs import RecordPlaceholderDialog

        dialog = RecordPlaceholderDialog(registry.RECORD_KINDS[kind], record_id, self)
        dialog.open()

    # -- commands

    def show_drafts(self) -> None:
        """File > Unsaved visit drafts…: the visit records typed but not saved."""
        if self.services is None:
            return
        from fieldrep.ui.drafts import show_drafts_dialog

        show_drafts_dialog(self.services, self)

    def find_dealer(self) -> None:
        self.show_view("dealers")
        view = self.views.get("dealers")
        if view is not None:
            view.focus_search()

    def new_visit(self) -> None:
        """A visit record for the dealer selected in the current view, or a blank one."""
        view = self.current_view()
        dealer_id = ""
        current = getattr(view, "current_dealer_id", None)
        if callable(current):
            dealer_id = current() or ""
        self.open_record("new_visit", dealer_id)

    def refresh(self) -> None:
        view = self.current_view()
        if view is not None:
            view.refresh()
        self.refresh_sync_state()

    def refresh_sync_state(self) -> None:
        """Reload pending changes, conflicts and last sync on the database worker."""
        if self.services is None:
            return
        from fieldrep.ui.sync_bridge import read_sync_state

        engine = self.services.store.engine

        def loaded(state: SyncState) -> None:
            self.status.set_state(state)
            emit(self.sync_state_changed, state)

        self.workers.run_db(
            self,
            lambda: read_sync_state(engine),
            loaded,
            lambda error: log.warning("sync state unavailable: %s", error),
        )

    def sync_now(self, background: bool = False) -> None:
        """Run one sync on the I/O pool and show what it did.

        ``background``: an automatic sync (fieldrep.ui.auto_sync); it says nothing
        until it ends, and a failure is a line in the status bar, never a dialog.
        """
        # Closed workers: the window is on its way out (an automatic sync's timer can
        # still fire between the workers' shutdown and the window's end).
        if self.services is None or self.status.syncing or self.workers.closed:
            return
        from fieldrep.ui.sync_bridge import sync_now

        state = self.status.state
        if state is not None and not state.configured:
            if not background:
                self.status.show_message(not_configured_text)
            return
        self.status.set_syncing(True)
        self.auto_sync.dirty = False  # this sync takes every change committed so far
        if not background:
            self.status.show_message(lambda: _("Syncing…"))
        self.workers.run_io(
            self,
            partial(sync_now, self.db_path),
            partial(self._sync_done, background=background),
            partial(self._sync_failed, background=background),
        )

    def _sync_done(self, outcome: SyncOutcome, background: bool = False) -> None:
        if background:
            outcome = replace(outcome, background=True)
        self.status.set_syncing(False)
        if not outcome.not_configured:
            self.status.note_attempt(outcome.reached_server)
        if outcome.ok:
            self.last_digest = outcome.digest
            self.refresh_user()
            self.refresh_after_sync()
        self.status.show_message(partial(sync_message, outcome))
        self.refresh_sync_state()
        emit(self.sync_finished, outcome)

    def refresh_user(self) -> None:
        """Read the signed-in user again: the server may have changed the role, and
        the synced user row brought it (fieldrep.sync.api.follow_user_row)."""
        if self.services is None:
            return
        from fieldrep.ui.startup import signed_in_user

        store = self.services.store
        engine = store.engine

        def loaded(user: UserContext | None) -> None:
            # The same person with a new role or name; a different identity (signed in
            # this session over a local rep) still takes effect at the next start.
            if user is None or user == store.user or user.user_id != store.user.user_id:
                return
            log.info("signed-in user now %s (%s)", user.role.value, user.user_id)
            # The one Store every window holds: their next load uses the new role.
            store.user = user
            emit(self.user_changed, user)

        self.workers.run_db(
            self,
            lambda: signed_in_user(engine),
            loaded,
            lambda error: log.warning("signed-in user unavailable: %s", error),
        )

    def refresh_after_sync(self) -> None:
        """Reload the view on screen now and the hidden ones when they are shown:
        reloading every open view at once piled their model resets onto the GUI
        thread right after a big sync."""
        current = self.current_view()
        for key, view in self.views.items():
            if view is current:
                view.refresh()
            else:
                self.stale_views.add(key)

    def _sync_failed(self, error: BaseException, background: bool = False) -> None:
        self.status.set_syncing(False)
        if not background:
            self.workers.show_failure(self, error)
            return
        # An automatic sync never opens a dialog: the log has the details, the status
        # bar a calm line, and the next attempt comes after a longer wait.
        log.error("automatic sync failed", exc_info=error)
        self.status.show_message(lambda: _("The automatic sync failed; it will try again later."))
        self.auto_sync.failed()

    def open_settings(self) -> None:
        if self.services is None:
            return
        from fieldrep.ui.settings_dialog import SettingsDialog

        dialog = SettingsDialog(self.services, self)
        dialog.signed_in_changed.connect(self.refresh_sync_state)
        dialog.saved.connect(self._auto_sync_setting)
        dialog.open()

    def export_unsent(self) -> None:
        """File > Export unsent changes…: the outbox to a file the rep picks (what
        ``fieldrep sync --export-outbox`` writes), e.g. when signed out for good."""
        if self.services is None:
            return
        default = export_folder() / f"fieldrep-unsent-{self.services.store.today():%Y-%m-%d}.json"
        path = choose_export_file(self, default)
        if path is None:
            return
        from fieldrep.sync import api

        engine = self.services.store.engine
        self.workers.run_db(
            self,
            lambda: api.export_outbox(engine, path),
            lambda count: self._exported(count, path),
            lambda error: self.workers.show_failure(self, error),
        )

    def _exported(self, count: int, path: Path) -> None:
        from PySide6.QtWidgets import QMessageBox

        text = ngettext(
            "{count} unsent change was written to {path}.",
            "{count} unsent changes were written to {path}.",
            count,
        ).format(count=count, path=path)
        box = QMessageBox(
            QMessageBox.Icon.Information,
            _("Export unsent changes"),
            text,
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setObjectName("export_unsent_done")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()

    def _auto_sync_setting(self) -> None:
        """Settings saved: follow the automatic-sync switch if it was turned."""
        if self.settings.auto_sync != self.auto_sync.enabled:
            self.auto_sync.set_enabled(self.settings.auto_sync)

    def show_shortcuts(self) -> None:
        from fieldrep.ui.dialogs import ShortcutsDialog

        ShortcutsDialog(self).open()

    def show_about(self) -> None:
        from PySide6.QtWidgets import QMessageBox

        from fieldrep import __version__

        text = _("FieldRep {version}: the workbench of channel sales reps who visit dealers.")
        box = QMessageBox(
            QMessageBox.Icon.Information,
            app_title(),
            text.format(version=__version__),
            QMessageBox.StandardButton.Ok,
            self,
        )
        box.setObjectName("about_dialog")
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.open()
