"""Drafts of visit records, saved while the rep types, so nothing typed is ever lost.

A draft is a small JSON file in ``<data folder>/drafts/``. It is written a quarter
of a second after typing stops, when the focus leaves a field and when the
record's window loses the focus (all on the I/O pool: the GUI thread only collects
the fields, about 0.3 ms for a 1,600-character card, while the write with its
fsyncs takes about 13 ms here), and at once
when the record's window closes, when its window is destroyed with the main window, and when the
application quits (``aboutToQuit``). Every write goes to a temporary file in the
same folder, is flushed and fsynced, then renamed over the old draft with
``os.replace`` (atomic on every platform), and the folder is fsynced too: after a
crash, a closed lid or a power cut the draft is either the previous version or
the new one, never a torn file. Writes carry a sequence number, so a slow
background write never overwrites a newer one, and a discarded draft stays
discarded. The draft is deleted only after the record was saved.

On the next start :func:`offer_saved_drafts` lists the drafts left behind and
offers each one back (restore or discard); File > Unsaved visit drafts…
(:func:`show_drafts_dialog`) lists them at any time, and a status-bar button
(:class:`DraftsHint`) and a line on the Today view (:class:`DraftsNotice`) say how
many there are.
"""

from __future__ import annotations

import itertools
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from fieldrep.i18n import _, ngettext
from fieldrep.paths import data_dir
from fieldrep.ui.qtcompat import emit

if TYPE_CHECKING:
    from fieldrep.ui.ops import Workers
    from fieldrep.ui.services import AppServices

log = logging.getLogger("fieldrep.ui")

DRAFTS_FOLDER = "drafts"
SUFFIX = ".json"
FORMAT_VERSION = 1
# After the last keystroke: short, so a hard kill loses at most the last quarter
# second of typing; long enough that a burst of keys makes one write, not ten.
AUTOSAVE_DELAY_MS = 250
DRAFT_ID_ROLE = int(Qt.ItemDataRole.UserRole) + 1

_write_lock = threading.Lock()
# Per draft id: the sequence number of the newest write or discard done.
_done_sequence: dict[str, int] = {}
_sequence = itertools.count(1)


def drafts_dir() -> Path:
    """The folder of the drafts (inside the user's data folder)."""
    return data_dir() / DRAFTS_FOLDER


def draft_path(draft_id: str) -> Path:
    safe = "".join(char for char in draft_id if char.isalnum() or char in "-_")
    if not safe:
        raise ValueError(f"bad draft id {draft_id!r}")
    return drafts_dir() / f"{safe}{SUFFIX}"


def _fsync_folder(folder: Path) -> None:
    if os.name != "posix":
        return  # Windows cannot open a folder for fsync; os.replace is durable there
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_draft_file(draft_id: str, payload: Mapping[str, Any]) -> Path:
    """Write a draft atomically: temporary file, flush, fsync, os.replace, fsync the folder."""
    target = draft_path(draft_id)
    target.parent.mkdir(parents=True, exist_ok=True)
    data = json.dumps(payload, ensure_ascii=False, indent=1, sort_keys=True).encode("utf-8")
    handle, temporary = tempfile.mkstemp(
        prefix=f".{target.stem}.", suffix=".tmp", dir=target.parent
    )
    try:
        with os.fdopen(handle, "wb") as stream:
            stream.write(data)
            stream.flush()
            os.fsync(stream.fileno())
        Path(temporary).replace(target)  # os.replace: atomic
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _fsync_folder(target.parent)
    return target


def next_sequence() -> int:
    return next(_sequence)


def write_if_newer(draft_id: str, sequence: int, payload: Mapping[str, Any]) -> bool:
    """Write unless a newer write or a discard of this draft already happened."""
    with _write_lock:
        if _done_sequence.get(draft_id, 0) >= sequence:
            return False
        write_draft_file(draft_id, payload)
        _done_sequence[draft_id] = sequence
        return True


def discard_draft(draft_id: str) -> None:
    """Delete a draft; writes of it still queued are dropped."""
    with _write_lock:
        _done_sequence[draft_id] = next_sequence()
        path = draft_path(draft_id)
        path.unlink(missing_ok=True)
    log.info("draft %s deleted", draft_id)


