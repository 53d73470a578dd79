"""Search latency on a big database: Chinese substrings, pinyin and phone digits.

``measure_search(engine)`` samples dealers of the database (deterministically for
a seed), makes the queries a rep would type for them and times
:func:`fieldrep.storage.search.search_dealers` once per query, with warm caches:

- ``cjk1``, ``cjk2``, ``cjk3``: one, two and three-or-more consecutive characters
  of a dealer name;
- ``initials``: pinyin initials of three or four consecutive syllables of a name
  (``hxdq``), ``pinyin``: full pinyin of two consecutive syllables (``haixin``);
- ``phone``: the last four digits of a contact's mobile.

It returns milliseconds (p50, p95, max per kind; p95 of CPU time too, which a
busy shared machine inflates less than wall time) and the mean hit count, so the
lead's runner can print and check them (issue 3: p95 <= 20 ms for Chinese
substrings and pinyin initials), the size of the search tables and, with
``rebuild=True``, the seconds a full rebuild of the index takes (rolled back).
Run alone: ``python benchmarks/bench_search.py DB [--rebuild]``.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from fieldrep.storage.search import reading_variants, rebuild_index, search_dealers

_HAN_RUN = re.compile("[\u4e00-\u9fff]+")
KINDS = ("cjk1", "cjk2", "cjk3", "pinyin", "initials", "phone")


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def _han_span(name: str, rnd: random.Random, length: int) -> str | None:
    runs: list[str] = [run for run in _HAN_RUN.findall(name) if len(run) >= length]
    if not runs:
        return None
    run = rnd.choice(runs)
    start = rnd.randrange(len(run) - length + 1)
    return run[start : start + length]


def _syllables(name: str, rnd: random.Random, length: int) -> tuple[str, ...] | None:
    variants = reading_variants(name)
    if not variants or len(variants[0]) < length:
        return None
    syllables = variants[0]
    start = rnd.randrange(len(syllables) - length + 1)
    return syllables[start : start + length]


def make_queries(engine: Engine, *, per_kind: int = 200, seed: int = 7) -> dict[str, list[str]]:
    """Queries of each kind made from dealers and contacts sampled from the database."""
    rnd = random.Random(seed)
    with engine.connect() as connection:
        names = [
            str(row[0])
            for row in connection.execute(
                text("SELECT name FROM dealer WHERE deleted = 0 ORDER BY id")
            )
        ]
        mobiles = [
            str(row[0])
            for row in connection.execute(
                text(
                    "SELECT mobile FROM contact WHERE deleted = 0 AND mobile IS NOT NULL "
                    "ORDER BY id LIMIT 20000"
                )
            )
        ]
    if not names:
        raise ValueError("the database has no dealers to search")
    makers: dict[str, Callable[[str], str | None]] = {
        "cjk1": lambda name: _han_span(name, rnd, 1),
        "cjk2": lambda name: _han_span(name, rnd, 2),
        "cjk3": lambda name: _han_span(name, rnd, rnd.choice((3, 3, 4, 5))),
        "pinyin": lambda name: (
            "".join(syllables) if (syllables := _syllables(name, rnd, 2)) else None
        ),
        "initials": lambda name: (
            "".join(s[0] for s in syllables)
            if (syllables := _syllables(name, rnd, rnd.choice((3, 4))))
            else None
        ),
    }
    queries: dict[str, list[str]] = {kind: [] for kind in KINDS}
    for kind, make in makers.items():
        for name in rnd.sample(names, min(len(names), per_kind * 2)):
            query = make(name)
            if query:
                queries[kind].append(query)
            if len(queries[kind]) >= per_kind:
                break
    digits = [re.sub(r"\D", "", mobile) for mobile in mobiles]
    queries["phone"] = [d[-4:] for d in rnd.sample(digits, min(len(digits), per_kind))]
    return queries


def index_size_mb(engine: Engine) -> float:
    """Megabytes the search tables take in the database file."""
    with engine.connect() as connection:
        size = connection.execute(
            text("SELECT sum(pgsize) FROM dbstat WHERE name LIKE 'search%'")
        ).scalar()
    return round(float(size or 0) / 1e6, 1)


def time_rebuild(engine: Engine) -> float:
    """Seconds :func:`rebuild_index` takes for the whole database (rolled back after)."""
    with engine.connect() as connection:
        transaction = connection.begin()
        try:
            started = time.perf_counter()
            rebuild_index(connection)
            return round(time.perf_counter() - started, 2)
        finally:
            transaction.rollback()


def measure_search(
    engine: Engine,
    *,
    per_kind: int = 200,
    seed: int = 7,
    limit: int = 50,
    rebuild: bool = False,
) -> dict[str, float]:
    """Search latency in milliseconds per query kind (p50, p95, max, mean hits), the
    index size, and with ``rebuild`` the seconds a full index rebuild takes."""
    queries = make_queries(engine, per_kind=per_kind, seed=seed)
    results: dict[str, float] = {"search_index_mb": index_size_mb(engine)}
    if rebuild:
        results["search_rebuild_s"] = time_rebuild(engine)
    with Session(engine) as session:
        for warm_up in [q for kind in KINDS for q in queries[kind][:5]]:
            search_dealers(session, warm_up, limit)
        for kind in KINDS:
            timings: list[float] = []
            cpu: list[float] = []
            hits: list[int] = []
            for query in queries[kind]:
                started, cpu_started = time.perf_counter(), time.process_time()
                found = search_dealers(session, query, limit)
                timings.append((time.perf_counter() - started) * 1000)
                cpu.append((time.process_time() - cpu_started) * 1000)
                hits.append(len(found))
            if not timings:
                continue
            results[f"search_{kind}_p50_ms"] = round(statistics.median(timings), 2)
            results[f"search_{kind}_p95_ms"] = round(_percentile(timings, 0.95), 2)
            results[f"search_{kind}_max_ms"] = round(max(timings), 2)
            results[f"search_{kind}_p95_cpu_ms"] = round(_percentile(cpu, 0.95), 2)
            results[f"search_{kind}_mean_hits"] = round(statistics.fmean(hits), 1)
            results[f"search_{kind}_queries"] = len(timings)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path, help="a FieldRep database with many dealers")
    parser.add_argument("--per-kind", type=int, default=200)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--rebuild", action="store_true", help="also time a full index rebuild")
    arguments = parser.parse_args()
    from fieldrep.storage.db import open_database

    engine = open_database(arguments.db, create=False)
    print(
        json.dumps(
            measure_search(
                engine, per_kind=arguments.per_kind, seed=arguments.seed, rebuild=arguments.rebuild
            ),
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
