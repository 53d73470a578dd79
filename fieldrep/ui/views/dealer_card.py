"""The dealer card (客户资料卡): every field of the profile, the people, the history, the figures.

A window per dealer, opened from the Dealers list, Today or a link. Tabs:

- Profile card: the 17 sections of DOMAIN.md §2.1 in the seed's order (plus the
  classification flags and the further profile facts), every dealer field
  editable. Refused text is shown in red at its field in the user's language and
  nothing is saved until every field is right; the whole edit is one
  transaction. A change of a classification (visit class, credit grade, ...)
  asks for the reason, which goes to the class history.
- Key people: the contacts with their decision-chain roles, as a list and as a
  tree by "reports to", senior managers marked; the warning when no senior
  contact is known (invariant 10); add and edit a contact.
- Timeline: visits, objections, follow-ups, complaints and legacy issues.
- Sales and credit: revenue and collections by month (a small chart) and the
  latest 5C credit assessment.
- Change history: the server's audit trail of the dealer and its rows, asked for
  on the network pool when the tab is shown (fieldrep.ui.views.dealer_history).

Actions: "Plan a visit" (a date picker; the visit goes last in that day's
route) and "Record a visit" (opens the visit record for this dealer).
All loading and saving runs on the database worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, timedelta
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, Qt, Signal
from PySide6.QtGui import QCloseEvent, QColor, QFont, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTabWidget,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from fieldrep.i18n import N_, _
from fieldrep.storage.display import format_money
from fieldrep.storage.enums import (
    ComplaintStatus,
    CreditRisk,
    FollowUpStatus,
    LabelledEnum,
    LegacyStatus,
    ObjectionOutcome,
    RecordStatus,
    Role,
    VisitType,
)
from fieldrep.storage.errors import ValidationError
from fieldrep.storage.fields import PROFILE_CARD_SECTIONS, field_label
from fieldrep.storage.models import ClassHistory, Contact, Dealer, VisitPlanItem
from fieldrep.storage.screens.dealer_card import (
    CreditScale,
    MonthPoint,
    load_credit_scale,
    monthly_figures,
    user_names,
)
from fieldrep.ui.chart import SalesChart
from fieldrep.ui.child_editors import (
    CHILD_SPECS,
    ChildTable,
    CreditReviewDialog,
    SectionTable,
    load_children,
    may_change_field,
    may_write,
)
from fieldrep.ui.common import format_day, make_bold, with_aside
from fieldrep.ui.forms import (
    FieldError,
    FieldGrid,
    FieldKind,
    FormBinding,
    WordedLabel,
    date_edit,
    enum_combo,
    joined,
    qdate_to_date,
    retranslate_enum_combo,
)
from fieldrep.ui.qtcompat import emit
from fieldrep.ui.rows_model import ROW_ROLE, RowColumn
from fieldrep.ui.views.dealer_history import DealerHistoryTab
from fieldrep.ui.views.today import Panel

if TYPE_CHECKING:
    from fieldrep.reports.data import DealerCard
    from fieldrep.storage.queries import DealerWarning, TimelineEvent
    from fieldrep.storage.services.core import Record, Store
    from fieldrep.ui.services import AppServices

log = logging.getLogger("fieldrep.ui")

WARNING_COLOUR = "#c62828"
SENIOR_MARK = "★"
CHART_MONTHS = 12
TIMELINE_LIMIT = 200

# The 17 sections of the profile card in the seed's order (004: 客户资料卡), then
# the classification flags and the facts the other seeds add.
SECTION_TITLES = (
    *PROFILE_CARD_SECTIONS,
    N_("Classification and status"),
    N_("Further profile facts"),
)
# The dealer fields of each section (same order as SECTION_TITLES).
SECTION_FIELDS: tuple[tuple[str, ...], ...] = (
    (
        "name",
        "short_name",
        "province",
        "city",
        "district",
        "address",
        "phone",
        "fax",
        "email",
        "website",
        "credit_code",
        "legal_rep",
        "outlet_count",
        "employee_count",
        "registered_capital",
        "category_sales_capacity",
        "business_scale",
        "key_personnel",
        "outlets",
        "business_rules",
    ),
    ("relationship_start_date", "our_contact_user_id", "their_contact_id"),
    (),
    (
        "initial_class",
        "floor_area",
        "main_products",
        "reputation",
        "location_desc",
        "attitude",
        "volume_desc",
        "stock_desc",
    ),
    ("performance_class",),
    ("credit_grade", "payment_terms", "credit_limit"),
    (),
    ("settlement_time", "settlement_method", "invoice_usage"),
    ("business_contact_id", "settlement_contact_id", "settlement_procedure"),
    (),
    (),
    ("delivery_requirements",),
    (),
    ("after_sales_terms",),
    ("relationship_grade",),
    ("annual_integrated_class",),
    (),
    (
        "abc_class",
        "lifecycle_status",
        "status",
        "tier",
        "service_tier",
        "partner_tier",
        "is_key_account",
        "is_benchmark",
        "channel_type",
        "channel_segment",
        "sales_form",
        "partnership_system",
    ),
    (
        "nature",
        "philosophy",
        "staff_quality",
        "warehouse_capacity",
        "delivery_capacity",
        "local_market_share",
        "profit_level",
        "financial_status",
        "management_level",
        "reach_mode",
        "core_area",
        "radiation_area",
        "customer_structure",
        "promo_services",
        "business_mode",
        "product_dev_type",
        "industries",
        "success_case_industries",
        "resource_focus",
        "key_products",
        "team_size",
        "has_business_license",
        "qualification_certs",
        "after_sales_capability",
        "coverage",
        "customer_resources",
        "financial_proof",
        "profile_reviewed_at",
        "history",
        "upstream_relations",
        "org_structure",
        "decision_process",
        "support_needs",
        "cooperation_history",
        "expectations",
        "past_cases",
        "notes",
    ),
)
LONG_DEALER_FIELDS = frozenset(
    {
        "key_personnel",
        "outlets",
        "business_rules",
        "settlement_procedure",
        "delivery_requirements",
        "after_sales_terms",
        "history",
        "upstream_relations",
        "org_structure",
        "decision_process",
        "support_needs",
        "cooperation_history",
        "expectations",
        "past_cases",
        "notes",
    }
)
USER_REFERENCES = ("our_contact_user_id",)
CONTACT_REFERENCES = ("their_contact_id", "business_contact_id", "settlement_contact_id")
# Classification columns: a change needs a reason (ClassHistory).
CLASSIFICATION_FIELDS = frozenset(
    {
        "abc_class",
        "initial_class",
        "performance_class",
        "relationship_grade",
        "credit_grade",
        "annual_integrated_class",
        "service_tier",
        "partner_tier",
    }
)

CONTACT_FIELDS = (
    "name",
    "title",
    "department",
    "decision_role",
    "reports_to_id",
    "cooperation_interest",
    "is_senior",
    "can_block",
    "is_business_contact",
    "is_settlement_contact",
    "is_counterpart",
    "is_sales_staff",
    "is_shop_assistant",
    "phone",
    "mobile",
    "email",
    "wechat",
    "birth_date",
    "education",
    "native_place",
    "met_at",
    "project_role",
    "project_line",
    "address",
    "family",
    "personality",
    "hobbies",
    "notes",
)
LONG_CONTACT_FIELDS = frozenset({"family", "personality", "hobbies", "notes"})

# Status codes of the timeline, by kind of event.
TIMELINE_STATUS: dict[str, type[LabelledEnum]] = {
    "visit": RecordStatus,
    "objection": ObjectionOutcome,
    "follow_up": FollowUpStatus,
    "complaint": ComplaintStatus,
    "legacy_issue": LegacyStatus,
}


# ---------------------------------------------------------------- data (worker side)


@dataclass(frozen=True)
class CardData:
    """Everything the dealer card shows, loaded in one call on the database worker."""

    dealer: Record
    card: DealerCard
    contacts: tuple[Record, ...]
    users: tuple[tuple[str, str], ...]
    timeline: tuple[TimelineEvent, ...]
    warnings: tuple[DealerWarning, ...]
    months: tuple[MonthPoint, ...]
    today: date
    # The editable child lists (agreements, products, ...) as Records, by spec key.
    children: Mapping[str, tuple[Record, ...]] = dataclass_field(default_factory=dict)
    # Whether this user may change the manager-only fields (classes, credit, terms):
    # a manager, or a rep while the dealer they made has not reached the server.
    manager_fields_open: bool = True
    # Whether the user was a manager (or admin) when the card was loaded: a sync
    # may change the role, and the card is loaded again then.
    manager: bool = False


def load_card(store: Store, dealer_id: str) -> CardData:
    """The dealer, its profile sections, people, timeline, warnings and monthly figures."""
    from fieldrep.reports.screen import dealer_card_content
    from fieldrep.storage.queries import dealer_timeline, dealer_warnings
    from fieldrep.storage.services.contacts import dealer_contacts
    from fieldrep.storage.services.core import MANAGER_ROLES, fetch, manager_fields_editable

    dealer = fetch(store, Dealer, dealer_id)
    return CardData(
        dealer=dealer,
        card=dealer_card_content(store, dealer_id),
        contacts=tuple(dealer_contacts(store, dealer_id)),
        users=user_names(store),
        timeline=tuple(dealer_timeline(store, dealer_id, limit=TIMELINE_LIMIT)),
        warnings=tuple(dealer_warnings(store, dealer_id)),
        months=tuple(monthly_figures(store, dealer_id, CHART_MONTHS)),
        today=store.today(),
        children=load_children(store, dealer_id),
        manager_fields_open=manager_fields_editable(store, "dealer", dealer_id),
        manager=store.user.role in MANAGER_ROLES,
    )


# ---------------------------------------------------------------- small dialogs


class ReasonDialog(QDialog):
    """Asks why a classification changes (it goes to the class history)."""

    def __init__(self, changes: Sequence[str], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("class_reason_dialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.changes = tuple(changes)
        self.intro = QLabel()
        self.intro.setWordWrap(True)
        self.reason = QPlainTextEdit()
        self.reason.setObjectName("class_reason")
        self.reason.setTabChangesFocus(True)
        self.reason.setFixedHeight(self.fontMetrics().lineSpacing() * 4 + 14)
        self.error = FieldError("reason")
        self.period = QLineEdit()
        self.period.setObjectName("class_period")
        self.period_label = QLabel()
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self._accept_if_given)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(self.period_label, self.period)
        layout = QVBoxLayout(self)
        layout.addWidget(self.intro)
        layout.addWidget(self.reason)
        layout.addWidget(self.error)
        layout.addLayout(form)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(_(field_label(ClassHistory, "reason")))
        listed = _(", ").join(self.changes)
        self.intro.setText(
            _("You changed {changes}. Why? The reason is kept in the class history.").format(
                changes=listed
            )
        )
        self.period_label.setText(_(field_label(ClassHistory, "period_label")))
        self.period.setPlaceholderText(_("optional, e.g. 2026Q4 or 2026"))

    def reason_text(self) -> str:
        return self.reason.toPlainText().strip()

    def _accept_if_given(self) -> None:
        if not self.reason_text():
            from fieldrep.storage.fields import REASON_REQUIRED, problem

            self.error.show_error(problem(ClassHistory, "reason", REASON_REQUIRED).message)
            return
        self.accept()


class PlanVisitDialog(QDialog):
    """Plan a visit to this dealer: the day (calendar), the kind of visit and its objective."""

    planned = Signal(object)  # the VisitPlanItem Record

    def __init__(
        self, services: AppServices, dealer_id: str, today: date, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setObjectName("plan_visit_dialog")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.services = services
        self.dealer_id = dealer_id
        self.day = date_edit(today + timedelta(days=1), minimum=today)
        self.day.setObjectName("plan_day")
        self.visit_type = enum_combo(VisitType)
        self.visit_type.setObjectName("plan_visit_type")
        self.visit_type.setCurrentIndex(self.visit_type.findData(VisitType.RETURN_VISIT.code))
        self.objective = QLineEdit()
        self.objective.setObjectName("plan_objective")
        self.error = FieldError("plan")
        self.labels = [QLabel(), QLabel(), QLabel()]
        form = QFormLayout()
        form.addRow(self.labels[0], self.day)
        form.addRow(self.labels[1], self.visit_type)
        form.addRow(self.labels[2], self.objective)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.accepted.connect(self.submit)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(420)
        self.retranslate()

    def retranslate(self) -> None:
        self.setWindowTitle(_("Plan a visit"))
        self.labels[0].setText(_(field_label(VisitPlanItem, "planned_date")))
        self.labels[1].setText(_(field_label(VisitPlanItem, "visit_type")))
        self.labels[2].setText(_(field_label(VisitPlanItem, "objective")))
        retranslate_enum_combo(self.visit_type, VisitType)
        self.objective.setPlaceholderText(_("e.g. check last month's collections"))

    def submit(self) -> None:
        from fieldrep.storage.services.visits import plan_visit

        store, dealer_id = self.services.store, self.dealer_id
        day = qdate_to_date(self.day.date())
        values = {
            "visit_type": str(self.visit_type.currentData()),
            "objective": self.objective.text(),
        }
        self.buttons.setEnabled(False)
        self.services.workers.run_db(
            self,
            lambda: plan_visit(store, dealer_id, day, values=values),
            self._done,
            self._failed,
        )

    def _done(self, item: Record) -> None:
        emit(self.planned, item)
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self.buttons.setEnabled(True)
        if isinstance(error, ValidationError):
            self.error.show_error(error.message)
            return
        self.services.workers.show_failure(self, error)


# ---------------------------------------------------------------- the window


def _status_label(event: TimelineEvent) -> str:
    enum_class = TIMELINE_STATUS.get(event.kind.code)
    if enum_class is None or event.status is None:
        return event.status or ""
    try:
        return enum_class(event.status).label
    except ValueError:
        return event.status


def _attribute_text(name: str) -> Callable[[Any], str]:
    """A column text function showing one attribute of a row."""
    return lambda row: str(getattr(row, name))


TIMELINE_COLUMNS = (
    RowColumn(N_("Date"), lambda e: format_day(e.at.astimezone().date())),
    RowColumn(N_("Kind"), lambda e: e.kind.label),
    RowColumn(N_("What"), lambda e: e.title, tooltip=lambda e: e.title, width=300),
    RowColumn(N_("Status"), _status_label),
    RowColumn(N_("Details"), lambda e: e.detail or "", tooltip=lambda e: e.detail, stretch=True),
)
SALES_COLUMNS = (
    RowColumn(N_("Period"), lambda s: f"{s.period_start:%Y-%m}"),
    RowColumn(
        field_label("SalesFigure", "volume"),
        lambda s: f"{s.volume:,.0f}" if s.volume is not None else "",
        align_right=True,
    ),
    RowColumn(
        field_label("SalesFigure", "revenue"),
        lambda s: format_money(s.revenue),
        align_right=True,
    ),
    RowColumn(
        field_label("SalesFigure", "collected"),
        lambda s: format_money(s.collected),
        align_right=True,
    ),
    RowColumn(
        field_label("SalesFigure", "receivable"),
        lambda s: format_money(s.receivable),
        align_right=True,
    ),
    RowColumn(
        field_label("SalesFigure", "dealer_inventory"),
        lambda s: f"{s.inventory:,.0f}" if s.inventory is not None else "",
        align_right=True,
    ),
    RowColumn(N_("Confirmed by the dealer"), lambda s: _("yes") if s.confirmed else _("no")),
)
HISTORY_COLUMNS = (
    RowColumn(field_label("ClassHistory", "changed_on"), lambda h: format_day(h.changed_on)),
    RowColumn(field_label("ClassHistory", "scheme"), lambda h: h.scheme.label),
    RowColumn(field_label("ClassHistory", "old_value"), lambda h: h.old_value or ""),
    RowColumn(field_label("ClassHistory", "new_value"), lambda h: h.new_value),
    RowColumn(
        field_label("ClassHistory", "reason"),
        lambda h: h.reason,
        tooltip=lambda h: h.reason,
        stretch=True,
    ),
)
CREDIT_COLUMNS = (
    RowColumn(
        field_label("CreditAssessment", "reviewed_at"),
        lambda c: format_day(c.reviewed_at),
    ),
    *(
        RowColumn(field_label("CreditAssessment", name), _attribute_text(name))
        for name in ("capital", "character", "capacity", "collateral", "condition")
    ),
    RowColumn(field_label("CreditAssessment", "overall_grade"), lambda c: c.overall_grade),
    RowColumn(field_label("CreditAssessment", "risk_level"), lambda c: c.risk_level.label),
)
STAKEHOLDER_COLUMNS = (
    RowColumn(
        field_label("Contact", "name"),
        lambda c: (SENIOR_MARK + " " if c["is_senior"] else "") + c["name"],
    ),
    RowColumn(field_label("Contact", "title"), lambda c: c["title"] or ""),
    RowColumn(field_label("Contact", "decision_role"), lambda c: c["decision_role"].label),
    RowColumn(field_label("Contact", "mobile"), lambda c: c["mobile"] or c["phone"] or ""),
    RowColumn(field_label("Contact", "hobbies"), lambda c: c["hobbies"] or "", stretch=True),
)


class CreditBox(QFrame):
    """The latest 5C assessment: five scores, grade, risk, terms and limit."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("credit_box")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.names = (
            "capital",
            "character",
            "capacity",
            "collateral",
            "condition",
            "overall_grade",
            "risk_level",
            "payment_terms",
            "credit_limit",
            "reviewed_at",
        )
        self.labels = {name: QLabel() for name in self.names}
        self.values = {name: make_bold(QLabel()) for name in self.names}
        for name, value in self.values.items():
            value.setObjectName(f"credit_{name}")
        self.empty = QLabel()
        grid = QGridLayout(self)
        for position, name in enumerate(self.names):
            row, column = divmod(position, 5)
            grid.addWidget(self.labels[name], row * 2, column)
            grid.addWidget(self.values[name], row * 2 + 1, column)
        grid.addWidget(self.empty, 4, 0, 1, 5)
        self.latest: Any = None
        self.scale_max = 5

    def set_latest(self, latest: Any) -> None:
        self.latest = latest
        self.retranslate()

    def retranslate(self) -> None:
        for name in self.names:
            self.labels[name].setText(_(field_label("CreditAssessment", name)))
        latest = self.latest
        self.empty.setText(_("No 5C credit assessment yet.") if latest is None else "")
        self.empty.setVisible(latest is None)
        for name in self.names:
            value = getattr(latest, name, None) if latest is not None else None
            label = self.values[name]
            if value is None:
                text = "—"
            elif isinstance(value, LabelledEnum):
                text = value.label
            elif isinstance(value, date):
                text = format_day(value)
            elif isinstance(value, Decimal):
                text = format_money(value)
            else:
                text = str(value)
            label.setText(text)
            colour = ""
            if name == "risk_level" and value == CreditRisk.HIGH:
                colour = f"color: {WARNING_COLOUR};"
            label.setStyleSheet(colour)


