"""The weekly and monthly customer management report of a rep and of a team."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

import pytest
from pdfcheck import Pdf, assert_fonts_embedded, zh
from reports_dataset import DatasetIds
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fieldrep.reports import render_mgmt_report
from fieldrep.reports.data import gather_mgmt_report, period_bounds, rep_scope, team_scope
from fieldrep.storage.enums import FollowUpStatus, PeriodType, PlanItemStatus, ReportSection
from fieldrep.storage.errors import NotFound

ON = date(2026, 11, 25)


@pytest.mark.parametrize(
    ("period", "on", "expected"),
    [
        (PeriodType.WEEK, date(2026, 11, 25), (date(2026, 11, 23), date(2026, 11, 29))),
        (PeriodType.WEEK, date(2026, 11, 23), (date(2026, 11, 23), date(2026, 11, 29))),
        (PeriodType.WEEK, date(2026, 12, 31), (date(2026, 12, 28), date(2027, 1, 3))),
        (PeriodType.MONTH, date(2026, 2, 14), (date(2026, 2, 1), date(2026, 2, 28))),
        (PeriodType.MONTH, date(2028, 2, 29), (date(2028, 2, 1), date(2028, 2, 29))),
    ],
)
def test_period_bounds(period: PeriodType, on: date, expected: tuple[date, date]) -> None:
    assert period_bounds(period, on) == expected


def test_weekly_report_of_a_rep(engine: Engine, dataset: DatasetIds) -> None:
    with Session(engine) as session:
        report = gather_mgmt_report(session, PeriodType.WEEK, ON, rep_scope(session, "zhangwei"))
    assert (report.start, report.end) == (date(2026, 11, 23), date(2026, 11, 29))
    completed = report.items_in(ReportSection.COMPLETED)
    # The visit of the 23rd and the follow-up done on the 24th; not last month's visit.
    assert [item.kind.code for item in completed] == ["visit", "follow_up"]
    assert completed[1].title == "寄送行业需求资料"
    in_progress = report.items_in(ReportSection.IN_PROGRESS)
    assert {item.dealer_name for item in in_progress if item.kind.code == "plan_item"} == {
        "杭州恒达电子有限公司",
        "宁波新锐科技商行",
    }
    assert all(item.status != PlanItemStatus.DONE for item in in_progress)
    new = report.items_in(ReportSection.NEW)
    assert any(item.detail == "下周协助拜访两家重点终端客户" for item in new)
    assert any(item.title == "提供培训方案" for item in new)  # created this week, due later
    # The colleague's open follow-up is not in this rep's report.
    assert all(item.title != "申请促销员支持" for item in report.items)
    assert [task.name for task in report.written_in(ReportSection.COMPLETED)] == ["恒达电子回访"]
    (tally,) = report.tallies
    assert (tally.planned, tally.visits_recorded, tally.follow_ups_done) == (2, 1, 1)


def test_monthly_team_report_of_a_manager(engine: Engine, dataset: DatasetIds) -> None:
    with Session(engine) as session:
        by_manager = gather_mgmt_report(
            session, PeriodType.MONTH, ON, team_scope(session, manager_key="lina")
        )
        by_territory = gather_mgmt_report(
            session, PeriodType.MONTH, ON, team_scope(session, [dataset.territory_id])
        )
    assert by_manager.is_team and by_manager.owner_name == "李娜"
    assert sorted(t.rep_name for t in by_manager.tallies) == ["张伟", "王强"]
    assert sorted(t.rep_name for t in by_territory.tallies) == ["张伟", "王强"]
    overdue = [item for item in by_manager.items if item.title == "申请促销员支持"]
    assert len(overdue) == 1 and overdue[0].overdue
    assert overdue[0].status == FollowUpStatus.IN_PROGRESS
    not_done = [item for item in by_manager.items if item.detail == "客户临时出差"]
    assert not_done and not_done[0].rep_name == "王强"
    # Both visits of November, the long one included.
    assert sum(1 for item in by_manager.items if item.kind.code == "visit") == 2


def test_report_pdf(engine: Engine, dataset: DatasetIds, as_pdf: Callable[[bytes], Pdf]) -> None:
    pdf = as_pdf(render_mgmt_report(engine, PeriodType.WEEK, ON, rep="zhangwei"))
    text = pdf.flat_text
    assert zh("Customer management report (weekly)") in text
    for heading in ("Completed", "In progress", "New plans", "The period in numbers"):
        assert zh(heading) in text, heading
    assert "恒达电子回访" in text and "用书面政策说明返利规则" in text
    assert "2026-11-23–2026-11-29" in text
    assert_fonts_embedded(pdf)
    team = as_pdf(
        render_mgmt_report(engine, PeriodType.MONTH, ON, manager="lina", lang="en")
    ).flat_text
    assert "Customermanagementreport(monthly)" in team and "Manager:李娜" in team
    assert "王强" in team and "Overdue" in team


def test_unknown_rep_or_territory(engine: Engine, dataset: DatasetIds) -> None:
    with pytest.raises(NotFound) as raised:
        render_mgmt_report(engine, PeriodType.WEEK, ON, rep="nobody")
    assert raised.value.entity == "app_user"
    with pytest.raises(NotFound) as raised:
        render_mgmt_report(engine, PeriodType.WEEK, ON, territory_ids=["no-territory"])
    assert raised.value.entity == "territory"
