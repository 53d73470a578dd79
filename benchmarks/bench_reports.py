"""How long the printouts take to build (issue 6 budgets).

``run(engine)`` times, with the font already registered (a process pays about
0.1 s once for that, reported as ``font_registration_ms``):

- ``visit_summary``: one contact record card, over a rotation of visit records
  with objections and follow-ups (budget: 150 ms);
- ``route_pack_30``: a route pack of 30 planned visits with their briefs and the
  cover page (budget: 3 s);
- for reference: one pre-visit brief, one dealer card, one weekly report of a rep.

Each figure is the p50 / p95 / max over repetitions, in milliseconds, measured
from the engine (reading included) to the PDF bytes.

Run alone: ``python benchmarks/bench_reports.py [DB]``; without a database it
builds a 300-dealer demo database in a temporary folder first.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fieldrep.reports import (
    render_brief,
    render_dealer_card,
    render_mgmt_report,
    render_route_pack,
    render_visit_summary,
)
from fieldrep.reports.fonts import ensure_font
from fieldrep.storage.db import open_database
from fieldrep.storage.enums import PeriodType, Role
from fieldrep.storage.models import AppUser, ContactRecord, Objection, VisitPlanItem

VISIT_SUMMARY_BUDGET_MS = 150.0
ROUTE_PACK_BUDGET_MS = 3000.0
ROUTE_STOPS = 30


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _timed(runs: list[Callable[[], bytes]]) -> dict[str, Any]:
    times: list[float] = []
    sizes: list[int] = []
    for render in runs:
        started = time.perf_counter()
        pdf = render()
        times.append((time.perf_counter() - started) * 1000)
        sizes.append(len(pdf))
    return {
        "runs": len(times),
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(_percentile(times, 0.95), 1),
        "max_ms": round(max(times), 1),
        "mean_kb": round(statistics.mean(sizes) / 1024, 1),
    }


def _records_with_objections(session: Session, count: int) -> list[str]:
    statement = (
        select(ContactRecord.id)
        .join(Objection, Objection.contact_record_id == ContactRecord.id)
        .where(ContactRecord.deleted.is_(False))
        .group_by(ContactRecord.id)
        .order_by(func.count(Objection.id).desc(), ContactRecord.id)
        .limit(count)
    )
    found = list(session.scalars(statement))
    if len(found) < count:
        found += list(
            session.scalars(
                select(ContactRecord.id).where(ContactRecord.id.not_in(found)).limit(count)
            )
        )
    return found[:count]


def _route_items(session: Session, stops: int) -> list[str]:
    """Thirty plan items as a busy day would have them (the most recent plans first)."""
    items = list(
        session.scalars(
            select(VisitPlanItem.id)
            .where(VisitPlanItem.deleted.is_(False))
            .order_by(
                VisitPlanItem.planned_date.desc(),
                VisitPlanItem.rep_user_id,
                VisitPlanItem.route_seq,
            )
            .limit(stops)
        )
    )
    if not items:
        raise SystemExit("the database has no planned visits to build a route pack from")
    while len(items) < stops:  # a small database: repeat stops to reach the size
        items += items[: stops - len(items)]
    return items


def run(engine: Engine, *, repeat: int = 30, route_repeat: int = 5) -> dict[str, Any]:
    """Time the printouts on ``engine``'s database; returns a JSON-ready dict."""
    started = time.perf_counter()
    ensure_font()
    font_ms = round((time.perf_counter() - started) * 1000, 1)
    with Session(engine) as session:
        records = _records_with_objections(session, 10)
        route = _route_items(session, ROUTE_STOPS)
        dealers = list(
            session.scalars(select(VisitPlanItem.dealer_id).where(VisitPlanItem.id.in_(route)))
        )
        rep = session.scalars(
            select(AppUser.id).where(AppUser.role == Role.REP).order_by(AppUser.username)
        ).first()
        plan_items = session.scalar(select(func.count()).select_from(VisitPlanItem.__table__))
    if not records or rep is None:
        raise SystemExit("the database has no visit records or reps: build the demo first")
    day = date.today()

    def visit(record_id: str) -> Callable[[], bytes]:
        return lambda: render_visit_summary(engine, record_id, lang="zh_CN")

    render_visit_summary(engine, records[0])  # warm SQLite's and reportlab's caches
    visit_summary = _timed([visit(records[i % len(records)]) for i in range(repeat)])
    route_pack = _timed(
        [
            lambda: render_route_pack(engine, day, plan_item_ids=route, lang="zh_CN")
            for _ in range(route_repeat)
        ]
    )
    brief = _timed(
        [
            (lambda dealer_id: lambda: render_brief(engine, dealer_id))(dealers[i % len(dealers)])
            for i in range(max(5, repeat // 3))
        ]
    )
    card = _timed(
        [
            (lambda dealer_id: lambda: render_dealer_card(engine, dealer_id))(
                dealers[i % len(dealers)]
            )
            for i in range(max(5, repeat // 3))
        ]
    )
    report = _timed(
        [lambda: render_mgmt_report(engine, PeriodType.WEEK, day, rep=rep) for _ in range(5)]
    )
    return {
        "font_registration_ms": font_ms,
        "plan_items_in_database": plan_items,
        "visit_summary": visit_summary,
        "visit_summary_within_budget": visit_summary["p95_ms"] <= VISIT_SUMMARY_BUDGET_MS,
        "route_pack_30": {**route_pack, "stops": len(route)},
        "route_pack_30_within_budget": route_pack["p95_ms"] <= ROUTE_PACK_BUDGET_MS,
        "brief": brief,
        "dealer_card": card,
        "weekly_report": report,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("database", nargs="?", type=Path, help="a FieldRep database")
    parser.add_argument("--dealers", type=int, default=300, help="size of the demo to build")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    if args.database is not None:
        engine = open_database(args.database, create=False)
        print(json.dumps(run(engine, repeat=args.repeat), indent=2, ensure_ascii=False))
        return
    from fieldrep.storage.demo import build_demo

    with tempfile.TemporaryDirectory() as folder:
        engine = open_database(Path(folder) / "demo.db")
        summary = build_demo(engine, dealers=args.dealers)
        result = {"demo_dealers": summary.dealers, **run(engine, repeat=args.repeat)}
        engine.dispose()
    print(json.dumps(result, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
