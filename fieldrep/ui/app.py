"""Application start-up: fonts, language, logging and the main window.

Until the workbench of issue 5 lands, the main window is a placeholder that says
so in the user's language and points at the command line.
"""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Sequence

from PySide6.QtCore import QLibraryInfo, QLocale, Qt, QTranslator
from PySide6.QtGui import QFontDatabase
from PySide6.QtWidgets import QApplication, QLabel, QMainWindow, QMessageBox, QWidget

from fieldrep.i18n import _, current_language, set_language
from fieldrep.logging_setup import install_excepthook, setup_logging
from fieldrep.paths import APP_NAME, font_path

log = logging.getLogger("fieldrep.ui")

LANGUAGE_ENV = "FIELDREP_LANGUAGE"
_qt_translators: list[QTranslator] = []


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


def apply_language(app: QApplication, language: str) -> str:
    """Switch FieldRep's catalogue and Qt's own dialogs to ``language``; returns it."""
    set_language(language)
    chosen = current_language()
    for translator in _qt_translators:
        app.removeTranslator(translator)
    _qt_translators.clear()
    if chosen != "en":
        folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
        translator = QTranslator(app)
        if translator.load(QLocale(chosen), "qtbase", "_", folder):
            app.installTranslator(translator)
            _qt_translators.append(translator)
        else:
            log.info("no Qt translation for %s in %s", chosen, folder)
    return chosen


def window_title() -> str:
    """The application's name as shown in title bars, in the current language."""
    return _("FieldRep sales visit workbench")


class PlaceholderWindow(QMainWindow):
    """Stands in for the workbench (issue 5) and tells the user what works today."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("placeholder_window")
        self.setWindowTitle(window_title())
        self.message = QLabel(
            _(
                "The workbench is still being built.\n"
                "Meanwhile, the command line can already search dealers and list due "
                "visits: run “fieldrep --help” to see how."
            )
        )
        self.message.setObjectName("placeholder_message")
        self.message.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.message.setWordWrap(True)
        self.message.setMargin(32)
        self.setCentralWidget(self.message)
        self.resize(720, 420)


def create_main_window() -> QMainWindow:
    """The main window for the current language."""
    return PlaceholderWindow()


def _show_error(message: str) -> None:
    QMessageBox.critical(None, window_title(), message)


def run_gui(argv: Sequence[str]) -> int:
    """Start the desktop application and return its exit code."""
    setup_logging()
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(list(argv))
    app.setApplicationName(APP_NAME)
    app.setOrganizationName(APP_NAME)
    family = load_bundled_font()
    log.info("bundled font: %s", family)
    apply_language(app, os.environ.get(LANGUAGE_ENV) or current_language())
    restore_hooks = install_excepthook(_show_error)
    try:
        window = create_main_window()
        window.show()
        return app.exec()
    finally:
        restore_hooks()


if __name__ == "__main__":
    sys.exit(run_gui(sys.argv))
