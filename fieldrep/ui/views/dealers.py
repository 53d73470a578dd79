"""The dealer list: search as you type (Chinese, pinyin, phone), filters, SQL sorting.

The table model follows Anki's browser table: it holds the ids of the dealers a
filter shows (fetched on the database worker) and a cache of list rows, filled a
page at a time when the view asks for a row it has not seen. So 50,000 dealers
cost 50,000 short strings, not 50,000 widgets or rows. A search runs
:func:`fieldrep.storage.queries.dealer_list_steps` on the worker ~150 ms after the
last keystroke: the first screen (its ids, rows and the count of the whole list)
is shown as soon as the worker has it, and the ids of the rest arrive from the
same read transaction right after, while the GUI paints. A generation counter
drops results of searches that were overtaken by newer typing, and stops the
worker making a list nobody waits for.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QEvent,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QBrush, QColor, QKeyEvent, QPalette
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from fieldrep.i18n import N_, _, ngettext
from fieldrep.ui.common import format_day, with_aside
from fieldrep.ui.ops import Workers
from fieldrep.ui.qtcompat import emit
from fieldrep.ui.uisettings import UiSettings
from fieldrep.ui.views.base import View

if TYPE_CHECKING:
    from fieldrep.storage.queries import (
        DealerChoices,
        DealerIds,
        DealerListFilter,
        DealerListPage,
        DealerListRow,
    )
    from fieldrep.storage.services.core import Store
    from fieldrep.ui.services import AppServices

log = logging.getLogger("fieldrep.ui")

DEALER_ID_ROLE = int(Qt.ItemDataRole.UserRole) + 1
# Roles as plain ints: data() runs for every role of every painted cell (about
# 1,500 calls a screen), so it compares ints instead of enum members.
_DISPLAY = int(Qt.ItemDataRole.DisplayRole)
_TOOLTIP = int(Qt.ItemDataRole.ToolTipRole)
_FOREGROUND = int(Qt.ItemDataRole.ForegroundRole)
_ALIGNMENT = int(Qt.ItemDataRole.TextAlignmentRole)
# A count sits centred under its header, clear of the phone number beside it.
_CENTRED = int(Qt.AlignmentFlag.AlignCenter)
PAGE_SIZE = 100
# Rows that come along with the ids from the worker: a screenful and some, so the
# first paint after a keystroke needs no query on the GUI thread.
FIRST_PAGE_SIZE = 60
MAX_CACHED_ROWS = 5000
# The worker makes the rest of a list once the first screen is painted, and waits
# for that paint at most this long (a hidden view may not paint at all).
FIRST_SCREEN_WAIT_S = 0.25
# Posted with the low priority of Qt's paint requests, after them: the paint is done.
_PAINTED = QEvent.Type(QEvent.registerEventType())
_LOW_PRIORITY = Qt.EventPriority.LowEventPriority.value
SEARCH_DELAY_MS = 150
HEADER_STATE_KEY = "dealers/header"
OVERDUE_COLOUR = QColor("#c62828")

ModelIndex = QModelIndex | QPersistentModelIndex


@dataclass(frozen=True)
class Column:
    """A column of the dealer list: its sort key (see DEALER_SORT_KEYS) and title."""

    key: str
    title: str  # English, marked for translation
    width: int


COLUMNS: tuple[Column, ...] = (
    Column("name", N_("Dealer"), 260),
    Column("city", N_("City"), 90),
    Column("abc_class", N_("Visit class"), 110),
    Column("credit_grade", N_("Credit grade"), 80),
    Column("lifecycle_status", N_("Stage"), 120),
    Column("last_visit_on", N_("Last visit"), 100),
    Column("due_on", N_("Visit due"), 100),
    Column("open_follow_ups", N_("Open follow-ups"), 100),
    Column("phone", N_("Phone"), 130),
)
COLUMN_KEYS = tuple(column.key for column in COLUMNS)


class _Latest:
    """The generation of the newest load, read by the worker to stop a stale one: a
    plain object, so the worker touches nothing of Qt."""

    __slots__ = ("generation",)

    def __init__(self) -> None:
        self.generation = 0


class DealerTableModel(QAbstractTableModel):
    """Dealer ids of the current filter plus a lazily filled cache of list rows."""

    # Emitted after every reset with the new row count (tests and the count label wait on it).
    results_changed = Signal(int)
    loading_changed = Signal(bool)

    def __init__(self, store: Store, workers: Workers, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from fieldrep.storage.queries import DealerListFilter

        self.store = store
        self.workers = workers
        self.filters: DealerListFilter = DealerListFilter()
        self.sort_key: str | None = None
        self.descending = False
        self.truncated = False
        self.loading = False
        self.loaded = False
        # The ids known so far, in display order: all of them, or while the rest is on
        # its way only the first page of the _count rows (the rest show blank).
        self._ids: tuple[str, ...] = ()
        self._count = 0
        self._cache: dict[str, DealerListRow] = {}
        self._texts: dict[str, tuple[str, ...]] = {}  # shown texts by dealer id
        self._generation = 0
        self._latest = _Latest()
        self._first_page_shown = -1  # the generation whose first page is shown
        # Rows asked for while their ids were on their way (shown blank): the
        # first and last, repainted when the ids come. A change signal for all the
        # rest would repaint the whole table for rows nobody saw.
        self._blank_rows: tuple[int, int] | None = None
        # Set once the newest load's first screen is painted (see reload).
        self._first_screen_painted = threading.Event()
        self._today: date = store.today()

    # -- Qt model interface

    def rowCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._count

    def columnCount(self, parent: ModelIndex = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal or not 0 <= section < len(COLUMNS):
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            return _(COLUMNS[section].title)
        return None

    def data(self, index: ModelIndex, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == _DISPLAY:
            texts = self.cell_texts(index.row()) if index.isValid() else None
            return texts[index.column()] if texts is not None else None
        if role == DEALER_ID_ROLE:
            return self.dealer_id(index.row()) if index.isValid() else None
        if role not in (_FOREGROUND, _ALIGNMENT, _TOOLTIP) or not index.isValid():
            return None
        key = COLUMN_KEYS[index.column()]
        if role == _ALIGNMENT:
            return _CENTRED if key == "open_follow_ups" else None
        if key not in ("name", "due_on"):
            return None
        row = self.row_at(index.row())
        if row is None:
            return None
        overdue = key == "due_on" and row.due_on is not None and row.due_on < self._today
        if role == _FOREGROUND:
            return QBrush(OVERDUE_COLOUR) if overdue else None
        if key == "name" and row.short_name:
            return with_aside(row.name, row.short_name)
        if overdue and row.due_on is not None:
            days = (self._today - row.due_on).days
            return ngettext("{days} day overdue", "{days} days overdue", days).format(days=days)
        return None

    def cell_texts(self, row: int) -> tuple[str, ...] | None:
        """The shown texts of a row's cells, made once per row and language; None
        while the row's id is on its way."""
        if not 0 <= row < len(self._ids):
            self._asked_blank(row)
            return None
        texts = self._texts.get(self._ids[row])
        if texts is None:
            found = self.row_at(row)
            if found is None:
                return None
            texts = tuple(self._display(found, key) for key in COLUMN_KEYS)
            self._texts[found.id] = texts
        return texts

    def overdue(self, row: int) -> bool:
        """Whether the dealer at ``row`` is past its visit due date (shown in red)."""
        found = self.row_at(row)
        return found is not None and found.due_on is not None and found.due_on < self._today

    def _display(self, row: DealerListRow, key: str) -> str:
        if key == "name":
            return row.name
        if key == "city":
            return row.city or ""
        if key == "abc_class":
            return row.abc_class.label
        if key == "credit_grade":
            return row.credit_grade or ""
        if key == "lifecycle_status":
            return row.lifecycle_status.label
        if key == "last_visit_on":
            return format_day(row.last_visit_on)
        if key == "due_on":
            return format_day(row.due_on)
        if key == "open_follow_ups":
            return str(row.open_follow_ups) if row.open_follow_ups else ""
        return row.phone or ""

    def sort(self, column: int, order: Qt.SortOrder = Qt.SortOrder.AscendingOrder) -> None:
        """Sort in SQL on the worker (the header's click)."""
        if not 0 <= column < len(COLUMNS):
            return
        self.sort_key = COLUMNS[column].key
        self.descending = order == Qt.SortOrder.DescendingOrder
        self.reload()

    # -- rows

    def dealer_id(self, row: int) -> str | None:
        """The dealer at a row; None out of range or while its id is on its way."""
        return self._ids[row] if 0 <= row < len(self._ids) else None

    def row_at(self, row: int) -> DealerListRow | None:
        """The list row at a position, fetching its page when it is not cached.

        A page is a primary-key lookup of PAGE_SIZE rows (about a millisecond),
        done where the view asks for it, as Anki's browser does.
        """
        if not 0 <= row < len(self._ids):
            self._asked_blank(row)
            return None
        dealer_id = self._ids[row]
        found = self._cache.get(dealer_id)
        if found is None:
            from fieldrep.storage.queries import dealer_list_rows

            if len(self._cache) > MAX_CACHED_ROWS:
                self._forget_rows()
            start = row - row % PAGE_SIZE
            page = [
                candidate
                for candidate in self._ids[start : start + PAGE_SIZE]
                if candidate not in self._cache
            ]
            self._cache.update(dealer_list_rows(self.store, page))
            found = self._cache.get(dealer_id)
        return found

    def _asked_blank(self, row: int) -> None:
        if len(self._ids) <= row < self._count:
            first, last = self._blank_rows or (row, row)
            self._blank_rows = (min(first, row), max(last, row))

    # -- loading

    def set_filters(self, filters: DealerListFilter) -> None:
        """Show the dealers matching ``filters`` (loads on the worker)."""
        self.filters = filters
        self.reload()

    def set_today(self, today: date) -> None:
        self._today = today

    def refresh(self) -> None:
        """Forget cached rows and load again (F5, after a sync)."""
        self._forget_rows()
        self.reload()

    def _forget_rows(self) -> None:
        self._cache.clear()
        self._texts.clear()

    def reload(self) -> None:
        """Fetch the ids for the current filter and sort; older pending loads are dropped.

        The first page of rows comes along with the first ids from the worker, so
        the first screen paints without a query on the GUI thread; the whole list
        follows from the same read transaction (its head the same ids).
        """
        from fieldrep.storage.queries import dealer_list_steps

        self._generation += 1
        generation = self._latest.generation = self._generation
        store, filters, sort, descending = self.store, self.filters, self.sort_key, self.descending
        workers, latest = self.workers, self._latest
        self._first_screen_painted.set()  # an older load waits no more: it stops
        painted = self._first_screen_painted = threading.Event()

        def first_page(page: DealerListPage) -> None:  # on the worker
            workers.post(self, lambda: self._apply_first_page(generation, page))
            if not workers.synchronous:
                # Every painted cell calls into Python: the rest of the list, made
                # meanwhile, would hold the interpreter the paint waits for.
                painted.wait(FIRST_SCREEN_WAIT_S)

        def wanted() -> bool:  # on the worker: a newer load or a closing window stops it
            return latest.generation == generation and not workers.closed

        def load() -> DealerIds | None:
            return dealer_list_steps(
                store,
                filters,
                sort=sort,
                descending=descending,
                first=FIRST_PAGE_SIZE,
                on_first_page=first_page,
                wanted=wanted,
            )

        self._set_loading(True)
        self.workers.run_db(
            self,
            load,
            lambda loaded: self._apply(generation, loaded),
            lambda error: self._failed(generation, error),
        )

    def _apply_first_page(self, generation: int, page: DealerListPage) -> None:
        """Show the first screen and the count; the other rows stay blank until
        their ids arrive (:meth:`_apply`, a few milliseconds later)."""
        if generation != self._generation or not self.loading:
            return  # a newer search or filter is on its way, or this one is whole
        self._reset(page.ids, page.count, page.truncated, page.rows)
        self._first_page_shown = generation
        self.loaded = True
        emit(self.results_changed, self._count)
        QCoreApplication.postEvent(self, QEvent(_PAINTED), _LOW_PRIORITY)

    def event(self, event: QEvent) -> bool:
        if event.type() == _PAINTED:
            self._first_screen_painted.set()
            return True
        return super().event(event)

    def _apply(self, generation: int, result: DealerIds | None) -> None:
        if generation != self._generation or result is None:
            return  # a newer search or filter is on its way (None: it stopped this one)
        shown = len(self._ids)
        if (
            self._first_page_shown == generation
            and len(result.ids) == self._count
            and result.ids[:shown] == self._ids
        ):
            # The head is on screen already: the rest of the ids fill the blank rows.
            self._ids = result.ids
            self.truncated = result.truncated
            if self._blank_rows is not None:
                first, last = self._blank_rows
                self._blank_rows = None
                emit(self.dataChanged, self.index(first, 0), self.index(last, len(COLUMNS) - 1))
            self._set_loading(False)
            return
        self._reset(result.ids, len(result.ids), result.truncated, {})
        self.loaded = True
        self._set_loading(False)
        emit(self.results_changed, self._count)

    def _reset(
        self,
        ids: tuple[str, ...],
        count: int,
        truncated: bool,
        rows: dict[str, DealerListRow],
    ) -> None:
        self.beginResetModel()
        self._ids = ids
        self._count = count
        self._blank_rows = None
        self.truncated = truncated
        if len(self._cache) > MAX_CACHED_ROWS:
            self._forget_rows()
        self._cache.update(rows)
        for dealer_id in rows:  # fresh rows: their texts are made again
            self._texts.pop(dealer_id, None)
        self.endResetModel()

    def _failed(self, generation: int, error: BaseException) -> None:
        if generation == self._generation:
            self._set_loading(False)
        self.workers.show_failure(self, error)

    def _set_loading(self, loading: bool) -> None:
        if loading != self.loading:
            self.loading = loading
            emit(self.loading_changed, loading)

    def retranslate(self) -> None:
        self._texts.clear()  # class and stage labels are translated
        emit(self.headerDataChanged, Qt.Orientation.Horizontal, 0, len(COLUMNS) - 1)
        if self._count:
            emit(self.dataChanged, self.index(0, 0), self.index(self._count - 1, len(COLUMNS) - 1))


