"""The visit record (客户联系记录卡): written during or after a visit, never lost.

Opened from a planned visit (Today, Planner), from a dealer card, ad hoc
(Ctrl+N, the dealer is picked here) or on a saved record. It holds every field of
the contact record card and the key summary (DOMAIN.md §2.8), the objections
raised (type, the dealer's words, the real concern, the answer picked from the
playbook or written, the technique and the outcome, §2.9/§4.4) and the
follow-ups: every line of "new agreements" and "new plans" becomes one, with its
owner and due date set inline (invariant 5), and an open objection can get its
own.

Save writes the whole visit in one transaction (:func:`record_visit`) and marks
the planned visit done; "Save and finalise" also applies the card's rules
(content, successes, shortcomings and lessons written; a development visit
needs its next step). A refused value is shown in red at its field, in the
user's language.

Everything typed is kept in a draft (:mod:`fieldrep.ui.drafts`) about a second
after each edit and when the window closes or the application quits; the draft
is deleted only once the record is saved.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, Qt, QTimer, Signal
from PySide6.QtGui import QCloseEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from fieldrep.i18n import N_, _, ngettext
from fieldrep.storage.enums import (
    OBJECTION_EXAMPLES,
    ContactMethod,
    FollowUpDirection,
    FollowUpStatus,
    ObjectionOutcome,
    ObjectionType,
    RecordStatus,
    ResponsePattern,
    VisitType,
)
from fieldrep.storage.errors import FieldProblem, ValidationError
from fieldrep.storage.fields import REASON_REQUIRED, field_label, problem
from fieldrep.storage.models import (
    ContactRecord,
    FollowUp,
    Objection,
)
from fieldrep.storage.screens.visit_record import (
    AnswerChoice,
    DealerMatch,
    PersonChoice,
    VisitContext,
    VisitTarget,
    find_dealers,
    load_visit_context,
    resolve_target,
)
from fieldrep.storage.services.core import Record
from fieldrep.storage.types import new_id
from fieldrep.ui.common import make_bold, with_aside
from fieldrep.ui.drafts import DraftAutosaver, DraftKeeper, SavedDraft, refresh_drafts_hint
from fieldrep.ui.forms import (
    Describe,
    FieldError,
    FieldGrid,
    FormBinding,
    date_edit,
    enum_combo,
    joined,
    qdate_to_date,
    retranslate_enum_combo,
    select_data,
)
from fieldrep.ui.qtcompat import emit

if TYPE_CHECKING:
    from fieldrep.storage.services.visits import (
        AgreedItem,
        FollowUpChange,
        ItemValidationError,
        ObjectionChange,
        ObjectionDraft,
        VisitAmendment,
        VisitDraft,
        VisitResult,
    )
    from fieldrep.ui.services import AppServices

log = logging.getLogger("fieldrep.ui")

DRAFT_KIND = "visit_record"
CONTACT_ID_ROLE = int(Qt.ItemDataRole.UserRole) + 1
DEALER_ID_ROLE = int(Qt.ItemDataRole.UserRole) + 2
PICKER_DELAY_MS = 200
DEFAULT_DUE_DAYS = 7

CONTACT_FIELDS = ("contact_at", "contact_method", "visit_type", "location")
CONVERSATION_FIELDS = ("content", "successes", "shortcomings", "lessons")
AGREED_FIELDS = ("new_agreements", "new_plans")
SUMMARY_FIELDS = (
    "info_gaps",
    "sources_to_try",
    "cooperation_intent",
    "next_step",
    "figures_confirmed",
    "special_notes",
    "other",
)
LONG_FIELDS = frozenset(
    {*CONVERSATION_FIELDS, *AGREED_FIELDS, "info_gaps", "sources_to_try", "special_notes", "other"}
)
RECORD_FIELDS = (
    *CONTACT_FIELDS,
    "participants",
    *CONVERSATION_FIELDS,
    *AGREED_FIELDS,
    *SUMMARY_FIELDS,
)

AGREEMENT = "agreement"
PLAN = "plan"

WORDING_FROZEN = N_(
    "An objection's type and the dealer's words are kept as first recorded: "
    "they cannot be changed once saved. Its handling and outcome can."
)
RECORD_FROZEN = N_(
    "This visit record is finalised, so its text can no longer change. "
    "Objections and follow-ups can still be added and updated."
)


def answer_item_text(choice: AnswerChoice) -> str:
    """A playbook answer in the picker: its title and how often it worked."""
    if choice.times_used == 0:
        return _("{title} · not used yet").format(title=choice.title)
    return ngettext(
        "{title} · worked {resolved} of {used} time",
        "{title} · worked {resolved} of {used} times",
        choice.times_used,
    ).format(title=choice.title, resolved=choice.times_resolved, used=choice.times_used)


def owner_combo(users: Sequence[tuple[str, str]], owner: str) -> QComboBox:
    """Who owns a follow-up: the territory's people (typing a name's start selects it)."""
    combo = QComboBox()
    for user_id, name in users:
        combo.addItem(name, user_id)
    if owner and combo.findData(owner) < 0:
        # An owner this device has no user row for stays the owner (not the first name).
        combo.addItem(_("A colleague not on this device"), owner)
    select_data(combo, owner)
    return combo


# ---------------------------------------------------------------- follow-ups from the lines


def _lines(text: str) -> list[str]:
    from fieldrep.storage.services.common import lines

    return lines(text)


class AgreedRow(QWidget):
    """One new agreement or plan as a follow-up: its owner, due date and who owes whom."""

    changed = Signal()

    def __init__(
        self,
        kind: str,
        title: str,
        users: Sequence[tuple[str, str]],
        owner: str,
        due: date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.kind = kind
        self.title = QLabel(title)
        self.title.setWordWrap(True)
        self.title.setObjectName("agreed_title")
        self.kind_label = QLabel()
        self.kind_label.setStyleSheet("color: palette(mid);")
        self.owner = QComboBox()
        self.owner.setObjectName("agreed_owner")
        for user_id, name in users:
            self.owner.addItem(name, user_id)
        select_data(self.owner, owner)
        self.due = date_edit(due)
        self.due.setObjectName("agreed_due")
        self.direction = enum_combo(FollowUpDirection)
        self.direction.setObjectName("agreed_direction")
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.kind_label)
        layout.addWidget(self.title, 1)
        layout.addWidget(self.owner)
        layout.addWidget(self.due)
        layout.addWidget(self.direction)
        self.owner.currentIndexChanged.connect(lambda _i: emit(self.changed))
        self.due.dateChanged.connect(lambda _d: emit(self.changed))
        self.direction.currentIndexChanged.connect(lambda _i: emit(self.changed))
        self.retranslate()

    def retranslate(self) -> None:
        name = "new_agreements" if self.kind == AGREEMENT else "new_plans"
        self.kind_label.setText(_(field_label(ContactRecord, name)))
        retranslate_enum_combo(self.direction, FollowUpDirection)
        self.owner.setToolTip(_(field_label(FollowUp, "owner_user_id")))
        self.due.setToolTip(_(field_label(FollowUp, "due_on")))
        self.direction.setToolTip(_(field_label(FollowUp, "direction")))

    def state(self) -> dict[str, str]:
        return {
            "owner": str(self.owner.currentData() or ""),
            "due": qdate_to_date(self.due.date()).isoformat(),
            "direction": str(self.direction.currentData() or ""),
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        select_data(self.owner, state.get("owner"))
        try:
            day = date.fromisoformat(str(state.get("due")))
        except ValueError:
            day = None
        if day is not None:
            self.due.setDate(date_edit(day).date())
        select_data(self.direction, state.get("direction") or FollowUpDirection.WE_OWE.code)

    def item(self) -> AgreedItem:
        from fieldrep.storage.services.visits import AgreedItem

        return AgreedItem(
            self.title.text(),
            due_on=qdate_to_date(self.due.date()),
            owner_user_id=str(self.owner.currentData() or "") or None,
            direction=FollowUpDirection(str(self.direction.currentData())),
        )


class AgreedItems(QWidget):
    """The follow-ups the agreements and plans will create, one row per line."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("agreed_items")
        self.users: tuple[tuple[str, str], ...] = ()
        self.me = ""
        self.default_due = date.today()
        self.rows: dict[tuple[str, int], AgreedRow] = {}
        self.states: dict[tuple[str, int], dict[str, str]] = {}
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.empty = QLabel()
        self.empty.setStyleSheet("color: palette(mid);")
        self.error = FieldError("follow_ups")
        self.rows_layout = QVBoxLayout()
        self.rows_layout.setSpacing(4)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addLayout(self.rows_layout)
        layout.addWidget(self.empty)
        layout.addWidget(self.error)
        self.retranslate()

    def configure(self, users: Sequence[tuple[str, str]], me: str, default_due: date) -> None:
        self.users = tuple(users)
        self.me = me
        self.default_due = default_due

    def set_lines(self, agreements: Sequence[str], plans: Sequence[str]) -> None:
        """Rebuild the rows for these lines; owner and due date stay with each position."""
        for key, row in self.rows.items():
            self.states[key] = row.state()
        wanted = [(AGREEMENT, i, title) for i, title in enumerate(agreements)] + [
            (PLAN, i, title) for i, title in enumerate(plans)
        ]
        keys = {(kind, index) for kind, index, _title in wanted}
        for key in [key for key in self.rows if key not in keys]:
            row = self.rows.pop(key)
            self.rows_layout.removeWidget(row)
            row.deleteLater()
        for position, (kind, index, title) in enumerate(wanted):
            existing = self.rows.get((kind, index))
            if existing is not None:
                existing.title.setText(title)
                row = existing
            else:
                row = AgreedRow(kind, title, self.users, self.me, self.default_due, self)
                state = self.states.get((kind, index))
                if state:
                    row.restore(state)
                row.changed.connect(self.changed.emit)
                self.rows[(kind, index)] = row
            self.rows_layout.insertWidget(position, row)
        self.empty.setVisible(not wanted)

    def items(self, kind: str) -> tuple[AgreedItem, ...]:
        return tuple(self.rows[key].item() for key in sorted(self.rows) if key[0] == kind)

    def state(self) -> list[dict[str, Any]]:
        return [
            {"kind": kind, "index": index, **row.state()}
            for (kind, index), row in sorted(self.rows.items())
        ]

    def restore(self, states: Sequence[Mapping[str, Any]]) -> None:
        for state in states:
            key = (str(state.get("kind")), int(state.get("index", 0)))
            self.states[key] = {name: str(value) for name, value in state.items()}
            row = self.rows.get(key)
            if row is not None:
                row.restore(state)

    def retranslate(self) -> None:
        self.heading.setText(
            _("Each line becomes a follow-up: choose its owner, due date and who owes whom.")
        )
        self.empty.setText(_("No agreements or plans yet."))
        for row in self.rows.values():
            row.retranslate()


