"""Building the big demo database, its size, and opening it cold.

- :func:`build_database` runs ``fieldrep demo`` in a fresh process (as a user
  would) and reports wall and CPU seconds, peak memory and row counts.
- :func:`first_query_cold` starts a fresh interpreter that opens the database
  and runs the first query the workbench runs (the first page of the dealer
  list); it reports the import, open and query milliseconds separately.
  :func:`baseline_cold` does the same with an empty SQLite file and ``SELECT 1``
  through the bare ``sqlite3`` module: the floor any database app pays on this
  machine, so the ratio of the two survives a noisy machine.
- :func:`code_version` fingerprints what decides the database's content (the
  storage package: models, migrations, generator), so a build can be reused.

Run alone: ``python benchmarks/bench_build.py DB`` times the cold open of DB.
"""

from __future__ import annotations

import hashlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

# Runs in a fresh interpreter: import, open, first query; prints JSON timings.
_FIRST_QUERY_SCRIPT = r"""
import json, sys, time
started = time.perf_counter()
from sqlalchemy import select
from sqlalchemy.orm import Session
from fieldrep.storage.db import open_database
from fieldrep.storage.models import Dealer
from fieldrep.storage.sorting import DEALER_NAME_SORT
imported = time.perf_counter()
engine = open_database(sys.argv[1], create=False)
with Session(engine) as session:
    opened = time.perf_counter()
    rows = session.execute(
        select(Dealer.id, Dealer.name, Dealer.city, Dealer.abc_class)
        .where(Dealer.deleted.is_(False))
        .order_by(DEALER_NAME_SORT, Dealer.id)
        .limit(100)
    ).all()
finished = time.perf_counter()
print(json.dumps({
    "import_ms": (imported - started) * 1000,
    "open_ms": (opened - imported) * 1000,
    "query_ms": (finished - opened) * 1000,
    "open_and_query_ms": (finished - imported) * 1000,
    "rows": len(rows),
}))
"""

_BASELINE_SCRIPT = r"""
import json, sys, time
started = time.perf_counter()
import sqlite3
imported = time.perf_counter()
connection = sqlite3.connect(sys.argv[1])
opened = time.perf_counter()
connection.execute("SELECT 1").fetchall()
finished = time.perf_counter()
print(json.dumps({
    "import_ms": (imported - started) * 1000,
    "open_ms": (opened - imported) * 1000,
    "query_ms": (finished - opened) * 1000,
    "open_and_query_ms": (finished - imported) * 1000,
}))
"""