@dataclass(frozen=True)
class SavedDraft:
    """A draft found on disk."""

    draft_id: str
    path: Path
    saved_at: datetime
    payload: Mapping[str, Any]

    @property
    def title(self) -> str:
        return str(self.payload.get("title") or "")

    @property
    def summary(self) -> str:
        return str(self.payload.get("summary") or "")

    @property
    def dealer_name(self) -> str:
        return str(self.payload.get("dealer_name") or "")

    @property
    def typed_characters(self) -> int | None:
        """How much the rep typed (written by the visit record), if the draft says."""
        value = self.payload.get("typed_characters")
        return value if isinstance(value, int) else None

    @property
    def size_bytes(self) -> int:
        try:
            return self.path.stat().st_size
        except OSError:
            return 0


def _saved_at(payload: Mapping[str, Any], path: Path) -> datetime:
    try:
        return datetime.fromisoformat(str(payload["saved_at"]))
    except (KeyError, ValueError):
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)


def read_drafts() -> list[SavedDraft]:
    """Every readable draft, newest first; unreadable files are logged and left alone."""
    folder = drafts_dir()
    if not folder.is_dir():
        return []
    found: list[SavedDraft] = []
    for path in folder.glob(f"*{SUFFIX}"):
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            log.warning("draft %s cannot be read: %s", path, error)
            continue
        if not isinstance(payload, dict) or payload.get("version") != FORMAT_VERSION:
            log.warning("draft %s has an unknown format", path)
            continue
        found.append(SavedDraft(path.stem, path, _saved_at(payload, path), payload))
    found.sort(key=lambda draft: draft.saved_at, reverse=True)
    return found


def read_draft(draft_id: str) -> SavedDraft | None:
    """The draft with that id, if one is on disk."""
    return next((draft for draft in read_drafts() if draft.draft_id == draft_id), None)


class DraftKeeper:
    """The newest unsaved state of one draft, and how it reaches the disk.

    A plain object (no Qt parent), so the window's ``destroyed`` signal can still
    flush it after the widgets are gone.
    """

    def __init__(self, draft_id: str, workers: Workers | None = None) -> None:
        self.draft_id = draft_id
        self.workers = workers
        self.pending: dict[str, Any] | None = None
        self.pending_sequence = 0
        # Handed to the I/O pool, maybe not written yet: a flush (window destroyed
        # right after a focus-out write was queued) writes it unless the pool did.
        self.in_flight: tuple[dict[str, Any], int] | None = None
        self.discarded = False
        self.last_written_at: datetime | None = None

    def stage(self, payload: Mapping[str, Any]) -> None:
        """Remember the newest state (written by :meth:`write_later` or :meth:`flush`)."""
        if self.discarded:
            return
        staged = dict(payload)
        staged.update(
            version=FORMAT_VERSION,
            draft_id=self.draft_id,
            saved_at=datetime.now(UTC).isoformat(),
        )
        self.pending = staged
        self.pending_sequence = next_sequence()

    def write_later(self, parent: QObject | None) -> None:
        """Write the staged state on the I/O pool (synchronously without workers)."""
        payload, sequence = self.pending, self.pending_sequence
        if payload is None:
            return
        self.pending = None
        if self.workers is None:
            self._write(payload, sequence)
            return
        self.in_flight = (payload, sequence)
        draft_id = self.draft_id
        self.workers.run_io(
            parent,
            lambda: write_if_newer(draft_id, sequence, payload),
            lambda written: self._note_written(bool(written)),
            self._write_failed,
        )

    def flush(self) -> None:
        """Write the staged state now, on this thread (close, quit, destroy).

        Without a staged state, the last one handed to the pool is written unless
        the pool already did (write_if_newer compares the sequence numbers).
        """
        payload, sequence = self.pending, self.pending_sequence
        if payload is None and self.in_flight is not None:
            payload, sequence = self.in_flight
        self.in_flight = None
        if payload is None or self.discarded:
            return
        self.pending = None
        self._write(payload, sequence)

    def discard(self) -> None:
        """The record was saved (or the rep threw the draft away): delete it for good."""
        self.discarded = True
        self.pending = None
        self.in_flight = None
        discard_draft(self.draft_id)

    def _write(self, payload: Mapping[str, Any], sequence: int) -> None:
        try:
            self._note_written(write_if_newer(self.draft_id, sequence, payload))
        except OSError as error:
            self._write_failed(error)

    def _note_written(self, written: bool) -> None:
        if written:
            self.last_written_at = datetime.now(UTC)

    def _write_failed(self, error: BaseException) -> None:
        # The text is still on screen and staged again on the next edit: log, don't interrupt.
        log.error("draft %s could not be written: %s", self.draft_id, error)


