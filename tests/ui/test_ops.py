"""The op helper: work on the worker threads, callbacks on the GUI thread, errors shown once."""

from __future__ import annotations

import logging
import threading
from pathlib import Path

import pytest
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget
from pytestqt.qtbot import QtBot

from fieldrep.i18n import N_, language
from fieldrep.logging_setup import setup_logging, shutdown_logging
from fieldrep.storage.errors import FieldProblem, ValidationError
from fieldrep.ui.ops import Severity, Workers, run_db, run_io, workers_for


def _refusal() -> ValidationError:
    return ValidationError(
        [FieldProblem("due_on", N_("Due date"), N_("must not be empty"))], "follow_up"
    )


def test_db_work_runs_on_one_worker_and_callbacks_on_the_gui_thread(
    qtbot: QtBot, workers: Workers
) -> None:
    gui_thread = threading.current_thread()
    seen: list[tuple[str, str]] = []
    results: list[int] = []

    def work(number: int) -> int:
        seen.append((threading.current_thread().name, str(number)))
        return number * 2

    def done(value: int) -> None:
        assert threading.current_thread() is gui_thread
        results.append(value)

    for number in range(5):
        workers.run_db(None, lambda n=number: work(n), done)
    qtbot.waitUntil(lambda: len(results) == 5)
    assert results == [0, 2, 4, 6, 8], "one database worker keeps the order"
    assert {name for name, _number in seen} == {"fieldrep-db_0"}


def test_io_work_runs_on_the_pool(qtbot: QtBot, workers: Workers) -> None:
    names: list[str] = []
    workers.run_io(None, lambda: threading.current_thread().name, names.append)
    qtbot.waitUntil(lambda: bool(names))
    assert names[0].startswith("fieldrep-io")


def test_validation_error_goes_to_the_form(qtbot: QtBot, workers: Workers) -> None:
    failures: list[BaseException] = []

    def refuse() -> None:
        raise _refusal()

    workers.run_db(None, refuse, lambda _value: pytest.fail("no success"), failures.append)
    qtbot.waitUntil(lambda: bool(failures))
    assert isinstance(failures[0], ValidationError)


def test_unhandled_validation_error_is_a_warning_not_a_crash(
    qtbot: QtBot, workers: Workers, shown_errors: list[tuple[str, Severity]]
) -> None:
    def refuse() -> None:
        raise _refusal()

    workers.run_db(None, refuse, lambda _value: None)
    qtbot.waitUntil(lambda: bool(shown_errors))
    assert shown_errors == [("截止日期：不能为空", Severity.WARNING)]
    shown_errors.clear()


def test_unexpected_error_is_logged_and_shown_short(
    qtbot: QtBot, workers: Workers, shown_errors: list[tuple[str, Severity]], fieldrep_home: Path
) -> None:
    log_file = setup_logging(level=logging.DEBUG)
    try:

        def broken() -> None:
            raise KeyError("missing-piece")

        workers.run_db(None, broken, lambda _value: None)
        qtbot.waitUntil(lambda: bool(shown_errors))
        for handler in logging.getLogger("fieldrep").handlers:
            handler.flush()
    finally:
        shutdown_logging()
    message, severity = shown_errors.pop()
    assert severity is Severity.ERROR
    assert "KeyError" in message and str(log_file) in message
    assert "Traceback" not in message
    logged = log_file.read_text(encoding="utf-8")
    assert "Traceback" in logged and "missing-piece" in logged and "broken" in logged


def test_error_in_a_gui_callback_is_reported(
    qtbot: QtBot, workers: Workers, shown_errors: list[tuple[str, Severity]]
) -> None:
    def bad_callback(_value: int) -> None:
        raise RuntimeError("callback bug")

    workers.run_db(None, lambda: 1, bad_callback)
    qtbot.waitUntil(lambda: bool(shown_errors))
    assert "RuntimeError" in shown_errors.pop()[0]


def test_result_for_a_closed_widget_is_dropped(qtbot: QtBot, workers: Workers) -> None:
    widget = QWidget()
    started = threading.Event()
    release = threading.Event()
    calls: list[int] = []

    def slow() -> int:
        started.set()
        release.wait(10)
        return 1

    workers.run_db(widget, slow, calls.append)
    assert started.wait(10)
    widget.deleteLater()
    qtbot.waitUntil(lambda: not _alive(widget))
    release.set()
    qtbot.waitUntil(lambda: not workers.busy)
    assert calls == []


def _alive(obj: QObject) -> bool:
    import shiboken6

    return shiboken6.isValid(obj)


def test_synchronous_mode_runs_inline(qapp: object) -> None:
    workers = Workers(synchronous=True)
    results: list[str] = []
    workers.run_db(None, lambda: threading.current_thread().name, results.append)
    assert results == [threading.current_thread().name]
    failures: list[BaseException] = []
    workers.run_io(None, lambda: 1 / 0, results.append, failures.append)
    assert isinstance(failures[0], ZeroDivisionError)
    workers.shutdown()


def test_shut_down_workers_refuse_work(qapp: object) -> None:
    workers = Workers()
    workers.shutdown()
    with pytest.raises(RuntimeError):
        workers.run_db(None, lambda: 1, lambda _value: None)


def test_module_helpers_find_the_window_workers(qtbot: QtBot, workers: Workers) -> None:
    window = QWidget()
    window.workers = workers  # type: ignore[attr-defined]
    child = QWidget(window)
    qtbot.addWidget(window)
    assert workers_for(child) is workers
    results: list[int] = []
    run_db(child, lambda: 3, results.append)
    run_io(child, lambda: 4, results.append)
    qtbot.waitUntil(lambda: len(results) == 2)
    assert sorted(results) == [3, 4]
    with pytest.raises(LookupError):
        workers_for(QWidget())


def test_message_of_a_sync_error_is_shown_as_is(
    qtbot: QtBot, workers: Workers, shown_errors: list[tuple[str, Severity]]
) -> None:
    from fieldrep.sync.client import Unreachable

    def offline() -> None:
        raise Unreachable("timeout")

    with language("en"):
        workers.run_io(None, offline, lambda _value: None)
        qtbot.waitUntil(lambda: bool(shown_errors))
    message, severity = shown_errors.pop()
    assert severity is Severity.WARNING
    # Worded for the user (the technical detail goes to the log file only).
    assert "timed out" in message and "Traceback" not in message


def test_work_posts_part_of_its_result_to_the_gui_thread_first(
    qtbot: QtBot, workers: Workers
) -> None:
    gui_thread = threading.current_thread()
    widget = QWidget()
    seen: list[tuple[str, bool]] = []

    def work() -> str:
        # The first part goes to the GUI thread while the work goes on.
        workers.post(
            widget,
            lambda: seen.append(("first", threading.current_thread() is gui_thread)),
        )
        return "rest"

    workers.run_db(
        widget, work, lambda rest: seen.append((rest, threading.current_thread() is gui_thread))
    )
    qtbot.waitUntil(lambda: not workers.busy)
    assert seen == [("first", True), ("rest", True)]


def test_a_post_for_a_closed_widget_is_dropped(qtbot: QtBot, workers: Workers) -> None:
    widget = QWidget()
    calls: list[int] = []

    def work() -> None:
        workers.post(widget, lambda: calls.append(1))

    release = threading.Event()
    workers.run_db(None, lambda: release.wait(10), lambda _released: None)
    workers.run_db(None, work, lambda _none: None)
    widget.deleteLater()
    qtbot.waitUntil(lambda: not _alive(widget))
    release.set()
    qtbot.waitUntil(lambda: not workers.busy)
    assert calls == []
