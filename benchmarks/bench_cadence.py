"""Latency of the visit-cadence queries on a big database.

``measure_cadence(engine)`` times, with warm caches, what the due views and the
CLI run (issue 3: the due/overdue list <= 50 ms on 50,000 dealers and 500,000
visit records):

- ``due_full``: :func:`due_dealers` for the whole database (every due or overdue
  dealer, as ``fieldrep due`` prints them);
- ``due_page``: the first 200 of that list (a screenful in the GUI);
- ``due_rep``: one rep's due list; ``due_week``: :func:`due_this_week`;
- ``next_due``: one dealer's next due date;
- ``due_full_gc_frozen``, ``due_week_gc_frozen``: the same with the heap frozen
  (``gc.freeze()``), which removes the pauses of CPython's full collections.

It also times once: rebuilding the visit statistics (what a bulk load pays),
recomputing a territory's due dates after a cadence setting changes, and a
one-month compliance report. Times are milliseconds (p50, p95, max).

Run alone: ``python benchmarks/bench_cadence.py DB [--date YYYY-MM-DD]``, or
``--synthetic N`` to first build a synthetic database of N dealers with about
ten visit records each (no demo generator needed).
"""

from __future__ import annotations

import argparse
import gc
import json
import random
import statistics
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, insert, select, text
from sqlalchemy.orm import Session

from fieldrep.storage.cadence import (
    compliance,
    due_dealers,
    due_this_week,
    next_due,
    rebuild_visit_stats,
)
from fieldrep.storage.db import open_database
from fieldrep.storage.derived import bulk_load
from fieldrep.storage.enums import AbcClass, ContactMethod
from fieldrep.storage.models import ContactRecord, Dealer, TerritorySetting
from fieldrep.storage.settings import VISITS_PER_MONTH_A
from fieldrep.storage.types import new_id


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _timed(run: Callable[[], Any], repeat: int) -> tuple[dict[str, float], Any]:
    """Wall-clock p50/p95/max, plus the p50 of this process's CPU time: on a busy
    machine the CPU time tells what the query costs when it has a core to itself."""
    run()  # warm the page cache and SQLite's statement cache
    times: list[float] = []
    cpu_times: list[float] = []
    result: Any = None
    for _ in range(repeat):
        started, cpu_started = time.perf_counter(), time.process_time()
        result = run()
        times.append((time.perf_counter() - started) * 1000)
        cpu_times.append((time.process_time() - cpu_started) * 1000)
    summary = {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(_percentile(times, 0.95), 2),
        "max_ms": round(max(times), 2),
        "cpu_p50_ms": round(statistics.median(cpu_times), 2),
    }
    return summary, result


def _once(run: Callable[[], Any]) -> float:
    started = time.perf_counter()
    run()
    return round((time.perf_counter() - started) * 1000, 1)


def measure_cadence(engine: Engine, *, on: date | None = None, repeat: int = 30) -> dict[str, Any]:
    """Time the cadence queries on ``engine``'s database; milliseconds per query kind."""
    on = on or date.today()
    with engine.connect() as connection:
        dealers = int(connection.execute(text("SELECT count(*) FROM dealer")).scalar_one())
        records = int(connection.execute(text("SELECT count(*) FROM contact_record")).scalar_one())
        rep, territory, dealer_id = connection.execute(
            text(
                "SELECT our_contact_user_id, territory_id, id FROM dealer"
                " WHERE deleted = 0 AND our_contact_user_id IS NOT NULL ORDER BY id LIMIT 1"
            )
        ).one()

    def in_session(query: Callable[[Session], Any]) -> Callable[[], Any]:
        def run() -> Any:
            with Session(engine) as session:
                return query(session)

        return run

    report: dict[str, Any] = {"dealers": dealers, "contact_records": records, "on": str(on)}
    queries: dict[str, Callable[[Session], Any]] = {
        "due_full": lambda session: due_dealers(session, on),
        "due_page": lambda session: due_dealers(session, on, limit=200),
        "due_rep": lambda session: due_dealers(session, on, rep_user_id=rep),
        "due_week": lambda session: due_this_week(session, on),
        "next_due": lambda session: next_due(session, dealer_id, on),
    }
    for name, query in queries.items():
        summary, result = _timed(in_session(query), repeat)
        if isinstance(result, list):
            summary["rows"] = len(result)
        report[name] = summary
    # A full list allocates thousands of objects, which sets off CPython's full
    # garbage collections (tens of ms with a large heap) in some runs: the tail
    # above. With the start-up heap frozen (gc.freeze(), as an app can do once
    # started) those pauses go; measured separately so both numbers are seen.
    gc.collect()
    gc.freeze()
    try:
        for name in ("due_full", "due_week"):
            report[f"{name}_gc_frozen"], _ = _timed(in_session(queries[name]), repeat)
    finally:
        gc.unfreeze()

    with engine.connect() as connection, connection.begin():
        report["rebuild_ms"] = _once(lambda: rebuild_visit_stats(connection))
        # What a cadence setting change costs: the territory's due dates move.
        report["setting_change_ms"] = _once(
            lambda: connection.execute(
                insert(TerritorySetting).values(
                    id=new_id(),
                    territory_id=territory,
                    key=VISITS_PER_MONTH_A.key,
                    value="3",
                    created_at=datetime.now(UTC),
                    updated_at=datetime.now(UTC),
                )
            )
        )
        connection.rollback()
    month_start = on.replace(day=1)
    report["compliance_month_ms"] = _once(
        in_session(lambda session: compliance(session, month_start, on, group_by="rep"))
    )
    return report