class DraftAutosaver(QObject):
    """Debounces edits into draft writes and flushes on quit.

    The owner calls :meth:`touch` with a function that collects its state; the
    state is staged at once (so a quit or destroy right after an edit keeps it)
    and written AUTOSAVE_DELAY_MS after the last edit, or sooner when the focus
    leaves a widget of the window or the window is deactivated (the rep switches
    to another program: the moment a kill or a closed lid is likeliest).
    """

    saved = Signal()

    def __init__(
        self,
        keeper: DraftKeeper,
        collect: Callable[[], Mapping[str, Any]],
        parent: QObject,
        delay_ms: int = AUTOSAVE_DELAY_MS,
    ) -> None:
        super().__init__(parent)
        self.keeper = keeper
        self.collect = collect
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(self.write_now)
        app = QCoreApplication.instance()
        if app is not None:
            app.aboutToQuit.connect(self.flush)
            if isinstance(app, QApplication):
                app.focusChanged.connect(self._focus_changed)
        # After the widgets are gone only the keeper is left: flush what it staged.
        parent.destroyed.connect(keeper.flush)
        parent.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.parent() and event.type() == QEvent.Type.WindowDeactivate:
            self.write_pending()
        return False

    def _focus_changed(self, old: QWidget | None, _new: QWidget | None) -> None:
        window = self.parent()
        if old is not None and isinstance(window, QWidget) and window.isAncestorOf(old):
            self.write_pending()

    def write_pending(self) -> None:
        """Write at once what an edit staged (no write when nothing waits)."""
        if self.keeper.pending is not None and not self.keeper.discarded:
            self.write_now()

    def touch(self) -> None:
        """An edit happened: stage the state now and (re)start the write timer."""
        if self.keeper.discarded:
            return
        self.keeper.stage(self.collect())
        self.timer.start()

    def write_now(self) -> None:
        """Write the staged state on the I/O pool (the timer's end)."""
        self.timer.stop()
        self.keeper.write_later(self.parent())
        emit(self.saved)

    def flush(self) -> None:
        """Write the staged state now, synchronously (close and quit)."""
        self.timer.stop()
        self.keeper.flush()

    def discard(self) -> None:
        self.timer.stop()
        self.keeper.discard()


