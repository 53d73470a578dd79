"""What the GUI shows of the printed documents' content, gathered on the database worker.

The Reports view's management report and cadence compliance
(:mod:`fieldrep.ui.views.reports`), and the dealer card's sections
(:mod:`fieldrep.ui.views.dealer_card`). No Qt here.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy import select

from fieldrep.reports.data import (
    DealerCard,
    MgmtReport,
    ReportItemKind,
    gather_dealer_card,
    gather_mgmt_report,
    period_bounds,
    rep_scope,
    team_scope,
)
from fieldrep.storage.cadence import ComplianceRow, compliance
from fieldrep.storage.enums import PeriodType, ReportSection
from fieldrep.storage.models import Territory
from fieldrep.storage.services.core import Store


@dataclass(frozen=True)
class ReportsData:
    """One period's report and cadence compliance, for a rep or a manager's team."""

    period: PeriodType
    day: date
    start: date
    end: date
    counted_until: date  # compliance is counted up to here (today in a running period)
    team: bool
    report: MgmtReport
    by_rep: tuple[ComplianceRow, ...]
    by_class: tuple[ComplianceRow, ...]

    def section_count(self, section: ReportSection) -> int:
        return len(self.report.items_in(section)) + len(self.report.written_in(section))

    def section_parts(
        self, section: ReportSection
    ) -> tuple[tuple[ReportItemKind | None, int], ...]:
        """What a section's count is made of: lines per kind, then tasks written (None).

        Kinds without lines are left out; the counts add up to :meth:`section_count`.
        """
        items = self.report.items_in(section)
        parts: list[tuple[ReportItemKind | None, int]] = [
            (kind, count)
            for kind in ReportItemKind
            if (count := sum(1 for item in items if item.kind == kind))
        ]
        written = len(self.report.written_in(section))
        if written:
            parts.append((None, written))
        return tuple(parts)


def team_territories(store: Store) -> tuple[str, ...]:
    """The territories the user manages; their own territory when they manage none."""
    with store.read() as session:
        run = session.scalars(
            select(Territory.id).where(
                Territory.manager_user_id == store.user.user_id, Territory.deleted.is_(False)
            )
        ).all()
    return tuple(run) or ((store.user.territory_id,) if store.user.territory_id else ())


def load_reports(store: Store, period: PeriodType, day: date, team: bool) -> ReportsData:
    """The report and the compliance tables of the period containing ``day``."""
    start, end = period_bounds(period, day)
    until = max(min(end, store.today()), start)
    user = store.user
    territories = team_territories(store) if team else (user.territory_id,)
    with store.read() as session:
        if team:
            scope = team_scope(session, territories, user.user_id)
        else:
            scope = rep_scope(session, user.user_id)
        report = gather_mgmt_report(session, period, day, scope)
        by_rep = compliance(session, start, until, group_by="rep", territory_ids=territories)
        by_class = compliance(session, start, until, group_by="class", territory_ids=territories)
    if not team:
        by_rep = [row for row in by_rep if row.key == user.user_id]
    return ReportsData(
        period=period,
        day=day,
        start=start,
        end=end,
        counted_until=until,
        team=team,
        report=report,
        by_rep=tuple(by_rep),
        by_class=tuple(by_class),
    )


def dealer_card_content(store: Store, dealer_id: str) -> DealerCard:
    """The profile card of one dealer, as the dealer card window and its printout show it."""
    with store.read() as session:
        return gather_dealer_card(session, dealer_id)
