"""The Dealers view as a rep uses it: search by pinyin initials, filter, sort, open a card."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QInputMethodEvent
from PySide6.QtWidgets import QApplication, QDialog
from pytestqt.qtbot import QtBot
from sqlalchemy import text

from fieldrep.storage.cadence import due_dealers
from fieldrep.storage.enums import AbcClass
from fieldrep.storage.queries import DealerListFilter, dealer_list_ids
from fieldrep.storage.search import reading_variants
from fieldrep.storage.services.core import Store
from fieldrep.storage.sorting import name_sort_key
from fieldrep.ui import registry
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.ops import Workers
from fieldrep.ui.views.dealers import (
    COLUMN_KEYS,
    FIRST_PAGE_SIZE,
    PAGE_SIZE,
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