class DraftsDialog(QDialog):
    """The unsaved drafts (dealer, when last typed, how much), each to open or discard.

    Offered at start with the drafts left behind (``at_start``), or opened from
    File > Unsaved visit drafts… at any time. Discarding asks first.
    """

    restore_requested = Signal(object)  # SavedDraft
    discarded = Signal(str)  # draft id

    def __init__(
        self, drafts: list[SavedDraft], parent: QWidget | None = None, *, at_start: bool = True
    ) -> None:
        super().__init__(parent)
        self.setObjectName("drafts_dialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.at_start = at_start
        self.drafts = {draft.draft_id: draft for draft in drafts}
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.list = QListWidget()
        self.list.setObjectName("drafts_list")
        self.list.setWordWrap(True)
        self.list.setMinimumWidth(520)
        self.list.itemDoubleClicked.connect(lambda _item: self.restore_current())
        self.restore_button = QPushButton()
        self.restore_button.setObjectName("restore_draft")
        self.restore_button.clicked.connect(self.restore_current)
        self.discard_button = QPushButton()
        self.discard_button.setObjectName("discard_draft")
        self.discard_button.clicked.connect(self.discard_current)
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.buttons.rejected.connect(self.reject)
        row = QHBoxLayout()
        row.addWidget(self.restore_button)
        row.addWidget(self.discard_button)
        row.addStretch(1)
        row.addWidget(self.buttons)
        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.list, 1)
        layout.addLayout(row)
        for draft in drafts:
            item = QListWidgetItem()
            item.setData(DRAFT_ID_ROLE, draft.draft_id)
            self.list.addItem(item)
        if self.list.count():
            self.list.setCurrentRow(0)
        self.retranslate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        count = len(self.drafts)
        if self.at_start:
            self.setWindowTitle(_("Unsaved visit records"))
            self.heading.setText(
                ngettext(
                    "A visit record was not saved when FieldRep last closed. "
                    "Restore it to go on writing, or discard it.",
                    "{count} visit records were not saved when FieldRep last closed. "
                    "Restore them to go on writing, or discard them.",
                    count,
                ).format(count=count)
            )
            self.restore_button.setText(_("Restore"))
        else:
            self.setWindowTitle(_("Unsaved visit drafts"))
            self.heading.setText(
                ngettext(
                    "{count} visit record is not saved yet. Open it to go on writing, "
                    "or discard it.",
                    "{count} visit records are not saved yet. Open one to go on writing, "
                    "or discard it.",
                    count,
                ).format(count=count)
                if count
                else _("There are no unsaved visit drafts.")
            )
            self.restore_button.setText(_("Open draft"))
        self.restore_button.setEnabled(bool(count))
        self.discard_button.setEnabled(bool(count))
        self.discard_button.setText(_("Discard…"))
        for row in range(self.list.count()):
            item = self.list.item(row)
            item.setText(describe_draft(self.drafts[str(item.data(DRAFT_ID_ROLE))]))

    def current_draft(self) -> SavedDraft | None:
        item = self.list.currentItem()
        return None if item is None else self.drafts.get(str(item.data(DRAFT_ID_ROLE)))

    def _remove(self, draft_id: str) -> None:
        for row in range(self.list.count()):
            if self.list.item(row).data(DRAFT_ID_ROLE) == draft_id:
                self.list.takeItem(row)
                break
        self.drafts.pop(draft_id, None)
        if not self.drafts:
            self.accept()
        else:
            self.retranslate()

    def restore_current(self) -> None:
        draft = self.current_draft()
        if draft is None:
            return
        self._remove(draft.draft_id)
        emit(self.restore_requested, draft)

    def discard_current(self) -> None:
        """Ask, then delete the selected draft for good."""
        draft = self.current_draft()
        if draft is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            _("Discard the draft"),
            _("Throw away the unsaved visit record “{title}”? This cannot be undone.").format(
                title=draft.dealer_name or draft.title or _("Visit record")
            ),
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("discard_draft_confirm")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        draft_id = draft.draft_id

        def answered(button: int) -> None:
            if button == QMessageBox.StandardButton.Discard:
                discard_draft(draft_id)
                self._remove(draft_id)
                emit(self.discarded, draft_id)

        box.finished.connect(answered)
        box.open()


def describe_draft(draft: SavedDraft) -> str:
    """The dealer, when it was last typed, how much was typed, and its first words."""
    local = draft.saved_at.astimezone().strftime("%Y-%m-%d %H:%M")
    typed = draft.typed_characters
    if typed is not None:
        size = ngettext("{count} character typed", "{count} characters typed", typed).format(
            count=typed
        )
    else:
        size = _("{size} KB").format(size=max(1, round(draft.size_bytes / 1024)))
    text = _("{title} (last typed {time})").format(
        title=draft.dealer_name or draft.title or _("Visit record"), time=local
    )
    text += "  ·  " + size
    if draft.summary:
        text += "\n" + draft.summary
    return text


def offer_saved_drafts(services: AppServices, window: QMainWindow) -> None:
    """Look for drafts left behind (on the I/O pool) and offer them back in a dialog.

    Also puts the drafts button in the status bar, shown while drafts exist.
    """
    hint = install_drafts_hint(services, window)

    def found(drafts: list[SavedDraft]) -> None:
        hint.show_count(len(drafts))
        for notice in window.findChildren(DraftsNotice):
            notice.show_count(len(drafts))
        if not drafts:
            return
        log.info("%d unsaved draft(s) found", len(drafts))
        _open_dialog(services, window, drafts, at_start=True)

    services.workers.run_io(window, read_drafts, found)


def show_drafts_dialog(services: AppServices, window: QMainWindow) -> None:
    """File > Unsaved visit drafts…: list every draft (read on the I/O pool)."""
    services.workers.run_io(
        window, read_drafts, lambda drafts: _open_dialog(services, window, drafts, at_start=False)
    )


