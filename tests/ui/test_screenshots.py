"""A screenshot of every main view in zh_CN and en, saved to screenshots/ (git-ignored).

Besides the pictures (look at them), the test checks what a picture cannot prove
at a glance: the Chinese interface shows no English words, and no label is cut
off (each label is at least as wide as its text needs).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QDialog, QLabel, QWidget
from pytestqt.qtbot import QtBot
from uitest import all_texts, make_window

from fieldrep.storage.services.core import Store
from fieldrep.ui import registry
from fieldrep.ui.dialogs import ShortcutsDialog
from fieldrep.ui.language import apply_language
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.ops import Workers
from fieldrep.ui.settings_dialog import SettingsDialog
from fieldrep.ui.uisettings import UiSettings
from fieldrep.ui.views.dealers import DealersView
from fieldrep.ui.views.today import TodayView

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"
SIZE = (1280, 800)
# Words allowed in the Chinese interface: the product name, key names, a URL scheme,
# the ABC classification, the FAB/FABE selling methods as Chinese sales teams write
# them, and "English" as the language's own name in the picker.
ALLOWED_LATIN = {"FieldRep", "Ctrl", "https", "F1", "F5", "ABC", "FAB", "FABE", "English"}
LATIN_WORD = re.compile(r"[A-Za-z][A-Za-z0-9]+")


def _english_words(texts: list[str]) -> set[str]:
    found: set[str] = set()
    for text in texts:
        plain = re.sub(r"<[^>]+>|&\w+;", "", text)  # rich text tags are not visible
        for word in LATIN_WORD.findall(plain):
            if word not in ALLOWED_LATIN and not re.fullmatch(r"A{1,3}|[BC]", word):
                found.add(word)
    return found


def _clipped_labels(root: QWidget) -> list[str]:
    clipped = []
    for label in root.findChildren(QLabel):
        if not label.isVisibleTo(root) or not label.text():
            continue
        if label.wordWrap():
            needed_height = label.heightForWidth(label.contentsRect().width())
            if needed_height > label.contentsRect().height() + 2:
                clipped.append(f"{label.objectName()}: height {label.height()} < {needed_height}")
            continue
        if label.textFormat() != label.textFormat().PlainText and "<" in label.text():
            continue
        needed = label.fontMetrics().horizontalAdvance(label.text())
        if label.width() + 2 < needed:
            clipped.append(f"{label.objectName() or label.text()}: {label.width()} < {needed}")
    return clipped


def _save(widget: QWidget, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    target = SCREENSHOTS / f"{name}.png"
    assert widget.grab().save(str(target))
    return target


def _settle(qtbot: QtBot, window: MainWindow, key: str) -> None:
    view = window.views[key]
    if isinstance(view, TodayView):
        qtbot.waitUntil(lambda: view.data is not None and view.sales_ready)
    if isinstance(view, DealersView):
        qtbot.waitUntil(lambda: view.model.loaded and not view.model.loading)
        qtbot.waitUntil(lambda: view.city_filter.count() > 1)
    qtbot.waitUntil(lambda: not window.workers.busy)
    QApplication.processEvents()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_screenshots_of_every_view(
    qtbot: QtBot,
    qapp: QApplication,
    workers: Workers,
    ui_settings: UiSettings,
    demo_store: Store,
    demo: object,
    lang: str,
) -> None:
    apply_language(qapp, lang)
    try:
        window = make_window(qtbot, workers, ui_settings, demo_store, Path("unused.db"))
        window.resize(*SIZE)
        qtbot.waitUntil(lambda: window.status.state is not None)
        problems: dict[str, object] = {}
        for key in registry.NAV_KEYS:
            window.show_view(key)
            _settle(qtbot, window, key)
            path = _save(window, f"{key}_{lang}")
            assert path.stat().st_size > 10_000
            if lang == "zh_CN":
                words = _english_words(all_texts(window))
                if words:
                    problems[f"{key}: English words"] = sorted(words)
            clipped = _clipped_labels(window)
            if clipped:
                problems[f"{key}: clipped labels"] = clipped

        dialogs: list[tuple[str, QDialog]] = []
        assert window.services is not None
        settings = SettingsDialog(window.services, window)
        qtbot.waitUntil(lambda: settings.cadence_inputs["cadence.a_visits_per_month"].isEnabled())
        dialogs.append(("settings", settings))
        dialogs.append(("shortcuts", ShortcutsDialog(window)))
        for name, dialog in dialogs:
            dialog.show()
            dialog.adjustSize()
            QApplication.processEvents()
            _save(dialog, f"dialog_{name}_{lang}")
            if lang == "zh_CN":
                words = _english_words(all_texts(dialog))
                if words:
                    problems[f"{name} dialog: English words"] = sorted(words)
            clipped = _clipped_labels(dialog)
            if clipped:
                problems[f"{name} dialog: clipped labels"] = clipped
            dialog.close()
        if registry.record_opener("follow_up") is None:
            window.open_record("follow_up", "")
            placeholder = window.findChild(QDialog, "placeholder_follow_up")
            assert placeholder is not None
            QApplication.processEvents()
            _save(placeholder, f"dialog_record_placeholder_{lang}")
            if lang == "zh_CN":
                words = _english_words(all_texts(placeholder))
                if words:
                    problems["record placeholder: English words"] = sorted(words)
            placeholder.close()
        assert not problems, problems
    finally:
        apply_language(qapp, "zh_CN")
