"""A sync server holding one seeded territory, run by uvicorn in its own process.

Shared by the benchmarks that sync a real client against it (bench_sync, and
bench_gui's sync stall). The server runs in its own process, as deployed: client
and server do not share one interpreter lock.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
from keyring.backend import KeyringBackend
from sqlalchemy.orm import Session

from fieldrep.server.core.db import Database, open_server_database
from fieldrep.server.core.security import Passwords
from fieldrep.server.services import admin
from fieldrep.server.services.rowstore import ChangeWriter
from fieldrep.sync.protocol import TABLES, WireType

ROOT = Path(__file__).resolve().parent.parent
USERNAME = "rep"
PASSWORD = "benchmark password"
SECRET = "benchmark-secret-that-is-long-enough"
START_ATTEMPTS = 300  # of 0.1 s each: a seeded server is up within seconds


class MemoryKeyring(KeyringBackend):
    """Keeps the client's tokens in this process, away from the machine's keyring."""

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


def _seed(database: Database, territory: str, rows: int) -> None:
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


def _territory_name(database: Database, territory_id: str) -> str:
    from fieldrep.server.models import Territory

    with database.read() as session:
        return str(session.get(Territory, territory_id).name)


def seed_server(url: str, territory_name: str, rows: int) -> None:
    """Set up the server database at ``url``: the rep, assigned to one territory of
    ``rows`` rows in the proportions of ``MIX``."""
    database = open_server_database(url)
    try:
        admin.initialise(database)
        admin.add_user(database, Passwords(1, 8, 1), USERNAME, PASSWORD, role="rep")
        territory = admin.add_territory(database, territory_name)
        admin.assign(database, USERNAME, _territory_name(database, territory))
        _seed(database, territory, rows)
    finally:
        database.dispose()


def _free_port() -> int:
    probe = socket.socket()
    probe.bind(("127.0.0.1", 0))
    port = int(probe.getsockname()[1])
    probe.close()
    return port


@contextmanager
def serving(url: str) -> Iterator[str]:
    """The server on the database at ``url`` under uvicorn in its own process, up
    (its /health answers) for the block; yields its base URL, stops it after."""
    port = _free_port()
    environment = {
        **os.environ,
        "FIELDREP_SERVER_DATABASE_URL": url,
        "FIELDREP_SERVER_SECRET": SECRET,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    command = [sys.executable, "-m", "uvicorn", "fieldrep.server.main:create_app", "--factory"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "error"]
    # Its stdout stays out of ours: bench_gui's child reports on stdout.
    server = subprocess.Popen(command, env=environment, stdout=subprocess.DEVNULL, cwd=str(ROOT))
    base_url = f"http://127.0.0.1:{port}"
    try:
        for _attempt in range(START_ATTEMPTS):
            try:
                if httpx.get(base_url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            time.sleep(0.1)  # waiting for start-up, not a measurement
        else:
            raise RuntimeError("the benchmark sync server did not come up")
        yield base_url
    finally:
        server.terminate()
        server.wait()
