"""Work-arounds for bugs of the Qt binding, in one place.

PySide6 6.12.0: ``SignalInstance.emit()`` returns ``True`` without taking a
reference to it, so every emit from Python lowers the reference count of
``True`` by one; after a few hundred emits the interpreter aborts
("Fatal Python error: bool_dealloc"). ``SignalInstance.disconnect()`` has the
same fault. :func:`emit` and :func:`disconnect` call them and, where the
installed binding has the bug (measured once at import), give the reference
back; on a fixed binding they are plain calls. Use them, never
``signal.emit(...)`` or ``signal.disconnect(...)`` directly. (PySide6 6.11.3 is
not affected.)
"""

from __future__ import annotations

import sys
from functools import cache
from typing import Any

from PySide6.QtCore import QObject, Signal, SignalInstance


@cache
def _py_incref() -> Any:
    import ctypes

    incref = ctypes.pythonapi.Py_IncRef
    incref.argtypes = [ctypes.py_object]
    incref.restype = None
    return incref


def _incref(obj: object) -> None:
    _py_incref()(obj)


class _Probe(QObject):
    probe = Signal(int)


def _emit_loses_a_reference() -> bool:
    probe = _Probe()
    before = sys.getrefcount(True)
    probe.probe.emit(0)
    after = sys.getrefcount(True)
    if after < before:
        _incref(True)  # give back what the probe took
        return True
    return False


# Measured at import, on the importing (GUI) thread before workers exist: another
# thread touching True between the two counts would spoil the measurement.
EMIT_RETURNS_BORROWED_TRUE = _emit_loses_a_reference()


def emit(signal: SignalInstance, *args: Any) -> None:
    """``signal.emit(*args)``, safe on PySide6 versions whose emit drops a reference."""
    # The stubs say None; the binding returns whether the signal was emitted.
    result: object = signal.emit(*args)  # type: ignore[func-returns-value]
    if result is True and EMIT_RETURNS_BORROWED_TRUE:
        _incref(True)


def disconnect(signal: SignalInstance, slot: Any) -> None:
    """``signal.disconnect(slot)``, safe on PySide6 versions that drop a reference."""
    result: object = signal.disconnect(slot)
    if result is True and EMIT_RETURNS_BORROWED_TRUE:
        _incref(True)