# ---------------------------------------------------------------- follow-ups of a saved record


class SavedFollowUpRow(QFrame):
    """A follow-up of a saved visit: hand it over, move its due date, progress or close it."""

    changed = Signal()

    def __init__(
        self, row: Record, users: Sequence[tuple[str, str]], parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("saved_follow_up")
        self.row = row
        self.title = QLabel(row["title"])
        self.title.setWordWrap(True)
        self.title.setObjectName("saved_follow_up_title")
        self.origin = QLabel()
        self.origin.setStyleSheet("color: palette(mid);")
        self.owner = owner_combo(users, row["owner_user_id"])
        self.owner.setObjectName("saved_follow_up_owner")
        self.due = date_edit(row["due_on"])
        self.due.setObjectName("saved_follow_up_due")
        self.status = enum_combo(FollowUpStatus)
        self.status.setObjectName("saved_follow_up_status")
        select_data(self.status, row["status"].code)
        self.result = QLineEdit(row["result"] or "")
        self.result.setObjectName("saved_follow_up_result")
        self.told = QCheckBox()
        self.told.setObjectName("saved_follow_up_told")
        self.told.setChecked(row["result_notified_at"] is not None)
        self.told.setEnabled(row["result_notified_at"] is None)
        self.error = FieldError("saved_follow_up")
        top = QHBoxLayout()
        top.addWidget(self.origin)
        top.addWidget(self.title, 1)
        top.addWidget(self.owner)
        top.addWidget(self.due)
        top.addWidget(self.status)
        closing = QHBoxLayout()
        closing.addWidget(self.result, 1)
        closing.addWidget(self.told)
        self.closing = QWidget()
        self.closing.setLayout(closing)
        closing.setContentsMargins(0, 0, 0, 0)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.closing)
        layout.addWidget(self.error)
        self.original = self.state()
        self.owner.currentIndexChanged.connect(lambda _i: self._edited())
        self.due.dateChanged.connect(lambda _d: self._edited())
        self.status.currentIndexChanged.connect(lambda _i: self._edited())
        self.result.textEdited.connect(lambda _t: self._edited())
        self.told.toggled.connect(lambda _c: self._edited())
        self._show_closing()
        self.retranslate()

    def _edited(self) -> None:
        self.error.show_error(None)
        self._show_closing()
        emit(self.changed)

    def _show_closing(self) -> None:
        self.closing.setVisible(self.status.currentData() == FollowUpStatus.DONE.code)

    def retranslate(self) -> None:
        self.origin.setText(self.row["source_type"].label)
        retranslate_enum_combo(self.status, FollowUpStatus)
        self.owner.setToolTip(_(field_label(FollowUp, "owner_user_id")))
        self.due.setToolTip(_(field_label(FollowUp, "due_on")))
        self.status.setToolTip(_(field_label(FollowUp, "status")))
        self.result.setPlaceholderText(_(field_label(FollowUp, "result")))
        self.told.setText(_("Dealer told of the result"))

    def state(self) -> dict[str, str]:
        return {
            "owner": str(self.owner.currentData() or ""),
            "due": qdate_to_date(self.due.date()).isoformat(),
            "status": str(self.status.currentData() or ""),
            "result": self.result.text(),
            "told": "1" if self.told.isChecked() else "",
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        select_data(self.owner, state.get("owner"))
        with contextlib.suppress(ValueError):
            self.due.setDate(date_edit(date.fromisoformat(str(state.get("due")))).date())
        select_data(self.status, state.get("status"))
        self.result.setText(str(state.get("result") or ""))
        if self.told.isEnabled():
            self.told.setChecked(bool(state.get("told")))
        self._show_closing()

    def check(self, visit_day: date) -> bool:
        from fieldrep.storage.services.visits import due_date_problem

        now = self.state()
        found = None
        if now["due"] != self.original["due"]:
            found = due_date_problem(visit_day, qdate_to_date(self.due.date()))
        self.error.show_error(found.message if found else None)
        return found is None

    def change(self) -> FollowUpChange | None:
        """What the rep changed (None: nothing)."""
        from fieldrep.storage.services.visits import FollowUpChange

        now, before = self.state(), self.original
        if now == before:
            return None
        return FollowUpChange(
            self.row.id,
            owner_user_id=now["owner"] if now["owner"] != before["owner"] else None,
            due_on=qdate_to_date(self.due.date()) if now["due"] != before["due"] else None,
            status=FollowUpStatus(now["status"]) if now["status"] != before["status"] else None,
            result=now["result"] if now["result"] != before["result"] else None,
            result_notified=bool(now["told"]) and not before["told"],
        )


class NewFollowUpRow(QFrame):
    """A follow-up added to a saved visit: what, who, by when, who owes whom."""

    changed = Signal()
    remove_requested = Signal(object)

    def __init__(
        self,
        users: Sequence[tuple[str, str]],
        me: str,
        due: date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("new_follow_up")
        self.title = QLineEdit()
        self.title.setObjectName("new_follow_up_title")
        self.owner = owner_combo(users, me)
        self.owner.setObjectName("new_follow_up_owner")
        self.due = date_edit(due)
        self.due.setObjectName("new_follow_up_due")
        self.direction = enum_combo(FollowUpDirection)
        self.direction.setObjectName("new_follow_up_direction")
        self.remove = QPushButton()
        self.remove.setObjectName("new_follow_up_remove")
        self.remove.clicked.connect(lambda: emit(self.remove_requested, self))
        self.error = FieldError("new_follow_up")
        top = QHBoxLayout()
        top.addWidget(self.title, 1)
        top.addWidget(self.owner)
        top.addWidget(self.due)
        top.addWidget(self.direction)
        top.addWidget(self.remove)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addLayout(top)
        layout.addWidget(self.error)
        self.title.textEdited.connect(lambda _t: self._edited())
        self.owner.currentIndexChanged.connect(lambda _i: self._edited())
        self.due.dateChanged.connect(lambda _d: self._edited())
        self.direction.currentIndexChanged.connect(lambda _i: self._edited())
        self.retranslate()

    def _edited(self) -> None:
        self.error.show_error(None)
        emit(self.changed)

    def retranslate(self) -> None:
        self.title.setPlaceholderText(_("What will be done"))
        self.owner.setToolTip(_(field_label(FollowUp, "owner_user_id")))
        self.due.setToolTip(_(field_label(FollowUp, "due_on")))
        retranslate_enum_combo(self.direction, FollowUpDirection)
        self.direction.setToolTip(_(field_label(FollowUp, "direction")))
        self.remove.setText(_("Remove"))

    def state(self) -> dict[str, str]:
        return {
            "title": self.title.text(),
            "owner": str(self.owner.currentData() or ""),
            "due": qdate_to_date(self.due.date()).isoformat(),
            "direction": str(self.direction.currentData() or ""),
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        self.title.setText(str(state.get("title") or ""))
        select_data(self.owner, state.get("owner"))
        with contextlib.suppress(ValueError):
            self.due.setDate(date_edit(date.fromisoformat(str(state.get("due")))).date())
        select_data(self.direction, state.get("direction") or FollowUpDirection.WE_OWE.code)

    def check(self, visit_day: date) -> bool:
        from fieldrep.storage.services.visits import due_date_problem

        found: FieldProblem | None
        if not self.title.text().strip():
            found = problem(FollowUp, "title", REASON_REQUIRED)
        else:
            found = due_date_problem(visit_day, qdate_to_date(self.due.date()))
        self.error.show_error(found.message if found else None)
        return found is None

    def item(self) -> AgreedItem:
        from fieldrep.storage.services.visits import AgreedItem

        return AgreedItem(
            self.title.text().strip(),
            due_on=qdate_to_date(self.due.date()),
            owner_user_id=str(self.owner.currentData() or "") or None,
            direction=FollowUpDirection(str(self.direction.currentData())),
        )


class RecordFollowUps(QWidget):
    """The follow-ups of a saved visit, each editable, and new ones to add."""

    changed = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("record_follow_ups")
        self.users: tuple[tuple[str, str], ...] = ()
        self.me = ""
        self.default_due = date.today()
        self.saved_rows: dict[str, SavedFollowUpRow] = {}
        self.new_rows: list[NewFollowUpRow] = []
        self.heading = QLabel()
        self.heading.setWordWrap(True)
        self.empty = QLabel()
        self.empty.setStyleSheet("color: palette(mid);")
        self.rows_layout = QVBoxLayout()
        self.rows_layout.setSpacing(6)
        self.new_layout = QVBoxLayout()
        self.new_layout.setSpacing(6)
        self.add_button = QPushButton()
        self.add_button.setObjectName("add_follow_up")
        self.add_button.clicked.connect(lambda: self.add_new(focus=True))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.heading)
        layout.addLayout(self.rows_layout)
        layout.addWidget(self.empty)
        layout.addLayout(self.new_layout)
        layout.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.retranslate()

    def configure(self, context: VisitContext) -> None:
        self.users = context.users
        self.me = context.me
        self.default_due = context.today + timedelta(days=DEFAULT_DUE_DAYS)
        for row in context.saved_follow_ups:
            widget = SavedFollowUpRow(row, context.users, self)
            widget.changed.connect(self.changed.emit)
            self.saved_rows[row.id] = widget
            self.rows_layout.addWidget(widget)
        self.empty.setVisible(not self.saved_rows)

    def add_new(
        self, *, state: Mapping[str, Any] | None = None, focus: bool = False
    ) -> NewFollowUpRow:
        row = NewFollowUpRow(self.users, self.me, self.default_due, self)
        if state is not None:
            row.restore(state)
        row.changed.connect(self.changed.emit)
        row.remove_requested.connect(self.remove_new)
        self.new_rows.append(row)
        self.new_layout.addWidget(row)
        if focus:
            row.title.setFocus()
        emit(self.changed)
        return row

    def remove_new(self, row: NewFollowUpRow) -> None:
        if row in self.new_rows:
            self.new_rows.remove(row)
            self.new_layout.removeWidget(row)
            row.deleteLater()
            emit(self.changed)

    def state(self) -> dict[str, Any]:
        return {
            "saved": {key: row.state() for key, row in self.saved_rows.items()},
            "new": [row.state() for row in self.new_rows],
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        saved = state.get("saved")
        if isinstance(saved, Mapping):
            for key, row_state in saved.items():
                row = self.saved_rows.get(str(key))
                if row is not None and isinstance(row_state, Mapping):
                    row.restore(row_state)
        for row_state in state.get("new") or ():
            if isinstance(row_state, Mapping):
                self.add_new(state=row_state)

    def _all_rows(self) -> list[SavedFollowUpRow | NewFollowUpRow]:
        return [*self.saved_rows.values(), *self.new_rows]

    def check(self, visit_day: date) -> bool:
        results = [row.check(visit_day) for row in self._all_rows()]
        return all(results)

    def changes(self) -> tuple[FollowUpChange, ...]:
        return tuple(
            change for row in self.saved_rows.values() if (change := row.change()) is not None
        )

    def new_items(self) -> tuple[AgreedItem, ...]:
        return tuple(row.item() for row in self.new_rows)

    def row_for(self, item: str) -> SavedFollowUpRow | NewFollowUpRow | None:
        """The row a refused value belongs to (see ItemValidationError.item)."""
        if item in self.saved_rows:
            return self.saved_rows[item]
        prefix = "new-follow-up-"
        if item.startswith(prefix) and item[len(prefix) :].isdigit():
            index = int(item[len(prefix) :])
            if index < len(self.new_rows):
                return self.new_rows[index]
        return None

    def clear_errors(self) -> None:
        for row in self._all_rows():
            row.error.show_error(None)

    def first_error(self) -> QWidget | None:
        return next(
            (row for row in self._all_rows() if row.error.text()),
            None,
        )

    def retranslate(self) -> None:
        self.heading.setText(
            _("Follow-ups of this visit: hand one over, move its due date or mark its progress.")
        )
        self.empty.setText(_("No follow-ups came from this visit."))
        self.add_button.setText(_("Add a follow-up"))
        for row in self._all_rows():
            row.retranslate()


# ---------------------------------------------------------------- objections


class ObjectionEditor(QFrame):
    """One objection: type, the dealer's words, real concern, answer, technique, outcome."""

    changed = Signal()
    remove_requested = Signal(object)

    def __init__(
        self,
        answers: Mapping[str, Sequence[AnswerChoice]],
        today: date,
        contacts: Sequence[PersonChoice] = (),
        parent: QWidget | None = None,
        *,
        users: Sequence[tuple[str, str]] = (),
        me: str = "",
    ) -> None:
        super().__init__(parent)
        self.setObjectName("objection_editor")
        # The saved objection this editor shows (None: a new one, written in full).
        self.saved: Record | None = None
        self.saved_state: dict[str, str] = {}
        self.has_follow_up = False
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # Never squeezed below its natural height: the form scrolls instead.
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        self.answers = answers
        self._picked_text = ""
        self._loading = False

        self.type = enum_combo(ObjectionType)
        self.type.setObjectName("objection_type")
        self.verbatim = QLineEdit()
        self.verbatim.setObjectName("objection_verbatim")
        self.verbatim_error = FieldError("objection_verbatim")
        self.raised_by = QComboBox()
        self.raised_by.setObjectName("objection_raised_by")
        self.raised_by.addItem("", "")
        for person in contacts:
            self.raised_by.addItem(person.name, person.id)
        self.real_concern = QLineEdit()
        self.real_concern.setObjectName("objection_real_concern")
        self.answer = QComboBox()
        self.answer.setObjectName("objection_answer")
        self.answer_text = QPlainTextEdit()
        self.answer_text.setObjectName("objection_answer_text")
        self.answer_text.setTabChangesFocus(True)
        self.answer_text.setMaximumHeight(self.fontMetrics().lineSpacing() * 4 + 14)
        self.pattern = enum_combo(ResponsePattern, blank=True)
        self.pattern.setObjectName("objection_pattern")
        self.outcome = enum_combo(ObjectionOutcome)
        self.outcome.setObjectName("objection_outcome")
        self.follow_up = QLineEdit()
        self.follow_up.setObjectName("objection_follow_up")
        # Created in tab order: what will be done, who does it, by when.
        self.follow_up_owner = owner_combo(users, me)
        self.follow_up_owner.setObjectName("objection_follow_up_owner")
        self.follow_up_due = date_edit(today + timedelta(days=DEFAULT_DUE_DAYS))
        self.follow_up_due.setObjectName("objection_follow_up_due")
        self.follow_up_error = FieldError("objection_follow_up")
        self.other_error = FieldError("objection_other")
        self.remove = QPushButton()
        self.remove.setObjectName("objection_remove")
        self.remove.clicked.connect(lambda: emit(self.remove_requested, self))

        names = (
            "type",
            "verbatim",
            "raised_by",
            "real_concern",
            "answer",
            "answer_text",
            "pattern",
            "outcome",
            "follow_up",
        )
        self.labels = {name: QLabel() for name in names}
        widgets: dict[str, QWidget] = {
            "type": self.type,
            "verbatim": self.verbatim,
            "raised_by": self.raised_by,
            "real_concern": self.real_concern,
            "answer": self.answer,
            "answer_text": self.answer_text,
            "pattern": self.pattern,
            "outcome": self.outcome,
        }
        grid = QGridLayout(self)
        grid.setHorizontalSpacing(10)
        row = 0
        for name in names:
            label = self.labels[name]
            label.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignTop)
            label.setContentsMargins(0, 4, 0, 0)
            grid.addWidget(label, row, 0)
            if name == "follow_up":
                follow_up_row = QHBoxLayout()
                follow_up_row.addWidget(self.follow_up, 1)
                follow_up_row.addWidget(self.follow_up_owner)
                follow_up_row.addWidget(self.follow_up_due)
                grid.addLayout(follow_up_row, row, 1, 1, 2)
                row += 1
                grid.addWidget(self.follow_up_error, row, 1, 1, 2)
            else:
                grid.addWidget(widgets[name], row, 1, 1, 2)
            row += 1
            if name == "verbatim":
                # The error line sits right under the dealer's words.
                grid.addWidget(self.verbatim_error, row, 1, 1, 2)
                row += 1
        grid.addWidget(self.other_error, row, 1, 1, 2)
        row += 1
        grid.addWidget(self.remove, row, 2, Qt.AlignmentFlag.AlignRight)
        grid.setColumnStretch(1, 1)

        self.type.currentIndexChanged.connect(self._type_changed)
        self.answer.currentIndexChanged.connect(self._answer_picked)
        for line in (self.verbatim, self.real_concern, self.follow_up):
            line.textEdited.connect(lambda _t: self._edited())
        self.verbatim.textEdited.connect(lambda _t: self.verbatim_error.show_error(None))
        self.answer_text.textChanged.connect(self._edited)
        for combo in (self.pattern, self.outcome, self.raised_by):
            combo.currentIndexChanged.connect(lambda _i: self._edited())
        self.follow_up_due.dateChanged.connect(lambda _d: self._edited())
        self.follow_up_due.dateChanged.connect(lambda _d: self.follow_up_error.show_error(None))
        self.follow_up_owner.currentIndexChanged.connect(lambda _i: self._edited())
        self._fill_answers()
        self.retranslate()

    def _edited(self) -> None:
        if not self._loading:
            emit(self.changed)

    def current_type(self) -> ObjectionType:
        return ObjectionType(str(self.type.currentData()))

    def _fill_answers(self) -> None:
        current = self.answer.currentData()
        blocked = self.answer.blockSignals(True)
        self.answer.clear()
        self.answer.addItem(_("Write my own answer"), "")
        # Best first (the playbook's ranking), each with how often it worked.
        for choice in self.answers.get(self.current_type().code, ()):
            self.answer.addItem(answer_item_text(choice), choice.id)
            self.answer.setItemData(
                self.answer.count() - 1, choice.text, Qt.ItemDataRole.ToolTipRole
            )
        select_data(self.answer, current)
        self.answer.blockSignals(blocked)

    def _type_changed(self) -> None:
        self._fill_answers()
        self._update_hints()
        self._edited()

    def _update_hints(self) -> None:
        example = _(OBJECTION_EXAMPLES[self.current_type()])
        self.verbatim.setPlaceholderText(_("e.g. “{example}”").format(example=example))
        self.type.setToolTip(example)

    def picked_answer(self) -> AnswerChoice | None:
        answer_id = self.answer.currentData()
        return next(
            (
                choice
                for choice in self.answers.get(self.current_type().code, ())
                if choice.id == answer_id
            ),
            None,
        )

    def _answer_picked(self) -> None:
        choice = self.picked_answer()
        if choice is not None and not self._loading:
            typed = self.answer_text.toPlainText().strip()
            if not typed or typed == self._picked_text.strip():
                self.answer_text.setPlainText(choice.text)
            if choice.pattern:
                select_data(self.pattern, choice.pattern)
            self._picked_text = choice.text
        self._edited()

    def retranslate(self) -> None:
        texts = {
            "type": _(field_label(Objection, "type")),
            "verbatim": _(field_label(Objection, "verbatim")),
            "raised_by": _(field_label(Objection, "raised_by_contact_id")),
            "real_concern": _(field_label(Objection, "real_concern")),
            "answer": _(field_label(Objection, "playbook_answer_id")),
            "answer_text": _(field_label(Objection, "answer_given")),
            "pattern": _("Technique"),
            "outcome": _(field_label(Objection, "outcome")),
            "follow_up": _("Follow-up (optional)"),
        }
        for name, text in texts.items():
            self.labels[name].setText(text)
        retranslate_enum_combo(self.type, ObjectionType)
        retranslate_enum_combo(self.pattern, ResponsePattern)
        retranslate_enum_combo(self.outcome, ObjectionOutcome)
        self._fill_answers()  # "worked n of m" in the new language
        self.real_concern.setPlaceholderText(_("What really worries them?"))
        self.follow_up.setPlaceholderText(_("What will be done, if the objection stays open"))
        self.remove.setText(_("Remove this objection"))
        self.follow_up_owner.setToolTip(_(field_label(FollowUp, "owner_user_id")))
        self.follow_up_due.setToolTip(_(field_label(FollowUp, "due_on")))
        self._update_hints()
        if self.saved is not None:
            wording = _(WORDING_FROZEN)
            for widget in (self.type, self.verbatim, self.raised_by):
                widget.setToolTip(wording)
            if self.has_follow_up:
                self.follow_up.setToolTip(
                    _("Change this follow-up under Follow-ups of this visit.")
                )

    def state(self) -> dict[str, str]:
        return {
            "type": self.current_type().code,
            "verbatim": self.verbatim.text(),
            "raised_by": str(self.raised_by.currentData() or ""),
            "real_concern": self.real_concern.text(),
            "answer_id": str(self.answer.currentData() or ""),
            "answer_text": self.answer_text.toPlainText(),
            "pattern": str(self.pattern.currentData() or ""),
            "outcome": str(self.outcome.currentData() or ""),
            "follow_up": self.follow_up.text(),
            "follow_up_owner": str(self.follow_up_owner.currentData() or ""),
            "follow_up_due": qdate_to_date(self.follow_up_due.date()).isoformat(),
        }

    def restore(self, state: Mapping[str, Any]) -> None:
        self._loading = True
        try:
            if self.saved is None:  # a saved objection's wording is write-once
                select_data(self.type, state.get("type"))
                self._fill_answers()
                self._update_hints()
                self.verbatim.setText(str(state.get("verbatim") or ""))
                select_data(self.raised_by, state.get("raised_by") or "")
            self.real_concern.setText(str(state.get("real_concern") or ""))
            select_data(self.answer, state.get("answer_id") or "")
            self.answer_text.setPlainText(str(state.get("answer_text") or ""))
            picked = self.picked_answer()
            self._picked_text = picked.text if picked else ""
            select_data(self.pattern, state.get("pattern") or "")
            select_data(self.outcome, state.get("outcome") or ObjectionOutcome.OPEN.code)
            if not self.has_follow_up:
                self.follow_up.setText(str(state.get("follow_up") or ""))
            if state.get("follow_up_owner"):
                select_data(self.follow_up_owner, state.get("follow_up_owner"))
            try:
                due = date.fromisoformat(str(state.get("follow_up_due")))
                self.follow_up_due.setDate(date_edit(due).date())
            except ValueError:
                pass
        finally:
            self._loading = False

    def check(self) -> bool:
        """The dealer's words are required (every objection has a type and its words)."""
        if self.verbatim.text().strip():
            self.verbatim_error.show_error(None)
            return True
        self.verbatim_error.show_error(problem(Objection, "verbatim", REASON_REQUIRED).message)
        return False

    def check_follow_up(self, visit_day: date) -> bool:
        """A follow-up typed here cannot be due before the visit (shown under it)."""
        from fieldrep.storage.services.visits import due_date_problem

        found = None
        if self.follow_up.text().strip() and not self.has_follow_up:
            found = due_date_problem(visit_day, qdate_to_date(self.follow_up_due.date()))
        self.follow_up_error.show_error(found.message if found else None)
        return found is None

    def show_item_error(self, error: ValidationError) -> None:
        """Put a refused value of this objection at its place in the editor."""
        if error.entity == "follow_up":
            self.follow_up_error.show_error(error.message)
        elif error.fields == ["verbatim"]:
            self.verbatim_error.show_error(error.message)
        else:
            self.other_error.show_error(error.message)

    def clear_errors(self) -> None:
        for line in (self.verbatim_error, self.follow_up_error, self.other_error):
            line.show_error(None)

    def has_error(self) -> bool:
        return any(
            line.text() for line in (self.verbatim_error, self.follow_up_error, self.other_error)
        )

    def set_saved(self, row: Record, follow_up_title: str | None) -> None:
        """Show a saved objection: its wording read-only, its handling editable."""
        self._loading = True
        try:
            select_data(self.type, row["type"].code)
            self._fill_answers()
            self._update_hints()
            self.verbatim.setText(row["verbatim"] or "")
            select_data(self.raised_by, row["raised_by_contact_id"] or "")
        finally:
            self._loading = False
        self.saved = row  # before restore(): the wording stays as loaded above
        self.restore(
            {
                "real_concern": row["real_concern"] or "",
                "answer_id": row["playbook_answer_id"] or "",
                "answer_text": row["answer_given"] or "",
                "pattern": row["response_pattern"].code if row["response_pattern"] else "",
                "outcome": row["outcome"].code,
            }
        )
        self.has_follow_up = bool(row["follow_up_id"])
        self.type.setEnabled(False)
        _freeze(self.verbatim)
        self.raised_by.setEnabled(False)
        self.remove.hide()
        if self.has_follow_up:
            self.follow_up.setText(follow_up_title or "")
            _freeze(self.follow_up)
            self.follow_up_owner.hide()
            self.follow_up_due.hide()
        self.saved_state = self.state()
        self.retranslate()

    def change(self) -> ObjectionChange | None:
        """What changed in a saved objection's handling (None: nothing)."""
        from fieldrep.storage.services.visits import AgreedItem, ObjectionChange

        assert self.saved is not None
        now, before = self.state(), self.saved_state
        values: dict[str, Any] = {}
        if now["real_concern"].strip() != before["real_concern"].strip():
            values["real_concern"] = now["real_concern"].strip() or None
        if now["answer_text"].strip() != before["answer_text"].strip():
            values["answer_given"] = now["answer_text"].strip() or None
        if now["answer_id"] != before["answer_id"]:
            values["playbook_answer_id"] = now["answer_id"] or None
        if now["pattern"] != before["pattern"]:
            values["response_pattern"] = ResponsePattern(now["pattern"]) if now["pattern"] else None
        if now["outcome"] != before["outcome"]:
            values["outcome"] = ObjectionOutcome(now["outcome"])
        follow_up = None
        title = self.follow_up.text().strip()
        if title and not self.has_follow_up:
            follow_up = AgreedItem(
                title,
                due_on=qdate_to_date(self.follow_up_due.date()),
                owner_user_id=str(self.follow_up_owner.currentData() or "") or None,
            )
        if not values and follow_up is None:
            return None
        return ObjectionChange(self.saved.id, values, follow_up)

    def draft(self) -> ObjectionDraft:
        from fieldrep.storage.services.visits import ObjectionDraft

        pattern = str(self.pattern.currentData() or "")
        follow_up = self.follow_up.text().strip()
        picked = self.picked_answer()
        return ObjectionDraft(
            type=self.current_type(),
            verbatim=self.verbatim.text().strip(),
            real_concern=self.real_concern.text().strip() or None,
            response_pattern=ResponsePattern(pattern) if pattern else None,
            answer_given=self.answer_text.toPlainText().strip() or None,
            playbook_answer_id=picked.id if picked else None,
            outcome=ObjectionOutcome(str(self.outcome.currentData())),
            raised_by_contact_id=str(self.raised_by.currentData() or "") or None,
            follow_up_title=follow_up or None,
            follow_up_due_on=qdate_to_date(self.follow_up_due.date()) if follow_up else None,
            follow_up_owner_user_id=(
                str(self.follow_up_owner.currentData() or "") or None if follow_up else None
            ),
        )


# ---------------------------------------------------------------- dealer picker


class DealerPicker(QWidget):
    """For an ad hoc visit: find the dealer by name, pinyin initials or phone."""

    picked = Signal(str, str)  # dealer id, name

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.label = QLabel()
        self.search = QLineEdit()
        self.search.setObjectName("visit_dealer_search")
        self.search.setClearButtonEnabled(True)
        self.results = QListWidget()
        self.results.setObjectName("visit_dealer_results")
        self.results.setMaximumHeight(self.fontMetrics().height() * 8)
        self.results.itemActivated.connect(self._activated)
        self.results.itemDoubleClicked.connect(self._activated)
        self._generation = 0
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(PICKER_DELAY_MS)
        self.timer.timeout.connect(self.run_search)
        self.search.textChanged.connect(lambda _t: self.timer.start())
        self.search.returnPressed.connect(self._pick_first)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.search)
        layout.addWidget(self.results)
        self.retranslate()

    def retranslate(self) -> None:
        self.label.setText(_("Which dealer was visited?"))
        self.search.setPlaceholderText(_("Search by name, pinyin initials or phone…"))

    def run_search(self) -> None:
        self.timer.stop()
        text = self.search.text().strip()
        self._generation += 1
        generation = self._generation
        store = self.services.store
        self.services.workers.run_db(
            self, lambda: find_dealers(store, text), lambda found: self._show(generation, found)
        )

    def _show(self, generation: int, found: list[DealerMatch]) -> None:
        if generation != self._generation:
            return
        self.results.clear()
        for match in found:
            item = QListWidgetItem(f"{match.name}  {match.city or ''}".strip())
            item.setData(DEALER_ID_ROLE, match.id)
            item.setData(CONTACT_ID_ROLE, match.name)
            self.results.addItem(item)
        if found:
            self.results.setCurrentRow(0)

    def _pick_first(self) -> None:
        if self.timer.isActive():
            self.run_search()
            return
        item = self.results.currentItem() or self.results.item(0)
        if item is not None:
            self._activated(item)

    def _activated(self, item: QListWidgetItem) -> None:
        emit(self.picked, str(item.data(DEALER_ID_ROLE)), str(item.data(CONTACT_ID_ROLE)))


# ---------------------------------------------------------------- the window


def _section(title_holder: list[tuple[QGroupBox, str]], title: str) -> QGroupBox:
    box = QGroupBox()
    title_holder.append((box, title))
    return box


@dataclass
class _Restore:
    """A draft waiting for the context to load before it is applied."""

    payload: Mapping[str, Any] = field(default_factory=dict)


class VisitRecordWindow(QWidget):
    """The visit record: the contact record card, objections and follow-ups."""

    saved = Signal(object)  # VisitResult or Record
    context_loaded = Signal()

    def __init__(
        self,
        services: AppServices,
        *,
        target: VisitTarget,
        draft_id: str,
        restore: Mapping[str, Any] | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("visit_record_window")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.services = services
        self.target = target
        self.context: VisitContext | None = None
        self.pending_restore = _Restore(restore) if restore else None
        self.keeper = DraftKeeper(draft_id, services.workers)
        self.autosaver = DraftAutosaver(self.keeper, self.collect_draft, self)
        self.autosaver.saved.connect(self._show_draft_time)
        self.binding = FormBinding(ContactRecord)
        self.objections: list[ObjectionEditor] = []
        # A saved record's objections, by id: their handling can still change.
        self.saved_objection_editors: dict[str, ObjectionEditor] = {}
        self.busy = False
        self._applying = False
        self._section_titles: list[tuple[QGroupBox, str]] = []

        # Header
        self.heading = QLabel()
        self.heading.setObjectName("visit_heading")
        make_bold(self.heading, 1.3)
        self.subheading = QLabel()
        self.subheading.setObjectName("visit_subheading")
        self.subheading.setWordWrap(True)
        self.draft_label = QLabel()
        self.draft_label.setObjectName("visit_draft_state")
        self.draft_label.setStyleSheet("color: palette(mid);")
        self.error_summary = FieldError("visit_summary")
        self.frozen_note = QLabel()
        self.frozen_note.setObjectName("visit_frozen_note")
        self.frozen_note.setWordWrap(True)
        self.frozen_note.setStyleSheet("color: palette(mid);")
        self.frozen_note.hide()
        self.picker = DealerPicker(services)
        self.picker.picked.connect(self.choose_dealer)

        # Fields
        for name in RECORD_FIELDS:
            self.binding.make(name, long=name in LONG_FIELDS, lines=5 if name == "content" else 3)
            self.binding.editors[name].changed.connect(self.touch)
        self.binding.editors["participants"].label_source = N_("Others present")
        for name in AGREED_FIELDS:
            self.binding.editors[name].changed.connect(self._lines_changed)

        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setSpacing(12)

        contact_box = _section(self._section_titles, N_("When, how and who"))
        self.contact_grid = FieldGrid(self.binding.editors_for(CONTACT_FIELDS))
        self.participants_label = QLabel()
        self.participants = QListWidget()
        self.participants.setObjectName("visit_participants")
        self.participants.setMaximumHeight(self.fontMetrics().height() * 6)
        self.participants.itemChanged.connect(lambda _item: self.touch())
        self.others_grid = FieldGrid(self.binding.editors_for(["participants"]), pairs=1)
        contact_layout = QVBoxLayout(contact_box)
        contact_layout.addWidget(self.contact_grid)
        contact_layout.addWidget(self.participants_label)
        contact_layout.addWidget(self.participants)
        contact_layout.addWidget(self.others_grid)

        talk_box = _section(self._section_titles, N_("The conversation and what it taught"))
        self.talk_grid = FieldGrid(self.binding.editors_for(CONVERSATION_FIELDS), pairs=1)
        QVBoxLayout(talk_box).addWidget(self.talk_grid)

        agreed_box = _section(self._section_titles, N_("New agreements and plans"))
        self.agreed_grid = FieldGrid(self.binding.editors_for(AGREED_FIELDS), pairs=1)
        self.agreed = AgreedItems()
        self.agreed.changed.connect(self.touch)
        self.record_follow_ups = RecordFollowUps()
        self.record_follow_ups.changed.connect(self.touch)
        self.record_follow_ups.hide()
        agreed_layout = QVBoxLayout(agreed_box)
        agreed_layout.addWidget(self.agreed_grid)
        agreed_layout.addWidget(self.agreed)
        agreed_layout.addWidget(self.record_follow_ups)

        objections_box = _section(self._section_titles, N_("Objections"))
        self.objections_intro = QLabel()
        self.objections_intro.setWordWrap(True)
        self.objections_intro.setStyleSheet("color: palette(mid);")
        self.objections_layout = QVBoxLayout()
        self.add_objection_button = QPushButton()
        self.add_objection_button.setObjectName("add_objection")
        self.add_objection_button.clicked.connect(lambda: self.add_objection(focus=True))
        objections_layout = QVBoxLayout(objections_box)
        objections_layout.addWidget(self.objections_intro)
        objections_layout.addLayout(self.objections_layout)
        objections_layout.addWidget(self.add_objection_button, 0, Qt.AlignmentFlag.AlignLeft)

        summary_box = _section(self._section_titles, N_("Key summary"))
        self.summary_grid = FieldGrid(self.binding.editors_for(SUMMARY_FIELDS))
        QVBoxLayout(summary_box).addWidget(self.summary_grid)

        self.boxes = (contact_box, talk_box, agreed_box, objections_box, summary_box)
        for box in self.boxes:
            body_layout.addWidget(box)
        body_layout.addStretch(1)
        self.body = body

        self.scroll_area = QScrollArea()
        self.scroll_area.setObjectName("visit_scroll")
        self.scroll_area.setWidgetResizable(True)
        self.scroll_area.setWidget(body)
        self.scroll_area.setFrameShape(QFrame.Shape.NoFrame)

        # Buttons
        self.discard_button = QPushButton()
        self.discard_button.setObjectName("visit_discard")
        self.discard_button.clicked.connect(self.discard_draft)
        self.save_button = QPushButton()
        self.save_button.setObjectName("visit_save")
        self.save_button.clicked.connect(lambda: self.save(finalise=False))
        self.finalise_button = QPushButton()
        self.finalise_button.setObjectName("visit_finalise")
        self.finalise_button.setDefault(True)
        self.finalise_button.clicked.connect(lambda: self.save(finalise=True))
        buttons = QHBoxLayout()
        buttons.addWidget(self.draft_label, 1)
        # Print preview: the visit summary once saved, and the dealer's pre-visit brief.
        from fieldrep.ui.print_preview import PrintMenuButton

        buttons.addWidget(PrintMenuButton(self, self._printouts))
        buttons.addWidget(self.discard_button)
        buttons.addWidget(self.save_button)
        buttons.addWidget(self.finalise_button)
        QShortcut(QKeySequence("Ctrl+Return"), self, lambda: self.save(finalise=True))
        QShortcut(
            QKeySequence(QKeySequence.StandardKey.Save), self, lambda: self.save(finalise=False)
        )

        layout = QVBoxLayout(self)
        layout.addWidget(self.heading)
        layout.addWidget(self.subheading)
        layout.addWidget(self.picker)
        layout.addWidget(self.frozen_note)
        layout.addWidget(self.error_summary)
        layout.addWidget(self.scroll_area, 1)
        layout.addLayout(buttons)
        self.resize(900, 760)
        self.retranslate()
        self._set_form_enabled(False)
        if target.dealer_id or target.plan_item_id or target.record_id:
            self.picker.hide()
            self.load()
        else:
            self.picker.search.setFocus()

    # -- loading

    def load(self) -> None:
        store, target = self.services.store, self.target
        self.services.workers.run_db(
            self, lambda: load_visit_context(store, target), self.set_context
        )

    def choose_dealer(self, dealer_id: str, _name: str) -> None:
        self.target = VisitTarget(dealer_id=dealer_id)
        self.picker.hide()
        self.load()

    def set_context(self, context: VisitContext) -> None:
        self._applying = True
        try:
            self.context = context
            self.agreed.configure(
                context.users, context.me, context.today + timedelta(days=DEFAULT_DUE_DAYS)
            )
            self.participants.clear()
            for person in context.contacts:
                text = with_aside(person.name, person.title)
                item = QListWidgetItem(("★ " if person.is_senior else "") + text)
                item.setData(CONTACT_ID_ROLE, person.id)
                item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
                item.setCheckState(
                    Qt.CheckState.Checked
                    if person.id in context.participant_ids
                    else Qt.CheckState.Unchecked
                )
                self.participants.addItem(item)
            self.participants.setVisible(bool(context.contacts))
            if context.record is not None:
                self.binding.load(context.record.values)
                self._show_saved_record(context)
            else:
                self._load_defaults(context)
            self._lines_changed(touch=False)
            if self.pending_restore is not None:
                self.apply_draft(self.pending_restore.payload)
                self.pending_restore = None
            self._show_saved_items(context)
            self._set_form_enabled(True)
            self.retranslate()
        finally:
            self._applying = False
        emit(self.context_loaded)

    def _load_defaults(self, context: VisitContext) -> None:
        now = datetime.now().astimezone().replace(second=0, microsecond=0)
        values: dict[str, Any] = {
            "contact_at": now,
            "contact_method": ContactMethod.VISIT,
            "visit_type": VisitType.RETURN_VISIT,
        }
        item = context.plan_item
        if item is not None:
            values["visit_type"] = item["visit_type"]
            slot = item["time_slot"]
            day = item["planned_date"]
            if day != now.date() or slot is not None:
                start = slot or now.time()
                values["contact_at"] = datetime.combine(day, start).astimezone()
        self.binding.load(values)
        # A new record starts "changed" in these fields so they are saved even if untouched.
        for name in ("contact_at", "contact_method", "visit_type"):
            self.binding.editors[name].original = ""

    def _show_saved_record(self, context: VisitContext) -> None:
        """A saved record's objections and follow-ups as editors; a final record's text frozen."""
        assert context.record is not None
        titles = {row.id: row["title"] for row in context.saved_follow_ups}
        for row in context.saved_objections:
            editor = self._objection_editor(context)
            editor.set_saved(row, titles.get(row["follow_up_id"] or ""))
            self.saved_objection_editors[row.id] = editor
            self.objections_layout.addWidget(editor)
        self.record_follow_ups.configure(context)
        if self.is_final():
            for field_editor in self.binding.editors.values():
                _freeze(field_editor.editor)
            self.participants.setEnabled(False)

    def is_final(self) -> bool:
        record = self.context.record if self.context else None
        return record is not None and record["status"] == RecordStatus.FINAL

    def visit_day(self) -> date:
        """The day of the visit: follow-ups cannot be due before it."""
        assert self.context is not None
        record = self.context.record
        if record is not None:
            return record["contact_at"].astimezone().date()  # type: ignore[no-any-return]
        return self.context.today

    def _show_saved_items(self, context: VisitContext) -> None:
        existing = context.record is not None
        self.agreed.setVisible(not existing)
        self.discard_button.setVisible(not existing or self.keeper.pending is not None)
        for name in AGREED_FIELDS:
            editor = self.binding.editors[name].editor
            if isinstance(editor, QPlainTextEdit):
                editor.setReadOnly(existing)
        self.record_follow_ups.setVisible(existing)
        final = self.is_final()
        self.finalise_button.setVisible(not final)
        self.frozen_note.setVisible(final)

    def _set_form_enabled(self, enabled: bool) -> None:
        self.body.setEnabled(enabled)
        for button in (self.save_button, self.finalise_button):
            button.setEnabled(enabled and not self.busy)

    # -- edits and drafts

    def touch(self) -> None:
        """Something was typed: keep it in the draft."""
        if self._applying or self.context is None:
            return
        self.autosaver.touch()
        self.discard_button.setVisible(True)

    def _lines_changed(self, touch: bool = True) -> None:
        agreements = _lines(self.binding.editors["new_agreements"].text())
        plans = _lines(self.binding.editors["new_plans"].text())
        self.agreed.set_lines(agreements, plans)

    def collect_draft(self) -> dict[str, Any]:
        """Everything typed, as plain JSON values (what the draft file holds)."""
        context = self.context
        content = " ".join(self.binding.editors["content"].text().split())
        dealer_name = context.dealer_name if context else ""
        return {
            "kind": DRAFT_KIND,
            "title": _("Visit record: {dealer}").format(dealer=dealer_name),
            "summary": content[:80],
            "dealer_id": context.dealer_id if context else self.target.dealer_id,
            "dealer_name": dealer_name,
            "plan_item_id": self.target.plan_item_id,
            "record_id": self.target.record_id,
            "fields": {name: editor.text() for name, editor in self.binding.editors.items()},
            "participant_ids": self.participant_ids(),
            "agreed_items": self.agreed.state(),
            "objections": [editor.state() for editor in self.objections],
            "saved_objections": {
                key: editor.state() for key, editor in self.saved_objection_editors.items()
            },
            "record_follow_ups": self.record_follow_ups.state(),
            "typed_characters": self.typed_characters(),
        }

    def typed_characters(self) -> int:
        """How much the rep wrote (the drafts list shows it): text fields and objections."""
        written = [
            self.binding.editors[name].text() for name in (*LONG_FIELDS, "location", "participants")
        ]
        for editor in self.objections:
            written += [
                editor.verbatim.text(),
                editor.real_concern.text(),
                editor.answer_text.toPlainText(),
                editor.follow_up.text(),
            ]
        written += [row.title.text() for row in self.record_follow_ups.new_rows]
        return sum(len(text.strip()) for text in written)

    def apply_draft(self, payload: Mapping[str, Any]) -> None:
        """Put a draft's text back into the form."""
        fields = payload.get("fields")
        if isinstance(fields, Mapping):
            for name, text in fields.items():
                editor = self.binding.editors.get(str(name))
                if editor is not None:
                    editor.set_text(str(text))
        wanted = set(payload.get("participant_ids") or ())
        for row in range(self.participants.count()):
            item = self.participants.item(row)
            item.setCheckState(
                Qt.CheckState.Checked
                if item.data(CONTACT_ID_ROLE) in wanted
                else Qt.CheckState.Unchecked
            )
        self._lines_changed(touch=False)
        self.agreed.restore(list(payload.get("agreed_items") or ()))
        for state in payload.get("objections") or ():
            if isinstance(state, Mapping):
                self.add_objection(state=state)
        saved = payload.get("saved_objections")
        if isinstance(saved, Mapping):
            for key, state in saved.items():
                saved_editor = self.saved_objection_editors.get(str(key))
                if saved_editor is not None and isinstance(state, Mapping):
                    saved_editor.restore(state)
        follow_ups = payload.get("record_follow_ups")
        if isinstance(follow_ups, Mapping):
            self.record_follow_ups.restore(follow_ups)
        # The restored text is the draft now, kept until the record is saved.
        self.keeper.stage(self.collect_draft())
        self.discard_button.setVisible(True)

    def _show_draft_time(self) -> None:
        self.draft_label.setText(
            _("Draft kept at {time}").format(time=datetime.now().strftime("%H:%M:%S"))
        )

    def discard_draft(self) -> None:
        """Throw away what was typed (after the rep confirms) and close."""
        from PySide6.QtWidgets import QMessageBox

        box = QMessageBox(
            QMessageBox.Icon.Question,
            _("Discard the draft"),
            _("Throw away what was typed in this visit record? This cannot be undone."),
            QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel,
            self,
        )
        box.setObjectName("discard_confirm")
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(button: int) -> None:
            if button == QMessageBox.StandardButton.Discard:
                self.autosaver.discard()
                self.close()
                refresh_drafts_hint(self.parentWidget())

        box.finished.connect(answered)
        box.open()

    def closeEvent(self, event: QCloseEvent) -> None:
        self.autosaver.flush()
        refresh_drafts_hint(self.parentWidget())
        super().closeEvent(event)

    # -- objections

    def add_objection(
        self, *, state: Mapping[str, Any] | None = None, focus: bool = False
    ) -> ObjectionEditor:
        editor = self._objection_editor(self.context)
        if state is not None:
            editor.restore(state)
        editor.remove_requested.connect(self.remove_objection)
        self.objections.append(editor)
        self.objections_layout.addWidget(editor)
        if focus:
            editor.verbatim.setFocus()
            QTimer.singleShot(0, lambda: self.scroll_area.ensureWidgetVisible(editor))
        self.touch()
        return editor

    def _objection_editor(self, context: VisitContext | None) -> ObjectionEditor:
        editor = ObjectionEditor(
            context.answers if context else {},
            context.today if context else date.today(),
            context.contacts if context else (),
            users=context.users if context else (),
            me=context.me if context else "",
        )
        editor.changed.connect(self.touch)
        return editor

    def remove_objection(self, editor: ObjectionEditor) -> None:
        if editor in self.objections:
            self.objections.remove(editor)
            self.objections_layout.removeWidget(editor)
            editor.deleteLater()
            self.touch()

    # -- saving

    def participant_ids(self) -> list[str]:
        return [
            str(self.participants.item(row).data(CONTACT_ID_ROLE))
            for row in range(self.participants.count())
            if self.participants.item(row).checkState() == Qt.CheckState.Checked
        ]

    def build_visit_draft(self, finalise: bool) -> VisitDraft:
        """The VisitDraft of what is on screen; refused text is shown and raised."""
        from fieldrep.storage.services.visits import VisitDraft

        assert self.context is not None
        names = [name for name in RECORD_FIELDS if name not in AGREED_FIELDS]
        values = self.binding.values_of(names)
        self._check_objections()
        return VisitDraft(
            dealer_id=self.context.dealer_id,
            contact_at=values.pop("contact_at"),
            contact_method=values.pop("contact_method"),
            visit_type=values.pop("visit_type"),
            participant_contact_ids=tuple(self.participant_ids()),
            new_agreements=self.agreed.items(AGREEMENT),
            new_plans=self.agreed.items(PLAN),
            objections=tuple(editor.draft() for editor in self.objections),
            plan_item_id=self.target.plan_item_id,
            finalise=finalise,
            **values,
        )

    def _check_objections(self) -> None:
        """Every new objection has its words; no follow-up is due before the visit."""
        visit_day = self.visit_day()
        worded = [editor.check() for editor in self.objections]
        dated = [
            editor.check_follow_up(visit_day)
            for editor in (*self.saved_objection_editors.values(), *self.objections)
        ]
        if not all(worded):
            raise ValidationError([problem(Objection, "verbatim", REASON_REQUIRED)], "objection")
        if not all(dated):
            raise _ShownAlready

    def build_amendment(self, finalise: bool) -> VisitAmendment:
        """What was added to or changed on the saved record (refused text is shown and raised)."""
        from fieldrep.storage.services.visits import VisitAmendment

        self._check_objections()
        if not self.record_follow_ups.check(self.visit_day()):
            raise _ShownAlready
        changes: dict[str, Any] = {}
        if not self.is_final():
            names = [n for n in self.binding.changed_names() if n not in AGREED_FIELDS]
            changes = self.binding.values_of(names)
        objection_changes: list[ObjectionChange] = [
            change
            for editor in self.saved_objection_editors.values()
            if (change := editor.change()) is not None
        ]
        return VisitAmendment(
            record_values=changes,
            finalise=finalise and not self.is_final(),
            objection_changes=tuple(objection_changes),
            new_objections=tuple(editor.draft() for editor in self.objections),
            follow_up_changes=self.record_follow_ups.changes(),
            new_follow_ups=self.record_follow_ups.new_items(),
        )

    def save(self, *, finalise: bool) -> None:
        """Save the visit (and finalise it when asked) on the database worker."""
        if self.busy or self.context is None:
            return
        self.clear_errors()
        store = self.services.store
        record = self.context.record
        try:
            if record is None:
                draft = self.build_visit_draft(finalise)
            else:
                amendment = self.build_amendment(finalise)
        except ValidationError as error:
            self.show_validation(error)
            return
        except _ShownAlready:
            self._scroll_to_first_error()
            return
        self._set_busy(True)
        if record is None:
            from fieldrep.storage.services.visits import record_visit

            work: Any = lambda: record_visit(store, draft)  # noqa: E731
        else:
            from fieldrep.storage.services.visits import amend_visit

            record_id = record.id
            work = lambda: amend_visit(store, record_id, amendment)  # noqa: E731
        self.services.workers.run_db(self, work, self._saved, self._save_failed)

    def _printouts(self) -> list[tuple[str, str]]:
        """What the Print button offers now (fieldrep.ui.print_preview.PrintMenuButton)."""
        context = self.context
        if context is None:
            return []
        found = [("visit", context.record.id)] if context.record is not None else []
        return [*found, ("brief", context.dealer_id)]

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self._set_form_enabled(self.context is not None)

    def _saved(self, result: VisitResult | Record) -> None:
        self._set_busy(False)
        self.autosaver.discard()
        dealer = self.context.dealer_name if self.context else ""
        record = result if isinstance(result, Record) else result.record
        final = record["status"] == RecordStatus.FINAL

        def message() -> str:  # worded again if the language is switched while shown
            return (
                _("Visit record of {dealer} saved and finalised.")
                if final
                else _("Visit record of {dealer} saved.")
            ).format(dealer=dealer)

        emit(self.saved, result)
        window = self.parentWidget()
        if isinstance(window, QMainWindow):
            show = getattr(window.statusBar(), "show_message", None)
            if callable(show):
                show(message)
            else:
                window.statusBar().showMessage(message())
            refresh_views(window)
        self.close()

    def _save_failed(self, error: BaseException) -> None:
        self._set_busy(False)
        if isinstance(error, ValidationError):
            self.show_validation(error)
            return
        self.services.workers.show_failure(self, error)

    def clear_errors(self) -> None:
        self.binding.clear_errors()
        self.error_summary.show_error(None)
        self.agreed.error.show_error(None)
        for editor in (*self.saved_objection_editors.values(), *self.objections):
            editor.clear_errors()
        self.record_follow_ups.clear_errors()

    def show_validation(self, error: ValidationError) -> None:
        """Put each problem at its field; what fits nowhere goes to the line at the top."""
        from fieldrep.storage.services.visits import ItemValidationError

        if isinstance(error, ItemValidationError) and self._show_item_error(error):
            unplaced: list[Describe] = []
        elif error.entity in ("contact_record", ""):
            unplaced = self.binding.show_error(error)
        elif error.entity == "objection":
            unplaced = []
            for editor in self.objections:
                editor.check()
            if not any(editor.verbatim_error.text() for editor in self.objections):
                unplaced = [p.message for p in error.problems]
        elif error.entity == "follow_up":
            self.agreed.error.show_error(error.message)
            unplaced = []
        else:
            unplaced = [p.message for p in error.problems]
        if unplaced:
            self.error_summary.show_error(joined(unplaced))
        self._scroll_to_first_error()
        self.error_summary.setVisible(bool(self.error_summary.text()))

    def _show_item_error(self, error: ItemValidationError) -> bool:
        """Show a refused objection or follow-up at its row (False: no such row here)."""
        objection = self.saved_objection_editors.get(error.item)
        prefix = "new-objection-"
        if objection is None and error.item.startswith(prefix):
            index = int(error.item[len(prefix) :])
            objection = self.objections[index] if index < len(self.objections) else None
        if objection is not None:
            objection.show_item_error(error)
            return True
        row = self.record_follow_ups.row_for(error.item)
        if row is not None:
            row.error.show_error(error.message)
            return True
        return False

    def _scroll_to_first_error(self) -> None:
        first = self._first_error_widget()
        if first is not None:
            self.scroll_area.ensureWidgetVisible(first)

    def _first_error_widget(self) -> QWidget | None:
        for editor in self.binding.editors.values():
            if editor.error.text():
                return editor
        for objection in (*self.saved_objection_editors.values(), *self.objections):
            if objection.has_error():
                return objection
        if self.agreed.error.text():
            return self.agreed
        return self.record_follow_ups.first_error()

    # -- language

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def retranslate(self) -> None:
        context = self.context
        self.setWindowTitle(_("Visit record"))
        if context is None:
            self.heading.setText(_("Visit record"))
            self.subheading.setText(_("Loading…") if not self.picker.isVisibleTo(self) else "")
        else:
            self.heading.setText(_("Visit record: {dealer}").format(dealer=context.dealer_name))
            self.setWindowTitle(self.heading.text())
            self.subheading.setText(self._subheading(context))
        for box, title in self._section_titles:
            box.setTitle(_(title))
        for grid in (
            self.contact_grid,
            self.others_grid,
            self.talk_grid,
            self.agreed_grid,
            self.summary_grid,
        ):
            grid.retranslate()
        self.binding.retranslate()
        self.participants_label.setText(_(field_label(ContactRecord, "participants")))
        for name, hint in (
            ("new_agreements", N_("One agreement per line, e.g. send the price list by Friday")),
            ("new_plans", N_("One plan per line, e.g. book the staff training")),
            ("content", N_("What was discussed and done, in detail")),
        ):
            editor = self.binding.editors[name].editor
            if isinstance(editor, QPlainTextEdit):
                editor.setPlaceholderText(_(hint))
        self.agreed.retranslate()
        self.objections_intro.setText(
            _(
                "An objection is not a refusal. Note the dealer's words, find the real "
                "concern, then pick an answer from the playbook or write your own."
            )
        )
        self.add_objection_button.setText(_("Add an objection"))
        for editor in (*self.saved_objection_editors.values(), *self.objections):
            editor.retranslate()
        self.record_follow_ups.retranslate()
        self.frozen_note.setText(_(RECORD_FROZEN))
        if self.is_final():
            for field_editor in self.binding.editors.values():
                field_editor.editor.setToolTip(_(RECORD_FROZEN))
        self.discard_button.setText(_("Discard draft"))
        existing = context is not None and context.record is not None
        self.save_button.setText(_("Save changes") if existing else _("Save"))
        self.finalise_button.setText(_("Save and finalise"))
        self.finalise_button.setToolTip(
            _("Finalising needs the content, successes, shortcomings and lessons written.")
        )
        self.picker.retranslate()

    def _subheading(self, context: VisitContext) -> str:
        item = context.plan_item
        record = context.record
        if record is not None:
            status = record["status"]
            return _("Saved record, {status}").format(status=status.label)
        if item is not None:
            parts = [
                _("Planned visit on {day}").format(day=item["planned_date"].isoformat()),
                item["visit_type"].label,
            ]
            if item["objective"]:
                parts.append(_("Objective: {objective}").format(objective=item["objective"]))
            return "  ·  ".join(parts)
        return _("Visit not planned in advance")


class _ShownAlready(Exception):
    """Refused input whose messages are already shown at their rows."""


def _freeze(widget: QWidget) -> None:
    """Read-only but still readable and selectable (a finalised record's text).

    The window's colour behind the text tells it apart from a field to type in.
    """
    if isinstance(widget, (QPlainTextEdit, QLineEdit)):
        widget.setReadOnly(True)
        widget.setStyleSheet(f"{type(widget).__name__} {{ background: palette(window); }}")
    else:
        widget.setEnabled(False)


# ---------------------------------------------------------------- opening


def refresh_views(window: QWidget) -> None:
    """Reload the main window's views (Today, Follow-ups ...) after a change."""
    views = getattr(window, "views", None)
    if isinstance(views, dict):
        for view in views.values():
            refresh = getattr(view, "refresh", None)
            if callable(refresh):
                refresh()


def _existing(window: QWidget, draft_id: str) -> VisitRecordWindow | None:
    for child in window.findChildren(VisitRecordWindow):
        if child.keeper.draft_id == draft_id and not child.keeper.discarded:
            return child
    return None


def draft_id_for(target: VisitTarget) -> str:
    """One draft per planned visit and per saved record; ad hoc visits get a new one."""
    if target.plan_item_id:
        return f"plan-{target.plan_item_id}"
    if target.record_id:
        return f"record-{target.record_id}"
    return f"visit-{new_id()}"


def show_visit_record(
    services: AppServices,
    window: QWidget,
    target: VisitTarget,
    *,
    draft_id: str | None = None,
    restore: Mapping[str, Any] | None = None,
) -> VisitRecordWindow:
    """Open (or bring to the front) the visit record of ``target``."""
    draft_id = draft_id or draft_id_for(target)
    existing = _existing(window, draft_id)
    if existing is not None:
        existing.show()
        existing.raise_()
        existing.activateWindow()
        return existing
    if restore is None and (target.plan_item_id or target.record_id):
        from fieldrep.ui.drafts import read_draft

        saved = read_draft(draft_id)  # one small file: the rep's text comes first
        restore = saved.payload if saved is not None else None
    record_window = VisitRecordWindow(
        services, target=target, draft_id=draft_id, restore=restore, parent=window
    )
    record_window.show()
    return record_window


def open_record(services: AppServices, window: QMainWindow, record_id: str) -> None:
    """Registry entry: a planned visit, a saved record, a dealer (new visit) or nothing."""
    if not record_id:
        show_visit_record(services, window, VisitTarget())
        return
    store = services.store
    services.workers.run_db(
        window,
        lambda: resolve_target(store, record_id),
        lambda target: _show_target(services, window, target),
    )


def _show_target(services: AppServices, window: QMainWindow, target: VisitTarget) -> None:
    show_visit_record(services, window, target)


def open_draft(services: AppServices, window: QWidget, draft: SavedDraft) -> VisitRecordWindow:
    """Open a visit record from a draft left behind (the start-up offer)."""
    payload = draft.payload
    target = VisitTarget(
        dealer_id=payload.get("dealer_id") or None,
        plan_item_id=payload.get("plan_item_id") or None,
        record_id=payload.get("record_id") or None,
    )
    return show_visit_record(services, window, target, draft_id=draft.draft_id, restore=payload)


__all__ = [
    "AgreedItems",
    "ObjectionEditor",
    "VisitContext",
    "VisitRecordWindow",
    "VisitTarget",
    "load_visit_context",
    "open_draft",
    "open_record",
    "resolve_target",
    "show_visit_record",
]
