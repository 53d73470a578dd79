"""The placeholder main window: translated title, readable Chinese, a screenshot."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QFont, QFontDatabase, QFontMetrics
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from fieldrep.i18n import language
from fieldrep.ui.app import (
    PlaceholderWindow,
    apply_language,
    create_main_window,
    load_bundled_font,
    window_title,
)

SCREENSHOTS = Path(__file__).resolve().parents[2] / "screenshots"


@pytest.fixture
def cjk_family(qapp: QApplication) -> str:
    family = load_bundled_font()
    assert family is not None, "resources/fonts/wqy-microhei.ttc did not load"
    return family


def test_bundled_font_covers_chinese(cjk_family: str) -> None:
    chinese_families = QFontDatabase.families(QFontDatabase.WritingSystem.SimplifiedChinese)
    assert cjk_family in chinese_families
    metrics = QFontMetrics(QFont(cjk_family))
    assert all(metrics.inFontUcs4(ord(char)) for char in "销售拜访工作台经销商")


def test_window_title_is_chinese_by_default(qtbot: QtBot, cjk_family: str) -> None:
    window = create_main_window()
    qtbot.addWidget(window)
    assert window.windowTitle() == "FieldRep 销售拜访工作台"
    label = window.findChild(QLabel, "placeholder_message")
    assert label is not None
    assert "fieldrep --help" in label.text()
    assert "工作台" in label.text()


def test_window_in_english(qtbot: QtBot, qapp: QApplication) -> None:
    with language("en"):
        window = PlaceholderWindow()
    qtbot.addWidget(window)
    assert window.windowTitle() == "FieldRep sales visit workbench"


def test_apply_language_switches_the_catalogue(qapp: QApplication) -> None:
    assert apply_language(qapp, "en_US.UTF-8") == "en"
    assert window_title() == "FieldRep sales visit workbench"
    assert apply_language(qapp, "zh-CN") == "zh_CN"
    assert window_title() == "FieldRep 销售拜访工作台"


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_screenshot(qtbot: QtBot, cjk_family: str, lang: str) -> None:
    with language(lang):
        window = PlaceholderWindow()
    qtbot.addWidget(window)
    window.resize(720, 420)
    SCREENSHOTS.mkdir(exist_ok=True)
    target = SCREENSHOTS / f"placeholder_{lang}.png"
    image = window.grab()
    assert image.save(str(target))
    assert target.stat().st_size > 0
    # Only something was painted, beyond the background, where the message is.
    picture = image.toImage()
    colours = {
        picture.pixel(x, y)
        for x in range(0, picture.width(), 3)
        for y in range(0, picture.height(), 3)
    }
    assert len(colours) > 2