_FEATURE = QStyleOptionViewItem.ViewItemFeature
# A cell's features as the table sets them (Alternate on odd rows when rows
# alternate) plus the text: made once, since reading and or-ing the option's own
# features converts Python enums on every cell (the table does not wrap text).
_TEXT_FEATURES = (_FEATURE.HasDisplay, _FEATURE.HasDisplay | _FEATURE.Alternate)
_CENTRED_FLAG = Qt.AlignmentFlag.AlignCenter
_COUNT_COLUMN = COLUMN_KEYS.index("open_follow_ups")
_DUE_COLUMN = COLUMN_KEYS.index("due_on")


class DealerDelegate(QStyledItemDelegate):
    """Paints the dealer cells with one call into Python per cell.

    Qt's delegate asks the model for seven roles of every cell it paints (font,
    alignment, colour, check box, icon, text, background); each ask of a Python
    model crosses into the interpreter, which cost about as much as drawing the
    text itself on every keystroke's repaint. This one fills the cell's style
    option from the model's made texts instead, the way
    QStyledItemDelegate.initStyleOption fills it from the roles the model
    answers (:meth:`DealerTableModel.data` stays the source for everything else:
    tooltips, tests, accessibility).
    """

    def __init__(self, model: DealerTableModel, table: QTableView) -> None:
        super().__init__(table)
        self._model = model
        self._table = table
        # The view's palette with red text, by palette and colour group: made once.
        # A PySide method that returns nothing (QPalette.setBrush, even Qt's own
        # initStyleOption called from Python) drops a reference to None on Python
        # 3.11 (PySide 6.12 takes None as immortal, as it is from 3.12), so no cell
        # calls one: attributes are set, palettes are swapped.
        self._overdue_palettes: dict[tuple[int, int], QPalette] = {}

    def _overdue_palette(self, palette: QPalette) -> QPalette:
        key = (palette.cacheKey(), palette.currentColorGroup().value)
        found = self._overdue_palettes.get(key)
        if found is None:
            if len(self._overdue_palettes) > 8:  # the palette changed (theme, focus)
                self._overdue_palettes.clear()
            found = self._overdue_palettes[key] = QPalette(palette)
            found.setBrush(QPalette.ColorRole.Text, QBrush(OVERDUE_COLOUR))
        return found

    def initStyleOption(self, option: QStyleOptionViewItem, index: ModelIndex) -> None:
        row, column = index.row(), index.column()
        if isinstance(index, QModelIndex):  # views pass QModelIndex
            option.index = index
        # As Qt's: no style animations inside item views (the stubs miss nullptr).
        option.styleObject = None  # type: ignore[assignment]
        texts = self._model.cell_texts(row)
        if texts is not None:
            text = texts[column]
            # Qt shows a line break in a cell as a line separator (one line).
            option.text = text.replace("\n", "\u2028") if "\n" in text else text
            # The table never hides or moves rows: a row's parity is its visual one.
            odd = row & 1 and self._table.alternatingRowColors()
            option.features = _TEXT_FEATURES[1 if odd else 0]
        if column == _COUNT_COLUMN:
            option.displayAlignment = _CENTRED_FLAG
        elif column == _DUE_COLUMN and self._model.overdue(row):
            option.palette = self._overdue_palette(option.palette)


