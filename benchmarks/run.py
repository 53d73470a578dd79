"""Run every benchmark of the foundation on one big demo database.

    python benchmarks/run.py [--dealers 50000] [--seed 0] [--out benchmarks/out] [--rebuild]

Builds the database once (50,000 dealers, about 150,000 contacts and 500,000
visit records) with ``fieldrep demo`` into ``--out`` and reuses it while the
storage code and the parameters are unchanged (``--rebuild`` forces a new
build). Then measures and checks against the targets of issue 3:

- building the database <= 90 s, and its size;
- opening it and running the first query, in a fresh process <= 200 ms, next
  to the same for an empty SQLite file and ``SELECT 1`` (the machine's floor);
- search p95 <= 20 ms for Chinese substrings and pinyin initials
  (benchmarks/bench_search.py);
- the due/overdue list <= 50 ms (benchmarks/bench_cadence.py).

Prints a table, writes ``results.json`` in ``--out`` and exits 1 when a target
is missed. Wall-clock times on a busy machine are pessimistic: CPU times and
the load average are recorded next to them.
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import os
import platform
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import date
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

import bench_build  # noqa: E402

DEMO_TODAY = date(2026, 11, 25)  # the day the demo's history ends: "today" for the due list
BUILD_TARGET_S = 90.0
FIRST_QUERY_TARGET_MS = 200.0
SEARCH_TARGET_MS = 20.0
DUE_TARGET_MS = 50.0
SEARCH_CHECKED_KINDS = ("cjk1", "cjk2", "cjk3", "initials")


@dataclass
class Metric:
    """One measured number, its target (an upper bound, or a lower one) and a note."""

    name: str
    value: float | None
    unit: str
    target: float | None = None
    at_least: bool = False
    note: str = ""

    @property
    def status(self) -> str:
        if self.target is None:
            return "-"
        if self.value is None:
            return "FAIL"
        met = self.value >= self.target if self.at_least else self.value <= self.target
        return "PASS" if met else "FAIL"


# ---------------------------------------------------------------- the database


def ensure_database(
    out: Path, dealers: int, seed: int, rebuild: bool
) -> tuple[Path, dict[str, Any]]:
    """The benchmark database, built now or reused from an identical earlier build."""
    path = out / f"demo-{dealers}-{seed}.db"
    manifest_path = out / f"demo-{dealers}-{seed}.json"
    version = bench_build.code_version()
    if not rebuild and path.exists() and manifest_path.exists():
        manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        if manifest.get("code_version") == version:
            manifest["reused"] = True
            print(f"reusing {path} (built {manifest.get('built_at')}, code {version})")
            return path, manifest
    print(f"building {path}: {dealers} dealers, seed {seed} (fieldrep demo) ...", flush=True)
    result = bench_build.build_database(path, dealers=dealers, seed=seed)
    result.update(code_version=version, built_at=time.strftime("%Y-%m-%d %H:%M:%S"), reused=False)
    manifest_path.write_text(json.dumps(result, indent=2, ensure_ascii=False), encoding="utf-8")
    return path, result


def build_metrics(build: dict[str, Any], dealers: int) -> list[Metric]:
    reused = " (reused build)" if build.get("reused") else ""
    rows = build["rows"]
    return [
        Metric(
            "build the database",
            build["build_s"],
            "s",
            BUILD_TARGET_S,
            note=f"CPU: writer {build.get('writer_cpu_s')} s + generator "
            f"{build.get('generator_cpu_s')} s; load average {build['load_average_before']}"
            f"->{build['load_average_after']} on {os.cpu_count()} CPUs; "
            f"peak {build['build_peak_rss_mb']} MB{reused}",
        ),
        Metric("database file size", build["database_mb"], "MB"),
        Metric("dealers", rows["dealer"], "rows", dealers, at_least=True),
        Metric("contacts", rows["contact"], "rows", round(dealers * 3 * 0.95), at_least=True),
        Metric(
            "visit records",
            rows["contact_record"],
            "rows",
            round(dealers * 10 * 0.95),
            at_least=True,
        ),
    ]


def first_query_metrics(path: Path) -> tuple[list[Metric], dict[str, Any]]:
    ours = bench_build.first_query_cold(path)
    floor = bench_build.baseline_cold()
    value = ours["open_and_query_ms_median"]
    base = floor["open_and_query_ms_median"]
    ratio = f"{value / base:.0f}x" if base > 0 else "n/a"
    metrics = [
        Metric(
            "open + first query (fresh process)",
            value,
            "ms",
            FIRST_QUERY_TARGET_MS,
            note=f"median of {ours['runs']}, max {ours['open_and_query_ms_max']} ms; "
            f"{ratio} bare sqlite3 open + SELECT 1 ({base} ms)",
        ),
        Metric(
            "  of which the query",
            ours["query_ms_median"],
            "ms",
            note="first page of the dealer list, ordered by name",
        ),
        Metric(
            "python imports before opening",
            ours["import_ms_median"],
            "ms",
            note=f"sqlite3 alone: {floor['import_ms_median']} ms; "
            f"whole process {ours['process_ms_median']} ms "
            f"(bare: {floor['process_ms_median']} ms)",
        ),
    ]
    return metrics, {"fieldrep": ours, "baseline": floor}


# ---------------------------------------------------------------- other benchmark modules


def call_bench(module_name: str, fallbacks: tuple[str, ...], engine: Any, **options: Any) -> Any:
    """``module.run(engine)``, else the first fallback function the module has; None if absent."""
    try:
        module = importlib.import_module(module_name)
    except ModuleNotFoundError:
        return None
    for name in ("run", *fallbacks):
        function: Callable[..., Any] | None = getattr(module, name, None)
        if function is not None:
            accepted = inspect.signature(function).parameters
            return function(engine, **{k: v for k, v in options.items() if k in accepted})
    return None


def search_metrics(result: dict[str, Any] | None) -> list[Metric]:
    if result is None:
        return [Metric("search", None, "ms", note="benchmarks/bench_search.py not present")]
    metrics = []
    for key, value in result.items():
        if not key.endswith("_p95_ms"):
            continue
        kind = key.removeprefix("search_").removesuffix("_p95_ms")
        checked = kind in SEARCH_CHECKED_KINDS
        hits = result.get(f"search_{kind}_mean_hits")
        metrics.append(
            Metric(
                f"search p95: {kind}",
                value,
                "ms",
                SEARCH_TARGET_MS if checked else None,
                note=f"p50 {result.get(f'search_{kind}_p50_ms')} ms, mean hits {hits}",
            )
        )
    if "search_index_mb" in result:
        metrics.append(Metric("search index size", result["search_index_mb"], "MB"))
    return metrics


def cadence_metrics(result: dict[str, Any] | None) -> list[Metric]:
    if result is None:
        return [Metric("due list", None, "ms", note="benchmarks/bench_cadence.py not present")]
    metrics = []
    for key, target in (("due_full", DUE_TARGET_MS), ("due_page", None), ("due_week", None)):
        summary = result.get(key)
        if not isinstance(summary, dict):
            continue
        metrics.append(
            Metric(
                f"due list p95: {key}",
                summary.get("p95_ms"),
                "ms",
                target,
                note=f"CPU p50 {summary.get('cpu_p50_ms')} ms, {summary.get('rows')} dealers",
            )
        )
    frozen = result.get("due_full_gc_frozen")
    if isinstance(frozen, dict):
        metrics.append(Metric("due list p95, heap frozen", frozen.get("p95_ms"), "ms"))
    if "rebuild_ms" in result:
        metrics.append(Metric("visit statistics rebuild", result["rebuild_ms"], "ms"))
    return metrics


# ---------------------------------------------------------------- report


def print_table(metrics: list[Metric]) -> None:
    width = max(len(metric.name) for metric in metrics)
    print()
    print(f"{'metric':<{width}}  {'value':>12}  {'target':>12}  result  note")
    print("-" * (width + 50))
    for metric in metrics:
        value = "-" if metric.value is None else f"{metric.value:,.2f}".rstrip("0").rstrip(".")
        target = (
            ""
            if metric.target is None
            else ("≥ " if metric.at_least else "≤ ") + (f"{metric.target:,.0f}")
        )
        print(
            f"{metric.name:<{width}}  {value + ' ' + metric.unit:>12}  {target:>12}  "
            f"{metric.status:<6}  {metric.note}"
        )
    print()


def machine() -> dict[str, Any]:
    try:
        commit = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        commit = ""
    return {
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "git_commit": commit,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dealers", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--rebuild", action="store_true", help="build even if a build matches")
    arguments = parser.parse_args(argv)
    out: Path = arguments.out
    out.mkdir(parents=True, exist_ok=True)

    path, build = ensure_database(out, arguments.dealers, arguments.seed, arguments.rebuild)
    metrics = build_metrics(build, arguments.dealers)
    print("timing open + first query in fresh processes ...", flush=True)
    cold_metrics, cold = first_query_metrics(path)
    metrics += cold_metrics

    from fieldrep.storage.db import open_database

    engine = open_database(path, create=False)
    print("timing search (bench_search) ...", flush=True)
    search = call_bench("bench_search", ("measure_search",), engine)
    metrics += search_metrics(search)
    print("timing the due list (bench_cadence) ...", flush=True)
    cadence = call_bench("bench_cadence", ("measure_cadence",), engine, on=DEMO_TODAY)
    metrics += cadence_metrics(cadence)
    engine.dispose()

    print_table(metrics)
    failed = [metric.name for metric in metrics if metric.status == "FAIL"]
    results = {
        "parameters": {"dealers": arguments.dealers, "seed": arguments.seed},
        "machine": machine(),
        "metrics": [{**asdict(metric), "status": metric.status} for metric in metrics],
        "build": build,
        "first_query": cold,
        "search": search,
        "cadence": cadence,
        "failed": failed,
    }
    results_path = out / "results.json"
    results_path.write_text(
        json.dumps(results, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    print(f"results written to {results_path}")
    if failed:
        print("targets missed: " + ", ".join(failed))
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
