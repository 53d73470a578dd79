"""The one way to run background work from the GUI (after Anki's CollectionOp/QueryOp).

Database work runs on a single worker thread (SQLite has one writer, and one
thread keeps writes in order); network and PDF work runs on a small pool. The
function gets plain arguments and returns plain values (Records, frozen
dataclasses); it never touches a widget. ``on_success`` and ``on_failure`` run
on the GUI thread: a worker posts the outcome through a queued Qt signal.

Errors: a form that expects a :class:`ValidationError` passes ``on_failure`` and
shows the problems next to its fields. Anything the caller does not handle ends
in one short translated dialog; the traceback goes to the log file
(:func:`fieldrep.logging_setup.report_unexpected`), never to the user.

Tests use ``Workers(synchronous=True)`` to run everything inline, or real
threads with ``qtbot.waitUntil``; fixtures call :meth:`Workers.shutdown`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from enum import Enum
from typing import TYPE_CHECKING, Protocol, TypeVar

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal, Slot
from PySide6.QtWidgets import QMessageBox, QWidget

from fieldrep.logging_setup import report_unexpected
from fieldrep.storage.errors import ValidationError
from fieldrep.ui.common import app_title
from fieldrep.ui.qtcompat import emit

if TYPE_CHECKING:
    from concurrent.futures import Future, ThreadPoolExecutor

log = logging.getLogger("fieldrep.ui")

T = TypeVar("T")

IO_THREADS = 4


class Severity(Enum):
    """How a message box looks: a refused input or an unexpected failure."""

    WARNING = "warning"
    ERROR = "error"


# Shows a short message to the user; tests replace it to collect messages.
ErrorPresenter = Callable[[QWidget | None, str, Severity], None]


def message_box_presenter(parent: QWidget | None, message: str, severity: Severity) -> None:
    """The standard error dialog: window-modal, non-blocking, in the user's language."""
    icon = QMessageBox.Icon.Critical if severity is Severity.ERROR else QMessageBox.Icon.Warning
    box = QMessageBox(icon, app_title(), message, QMessageBox.StandardButton.Ok, parent)
    box.setObjectName("error_dialog")
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()


def user_message(error: BaseException) -> tuple[str, Severity] | None:
    """The translated message of an error the user can act on, or None if unexpected.

    Validation errors and the sync errors carry their own sentence; everything
    else is a bug or an environment failure and goes to the log.
    """
    if isinstance(error, ValidationError):
        return error.message(), Severity.WARNING
    describe = getattr(error, "user_message", None)
    if callable(describe):
        text = describe()
        if isinstance(text, str) and text:
            return text, Severity.WARNING
    return None


class _Relay(QObject):
    """Lives on the GUI thread; a signal emitted by a worker is queued to it."""

    deliver = Signal(object)

    def __init__(self) -> None:
        super().__init__()
        # Queued even when emitted on the GUI thread: a function that finished before
        # its done-callback was added delivers from the GUI thread, and must still
        # come after what it posted while it ran (Workers.post), never inside run_db.
        self.deliver.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run(self, callback: Callable[[], None]) -> None:
        callback()


