"""Run every benchmark of the foundation on one big demo database.

    python benchmarks/run.py [--only build,search,cadence,reports,sync,gui]
                             [--dealers 50000] [--seed 0] [--out benchmarks/out] [--rebuild]

Builds the database once (50,000 dealers, about 150,000 contacts and 500,000
visit records) with ``fieldrep demo`` into ``--out`` and reuses it while the
storage code and the parameters are unchanged (``--rebuild`` forces a new
build). Then measures and checks against the targets of issue 3:

- building the database <= 90 s, and its size;
- opening it and running the first query, in a fresh process <= 200 ms, next
  to the same for an empty SQLite file and ``SELECT 1`` (the machine's floor);
- search p95 <= 20 ms for Chinese substrings and pinyin initials
  (benchmarks/bench_search.py);
- the due/overdue list <= 50 ms (benchmarks/bench_cadence.py);
- printouts: one visit summary p95 <= 150 ms, a route pack of 30 visits p95
  <= 3 s (benchmarks/bench_reports.py, on the same database);
- sync over loopback HTTP (benchmarks/bench_sync.py): first sync of a
  100,000-row territory >= 10,000 rows/s end to end with the server on SQLite
  and on PostgreSQL (FIELDREP_BENCH_DATABASE_URL or FIELDREP_TEST_DATABASE_URL;
  SKIP when unreachable), push of 1,000 offline edits <= 1 s, a second sync
  with nothing changed transfers 0 rows, and the client's peak Python memory
  during a first sync stays flat when the territory grows 4x; plus the
  server's own throughput (benchmarks/bench_sync_server.py, "server side only");
- the GUI (benchmarks/bench_gui.py, Qt offscreen): cold start <= 2x a bare
  QMainWindow measured in the same run, dealer-list re-filter per keystroke
  p95 <= 30 ms, resident memory <= 300 MB.

``--only`` picks parts (default: all). Each part runs guarded: a crash becomes a
FAIL row with the error and the other parts still run.

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
import traceback
import uuid
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
VISIT_SUMMARY_TARGET_MS = 150.0
ROUTE_PACK_TARGET_MS = 3000.0
SYNC_ROWS_PER_S_TARGET = 10_000.0
PUSH_1000_TARGET_S = 1.0
MEMORY_GROWTH_TARGET = 1.5  # peak at 4x the rows / peak at 1x: "flat" allows noise, not growth
GUI_COLD_RATIO_TARGET = 2.0
GUI_REFILTER_TARGET_MS = 30.0
GUI_MEMORY_TARGET_MB = 300.0
GUI_STALL_TARGET_MS = 50.0
PARTS = ("build", "search", "cadence", "reports", "sync", "gui")
DEFAULT_POSTGRES_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


@dataclass
class Metric:
    """One measured number, its target (an upper bound, or a lower one) and a note."""

    name: str
    value: float | None
    unit: str
    target: float | None = None
    at_least: bool = False
    note: str = ""
    #: "FAIL" for a crashed part, "SKIP" for one that could not run here; else the target decides.
    forced: str = ""
    #: The verdict the benchmark script gave itself, for targets without a number here.
    verdict: bool | None = None

    @property
    def status(self) -> str:
        if self.forced:
            return self.forced
        if self.verdict is not None:
            return "PASS" if self.verdict else "FAIL"
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
            note="first page of the dealer list, in pinyin name order",
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


def _ms(summary: dict[str, Any]) -> str:
    return (
        f"p50 {summary.get('p50_ms')} ms, max {summary.get('max_ms')} ms, "
        f"{summary.get('runs')} runs"
    )


def reports_metrics(result: dict[str, Any]) -> list[Metric]:
    visit = result["visit_summary"]
    route = result["route_pack_30"]
    metrics = [
        Metric(
            "visit summary PDF p95",
            visit["p95_ms"],
            "ms",
            VISIT_SUMMARY_TARGET_MS,
            note=f"{_ms(visit)}, {visit.get('mean_kb')} KB",
        ),
        Metric(
            f"route pack PDF p95 ({route.get('stops')} visits)",
            route["p95_ms"],
            "ms",
            ROUTE_PACK_TARGET_MS,
            note=f"{_ms(route)}, {route.get('mean_kb')} KB",
        ),
    ]
    for key, label in (
        ("brief", "pre-visit brief PDF p95"),
        ("dealer_card", "dealer card PDF p95"),
        ("weekly_report", "weekly report PDF p95"),
    ):
        summary = result.get(key)
        if isinstance(summary, dict):
            metrics.append(Metric(label, summary.get("p95_ms"), "ms", note=_ms(summary)))
    metrics.append(
        Metric(
            "font registration (once a process)",
            result.get("font_registration_ms"),
            "ms",
        )
    )
    return metrics


# ---------------------------------------------------------------- sync


def postgres_url() -> str:
    return (
        os.environ.get("FIELDREP_BENCH_DATABASE_URL")
        or os.environ.get("FIELDREP_TEST_DATABASE_URL")
        or DEFAULT_POSTGRES_URL
    )


def postgres_unreachable(url: str) -> str | None:
    """Why PostgreSQL at ``url`` cannot be used, or None when a connection works."""
    from sqlalchemy import create_engine, text

    from fieldrep.server.core.config import normalise_database_url

    try:
        engine = create_engine(normalise_database_url(url), connect_args={"connect_timeout": 5})
        try:
            with engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        finally:
            engine.dispose()
    except Exception as error:  # any failure means "not here"
        return f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"
    return None


class ScratchSchema:
    """A throw-away PostgreSQL schema, so benchmark users and rows never meet real ones."""

    def __init__(self, url: str) -> None:
        from sqlalchemy import create_engine

        from fieldrep.server.core.config import normalise_database_url

        self.base_url = normalise_database_url(url)
        self.schema = f"fr_bench_{uuid.uuid4().hex[:8]}"
        self.owner = create_engine(self.base_url)

    def __enter__(self) -> ScratchSchema:
        from sqlalchemy import text

        with self.owner.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{self.schema}"'))
        return self

    @property
    def url(self) -> str:
        """The URL with the scratch schema first on the search path (libpq ``options``)."""
        separator = "&" if "?" in self.base_url else "?"
        return f"{self.base_url}{separator}options=-csearch_path%3D{self.schema}"

    def __exit__(self, *_exc: object) -> None:
        from sqlalchemy import text

        with self.owner.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{self.schema}" CASCADE'))
        self.owner.dispose()


def client_sync_metrics(result: dict[str, Any], backend: str) -> list[Metric]:
    quiet = result["quiet_sync_pushed_pulled"]
    return [
        Metric(
            f"first sync, server on {backend}",
            result["first_sync_rows_per_second"],
            "rows/s",
            SYNC_ROWS_PER_S_TARGET,
            at_least=True,
            note=f"{result['rows']:,} rows in {result['first_sync_seconds']} s, "
            f"{result['first_sync_pages']} pages, end to end over loopback",
        ),
        Metric(
            f"push 1,000 offline edits ({backend})",
            result["push_1000_edits_seconds"],
            "s",
            PUSH_1000_TARGET_S,
            note=f"{result['push_pushed']} rows pushed",
        ),
        Metric(
            f"second sync, nothing changed ({backend})",
            sum(quiet),
            "rows",
            0,
            note=f"pushed {quiet[0]}, pulled {quiet[1]}",
        ),
    ]


def memory_metrics(small: dict[str, Any], large: dict[str, Any]) -> list[Metric]:
    low = small["client_peak_python_mib"]
    high = large["client_peak_python_mib"]
    growth = high / low if low else None
    # Flat means the peak does not follow the row count; the slope says what it grows by.
    per_thousand_kib = (high - low) * 1024 / ((large["rows"] - small["rows"]) / 1000)
    return [
        Metric(
            "client memory growth, first sync",
            None if growth is None else round(growth, 2),
            "x",
            MEMORY_GROWTH_TARGET,
            note=f"peak Python memory (tracemalloc) {low} MiB at {small['rows']:,} rows, "
            f"{high} MiB at {large['rows']:,} rows (server on SQLite): "
            f"+{per_thousand_kib:,.0f} KiB per 1,000 rows",
        )
    ]


def server_sync_metrics(result: dict[str, Any]) -> list[Metric]:
    backend = result["backend"]
    seed = result["seed"]
    snapshot = result["snapshot"]
    push = result["push_1000"]
    concurrent = result["concurrent"]
    return [
        Metric(
            f"server side only: snapshot pull ({backend})",
            snapshot["rows_per_s"],
            "rows/s",
            SYNC_ROWS_PER_S_TARGET,
            at_least=True,
            note=f"{snapshot['rows']:,} rows in {snapshot['seconds']} s, "
            f"pages of {snapshot['page']}",
        ),
        Metric(
            f"server side only: bulk push ({backend})",
            seed["rows_per_s"],
            "rows/s",
            note=f"{seed['rows']:,} new dealers in {seed['seconds']} s",
        ),
        Metric(
            f"server side only: push 1,000 edits ({backend})",
            push["seconds"],
            "s",
            PUSH_1000_TARGET_S,
            note=f"statuses {push['statuses']}",
        ),
        Metric(
            f"server side only: pull 1,000 edits ({backend})",
            result["log_pull"]["seconds"],
            "s",
            note=f"{result['log_pull']['rows']} changes",
        ),
        Metric(f"server side only: quiet pull ({backend})", result["quiet"]["rows"], "rows", 0),
        Metric(
            f"server side only: 4 devices pushing ({backend})",
            concurrent["ops_per_s"],
            "ops/s",
            note=f"{concurrent['ops']} ops in {concurrent['seconds']} s",
        ),
    ]


def run_server_bench(url: str | None, rows: int, page: int) -> dict[str, Any]:
    """bench_sync_server.run on a fresh SQLite file, or in a scratch PostgreSQL schema."""
    import tempfile

    import bench_sync_server

    from fieldrep.server.core.config import sqlite_url
    from fieldrep.server.core.db import open_server_database

    if url is None:
        with tempfile.TemporaryDirectory(prefix="fieldrep-bench-server-") as folder:
            database = open_server_database(sqlite_url(Path(folder) / "server.db"))
            try:
                return bench_sync_server.run(database, rows, page)
            finally:
                database.dispose()
    with ScratchSchema(url) as scratch:
        database = open_server_database(
            scratch.base_url, connect_args={"options": f"-csearch_path={scratch.schema}"}
        )
        try:
            return bench_sync_server.run(database, rows, page)
        finally:
            database.dispose()


def sync_part(arguments: argparse.Namespace, results: dict[str, Any]) -> list[Metric]:
    """Client sync on SQLite and PostgreSQL servers, client memory, server-side throughput."""
    import bench_sync

    metrics: list[Metric] = []
    sync: dict[str, Any] = {}
    results["sync"] = sync
    url = postgres_url()
    unreachable = postgres_unreachable(url)
    if unreachable:
        banner = f"!!! PostgreSQL at {url} is unreachable: {unreachable} -- PostgreSQL rows SKIPPED"
        rule = "!" * 100
        print(f"\n{rule}\n{banner}\n{rule}", flush=True)
        sync["postgresql_skipped"] = unreachable

    def client_sqlite() -> list[Metric]:
        print(f"  client sync, server on SQLite, {arguments.sync_rows:,} rows ...", flush=True)
        sync["client_sqlite"] = bench_sync.run(arguments.sync_rows, None)
        return client_sync_metrics(sync["client_sqlite"], "SQLite")

    def client_postgres() -> list[Metric]:
        if unreachable:
            return [
                Metric(
                    "first sync, server on PostgreSQL",
                    None,
                    "rows/s",
                    forced="SKIP",
                    note=f"PostgreSQL unreachable at {url}: {unreachable}",
                )
            ]
        print(f"  client sync, server on PostgreSQL, {arguments.sync_rows:,} rows ...", flush=True)
        with ScratchSchema(url) as scratch:
            sync["client_postgresql"] = bench_sync.run(arguments.sync_rows, scratch.url)
        return client_sync_metrics(sync["client_postgresql"], "PostgreSQL")

    def client_memory() -> list[Metric]:
        small_rows = arguments.memory_rows
        print(
            f"  client memory, first sync of {small_rows:,} and {4 * small_rows:,} rows ...",
            flush=True,
        )
        # The search index rebuild at the end of a first sync imports pypinyin on its
        # first use (~23 MiB once per process); load it before tracing, or only the
        # smaller run would pay for it and the ratio would flatter the client.
        importlib.import_module("pypinyin")
        small = bench_sync.run(small_rows, None, trace_memory=True)
        large = bench_sync.run(4 * small_rows, None, trace_memory=True)
        sync["client_memory"] = {"small": small, "large": large}
        return memory_metrics(small, large)

    def server(backend_url: str | None, label: str) -> Callable[[], list[Metric]]:
        def measure() -> list[Metric]:
            if backend_url is None and label == "PostgreSQL":
                return [
                    Metric(
                        "server side only: snapshot pull (postgresql)",
                        None,
                        "rows/s",
                        forced="SKIP",
                        note=f"PostgreSQL unreachable at {url}",
                    )
                ]
            rows = arguments.server_rows
            print(f"  server side only, {label}, {rows:,} rows ...", flush=True)
            sync[f"server_{label.lower()}"] = run_server_bench(backend_url, rows, 5000)
            return server_sync_metrics(sync[f"server_{label.lower()}"])

        return measure

    metrics += guarded("sync: client, SQLite server", client_sqlite, results)
    metrics += guarded("sync: client, PostgreSQL server", client_postgres, results)
    metrics += guarded("sync: client memory", client_memory, results)
    metrics += guarded("sync: server side, SQLite", server(None, "SQLite"), results)
    metrics += guarded(
        "sync: server side, PostgreSQL",
        server(None if unreachable else url, "PostgreSQL"),
        results,
    )
    return metrics


# ---------------------------------------------------------------- GUI


def gui_metrics(result: dict[str, Any]) -> list[Metric]:
    cold = result["cold_start"]
    refilter = result["refilter"]
    memory = result.get("memory", {})
    metrics = [
        Metric(
            "GUI cold start vs bare QMainWindow",
            cold["ratio"],
            "x",
            GUI_COLD_RATIO_TARGET,
            note=f"FieldRep interactive {cold['fieldrep_interactive_ms']} ms vs bare "
            f"{cold['bare_qmainwindow_ms']} ms (same run, median of {cold['runs']})",
        ),
        Metric(
            "  Today's data on screen",
            cold.get("fieldrep_today_data_ms"),
            "ms",
            note=f"dealer list filled at {cold.get('fieldrep_dealers_listed_ms')} ms "
            f"({cold.get('dealers_listed')} dealers)",
        ),
        Metric(
            "dealer list re-filter per keystroke p95",
            refilter["keystroke_ms_p95"],
            "ms",
            GUI_REFILTER_TARGET_MS,
            note=f"median {refilter['keystroke_ms_median']} ms, max "
            f"{refilter['keystroke_ms_max']} ms over {refilter['keystrokes']} keystrokes "
            f"(+{refilter.get('debounce_ms')} ms debounce, switched off here); whole list "
            f"p95 {refilter.get('keystroke_whole_list_ms_p95')} ms",
        ),
        Metric(
            "  clear search (all dealers), median",
            refilter.get("clear_search_all_dealers_ms_median"),
            "ms",
            note=f"whole list {refilter.get('clear_search_whole_list_ms_median')} ms; class "
            f"filter median {refilter.get('class_filter_ms_median')} ms, "
            f"max {refilter.get('class_filter_ms_max')} ms",
        ),
        Metric(
            "GUI resident memory, dealers loaded",
            memory.get("rss_mb_dealers_loaded", cold.get("rss_mb_dealers_loaded")),
            "MB",
            GUI_MEMORY_TARGET_MB,
        ),
    ]
    known = {"cold_start_ratio", "refilter_ms_p95", "memory_mb"}
    stall = next((value for key, value in result.items() if "stall" in key), None)
    if isinstance(stall, int | float):
        stall = {"ms": stall}
    if isinstance(stall, dict):
        value = next(
            (v for k, v in stall.items() if isinstance(v, int | float) and "max" in k),
            next((v for v in stall.values() if isinstance(v, int | float)), None),
        )
        metrics.append(
            Metric(
                "GUI-thread stall during background sync",
                value,
                "ms",
                GUI_STALL_TARGET_MS,
                note=", ".join(f"{k} {v}" for k, v in stall.items()),
            )
        )
        known |= {key for key in result.get("passed", {}) if "stall" in key}
    else:
        metrics.append(
            Metric(
                "GUI-thread stall during background sync",
                None,
                "ms",
                note="not measured: bench_gui.py has no stall measurement yet",
            )
        )
    for key, verdict in result.get("passed", {}).items():
        if key not in known:
            metrics.append(Metric(f"GUI: {key}", None, "", verdict=bool(verdict)))
    return metrics


def gui_part(path: Path, results: dict[str, Any]) -> list[Metric]:
    os.environ["QT_QPA_PLATFORM"] = "offscreen"
    home = os.environ.get("FIELDREP_HOME")
    import bench_gui

    try:
        results["gui"] = bench_gui.run(path)
    finally:  # measure_refilter points FIELDREP_HOME at a scratch folder
        if home is None:
            os.environ.pop("FIELDREP_HOME", None)
        else:
            os.environ["FIELDREP_HOME"] = home
    return gui_metrics(results["gui"])


# ---------------------------------------------------------------- guarding


def guarded(
    name: str, measure: Callable[[], list[Metric]], results: dict[str, Any]
) -> list[Metric]:
    """``measure()``, or one FAIL row with the error when it raises (or exits)."""
    started = time.perf_counter()
    try:
        metrics = measure()
    except (Exception, SystemExit) as error:  # a crash is a result too
        message = f"{type(error).__name__}: {error}".strip()
        results.setdefault("errors", {})[name] = traceback.format_exc()
        print(f"!!! {name} crashed: {message}", flush=True)
        return [Metric(f"{name} (crashed)", None, "", forced="FAIL", note=message[:300])]
    results.setdefault("part_seconds", {})[name] = round(time.perf_counter() - started, 1)
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
            else ("≥ " if metric.at_least else "≤ ")
            + f"{metric.target:,.2f}".rstrip("0").rstrip(".")
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


def parse_parts(text: str) -> list[str]:
    parts = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [part for part in parts if part not in PARTS]
    if unknown or not parts:
        raise argparse.ArgumentTypeError(
            f"unknown part {', '.join(unknown) or '(none)'}; choose from {', '.join(PARTS)}"
        )
    return parts


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--only",
        type=parse_parts,
        default=list(PARTS),
        metavar="NAME[,NAME]",
        help=f"run only these parts ({', '.join(PARTS)}); default: all",
    )
    parser.add_argument("--dealers", type=int, default=50_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "out")
    parser.add_argument("--rebuild", action="store_true", help="build even if a build matches")
    parser.add_argument("--sync-rows", type=int, default=100_000, help="territory of the sync")
    parser.add_argument(
        "--memory-rows", type=int, default=10_000, help="smaller territory of the memory check"
    )
    parser.add_argument("--server-rows", type=int, default=100_000, help="server-side benchmark")
    arguments = parser.parse_args(argv)
    parts: list[str] = arguments.only
    out: Path = arguments.out
    out.mkdir(parents=True, exist_ok=True)
    os.chdir(ROOT)  # bench_sync starts its server with the work tree on PYTHONPATH

    results: dict[str, Any] = {
        "parameters": {
            "dealers": arguments.dealers,
            "seed": arguments.seed,
            "parts": parts,
            "sync_rows": arguments.sync_rows,
            "memory_rows": arguments.memory_rows,
            "server_rows": arguments.server_rows,
        },
        "machine": machine(),
    }
    metrics: list[Metric] = []
    path: Path | None = None
    if set(parts) & {"build", "search", "cadence", "reports", "gui"}:

        def database() -> list[Metric]:
            nonlocal path
            path, results["build"] = ensure_database(
                out, arguments.dealers, arguments.seed, arguments.rebuild
            )
            return build_metrics(results["build"], arguments.dealers) if "build" in parts else []

        metrics += guarded("build", database, results)

    if path is not None and "build" in parts:

        def cold() -> list[Metric]:
            assert path is not None
            print("timing open + first query in fresh processes ...", flush=True)
            found, results["first_query"] = first_query_metrics(path)
            return found

        metrics += guarded("open + first query", cold, results)

    if path is not None and set(parts) & {"search", "cadence", "reports"}:
        from fieldrep.storage.db import open_database

        engine = open_database(path, create=False)
        try:
            if "search" in parts:

                def search() -> list[Metric]:
                    print("timing search (bench_search) ...", flush=True)
                    results["search"] = call_bench("bench_search", ("measure_search",), engine)
                    return search_metrics(results["search"])

                metrics += guarded("search", search, results)
            if "cadence" in parts:

                def cadence() -> list[Metric]:
                    print("timing the due list (bench_cadence) ...", flush=True)
                    results["cadence"] = call_bench(
                        "bench_cadence", ("measure_cadence",), engine, on=DEMO_TODAY
                    )
                    return cadence_metrics(results["cadence"])

                metrics += guarded("cadence", cadence, results)
            if "reports" in parts:

                def reports() -> list[Metric]:
                    import bench_reports

                    print("timing printouts (bench_reports) ...", flush=True)
                    results["reports"] = bench_reports.run(engine, repeat=30, route_repeat=5)
                    return reports_metrics(results["reports"])

                metrics += guarded("reports", reports, results)
        finally:
            engine.dispose()

    if "sync" in parts:
        print("timing sync over loopback (bench_sync, bench_sync_server) ...", flush=True)
        metrics += sync_part(arguments, results)

    if "gui" in parts and path is not None:
        gui_path = path

        def gui() -> list[Metric]:
            print("timing the GUI, Qt offscreen (bench_gui) ...", flush=True)
            return gui_part(gui_path, results)

        metrics += guarded("gui", gui, results)

    print_table(metrics)
    failed = [metric.name for metric in metrics if metric.status == "FAIL"]
    skipped = [metric.name for metric in metrics if metric.status == "SKIP"]
    results["metrics"] = [{**asdict(metric), "status": metric.status} for metric in metrics]
    results["failed"] = failed
    results["skipped"] = skipped
    results_path = out / "results.json"
    results_path.write_text(
        json.dumps(results, indent=2, ensure_ascii=False, default=str), encoding="utf-8"
    )
    print(f"results written to {results_path}")
    if skipped:
        print("!!! SKIPPED (not measured here): " + ", ".join(skipped))
    if failed:
        print("targets missed: " + ", ".join(failed))
        return 1
    print("all targets met")
    return 0


if __name__ == "__main__":
    sys.exit(main())
