"""The Dealers view as a rep uses it: search by pinyin initials, filter, sort, open a card."""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QDialog, QStyledItemDelegate
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from fieldrep.storage.cadence import due_dealers
from fieldrep.storage.enums import AbcClass
from fieldrep.storage.queries import (
    DealerListFilter,
    DealerListPage,
    dealer_list_ids,
    dealer_list_steps,
)
from fieldrep.storage.search import reading_variants, search_dealers
from fieldrep.storage.services.core import Store
from fieldrep.storage.sorting import name_sort_key
from fieldrep.ui import registry
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.ops import Workers
from fieldrep.ui.views.dealers import (
    COLUMN_KEYS,
    FIRST_PAGE_SIZE,
    PAGE_SIZE,
    DealerDelegate,
    DealersView,
    DealerTableModel,
)


@pytest.fixture
def dealers_view(qtbot: QtBot, main_window: MainWindow) -> Iterator[DealersView]:
    main_window.show_view("dealers")
    view = main_window.views["dealers"]
    assert isinstance(view, DealersView)
    qtbot.waitUntil(lambda: view.model.loaded and not view.model.loading)
    yield view


def _wait_loaded(qtbot: QtBot, view: DealersView) -> None:
    qtbot.waitUntil(lambda: not view.model.loading and not view._search_timer.isActive())


def _ids(model: DealerTableModel) -> list[str]:
    return [model.dealer_id(row) or "" for row in range(model.rowCount())]


def test_all_dealers_are_listed_in_pinyin_name_order(
    dealers_view: DealersView, demo_store: Store
) -> None:
    with demo_store.read() as session:
        rows = session.execute(text("SELECT id, name FROM dealer WHERE deleted = 0")).all()
    expected = sorted(rows, key=lambda row: (name_sort_key(row[1]), row[0]))
    assert _ids(dealers_view.model) == [row[0] for row in expected]
    assert dealers_view.count_label.text() == "共 300 家经销商"


def test_find_a_dealer_by_pinyin_initials(
    qtbot: QtBot, dealers_view: DealersView, demo_store: Store
) -> None:
    with demo_store.read() as session:
        dealer_id, name = session.execute(
            text("SELECT id, name FROM dealer WHERE deleted = 0 ORDER BY id LIMIT 1 OFFSET 17")
        ).one()
    syllables = reading_variants(name)[0]
    initials = "".join(syllable[0] for syllable in syllables[2:5])
    assert len(initials) == 3
    qtbot.keyClicks(dealers_view.search, initials)
    qtbot.waitUntil(lambda: dealer_id in _ids(dealers_view.model))
    _wait_loaded(qtbot, dealers_view)
    found = _ids(dealers_view.model)
    assert 0 < len(found) < 300, "the initials narrow the list"
    row = found.index(dealer_id)
    assert dealers_view.model.index(row, 0).data() == name


def test_search_in_chinese_then_clear(
    qtbot: QtBot, dealers_view: DealersView, demo_store: Store
) -> None:
    with demo_store.read() as session:
        name = session.scalar(text("SELECT name FROM dealer ORDER BY id LIMIT 1 OFFSET 3"))
    fragment = name[2:5]
    # Chinese arrives from the input method as a committed string, not as key presses.
    dealers_view.search.setFocus()
    commit = QInputMethodEvent()
    commit.setCommitString(fragment)
    QApplication.sendEvent(dealers_view.search, commit)
    assert dealers_view.search.text() == fragment
    _wait_loaded(qtbot, dealers_view)
    qtbot.waitUntil(lambda: dealers_view.model.rowCount() < 300)
    shown = [
        dealers_view.model.index(row, 0).data() for row in range(dealers_view.model.rowCount())
    ]
    assert name in shown
    assert all(fragment in dealer_name for dealer_name in shown)
    dealers_view.search.clear()
    qtbot.waitUntil(lambda: dealers_view.model.rowCount() == 300)


def test_filter_by_class(qtbot: QtBot, dealers_view: DealersView, demo_store: Store) -> None:
    combo = dealers_view.class_filter
    combo.setCurrentIndex(combo.findData(AbcClass.B.code))
    qtbot.waitUntil(lambda: dealers_view.model.filters.abc_class == AbcClass.B)
    _wait_loaded(qtbot, dealers_view)
    with demo_store.read() as session:
        count = session.scalar(text("SELECT count(*) FROM dealer WHERE abc_class = 'B'"))
    model = dealers_view.model
    assert model.rowCount() == count > 0
    column = COLUMN_KEYS.index("abc_class")
    assert {model.index(row, column).data() for row in range(model.rowCount())} == {"B类客户"}


