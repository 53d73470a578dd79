"""Logging: one rotating file in the data folder, named loggers, short user messages."""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from fieldrep.i18n import language
from fieldrep.logging_setup import (
    ExcInfo,
    get_logger,
    install_excepthook,
    log_file_path,
    report_unexpected,
    setup_logging,
    shutdown_logging,
)


@pytest.fixture
def log_file(fieldrep_home: Path) -> Iterator[Path]:
    path = setup_logging(level=logging.DEBUG)
    yield path
    shutdown_logging()


def _flush() -> None:
    for handler in logging.getLogger("fieldrep").handlers:
        handler.flush()


def test_file_is_in_the_data_folder(log_file: Path, fieldrep_home: Path) -> None:
    assert log_file == fieldrep_home / "logs" / "fieldrep.log"
    get_logger("sync").info("pulled %d rows", 42)
    _flush()
    text = log_file.read_text(encoding="utf-8")
    assert "fieldrep.sync" in text
    assert "pulled 42 rows" in text


def test_every_subsystem_has_a_named_logger() -> None:
    names = {get_logger(name).name for name in ("storage", "sync", "server", "reports", "ui")}
    assert names == {
        "fieldrep.storage",
        "fieldrep.sync",
        "fieldrep.server",
        "fieldrep.reports",
        "fieldrep.ui",
    }
    assert get_logger("cli").name == "fieldrep.cli"
    with pytest.raises(ValueError):
        get_logger("gui")


def test_setup_twice_keeps_one_file_handler(log_file: Path) -> None:
    setup_logging()
    handlers = [h for h in logging.getLogger("fieldrep").handlers if hasattr(h, "baseFilename")]
    assert len(handlers) == 1


def test_level_from_environment(fieldrep_home: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FIELDREP_LOG_LEVEL", "warning")
    try:
        setup_logging(level=logging.DEBUG)
        assert logging.getLogger("fieldrep").level == logging.WARNING
    finally:
        shutdown_logging()


def _raise_and_capture() -> ExcInfo:
    try:
        {}["missing"]  # a real KeyError with a real traceback
    except KeyError:
        error_type, error, traceback = sys.exc_info()
        assert error_type is not None and error is not None
        return error_type, error, traceback
    raise AssertionError("no error")


def test_unexpected_error_logs_the_traceback_and_returns_a_short_message(log_file: Path) -> None:
    error_type, error, traceback = _raise_and_capture()
    with language("zh_CN"):
        message = report_unexpected((error_type, error, traceback), "storage")
    _flush()
    assert "KeyError" in message
    assert str(log_file_path()) in message
    assert "Traceback" not in message
    assert "出现了意外错误" in message
    logged = log_file.read_text(encoding="utf-8")
    assert "Traceback (most recent call last)" in logged
    assert "_raise_and_capture" in logged


def test_excepthook_reports_main_and_worker_thread_errors(log_file: Path) -> None:
    shown: list[str] = []
    previous = (sys.excepthook, threading.excepthook)
    restore = install_excepthook(shown.append)
    try:
        error_type, error, traceback = _raise_and_capture()
        sys.excepthook(error_type, error, traceback)

        def fail() -> None:
            raise RuntimeError("worker broke")

        worker = threading.Thread(target=fail)
        worker.start()
        worker.join()
    finally:
        restore()
    assert len(shown) == 2
    assert "RuntimeError" in shown[1]
    _flush()
    assert "worker broke" in log_file.read_text(encoding="utf-8")
    assert (sys.excepthook, threading.excepthook) == previous
