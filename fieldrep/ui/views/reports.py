"""Reports: the weekly or monthly customer management report and visit cadence compliance.

Pick week or month and a day of it; a rep sees their own report, a manager (or
an administrator) can switch to the team of the territories they run. The view
shows the period in numbers (planned, done, in progress, not done, visits and
follow-ups per rep, the three sections of DOMAIN.md §2.19) and how many dealers
kept their visit cadence (DOMAIN.md §3.1) per rep and per class, from
:func:`fieldrep.storage.cadence.compliance`, counted up to today when the period
is still running. "Preview and print" opens the PDF of :mod:`fieldrep.reports`
in the print preview. Everything is gathered on the database worker.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import date
from typing import TYPE_CHECKING

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from fieldrep.i18n import N_, _
from fieldrep.storage.cadence import ComplianceRow
from fieldrep.storage.enums import AbcClass, PeriodType, ReportSection, Role
from fieldrep.ui.common import format_day, format_percent, make_bold
from fieldrep.ui.forms import date_edit, qdate_to_date
from fieldrep.ui.qtcompat import emit
from fieldrep.ui.rows_model import RowColumn
from fieldrep.ui.uisettings import UiSettings
from fieldrep.ui.views.base import View
from fieldrep.ui.views.today import Panel

if TYPE_CHECKING:
    from fieldrep.reports.data import RepTally
    from fieldrep.reports.screen import ReportsData
    from fieldrep.ui.services import AppServices

log = logging.getLogger("fieldrep.ui")

PERIODS = (PeriodType.WEEK, PeriodType.MONTH)
PERIOD_KEY = "reports/period"
SPLITTER = "reports_main"


def can_see_team(role: Role) -> bool:
    """Managers and administrators report on a team; a rep on their own work."""
    return role in (Role.MANAGER, Role.ADMIN)


def _number(value: int) -> str:
    return str(value)


# The plan columns count planned stops by their status; they say so, because the
# report sections above the table (completed, in progress) count other things.
TALLY_COLUMNS = (
    RowColumn(N_("Rep"), lambda row: row.rep_name, 90),
    RowColumn(N_("Visits planned"), lambda row: _number(row.planned), 60, align_right=True),
    RowColumn(N_("Planned, done"), lambda row: _number(row.done), 60, align_right=True),
    RowColumn(
        N_("Planned, in progress"), lambda row: _number(row.in_progress), 60, align_right=True
    ),
    RowColumn(N_("Planned, not done"), lambda row: _number(row.not_done), 60, align_right=True),
    RowColumn(
        N_("Visits recorded"), lambda row: _number(row.visits_recorded), 70, align_right=True
    ),
    RowColumn(
        N_("Follow-ups done"), lambda row: _number(row.follow_ups_done), 70, align_right=True
    ),
    RowColumn(
        N_("Follow-ups open"), lambda row: _number(row.follow_ups_open), 70, align_right=True
    ),
    RowColumn(
        N_("Follow-ups overdue"), lambda row: _number(row.follow_ups_overdue), 70, align_right=True
    ),
    RowColumn(
        N_("Planned next period"),
        lambda row: _number(row.next_period_planned),
        80,
        align_right=True,
    ),
)


SECTION_TITLES = {
    ReportSection.COMPLETED: N_("Completed {count}"),
    ReportSection.IN_PROGRESS: N_("In progress {count}"),
    ReportSection.NEW: N_("New plans {count}"),
}
# What each kind of line (ReportItemKind code; reports.data loads with the data) is
# in each section. The names match the table's columns where the numbers are the
# same (visits recorded, follow-ups done).
PART_NAMES: dict[tuple[ReportSection, str], str] = {
    (ReportSection.COMPLETED, "visit"): N_("Visits recorded"),
    (ReportSection.COMPLETED, "follow_up"): N_("Follow-ups done"),
    (ReportSection.IN_PROGRESS, "plan_item"): N_("planned visits not recorded"),
    (ReportSection.IN_PROGRESS, "follow_up"): N_("follow-ups still open"),
    (ReportSection.NEW, "plan_item"): N_("visits planned for the next period"),
    (ReportSection.NEW, "record_plan"): N_("plans from visit cards"),
    (ReportSection.NEW, "follow_up"): N_("new follow-ups due later"),
}
WRITTEN_PART = N_("tasks written in the report")


def sections_text(data: ReportsData) -> str:
    """The three report sections with what each count is made of.

    E.g. "Report sections: Completed 15 (Visits recorded 9, Follow-ups done 6) · ...":
    without the parts, "Completed 15" read as a contradiction of the table's
    planned stops done (9).
    """
    sections = []
    for section, title in SECTION_TITLES.items():
        parts = [
            _("{name} {count}").format(
                name=_(
                    WRITTEN_PART
                    if kind is None
                    else PART_NAMES.get((section, kind.code), kind.label)
                ),
                count=count,
            )
            for kind, count in data.section_parts(section)
        ]
        text = _(title).format(count=data.section_count(section))
        if parts:
            text = _("{section} ({parts})").format(section=text, parts=_(", ").join(parts))
        sections.append(text)
    return _("Report sections: {sections}").format(sections=_(" · ").join(sections))


def _class_label(row: ComplianceRow) -> str:
    """A class row's label in the current language (the worker's is in the language of the load;
    a language switch must not wait for a reload)."""
    try:
        return AbcClass(str(row.key)).label
    except ValueError:
        return row.label


def _compliance_columns(
    first: str, label: Callable[[ComplianceRow], str] = lambda row: row.label
) -> tuple[RowColumn, ...]:
    return (
        RowColumn(first, label, 120),
        RowColumn(
            N_("Dealers on a cadence"), lambda row: _number(row.dealers), 90, align_right=True
        ),
        RowColumn(
            N_("Visited within cadence"), lambda row: _number(row.compliant), 90, align_right=True
        ),
        RowColumn(N_("Compliance"), lambda row: format_percent(row.percent), 70, align_right=True),
    )


class ReportsView(View):
    """Weekly and monthly customer management report, with compliance and print preview."""

    loaded = Signal()

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.data: ReportsData | None = None
        self.loading = False
        self._again = False
        self._stale = False
        user = services.store.user
        self.team_allowed = can_see_team(user.role)

        self.period = QComboBox()
        self.period.setObjectName("reports_period")
        for period in PERIODS:
            self.period.addItem(period.label, period.code)
        stored = services.settings.text(PERIOD_KEY, PeriodType.WEEK.code)
        self.period.setCurrentIndex(max(self.period.findData(stored), 0))
        self.period.currentIndexChanged.connect(lambda _index: self._period_changed())
        self.period_label = QLabel()
        self.period_label.setBuddy(self.period)
        self.day = date_edit(services.store.today())
        self.day.setObjectName("reports_day")
        self.day.dateChanged.connect(lambda _date: self.refresh())
        self.day_label = QLabel()
        self.day_label.setBuddy(self.day)
        self.scope = QComboBox()
        self.scope.setObjectName("reports_scope")
        self.scope.addItem("", "me")
        if self.team_allowed:
            self.scope.addItem("", "team")
        self.scope.setEnabled(self.team_allowed)
        self.scope.currentIndexChanged.connect(lambda _index: self.refresh())
        self.scope_label = QLabel()
        self.scope_label.setBuddy(self.scope)
        self.preview_button = QPushButton()
        self.preview_button.setObjectName("reports_preview")
        self.preview_button.clicked.connect(self.preview)
        bar = QHBoxLayout()
        for label, widget in (
            (self.period_label, self.period),
            (self.day_label, self.day),
            (self.scope_label, self.scope),
        ):
            bar.addWidget(label)
            bar.addWidget(widget)
            bar.addSpacing(10)
        bar.addStretch(1)
        bar.addWidget(self.preview_button)

        self.heading = QLabel()
        self.heading.setObjectName("reports_heading")
        make_bold(self.heading, 1.2)
        self.sections = QLabel()
        self.sections.setObjectName("reports_sections")
        self.sections.setWordWrap(True)

        self.tally = Panel(
            "reports_tally", TALLY_COLUMNS, N_("Nothing planned or done in this period.")
        )
        self.by_rep = Panel(
            "reports_by_rep", _compliance_columns(N_("Rep")), N_("No dealers on a cadence.")
        )
        self.by_class = Panel(
            "reports_by_class",
            _compliance_columns(N_("Visit class"), _class_label),
            N_("No dealers on a cadence."),
        )
        compliance_row = QWidget()
        compliance_layout = QHBoxLayout(compliance_row)
        compliance_layout.setContentsMargins(0, 0, 0, 0)
        compliance_layout.addWidget(self.by_rep, 1)
        compliance_layout.addWidget(self.by_class, 1)
        self.splitter = QSplitter(Qt.Orientation.Vertical)
        self.splitter.setObjectName(SPLITTER)
        self.splitter.addWidget(self.tally)
        self.splitter.addWidget(compliance_row)
        self.splitter.setChildrenCollapsible(False)
        self.splitter.setSizes([260, 380])
        for panel in (self.tally, self.by_rep, self.by_class):
            # Few rows: columns as wide as their titles and values, in either language.
            panel.table.horizontalHeader().setSectionResizeMode(
                QHeaderView.ResizeMode.ResizeToContents
            )
        self.compliance_note = QLabel()
        self.compliance_note.setObjectName("reports_compliance_note")
        self.compliance_note.setWordWrap(True)
        self.compliance_note.setStyleSheet("color: palette(mid);")

        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 4)
        layout.addLayout(bar)
        layout.addWidget(self.heading)
        layout.addWidget(self.sections)
        layout.addWidget(self.splitter, 1)
        layout.addWidget(self.compliance_note)
        self.retranslate()
        self.refresh()

    # -- language and state

    def retranslate(self) -> None:
        for position, period in enumerate(PERIODS):
            self.period.setItemText(position, period.label)
        self.period_label.setText(_("Report:"))
        self.day_label.setText(_("Period containing:"))
        self.scope_label.setText(_("For:"))
        self.scope.setItemText(0, _("Me"))
        if self.team_allowed:
            self.scope.setItemText(1, _("My team"))
        self.scope.setToolTip("" if self.team_allowed else _("Team reports are for area managers."))
        self.preview_button.setText(_("Preview and print…"))
        for panel in (self.tally, self.by_rep, self.by_class):
            panel.retranslate()
            panel.model.retranslate()
        self._show()
        if self.data is not None:
            # Rep and class names come translated from the worker: reload now or when shown.
            self._stale = True
            if self.isVisible():
                self.refresh()

    def save_state(self, settings: UiSettings) -> None:
        settings.set_text(PERIOD_KEY, self.current_period().code)
        settings.set_bytes(settings.splitter_key(SPLITTER), self.splitter.saveState())

    def restore_state(self, settings: UiSettings) -> None:
        state = settings.bytes(settings.splitter_key(SPLITTER))
        if state is not None:
            self.splitter.restoreState(state)

    def activate(self, argument: str = "") -> None:
        if self._stale:
            self.refresh()

    # -- choices

    def current_period(self) -> PeriodType:
        return PeriodType(self.period.currentData())

    def current_day(self) -> date:
        return qdate_to_date(self.day.date())

    def team(self) -> bool:
        return bool(self.scope.currentData() == "team")

    def _period_changed(self) -> None:
        self.services.settings.set_text(PERIOD_KEY, self.current_period().code)
        self.refresh()

    # -- data

    def refresh(self) -> None:
        if self.loading:
            self._again = True
            return
        self.loading = True
        self._stale = False
        self.preview_button.setEnabled(False)
        from fieldrep.reports.screen import load_reports

        store = self.services.store
        period, day, team = self.current_period(), self.current_day(), self.team()
        self.services.workers.run_db(
            self, lambda: load_reports(store, period, day, team), self._loaded, self._failed
        )

    def _loaded(self, data: ReportsData) -> None:
        self.loading = False
        if self._again:
            self._again = False
            self.refresh()
            return
        self.data = data
        self._show()
        emit(self.loaded)

    def _failed(self, error: BaseException) -> None:
        self.loading = False
        self._again = False
        self.services.workers.show_failure(self, error)

    def _show(self) -> None:
        data = self.data
        if data is None:
            self.heading.setText(_("Loading…"))
            return
        report = data.report
        owner = report.scope_name or report.owner_name
        self.heading.setText(
            _("{period} {start} – {end}: {owner}").format(
                period=data.period.label,
                start=format_day(data.start),
                end=format_day(data.end),
                owner=owner,
            )
        )
        self.sections.setText(sections_text(data))
        self.tally.title.setText(_("The period in numbers"))
        self.tally.set_rows(report.tallies)
        self.by_rep.title.setText(_("Visit cadence kept, per rep"))
        self.by_rep.set_rows(data.by_rep)
        self.by_class.title.setText(
            _("Visit cadence kept, per class")
            if data.team
            else _("Visit cadence kept in the territory, per class")
        )
        self.by_class.set_rows(data.by_class)
        self.by_rep.setVisible(data.team or bool(data.by_rep))
        self.compliance_note.setText(
            _(
                "Cadence: class A and B dealers need their visits in each calendar month, "
                "class C must never be overdue; counted from {start} to {until}."
            ).format(start=format_day(data.start), until=format_day(data.counted_until))
        )
        self.preview_button.setEnabled(True)

    def tallies(self) -> tuple[RepTally, ...]:
        return self.data.report.tallies if self.data is not None else ()

    # -- printing

    def preview(self) -> None:
        """Print preview of the report as it is chosen."""
        from fieldrep.ui.print_preview import DocumentKind, DocumentRequest, show_preview

        user = self.services.store.user
        team = self.team()
        request = DocumentRequest(
            DocumentKind.REPORT,
            day=self.current_day(),
            period=self.current_period(),
            rep=None if team else user.user_id,
            team_of=user.user_id if team else None,
        )
        show_preview(self.services, self, request)


def create_view(services: AppServices, parent: QWidget | None) -> View:
    """Registry entry: Reports."""
    return ReportsView(services, parent)


__all__ = ["ReportsView", "can_see_team", "create_view"]
