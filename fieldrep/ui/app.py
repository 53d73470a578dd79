"""Application start-up: wires paths, logging, language, font, database and main window.

``run_gui`` is what ``fieldrep`` without arguments runs. The order keeps a cold
start fast: Qt and the window come first (the storage layer is not even
imported yet), the window is shown, and the database is opened on the database
worker; the views appear as soon as it is ready. A second start on the same
profile asks the first window to come to the front and exits.
"""

from __future__ import annotations

import argparse
import gc
import logging
import os
import sys
from collections.abc import Callable, Sequence
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QApplication, QMessageBox

from fieldrep.i18n import _, current_language
from fieldrep.logging_setup import install_excepthook, setup_logging
from fieldrep.paths import APP_NAME, default_database_path, font_path
from fieldrep.ui import uisettings as keys
from fieldrep.ui.common import app_title
from fieldrep.ui.language import apply_language
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.ops import Workers
from fieldrep.ui.single_instance import InstanceGuard
from fieldrep.ui.uisettings import UiSettings

if TYPE_CHECKING:
    from fieldrep.localserver import LocalServer
    from fieldrep.storage.services.core import Store

log = logging.getLogger("fieldrep.ui")

LANGUAGE_ENV = "FIELDREP_LANGUAGE"

__all__ = ["apply_language", "load_bundled_font", "run_gui", "window_title"]


def load_bundled_font() -> str | None:
    """Register the bundled CJK font so Chinese renders without a system font.

    Returns the font family, or None when the file is missing or Qt refuses it.
    """
    path = font_path()
    if not path.is_file():
        log.warning("bundled font missing: %s", path)
        return None
    font_id = QFontDatabase.addApplicationFont(str(path))
    families = QFontDatabase.applicationFontFamilies(font_id) if font_id >= 0 else []
    if not families:
        log.warning("Qt could not load the bundled font %s", path)
        return None
    return families[0]


def use_bundled_font_if_needed(app: QApplication) -> str | None:
    """Load the bundled font; make it the default when no system font has Chinese."""
    family = load_bundled_font()
    chinese = set(QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese))
    if family is not None and chinese <= {family}:
        font = app.font()
        font.setFamilies([family, *font.families()])
        app.setFont(font)
    return family


def window_title() -> str:
    """The application's name as shown in title bars, in the current language."""
    return app_title()


def _show_error(message: str) -> None:
    QMessageBox.critical(None, app_title(), message)


def parse_arguments(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="fieldrep", add_help=False)
    parser.add_argument("--db", type=Path, default=None)
    parser.add_argument("--lang", default=None)
    parser.add_argument("--today", default=None)
    parser.add_argument("--server", default=None)
    known, _unknown = parser.parse_known_args(list(argv[1:]))
    return known


def choose_language(settings: UiSettings, requested: str | None = None) -> str:
    """--lang, then FIELDREP_LANGUAGE, then the saved choice, then the default (zh_CN)."""
    return requested or os.environ.get(LANGUAGE_ENV) or settings.language or current_language()


def start_database(
    window: MainWindow,
    db_path: Path,
    today: str | None,
    local_servers: list[LocalServer] | None = None,
) -> None:
    """Open the database on the worker; the window builds its views when it is ready.

    With ``local_servers`` the embedded sync server starts beside it (see
    :func:`start_local_server`) and is added to that list, for stopping at exit.
    """
    from fieldrep.ui.startup import open_store, today_source

    clock = today_source(today)

    def failed(error: BaseException) -> None:
        window.loading.setText(_("The database could not be opened."))
        window.workers.show_failure(window, error)

    attach: Callable[[Store], None] = window.attach_store
    if local_servers is not None:
        attach = start_local_server(window, db_path, clock(), local_servers)

    def attach_and_settle(store: Store) -> None:
        attach(store)
        # What start-up built (Qt wrappers, ORM mappers, the views) lives as long as
        # the window. Freezing it keeps the collector's full passes, which hold the
        # interpreter lock on whatever thread triggers them, from rescanning it: a
        # full pass on the sync worker otherwise stalls the GUI thread for 100+ ms.
        gc.freeze()

    window.workers.run_db(window, lambda: open_store(db_path, clock), attach_and_settle, failed)