class DealerTable(QTableView):
    """The dealer table: Enter opens the selected dealer's card."""

    dealer_activated = Signal(str)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.activate_current()
            return
        super().keyPressEvent(event)

    def activate_current(self) -> bool:
        index = self.currentIndex()
        if not index.isValid():
            return False
        dealer_id = index.data(DEALER_ID_ROLE)
        if dealer_id:
            emit(self.dealer_activated, str(dealer_id))
            return True
        return False


class DealersView(View):
    """The Dealers view: search box, filters, the table and a count."""

    def __init__(self, services: AppServices, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.services = services
        self.search_delay_ms = SEARCH_DELAY_MS
        self._choices_loaded = False

        self.search = QLineEdit()
        self.search.setObjectName("dealer_search")
        self.search.setClearButtonEnabled(True)
        self.search.setMinimumWidth(160)
        self.search.installEventFilter(self)
        self.class_filter = QComboBox()
        self.class_filter.setObjectName("filter_class")
        self.city_filter = QComboBox()
        self.city_filter.setObjectName("filter_city")
        self.city_filter.setMinimumContentsLength(6)
        self.credit_filter = QComboBox()
        self.credit_filter.setObjectName("filter_credit")
        self.due_filter = QCheckBox()
        self.due_filter.setObjectName("filter_due")
        self.follow_up_filter = QCheckBox()
        self.follow_up_filter.setObjectName("filter_follow_ups")
        self.count_label = QLabel()
        self.count_label.setObjectName("dealer_count")
        self.count_label.setStyleSheet("color: palette(mid);")

        bar = QHBoxLayout()
        bar.addWidget(self.search, 3)
        for widget in (self.class_filter, self.city_filter, self.credit_filter):
            bar.addWidget(widget)
        bar.addWidget(self.due_filter)
        bar.addWidget(self.follow_up_filter)
        bar.addStretch(1)

        self.model = DealerTableModel(services.store, services.workers, self)
        self.table = DealerTable()
        self.table.setObjectName("dealer_table")
        self.table.setModel(self.model)
        self.table.setItemDelegate(DealerDelegate(self.model, self.table))
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setShowGrid(False)
        # No style sheet for cell padding: a style sheet routes every cell's paint
        # through QStyleSheetStyle, which doubles the paint after each keystroke.
        self.table.verticalHeader().hide()
        # Fixed row heights: the view never measures 50,000 rows.
        self.table.verticalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Fixed)
        self.table.verticalHeader().setDefaultSectionSize(self.table.fontMetrics().height() + 10)
        header = self.table.horizontalHeader()
        header.setSectionsClickable(True)
        header.setSortIndicatorShown(False)
        header.setHighlightSections(False)
        header.setDefaultAlignment(Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter)
        header.setStretchLastSection(True)
        for position, column in enumerate(COLUMNS):
            header.resizeSection(position, column.width)
        header.sectionClicked.connect(self._on_header_clicked)
        self.table.dealer_activated.connect(
            lambda dealer_id: emit(self.open_record, "dealer", dealer_id)
        )
        self.table.doubleClicked.connect(lambda _index: self.table.activate_current())

        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 12, 12, 6)
        layout.addLayout(bar)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.count_label)

        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.timeout.connect(self.apply_filters)
        self.search.textChanged.connect(self._on_text_changed)
        self.class_filter.currentIndexChanged.connect(self.apply_filters)
        self.city_filter.currentIndexChanged.connect(self.apply_filters)
        self.credit_filter.currentIndexChanged.connect(self.apply_filters)
        self.due_filter.toggled.connect(self.apply_filters)
        self.follow_up_filter.toggled.connect(self.apply_filters)
        self.model.results_changed.connect(self._on_results)
        self.model.loading_changed.connect(lambda _loading: self._update_count())

        self._fill_class_filter()
        self.retranslate()
        self.apply_filters()

    # -- filters

    def _fill_class_filter(self) -> None:
        from fieldrep.storage.enums import AbcClass

        blocked = self.class_filter.blockSignals(True)
        self.class_filter.clear()
        self.class_filter.addItem("", None)
        for member in AbcClass:
            self.class_filter.addItem(member.label, member.code)
        self.class_filter.blockSignals(blocked)

    def _load_choices(self) -> None:
        from fieldrep.storage.queries import dealer_filter_choices

        store = self.services.store
        self.services.workers.run_db(self, lambda: dealer_filter_choices(store), self._set_choices)

    def _set_choices(self, choices: DealerChoices) -> None:
        for combo, values in (
            (self.city_filter, choices.cities),
            (self.credit_filter, choices.credit_grades),
        ):
            current = combo.currentData()
            blocked = combo.blockSignals(True)
            while combo.count() > 1:
                combo.removeItem(1)
            for value in values:
                combo.addItem(value, value)
            position = combo.findData(current)
            combo.setCurrentIndex(max(0, position))
            combo.blockSignals(blocked)
        self._choices_loaded = True

    def current_filter(self) -> DealerListFilter:
        from fieldrep.storage.enums import AbcClass
        from fieldrep.storage.queries import DealerListFilter

        class_code = self.class_filter.currentData()
        return DealerListFilter(
            text=self.search.text(),
            abc_class=AbcClass(class_code) if class_code else None,
            city=self.city_filter.currentData() or None,
            credit_grade=self.credit_filter.currentData() or None,
            due_only=self.due_filter.isChecked(),
            with_open_follow_ups=self.follow_up_filter.isChecked(),
        )

    def apply_filters(self) -> None:
        """Run the search and filters now (the debounce timer calls this)."""
        self._search_timer.stop()
        self.model.set_filters(self.current_filter())

    def _on_text_changed(self, _text: str) -> None:
        self._search_timer.start(self.search_delay_ms)

    def _on_header_clicked(self, section: int) -> None:
        header = self.table.horizontalHeader()
        key = COLUMNS[section].key
        if self.model.sort_key == key:
            order = (
                Qt.SortOrder.AscendingOrder
                if self.model.descending
                else Qt.SortOrder.DescendingOrder
            )
        else:
            order = Qt.SortOrder.AscendingOrder
        header.setSortIndicatorShown(True)
        header.setSortIndicator(section, order)
        self.model.sort(section, order)

    def _on_results(self, count: int) -> None:
        self._update_count()
        if count and not self.table.currentIndex().isValid():
            self.table.setCurrentIndex(self.model.index(0, 0))

    def _update_count(self) -> None:
        from fieldrep.storage.queries import DEALER_SEARCH_LIMIT

        if self.model.loading and not self.model.loaded:
            self.count_label.setText(_("Loading…"))
            return
        count = self.model.rowCount()
        if self.model.truncated:
            text = _("The first {count} dealers found: type more to narrow the list").format(
                count=DEALER_SEARCH_LIMIT
            )
        else:
            text = ngettext("{count} dealer", "{count} dealers", count).format(count=count)
        self.count_label.setText(text)

    # -- keyboard

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if watched is self.search and event.type() == QEvent.Type.KeyPress:
            assert isinstance(event, QKeyEvent)
            if event.key() == Qt.Key.Key_Down and self.model.rowCount():
                self.table.setFocus()
                if not self.table.currentIndex().isValid():
                    self.table.setCurrentIndex(self.model.index(0, 0))
                return True
            if event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
                if self._search_timer.isActive():
                    self.apply_filters()
                    return True
                return self.table.activate_current()
        return super().eventFilter(watched, event)

    # -- View

    def retranslate(self) -> None:
        self.search.setPlaceholderText(_("Search by name, pinyin initials or phone…"))
        self.search.setToolTip(
            _("For example 海信, haixin or hx; the last digits of a phone number also work.")
        )
        self.class_filter.setItemText(0, _("All classes"))
        from fieldrep.storage.enums import AbcClass

        for position, member in enumerate(AbcClass, start=1):
            self.class_filter.setItemText(position, member.label)
        if self.city_filter.count() == 0:
            self.city_filter.addItem("", None)
        self.city_filter.setItemText(0, _("All cities"))
        if self.credit_filter.count() == 0:
            self.credit_filter.addItem("", None)
        self.credit_filter.setItemText(0, _("All credit grades"))
        self.due_filter.setText(_("Due for a visit"))
        self.due_filter.setToolTip(_("Due or overdue for a visit by the cadence of its class"))
        self.follow_up_filter.setText(_("Open follow-ups"))
        self.model.retranslate()
        self._update_count()

    def refresh(self) -> None:
        self.model.set_today(self.services.store.today())
        self.model.refresh()
        self._load_choices()

    def activate(self, argument: str = "") -> None:
        if not self._choices_loaded:
            self._load_choices()
        if argument == "due" and not self.due_filter.isChecked():
            self.due_filter.setChecked(True)

    def focus_search(self) -> bool:
        self.search.setFocus()
        self.search.selectAll()
        return True

    def current_dealer_id(self) -> str | None:
        index = self.table.currentIndex()
        return self.model.dealer_id(index.row()) if index.isValid() else None

    def save_state(self, settings: UiSettings) -> None:
        settings.set_bytes(HEADER_STATE_KEY, self.table.horizontalHeader().saveState())

    def restore_state(self, settings: UiSettings) -> None:
        state = settings.bytes(HEADER_STATE_KEY)
        if state is not None:
            self.table.horizontalHeader().restoreState(state)
            self.table.horizontalHeader().setSortIndicatorShown(False)


def create_view(services: AppServices, parent: QWidget | None = None) -> DealersView:
    """The Dealers view (registry entry point)."""
    return DealersView(services, parent)


__all__ = ["COLUMNS", "DEALER_ID_ROLE", "DealerTableModel", "DealersView", "create_view"]
