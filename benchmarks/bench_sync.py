"""Sync throughput over loopback HTTP: first sync, push of offline edits, quiescence.

Builds a server (SQLite file, or PostgreSQL with ``--database-url``) holding one
territory of ``--rows`` dealers, serves it with uvicorn on 127.0.0.1, signs a
fresh client in and measures:

- ``first_sync``: the first sync (snapshot pull of every row), rows per second
  end to end (with ``--trace-memory``: the peak Python memory during it, which
  stays flat as the territory grows because pulls are paged);
- ``push``: 1,000 offline edits pushed in one sync (seconds);
- ``quiet``: a second sync with nothing changed (rows pushed and pulled: 0 and 0).

Targets (issue 4): >= 10,000 rows/s first sync, push of 1,000 edits <= 1 s, a
quiet sync transfers no rows. Run: ``python benchmarks/bench_sync.py [--rows N]``.
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

import keyring
import served_territory
from sqlalchemy import text

from fieldrep.server.core.config import normalise_database_url, sqlite_url
from fieldrep.storage.db import open_database
from fieldrep.sync import api
from fieldrep.sync.engine import SyncEngine


def run(rows: int, database_url: str | None, trace_memory: bool = False) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="fieldrep-bench-sync-"))
    url = normalise_database_url(database_url) if database_url else sqlite_url(folder / "s.db")
    served_territory.seed_server(url, f"杭州-{uuid.uuid4().hex[:6]}", rows)
    keyring.set_keyring(served_territory.MemoryKeyring())
    with served_territory.serving(url) as base_url:
        db = folder / "client.db"
        open_database(db).dispose()
        api.login(db, base_url, served_territory.USERNAME, served_territory.PASSWORD)
        engine = SyncEngine(db, pull_limit=5000)

        if trace_memory:
            tracemalloc.start()
        started = time.perf_counter()
        first = engine.sync()
        first_seconds = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory() if trace_memory else (0, 0)
        tracemalloc.stop()

        with engine.engine.begin() as connection:
            ids = connection.execute(text("SELECT id FROM follow_up LIMIT 1000")).scalars().all()
            for number, row_id in enumerate(ids):
                connection.execute(
                    text("UPDATE follow_up SET result = :r WHERE id = :i"),
                    {"r": f"已送样品 {number}", "i": row_id},
                )
        started = time.perf_counter()
        pushed = engine.sync()
        push_seconds = time.perf_counter() - started
        quiet = engine.sync()
        engine.close()
    return {
        "rows": rows,
        "server": "postgresql" if database_url else "sqlite",
        "first_sync_seconds": round(first_seconds, 2),
        "first_sync_rows_per_second": round(first.pulled / first_seconds),
        "first_sync_pages": first.pages,
        "client_peak_python_mib": round(peak / 2**20, 1) if trace_memory else None,
        "push_1000_edits_seconds": round(push_seconds, 3),
        "push_pushed": pushed.pushed,
        "quiet_sync_pushed_pulled": [quiet.pushed, quiet.pulled],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument(
        "--trace-memory", action="store_true", help="peak Python memory (slows the sync)"
    )
    args = parser.parse_args()
    result = run(args.rows, args.database_url, args.trace_memory)
    print(json.dumps(result, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