def test_filter_by_city_and_credit_grade(
    qtbot: QtBot, dealers_view: DealersView, demo_store: Store
) -> None:
    qtbot.waitUntil(lambda: dealers_view.city_filter.count() > 2)
    city = dealers_view.city_filter.itemData(1)
    dealers_view.city_filter.setCurrentIndex(1)
    grade_position = dealers_view.credit_filter.findData("C")
    dealers_view.credit_filter.setCurrentIndex(grade_position)
    qtbot.waitUntil(lambda: dealers_view.model.filters.credit_grade == "C")
    _wait_loaded(qtbot, dealers_view)
    with demo_store.read() as session:
        expected = session.scalars(
            text("SELECT id FROM dealer WHERE city = :c AND credit_grade = 'C' ORDER BY name, id"),
            {"c": city},
        ).all()
    assert _ids(dealers_view.model) == list(expected)


def test_due_filter_matches_the_cadence_due_list(
    qtbot: QtBot, dealers_view: DealersView, demo_store: Store
) -> None:
    dealers_view.due_filter.setChecked(True)
    _wait_loaded(qtbot, dealers_view)
    qtbot.waitUntil(lambda: dealers_view.model.filters.due_only)
    _wait_loaded(qtbot, dealers_view)
    with demo_store.read() as session:
        due = {dealer.dealer_id for dealer in due_dealers(session, demo_store.today())}
    assert set(_ids(dealers_view.model)) == due
    assert due, "the demo has dealers due"


def test_open_follow_ups_filter(qtbot: QtBot, dealers_view: DealersView, demo_store: Store) -> None:
    dealers_view.follow_up_filter.setChecked(True)
    qtbot.waitUntil(lambda: dealers_view.model.filters.with_open_follow_ups)
    _wait_loaded(qtbot, dealers_view)
    with demo_store.read() as session:
        expected = set(
            session.scalars(
                text(
                    "SELECT DISTINCT dealer_id FROM follow_up WHERE deleted = 0 AND dealer_id "
                    "IS NOT NULL AND status NOT IN ('done', 'cancelled')"
                )
            ).all()
        )
    assert set(_ids(dealers_view.model)) == expected
    column = COLUMN_KEYS.index("open_follow_ups")
    assert all(
        int(dealers_view.model.index(row, column).data()) > 0
        for row in range(dealers_view.model.rowCount())
    )


def test_sort_by_a_column_in_sql(
    qtbot: QtBot, dealers_view: DealersView, demo_store: Store
) -> None:
    header = dealers_view.table.horizontalHeader()
    section = COLUMN_KEYS.index("due_on")
    header.sectionClicked.emit(section)
    qtbot.waitUntil(lambda: dealers_view.model.sort_key == "due_on")
    _wait_loaded(qtbot, dealers_view)
    ascending = dealer_list_ids(demo_store, DealerListFilter(), sort="due_on").ids
    assert tuple(_ids(dealers_view.model)) == ascending
    header.sectionClicked.emit(section)
    qtbot.waitUntil(lambda: dealers_view.model.descending)
    _wait_loaded(qtbot, dealers_view)
    descending = dealer_list_ids(demo_store, DealerListFilter(), sort="due_on", descending=True)
    assert tuple(_ids(dealers_view.model)) == descending.ids
    assert ascending != descending.ids
    column = dealers_view.model
    first, last = column.index(0, section).data(), column.index(299, section).data()
    assert first >= last or last == ""


def test_keyboard_down_then_enter_opens_the_dealer_card(
    qtbot: QtBot, dealers_view: DealersView, main_window: MainWindow
) -> None:
    dealers_view.focus_search()
    qtbot.keyClick(dealers_view.search, Qt.Key.Key_Down)
    assert dealers_view.table.hasFocus() or QApplication.focusWidget() is dealers_view.table
    qtbot.keyClick(dealers_view.table, Qt.Key.Key_Down)
    second = dealers_view.model.dealer_id(1)
    with qtbot.waitSignal(main_window.record_requested) as opened:
        qtbot.keyClick(dealers_view.table, Qt.Key.Key_Return)
    assert opened.args == ["dealer", second]
    qtbot.waitUntil(lambda: not main_window.workers.busy)
    if registry.record_opener("dealer") is None:
        dialog = main_window.findChild(QDialog, "placeholder_dealer")
        assert dialog is not None, "until the dealer card exists, a placeholder says what comes"
        dialog.close()


