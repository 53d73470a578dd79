"""Reports: the weekly and monthly customer management report, compliance, print preview."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, select

from fieldrep.reports.data import ReportItemKind
from fieldrep.storage.enums import PeriodType, PlanItemStatus, ReportSection, Role
from fieldrep.storage.models import AppUser, Territory, VisitPlanItem
from fieldrep.storage.services.core import Store, UserContext
from fieldrep.ui.mainwindow import MainWindow
from fieldrep.ui.ops import Workers
from fieldrep.ui.print_preview import PrintPreviewDialog
from fieldrep.ui.services import AppServices
from fieldrep.ui.uisettings import UiSettings
from fieldrep.ui.views.reports import ReportsView

TODAY = date(2026, 11, 25)


def open_reports(qtbot: QtBot, window: MainWindow) -> ReportsView:
    window.show_view("reports")
    view = window.views["reports"]
    assert isinstance(view, ReportsView)
    qtbot.waitUntil(lambda: view.data is not None and not view.loading)
    return view


def wait_reload(qtbot: QtBot, view: ReportsView, before: object) -> None:
    qtbot.waitUntil(lambda: view.data is not before and not view.loading)


def test_the_weekly_report_of_a_rep(
    qtbot: QtBot, main_window: MainWindow, demo_store: Store
) -> None:
    view = open_reports(qtbot, main_window)
    data = view.data
    assert data is not None
    assert (data.period, data.start, data.end) == (
        PeriodType.WEEK,
        date(2026, 11, 23),
        date(2026, 11, 29),
    )
    assert not data.team and not view.scope.isEnabled()  # a rep reports on their own work
    [tally] = data.report.tallies
    with demo_store.read() as session:
        planned = session.scalars(
            select(VisitPlanItem).where(
                VisitPlanItem.rep_user_id == demo_store.user.user_id,
                VisitPlanItem.planned_date.between(date(2026, 11, 23), date(2026, 11, 29)),
                VisitPlanItem.deleted.is_(False),
            )
        ).all()
    assert tally.planned == len(planned)
    assert tally.done == sum(item.status == PlanItemStatus.DONE for item in planned)
    assert view.tally.model.rowCount() == 1
    # Compliance: my row per rep; the territory per class, counted up to today.
    assert [row.key for row in data.by_rep] == [demo_store.user.user_id]
    assert {row.key for row in data.by_class} <= {"A", "B", "C"} and data.by_class
    assert data.counted_until == TODAY
    assert "2026-11-23" in view.heading.text() and "周报" in view.heading.text()
    # The sections say what they count, in the table's terms where the numbers are
    # the same (the heading read 已完成：15 over a table with 已完成 9, unexplained).
    text = view.sections.text()
    completed = data.section_count(ReportSection.COMPLETED)
    assert text.startswith(f"报告条目：已完成 {completed}（"), text
    assert f"已记录拜访 {tally.visits_recorded}" in text
    assert f"已完成跟进 {tally.follow_ups_done}" in text
    parts = dict(data.section_parts(ReportSection.COMPLETED))
    assert sum(parts.values()) == completed
    assert parts.get(ReportItemKind.VISIT, 0) == tally.visits_recorded
    assert parts.get(ReportItemKind.FOLLOW_UP, 0) == tally.follow_ups_done
    in_progress = data.section_count(ReportSection.IN_PROGRESS)
    assert f"进行中 {in_progress}（" in text and "未记录的计划拜访" in text
    # The table's plan columns say they count planned visits by status.
    headers = [
        view.tally.model.headerData(column, Qt.Orientation.Horizontal)
        for column in range(view.tally.model.columnCount())
    ]
    assert headers[1:5] == ["计划拜访", "计划·已完成", "计划·进行中", "计划·未完成"], headers


def test_month_and_another_day(qtbot: QtBot, main_window: MainWindow) -> None:
    view = open_reports(qtbot, main_window)
    before = view.data
    view.period.setCurrentIndex(view.period.findData(PeriodType.MONTH.code))
    wait_reload(qtbot, view, before)
    assert view.data is not None
    assert (view.data.start, view.data.end) == (date(2026, 11, 1), date(2026, 11, 30))
    before = view.data
    view.day.setDate(QDate(2026, 10, 14))
    wait_reload(qtbot, view, before)
    assert view.data is not None
    assert (view.data.start, view.data.end) == (date(2026, 10, 1), date(2026, 10, 31))
    assert view.data.counted_until == date(2026, 10, 31)  # a past month counts whole


def test_a_manager_sees_the_team(
    qtbot: QtBot, workers: Workers, ui_settings: UiSettings, demo_engine: Engine, demo: object
) -> None:
    summary = demo.summary  # type: ignore[attr-defined]
    with demo_engine.connect() as connection:
        manager_id, name = connection.execute(
            select(AppUser.id, AppUser.display_name).where(
                AppUser.username == summary.manager_username
            )
        ).one()
        territory = connection.execute(
            select(Territory.id).where(Territory.manager_user_id == manager_id).limit(1)
        ).scalar_one()
    store = Store(
        demo_engine, UserContext(manager_id, territory, Role.MANAGER, name), today=lambda: TODAY
    )
    view = ReportsView(AppServices(store, Path("unused.db"), workers, ui_settings))
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.data is not None and not view.loading)
    assert view.scope.isEnabled() and view.scope.count() == 2
    before = view.data
    view.scope.setCurrentIndex(1)
    wait_reload(qtbot, view, before)
    assert view.data is not None and view.data.team
    reps = [tally.rep_name for tally in view.data.report.tallies]
    assert len(reps) >= 2
    assert {row.label for row in view.data.by_rep} >= set(reps)
    qtbot.waitUntil(lambda: not workers.busy)


def test_preview_and_print_the_report(qtbot: QtBot, main_window: MainWindow) -> None:
    view = open_reports(qtbot, main_window)
    assert view.preview_button.isEnabled()
    qtbot.mouseClick(view.preview_button, Qt.MouseButton.LeftButton)
    dialog = view.findChild(PrintPreviewDialog)
    assert dialog is not None
    if dialog.pdf is None:
        with qtbot.waitSignal(dialog.ready, timeout=60_000):
            pass
    assert dialog.document.pageCount() > 0
    assert "客户管理报告" in dialog.windowTitle()
    dialog.close()


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_reports_screenshots(
    qtbot: QtBot, qapp: QApplication, main_window: MainWindow, lang: str
) -> None:
    from shots import check_texts, save_screenshot

    from fieldrep.ui.language import apply_language

    apply_language(qapp, lang)
    try:
        main_window.resize(1280, 800)
        view = open_reports(qtbot, main_window)
        before = view.data
        view.refresh()  # the figures' sentences in the new language
        wait_reload(qtbot, view, before)
        QApplication.processEvents()
        save_screenshot(main_window, f"reports_week_{lang}")
        problems = check_texts(main_window, lang)
        assert not problems, problems
    finally:
        apply_language(qapp, "zh_CN")
