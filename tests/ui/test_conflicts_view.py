"""The conflict inbox: see base, mine and theirs; keep mine, take theirs, or type a value."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QLineEdit
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, select, text
from syncrows import conflict, pull, updated

from fieldrep.storage.models import AppUser, Dealer
from fieldrep.sync import api, local
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.views.conflicts import ConflictsView, RejectedPanel

CITY_CONFLICT = "0190a000-0000-7000-8000-00000000c101"
COUNT_CONFLICT = "0190a000-0000-7000-8000-00000000c102"


@dataclass(frozen=True)
class Conflicted:
    city_dealer: str
    count_dealer: str
    theirs_city: str
    manager_name: str


@pytest.fixture
def conflicted(demo_engine: Engine, demo: object) -> Conflicted:
    """Two open conflicts pulled from the server: a dealer's city and employee count."""
    summary = demo.summary  # type: ignore[attr-defined]
    with demo_engine.connect() as connection:
        dealers = connection.execute(
            select(Dealer.id, Dealer.city, Dealer.territory_id)
            .where(Dealer.our_contact_user_id == summary.rep_user_id)
            .order_by(Dealer.name)
            .limit(2)
        ).all()
        manager_id, manager_name = connection.execute(
            select(AppUser.id, AppUser.display_name).where(
                AppUser.username == summary.manager_username
            )
        ).one()
    (city_dealer, city, territory), (count_dealer, _city, _territory) = dealers
    rep = summary.rep_user_id
    changes = [
        updated(demo_engine, "dealer", count_dealer, manager_id, employee_count=7),
        conflict(
            CITY_CONFLICT,
            table="dealer",
            row_id=city_dealer,
            field="city",
            base="旧城",
            mine="宁波",
            theirs=city,
            author=rep,
            theirs_user=manager_id,
            territory=territory,
        ),
        conflict(
            COUNT_CONFLICT,
            table="dealer",
            row_id=count_dealer,
            field="employee_count",
            base=3,
            mine=5,
            theirs=7,
            author=rep,
            theirs_user=manager_id,
            territory=territory,
        ),
    ]
    pull(demo_engine, changes, "run-conflicts", rep)
    return Conflicted(city_dealer, count_dealer, city, manager_name)


def open_conflicts(qtbot: QtBot, window: MainWindow) -> ConflictsView:
    window.show_view("conflicts")
    view = window.views["conflicts"]
    assert isinstance(view, ConflictsView)
    qtbot.waitUntil(lambda: not view.loading and view.conflicts != [])
    return view


def dealer_value(engine: Engine, dealer_id: str, column: str) -> object:
    with engine.connect() as connection:
        return connection.execute(
            text(f"SELECT {column} FROM dealer WHERE id = :i"), {"i": dealer_id}
        ).scalar()


def resolved(qtbot: QtBot, view: ConflictsView, count: int) -> None:
    qtbot.waitUntil(lambda: not view.loading and len(view.conflicts) == count)
    qtbot.waitUntil(lambda: not view.services.workers.busy)


def test_the_inbox_shows_each_field_with_who_and_when(
    qtbot: QtBot, main_window: MainWindow, conflicted: Conflicted
) -> None:
    view = open_conflicts(qtbot, main_window)
    assert len(view.conflicts) == 2
    assert view.title.text() == "2 个冲突待处理"
    assert view.select_conflict(CITY_CONFLICT)
    detail = view.detail
    assert detail.row_values["base"].text() == "旧城"
    assert detail.row_values["mine"].text() == "宁波"
    assert detail.row_values["theirs"].text() == conflicted.theirs_city
    assert conflicted.manager_name in detail.row_sources["theirs"].text()
    assert "2026-11-24" in detail.row_sources["theirs"].text()
    assert "城市" in detail.heading.text()
    # The list names record and field, mine and theirs.
    row = view.list.currentItem()
    assert row is not None and row.text(2) == "宁波" and row.text(3) == conflicted.theirs_city


