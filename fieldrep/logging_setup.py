"""Named loggers per subsystem and one rotating log file in the user's data folder.

The CLI and the GUI call :func:`setup_logging` once at start. Unexpected errors go
through :func:`report_unexpected`: the log keeps the traceback, the user gets one
short sentence in their language pointing at the log file.
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType

from fieldrep.i18n import _
from fieldrep.paths import log_dir

ROOT_LOGGER = "fieldrep"
SUBSYSTEMS = ("storage", "sync", "server", "reports", "ui", "cli")
LOG_FILE_NAME = "fieldrep.log"
LEVEL_ENV = "FIELDREP_LOG_LEVEL"
MAX_BYTES = 2 * 1024 * 1024
BACKUP_COUNT = 5
FORMAT = "%(asctime)s %(levelname)-7s %(name)s [%(threadName)s] %(message)s"

storage = logging.getLogger(f"{ROOT_LOGGER}.storage")
sync = logging.getLogger(f"{ROOT_LOGGER}.sync")
server = logging.getLogger(f"{ROOT_LOGGER}.server")
reports = logging.getLogger(f"{ROOT_LOGGER}.reports")
ui = logging.getLogger(f"{ROOT_LOGGER}.ui")
cli = logging.getLogger(f"{ROOT_LOGGER}.cli")

# Marks the handlers this module installed, so set-up can be repeated safely.
_OWN_HANDLER = "_fieldrep_handler"

ExcInfo = tuple[type[BaseException], BaseException, TracebackType | None]


def get_logger(subsystem: str) -> logging.Logger:
    """The logger of one subsystem, e.g. ``get_logger("sync")`` -> ``fieldrep.sync``."""
    if subsystem not in SUBSYSTEMS:
        raise ValueError(f"unknown subsystem {subsystem!r}; expected one of {SUBSYSTEMS}")
    return logging.getLogger(f"{ROOT_LOGGER}.{subsystem}")


def log_file_path() -> Path:
    """Where the current log file is (or will be) written."""
    return log_dir() / LOG_FILE_NAME


def _level_from_env(default: int) -> int:
    name = os.environ.get(LEVEL_ENV, "").strip().upper()
    level = logging.getLevelName(name) if name else default
    return level if isinstance(level, int) else default


def setup_logging(*, level: int = logging.INFO, console_level: int | None = None) -> Path:
    """Send every ``fieldrep.*`` logger to a rotating file; returns the file's path.

    ``console_level`` adds a stderr handler (the CLI uses WARNING). Calling it
    again replaces the handlers, e.g. after FIELDREP_HOME changed.
    """
    shutdown_logging()
    root = logging.getLogger(ROOT_LOGGER)
    root.setLevel(_level_from_env(level))
    path = log_file_path()
    file_handler = logging.handlers.RotatingFileHandler(
        path, maxBytes=MAX_BYTES, backupCount=BACKUP_COUNT, encoding="utf-8", delay=True
    )
    file_handler.setFormatter(logging.Formatter(FORMAT))
    handlers: list[logging.Handler] = [file_handler]
    if console_level is not None:
        console = logging.StreamHandler(sys.stderr)
        console.setLevel(console_level)
        console.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        handlers.append(console)
    for handler in handlers:
        setattr(handler, _OWN_HANDLER, True)
        root.addHandler(handler)
    logging.captureWarnings(True)
    return path


def shutdown_logging() -> None:
    """Close and remove the handlers :func:`setup_logging` installed."""
    root = logging.getLogger(ROOT_LOGGER)
    for handler in list(root.handlers):
        if getattr(handler, _OWN_HANDLER, False):
            root.removeHandler(handler)
            handler.close()
    logging.captureWarnings(False)


def report_unexpected(exc_info: ExcInfo, subsystem: str = "ui") -> str:
    """Log an unexpected error with its traceback; return a short message for the user."""
    error_type, error, _traceback = exc_info
    get_logger(subsystem).error("unexpected error: %s", error, exc_info=exc_info)
    return _(
        "Something went wrong ({error}). FieldRep wrote the details to the log file {log_file}."
    ).format(error=error_type.__name__, log_file=log_file_path())


def install_excepthook(
    show: Callable[[str], None] | None = None, subsystem: str = "ui"
) -> Callable[[], None]:
    """Route uncaught exceptions (main and worker threads) to the log and ``show``.

    ``show`` receives the short message (the GUI opens a dialog); without it the
    message goes to stderr. Returns a function that restores the previous hooks.
    """
    previous_hook = sys.excepthook
    previous_thread_hook = threading.excepthook

    def tell(message: str) -> None:
        if show is not None:
            show(message)
        else:
            sys.stderr.write(message + "\n")

    def hook(
        error_type: type[BaseException], error: BaseException, traceback: TracebackType | None
    ) -> None:
        if issubclass(error_type, KeyboardInterrupt):
            previous_hook(error_type, error, traceback)
            return
        tell(report_unexpected((error_type, error, traceback), subsystem))

    def thread_hook(args: threading.ExceptHookArgs) -> None:
        if args.exc_value is None or issubclass(args.exc_type, SystemExit):
            return
        tell(report_unexpected((args.exc_type, args.exc_value, args.exc_traceback), subsystem))

    sys.excepthook = hook
    threading.excepthook = thread_hook

    def restore() -> None:
        sys.excepthook = previous_hook
        threading.excepthook = previous_thread_hook

    return restore