class DealerCardWindow(QWidget):
    """The dealer card of one dealer (a window of its own, owned by the main window)."""

    loaded = Signal()
    saved = Signal(object)  # the dealer Record after an edit
    contact_saved = Signal(object)
    visit_planned = Signal(object)
    credit_reviewed = Signal(object)  # the new CreditAssessment Record

    def __init__(
        self, services: AppServices, dealer_id: str, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setObjectName("dealer_card_window")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.services = services
        self.dealer_id = dealer_id
        self.data: CardData | None = None
        self.busy = False
        self.binding = FormBinding(Dealer)
        self.contact_binding = FormBinding(Contact)
        self.current_contact_id: str | None = None

        # Header
        self.heading = make_bold(QLabel(), 1.4)
        self.heading.setObjectName("card_heading")
        self.heading.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.facts = QLabel()
        self.facts.setObjectName("card_facts")
        self.warnings = QLabel()
        self.warnings.setObjectName("card_warnings")
        self.warnings.setWordWrap(True)
        self.message = WordedLabel()  # says what just happened, in the current language
        self.message.setObjectName("card_message")
        self.message.setWordWrap(True)
        self.plan_button = QPushButton()
        self.plan_button.setObjectName("card_plan_visit")
        self.plan_button.clicked.connect(self.plan_visit)
        self.record_button = QPushButton()
        self.record_button.setObjectName("card_record_visit")
        self.record_button.clicked.connect(self.record_visit)
        actions = QHBoxLayout()
        actions.addWidget(self.heading, 1)
        actions.addWidget(self.plan_button)
        actions.addWidget(self.record_button)
        # Print preview of the dealer card and the pre-visit brief (fieldrep.ui.print_preview).
        from fieldrep.ui.print_preview import PrintMenuButton

        actions.addWidget(
            PrintMenuButton(self, lambda: [("card", self.dealer_id), ("brief", self.dealer_id)])
        )

        self.tabs = QTabWidget()
        self.tabs.setObjectName("card_tabs")
        self.tabs.addTab(self._build_profile(), "")
        self.tabs.addTab(self._build_people(), "")
        self.tabs.addTab(self._build_timeline(), "")
        self.tabs.addTab(self._build_sales(), "")
        # The server's audit trail of this dealer, asked for when the tab is first shown.
        self.history = DealerHistoryTab(services, dealer_id)
        self.tabs.addTab(self.history, "")
        self.tabs.currentChanged.connect(self._tab_shown)

        layout = QVBoxLayout(self)
        layout.addLayout(actions)
        layout.addWidget(self.facts)
        layout.addWidget(self.warnings)
        layout.addWidget(self.message)
        layout.addWidget(self.tabs, 1)
        QShortcut(QKeySequence("Ctrl+N"), self, self.record_visit)
        QShortcut(QKeySequence(QKeySequence.StandardKey.Save), self, self.save_profile)
        self.resize(1080, 780)
        self.retranslate()
        self._set_enabled(False)
        self.refresh()

    # -- construction

    def _build_profile(self) -> QWidget:
        self.section_list = QListWidget()
        self.section_list.setObjectName("card_sections")
        self.section_list.setWordWrap(True)
        self.section_list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.section_list.setSpacing(1)
        self.section_list.currentRowChanged.connect(self._jump_to_section)
        self.section_boxes: list[QGroupBox] = []
        self.section_grids: list[FieldGrid] = []
        body = QWidget()
        body_layout = QVBoxLayout(body)
        body_layout.setSpacing(10)
        for name in (field for fields in SECTION_FIELDS for field in fields):
            kind = FieldKind.REFERENCE if name in USER_REFERENCES + CONTACT_REFERENCES else None
            editor = self.binding.make(name, long=name in LONG_DEALER_FIELDS, kind=kind)
            editor.changed.connect(self._profile_edited)
        # Classes, credit grade and terms are a manager's (fieldrep.sync.protocol): a rep
        # sees them read-only, with a tooltip that says why (the service refuses the
        # change too, so nothing the server would refuse is queued). Only a dealer the
        # rep made and has not synced yet takes them (the server takes it as a new row).
        # All of them are listed whatever the role now: a sync may change the role, and
        # each load sets them read-only or not (follow_user).
        self.manager_only_editors = {
            name: editor
            for name, editor in self.binding.editors.items()
            if not may_change_field(Role.REP, "dealer", name)
        }
        # Editable lists (fieldrep.ui.child_editors); sales figures, stakeholders and
        # the class history are shown only: figures are confirmed in the visit record,
        # people are edited under Key people, and the history is written by the services.
        self.child_tables: dict[str, ChildTable] = {
            key: ChildTable(self.services, spec) for key, spec in CHILD_SPECS.items()
        }
        for child_table in self.child_tables.values():
            child_table.changed.connect(self._child_changed)
        self.tables: dict[str, SectionTable] = {
            **self.child_tables,
            "sales": SectionTable("card_sales", SALES_COLUMNS),
            "stakeholders": SectionTable("card_stakeholders", STAKEHOLDER_COLUMNS),
            "history": SectionTable("card_history", HISTORY_COLUMNS),
        }
        self.tables["stakeholders"].table.row_activated.connect(self._open_stakeholder)
        self.credit_summary = QLabel()
        self.credit_summary.setObjectName("card_credit_summary")
        self.credit_review_buttons = (QPushButton(), QPushButton())
        for position, button in enumerate(self.credit_review_buttons):
            button.setObjectName(f"card_new_credit_review_{position}")
            button.setAutoDefault(False)
            button.clicked.connect(self.new_credit_review)
        credit_row = QWidget()
        credit_layout = QHBoxLayout(credit_row)
        credit_layout.setContentsMargins(0, 0, 0, 0)
        credit_layout.addWidget(self.credit_summary, 1)
        credit_layout.addWidget(self.credit_review_buttons[0])
        extras: dict[int, list[QWidget]] = {
            2: [self.tables["agreements"]],
            5: [credit_row],
            6: [self.tables["products"]],
            9: [self.tables["prices"]],
            10: [self.tables["sales"]],
            12: [self.tables["complaints"]],
            13: [self.tables["after_sales"]],
            14: [self.tables["grades"]],
            16: [self.tables["stakeholders"]],
            17: [self.tables["history"]],
        }
        for index, fields in enumerate(SECTION_FIELDS):
            box = QGroupBox()
            box.setObjectName(f"card_section_{index + 1}")
            box_layout = QVBoxLayout(box)
            if fields:
                grid = FieldGrid(self.binding.editors_for(fields))
                self.section_grids.append(grid)
                box_layout.addWidget(grid)
            for widget in extras.get(index, []):
                box_layout.addWidget(widget)
            self.section_boxes.append(box)
            body_layout.addWidget(box)
            self.section_list.addItem(QListWidgetItem())
        body_layout.addStretch(1)
        self.profile_scroll = QScrollArea()
        self.profile_scroll.setObjectName("card_profile_scroll")
        self.profile_scroll.setWidgetResizable(True)
        self.profile_scroll.setWidget(body)
        self.profile_scroll.setFrameShape(QFrame.Shape.NoFrame)

        self.save_button = QPushButton()
        self.save_button.setObjectName("card_save")
        self.save_button.clicked.connect(self.save_profile)
        self.revert_button = QPushButton()
        self.revert_button.setObjectName("card_revert")
        self.revert_button.clicked.connect(self.revert_profile)
        self.profile_state = WordedLabel()
        self.profile_state.setObjectName("card_profile_state")
        self.profile_state.setStyleSheet("color: palette(mid);")
        buttons = QHBoxLayout()
        buttons.addWidget(self.profile_state, 1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)

        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.profile_scroll, 1)
        right_layout.addLayout(buttons)
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(self.section_list)
        splitter.addWidget(right)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([250, 830])
        splitter.setChildrenCollapsible(False)
        return splitter

    def _build_people(self) -> QWidget:
        self.senior_warning = QLabel()
        self.senior_warning.setObjectName("card_no_senior")
        self.senior_warning.setWordWrap(True)
        self.senior_warning.setStyleSheet(f"color: {WARNING_COLOUR};")
        self.people_list = QTreeWidget()
        self.people_list.setObjectName("card_people_list")
        self.people_list.setRootIsDecorated(False)
        self.people_list.setColumnCount(4)
        self.people_list.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.people_tree = QTreeWidget()
        self.people_tree.setObjectName("card_people_tree")
        self.people_tree.setColumnCount(2)
        for tree in (self.people_list, self.people_tree):
            tree.setAlternatingRowColors(True)
            tree.header().setStretchLastSection(True)
            tree.currentItemChanged.connect(
                lambda current, _previous: self._contact_selected(current)
            )
        self.people_list.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.people_tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.list_label = make_bold(QLabel())
        self.tree_label = make_bold(QLabel())
        left = QWidget()
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        left_layout.addWidget(self.senior_warning)
        left_layout.addWidget(self.list_label)
        left_layout.addWidget(self.people_list, 3)
        left_layout.addWidget(self.tree_label)
        left_layout.addWidget(self.people_tree, 2)

        for name in CONTACT_FIELDS:
            kind = FieldKind.REFERENCE if name == "reports_to_id" else None
            self.contact_binding.make(name, long=name in LONG_CONTACT_FIELDS, kind=kind)
        self.contact_heading = make_bold(QLabel())
        self.contact_grid = FieldGrid(self.contact_binding.editors_for(CONTACT_FIELDS))
        contact_body = QWidget()
        contact_layout = QVBoxLayout(contact_body)
        contact_layout.addWidget(self.contact_heading)
        contact_layout.addWidget(self.contact_grid)
        contact_layout.addStretch(1)
        contact_scroll = QScrollArea()
        contact_scroll.setWidgetResizable(True)
        contact_scroll.setWidget(contact_body)
        contact_scroll.setFrameShape(QFrame.Shape.NoFrame)
        self.new_contact_button = QPushButton()
        self.new_contact_button.setObjectName("card_new_contact")
        self.new_contact_button.clicked.connect(self.new_contact)
        self.save_contact_button = QPushButton()
        self.save_contact_button.setObjectName("card_save_contact")
        self.save_contact_button.clicked.connect(self.save_contact)
        self.contact_message = FieldError("contact")
        contact_buttons = QHBoxLayout()
        contact_buttons.addWidget(self.contact_message, 1)
        contact_buttons.addWidget(self.new_contact_button)
        contact_buttons.addWidget(self.save_contact_button)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(contact_scroll, 1)
        right_layout.addLayout(contact_buttons)

        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setSizes([430, 650])
        splitter.setChildrenCollapsible(False)
        return splitter

    def _build_timeline(self) -> QWidget:
        self.timeline = Panel("card_timeline", TIMELINE_COLUMNS, N_("Nothing has happened yet."))
        self.timeline.title.hide()
        self.timeline.table.row_activated.connect(self._open_event)
        return self.timeline

    def _build_sales(self) -> QWidget:
        self.chart_title = make_bold(QLabel())
        self.chart = SalesChart()
        self.credit_title = make_bold(QLabel())
        self.credit_box = CreditBox()
        self.credit_history = SectionTable("card_credit_history", CREDIT_COLUMNS)
        page = QWidget()
        layout = QVBoxLayout(page)
        layout.addWidget(self.chart_title)
        layout.addWidget(self.chart, 2)
        credit_heading = QHBoxLayout()
        credit_heading.addWidget(self.credit_title, 1)
        credit_heading.addWidget(self.credit_review_buttons[1])
        layout.addLayout(credit_heading)
        layout.addWidget(self.credit_box)
        layout.addWidget(self.credit_history)
        layout.addStretch(0)
        return page

    # -- loading

    def refresh(self) -> None:
        store, dealer_id = self.services.store, self.dealer_id
        self.services.workers.run_db(self, lambda: load_card(store, dealer_id), self.show_data)

    def show_data(self, data: CardData) -> None:
        # A reload after saving a list row (or a contact) keeps profile edits not yet
        # saved; the first load has nothing to keep (the editors hold no record yet).
        reloading = self.data is not None
        self.data = data
        contacts = [(with_aside(c["name"], c["title"]), c.id) for c in data.contacts]
        for name in CONTACT_REFERENCES:
            self.binding.editors[name].set_choices(contacts)
        self.binding.editors["our_contact_user_id"].set_choices(
            [(name, user_id) for user_id, name in data.users]
        )
        self.contact_binding.editors["reports_to_id"].set_choices(contacts)
        changed = self.binding.changed_names() if reloading else []
        if not data.manager_fields_open:
            # A sync took the manager's fields from this user: an unsaved change of one
            # could no longer be saved (the services refuse it), so it is dropped.
            changed = [name for name in changed if name not in self.manager_only_editors]
        unsaved = {name: self.binding.editors[name].text() for name in changed}
        self.binding.load(data.dealer.values)
        for name, text in unsaved.items():
            self.binding.editors[name].set_text(text)
        if self.binding.changed_names():
            self._profile_edited()
        card = data.card
        for key, child_table in self.child_tables.items():
            child_table.set_dealer(data.dealer, data.children.get(key, ()))
        self.tables["sales"].set_rows(card.sales)
        self.tables["stakeholders"].set_rows(data.contacts)
        self.tables["history"].set_rows(card.class_history)
        self.timeline.set_rows(data.timeline)
        self.chart.set_points(data.months)
        self.credit_box.set_latest(card.credit_reviews[0] if card.credit_reviews else None)
        self.credit_history.set_rows(card.credit_reviews)
        for editor in self.manager_only_editors.values():
            editor.set_read_only(not data.manager_fields_open)
        self._fill_people(data.contacts)
        self._set_enabled(True)
        self.retranslate()
        emit(self.loaded)

    def _fill_people(self, contacts: Sequence[Record]) -> None:
        selected = self.current_contact_id
        self.people_list.clear()
        self.people_tree.clear()
        by_id = {c.id: c for c in contacts}
        for contact in contacts:
            item = QTreeWidgetItem(self.people_list)
            self._describe_person(item, contact, with_role_columns=True)
        nodes: dict[str, QTreeWidgetItem] = {}
        pending = list(contacts)
        # Parents first: a contact whose boss is unknown (or missing) is a root.
        while pending:
            progressed = False
            for contact in list(pending):
                boss = contact["reports_to_id"]
                if boss and boss in by_id and boss not in nodes and boss != contact.id:
                    continue
                parent_node = nodes.get(boss) if boss else None
                node = QTreeWidgetItem(parent_node or self.people_tree)
                if parent_node is None:
                    self.people_tree.addTopLevelItem(node)
                self._describe_person(node, contact, with_role_columns=False)
                nodes[contact.id] = node
                pending.remove(contact)
                progressed = True
            if not progressed:  # a reporting loop: show the rest at the top
                for contact in pending:
                    node = QTreeWidgetItem(self.people_tree)
                    self._describe_person(node, contact, with_role_columns=False)
                    nodes[contact.id] = node
                pending = []
        self.people_tree.expandAll()
        if selected and selected in by_id:
            self._select_contact(selected)
        elif contacts:
            self._select_contact(contacts[0].id)
        else:
            self.new_contact()

    def _describe_person(
        self, item: QTreeWidgetItem, contact: Record, *, with_role_columns: bool
    ) -> None:
        senior = bool(contact["is_senior"])
        name = (SENIOR_MARK + " " if senior else "") + contact["name"]
        item.setText(0, name)
        item.setData(0, ROW_ROLE, contact.id)
        flags = []
        for flag, label in (
            ("is_business_contact", N_("business")),
            ("is_settlement_contact", N_("settlement")),
            ("is_counterpart", N_("counterpart")),
            ("can_block", N_("can block")),
        ):
            if contact[flag]:
                flags.append(_(label))
        role = contact["decision_role"].label
        if with_role_columns:
            item.setText(1, contact["title"] or "")
            item.setText(2, role)
            item.setText(3, _(", ").join(flags))
        else:
            item.setText(1, " · ".join(part for part in (contact["title"] or "", role) if part))
        if senior:
            font = QFont(item.font(0))
            font.setBold(True)
            item.setFont(0, font)
        if contact["can_block"]:
            item.setForeground(0, QColor(WARNING_COLOUR))
        item.setToolTip(0, _("Senior management") if senior else "")

    def _describe_people_again(self) -> None:
        """The person lines in the current language (decision roles and flags are words);
        the lists stay as they are, with the selection and any unsaved contact edit."""
        if self.data is None:
            return
        by_id = {contact.id: contact for contact in self.data.contacts}
        for tree, with_role_columns in ((self.people_list, True), (self.people_tree, False)):
            for item in _all_items(tree):
                contact = by_id.get(item.data(0, ROW_ROLE))
                if contact is not None:
                    self._describe_person(item, contact, with_role_columns=with_role_columns)

    def _select_contact(self, contact_id: str) -> None:
        for tree in (self.people_list, self.people_tree):
            blocked = tree.blockSignals(True)
            for item in _all_items(tree):
                if item.data(0, ROW_ROLE) == contact_id:
                    tree.setCurrentItem(item)
            tree.blockSignals(blocked)
        self._load_contact(contact_id)

    def _contact_selected(self, item: QTreeWidgetItem | None) -> None:
        if item is None:
            return
        contact_id = str(item.data(0, ROW_ROLE))
        if contact_id != self.current_contact_id:
            self._select_contact(contact_id)

    def _load_contact(self, contact_id: str) -> None:
        data = self.data
        contact = next((c for c in data.contacts if c.id == contact_id), None) if data else None
        if contact is None:
            return
        self.current_contact_id = contact_id
        self.contact_binding.load(contact.values)
        self.contact_message.show_error(None)
        self.contact_heading.setText(contact["name"])

    def _set_enabled(self, enabled: bool) -> None:
        self.tabs.setEnabled(enabled)
        for button in (self.plan_button, self.record_button):
            button.setEnabled(enabled)
        # A rep's 5C review would be refused by the server (a manager-only table), so
        # the button is greyed for them; its tooltip says why (retranslate).
        for button in self.credit_review_buttons:
            button.setEnabled(enabled and self.may_review_credit())
        self.save_button.setEnabled(enabled and not self.busy)

    # -- the profile

    def _profile_edited(self) -> None:
        changed = self.binding.changed_names()
        self.profile_state.say(
            (
                lambda: _("Unsaved changes: {fields}").format(
                    fields=_(", ").join(self.binding.editors[n].label_text() for n in changed)
                )
            )
            if changed
            else None
        )

    def _jump_to_section(self, row: int) -> None:
        if 0 <= row < len(self.section_boxes):
            box = self.section_boxes[row]
            self.profile_scroll.verticalScrollBar().setValue(box.y())

    def revert_profile(self) -> None:
        if self.data is not None:
            self.binding.load(self.data.dealer.values)
            self.profile_state.say(None)
            self.message.say(None)

    def save_profile(self) -> None:
        """Save the changed fields (asking the reason of a classification change)."""
        if self.data is None or self.busy:
            return
        self.message.say(None)
        try:
            changes = self.binding.changed_values()
        except ValidationError as error:
            self._show_profile_error(error)
            return
        if not changes:
            self.profile_state.say(lambda: _("No changes to save."))
            return
        classified = sorted(name for name in changes if name in CLASSIFICATION_FIELDS)
        if not classified:
            self._submit_profile(changes, None, None)
            return
        dialog = ReasonDialog(
            [self.binding.editors[name].label_text() for name in classified], self
        )
        dialog.accepted.connect(
            lambda: self._submit_profile(
                changes, dialog.reason_text(), dialog.period.text().strip() or None
            )
        )
        dialog.open()

    def _submit_profile(
        self, changes: dict[str, Any], reason: str | None, period: str | None
    ) -> None:
        from fieldrep.storage.services.dealers import update_dealer

        store, dealer_id = self.services.store, self.dealer_id
        self.busy = True
        self._set_enabled(True)
        self.services.workers.run_db(
            self,
            lambda: update_dealer(store, dealer_id, changes, reason=reason, period_label=period),
            self._profile_saved,
            self._profile_failed,
        )

    def _profile_saved(self, dealer: Record) -> None:
        self.busy = False
        self.profile_state.say(lambda: _("Saved."))
        emit(self.saved, dealer)
        self.refresh()
        _refresh_main_views(self.parentWidget())

    def _profile_failed(self, error: BaseException) -> None:
        self.busy = False
        self._set_enabled(True)
        if isinstance(error, ValidationError):
            self._show_profile_error(error)
            return
        self.services.workers.show_failure(self, error)

    def _show_profile_error(self, error: ValidationError) -> None:
        unplaced = self.binding.show_error(error)
        self.message.setStyleSheet(f"color: {WARNING_COLOUR};")
        self.message.say(
            joined(unplaced) or (lambda: _("Some fields need attention: see the red notes."))
        )
        self.tabs.setCurrentIndex(0)
        first = next(
            (editor for editor in self.binding.editors.values() if editor.error.text()), None
        )
        if first is not None:
            self.profile_scroll.ensureWidgetVisible(first)

    # -- people

    def new_contact(self) -> None:
        self.current_contact_id = None
        self.contact_binding.load({})
        self.contact_heading.setText(_("New contact"))
        self.contact_message.show_error(None)
        for tree in (self.people_list, self.people_tree):
            tree.clearSelection()
        self.contact_binding.editors["name"].editor.setFocus()

    def save_contact(self) -> None:
        from fieldrep.storage.services.contacts import add_contact, update_contact

        self.contact_message.show_error(None)
        contact_id = self.current_contact_id
        try:
            if contact_id is None:
                names = [
                    name
                    for name, editor in self.contact_binding.editors.items()
                    if editor.text().strip() and editor.text() != "0"
                ]
                values = self.contact_binding.values_of(names)
            else:
                values = self.contact_binding.changed_values()
        except ValidationError:
            return
        if not values:
            return
        store, dealer_id = self.services.store, self.dealer_id
        if contact_id is None:
            work: Any = lambda: add_contact(store, dealer_id, values)  # noqa: E731
        else:
            work = lambda: update_contact(store, contact_id, values)  # noqa: E731
        self.services.workers.run_db(self, work, self._contact_saved, self._contact_failed)

    def _contact_saved(self, contact: Record) -> None:
        self.current_contact_id = contact.id
        emit(self.contact_saved, contact)
        self.refresh()

    def _contact_failed(self, error: BaseException) -> None:
        if isinstance(error, ValidationError):
            unplaced = self.contact_binding.show_error(error)
            self.contact_message.show_error(joined(unplaced))
            return
        self.services.workers.show_failure(self, error)

    # -- child lists and credit reviews

    def _child_changed(self, key: str) -> None:
        self.message.setStyleSheet("")
        self.message.say(lambda: _("Saved; the change goes out with the next sync."))
        self.refresh()
        _refresh_main_views(self.parentWidget())

    def _open_stakeholder(self, contact: Record) -> None:
        """People are edited under Key people: open the person there."""
        self.tabs.setCurrentIndex(1)
        self._select_contact(contact.id)

    def may_review_credit(self) -> bool:
        """Credit reviews are a manager-only table (fieldrep.sync.protocol): the server
        refuses a rep's, even for a dealer not synced yet."""
        return may_write(self.services.store.user.role, "credit_assessment")

    def follow_user(self) -> None:
        """A sync changed the user's role: load again, so the manager's fields and the
        5C review button open or close (unsaved edits of other fields are kept)."""
        self.refresh()

    def new_credit_review(self) -> None:
        """Open the 5C review dialog, or say why this user may not record one."""
        data = self.data
        if data is None or self.busy:
            return
        if not self.may_review_credit():
            self.message.setStyleSheet(f"color: {WARNING_COLOUR};")
            self.message.say(
                lambda: _(
                    "Only an area manager can record a 5C credit review. Tell your manager "
                    "what you learned; the review shows here after the next sync."
                )
            )
            return
        store, territory_id = self.services.store, str(data.dealer["territory_id"])
        self.services.workers.run_db(
            self, lambda: load_credit_scale(store, territory_id), self._open_credit_review
        )

    def _open_credit_review(self, scale: CreditScale) -> None:
        if self.data is None:
            return
        dialog = CreditReviewDialog(self.services, self.data.dealer, scale, self)
        dialog.saved.connect(self._credit_reviewed)
        dialog.open()

    def _credit_reviewed(self, assessment: Record) -> None:
        self.message.setStyleSheet("")
        self.message.say(
            lambda: _("5C credit review saved: grade {grade}, {risk}.").format(
                grade=assessment["overall_grade"], risk=assessment["risk_level"].label
            )
        )
        emit(self.credit_reviewed, assessment)
        self.refresh()
        _refresh_main_views(self.parentWidget())

    # -- actions

    def plan_visit(self) -> None:
        today = self.data.today if self.data else self.services.store.today()
        dialog = PlanVisitDialog(self.services, self.dealer_id, today, self)
        dialog.planned.connect(self._visit_planned)
        dialog.open()

    def _visit_planned(self, item: Record) -> None:
        self.message.setStyleSheet("")
        self.message.say(
            lambda: _("Visit planned on {day}, number {seq} of that day's route.").format(
                day=format_day(item["planned_date"]), seq=item["route_seq"]
            )
        )
        emit(self.visit_planned, item)
        _refresh_main_views(self.parentWidget())

    def record_visit(self) -> None:
        """Open a visit record for this dealer (today's planned visit, if any, is used)."""
        from fieldrep.ui.views.visit_record import VisitTarget, show_visit_record

        window = self.parentWidget() or self
        show_visit_record(self.services, window, VisitTarget(dealer_id=self.dealer_id))

    def _open_event(self, event: TimelineEvent) -> None:
        window = self.parentWidget()
        opener = getattr(window, "open_record", None)
        if not callable(opener):
            return
        if event.kind.code == "visit":
            opener("visit", event.row_id)
        elif event.kind.code == "follow_up":
            opener("follow_up", event.row_id)

    def current_dealer_id(self) -> str:
        return self.dealer_id

    def show_history(self) -> None:
        """Open the Change history tab (it asks the server the first time)."""
        self.tabs.setCurrentWidget(self.history)

    def _tab_shown(self, index: int) -> None:
        if self.tabs.widget(index) is self.history:
            self.history.ensure_fetched()

    # -- language

    def changeEvent(self, event: QEvent) -> None:
        if event.type() == QEvent.Type.LanguageChange:
            self.retranslate()
        super().changeEvent(event)

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.binding.changed_names() and not getattr(self, "_closing_confirmed", False):
            event.ignore()
            box = QMessageBox(
                QMessageBox.Icon.Question,
                _("Unsaved changes"),
                _("The profile has unsaved changes. Save them before closing?"),
                QMessageBox.StandardButton.Save
                | QMessageBox.StandardButton.Discard
                | QMessageBox.StandardButton.Cancel,
                self,
            )
            box.setObjectName("card_close_confirm")
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

            def answered(button: int) -> None:
                if button == QMessageBox.StandardButton.Save:
                    self.save_profile()
                elif button == QMessageBox.StandardButton.Discard:
                    self._closing_confirmed = True
                    self.close()

            box.finished.connect(answered)
            box.open()
            return
        super().closeEvent(event)

    def retranslate(self) -> None:
        data = self.data
        name = data.dealer["name"] if data else ""
        self.setWindowTitle(
            _("Dealer card: {dealer}").format(dealer=name) if name else _("Dealer card")
        )
        self.heading.setText(name or _("Loading…"))
        self.plan_button.setText(_("Plan a visit…"))
        self.record_button.setText(_("Record a visit"))
        self.record_button.setToolTip(_("Open a visit record for this dealer (Ctrl+N)"))
        self.tabs.setTabText(0, _("Profile card"))
        self.tabs.setTabText(1, _("Key people"))
        self.tabs.setTabText(2, _("Timeline"))
        self.tabs.setTabText(3, _("Sales and credit"))
        self.tabs.setTabText(4, _("Change history"))
        for index, box in enumerate(self.section_boxes):
            number = f"{index + 1}. " if index < 17 else ""
            title = number + _(SECTION_TITLES[index])
            box.setTitle(title)
            self.section_list.item(index).setText(title)
        for grid in self.section_grids:
            grid.retranslate()
        self.binding.retranslate()
        for table in self.tables.values():
            table.retranslate()
        self.save_button.setText(_("Save changes"))
        self.revert_button.setText(_("Undo changes"))
        self.list_label.setText(_("People and their roles"))
        self.tree_label.setText(_("Decision chain (who reports to whom)"))
        self.people_list.setHeaderLabels(
            [
                _(field_label(Contact, "name")),
                _(field_label(Contact, "title")),
                _(field_label(Contact, "decision_role")),
                _("Roles"),
            ]
        )
        self.people_tree.setHeaderLabels(
            [_(field_label(Contact, "name")), _(field_label(Contact, "decision_role"))]
        )
        self._describe_people_again()
        self.contact_grid.retranslate()
        if self.data is not None and self.data.manager:
            manager_only = ""  # theirs to change: nothing to explain
        elif self.data is None or not self.data.manager_fields_open:
            manager_only = _("Only an area manager can change this.")
        else:
            manager_only = _(
                "Only an area manager can change this once the new dealer is synced; "
                "until then you may set it."
            )
        for editor in self.manager_only_editors.values():
            editor.editor.setToolTip(manager_only)
        self.contact_binding.retranslate()
        self.new_contact_button.setText(_("New contact"))
        self.save_contact_button.setText(_("Save contact"))
        self.timeline.retranslate()
        self.chart_title.setText(_("Revenue and collections by month"))
        self.chart.update()
        self.credit_title.setText(_("Latest 5C credit assessment"))
        allowed = self.may_review_credit()
        for button in self.credit_review_buttons:
            button.setText(_("New 5C credit review…"))
            button.setToolTip(
                _("Score the five Cs; grade and risk are computed as you score")
                if allowed
                else _("Only an area manager can record a 5C credit review")
            )
        self.credit_box.retranslate()
        self.credit_history.retranslate()
        if data is not None:
            self._describe_header(data)

    def _describe_header(self, data: CardData) -> None:
        dealer = data.dealer
        facts = [
            dealer["abc_class"].label,
            dealer["lifecycle_status"].label,
        ]
        if dealer["credit_grade"]:
            facts.append(_("credit {grade}").format(grade=dealer["credit_grade"]))
        for name in ("city", "phone"):
            if dealer[name]:
                facts.append(dealer[name])
        if dealer["channel_type"]:
            facts.append(dealer["channel_type"].label)
        self.facts.setText("  ·  ".join(facts))
        messages = [warning.message() for warning in data.warnings]
        self.warnings.setText("\n".join(f"⚠ {text}" for text in messages))
        self.warnings.setStyleSheet(f"color: {WARNING_COLOUR};")
        self.warnings.setVisible(bool(messages))
        senior_missing = [
            warning.message()
            for warning in data.warnings
            if warning.code.code == "no_senior_contact"
        ]
        self.senior_warning.setText("⚠ " + senior_missing[0] if senior_missing else "")
        self.senior_warning.setVisible(bool(senior_missing))
        latest = data.card.credit_reviews[0] if data.card.credit_reviews else None
        self.credit_summary.setText(
            _("Latest 5C review {day}: grade {grade}, {risk}").format(
                day=format_day(latest.reviewed_at),
                grade=latest.overall_grade,
                risk=latest.risk_level.label,
            )
            if latest is not None
            else _("No 5C credit assessment yet.")
        )
        if self.current_contact_id is None:
            self.contact_heading.setText(_("New contact"))


