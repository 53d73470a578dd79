"""File > Export unsent changes…: the outbox to a file the rep picks, off the GUI thread."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from PySide6.QtWidgets import QApplication, QMessageBox, QWidget
from pytestqt.qtbot import QtBot
from shots import SCREENSHOTS, save_screenshot

from fieldrep.storage.enums import AbcClass
from fieldrep.storage.models import Dealer
from fieldrep.storage.services import core
from fieldrep.storage.services.core import Store
from fieldrep.ui import mainwindow
from fieldrep.ui.language import apply_language
from fieldrep.ui.mainwindow import MainWindow


def test_export_unsent_changes_from_the_file_menu(
    qtbot: QtBot,
    qapp: QApplication,
    main_window: MainWindow,
    demo_store: Store,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    core.create(demo_store, Dealer, {"name": "杭州恒达", "abc_class": AbcClass.B})
    core.create(demo_store, Dealer, {"name": "宁波顺发", "abc_class": AbcClass.C})
    offered: list[Path] = []
    target = tmp_path / "导出" / "unsent.json"
    target.parent.mkdir()

    def choose(parent: QWidget, default: Path) -> Path:
        offered.append(default)
        return target

    monkeypatch.setattr(mainwindow, "choose_export_file", choose)
    action = main_window.actions_by_name["export_unsent"]
    assert action in main_window.file_menu.actions()
    assert action.text() == "导出未同步的更改…"
    action.trigger()

    qtbot.waitUntil(lambda: main_window.findChild(QMessageBox, "export_unsent_done") is not None)
    box = main_window.findChild(QMessageBox, "export_unsent_done")
    assert isinstance(box, QMessageBox)
    document = json.loads(target.read_text(encoding="utf-8"))
    count = len(document["ops"])
    assert count >= 2
    names = {op["fields"].get("name") for op in document["ops"]}
    assert {"杭州恒达", "宁波顺发"} <= names
    assert box.text() == f"已将 {count} 条未同步的更改写入 {target}。"
    assert offered[0].name.startswith(f"fieldrep-unsent-{demo_store.today():%Y-%m-%d}")
    save_screenshot(box, "export_unsent_done_zh_CN")
    box.close()
    qtbot.waitUntil(lambda: main_window.findChild(QMessageBox, "export_unsent_done") is None)

    apply_language(qapp, "en")
    try:
        assert action.text() == "Export unsent changes…"
        action.trigger()
        qtbot.waitUntil(
            lambda: main_window.findChild(QMessageBox, "export_unsent_done") is not None
        )
        box = main_window.findChild(QMessageBox, "export_unsent_done")
        assert isinstance(box, QMessageBox)
        assert box.text() == f"{count} unsent changes were written to {target}."
        save_screenshot(box, "export_unsent_done_en")
        box.close()
    finally:
        apply_language(qapp, "zh_CN")


def test_cancelling_the_file_dialog_writes_nothing(
    qtbot: QtBot, main_window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(mainwindow, "choose_export_file", lambda parent, default: None)
    main_window.actions_by_name["export_unsent"].trigger()
    qtbot.wait(200)
    assert main_window.findChild(QMessageBox, "export_unsent_done") is None


@pytest.mark.qt_log_ignore("This plugin does not support")  # offscreen, on a popup
def test_the_file_menu_offers_the_export(
    qtbot: QtBot, qapp: QApplication, main_window: MainWindow
) -> None:
    from PySide6.QtCore import QPoint
    from PySide6.QtGui import QPixmap

    menu = main_window.file_menu
    for language in ("zh_CN", "en"):
        apply_language(qapp, language)
        try:
            menu.popup(main_window.mapToGlobal(QPoint(10, 10)))
            qtbot.waitUntil(menu.isVisible)
            texts = [action.text() for action in menu.actions() if action.text()]
            assert (
                "导出未同步的更改…" if language == "zh_CN" else "Export unsent changes…"
            ) in texts
            shot: QPixmap = menu.grab()
            SCREENSHOTS.mkdir(exist_ok=True)
            assert shot.save(str(SCREENSHOTS / f"file_menu_{language}.png"))
            menu.close()
        finally:
            apply_language(qapp, "zh_CN")