def code_version() -> str:
    """A fingerprint of the storage package: a build is reused only while it matches."""
    digest = hashlib.sha256()
    for path in sorted((ROOT / "fieldrep" / "storage").rglob("*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def _environment(home: Path) -> dict[str, str]:
    environment = dict(os.environ)
    environment["FIELDREP_HOME"] = str(home)
    environment["PYTHONPATH"] = os.pathsep.join(
        [str(ROOT), *filter(None, [environment.get("PYTHONPATH")])]
    )
    environment.setdefault("FIELDREP_LANG", "en")
    return environment


def _remove(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def database_bytes(path: Path) -> int:
    """The database file and its write-ahead log, as they sit on disk."""
    return sum(
        Path(f"{path}{suffix}").stat().st_size
        for suffix in ("", "-wal")
        if Path(f"{path}{suffix}").exists()
    )


def table_counts(path: Path) -> dict[str, int]:
    import sqlite3

    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as connection:
        return {
            table: int(connection.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0])
            for table in ("dealer", "contact", "contact_record", "follow_up", "sales_figure")
        }


# ``fieldrep demo`` in a fresh interpreter (the same code path as the command), with
# the CPU seconds of the process itself and of the generator process it starts.
_BUILD_SCRIPT = r"""
import json, resource, sys, time
started = time.perf_counter()
from fieldrep.cli import main
code = main(sys.argv[1:])
wall = time.perf_counter() - started
own = resource.getrusage(resource.RUSAGE_SELF)
children = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({
    "code": code,
    "wall_s": wall,
    "writer_cpu_s": own.ru_utime + own.ru_stime,
    "writer_system_s": own.ru_stime,
    "generator_cpu_s": children.ru_utime + children.ru_stime,
    "writer_peak_rss_mb": own.ru_maxrss / 1024,
}), file=sys.stderr)
sys.exit(code)
"""


def build_database(path: Path, *, dealers: int, seed: int) -> dict[str, Any]:
    """Run ``fieldrep demo`` in a fresh process; seconds, CPU, memory, size and row counts.

    A big build runs in two processes (one generates rows, one writes them), so
    the CPU seconds of each are reported: on an idle two-core machine the wall
    time approaches the larger of the two plus the start-up.
    """
    _remove(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    load_before = os.getloadavg()[0]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as home:
        completed = subprocess.run(
            [
                sys.executable,
                "-c",
                _BUILD_SCRIPT,
                "demo",
                "--db",
                str(path),
                "--dealers",
                str(dealers),
                "--seed",
                str(seed),
            ],
            capture_output=True,
            text=True,
            env=_environment(Path(home)),
            check=False,
        )
    seconds = time.perf_counter() - started
    if completed.returncode != 0:
        raise RuntimeError(f"fieldrep demo failed ({completed.returncode}): {completed.stderr}")
    usage = json.loads(completed.stderr.strip().splitlines()[-1])
    return {
        "dealers": dealers,
        "seed": seed,
        "build_s": round(seconds, 2),
        "build_cpu_s": round(usage["writer_cpu_s"] + usage["generator_cpu_s"], 2),
        "writer_cpu_s": round(usage["writer_cpu_s"], 2),
        "writer_system_s": round(usage["writer_system_s"], 2),
        "generator_cpu_s": round(usage["generator_cpu_s"], 2),
        "build_peak_rss_mb": round(usage["writer_peak_rss_mb"], 1),
        "load_average_before": round(load_before, 2),
        "load_average_after": round(os.getloadavg()[0], 2),
        "database_mb": round(database_bytes(path) / 1e6, 1),
        "rows": table_counts(path),
        "output": completed.stdout.strip(),
    }


def _fresh_process(script: str, argument: Path, runs: int) -> dict[str, Any]:
    samples: list[dict[str, float]] = []
    with tempfile.TemporaryDirectory() as home:
        for _ in range(runs):
            started = time.perf_counter()
            completed = subprocess.run(
                [sys.executable, "-c", script, str(argument)],
                capture_output=True,
                text=True,
                env=_environment(Path(home)),
                check=True,
            )
            sample = json.loads(completed.stdout)
            sample["process_ms"] = (time.perf_counter() - started) * 1000
            samples.append(sample)
    keys = [key for key in samples[0] if key != "rows"]
    result: dict[str, Any] = {"runs": runs}
    for key in keys:
        values = [sample[key] for sample in samples]
        result[f"{key}_median"] = round(statistics.median(values), 2)
        result[f"{key}_max"] = round(max(values), 2)
    if "rows" in samples[0]:
        result["rows"] = samples[0]["rows"]
    return result


def first_query_cold(path: Path, *, runs: int = 7) -> dict[str, Any]:
    """Open the database and run the dealer list's first page, each time in a new process."""
    return _fresh_process(_FIRST_QUERY_SCRIPT, path, runs)


def baseline_cold(*, runs: int = 7) -> dict[str, Any]:
    """An empty SQLite file and ``SELECT 1`` through bare sqlite3, in the same kind of process."""
    with tempfile.TemporaryDirectory() as folder:
        empty = Path(folder) / "empty.db"
        import sqlite3

        sqlite3.connect(empty).close()
        return _fresh_process(_BASELINE_SCRIPT, empty, runs)


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("db", type=Path, help="a FieldRep database")
    parser.add_argument("--runs", type=int, default=7)
    arguments = parser.parse_args()
    print(
        json.dumps(
            {
                "first_query": first_query_cold(arguments.db, runs=arguments.runs),
                "baseline": baseline_cold(runs=arguments.runs),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