def _open_dialog(
    services: AppServices, window: QMainWindow, drafts: list[SavedDraft], *, at_start: bool
) -> None:
    from fieldrep.ui.views.visit_record import open_draft

    dialog = DraftsDialog(drafts, window, at_start=at_start)
    dialog.restore_requested.connect(lambda draft: open_draft(services, window, draft))
    dialog.finished.connect(lambda _result: refresh_drafts_hint(window))
    dialog.open()


class DraftsHint(QPushButton):
    """A quiet status-bar button, "2 drafts", that opens the list of unsaved drafts."""

    def __init__(self, services: AppServices, window: QMainWindow) -> None:
        super().__init__(window)
        self.setObjectName("drafts_hint")
        self.setFlat(True)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.services = services
        self.count = 0
        self.clicked.connect(lambda: show_drafts_dialog(services, window))
        self.hide()

    def refresh(self) -> None:
        """Count the drafts on the I/O pool."""
        self.services.workers.run_io(self, read_drafts, lambda found: self.show_count(len(found)))

    def show_count(self, count: int) -> None:
        self.count = count
        self.retranslate()
        self.setVisible(count > 0)

    def retranslate(self) -> None:
        self.setText(
            # Short: the status bar's permanent widgets must fit 1024 px (the tooltip says more).
            ngettext("{count} draft", "{count} drafts", self.count).format(count=self.count)
        )
        self.setToolTip(_("Visit records typed but not saved yet: click to see them."))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


class DraftsNotice(QWidget):
    """A calm line on the Today view, "2 unfinished visit record drafts", with a link
    that opens them; hidden while there are none."""

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("drafts_notice")
        self.services = services
        self.count = 0
        self.label = QLabel()
        self.label.setObjectName("drafts_notice_text")
        self.label.setStyleSheet("color: palette(mid);")
        self.open_button = QPushButton()
        self.open_button.setObjectName("drafts_notice_open")
        self.open_button.setFlat(True)
        self.open_button.setCursor(Qt.CursorShape.PointingHandCursor)
        self.open_button.setStyleSheet("color: palette(link); text-decoration: underline;")
        self.open_button.clicked.connect(self.open_drafts)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.open_button)
        layout.addStretch(1)
        self.retranslate()
        self.hide()

    def refresh(self) -> None:
        """Count the drafts on the I/O pool."""
        self.services.workers.run_io(self, read_drafts, lambda found: self.show_count(len(found)))

    def show_count(self, count: int) -> None:
        self.count = count
        self.retranslate()
        self.setVisible(count > 0)

    def open_drafts(self) -> None:
        window = self.window()
        if isinstance(window, QMainWindow):
            show_drafts_dialog(self.services, window)

    def retranslate(self) -> None:
        self.label.setText(
            ngettext(
                "{count} unfinished visit record draft",
                "{count} unfinished visit record drafts",
                self.count,
            ).format(count=self.count)
        )
        self.open_button.setText(_("Open the drafts…"))
        self.open_button.setToolTip(_("Visit records typed but not saved yet: restore or discard"))

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)


def install_drafts_hint(services: AppServices, window: QMainWindow) -> DraftsHint:
    """The window's drafts button (made and put in the status bar once)."""
    hint = window.findChild(DraftsHint)
    if hint is None:
        hint = DraftsHint(services, window)
        window.statusBar().addPermanentWidget(hint)
    return hint


def refresh_drafts_hint(window: QWidget | None) -> None:
    """Recount the drafts after one was saved, discarded or opened: the status-bar
    button and the Today line (no-op without them)."""
    if window is None:
        return
    hint = window.findChild(DraftsHint)
    if hint is not None:
        hint.refresh()
    for notice in window.findChildren(DraftsNotice):
        notice.refresh()


__all__ = [
    "DraftAutosaver",
    "DraftKeeper",
    "DraftsDialog",
    "DraftsHint",
    "DraftsNotice",
    "SavedDraft",
    "describe_draft",
    "discard_draft",
    "draft_path",
    "drafts_dir",
    "install_drafts_hint",
    "offer_saved_drafts",
    "read_draft",
    "read_drafts",
    "refresh_drafts_hint",
    "show_drafts_dialog",
    "write_draft_file",
    "write_if_newer",
]