def test_keep_mine_with_one_click(
    qtbot: QtBot, main_window: MainWindow, conflicted: Conflicted, demo_engine: Engine
) -> None:
    view = open_conflicts(qtbot, main_window)
    assert view.select_conflict(CITY_CONFLICT)
    with qtbot.waitSignal(view.resolved, timeout=10_000) as signal:
        qtbot.mouseClick(view.detail.keep_mine, Qt.MouseButton.LeftButton)
    assert signal.args == [CITY_CONFLICT, "mine"]
    resolved(qtbot, view, 1)
    assert dealer_value(demo_engine, conflicted.city_dealer, "city") == "宁波"
    # The resolution and the value are ordinary changes waiting to sync.
    with demo_engine.connect() as connection:
        tables = {op.table for op in local.all_ops(connection)}
    assert {"dealer", "sync_conflict"} <= tables
    # The next conflict is shown; the status bar counts one.
    assert view.detail.conflict is not None and view.detail.conflict.id == COUNT_CONFLICT
    qtbot.waitUntil(
        lambda: main_window.status.state is not None and main_window.status.state.conflicts == 1
    )


def test_take_theirs_changes_nothing_but_the_conflict(
    qtbot: QtBot, main_window: MainWindow, conflicted: Conflicted, demo_engine: Engine
) -> None:
    view = open_conflicts(qtbot, main_window)
    assert view.select_conflict(CITY_CONFLICT)
    qtbot.mouseClick(view.detail.take_theirs, Qt.MouseButton.LeftButton)
    resolved(qtbot, view, 1)
    assert dealer_value(demo_engine, conflicted.city_dealer, "city") == conflicted.theirs_city
    assert [c.id for c in api.list_conflicts(demo_engine)] == [COUNT_CONFLICT]


def test_resolve_by_typing_a_value_checked_at_the_field(
    qtbot: QtBot, main_window: MainWindow, conflicted: Conflicted, demo_engine: Engine
) -> None:
    view = open_conflicts(qtbot, main_window)
    assert view.select_conflict(COUNT_CONFLICT)
    editor = view.detail.editor
    assert editor is not None and editor.text() == "5"  # starts from my value
    line = editor.editor
    assert isinstance(line, QLineEdit)
    line.clear()
    qtbot.keyClicks(line, "many")
    qtbot.mouseClick(view.detail.use_value, Qt.MouseButton.LeftButton)
    assert "整数" in editor.error.text() or editor.error.text()
    assert editor.error.isVisibleTo(view)
    assert len(api.list_conflicts(demo_engine)) == 2  # nothing was resolved
    line.clear()
    qtbot.keyClicks(line, "6")
    assert not editor.error.text()  # typing clears the message
    qtbot.mouseClick(view.detail.use_value, Qt.MouseButton.LeftButton)
    resolved(qtbot, view, 1)
    assert dealer_value(demo_engine, conflicted.count_dealer, "employee_count") == 6
    all_conflicts = api.list_conflicts(demo_engine, include_resolved=True)
    done = next(c for c in all_conflicts if c.id == COUNT_CONFLICT)
    assert (done.status, done.resolution) == ("resolved", "value")


def test_an_empty_inbox_says_so(qtbot: QtBot, main_window: MainWindow) -> None:
    main_window.show_view("conflicts")
    view = main_window.views["conflicts"]
    assert isinstance(view, ConflictsView)
    qtbot.waitUntil(lambda: not view.loading)
    qtbot.waitUntil(lambda: view.right.currentWidget() is view.empty)
    assert "没有冲突" in view.empty.text()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_conflicts_screenshots(
    qtbot: QtBot,
    qapp: QApplication,
    main_window: MainWindow,
    conflicted: Conflicted,
    lang: str,
) -> None:
    from shots import check_texts, save_screenshot

    from fieldrep.ui.language import apply_language

    apply_language(qapp, lang)
    try:
        main_window.resize(1280, 800)
        view = open_conflicts(qtbot, main_window)
        view.select_conflict(COUNT_CONFLICT)
        QApplication.processEvents()
        save_screenshot(main_window, f"conflicts_inbox_{lang}")
        problems = check_texts(main_window, lang)
        assert not problems, problems
    finally:
        apply_language(qapp, "zh_CN")


