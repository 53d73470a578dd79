"""The Qt binding must not lose references to None.

PySide6 6.12.0 on Python 3.11 drops one reference to ``None`` on every call of a
method that returns nothing (``None`` is immortal only from Python 3.12, so the
bug hides there). A working day of clicks then ends the app with "Fatal Python
error: none_dealloc". pyproject.toml keeps PySide6 below 6.12; this test fails
on any binding that brings the bug back.
"""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest
from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QLabel, QWidget

CALLS = 2_000
# Other code running meanwhile (the collector, Qt's event filters) moves the count a
# little either way; the bug moves it by one per call.
SLACK = 50


class _EmptyModel(QAbstractTableModel):
    def rowCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0

    def columnCount(self, parent: QModelIndex | QPersistentModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0

    def data(self, index: QModelIndex | QPersistentModelIndex, role: int = 0) -> object:
        return None


def _calls(widget: QWidget) -> dict[str, Callable[[], object]]:
    label = QLabel(widget)
    palette = QPalette()
    red = QColor("red")
    model = _EmptyModel(widget)

    def reset() -> None:
        model.beginResetModel()
        model.endResetModel()

    return {
        "QLabel.setText": lambda: label.setText("经销商"),
        "QPalette.setBrush": lambda: palette.setBrush(QPalette.ColorRole.Text, red),
        "QWidget.setEnabled": lambda: label.setEnabled(True),
        "model reset": reset,
    }


@pytest.mark.parametrize(
    "name", ["QLabel.setText", "QPalette.setBrush", "QWidget.setEnabled", "model reset"]
)
def test_calls_returning_nothing_keep_none_alive(qtbot: object, name: str) -> None:
    widget = QWidget()
    try:
        call = _calls(widget)[name]
        call()
        before = sys.getrefcount(None)
        for _ in range(CALLS):
            call()
        lost = before - sys.getrefcount(None)
        assert lost < SLACK, f"{name} lost {lost} references to None in {CALLS} calls"
    finally:
        widget.deleteLater()
