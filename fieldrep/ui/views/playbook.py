"""The objection playbook: answers per objection type, with how often each one worked.

The eight types are listed on the left with the dealer's typical words
(DOMAIN.md §2.9). For the chosen type the answers are listed best first,
computed from the recorded outcomes of the objections that used them
(:func:`fieldrep.storage.services.playbook.playbook_stats`: uses, resolved,
partly resolved, lost) and ranked by the lower bound of the 95% Wilson interval
of success (:func:`fieldrep.storage.services.playbook.ranking_key`), so 45 of 50
ranks above 1 of 1. Each row says "worked n of m" with the rate. An answer is
added or edited below the list; refused values are shown at their fields.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, Qt, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from fieldrep.i18n import N_, _
from fieldrep.storage.enums import OBJECTION_EXAMPLES, ObjectionType, ResponsePattern
from fieldrep.storage.errors import ValidationError
from fieldrep.storage.models import ObjectionAnswer
from fieldrep.ui.common import make_bold
from fieldrep.ui.forms import FieldError, FieldGrid, FormBinding, joined
from fieldrep.ui.qtcompat import emit
from fieldrep.ui.rows_model import ROW_ROLE, RowColumn
from fieldrep.ui.uisettings import UiSettings
from fieldrep.ui.views.base import View
from fieldrep.ui.views.today import Panel

if TYPE_CHECKING:
    from fieldrep.storage.services.core import Record, Store
    from fieldrep.storage.services.playbook import AnswerStats
    from fieldrep.ui.services import AppServices

log = logging.getLogger("fieldrep.ui")

TYPE_ROLE = int(Qt.ItemDataRole.UserRole) + 1
SPLITTER_KEY = "playbook_main"
ANSWER_FIELDS = ("title", "type", "response_pattern", "answer_text", "evidence", "source")
LONG_FIELDS = frozenset({"answer_text", "evidence"})


@dataclass(frozen=True)
class PlaybookEntry:
    """An answer with its record and how well it worked."""

    answer: Record
    stats: AnswerStats

    @property
    def id(self) -> str:
        return self.answer.id

    @property
    def success_rate(self) -> Decimal | None:
        return self.stats.success_rate


@dataclass(frozen=True)
class Playbook:
    entries: Mapping[str, tuple[PlaybookEntry, ...]]  # by objection type code


def success_order(entry: PlaybookEntry) -> tuple[int, float, float, int, str]:
    """Best first by the service's ranking (Wilson lower bound); never-used ones last."""
    from fieldrep.storage.services.playbook import ranking_key

    return ranking_key(entry.stats)


def load_playbook(store: Store) -> Playbook:
    """Every live answer with its statistics, grouped by type and sorted by success.

    An answer copied into several territories is one entry (its shown copy) with
    the uses of all copies (:func:`~fieldrep.storage.services.playbook.playbook_stats`).
    """
    from fieldrep.storage.services.playbook import answers_for, playbook_stats

    stats = {row.answer_id: row for row in playbook_stats(store)}
    entries: dict[str, tuple[PlaybookEntry, ...]] = {}
    for kind in ObjectionType:
        found = [
            PlaybookEntry(answer, stats[answer.id])
            for answer in answers_for(store, kind)
            if answer.id in stats
        ]
        entries[kind.code] = tuple(sorted(found, key=success_order))
    return Playbook(entries)


def _rate_text(entry: PlaybookEntry) -> str:
    rate = entry.success_rate
    return "—" if rate is None else f"{rate * 100:.0f}%"


def _worked_text(entry: PlaybookEntry) -> str:
    """“worked 45 of 50 (90%)”; a dash for an answer never used."""
    if entry.stats.times_used == 0:
        return _("not used yet")
    return _("worked {resolved} of {used} ({rate})").format(
        resolved=entry.stats.times_resolved, used=entry.stats.times_used, rate=_rate_text(entry)
    )


def _worked_tooltip(entry: PlaybookEntry) -> str:
    floor = entry.stats.confidence_floor
    if floor is None:
        return _("Ranked last until the answer has been used.")
    return _(
        "Ranked by how sure the record makes us: with 95% confidence this answer "
        "resolves at least {floor:.0f}% of these objections."
    ).format(floor=floor * 100)


COLUMNS = (
    RowColumn(
        N_("Answer"),
        lambda e: e.stats.title,
        tooltip=lambda e: e.answer["answer_text"],
        stretch=True,
    ),
    RowColumn(
        N_("Technique"),
        lambda e: e.answer["response_pattern"].label if e.answer["response_pattern"] else "",
    ),
    RowColumn(
        N_("Partly resolved"), lambda e: str(e.stats.times_partly_resolved), align_right=True
    ),
    RowColumn(N_("Lost"), lambda e: str(e.stats.times_lost), align_right=True),
    RowColumn(N_("Success"), _worked_text, align_right=True, tooltip=_worked_tooltip),
)


