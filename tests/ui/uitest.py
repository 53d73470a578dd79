"""Helpers of the GUI tests (imported by the tests and their conftest)."""

from __future__ import annotations

from pathlib import Path

import httpx
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QWidget
from pytestqt.qtbot import QtBot

from fieldrep.storage.services.core import Store
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.ops import Workers
from fieldrep.ui.uisettings import UiSettings
from fieldrep.ui.views.today import TodayView


def make_window(
    qtbot: QtBot, workers: Workers, settings: UiSettings, store: Store, db_path: Path
) -> MainWindow:
    """A shown main window on the store; waits until the first view has its data."""
    window = MainWindow(workers, settings, db_path)
    qtbot.addWidget(window)
    window.show()
    window.attach_store(store)
    view = window.current_view()
    if isinstance(view, TodayView):
        qtbot.waitUntil(lambda: view.data is not None and view.sales_ready)
    return window


def commit_text(widget: QWidget, text: str) -> None:
    """Chinese arrives from the input method as a committed string, not as key presses."""
    widget.setFocus()
    event = QInputMethodEvent()
    event.setCommitString(text)
    QApplication.sendEvent(widget, event)


def all_texts(root: QWidget) -> list[str]:
    """Every text a user can read in ``root``: labels, buttons, fields, headers, menus."""
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import (
        QAbstractButton,
        QAbstractItemView,
        QComboBox,
        QGroupBox,
        QLabel,
        QLineEdit,
        QListWidget,
        QMenu,
    )

    texts: list[str] = []
    widgets = [root, *root.findChildren(QWidget)]
    for widget in widgets:
        if not widget.isVisibleTo(root) and widget is not root:
            continue
        if isinstance(widget, (QLabel, QAbstractButton)):
            texts.append(widget.text())
        elif isinstance(widget, QGroupBox):
            texts.append(widget.title())
        elif isinstance(widget, QLineEdit):
            texts.append(widget.placeholderText())
        elif isinstance(widget, QComboBox):
            texts.extend(widget.itemText(i) for i in range(widget.count()))
        elif isinstance(widget, QMenu):
            texts.append(widget.title())
            texts.extend(action.text() for action in widget.actions())
        if isinstance(widget, QListWidget):
            texts.extend(widget.item(i).text() for i in range(widget.count()))
        elif isinstance(widget, QAbstractItemView) and widget.model() is not None:
            model = widget.model()
            texts.extend(
                str(model.headerData(c, Qt.Orientation.Horizontal) or "")
                for c in range(model.columnCount())
            )
    return [text for text in texts if text]


class NetworkSwitch(httpx.BaseTransport):
    """The road to the server: off, every request fails as with no network."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.online = True
        self.requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if not self.online:
            raise httpx.ConnectError("network is down", request=request)
        return self.inner.handle_request(request)
