"""Render the printouts to PDF bytes or files: the one entry point for the GUI and the CLI.

Each function reads what it needs in one session (the caller's, or a short one
on an engine), then lays out the document in the requested language (the
current UI language by default). Unknown ids raise
:class:`fieldrep.storage.errors.NotFound`; a day without planned visits raises
:class:`fieldrep.reports.data.NothingToPrint`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, nullcontext
from datetime import UTC, date, datetime
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from fieldrep.i18n import _, language
from fieldrep.reports import brief, dealer_card, mgmt_report, visit_summary
from fieldrep.reports import route_pack as route_pack_layout
from fieldrep.reports.data import (
    ReportScope,
    gather_brief,
    gather_dealer_card,
    gather_mgmt_report,
    gather_route_pack,
    gather_visit_summary,
    reading,
    rep_scope,
    route_plan_items,
    team_scope,
)
from fieldrep.reports.layout import DocumentMeta, build_pdf
from fieldrep.storage.enums import PeriodType

log = logging.getLogger("fieldrep.reports")

Source = Session | Engine


@contextmanager
def _in_language(lang: str | None) -> Iterator[None]:
    with language(lang) if lang else nullcontext():
        yield


def _now(printed_at: datetime | None) -> datetime:
    return printed_at or datetime.now(UTC)


def render_visit_summary(
    source: Source, record_id: str, lang: str | None = None, printed_at: datetime | None = None
) -> bytes:
    """The contact record card of one visit as PDF bytes."""
    with reading(source) as session:
        summary = gather_visit_summary(session, record_id)
    with _in_language(lang):
        meta = DocumentMeta(visit_summary.title(), summary.rep_name, _now(printed_at))
        return build_pdf(meta, visit_summary.story(summary))


def render_brief(
    source: Source,
    dealer_id: str,
    plan_item_id: str | None = None,
    lang: str | None = None,
    printed_at: datetime | None = None,
    today: date | None = None,
) -> bytes:
    """The pre-visit brief of a dealer (for a plan item, or its next planned visit)."""
    with reading(source) as session:
        content = gather_brief(session, dealer_id, plan_item_id, today)
    with _in_language(lang):
        rep = content.plan.rep_name if content.plan else content.header.our_contact_name
        meta = DocumentMeta(brief.title(), rep, _now(printed_at), content.header.name)
        return build_pdf(meta, brief.story(content))


def render_dealer_card(
    source: Source, dealer_id: str, lang: str | None = None, printed_at: datetime | None = None
) -> bytes:
    """The dealer's full profile card."""
    with reading(source) as session:
        card = gather_dealer_card(session, dealer_id)
    with _in_language(lang):
        meta = DocumentMeta(
            dealer_card.title(), card.header.our_contact_name, _now(printed_at), card.header.name
        )
        return build_pdf(meta, dealer_card.story(card))


def render_mgmt_report(
    source: Source,
    period_type: PeriodType,
    on: date,
    rep: str | None = None,
    territory_ids: Sequence[str] = (),
    manager: str | None = None,
    lang: str | None = None,
    printed_at: datetime | None = None,
) -> bytes:
    """The weekly or monthly customer management report of a rep (id or username) or a team.

    A team is every rep of ``territory_ids`` and of the territories ``manager`` runs.
    """
    with reading(source) as session:
        scope: ReportScope
        if rep is not None:
            scope = rep_scope(session, rep)
        else:
            scope = team_scope(session, territory_ids, manager)
        report = gather_mgmt_report(session, period_type, on, scope)
    with _in_language(lang):
        meta = DocumentMeta(
            mgmt_report.title(report),
            report.owner_name,
            _now(printed_at),
            person_role=_("Manager") if report.is_team and report.owner_name else "",
        )
        return build_pdf(meta, mgmt_report.story(report))


def render_route_pack(
    source: Source,
    day: date,
    rep: str | None = None,
    lang: str | None = None,
    printed_at: datetime | None = None,
    plan_item_ids: Sequence[str] | None = None,
) -> bytes:
    """The briefs of every visit planned for a day, in route order, behind a cover page.

    ``rep`` (id or username) limits the pack to one rep; ``plan_item_ids`` prints
    exactly those plan items in that order instead.
    """
    with reading(source) as session:
        if plan_item_ids is None:
            rep_id = rep_scope(session, rep).rep_ids[0] if rep is not None else None
            plan_item_ids = route_plan_items(session, day, rep_id)
        pack = gather_route_pack(session, day, plan_item_ids)
    with _in_language(lang):
        meta = DocumentMeta(
            route_pack_layout.title(pack), "、".join(pack.rep_names), _now(printed_at)
        )
        return build_pdf(meta, route_pack_layout.story(pack))


def write_pdf(pdf: bytes, path: Path | str) -> Path:
    """Write PDF bytes to ``path`` (parent folders are created) and return the path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(pdf)
    log.info("wrote %s (%d bytes)", target, len(pdf))
    return target
