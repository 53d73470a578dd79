"""SIGKILL a syncing client at many moments: the database stays intact, nothing is
lost, and the next sync converges (SYNC.md invariant 11)."""

from __future__ import annotations

import os
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
import uvicorn
from sqlalchemy import text
from sync_kill_worker import FileKeyring
from synce2e import PASSWORD, Device, World, assert_converged, fresh_database, make_world

from fieldrep.sync import api

KILLS = int(os.environ.get("FIELDREP_SYNC_KILLS", "20"))
WORKER = Path(__file__).with_name("sync_kill_worker.py")


@pytest.fixture
def served(tmp_path: Path, home: Path) -> Iterator[tuple[World, str]]:
    """The real app over loopback HTTP (uvicorn in a thread)."""
    world = make_world(tmp_path)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(world.app, log_level="error", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("server did not start")
        time.sleep(0.01)  # waiting for start-up, not a timed assertion
    try:
        yield world, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join()
        sock.close()
        world.transport.shutdown()
        world.database.dispose()


@pytest.mark.slow
def test_sigkill_during_sync_leaves_an_intact_database_that_converges(
    served: tuple[World, str], tmp_path: Path
) -> None:
    world, url = served
    keyring_file = tmp_path / "keyring.json"
    previous = keyring.get_keyring()
    keyring.set_keyring(FileKeyring(keyring_file))
    try:
        db = tmp_path / "alice.db"
        fresh_database(db)
        api.login(db, url, "alice", PASSWORD)
        chooser = random.Random(20261125)
        env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(WORKER.parent), str(Path.cwd())])}
        stages: list[str] = []
        for kill in range(KILLS):
            worker = subprocess.Popen(
                [sys.executable, str(WORKER), str(db), str(keyring_file), f"k{kill}"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=env,
                text=True,
            )
            assert worker.stdout is not None
            lines_before_kill = chooser.randint(1, 40)
            last = ""
            for _ in range(lines_before_kill):
                last = worker.stdout.readline().strip()
                if not last:
                    break
            # A little jitter so the kill lands inside transactions, not only at prints.
            time.sleep(chooser.random() * 0.02)
            worker.send_signal(signal.SIGKILL)
            _, errors = worker.communicate()
            assert worker.returncode == -signal.SIGKILL, errors
            stages.append(last)
            with Device.open_existing(world, db) as device, device.engine.connect() as connection:
                assert connection.exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
        # Killed in many different phases, not only between cycles.
        assert len(set(stages)) >= 3, stages

        with Device.open_existing(world, db) as device:
            with device.engine.connect() as connection:
                local_names = set(connection.execute(text("SELECT name FROM dealer")).scalars())
            device.sync_over_http()
            device.sync_over_http()
            assert device.outbox() == []
            assert_converged(world, device)
            with device.engine.connect() as connection:
                after = set(connection.execute(text("SELECT name FROM dealer")).scalars())
            assert local_names <= after  # nothing committed locally was lost
            quiet = device.sync_over_http()
            assert (quiet.pushed, quiet.pulled) == (0, 0)
    finally:
        keyring.set_keyring(previous)