def uses_local_server(arguments: argparse.Namespace, settings: UiSettings) -> bool:
    """The embedded server serves the profile's own database when no server is configured.

    ``--server``, a server address saved in the settings, or ``--db`` (another
    database, e.g. for tests and scripts) skip it; a database signed in to
    another server is recognised later, on the worker.
    """
    return arguments.db is None and not arguments.server and not settings.text(keys.SERVER_URL)


def start_local_server(
    window: MainWindow, db_path: Path, today: date, local_servers: list[LocalServer]
) -> Callable[[Store], None]:
    """Queue the embedded sync server's start-up before the store opens (fieldrep.localserver).

    On the database worker the server is made ready first (the first run builds
    the demo territory and fills the server), so the store opens signed in; the
    server thread starts on the I/O pool meanwhile. Returns the store callback:
    once store and server are both up, one sync runs and the status bar shows it.
    """
    up: set[str] = set()
    window.auto_sync.paused = True  # no automatic attempt before the server listens

    def both_up(part: str) -> None:
        up.add(part)
        if up == {"store", "server"}:
            window.auto_sync.paused = False
            window.sync_now()

    def prepare() -> LocalServer | None:
        from fieldrep.localserver import LocalServer

        server = LocalServer(db_path, today=today)
        local_servers.append(server)
        return server if server.prepare() is not None else None

    def prepared(server: LocalServer | None) -> None:
        if server is not None:
            window.workers.run_io(window, server.start, lambda _url: both_up("server"), failed)

    def failed(error: BaseException) -> None:
        log.warning("the local sync server is not available: %s", error, exc_info=error)
        window.status.show_message(
            lambda: _(
                "The local sync server could not start, so FieldRep works offline. "
                "The log file has the details."
            )
        )

    def attach(store: Store) -> None:
        window.attach_store(store)
        both_up("store")

    if not db_path.exists():
        window.loading.setText(_("Preparing the demo territory…"))
    window.workers.run_db(window, prepare, prepared, failed)
    return attach


def run_gui(
    argv: Sequence[str],
    *,
    on_ready: Callable[[MainWindow], None] | None = None,
) -> int:
    """Start the desktop application and return its exit code.

    ``on_ready`` is called once the window is shown and the event loop runs
    (benchmarks measure the cold start up to there).
    """
    arguments = parse_arguments(argv)
    setup_logging()
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(list(argv))
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    settings = UiSettings()
    apply_language(app, choose_language(settings, arguments.lang))

    guard = InstanceGuard()
    if not guard.acquire():
        if guard.ask_first_to_raise():
            log.info("FieldRep already runs on this profile: raised its window")
            return 0
        QMessageBox.warning(
            None,
            app_title(),
            _("FieldRep is already running with this profile. Close it before starting again."),
        )
        return 1

    use_bundled_font_if_needed(app)
    workers = Workers()
    restore_hooks = install_excepthook(_show_error)
    store: Store | None = None
    local_servers: list[LocalServer] = []
    local = uses_local_server(arguments, settings)
    try:
        db_path = arguments.db or default_database_path()
        window = MainWindow(workers, settings, db_path)
        window.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose, False)
        guard.raise_requested.connect(window.bring_to_front)
        window.show()
        if on_ready is not None:
            QTimer.singleShot(0, lambda: on_ready(window))
        # After the first paint: the window answers first, then the database opens
        # on the worker and the local server for later starts comes up.
        QTimer.singleShot(
            0,
            lambda: start_database(
                window, db_path, arguments.today, local_servers if local else None
            ),
        )
        QTimer.singleShot(0, guard.listen)
        code = app.exec()
        store = window.services.store if window.services is not None else None
        return code
    finally:
        workers.shutdown()
        for server in local_servers:
            server.stop()
        if store is not None:
            store.engine.dispose()
        guard.release()
        restore_hooks()


if __name__ == "__main__":
    sys.exit(run_gui(sys.argv))