def _all_items(tree: QTreeWidget) -> list[QTreeWidgetItem]:
    found: list[QTreeWidgetItem] = []
    stack = [tree.topLevelItem(i) for i in range(tree.topLevelItemCount())]
    while stack:
        item = stack.pop()
        if item is None:
            continue
        found.append(item)
        stack.extend(item.child(i) for i in range(item.childCount()))
    return found


def _refresh_main_views(window: QWidget | None) -> None:
    from fieldrep.ui.views.visit_record import refresh_views

    if window is not None:
        refresh_views(window)


def show_dealer_card(services: AppServices, window: QWidget, dealer_id: str) -> DealerCardWindow:
    """Open the card of a dealer, or bring its open card to the front."""
    for card in window.findChildren(DealerCardWindow):
        if card.dealer_id == dealer_id:
            card.show()
            card.raise_()
            card.activateWindow()
            return card
    card = DealerCardWindow(services, dealer_id, window)
    # The main window tells when a sync changed the signed-in user's role.
    user_changed = getattr(window, "user_changed", None)
    if user_changed is not None:
        user_changed.connect(card.follow_user)
    card.show()
    return card


def open_record(services: AppServices, window: QMainWindow, record_id: str) -> None:
    """Registry entry: the dealer card of ``record_id``."""
    show_dealer_card(services, window, record_id)


__all__ = [
    "SECTION_FIELDS",
    "SECTION_TITLES",
    "CardData",
    "DealerCardWindow",
    "load_card",
    "open_record",
    "show_dealer_card",
]