def test_stale_results_are_discarded(qtbot: QtBot, dealers_view: DealersView) -> None:
    model = dealers_view.model
    counts: list[int] = []
    model.results_changed.connect(counts.append)
    model.set_filters(DealerListFilter(abc_class=AbcClass.A))
    model.set_filters(DealerListFilter(abc_class=AbcClass.C))
    qtbot.waitUntil(lambda: not model.loading)
    expected = len(dealer_list_ids(model.store, DealerListFilter(abc_class=AbcClass.C)).ids)
    assert counts == [expected]
    assert model.filters.abc_class == AbcClass.C


def test_model_passes_the_model_tester(
    qtmodeltester: object, qtbot: QtBot, workers: Workers, demo_store: Store
) -> None:
    model = DealerTableModel(demo_store, workers)
    with qtbot.waitSignal(model.results_changed):
        model.set_filters(DealerListFilter(abc_class=AbcClass.A))
    assert model.rowCount() > 0
    qtmodeltester.check(model, force_py=True)  # type: ignore[attr-defined]


def test_rows_are_fetched_a_page_at_a_time(
    qtbot: QtBot, workers: Workers, demo_store: Store
) -> None:
    model = DealerTableModel(demo_store, workers)
    with qtbot.waitSignal(model.results_changed):
        model.reload()
    qtbot.waitUntil(lambda: not model.loading)  # the ids after the first page
    first_page = {model.dealer_id(row) for row in range(FIRST_PAGE_SIZE)}
    assert set(model._cache) == first_page, "the first screenful came with the ids"
    model.index(250, 0).data()
    # plus rows 200-299: the page of row 250
    assert len(model._cache) == FIRST_PAGE_SIZE + PAGE_SIZE
    assert model.dealer_id(250) in model._cache
    assert model.dealer_id(150) not in model._cache
    model.index(FIRST_PAGE_SIZE, 0).data()  # the rest of the first page
    assert {model.dealer_id(row) for row in range(PAGE_SIZE)} <= set(model._cache)


def test_cells_show_texts_made_once_per_row(
    qtbot: QtBot, workers: Workers, demo_store: Store
) -> None:
    model = DealerTableModel(demo_store, workers)
    with qtbot.waitSignal(model.results_changed):
        model.reload()
    row = model.row_at(0)
    assert row is not None
    texts = [model.index(0, column).data() for column in range(model.columnCount())]
    assert texts[COLUMN_KEYS.index("name")] == row.name
    assert texts[COLUMN_KEYS.index("abc_class")] == row.abc_class.label
    assert model._texts[row.id] == tuple(texts)
    model.retranslate()
    assert row.id not in model._texts, "class and stage labels follow the language"


