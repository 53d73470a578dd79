"""The Today view: warnings, the day's route, dealers due for a visit, follow-ups due.

Everything comes from :func:`fieldrep.storage.screens.today.load_today` in one call on
the database worker. Every line opens its record (Enter or double-click), every
warning leads to the view that explains it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QModelIndex, Qt, Signal
from PySide6.QtGui import QColor, QKeyEvent, QMouseEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHeaderView,
    QLabel,
    QSplitter,
    QStackedWidget,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from fieldrep.i18n import N_, _, ngettext
from fieldrep.ui.common import format_day, format_long_day, make_bold
from fieldrep.ui.drafts import DraftsNotice, refresh_drafts_hint
from fieldrep.ui.qtcompat import emit
from fieldrep.ui.rows_model import ROW_ROLE, RowColumn, RowsModel
from fieldrep.ui.uisettings import UiSettings
from fieldrep.ui.views.base import View

if TYPE_CHECKING:
    from fieldrep.storage.screens.today import TodayData, TodayWarning
    from fieldrep.ui.services import AppServices

LIGHT_COLOURS = {"green": "#2e7d32", "yellow": "#f9a825", "red": "#c62828"}
OVERDUE = QColor("#c62828")
SPLITTER_MAIN = "today_main"
SPLITTER_LISTS = "today_lists"


def _overdue_colour(days: int) -> QColor | None:
    return OVERDUE if days > 0 else None


def _days_text(days: int) -> str:
    if days <= 0:
        return _("due today") if days == 0 else ""
    return ngettext("{days} day", "{days} days", days).format(days=days)


PLAN_COLUMNS = (
    RowColumn(N_("Order"), lambda row: str(row.route_seq), align_right=True),
    RowColumn(N_("Time"), lambda row: row.time_slot.strftime("%H:%M") if row.time_slot else ""),
    RowColumn(N_("Dealer"), lambda row: row.dealer_name),
    RowColumn(N_("City"), lambda row: row.city or ""),
    RowColumn(N_("Visit type"), lambda row: row.visit_type.label),
    RowColumn(
        N_("Objective"),
        lambda row: row.objective or "",
        stretch=True,
        tooltip=lambda row: row.objective,
    ),
    RowColumn(N_("Status"), lambda row: row.status.label),
)
DUE_COLUMNS = (
    RowColumn(N_("Dealer"), lambda row: row.name, stretch=True),
    RowColumn(N_("City"), lambda row: row.city or ""),
    RowColumn(N_("Visit class"), lambda row: row.abc_class.label),
    RowColumn(N_("Last visit"), lambda row: format_day(row.last_visit_on)),
    RowColumn(
        N_("Overdue"),
        lambda row: _days_text(row.days_overdue),
        align_right=True,
        colour=lambda row: _overdue_colour(row.days_overdue),
    ),
)
FOLLOW_UP_COLUMNS = (
    RowColumn(N_("Follow-up"), lambda row: row.title, stretch=True, tooltip=lambda row: row.title),
    RowColumn(N_("Dealer"), lambda row: row.dealer_name or "", width=150),
    RowColumn(N_("Due"), lambda row: format_day(row.due_on)),
    RowColumn(
        N_("Overdue"),
        lambda row: _days_text(row.days_overdue),
        align_right=True,
        colour=lambda row: _overdue_colour(row.days_overdue),
    ),
    RowColumn(N_("Status"), lambda row: row.status.label),
)


class WarningLine(QLabel):
    """One red/yellow/green light; click or Enter leads to the view behind it."""

    activated = Signal()

    def __init__(self, warning: TodayWarning, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.warning = warning
        self.setObjectName(f"warning_{warning.kind.value}")
        self.setWordWrap(True)
        self.setTextFormat(Qt.TextFormat.RichText)
        self.setFocusPolicy(Qt.FocusPolicy.TabFocus)
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.retranslate()

    def retranslate(self) -> None:
        colour = LIGHT_COLOURS[self.warning.light.value]
        text = self.warning.message().replace("&", "&amp;").replace("<", "&lt;")
        self.setText(f'<span style="color:{colour}; font-size:14pt">●</span>&nbsp; {text}')
        self.setToolTip(_("Show the details"))

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        if event.button() == Qt.MouseButton.LeftButton:
            emit(self.activated)
        super().mouseReleaseEvent(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter, Qt.Key.Key_Space):
            emit(self.activated)
            return
        super().keyPressEvent(event)


class RowsTable(QTableView):
    """A compact read-only table whose rows open a record."""

    row_activated = Signal(object)

    def __init__(self, model: RowsModel, name: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(name)
        self.setModel(model)
        self.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.setAlternatingRowColors(True)
        self.setShowGrid(False)
        self.setWordWrap(False)
        self.verticalHeader().hide()
        self.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.verticalHeader().setDefaultSectionSize(self.fontMetrics().height() + 10)
        header = self.horizontalHeader()
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setHighlightSections(False)
        header.setStretchLastSection(False)
        header.setMinimumSectionSize(40)
        # Columns fitted to their contents measure the rows on screen only: measuring
        # every row (Qt's default: up to 1,000) on each reload is what stalled the
        # GUI thread when a sync refreshed a list of 100 dealers.
        header.setResizeContentsPrecision(0)
        for position, column in enumerate(model.columns):
            if column.stretch:
                header.setSectionResizeMode(position, QHeaderView.ResizeMode.Stretch)
            elif column.width is not None:
                header.resizeSection(position, column.width)
            else:
                header.setSectionResizeMode(position, QHeaderView.ResizeMode.ResizeToContents)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.setTextElideMode(Qt.TextElideMode.ElideRight)
        self.setStyleSheet("QTableView::item { padding: 0px 6px; }")
        self.doubleClicked.connect(self._activate)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self._activate(self.currentIndex())
            return
        super().keyPressEvent(event)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.refit_columns()

    def refit_columns(self) -> None:
        """Measure the fitted columns again, with the rows on screen in the current font.

        The header measures them when the rows change, not when the font does (a
        larger or another font, e.g. the bundled Chinese one): the dealer card's
        timeline kept the date column of the old font and clipped "2026-11-11" to
        "2026-11-1…". Only on a font or style change: it costs about 2.5 ms a table
        (7.4 ms for Today's three), too much for every show of a view.
        """
        header = self.horizontalHeader()
        for position in range(header.count()):
            if header.sectionResizeMode(position) == QHeaderView.ResizeMode.ResizeToContents:
                header.resizeSection(
                    position,
                    max(self.sizeHintForColumn(position), header.sectionSizeHint(position)),
                )

    def _activate(self, index: QModelIndex) -> None:
        if index.isValid():
            emit(self.row_activated, index.data(ROW_ROLE))


class Panel(QWidget):
    """A titled list with a calm message in place of an empty table."""

    def __init__(
        self,
        name: str,
        columns: Sequence[RowColumn],
        empty_text: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.empty_source = empty_text
        self.title = QLabel()
        self.title.setObjectName(f"{name}_title")
        make_bold(self.title)
        self.model = RowsModel(columns, self)
        self.table = RowsTable(self.model, f"{name}_table")
        self.empty = QLabel()
        self.empty.setObjectName(f"{name}_empty")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.empty.setWordWrap(True)
        self.empty.setStyleSheet("color: palette(mid);")
        self.stack = QStackedWidget()
        self.stack.addWidget(self.table)
        self.stack.addWidget(self.empty)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addWidget(self.title)
        layout.addWidget(self.stack, 1)

    def set_rows(self, rows: Sequence[Any]) -> None:
        self.model.set_rows(rows)
        self.stack.setCurrentWidget(self.table if rows else self.empty)

    def retranslate(self) -> None:
        self.empty.setText(_(self.empty_source))
        self.model.retranslate()


class TodayView(View):
    """Today: what to do now, in one screen."""

    data_loaded = Signal()
    sales_loaded = Signal()

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.data: TodayData | None = None
        self.sales_warnings: tuple[TodayWarning, ...] = ()
        self.sales_ready = False

        self.heading = QLabel()
        self.heading.setObjectName("today_heading")
        make_bold(self.heading, 1.5)

        # Visit records typed but not saved: said here too, not only in the status bar.
        self.drafts_notice = DraftsNotice(services)

        self.warnings_frame = QFrame()
        self.warnings_frame.setObjectName("today_warnings")
        self.warnings_frame.setFrameShape(QFrame.Shape.StyledPanel)
        self.warnings_layout = QVBoxLayout(self.warnings_frame)
        self.warnings_layout.setContentsMargins(12, 8, 12, 8)
        self.warnings_layout.setSpacing(4)
        self.warning_lines: list[WarningLine] = []

        self.plan = Panel("today_plan", PLAN_COLUMNS, N_("No visits planned for today."))
        self.due = Panel("today_due", DUE_COLUMNS, N_("No dealer is due for a visit."))
        self.follow_ups = Panel(
            "today_follow_ups", FOLLOW_UP_COLUMNS, N_("No follow-up is due today.")
        )
        self.plan.table.row_activated.connect(
            lambda row: emit(self.open_record, "plan_item", row.item_id)
        )
        self.due.table.row_activated.connect(
            lambda row: emit(self.open_record, "dealer", row.dealer_id)
        )
        self.follow_ups.table.row_activated.connect(
            lambda row: emit(self.open_record, "follow_up", row.id)
        )

        self.lists_splitter = QSplitter(Qt.Orientation.Horizontal)
        self.lists_splitter.setObjectName(SPLITTER_LISTS)
        self.lists_splitter.addWidget(self.due)
        self.lists_splitter.addWidget(self.follow_ups)
        self.lists_splitter.setChildrenCollapsible(False)
        self.main_splitter = QSplitter(Qt.Orientation.Vertical)
        self.main_splitter.setObjectName(SPLITTER_MAIN)
        self.main_splitter.addWidget(self.plan)
        self.main_splitter.addWidget(self.lists_splitter)
        self.main_splitter.setChildrenCollapsible(False)
        self.main_splitter.setStretchFactor(0, 2)
        self.main_splitter.setStretchFactor(1, 3)

        layout = QVBoxLayout(self)
        layout.setContentsMargins(16, 12, 16, 8)
        layout.addWidget(self.heading)
        layout.addWidget(self.drafts_notice)
        layout.addWidget(self.warnings_frame)
        layout.addWidget(self.main_splitter, 1)
        self.retranslate()
        self.refresh()

    # -- data

    def refresh(self) -> None:
        from fieldrep.storage.screens.today import load_sales_warnings, load_today

        store = self.services.store
        workers = self.services.workers
        # The day's lists first; the sales lights (sums over sales figures) follow.
        workers.run_db(self, lambda: load_today(store, include_sales=False), self.show_data)
        workers.run_db(self, lambda: load_sales_warnings(store), self.show_sales_warnings)
        # The drafts line and the status bar's drafts button count together.
        refresh_drafts_hint(self.window())

    def show_data(self, data: TodayData) -> None:
        self.data = data
        self.plan.set_rows(data.plan)
        self.due.set_rows(data.due)
        self.follow_ups.set_rows(data.follow_ups)
        self._show_warnings()
        emit(self.data_loaded)

    def show_sales_warnings(self, warnings: tuple[TodayWarning, ...]) -> None:
        self.sales_warnings = warnings
        self.sales_ready = True
        self._show_warnings()
        emit(self.sales_loaded)

    def _show_warnings(self) -> None:
        for line in self.warning_lines:
            self.warnings_layout.removeWidget(line)
            line.deleteLater()
        self.warning_lines = []
        others = self.data.warnings if self.data is not None else ()
        for warning in (*self.sales_warnings, *others):
            line = WarningLine(warning, self.warnings_frame)
            line.activated.connect(self._warning_handler(warning))
            self.warnings_layout.addWidget(line)
            self.warning_lines.append(line)
        # Only the titles: retranslating the lists' models would make every table
        # measure its rows again (WarningLine translates itself when made).
        self._set_titles()

    def _warning_handler(self, warning: TodayWarning) -> Callable[[], None]:
        return lambda: emit(self.show_view, warning.view, warning.argument)

    # -- View

    def retranslate(self) -> None:
        for panel in (self.plan, self.due, self.follow_ups):
            panel.retranslate()
        for line in self.warning_lines:
            line.retranslate()
        self._set_titles()

    def _set_titles(self) -> None:
        day = self.data.day if self.data is not None else self.services.store.today()
        self.heading.setText(_("Today, {day}").format(day=format_long_day(day)))
        self.warnings_frame.setVisible(bool(self.warning_lines))
        data = self.data
        if data is None:
            loading = _("Loading…")
            self.plan.title.setText(_("Today's visits") + " " + loading)
            self.due.title.setText(_("Dealers due for a visit"))
            self.follow_ups.title.setText(_("Follow-ups due"))
            return
        self.plan.title.setText(
            ngettext(
                "Today's visits: {count} planned, in route order",
                "Today's visits: {count} planned, in route order",
                len(data.plan),
            ).format(count=len(data.plan))
        )
        if data.due_total > len(data.due):
            due_title = _("Dealers due for a visit: {total} (the {shown} most overdue shown)")
        else:
            due_title = _("Dealers due for a visit: {total}")
        self.due.title.setText(due_title.format(total=data.due_total, shown=len(data.due)))
        self.follow_ups.title.setText(
            _("Follow-ups due or overdue: {count}").format(count=data.follow_ups_total)
        )

    def save_state(self, settings: UiSettings) -> None:
        settings.set_bytes(settings.splitter_key(SPLITTER_MAIN), self.main_splitter.saveState())
        settings.set_bytes(settings.splitter_key(SPLITTER_LISTS), self.lists_splitter.saveState())

    def restore_state(self, settings: UiSettings) -> None:
        for splitter, name in (
            (self.main_splitter, SPLITTER_MAIN),
            (self.lists_splitter, SPLITTER_LISTS),
        ):
            state = settings.bytes(settings.splitter_key(name))
            if state is not None:
                splitter.restoreState(state)


def create_view(services: AppServices, parent: QWidget | None = None) -> TodayView:
    """The Today view (registry entry point)."""
    return TodayView(services, parent)