class Workers:
    """The database worker and the I/O pool of one application window."""

    def __init__(
        self,
        *,
        synchronous: bool = False,
        io_threads: int = IO_THREADS,
        present_error: ErrorPresenter | None = None,
    ) -> None:
        self.synchronous = synchronous
        self.present_error: ErrorPresenter = present_error or message_box_presenter
        self._relay = _Relay()
        self._io_threads = io_threads
        # Made on first use: the window appears before any background work exists.
        self._db: ThreadPoolExecutor | None = None
        self._io: ThreadPoolExecutor | None = None
        self._lock = threading.Lock()
        self._running = 0
        self._closed = False

    # -- public API

    def run_db(
        self,
        parent: QObject | None,
        fn: Callable[[], T],
        on_success: Callable[[T], None],
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> Future[T]:
        """Run ``fn`` on the database worker; callbacks run on the GUI thread."""
        return self._submit("db", parent, fn, on_success, on_failure)

    def run_io(
        self,
        parent: QObject | None,
        fn: Callable[[], T],
        on_success: Callable[[T], None],
        on_failure: Callable[[BaseException], None] | None = None,
    ) -> Future[T]:
        """Run ``fn`` on the network/PDF pool; callbacks run on the GUI thread."""
        return self._submit("io", parent, fn, on_success, on_failure)

    def post(self, parent: QObject | None, callback: Callable[[], None]) -> None:
        """Run ``callback`` on the GUI thread, from any thread: a function on a worker
        hands over part of its result early (the first page of a list) this way.

        Posted callbacks and the outcomes of the functions run in the order they
        were posted; a callback is dropped once ``parent`` is gone.
        """

        def run() -> None:
            if parent is not None and not shiboken6.isValid(parent):
                return
            try:
                callback()
            except Exception as error:  # a bug in a GUI callback
                self.show_failure(parent, error)

        if self.synchronous:
            run()
        else:
            emit(self._relay.deliver, run)

    @property
    def closed(self) -> bool:
        """True once :meth:`shutdown` was called: no more work is taken."""
        return self._closed

    @property
    def busy(self) -> bool:
        """True while a submitted function or its callbacks have not finished."""
        with self._lock:
            return self._running > 0

    def shutdown(self, *, wait: bool = True) -> None:
        """Stop taking work, drop queued work, and wait for what is running."""
        self._closed = True
        for executor in (self._db, self._io):
            if executor is not None:
                executor.shutdown(wait=wait, cancel_futures=True)

    def show_failure(self, parent: QObject | None, error: BaseException) -> None:
        """Tell the user about an error nobody handled: its own message, or log and apologise."""
        widget = parent if isinstance(parent, QWidget) and shiboken6.isValid(parent) else None
        known = user_message(error)
        if known is not None:
            log.info("refused: %s", error)
            self.present_error(widget, known[0], known[1])
            return
        message = report_unexpected((type(error), error, error.__traceback__))
        self.present_error(widget, message, Severity.ERROR)

    # -- internals

    def _executor(self, kind: str) -> ThreadPoolExecutor | None:
        if self.synchronous:
            return None
        from concurrent.futures import ThreadPoolExecutor

        with self._lock:
            if kind == "db":
                if self._db is None:
                    self._db = ThreadPoolExecutor(1, thread_name_prefix="fieldrep-db")
                return self._db
            if self._io is None:
                self._io = ThreadPoolExecutor(self._io_threads, thread_name_prefix="fieldrep-io")
            return self._io

    def _submit(
        self,
        kind: str,
        parent: QObject | None,
        fn: Callable[[], T],
        on_success: Callable[[T], None],
        on_failure: Callable[[BaseException], None] | None,
    ) -> Future[T]:
        from concurrent.futures import Future

        if self._closed:
            raise RuntimeError("the workers are shut down")
        executor = self._executor(kind)
        with self._lock:
            self._running += 1
        if executor is None:
            future: Future[T] = Future()
            try:
                future.set_result(fn())
            except Exception as error:  # delivered to on_failure below
                future.set_exception(error)
            self._finish(future, parent, on_success, on_failure)
            return future
        future = executor.submit(fn)
        future.add_done_callback(
            lambda done: emit(
                self._relay.deliver, lambda: self._finish(done, parent, on_success, on_failure)
            )
        )
        return future

    def _finish(
        self,
        future: Future[T],
        parent: QObject | None,
        on_success: Callable[[T], None],
        on_failure: Callable[[BaseException], None] | None,
    ) -> None:
        try:
            if future.cancelled():
                return
            if parent is not None and not shiboken6.isValid(parent):
                # The widget that asked is gone (closed view or dialog): drop the result,
                # but never an error nobody would see otherwise.
                error = future.exception()
                if error is not None:
                    report_unexpected((type(error), error, error.__traceback__))
                return
            error = future.exception()
            try:
                if error is None:
                    on_success(future.result())
                elif on_failure is not None:
                    on_failure(error)
                else:
                    self.show_failure(parent, error)
            except Exception as callback_error:  # a bug in a GUI callback
                self.show_failure(parent, callback_error)
        finally:
            with self._lock:
                self._running -= 1


class HasWorkers(Protocol):
    workers: Workers


def workers_for(obj: QObject | None) -> Workers:
    """The Workers of the window that owns ``obj`` (found up the parent chain)."""
    current = obj
    while current is not None:
        found = getattr(current, "workers", None)
        if isinstance(found, Workers):
            return found
        current = current.parent()
    raise LookupError("no window with workers owns this object")


def run_db(
    parent: QObject,
    fn: Callable[[], T],
    on_success: Callable[[T], None],
    on_failure: Callable[[BaseException], None] | None = None,
) -> Future[T]:
    """Run ``fn`` on the database worker of ``parent``'s window (see :class:`Workers`)."""
    return workers_for(parent).run_db(parent, fn, on_success, on_failure)


def run_io(
    parent: QObject,
    fn: Callable[[], T],
    on_success: Callable[[T], None],
    on_failure: Callable[[BaseException], None] | None = None,
) -> Future[T]:
    """Run ``fn`` on the network/PDF pool of ``parent``'s window (see :class:`Workers`)."""
    return workers_for(parent).run_io(parent, fn, on_success, on_failure)


def unexpected_message(error: BaseException) -> str:
    """Log ``error`` with its traceback and return the short sentence for the user."""
    return report_unexpected((type(error), error, error.__traceback__))


__all__ = [
    "ErrorPresenter",
    "Severity",
    "Workers",
    "message_box_presenter",
    "run_db",
    "run_io",
    "user_message",
    "workers_for",
]