class PlaybookView(View):
    """Answers per objection type, how often each worked, and an editor."""

    data_loaded = Signal()
    answer_saved = Signal(object)

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.data: Playbook | None = None
        self.current_answer_id: str | None = None
        self.busy = False

        self.types = QListWidget()
        self.types.setObjectName("playbook_types")
        self.types.setWordWrap(True)
        for kind in ObjectionType:
            item = QListWidgetItem()
            item.setData(TYPE_ROLE, kind.code)
            self.types.addItem(item)
        self.types.currentRowChanged.connect(lambda _row: self._show_type())

        self.heading = QLabel()
        self.heading.setObjectName("playbook_heading")
        make_bold(self.heading, 1.3)
        self.example = QLabel()
        self.example.setObjectName("playbook_example")
        self.example.setWordWrap(True)
        self.example.setStyleSheet("color: palette(mid);")
        self.panel = Panel("playbook_answers", COLUMNS, N_("No answers for this type yet."))
        self.panel.title.hide()
        self.panel.table.selectionModel().currentRowChanged.connect(
            lambda current, _previous: self._answer_selected(current)
        )

        self.binding = FormBinding(ObjectionAnswer)
        for name in ANSWER_FIELDS:
            editor = self.binding.make(name, long=name in LONG_FIELDS, lines=4)
            editor.changed.connect(self._edited)
        self.editor_heading = QLabel()
        self.editor_heading.setObjectName("playbook_editor_heading")
        make_bold(self.editor_heading)
        self.grid = FieldGrid(self.binding.editors_for(ANSWER_FIELDS))
        self.message = FieldError("playbook")
        self.state = QLabel()
        self.state.setObjectName("playbook_state")
        self.state.setStyleSheet("color: palette(mid);")
        self.new_button = QPushButton()
        self.new_button.setObjectName("playbook_new")
        self.new_button.clicked.connect(self.new_answer)
        self.save_button = QPushButton()
        self.save_button.setObjectName("playbook_save")
        self.save_button.clicked.connect(self.save_answer)
        buttons = QHBoxLayout()
        buttons.addWidget(self.state, 1)
        buttons.addWidget(self.new_button)
        buttons.addWidget(self.save_button)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(8, 0, 0, 0)
        right_layout.addWidget(self.heading)
        right_layout.addWidget(self.example)
        right_layout.addWidget(self.panel, 1)
        right_layout.addWidget(self.editor_heading)
        right_layout.addWidget(self.grid)
        right_layout.addWidget(self.message)
        right_layout.addLayout(buttons)

        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.setObjectName(SPLITTER_KEY)
        self.splitter.addWidget(self.types)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([200, 900])
        self.splitter.setChildrenCollapsible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.addWidget(self.splitter)
        self.types.setCurrentRow(0)
        self.retranslate()
        self.new_answer()
        self.refresh()

    # -- data

    def refresh(self) -> None:
        store = self.services.store
        self.services.workers.run_db(self, lambda: load_playbook(store), self.show_data)

    def show_data(self, data: Playbook) -> None:
        self.data = data
        self._show_type()
        self.retranslate()
        emit(self.data_loaded)

    def current_type(self) -> ObjectionType:
        item = self.types.currentItem()
        code = item.data(TYPE_ROLE) if item is not None else ObjectionType.DEMAND.code
        return ObjectionType(str(code))

    def select_type(self, kind: ObjectionType) -> None:
        for row in range(self.types.count()):
            if self.types.item(row).data(TYPE_ROLE) == kind.code:
                self.types.setCurrentRow(row)

    def entries(self) -> tuple[PlaybookEntry, ...]:
        if self.data is None:
            return ()
        return self.data.entries.get(self.current_type().code, ())

    def _show_type(self) -> None:
        entries = self.entries()
        self.panel.set_rows(entries)
        self._describe_type()
        keep = self.current_answer_id
        if keep and self.select_answer(keep):
            return
        if entries:
            self.panel.table.setCurrentIndex(self.panel.model.index(0, 0))
        else:
            self.new_answer()

    def select_answer(self, answer_id: str) -> bool:
        for row, entry in enumerate(self.panel.model.rows()):
            if entry.id == answer_id:
                self.panel.table.setCurrentIndex(self.panel.model.index(row, 0))
                self._load_answer(entry)
                return True
        return False

    def _answer_selected(self, index: QModelIndex) -> None:
        entry = index.data(ROW_ROLE) if index.isValid() else None
        if isinstance(entry, PlaybookEntry):
            self._load_answer(entry)

    def _load_answer(self, entry: PlaybookEntry) -> None:
        self.current_answer_id = entry.id
        self.binding.load(entry.answer.values)
        self.message.show_error(None)
        self.state.setText("")
        self.editor_heading.setText(_("Edit the answer"))

    # -- editing

    def new_answer(self) -> None:
        self.current_answer_id = None
        self.panel.table.clearSelection()
        self.binding.load({"type": self.current_type()})
        # A new answer saves its type even though it was preset, not typed.
        self.binding.editors["type"].original = ""
        self.message.show_error(None)
        self.state.setText("")
        self.editor_heading.setText(_("New answer"))

    def _edited(self) -> None:
        self.state.setText(_("Unsaved changes") if self.binding.changed_names() else "")

    def save_answer(self) -> None:
        from fieldrep.storage.services.playbook import add_answer, update_answer_copies

        if self.busy:
            return
        self.message.show_error(None)
        answer_id = self.current_answer_id
        try:
            if answer_id is None:
                values = self.binding.values_of(ANSWER_FIELDS)
            else:
                values = self.binding.changed_values()
        except ValidationError:
            return
        if not values:
            self.state.setText(_("No changes to save."))
            return
        store = self.services.store
        work: Any
        if answer_id is None:
            work = lambda: add_answer(store, values)  # noqa: E731
        else:
            # Every copy of the answer (one per territory) changes alike: it stays one entry.
            copies = self._copies_of(answer_id)
            work = lambda: update_answer_copies(store, copies, values)  # noqa: E731
        self.busy = True
        self.services.workers.run_db(self, work, self._saved, self._failed)

    def _copies_of(self, answer_id: str) -> tuple[str, ...]:
        for entry in self.entries():
            if entry.id == answer_id:
                return entry.stats.answer_ids
        return (answer_id,)

    def _saved(self, answer: Record) -> None:
        self.busy = False
        self.current_answer_id = answer.id
        self.select_type(answer["type"])
        self.state.setText(_("Saved."))
        emit(self.answer_saved, answer)
        self.refresh()

    def _failed(self, error: BaseException) -> None:
        self.busy = False
        if isinstance(error, ValidationError):
            unplaced = self.binding.show_error(error)
            self.message.show_error(joined(unplaced))
            return
        self.services.workers.show_failure(self, error)

    # -- View

    def _describe_type(self) -> None:
        kind = self.current_type()
        count = len(self.entries())
        self.heading.setText(kind.label)
        self.example.setText(
            _("The dealer says, for example: “{example}”  ·  {count} answers").format(
                example=_(OBJECTION_EXAMPLES[kind]), count=count
            )
        )

    def retranslate(self) -> None:
        for row in range(self.types.count()):
            item = self.types.item(row)
            kind = ObjectionType(str(item.data(TYPE_ROLE)))
            count = len(self.data.entries.get(kind.code, ())) if self.data else 0
            item.setText(
                _("{label} ({count})").format(label=kind.label, count=count)
                if self.data
                else kind.label
            )
            item.setToolTip(_(OBJECTION_EXAMPLES[kind]))
        self._describe_type()
        self.panel.retranslate()
        self.grid.retranslate()
        self.binding.retranslate()
        self.new_button.setText(_("New answer"))
        self.save_button.setText(_("Save answer"))
        self.editor_heading.setText(
            _("Edit the answer") if self.current_answer_id else _("New answer")
        )
        pattern = self.binding.editors["response_pattern"].editor
        pattern.setToolTip(
            _("How the answer is built, e.g. {example}").format(
                example=ResponsePattern.AFFIRM_SUPPLEMENT_GUIDE.label
            )
        )

    def save_state(self, settings: UiSettings) -> None:
        settings.set_bytes(settings.splitter_key(SPLITTER_KEY), self.splitter.saveState())

    def restore_state(self, settings: UiSettings) -> None:
        state = settings.bytes(settings.splitter_key(SPLITTER_KEY))
        if state is not None:
            self.splitter.restoreState(state)


def create_view(services: AppServices, parent: QWidget | None = None) -> PlaybookView:
    """The Objection playbook view (registry entry point)."""
    return PlaybookView(services, parent)


__all__ = ["Playbook", "PlaybookEntry", "PlaybookView", "create_view", "load_playbook"]
