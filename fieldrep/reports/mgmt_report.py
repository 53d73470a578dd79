"""The customer management report (客户管理报告, DOMAIN.md §2.19), weekly or monthly.

Three sections: completed, in progress and new plans. Each lists first the named
tasks the rep wrote into a stored report, then what the period's data shows
(visits, planned visits, follow-ups), so a report prints even before it is written.
"""

from __future__ import annotations

from reportlab.platypus import Flowable

from fieldrep.i18n import _
from fieldrep.reports.data import MgmtReport, ReportItem, ReportItemKind, WrittenTask
from fieldrep.reports.formatting import format_date, label
from fieldrep.reports.layout import (
    data_table,
    key_value_table,
    note,
    section,
    subsection,
    text_block,
    title_block,
)
from fieldrep.storage.enums import PeriodType, ReportSection

# Which written fields each section asks for (§2.19), in the seed's order.
SECTION_FIELDS: dict[ReportSection, tuple[str, ...]] = {
    ReportSection.COMPLETED: (
        "key_data",
        "problems",
        "effective_solutions",
        "ineffective_solutions",
        "thanks",
    ),
    ReportSection.IN_PROGRESS: (
        "key_data",
        "problems",
        "effective_solutions",
        "thanks",
        "help_needed",
    ),
    ReportSection.NEW: ("key_data", "challenges", "help_needed"),
}


def title(report: MgmtReport) -> str:
    if report.period_type == PeriodType.WEEK:
        return _("Customer management report (weekly)")
    return _("Customer management report (monthly)")


def story(report: MgmtReport) -> list[Flowable]:
    """The report's flowables, top to bottom."""
    period = f"{format_date(report.start)} – {format_date(report.end)}"
    scope = (
        _("Team: {name}").format(name=report.scope_name)
        if report.is_team
        else _("Rep: {name}").format(name=report.scope_name)
    )
    parts: list[Flowable] = title_block(title(report), f"{period} · {scope}")
    parts.extend(section(_("The period in numbers")))
    parts.append(_tally_table(report))
    for rep_name, summary in report.summaries:
        heading = label("CustomerMgmtReport", "summary")
        if report.is_team:
            heading = f"{heading} · {rep_name}"
        parts.extend(text_block(heading, summary))
    for report_section, heading in (
        (ReportSection.COMPLETED, _("Completed")),
        (ReportSection.IN_PROGRESS, _("In progress")),
        (ReportSection.NEW, _("New plans")),
    ):
        parts.extend(section(heading))
        written = report.written_in(report_section)
        items = report.items_in(report_section)
        for task in written:
            parts.extend(_written_task(task, report_section, report.is_team))
        if items:
            if written:
                parts.extend(subsection(_("From the period's records")))
            parts.append(_item_table(items, report.is_team))
        if not written and not items:
            parts.append(note(_("Nothing in this section.")))
    return parts


def _tally_table(report: MgmtReport) -> Flowable:
    headers = [
        label("CustomerMgmtReport", "rep_user_id"),
        _("Planned visits"),
        _("Done"),
        _("In progress"),
        _("Not done"),
        _("Visit records"),
        _("Follow-ups done"),
        _("Open follow-ups (overdue)"),
        _("Planned next period"),
    ]
    rows = [
        [
            tally.rep_name,
            str(tally.planned),
            str(tally.done),
            str(tally.in_progress),
            str(tally.not_done),
            str(tally.visits_recorded),
            str(tally.follow_ups_done),
            f"{tally.follow_ups_open} ({tally.follow_ups_overdue})",
            str(tally.next_period_planned),
        ]
        for tally in report.tallies
    ]
    if len(report.tallies) > 1:
        rows.append(
            [
                _("Total"),
                *(
                    str(sum(getattr(t, name) for t in report.tallies))
                    for name in (
                        "planned",
                        "done",
                        "in_progress",
                        "not_done",
                        "visits_recorded",
                        "follow_ups_done",
                    )
                ),
                f"{sum(t.follow_ups_open for t in report.tallies)} "
                f"({sum(t.follow_ups_overdue for t in report.tallies)})",
                str(sum(t.next_period_planned for t in report.tallies)),
            ]
        )
    return data_table(headers, rows, [1.6, 0.9, 0.7, 0.8, 0.8, 0.9, 1, 1.2, 1], numeric=range(1, 9))


def _written_task(task: WrittenTask, report_section: ReportSection, team: bool) -> list[Flowable]:
    heading = f"{task.name} · {task.rep_name}" if team and task.rep_name else task.name
    values = {
        "key_data": task.key_data,
        "problems": task.problems,
        "effective_solutions": task.effective_solutions,
        "ineffective_solutions": task.ineffective_solutions,
        "thanks": task.thanks,
        "help_needed": task.help_needed,
        "challenges": task.challenges,
    }
    labels = {
        "problems": _("Expected problems")
        if report_section == ReportSection.IN_PROGRESS
        else label("ReportTask", "problems"),
        "effective_solutions": _("Proposed solutions")
        if report_section == ReportSection.IN_PROGRESS
        else label("ReportTask", "effective_solutions"),
    }
    return [
        *subsection(heading),
        *key_value_table(
            [
                (labels.get(name) or label("ReportTask", name), values[name])
                for name in SECTION_FIELDS[report_section]
            ]
        ),
    ]


def _item_name(item: ReportItem) -> str:
    if item.kind == ReportItemKind.FOLLOW_UP:
        return item.title
    if item.visit_type is not None:
        return f"{item.kind.label} · {item.visit_type.label}"
    return item.kind.label


def _item_table(items: list[ReportItem], team: bool) -> Flowable:
    headers = [_("Date"), _("Item"), label("Dealer", "name"), _("Status"), _("Notes")]
    widths = [1.05, 1.8, 1.7, 0.9, 3.0]
    rows = []
    for item in items:
        status = item.status.label if item.status is not None else ""
        if item.overdue:
            status = f"{status} · {_('Overdue')}"
        row = [
            format_date(item.on),
            _item_name(item),
            item.dealer_name,
            status,
            item.detail or "",
        ]
        if team:
            row.insert(1, item.rep_name)
        rows.append(row)
    if team:
        headers.insert(1, label("CustomerMgmtReport", "rep_user_id"))
        widths.insert(1, 0.9)
    return data_table(headers, rows, widths)
