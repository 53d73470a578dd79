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
import os
import socket
import subprocess
import sys
import tempfile
import time
import tracemalloc
import uuid
from pathlib import Path
from typing import Any

import httpx
import keyring
from keyring.backend import KeyringBackend
from sqlalchemy import text
from sqlalchemy.orm import Session

from fieldrep.server.core.config import Settings, normalise_database_url, sqlite_url
from fieldrep.server.core.db import open_server_database
from fieldrep.server.core.security import Passwords
from fieldrep.server.services import admin
from fieldrep.server.services.rowstore import ChangeWriter
from fieldrep.storage.db import open_database
from fieldrep.sync import api
from fieldrep.sync.engine import SyncEngine
from fieldrep.sync.protocol import TABLES, WireType

PASSWORD = "benchmark password"


class _MemoryKeyring(KeyringBackend):
    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.secrets: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.secrets.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.secrets[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        self.secrets.pop((service, username), None)


def _scalar_defaults(table: str) -> dict[str, Any]:
    from fieldrep.storage.models import Base
    from fieldrep.sync.values import to_wire

    found: dict[str, Any] = {}
    for column in Base.metadata.tables[table].columns:
        default = column.default
        if default is not None and getattr(default, "is_scalar", False):
            value = default.arg  # type: ignore[attr-defined]
            found[column.name] = to_wire(table, column.name, getattr(value, "code", value))
    found.pop("deleted", None)
    found.pop("row_version", None)
    return found


_SAMPLES = {
    WireType.STRING: "0190a000-0000-7000-8000-0000000000a1",
    WireType.TEXT: "拜访记录：讨论了下季度的促销政策和库存",
    WireType.INT: 3,
    WireType.BOOL: False,
    WireType.DECIMAL: "1234.50",
    WireType.DATE: "2026-03-31",
    WireType.TIME: "09:30:00",
    WireType.DATETIME: "2026-03-31T01:30:00.000000Z",
    WireType.JSON_LIST: ["样品", "价目表"],
}
# A territory as reps have it: few dealers, many visits, contacts, follow-ups, figures.
MIX = (
    ("dealer", 2),
    ("contact", 10),
    ("contact_record", 40),
    ("follow_up", 20),
    ("sales_figure", 28),
)


def _row(table: str, index: int, dealer_ids: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = dict.fromkeys(TABLES[table].fields)
    for name, spec in TABLES[table].fields.items():
        if spec.required and name not in ("territory_id", "updated_at"):
            values[name] = spec.choices[0] if spec.choices else _SAMPLES.get(spec.wire_type, "x")
    values.update(_scalar_defaults_cache[table])
    values["created_at"] = "2026-01-01T00:00:00.000000Z"
    if "dealer_id" in values and dealer_ids:
        values["dealer_id"] = dealer_ids[index % len(dealer_ids)]
    if table == "dealer":
        values.update(
            name=f"杭州恒达电器经销商{index:06d}", city="杭州", abc_class="ABC"[index % 3]
        )
    elif "title" in values:
        values["title"] = f"跟进事项 {index}"
    return values


_scalar_defaults_cache = {table: _scalar_defaults(table) for table, _share in MIX}


def _seed(database: Any, territory: str, rows: int) -> None:
    plan: list[str] = []
    for table, share in MIX:
        plan.extend([table] * max(1, rows * share // 100))
    plan = plan[:rows]
    dealer_ids: list[str] = []
    batch = 5000
    for start in range(0, len(plan), batch):

        def work(session: Session, start: int = start) -> None:
            writer = ChangeWriter(session, user_id="benchmark", device_id=None)
            writer.lock_streams([territory])
            for index in range(start, min(len(plan), start + batch)):
                table = plan[index]
                row_id = str(uuid.uuid4())
                writer.insert(table, row_id, territory, _row(table, index, dealer_ids))
                if table == "dealer":
                    dealer_ids.append(row_id)

        database.write(work)


def run(rows: int, database_url: str | None, trace_memory: bool = False) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="fieldrep-bench-sync-"))
    url = normalise_database_url(database_url) if database_url else sqlite_url(folder / "s.db")
    database = open_server_database(url)
    settings = Settings(
        database_url=url,
        secret="benchmark-secret-that-is-long-enough",
        argon2_time_cost=1,
        argon2_memory_kib=8,
        argon2_parallelism=1,
    )
    admin.initialise(database)
    admin.add_user(database, Passwords(1, 8, 1), "rep", PASSWORD, role="rep")
    territory = admin.add_territory(database, f"杭州-{uuid.uuid4().hex[:6]}")
    admin.assign(database, "rep", admin_territory_name(database, territory))
    _seed(database, territory, rows)

    # The server runs in its own process (as deployed): client and server do not
    # share one interpreter lock.
    database.dispose()
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = probe.getsockname()[1]
    probe.close()
    env = {
        **os.environ,
        "FIELDREP_SERVER_DATABASE_URL": url,
        "FIELDREP_SERVER_SECRET": settings.secret or "",
        "PYTHONPATH": os.pathsep.join([str(Path.cwd()), os.environ.get("PYTHONPATH", "")]),
    }
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "fieldrep.server.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--log-level",
            "error",
        ],
        env=env,
    )
    base_url = f"http://127.0.0.1:{port}"
    for _attempt in range(300):
        try:
            if httpx.get(base_url + "/health", timeout=1).status_code == 200:
                break
        except httpx.TransportError:
            pass
        time.sleep(0.1)
    keyring.set_keyring(_MemoryKeyring())
    try:
        db = folder / "client.db"
        open_database(db).dispose()
        api.login(db, base_url, "rep", PASSWORD)
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
    finally:
        server.terminate()
        server.wait()
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


def admin_territory_name(database: Any, territory_id: str) -> str:
    from fieldrep.server.models import Territory

    with database.read() as session:
        return str(session.get(Territory, territory_id).name)


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
