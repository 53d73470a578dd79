"""Server-side sync throughput over loopback HTTP (no client database involved).

Serves a server database (SQLite file, or PostgreSQL with ``--db URL``) with
uvicorn on 127.0.0.1 and measures, with a plain httpx client:

- ``seed``: pushing ``--rows`` new dealers in batches of 5,000 ops (rows/s);
- ``snapshot``: a first pull of the whole territory in pages (rows/s, the
  server's part of the >= 10,000 rows/s first-sync target);
- ``push_1000``: one batch of 1,000 edits of existing rows (seconds; target <= 1 s);
- ``log_pull``: pulling those 1,000 edits back in log mode (seconds);
- ``quiet``: a pull with nothing new (changes transferred; target 0);
- ``concurrent``: 4 devices pushing 20 batches of 50 edits at once (ops/s).

Run: ``python benchmarks/bench_sync_server.py [--rows N] [--db URL] [--page N]``.
"""

from __future__ import annotations

import argparse
import json
import socket
import tempfile
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from sqlalchemy import create_engine, text

from fieldrep.server.core.config import Settings, normalise_database_url, sqlite_url
from fieldrep.server.core.db import Database, open_server_database
from fieldrep.server.core.security import Passwords, new_id
from fieldrep.server.main import create_app
from fieldrep.server.services import admin
from fieldrep.sync.protocol import PROTOCOL_HEADER, PROTOCOL_VERSION

PASSWORD = "benchmark password"
PASSWORDS = Passwords(time_cost=1, memory_kib=8, parallelism=1)


def _dealer(territory_id: str, number: int) -> dict[str, Any]:
    return {
        "territory_id": territory_id,
        "name": f"杭州恒达商贸有限公司{number:06d}",
        "short_name": f"恒达{number}",
        "province": "浙江",
        "city": "杭州",
        "district": "西湖区",
        "address": f"文一西路 {number} 号",
        "phone": f"0571-{number:08d}",
        "legal_rep": "张三",
        "abc_class": "ABC"[number % 3],
        "lifecycle_status": "cooperating",
        "status": "active",
        "tier": "dealer",
        "is_key_account": number % 10 == 0,
        "is_benchmark": False,
        "has_business_license": True,
        "credit_limit": f"{number * 10}.50",
        "registered_capital": "5000000.00",
        "relationship_start_date": "2020-03-01",
        "notes": "首次拜访：老板在，仓库较大，主营办公电脑。",
        "created_at": "2026-11-20T08:00:00.000000Z",
    }


class Server:
    """uvicorn in a thread on a free loopback port."""

    def __init__(self, settings: Settings, database: Database) -> None:
        app = create_app(settings, database=database)
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port = int(self.socket.getsockname()[1])
        config = uvicorn.Config(app, log_config=None, access_log=False, log_level="warning")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, args=([self.socket],), daemon=True)

    def __enter__(self) -> str:
        self.thread.start()
        while not self.server.started:
            time.sleep(0.01)
        return f"http://127.0.0.1:{self.port}"

    def __exit__(self, *_exc: object) -> None:
        self.server.should_exit = True
        self.thread.join()
        self.socket.close()


class Device:
    def __init__(self, http: httpx.Client, username: str) -> None:
        response = http.post("/v1/auth/login", json={"username": username, "password": PASSWORD})
        response.raise_for_status()
        body = response.json()
        self.http = http
        self.device_id = body["device_id"]
        self.headers = {
            "Authorization": f"Bearer {body['access_token']}",
            PROTOCOL_HEADER: str(PROTOCOL_VERSION),
        }
        self.cursors: dict[str, str] = {}

    def push(self, ops: list[dict[str, Any]]) -> dict[str, Any]:
        body = {"device_id": self.device_id, "batch_id": str(uuid.uuid4()), "ops": ops}
        response = self.http.post("/v1/sync/push", json=body, headers=self.headers)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def pull_all(self, page: int) -> int:
        count = 0
        while True:
            body = {"cursors": self.cursors, "limit": page}
            response = self.http.post("/v1/sync/pull", json=body, headers=self.headers)
            response.raise_for_status()
            data = response.json()
            count += len(data["changes"])
            self.cursors = data["cursors"]
            if not data["has_more"]:
                return count


