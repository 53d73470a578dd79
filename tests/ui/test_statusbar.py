"""The status bar at the window's default width and down to 1024 px, in both languages.

The worst case at once: offline after a failed attempt, a long user name, four-digit
pending changes, conflicts and refused changes, a last sync in an earlier year,
colleagues' changes and unsaved drafts, and the longest transient message. Every
text in the bar must be readable in full, or elided ("…") with the full text in
its tooltip; the message takes what room is left and never squeezes the rest.
"""

from __future__ import annotations

from datetime import datetime

import pytest
from PySide6.QtWidgets import QAbstractButton, QApplication, QLabel, QWidget
from pytestqt.qtbot import QtBot

from fieldrep.i18n import _, ngettext
from fieldrep.storage.display import join_sentences
from fieldrep.sync.client import Unreachable
from fieldrep.sync.engine import SyncSummary
from fieldrep.ui.drafts import DraftsHint
from fieldrep.ui.language import apply_language
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.statusbar import ElidedLabel, SyncStatusBar
from fieldrep.ui.sync_bridge import NOT_CONFIGURED, SyncState
from fieldrep.ui.views.digest import DigestButton

DEFAULT_WIDTH = 1180
NARROWEST = 1024
LONG_USER = "alexandra.konstantinopoulou"


def busiest_state(today: datetime) -> SyncState:
    return SyncState(
        pending=1234,
        conflicts=12,
        last_sync=today.replace(year=today.year - 1, month=11, day=28, hour=14, minute=35),
        server_url="https://fieldrep.example.com",
        username=LONG_USER,
        rejected=3,
        signed_in=True,
    )


def longest_message(status: SyncStatusBar) -> str:
    """The widest of the messages a sync can leave, in the current language."""
    done = SyncSummary(pushed=1234, pulled=56789, merged=1234, conflicts=12).line()
    colleagues = ngettext(
        "{count} change by colleagues.", "{count} changes by colleagues.", 128
    ).format(count=128)
    messages = [
        _(NOT_CONFIGURED),
        Unreachable("connection refused by fieldrep.example.com:443").user_message(),
        join_sentences(done, colleagues),
    ]
    return max(messages, key=status.fontMetrics().horizontalAdvance)


def fill(window: MainWindow) -> str:
    """Put the worst case on the window's status bar; returns the message shown."""
    status = window.status
    status.set_state(busiest_state(datetime.now().astimezone()))
    status.note_attempt(False)
    digest = window.findChild(DigestButton)
    drafts = window.findChild(DraftsHint)
    assert digest is not None and drafts is not None
    digest.set_count(128)
    drafts.show_count(12)
    message = longest_message(status)
    status.show_message(message)
    return message


def status_texts(status: SyncStatusBar) -> list[QWidget]:
    widgets: list[QWidget] = [*status.findChildren(QLabel), *status.findChildren(QAbstractButton)]
    return [widget for widget in widgets if widget.isVisible()]


def unreadable(status: SyncStatusBar) -> list[str]:
    """Texts of the bar that are cut: not shown in full and not elided with a tooltip."""
    problems = []
    for widget in status_texts(status):
        assert isinstance(widget, (QLabel, QAbstractButton))
        text = widget.text()
        if isinstance(widget, ElidedLabel):
            full = widget.full_text
            if text != full and not (text.endswith("…") and widget.toolTip() == full):
                problems.append(f"{widget.objectName()}: {text!r} without its full text")
        if text.endswith("…") and text != _("Syncing…") and not widget.toolTip():
            problems.append(f"{widget.objectName()}: elided {text!r} without a tooltip")
        if isinstance(widget, QLabel):
            room, needed = (
                widget.contentsRect().width(),
                widget.fontMetrics().horizontalAdvance(text),
            )
        else:  # a button needs its padding too: its size hint
            room, needed = widget.width(), widget.sizeHint().width()
        if needed > room:
            problems.append(f"{widget.objectName()}: {text!r} needs {needed} px, has {room}")
    return problems


def widths(status: SyncStatusBar) -> dict[str, int]:
    return {
        widget.objectName(): widget.width()
        for widget in status_texts(status)
        if widget is not status.message_label
    }


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_nothing_in_the_status_bar_is_cut_at_the_default_width_or_at_1024(
    qtbot: QtBot, qapp: QApplication, main_window: MainWindow, lang: str
) -> None:
    from shots import save_screenshot

    apply_language(qapp, lang)
    try:
        status = main_window.status
        qtbot.waitUntil(lambda: status.state is not None and not main_window.workers.busy)
        message = fill(main_window)
        for width in (DEFAULT_WIDTH, NARROWEST):
            main_window.resize(width, 760)
            QApplication.processEvents()
            assert main_window.width() == width, "the status bar does not force a wider window"
            assert unreadable(status) == [], (lang, width)
            # The message is elided to its room; the whole sentence is in the tooltip.
            label = status.message_label
            assert status.currentMessage() == message
            if label.text() != message:
                assert label.text().endswith("…") and label.toolTip() == message
            if width == DEFAULT_WIDTH:
                save_screenshot(main_window, f"status_bar_busiest_{lang}")
        # The user name is cut to fit; the tooltip says who in full.
        assert LONG_USER not in status.network_label.text()
        assert LONG_USER in status.network_label.toolTip()
    finally:
        apply_language(qapp, "zh_CN")


def test_a_long_message_does_not_squeeze_the_permanent_widgets(
    qtbot: QtBot, main_window: MainWindow
) -> None:
    status = main_window.status
    qtbot.waitUntil(lambda: status.state is not None and not main_window.workers.busy)
    message = fill(main_window)
    main_window.resize(NARROWEST, 760)
    status.show_message("")
    QApplication.processEvents()
    quiet = widths(status)
    status.show_message(message)
    QApplication.processEvents()
    assert widths(status) == quiet
    assert status.message_label.text().endswith("…")
    assert status.message_label.toolTip() == message
    assert status.currentMessage() == message
    # A short message is shown as it is, without a tooltip.
    status.show_message("同步完成。")
    QApplication.processEvents()
    assert (status.message_label.text(), status.message_label.toolTip()) == ("同步完成。", "")


def test_online_and_signed_in_read_as_one_label(qtbot: QtBot, main_window: MainWindow) -> None:
    status = main_window.status
    qtbot.waitUntil(lambda: status.state is not None and not main_window.workers.busy)
    now = datetime.now().astimezone()
    status.set_today(now.date())
    state = busiest_state(now)
    status.set_state(state)
    status.note_attempt(True)
    assert status.network_label.text().startswith("● 在线 · alexand")
    status.set_state(SyncState(0, 0, None, state.server_url, "alice", signed_in=True))
    assert status.network_label.text() == "● 在线 · alice"
    assert "已以 alice 身份登录 https://fieldrep.example.com。" in status.network_label.toolTip()
    status.set_state(SyncState(0, 0, None, state.server_url, "alice", signed_in=False))
    assert status.network_label.text() == "● 在线 · 未登录"
    status.note_attempt(False, when=now.replace(hour=9, minute=5))
    assert status.network_label.text() == "○ 离线 · 未登录"
    assert status.network_label.toolTip().startswith("离线：09:05 未能连接服务器。")
