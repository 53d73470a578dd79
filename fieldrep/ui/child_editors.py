"""Editing the child lists of the dealer card: agreements, products, prices, cases, grades.

Each list of the profile card (DOMAIN.md §2.1 items 3, 7, 10, 13, 14, 15) is a
:class:`ChildTable`: the rows, and Add / Edit / Delete buttons (also Insert,
Enter or a double-click, and Delete on the keyboard). A row is edited in a small
dialog built from the field labels of :mod:`fieldrep.storage.fields`; a refused
value is shown in red at its field in the user's language and nothing is saved.
Every write goes through the storage services on the database worker, so the
outbox captures it like any other change.

What may be written follows the sync field policies (:mod:`fieldrep.sync.protocol`):
rows of a manager-only table (credit reviews) are written only by managers, and
a never-deleted table offers no Delete. Complaints are not edited freely: they
follow their workflow (received, handled, escalated, closed) through
:mod:`fieldrep.storage.services.cases`, and stay on the card as its history.

The 5C credit review dialog computes the grade and risk live with the same
function the service uses, so what the rep sees is what is saved.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from fieldrep.i18n import N_, _
from fieldrep.storage.display import format_money
from fieldrep.storage.enums import ComplaintStatus, CreditRisk, PeriodType, Role
from fieldrep.storage.errors import ValidationError
from fieldrep.storage.fields import REASON_REQUIRED, field_label, problem
from fieldrep.storage.models import (
    AfterSalesEvent,
    Agreement,
    CarriedProduct,
    Complaint,
    CreditAssessment,
    RelationshipGrade,
    RetailPriceChange,
    SyncedBase,
)
from fieldrep.storage.screens.dealer_card import ChildList, CreditScale, load_child_lists
from fieldrep.sync.protocol import TABLES
from fieldrep.ui.common import format_day, make_bold
from fieldrep.ui.dialog_write import write_and_close
from fieldrep.ui.forms import (
    FieldError,
    FieldGrid,
    FormBinding,
    date_edit,
    joined,
    qdate_to_date,
)
from fieldrep.ui.qtcompat import emit
from fieldrep.ui.rows_model import ROW_ROLE, RowColumn
from fieldrep.ui.views.today import Panel

if TYPE_CHECKING:
    from fieldrep.storage.services.core import Record, Store
    from fieldrep.ui.services import AppServices

log = logging.getLogger("fieldrep.ui")

WARNING_COLOUR = "#c62828"
MANAGER_ROLES = frozenset({Role.MANAGER, Role.ADMIN})
VISIBLE_ROWS = 6
LONG_FORM_FIELDS = 12  # a dialog with more fields than this scrolls
FIVE_C_ORDER = ("character", "capacity", "capital", "collateral", "condition")


# ---------------------------------------------------------------- what may be written


def may_write(role: Role, table: str) -> bool:
    """Whether ``role`` may insert or change rows of ``table`` (manager-only tables)."""
    spec = TABLES[table]
    if spec.server_managed:
        return False
    return not spec.manager_only or role in MANAGER_ROLES


def may_change_field(role: Role, table: str, field_name: str) -> bool:
    """Whether ``role`` may change ``field_name`` of an existing row (manager-only fields)."""
    spec = TABLES[table]
    return may_write(role, table) and (
        field_name not in spec.manager_only_fields or role in MANAGER_ROLES
    )


def may_delete(role: Role, table: str) -> bool:
    """Whether ``role`` may delete rows of ``table`` (append-only tables never)."""
    return may_write(role, table) and not TABLES[table].never_deleted


# ---------------------------------------------------------------- the lists


def _yes_no(value: Any) -> str:
    return _("yes") if value else _("no")


def _day(name: str) -> Callable[[Record], str]:
    return lambda row: format_day(row[name]) if row[name] else ""


def _text(name: str) -> Callable[[Record], str]:
    return lambda row: "" if row[name] is None else str(row[name])


def _label(name: str) -> Callable[[Record], str]:
    return lambda row: row[name].label if row[name] is not None else ""


def _money(name: str) -> Callable[[Record], str]:
    return lambda row: format_money(row[name]) if row[name] is not None else ""


@dataclass(frozen=True)
class ChildSpec:
    """One child list of the card: its model, the columns shown and the fields edited."""

    key: str
    model: type[SyncedBase]
    columns: tuple[RowColumn, ...]
    fields: tuple[str, ...]
    order: tuple[str, ...]  # newest or alphabetical first, as the printed card
    add_title: str
    edit_title: str
    long_fields: frozenset[str] = frozenset()
    pairs: int = 2
    newest_first: bool = True
    defaults: Callable[[date], dict[str, Any]] = field(default=lambda _today: {})

    @property
    def table(self) -> str:
        return str(self.model.__tablename__)

    def label(self, name: str) -> str:
        return field_label(self.model, name)


def _quarter_start(day: date) -> date:
    return date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


AGREEMENTS = ChildSpec(
    key="agreements",
    model=Agreement,
    columns=(
        RowColumn(field_label(Agreement, "title"), _text("title")),
        RowColumn(field_label(Agreement, "signed_on"), _day("signed_on")),
        RowColumn(field_label(Agreement, "valid_to"), _day("valid_to")),
        RowColumn(field_label(Agreement, "is_exclusive"), lambda a: _yes_no(a["is_exclusive"])),
        RowColumn(
            field_label(Agreement, "terms"), _text("terms"), tooltip=_text("terms"), stretch=True
        ),
    ),
    fields=(
        "title",
        "signed_on",
        "valid_from",
        "valid_to",
        "is_exclusive",
        "cross_territory_protection",
        "sales_area",
        "profit_margin",
        "file_ref",
        "policy_reference",
        "terms",
        "price_system",
        "after_sales_split",
        "investment",
        "rights",
        "risk",
        "support",
    ),
    long_fields=frozenset(
        {"terms", "price_system", "after_sales_split", "investment", "rights", "risk", "support"}
    ),
    order=("signed_on",),
    add_title=N_("New agreement"),
    edit_title=N_("Edit agreement"),
    defaults=lambda today: {"signed_on": today, "valid_from": today},
)
PRODUCTS = ChildSpec(
    key="products",
    model=CarriedProduct,
    columns=(
        RowColumn(field_label(CarriedProduct, "brand"), _text("brand")),
        RowColumn(field_label(CarriedProduct, "variety"), _text("variety"), stretch=True),
        RowColumn(field_label(CarriedProduct, "spec"), _text("spec")),
        RowColumn(field_label(CarriedProduct, "is_ours"), lambda p: _yes_no(p["is_ours"])),
    ),
    fields=("brand", "variety", "spec", "is_ours"),
    order=("brand", "variety"),
    newest_first=False,
    pairs=1,
    add_title=N_("New product line"),
    edit_title=N_("Edit product line"),
)
PRICES = ChildSpec(
    key="prices",
    model=RetailPriceChange,
    columns=(
        RowColumn(field_label(RetailPriceChange, "changed_on"), _day("changed_on")),
        RowColumn(field_label(RetailPriceChange, "product"), _text("product"), stretch=True),
        RowColumn(
            field_label(RetailPriceChange, "old_price"), _money("old_price"), align_right=True
        ),
        RowColumn(
            field_label(RetailPriceChange, "new_price"), _money("new_price"), align_right=True
        ),
    ),
    fields=("product", "changed_on", "old_price", "new_price", "notes"),
    long_fields=frozenset({"notes"}),
    order=("changed_on",),
    pairs=1,
    add_title=N_("New retail price change"),
    edit_title=N_("Edit retail price change"),
    defaults=lambda today: {"changed_on": today},
)
COMPLAINTS = ChildSpec(
    key="complaints",
    model=Complaint,
    columns=(
        RowColumn(
            field_label(Complaint, "received_at"),
            lambda c: format_day(c["received_at"].astimezone().date()),
        ),
        RowColumn(field_label(Complaint, "category"), _label("category")),
        RowColumn(
            field_label(Complaint, "description"),
            _text("description"),
            tooltip=_text("description"),
            stretch=True,
        ),
        RowColumn(field_label(Complaint, "status"), _label("status")),
        RowColumn(field_label(Complaint, "result"), _text("result"), width=160),
    ),
    fields=("category", "received_at", "description", "handling", "responsible_dept"),
    long_fields=frozenset({"description", "handling"}),
    order=("received_at",),
    pairs=1,
    add_title=N_("New complaint"),
    edit_title=N_("Handle the complaint"),
    defaults=lambda _today: {"received_at": datetime.now(UTC)},
)
AFTER_SALES = ChildSpec(
    key="after_sales",
    model=AfterSalesEvent,
    columns=(
        RowColumn(field_label(AfterSalesEvent, "occurred_on"), _day("occurred_on")),
        RowColumn(
            field_label(AfterSalesEvent, "description"),
            _text("description"),
            tooltip=_text("description"),
            stretch=True,
        ),
        RowColumn(field_label(AfterSalesEvent, "handling"), _text("handling"), width=200),
    ),
    fields=("occurred_on", "description", "handling"),
    long_fields=frozenset({"description", "handling"}),
    order=("occurred_on",),
    pairs=1,
    add_title=N_("New after-sales case"),
    edit_title=N_("Edit after-sales case"),
    defaults=lambda today: {"occurred_on": today},
)
GRADE_DIMENSIONS = (
    "familiarity",
    "closeness",
    "sales_support",
    "complaint_level",
    "receivable_level",
)
GRADES = ChildSpec(
    key="grades",
    model=RelationshipGrade,
    columns=(
        RowColumn(N_("Period"), lambda g: f"{g['period_type'].label} {g['period_start']:%Y-%m}"),
        *(
            RowColumn(field_label(RelationshipGrade, name), _text(name), align_right=True)
            for name in GRADE_DIMENSIONS
        ),
        RowColumn(field_label(RelationshipGrade, "overall_grade"), _text("overall_grade")),
    ),
    fields=("period_type", "period_start", *GRADE_DIMENSIONS, "overall_grade", "notes"),
    long_fields=frozenset({"notes"}),
    order=("period_start",),
    add_title=N_("New relationship grade"),
    edit_title=N_("Edit relationship grade"),
    defaults=lambda today: {
        "period_type": PeriodType.QUARTER,
        "period_start": _quarter_start(today),
    },
)
CHILD_SPECS: dict[str, ChildSpec] = {
    spec.key: spec for spec in (AGREEMENTS, PRODUCTS, PRICES, COMPLAINTS, AFTER_SALES, GRADES)
}


# ---------------------------------------------------------------- data (worker side)


def load_children(store: Store, dealer_id: str) -> dict[str, tuple[Record, ...]]:
    """The live rows of every child list of one dealer, in the card's order."""
    lists = {
        spec.key: ChildList(spec.model, spec.order, spec.newest_first)
        for spec in CHILD_SPECS.values()
    }
    return load_child_lists(store, dealer_id, lists)


