"""Switching the language of the running application.

FieldRep's own strings come from one gettext catalogue (:mod:`fieldrep.i18n`);
Qt's standard dialogs and buttons use Qt's translation of qtbase. After a switch
every widget gets a ``QEvent.LanguageChange`` and sets its texts again, so the
open window changes language without a restart.
"""

from __future__ import annotations

import logging

from PySide6.QtCore import QCoreApplication, QEvent, QLibraryInfo, QLocale, QTranslator
from PySide6.QtWidgets import QApplication

from fieldrep.i18n import current_language, set_language

log = logging.getLogger("fieldrep.ui")

LANGUAGE_NAMES = {"zh_CN": "中文（简体）", "en": "English"}

_qt_translators: list[QTranslator] = []


def apply_language(app: QApplication, language: str) -> str:
    """Switch FieldRep's catalogue and Qt's own dialogs to ``language``; returns it.

    Every existing widget is told (LanguageChange) so it can retranslate itself.
    """
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
    QLocale.setDefault(QLocale("zh_CN" if chosen == "zh_CN" else "en_US"))
    # Installing or removing a translator already sends LanguageChange, but not when
    # neither happened (Qt's catalogue missing): tell every window ourselves (a
    # widget passes the event on to its children).
    for widget in app.topLevelWidgets():
        QCoreApplication.sendEvent(widget, QEvent(QEvent.Type.LanguageChange))
    return chosen