def build_synthetic(path: Path, dealers: int, *, seed: int = 3, on: date | None = None) -> Engine:
    """A database of ``dealers`` dealers in 10 territories with a year of contacts.

    Visits follow each class's cadence with jitter, so some dealers are overdue;
    about one record in eight is a phone call.
    """
    on = on or date.today()
    rnd = random.Random(seed)
    engine = open_database(path)
    territories = [new_id() for _ in range(10)]
    reps = [new_id() for _ in range(100)]
    now = datetime.now(UTC)
    gap = {AbcClass.A: 15, AbcClass.B: 30, AbcClass.C: 60}
    dealer_rows: list[dict[str, Any]] = []
    record_rows: list[dict[str, Any]] = []
    for number in range(dealers):
        abc_class = rnd.choices((AbcClass.A, AbcClass.B, AbcClass.C), (2, 3, 5))[0]
        dealer_id = new_id()
        rep = rnd.randrange(len(reps))
        dealer_rows.append(
            {
                "id": dealer_id,
                "territory_id": territories[rep % len(territories)],
                "name": f"经销商{number}",
                "city": "杭州市",
                "abc_class": abc_class,
                "relationship_start_date": on - timedelta(days=rnd.randrange(400, 3000)),
                "our_contact_user_id": reps[rep],
                "created_at": now,
                "updated_at": now,
            }
        )
        day = on - timedelta(days=365 + rnd.randrange(30))
        while True:
            day += timedelta(days=max(1, round(gap[abc_class] * rnd.uniform(0.6, 1.4))))
            if day > on:
                break
            for method in [ContactMethod.VISIT] + (
                [ContactMethod.PHONE] if rnd.random() < 0.14 else []
            ):
                record_rows.append(
                    {
                        "id": new_id(),
                        "territory_id": territories[rep % len(territories)],
                        "dealer_id": dealer_id,
                        "rep_user_id": reps[rep],
                        "contact_at": datetime(
                            day.year, day.month, day.day, rnd.randrange(1, 10), tzinfo=UTC
                        ),
                        "contact_method": method,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
    with engine.begin() as connection, bulk_load(connection):
        connection.execute(insert(Dealer), dealer_rows)
        for start in range(0, len(record_rows), 50_000):
            connection.execute(insert(ContactRecord), record_rows[start : start + 50_000])
    return engine


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("db", type=Path)
    parser.add_argument("--date", type=date.fromisoformat, default=None)
    parser.add_argument("--synthetic", type=int, default=0, help="build N dealers first")
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    if args.synthetic:
        started = time.perf_counter()
        engine = build_synthetic(args.db, args.synthetic, on=args.date)
        print(f"built in {time.perf_counter() - started:.1f} s")
    else:
        engine = open_database(args.db, create=False)
    with Session(engine) as session:
        assert session.scalar(select(Dealer.id).limit(1)) is not None, "empty database"
    print(json.dumps(measure_cadence(engine, on=args.date, repeat=args.repeat), indent=2))


if __name__ == "__main__":
    main()
