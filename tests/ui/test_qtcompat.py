"""The emit work-around: thousands of emits leave the reference count of True alone."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal

from fieldrep.ui.qtcompat import disconnect, emit


class _Sender(QObject):
    number = Signal(int)


def test_emit_keeps_the_reference_count_of_true(qapp: object) -> None:
    sender = _Sender()
    received: list[int] = []
    sender.number.connect(received.append)
    before = sys.getrefcount(True)
    for value in range(5000):
        emit(sender.number, value)
    assert len(received) == 5000
    # A buggy binding would have lost 5000 references; a few may come and go meanwhile.
    assert sys.getrefcount(True) >= before - 50


def test_disconnect_keeps_the_reference_count_of_true(qapp: object) -> None:
    sender = _Sender()
    received: list[int] = []
    before = sys.getrefcount(True)
    for _round in range(2000):
        sender.number.connect(received.append)
        disconnect(sender.number, received.append)
    emit(sender.number, 1)
    assert received == []
    assert sys.getrefcount(True) >= before - 50