def test_a_too_broad_search_is_cut_in_pinyin_name_order(
    qtbot: QtBot, dealers_view: DealersView, demo_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import fieldrep.storage.queries as queries

    monkeypatch.setattr(queries, "DEALER_SEARCH_LIMIT", 20)
    dealers_view.search.setFocus()
    commit = QInputMethodEvent()
    commit.setCommitString("有限")
    QApplication.sendEvent(dealers_view.search, commit)
    _wait_loaded(qtbot, dealers_view)
    qtbot.waitUntil(lambda: dealers_view.model.truncated)
    model = dealers_view.model
    names = [model.index(row, 0).data() for row in range(model.rowCount())]
    assert len(names) == 20
    assert names == sorted(names, key=name_sort_key)
    assert all("有限" in name for name in names)
    assert dealers_view.count_label.text() == "显示找到的前 20 家经销商：继续输入可缩小范围"
    narrow = dealer_list_ids(demo_store, DealerListFilter(text=names[0]))
    assert not narrow.truncated, "typing more narrows the list"
    assert narrow.ids[0] == model.dealer_id(0), "and ranks the exact name first"


@pytest.mark.parametrize(
    ("filters", "sort"),
    [
        (DealerListFilter(text="s"), None),  # a search ranked by score, many equal scores
        (DealerListFilter(text="有限"), None),  # too broad (limit 20 below): pinyin order
        (DealerListFilter(text="z"), None),
        (DealerListFilter(), None),
        (DealerListFilter(abc_class=AbcClass.C), None),
        (DealerListFilter(), "due_on"),
        (DealerListFilter(text="s", abc_class=AbcClass.A), None),  # one step
    ],
)
def test_a_list_comes_in_two_steps_and_its_head_first(
    demo_store: Store,
    monkeypatch: pytest.MonkeyPatch,
    filters: DealerListFilter,
    sort: str | None,
) -> None:
    import fieldrep.storage.queries as queries

    monkeypatch.setattr(queries, "DEALER_SEARCH_LIMIT", 20 if filters.text == "有限" else 2000)
    pages: list[DealerListPage] = []
    whole = dealer_list_steps(demo_store, filters, sort=sort, first=7, on_first_page=pages.append)
    assert whole is not None
    assert whole == dealer_list_ids(demo_store, filters, sort=sort)
    assert len(whole.ids) > 7
    if filters.text and not whole.truncated and filters.abc_class is None:
        # The search's own order: every hit ranked, equal scores by name.
        with demo_store.read() as session:
            hits = search_dealers(session, filters.text, 2000)
        assert whole.ids == tuple(hit.dealer_id for hit in hits)
    if filters.abc_class is not None and filters.text:
        assert pages == [], "a search with filters comes in one step"
        return
    assert len(pages) == 1
    page = pages[0]
    assert page.ids == whole.ids[:7]
    assert (page.count, page.truncated) == (len(whole.ids), whole.truncated)
    assert set(page.rows) == set(page.ids)


def test_a_list_nobody_waits_for_stops_after_its_first_page(demo_store: Store) -> None:
    pages: list[DealerListPage] = []
    for filters in (DealerListFilter(), DealerListFilter(text="s")):
        stopped = dealer_list_steps(
            demo_store, filters, first=5, on_first_page=pages.append, wanted=lambda: False
        )
        assert stopped is None
    assert [len(page.ids) for page in pages] == [5, 5]


def test_the_first_screen_shows_before_the_rest_of_the_list(
    qtbot: QtBot, workers: Workers, demo_store: Store
) -> None:
    model = DealerTableModel(demo_store, workers)
    seen: list[tuple[int, str | None, str | None, object, bool]] = []

    def first_screen(count: int) -> None:
        # What the view paints when the first page is there: the whole count, the
        # first rows, blank rows below them (asked for: repainted once known).
        seen.append(
            (
                count,
                model.dealer_id(0),
                model.dealer_id(FIRST_PAGE_SIZE),
                model.index(200, 0).data(),
                model.loading,
            )
        )

    model.results_changed.connect(first_screen)
    changed: list[tuple[int, int]] = []
    model.dataChanged.connect(lambda first, last: changed.append((first.row(), last.row())))
    model.reload()
    qtbot.waitUntil(lambda: not model.loading)
    whole = dealer_list_ids(demo_store, DealerListFilter())
    assert seen == [(300, whole.ids[0], None, None, True)]
    assert tuple(_ids(model)) == whole.ids
    assert changed == [(200, 200)], "only the blank row that was shown is repainted"
    assert model.index(200, 0).data() == model.row_at(200).name  # type: ignore[union-attr]


def test_the_cell_delegate_paints_what_qt_paints_from_the_roles(
    qtbot: QtBot, dealers_view: DealersView
) -> None:
    """DealerDelegate fills cells from the model's texts in one call; the pixels
    must be those of Qt's delegate reading the roles (text, red overdue date,
    centred count), selection and alternating rows included."""
    table = dealers_view.table
    ours = table.itemDelegate()
    assert isinstance(ours, DealerDelegate)
    dealers_view.follow_up_filter.setChecked(True)  # every row has a count
    qtbot.waitUntil(lambda: dealers_view.model.filters.with_open_follow_ups)
    _wait_loaded(qtbot, dealers_view)
    header = table.horizontalHeader()
    header.sectionClicked.emit(COLUMN_KEYS.index("due_on"))  # overdue dates first
    qtbot.waitUntil(lambda: dealers_view.model.sort_key == "due_on")
    _wait_loaded(qtbot, dealers_view)
    model = dealers_view.model
    assert any(model.overdue(row) for row in range(min(10, model.rowCount())))
    table.setCurrentIndex(model.index(2, 0))
    painted = table.viewport().grab().toImage()
    plain = QStyledItemDelegate(table)
    table.setItemDelegate(plain)
    expected = table.viewport().grab().toImage()
    table.setItemDelegate(ours)
    assert painted == expected
    # No PySide call returning nothing per cell: on Python 3.11 each drops a
    # reference to None (PySide 6.12 takes None as immortal). 20 repaints of a
    # screen with red dates may lose the 20 of repaint() itself, not one per cell.
    viewport = table.viewport()
    viewport.repaint()
    before = sys.getrefcount(None)
    for _repaint in range(20):
        viewport.repaint()
    assert before - sys.getrefcount(None) <= 20


def test_a_first_page_arriving_after_its_whole_list_changes_nothing(
    qtbot: QtBot, workers: Workers, demo_store: Store
) -> None:
    model = DealerTableModel(demo_store, workers)
    model.reload()
    qtbot.waitUntil(lambda: model.loaded and not model.loading)
    whole = _ids(model)
    late = DealerListPage(tuple(whole[:3]), len(whole), False, {})
    model._apply_first_page(model._generation, late)
    assert _ids(model) == whole