def manager_only(field: str) -> str:
    """A manager-only refusal of ``field`` as the sync engine stores it (worded when shown)."""
    from fieldrep.sync.protocol import Reason
    from fieldrep.sync.refusals import Refusal

    message = f"{field}: only a manager can change this."
    return Refusal(Reason.MANAGER_ONLY.value, (("field", field),), message).stored()


def refuse(engine: Engine, dealer_id: str, field: str, mine: object, reason: str) -> str:
    """A refused change of one field, kept in the outbox as the sync engine keeps one."""
    with engine.begin() as connection:
        local.keep_refused(
            connection,
            local.OutboxOp(
                seq=0,
                op_id="",
                table="dealer",
                row_id=dealer_id,
                kind="upsert",
                created=False,
                fields={field: mine},
                base={},
                base_version=1,
                batch_id=None,
                state="pending",
                reason=None,
                created_at="2026-11-24T08:15:00+00:00",
            ),
            field,
            reason,
        )
        newest = connection.execute(
            text("SELECT op_id FROM outbox WHERE state = 'rejected' ORDER BY seq DESC LIMIT 1")
        ).scalar_one()
        return str(newest)


@pytest.fixture
def refused(demo_engine: Engine, demo: object) -> tuple[str, str]:
    """A refused change of a dealer's employee count (the row keeps the server's)."""
    summary = demo.summary  # type: ignore[attr-defined]
    with demo_engine.connect() as connection:
        dealer_id, count = connection.execute(
            select(Dealer.id, Dealer.employee_count)
            .where(Dealer.our_contact_user_id == summary.rep_user_id)
            .order_by(Dealer.name)
            .limit(1)
        ).one()
    assert count != 99
    refusal = manager_only("employee_count")
    return refuse(demo_engine, dealer_id, "employee_count", 99, refusal), dealer_id


def open_refused(qtbot: QtBot, window: MainWindow) -> ConflictsView:
    window.show_view("conflicts")
    view = window.views["conflicts"]
    assert isinstance(view, ConflictsView)
    qtbot.waitUntil(lambda: not view.loading and view.rejected != [])
    return view


def test_refused_changes_are_listed_and_counted_in_the_status_bar(
    qtbot: QtBot, main_window: MainWindow, refused: tuple[str, str], demo_engine: Engine
) -> None:
    op_id, dealer_id = refused
    main_window.refresh_sync_state()
    status = main_window.status
    qtbot.waitUntil(lambda: status.state is not None and status.state.rejected == 1)
    assert status.conflicts_button.text() == "0 个冲突 · 1 条被拒绝的更改"
    view = open_refused(qtbot, main_window)
    panel = view.rejected_panel
    # With no conflict, the refused changes' tab comes forward by itself.
    assert view.tabs.currentWidget() is panel
    assert view.tabs.tabText(1) == "被拒绝的更改（1）"
    item = panel.list.topLevelItem(0)
    assert item is not None
    now = dealer_value(demo_engine, dealer_id, "employee_count")
    reason = "员工人数：只有经理可以修改。"
    assert [item.text(c) for c in (1, 2, 3, 5)] == ["员工人数", "99", str(now), reason]
    assert item.text(4).startswith("2026-11-24")
    assert panel.selected_ids() == [op_id]