# ---------------------------------------------------------------- the generic dialog


class ChildRecordDialog(QDialog):
    """Add or edit one row of a child list; problems are shown at their fields."""

    saved = Signal(object)  # the Record written

    def __init__(
        self,
        services: AppServices,
        spec: ChildSpec,
        dealer: Record,
        record: Record | None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName(f"child_dialog_{spec.key}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.services = services
        self.spec = spec
        self.dealer = dealer
        self.record = record
        self.binding = FormBinding(spec.model)
        for name in spec.fields:
            self.binding.make(name, long=name in spec.long_fields, lines=2)
        self.grid = FieldGrid(self.binding.editors_for(spec.fields), pairs=spec.pairs)
        self.message = FieldError(f"{spec.key}_dialog")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if len(spec.fields) > LONG_FORM_FIELDS:
            # The agreement's many terms scroll; the grid keeps its natural height.
            body = QWidget()
            body_layout = QVBoxLayout(body)
            body_layout.setContentsMargins(0, 0, 0, 0)
            body_layout.addWidget(self.grid)
            body_layout.addStretch(1)
            scroll = QScrollArea()
            scroll.setWidgetResizable(True)
            scroll.setFrameShape(QScrollArea.Shape.NoFrame)
            scroll.setWidget(body)
            scroll.setMinimumHeight(540)
            layout.addWidget(scroll, 1)
        else:
            layout.addWidget(self.grid)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(760 if spec.pairs > 1 else 480)
        if record is not None:
            self.binding.load(record.values)
        else:
            self.binding.load(spec.defaults(services.store.today()))
        self.retranslate()
        first = self.binding.editors[spec.fields[0]].editor
        first.setFocus()

    def retranslate(self) -> None:
        self.setWindowTitle(_(self.spec.edit_title if self.record else self.spec.add_title))
        self.grid.retranslate()
        self.binding.retranslate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def submit(self) -> None:
        """Parse every field (all refusals shown at once), then write on the worker."""
        self.message.show_error(None)
        try:
            if self.record is None:
                values = self.binding.values_of(self.spec.fields)
            else:
                values = self.binding.changed_values()
        except ValidationError:
            self._focus_first_problem()
            return
        if self.record is not None and not values:
            self.accept()
            return
        write_and_close(
            self,
            self.services.workers,
            self.buttons,
            self._write_function(values),
            self.saved,
            self._show_refusal,
        )

    def _write_function(self, values: dict[str, Any]) -> Callable[[], Record]:
        from fieldrep.storage.services.core import create, update

        store, model, record = self.services.store, self.spec.model, self.record
        if record is not None:
            return lambda: update(store, model, record.id, values)
        values = {
            **values,
            "dealer_id": self.dealer.id,
            "territory_id": self.dealer["territory_id"],
        }
        return lambda: create(store, model, values)

    def _show_refusal(self, error: ValidationError) -> None:
        unplaced = self.binding.show_error(error)
        self.message.show_error(joined(unplaced))

    def _focus_first_problem(self) -> None:
        for editor in self.binding.editors.values():
            if editor.error.text():
                editor.editor.setFocus()
                return


# ---------------------------------------------------------------- complaints


class ComplaintAction:
    """The workflow steps of a complaint (DOMAIN.md §4.7) offered for its status."""

    HANDLE = "handle"
    ESCALATE = "escalate"
    CLOSE = "close"


ACTION_LABELS = {
    ComplaintAction.HANDLE: N_("Record the handling plan"),
    ComplaintAction.ESCALATE: N_("Escalate to a department (opens an internal follow-up)"),
    ComplaintAction.CLOSE: N_("Close with the result given to the dealer"),
}
# The field each step needs.
ACTION_FIELD = {
    ComplaintAction.HANDLE: "handling",
    ComplaintAction.ESCALATE: "responsible_dept",
    ComplaintAction.CLOSE: "result",
}


def complaint_actions(status: ComplaintStatus) -> tuple[str, ...]:
    if status == ComplaintStatus.CLOSED:
        return ()
    if status == ComplaintStatus.ESCALATED:
        return (ComplaintAction.HANDLE, ComplaintAction.CLOSE)
    return (ComplaintAction.HANDLE, ComplaintAction.ESCALATE, ComplaintAction.CLOSE)


class ComplaintDialog(QDialog):
    """Move a complaint on: handling plan, escalation or closing with the result."""

    saved = Signal(object)

    def __init__(
        self, services: AppServices, record: Record, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("complaint_dialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.services = services
        self.record = record
        self.summary = QLabel()
        self.summary.setObjectName("complaint_summary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action = QComboBox()
        self.action.setObjectName("complaint_action")
        self.steps = complaint_actions(record["status"])
        for action in self.steps:
            self.action.addItem("", action)
        self.action_label = QLabel()
        self.binding = FormBinding(Complaint)
        for name in ("handling", "responsible_dept", "result"):
            self.binding.make(name, long=name != "responsible_dept", lines=3)
        self.binding.load(record.values)
        self.grid = FieldGrid(
            self.binding.editors_for(("handling", "responsible_dept", "result")), pairs=1
        )
        self.message = FieldError("complaint_dialog")
        closed = not self.steps
        buttons = (
            QDialogButtonBox.StandardButton.Close
            if closed
            else QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons = QDialogButtonBox(buttons)
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(self.action_label, self.action)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addLayout(form)
        layout.addWidget(self.grid)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.action_label.setVisible(not closed)
        self.action.setVisible(not closed)
        self.grid.setEnabled(not closed)
        self.setMinimumWidth(560)
        self.retranslate()

    def retranslate(self) -> None:
        record = self.record
        self.setWindowTitle(_("Handle the complaint"))
        self.summary.setText(
            _("{category}, received {day}: {description}\nStatus: {status}").format(
                category=record["category"].label,
                day=format_day(record["received_at"].astimezone().date()),
                description=record["description"],
                status=record["status"].label,
            )
        )
        self.action_label.setText(_("Next step"))
        for position, action in enumerate(self.steps):
            self.action.setItemText(position, _(ACTION_LABELS[action]))
        self.grid.retranslate()
        self.binding.retranslate()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def current_action(self) -> str:
        return str(self.action.currentData())

    def submit(self) -> None:
        from fieldrep.storage.services import cases

        self.message.show_error(None)
        self.binding.clear_errors()
        action = self.current_action()
        needed = ACTION_FIELD[action]
        text = self.binding.editors[needed].text().strip()
        if not text:
            missing = ValidationError([problem(Complaint, needed, REASON_REQUIRED)], "complaint")
            self.binding.show_error(missing)
            return
        dept = self.binding.editors["responsible_dept"].text().strip() or None
        store, complaint_id = self.services.store, self.record.id
        work: Callable[[], Any]
        if action == ComplaintAction.HANDLE:
            work = lambda: cases.handle_complaint(  # noqa: E731
                store, complaint_id, text, responsible_dept=dept
            )
        elif action == ComplaintAction.ESCALATE:
            work = lambda: cases.escalate_complaint(store, complaint_id, text).case  # noqa: E731
        else:
            work = lambda: cases.close_complaint(store, complaint_id, text)  # noqa: E731
        write_and_close(
            self, self.services.workers, self.buttons, work, self.saved, self._show_refusal
        )

    def _show_refusal(self, error: ValidationError) -> None:
        self.message.show_error(joined(self.binding.show_error(error)))


def new_complaint_function(
    store: Store, dealer_id: str, values: Mapping[str, Any]
) -> Callable[[], Record]:
    """A new complaint goes through the complaint service (status: received)."""
    from fieldrep.storage.services.cases import create_complaint

    return lambda: create_complaint(store, dealer_id, values)


class NewComplaintDialog(ChildRecordDialog):
    """Log a complaint the dealer made; its status starts at "received"."""

    def _write_function(self, values: dict[str, Any]) -> Callable[[], Record]:
        return new_complaint_function(self.services.store, self.dealer.id, values)


# ---------------------------------------------------------------- 5C credit review


class CreditReviewDialog(QDialog):
    """A new 5C credit review: five scores, the grade and risk computed as you score."""

    saved = Signal(object)  # the CreditAssessment Record

    def __init__(
        self,
        services: AppServices,
        dealer: Record,
        scale: CreditScale,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("credit_review_dialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.services = services
        self.dealer = dealer
        self.scale = scale
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.scores: dict[str, QSpinBox] = {}
        self.score_labels: dict[str, QLabel] = {}
        self.score_errors: dict[str, FieldError] = {}
        scores = QGridLayout()
        middle = (scale.maximum + 1) // 2
        for row, name in enumerate(FIVE_C_ORDER):
            spin = QSpinBox()
            spin.setObjectName(f"score_{name}")
            spin.setRange(1, scale.maximum)
            spin.setValue(middle)
            spin.valueChanged.connect(lambda _value: self.update_result())
            label = QLabel()
            label.setBuddy(spin)
            error = FieldError(name)
            self.scores[name], self.score_labels[name], self.score_errors[name] = (
                spin,
                label,
                error,
            )
            scores.addWidget(label, row, 0)
            scores.addWidget(spin, row, 1)
            scores.addWidget(error, row, 2)
        scores.setColumnStretch(2, 1)
        self.outcome = QLabel()
        self.outcome.setObjectName("credit_review_result")
        make_bold(self.outcome)
        self.result_hint = QLabel()
        self.result_hint.setWordWrap(True)
        self.result_hint.setStyleSheet("color: palette(mid);")
        self.day_label = QLabel()
        self.day = date_edit(services.store.today())
        self.day.setObjectName("credit_review_day")
        self.binding = FormBinding(CreditAssessment)
        detail_names = (
            "payment_terms",
            "credit_limit",
            "fulfilment_record",
            "third_party_source",
            "notes",
        )
        for name in detail_names:
            self.binding.make(name, long=name == "notes", lines=3)
        self.binding.load({})
        self.details = FieldGrid(self.binding.editors_for(detail_names), pairs=1)
        self.message = FieldError("credit_review")
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        day_row = QHBoxLayout()
        day_row.addWidget(self.day_label)
        day_row.addWidget(self.day)
        day_row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addLayout(day_row)
        layout.addLayout(scores)
        layout.addWidget(self.outcome)
        layout.addWidget(self.result_hint)
        layout.addWidget(self.details)
        layout.addWidget(self.message)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(560)
        self.retranslate()
        self.scores[FIVE_C_ORDER[0]].setFocus()

    def five_c(self) -> Any:
        from fieldrep.storage.services.credit import FiveC

        return FiveC(**{name: spin.value() for name, spin in self.scores.items()})

    def grade_and_risk(self) -> tuple[str, CreditRisk]:
        from fieldrep.storage.services.credit import grade_and_risk

        return grade_and_risk(self.five_c(), self.scale.maximum, self.scale.high_risk_below)

    def update_result(self) -> None:
        grade, risk = self.grade_and_risk()
        self.outcome.setText(
            _("Average {average} of {maximum}: grade {grade}, {risk}").format(
                average=self.five_c().average(),
                maximum=self.scale.maximum,
                grade=grade,
                risk=risk.label,
            )
        )
        high = risk == CreditRisk.HIGH
        self.outcome.setStyleSheet(f"color: {WARNING_COLOUR};" if high else "")
        self.result_hint.setText(
            _(
                "High risk: unless you choose other terms, the review sets prepayment "
                "and ends extended terms on the card."
            )
            if high
            else _("Saving also sets the dealer's credit grade (kept in the class history).")
        )

    def retranslate(self) -> None:
        self.setWindowTitle(_("New 5C credit review"))
        self.intro.setText(
            _("Score each C from 1 (poor) to {maximum} (excellent).").format(
                maximum=self.scale.maximum
            )
        )
        for name, label in self.score_labels.items():
            label.setText(_(field_label(CreditAssessment, name)))
        self.day_label.setText(_(field_label(CreditAssessment, "reviewed_at")))
        self.details.retranslate()
        self.binding.retranslate()
        self.update_result()

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def submit(self) -> None:
        from fieldrep.storage.services.credit import assess_credit

        self.message.show_error(None)
        for error in self.score_errors.values():
            error.show_error(None)
        try:
            values = self.binding.values_of(self.binding.editors)
        except ValidationError:
            return
        store, dealer_id = self.services.store, self.dealer.id
        scores, day = self.five_c(), qdate_to_date(self.day.date())
        write_and_close(
            self,
            self.services.workers,
            self.buttons,
            lambda: assess_credit(store, dealer_id, scores, reviewed_at=day, **values),
            self.saved,
            self._show_refusal,
        )

    def _show_refusal(self, error: ValidationError) -> None:
        unplaced = []
        for message in self.binding.show_error(error):
            unplaced.append(message)
        for item in error.problems:
            if item.field in self.score_errors:
                self.score_errors[item.field].show_error(item.message)
        placed = set(self.binding.editors) | set(self.score_errors)
        others = [p.message for p in error.problems if p.field not in placed]
        self.message.show_error(joined(others))


# ---------------------------------------------------------------- the list widgets


class SectionTable(Panel):
    """A list inside a profile section (agreements, products, ...), at most six rows tall."""

    def __init__(
        self, name: str, columns: Sequence[RowColumn], parent: QWidget | None = None
    ) -> None:
        super().__init__(name, columns, N_("Nothing recorded yet."), parent)
        self.title.hide()
        layout = self.layout()
        if layout is not None:
            layout.setContentsMargins(0, 0, 0, 0)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)

    def extra_height(self) -> int:
        """Room for what a subclass adds under the rows."""
        return 0

    def set_rows(self, rows: Sequence[Any]) -> None:
        super().set_rows(rows)
        visible = min(max(len(rows), 1), VISIBLE_ROWS)
        row_height = self.table.verticalHeader().defaultSectionSize()
        header = self.table.horizontalHeader().sizeHint().height()
        height = header + row_height * visible + 6 if rows else self.fontMetrics().height() * 2
        self.setFixedHeight(height + self.extra_height())


class ChildTable(SectionTable):
    """An editable child list: Add…, Edit…, Delete (Insert, Enter, Delete keys too)."""

    changed = Signal(str)  # the spec key, after a row was written or deleted

    def __init__(
        self, services: AppServices, spec: ChildSpec, parent: QWidget | None = None
    ) -> None:
        super().__init__(f"card_{spec.key}", spec.columns, parent)
        self.services = services
        self.spec = spec
        self.dealer: Record | None = None
        role = services.store.user.role
        self.writable = may_write(role, spec.table)
        # Complaints are history: they are closed through their workflow, never deleted.
        self.deletable = may_delete(role, spec.table) and spec.model is not Complaint
        self.add_button = QPushButton()
        self.add_button.setObjectName(f"card_{spec.key}_add")
        self.add_button.clicked.connect(self.add_row)
        self.edit_button = QPushButton()
        self.edit_button.setObjectName(f"card_{spec.key}_edit")
        self.edit_button.clicked.connect(self.edit_current)
        self.delete_button = QPushButton()
        self.delete_button.setObjectName(f"card_{spec.key}_delete")
        self.delete_button.clicked.connect(self.delete_current)
        self.delete_button.setVisible(self.deletable)
        self.button_row = QWidget()
        buttons = QHBoxLayout(self.button_row)
        buttons.setContentsMargins(0, 4, 0, 0)
        buttons.addStretch(1)
        for button in (self.add_button, self.edit_button, self.delete_button):
            button.setAutoDefault(False)
            buttons.addWidget(button)
        self.button_row.setVisible(self.writable)
        layout = self.layout()
        if layout is not None:
            layout.addWidget(self.button_row)
        self.table.row_activated.connect(self.edit_row)
        self.table.selectionModel().currentRowChanged.connect(
            lambda _current, _previous: self._update_buttons()
        )
        # Insert and Delete act on the list that has the focus (Enter opens the row).
        self.table.installEventFilter(self)
        self._update_buttons()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        plain_key = (
            watched is self.table
            and isinstance(event, QKeyEvent)
            and event.type() == QEvent.Type.KeyPress
            and event.modifiers()
            in (Qt.KeyboardModifier.NoModifier, Qt.KeyboardModifier.KeypadModifier)
        )
        if plain_key and isinstance(event, QKeyEvent):
            if event.key() == Qt.Key.Key_Insert:
                self.add_row()
                return True
            if event.key() == Qt.Key.Key_Delete:
                self.delete_current()
                return True
        return super().eventFilter(watched, event)

    def extra_height(self) -> int:
        return self.button_row.sizeHint().height() if self.writable else 0

    def set_dealer(self, dealer: Record, rows: Sequence[Record]) -> None:
        self.dealer = dealer
        self.set_rows(rows)
        self._update_buttons()

    def current_record(self) -> Record | None:
        index = self.table.currentIndex()
        if not index.isValid() or self.model.rowCount() == 0:
            return None
        row = index.data(ROW_ROLE)
        return row if row is not None else None

    def _update_buttons(self) -> None:
        selected = self.current_record() is not None
        self.edit_button.setEnabled(selected)
        self.delete_button.setEnabled(selected and self.deletable)

    def retranslate(self) -> None:
        super().retranslate()
        self.add_button.setText(_("Add…"))
        self.add_button.setToolTip(_("Add a row (Insert)"))
        complaint = self.spec.model is Complaint
        self.edit_button.setText(_("Handle…") if complaint else _("Edit…"))
        self.edit_button.setToolTip(_("Open the selected row (Enter or double-click)"))
        self.delete_button.setText(_("Delete"))
        self.delete_button.setToolTip(_("Delete the selected row (Delete)"))

    # -- actions

    def add_row(self) -> None:
        if self.dealer is None or not self.writable:
            return
        dialog_class = NewComplaintDialog if self.spec.model is Complaint else ChildRecordDialog
        dialog = dialog_class(self.services, self.spec, self.dealer, None, self)
        dialog.saved.connect(self._written)
        dialog.open()

    def edit_current(self) -> None:
        record = self.current_record()
        if record is not None:
            self.edit_row(record)

    def edit_row(self, record: Any) -> None:
        if self.dealer is None or not self.writable:
            return
        dialog: ChildRecordDialog | ComplaintDialog
        if self.spec.model is Complaint:
            dialog = ComplaintDialog(self.services, record, self)
        else:
            dialog = ChildRecordDialog(self.services, self.spec, self.dealer, record, self)
        dialog.saved.connect(self._written)
        dialog.open()

    def delete_current(self) -> None:
        record = self.current_record()
        if record is None or not self.deletable:
            return
        # The first two columns name the row well enough (a date alone would not).
        texts = [column.text(record) for column in self.spec.columns[:2]]
        row_name = " · ".join(text for text in texts if text)
        box = QMessageBox(
            QMessageBox.Icon.Question,
            _("Delete"),
            _("Delete “{row}” from the card? The deletion is sent with the next sync.").format(
                row=row_name
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setObjectName("child_delete_confirm")
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def answered(button: int) -> None:
            if button == QMessageBox.StandardButton.Yes:
                self._delete(record)

        box.finished.connect(answered)
        box.open()

    def _delete(self, record: Record) -> None:
        from fieldrep.storage.services.core import delete

        store, model = self.services.store, self.spec.model
        self.services.workers.run_db(
            self, lambda: delete(store, model, record.id), lambda _none: self._written(record)
        )

    def _written(self, _record: Any) -> None:
        emit(self.changed, self.spec.key)


__all__ = [
    "CHILD_SPECS",
    "ChildRecordDialog",
    "ChildSpec",
    "ChildTable",
    "ComplaintDialog",
    "CreditReviewDialog",
    "NewComplaintDialog",
    "SectionTable",
    "load_children",
    "may_change_field",
    "may_delete",
    "may_write",
]