def _op(row_id: str, fields: dict[str, Any], base: dict[str, Any] | None = None) -> dict[str, Any]:
    return {
        "op_id": str(uuid.uuid4()),
        "table": "dealer",
        "row_id": row_id,
        "kind": "upsert",
        "fields": fields,
        "base": base or {},
        "base_version": 1,
    }


def run(database: Database, rows: int, page: int) -> dict[str, Any]:
    settings = Settings(database_url=database.url, secret="benchmark-secret-" + "x" * 32)
    admin.initialise(database)
    territory = admin.add_territory(database, "杭州")
    for number in range(5):
        admin.add_user(database, PASSWORDS, f"rep{number}", PASSWORD, role="rep")
        admin.assign(database, f"rep{number}", "杭州")
    results: dict[str, Any] = {"backend": "sqlite" if database.is_sqlite else "postgresql"}
    with (
        Server(settings, database) as base_url,
        httpx.Client(base_url=base_url, timeout=600) as http,
    ):
        writer = Device(http, "rep0")
        ids = [new_id() for _ in range(rows)]
        started = time.perf_counter()
        for start in range(0, rows, 5000):
            writer.push(
                [
                    _op(i, _dealer(territory, n))
                    for n, i in enumerate(ids[start : start + 5000], start)
                ]
            )
        elapsed = time.perf_counter() - started
        if not database.is_sqlite:
            # What autovacuum does within a minute of a bulk load: without column
            # statistics PostgreSQL plans "id IN (500 ids)" as a full scan.
            with database.engine.begin() as connection:
                connection.execute(text("ANALYZE"))
        results["seed"] = {
            "rows": rows,
            "seconds": round(elapsed, 2),
            "rows_per_s": round(rows / elapsed),
        }

        reader = Device(http, "rep1")
        started = time.perf_counter()
        pulled = reader.pull_all(page)
        elapsed = time.perf_counter() - started
        results["snapshot"] = {
            "rows": pulled,
            "page": page,
            "seconds": round(elapsed, 2),
            "rows_per_s": round(pulled / elapsed),
        }

        edits = [_op(i, {"city": "余杭"}, {"city": "杭州"}) for i in ids[:1000]]
        started = time.perf_counter()
        answer = writer.push(edits)
        results["push_1000"] = {
            "seconds": round(time.perf_counter() - started, 3),
            "statuses": sorted({r["status"] for r in answer["results"]}),
        }

        started = time.perf_counter()
        pulled = reader.pull_all(page)
        results["log_pull"] = {"rows": pulled, "seconds": round(time.perf_counter() - started, 3)}
        results["quiet"] = {"rows": reader.pull_all(page)}

        devices = [Device(http, f"rep{n}") for n in range(1, 5)]

        def hammer(index: int) -> int:
            device = devices[index]
            for batch in range(20):
                chunk = ids[(index * 20 + batch) * 50 : (index * 20 + batch + 1) * 50]
                device.push([_op(i, {"notes": f"设备{index} 批次{batch}"}) for i in chunk])
            return 20 * 50

        started = time.perf_counter()
        with ThreadPoolExecutor(4) as pool:
            total = sum(pool.map(hammer, range(4)))
        elapsed = time.perf_counter() - started
        results["concurrent"] = {
            "ops": total,
            "seconds": round(elapsed, 2),
            "ops_per_s": round(total / elapsed),
        }
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--page", type=int, default=5000)
    parser.add_argument("--db", help="postgresql+psycopg:// URL (a scratch schema is made in it)")
    args = parser.parse_args()
    if args.db:
        url = normalise_database_url(args.db)
        schema = f"fr_bench_{uuid.uuid4().hex[:8]}"
        owner = create_engine(url)
        with owner.begin() as connection:
            connection.execute(text(f'CREATE SCHEMA "{schema}"'))
        database = open_server_database(url, connect_args={"options": f"-csearch_path={schema}"})
        try:
            print(json.dumps(run(database, args.rows, args.page), ensure_ascii=False, indent=2))
        finally:
            database.dispose()
            with owner.begin() as connection:
                connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            owner.dispose()
        return
    with tempfile.TemporaryDirectory() as folder:
        database = open_server_database(sqlite_url(Path(folder) / "server.db"))
        try:
            print(json.dumps(run(database, args.rows, args.page), ensure_ascii=False, indent=2))
        finally:
            database.dispose()


if __name__ == "__main__":
    main()