def test_copy_my_value_and_dismiss(
    qtbot: QtBot, main_window: MainWindow, refused: tuple[str, str], demo_engine: Engine
) -> None:
    op_id, dealer_id = refused
    before = dealer_value(demo_engine, dealer_id, "employee_count")
    view = open_refused(qtbot, main_window)
    panel = view.rejected_panel
    qtbot.mouseClick(panel.copy_button, Qt.MouseButton.LeftButton)
    assert QApplication.clipboard().text() == "99"
    with qtbot.waitSignal(view.dismissed, timeout=10_000) as signal:
        qtbot.mouseClick(panel.dismiss_button, Qt.MouseButton.LeftButton)
    assert signal.args == [[op_id]]
    qtbot.waitUntil(lambda: not view.loading and view.rejected == [])
    assert panel.stack.currentWidget() is panel.empty
    assert api.rejected_count(demo_engine) == 0
    assert dealer_value(demo_engine, dealer_id, "employee_count") == before, "row untouched"
    status = main_window.status
    qtbot.waitUntil(lambda: status.state is not None and status.state.rejected == 0)
    assert "拒绝" not in status.conflicts_button.text()
    qtbot.waitUntil(lambda: not view.services.workers.busy)


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_refused_changes_screenshots(
    qtbot: QtBot,
    qapp: QApplication,
    main_window: MainWindow,
    refused: tuple[str, str],
    demo_engine: Engine,
    lang: str,
) -> None:
    from shots import check_texts, save_screenshot

    from fieldrep.ui.language import apply_language

    with demo_engine.connect() as connection:
        second = connection.execute(
            select(Dealer.id).order_by(Dealer.name.desc()).limit(1)
        ).scalar_one()
    refuse(demo_engine, second, "abc_class", "A", manager_only("abc_class"))
    apply_language(qapp, lang)
    try:
        main_window.resize(1280, 800)
        main_window.refresh_sync_state()
        view = open_refused(qtbot, main_window)
        qtbot.waitUntil(lambda: len(view.rejected) == 2)
        assert isinstance(view.rejected_panel, RejectedPanel)
        qtbot.waitUntil(lambda: "2" in main_window.status.conflicts_button.text())
        QApplication.processEvents()
        save_screenshot(main_window, f"conflicts_refused_{lang}")
        problems = check_texts(main_window, lang)
        assert not problems, problems
    finally:
        apply_language(qapp, "zh_CN")


def test_refused_changes_follow_the_language_while_hidden(
    qtbot: QtBot, qapp: QApplication, main_window: MainWindow, refused: tuple[str, str]
) -> None:
    from fieldrep.ui.language import apply_language

    view = open_refused(qtbot, main_window)
    main_window.show_view("today")
    apply_language(qapp, "en")
    try:
        panel = view.rejected_panel
        item = panel.list.topLevelItem(0)
        assert item is not None
        assert (item.text(1), panel.dismiss_button.text()) == ("Number of employees", "Dismiss")
        # The reason was stored while the app spoke Chinese; it reads in English now.
        assert item.text(5) == "Number of employees: only a manager can change this."
        assert view.tabs.tabText(1) == "Refused changes (1)"
        header = panel.list.headerItem()
        assert [header.text(c) for c in range(4)] == ["Record", "Field", "My value", "Now"]
    finally:
        apply_language(qapp, "zh_CN")
    item = view.rejected_panel.list.topLevelItem(0)
    assert item is not None
    assert (item.text(1), item.text(5)) == ("员工人数", "员工人数：只有经理可以修改。")


def test_conflicts_follow_the_language_while_hidden(
    qtbot: QtBot, qapp: QApplication, main_window: MainWindow, conflicted: Conflicted
) -> None:
    from fieldrep.ui.language import apply_language

    view = open_conflicts(qtbot, main_window)
    assert view.select_conflict(COUNT_CONFLICT)
    main_window.show_view("today")
    apply_language(qapp, "en")
    try:
        item = view.list.currentItem()
        assert item is not None and item.text(1) == "Number of employees"
        assert view.detail.heading.text().endswith(": Number of employees")
        assert view.tabs.tabText(0) == "Conflicts (2)"
    finally:
        apply_language(qapp, "zh_CN")


def test_a_refused_new_record_says_it_is_not_on_the_server(qapp: QApplication) -> None:
    from fieldrep.sync.api import RefusedField, RejectedView
    from fieldrep.ui.views.conflicts import refused_fields, refused_values

    change = RejectedView(
        op_id="op",
        table="dealer",
        row_id="row",
        record_label="新店",
        kind="upsert",
        created=True,
        fields=(
            RefusedField("city", "城市", "宁波", "宁波"),
            RefusedField("employee_count", "员工人数", 5, 5),
        ),
        stored_reason="拒绝",
        created_at=None,
    )
    assert refused_fields(change) == "新记录"
    assert refused_values(change, "mine") == "城市: 宁波; 员工人数: 5"
    assert refused_values(change, "now") == "（服务器上没有）"
