"""Qt's own buttons follow the language: qtbase_zh_CN is loaded for Chinese, dropped for English.

A QDialogButtonBox or QMessageBox draws its standard buttons from Qt's catalogue,
not FieldRep's; without qtbase_zh_CN.qm a Chinese dialog would show OK/Cancel.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtWidgets import QApplication, QDialogButtonBox, QMessageBox
from pytestqt.qtbot import QtBot

from fieldrep.ui.language import apply_language

OK = QDialogButtonBox.StandardButton.Ok
CANCEL = QDialogButtonBox.StandardButton.Cancel
MESSAGE_OK = QMessageBox.StandardButton.Ok
MESSAGE_CANCEL = QMessageBox.StandardButton.Cancel


@pytest.fixture
def back_to_chinese(qapp: QApplication) -> Iterator[None]:
    yield
    apply_language(qapp, "zh_CN")


def shown_texts(box: QDialogButtonBox | QMessageBox) -> tuple[str, str]:
    if isinstance(box, QMessageBox):
        ok, cancel = box.button(MESSAGE_OK), box.button(MESSAGE_CANCEL)
    else:
        ok, cancel = box.button(OK), box.button(CANCEL)
    assert ok is not None and cancel is not None
    # Qt writes mnemonics as "&OK" or "确定(&O)": the reader sees neither.
    return ok.text().replace("&", "").removesuffix("(O)"), cancel.text().replace(
        "&", ""
    ).removesuffix("(C)")


def standard_boxes(qtbot: QtBot) -> tuple[QDialogButtonBox, QMessageBox]:
    buttons = QDialogButtonBox(OK | CANCEL)
    message = QMessageBox(QMessageBox.Icon.Question, "FieldRep", "?", MESSAGE_OK | MESSAGE_CANCEL)
    qtbot.addWidget(buttons)
    qtbot.addWidget(message)
    return buttons, message


@pytest.mark.usefixtures("back_to_chinese")
def test_standard_buttons_are_chinese_in_zh_cn_and_english_in_en(
    qtbot: QtBot, qapp: QApplication
) -> None:
    apply_language(qapp, "en")
    buttons, message = standard_boxes(qtbot)
    assert shown_texts(buttons) == ("OK", "Cancel")
    assert shown_texts(message) == ("OK", "Cancel")

    # Open boxes follow the switch (LanguageChange), and new ones start in it.
    apply_language(qapp, "zh_CN")
    assert shown_texts(buttons) == ("确定", "取消")
    assert shown_texts(message) == ("确定", "取消")
    later_buttons, later_message = standard_boxes(qtbot)
    assert shown_texts(later_buttons) == ("确定", "取消")
    assert shown_texts(later_message) == ("确定", "取消")

    # And back: the Chinese catalogue is removed, not merely shadowed.
    apply_language(qapp, "en")
    for box in (buttons, message, later_buttons, later_message):
        assert shown_texts(box) == ("OK", "Cancel")
    assert shown_texts(standard_boxes(qtbot)[0]) == ("OK", "Cancel")
