"""The running server prunes its change log on a schedule; devices behind the horizon resync.

The schedule is driven without sleeping: the pruner's sleep is replaced by one
that hands control to the test, and passes are also called directly.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import datetime

import pytest
from servertest import ApiClient, World
from sqlalchemy import create_engine, func, select, text

from fieldrep.server.core.config import Settings
from fieldrep.server.core.db import Database
from fieldrep.server.core.security import utcnow
from fieldrep.server.main import create_app
from fieldrep.server.models import ChangeLog, SyncStream
from fieldrep.server.services import maintenance
from fieldrep.server.services.maintenance import PRUNE_LOCK_KEY, LogPruner, prune_once

pytestmark = pytest.mark.anyio


class SteppedSleep:
    """A sleep that blocks until the test lets the next pass run."""

    def __init__(self) -> None:
        self.calls: list[float] = []
        self.asleep = asyncio.Event()
        self._wake = asyncio.Event()

    async def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)
        self.asleep.set()
        await self._wake.wait()
        self._wake.clear()

    async def next_pass(self) -> None:
        """Wake the sleeper and wait until it sleeps again (one more pass ran)."""
        self.asleep.clear()
        self._wake.set()
        await self.asleep.wait()


def log_size(database: Database, territory_id: str) -> int:
    with database.read() as session:
        query = select(func.count()).where(ChangeLog.territory_id == territory_id)
        return int(session.scalar(query) or 0)


def horizon(database: Database, territory_id: str) -> int:
    with database.read() as session:
        stream = session.get(SyncStream, territory_id)
        assert stream is not None
        return stream.horizon


async def test_a_pass_prunes_each_stream_once_and_a_device_behind_gets_410(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    await bob.pull()
    for number in range(5):
        await alice.insert_dealer(world.t1, f"店{number}")
    before = log_size(world.database, world.t1)
    pruner = LogPruner(world.database, keep=2, interval_s=3600)
    result = pruner.tick()
    assert result is not None and not result.skipped
    assert result.changes_removed == before - 2
    assert log_size(world.database, world.t1) == 2
    # Idempotent: a second pass (say, another worker's) removes nothing more.
    again = pruner.tick()
    assert again is not None and again.changes_removed == 0
    response = await bob.pull_page()
    assert response.status_code == 410
    assert response.json()["code"] == "cursor_too_old"
    bob.cursors = {}
    assert len([c for c in await bob.pull() if c.table == "dealer"]) == 5
    # alice pulled nothing yet either: her empty cursor means a snapshot, never 410.
    assert (await alice.pull_page()).status_code == 200


async def test_the_app_prunes_on_schedule_and_stops_with_its_lifespan(
    alice: ApiClient, world: World
) -> None:
    pruner = world.app.state.fieldrep.pruner
    assert isinstance(pruner, LogPruner)
    assert pruner.interval_s == world.settings.log_prune_interval_minutes * 60
    pruner.keep = 3
    sleep = SteppedSleep()
    pruner.sleep = sleep
    async with world.app.router.lifespan_context(world.app):
        await sleep.asleep.wait()  # the pass at start-up ran
        assert pruner.running and pruner.passes == 1
        assert sleep.calls == [3600.0]
        first_horizon = horizon(world.database, world.t1)
        for number in range(4):
            await alice.insert_dealer(world.t1, f"店{number}")
        await sleep.next_pass()
        assert pruner.passes == 2
        assert log_size(world.database, world.t1) == 3
        assert horizon(world.database, world.t1) > first_horizon
    assert not pruner.running
    assert pruner.passes == 2


async def test_a_failing_pass_is_logged_and_the_schedule_goes_on(
    world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[int] = []

    def broken(database: Database, keep: int, now: datetime) -> maintenance.PruneResult:
        calls.append(keep)
        if len(calls) == 1:
            raise RuntimeError("disk full")
        return maintenance.PruneResult()

    monkeypatch.setattr(maintenance, "prune_once", broken)
    sleep = SteppedSleep()
    pruner = LogPruner(world.database, keep=10, interval_s=5, sleep=sleep)
    with caplog.at_level(logging.ERROR, logger="fieldrep.server"):
        pruner.start()
        await sleep.asleep.wait()
        await sleep.next_pass()
        await pruner.stop()
    assert calls == [10, 10]
    assert "change-log pruning failed" in caplog.text
    assert not pruner.running


def test_pruning_can_be_switched_off(database: Database, settings: Settings) -> None:
    off = settings.model_copy(update={"log_prune_interval_minutes": 0})
    assert create_app(off, database=database).state.fieldrep.pruner is None


async def test_on_postgresql_a_pass_leaves_the_work_to_the_worker_holding_the_lock(
    alice: ApiClient, world: World
) -> None:
    if world.database.is_sqlite:
        pytest.skip("advisory locks are PostgreSQL's; SQLite serialises write transactions")
    for number in range(3):
        await alice.insert_dealer(world.t1, f"店{number}")
    other_worker = create_engine(world.database.url)
    try:
        with other_worker.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(:key)"), {"key": PRUNE_LOCK_KEY})
            skipped = prune_once(world.database, 0, utcnow())
            assert skipped.skipped and skipped.changes_removed == 0
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": PRUNE_LOCK_KEY})
        done = prune_once(world.database, 0, utcnow())
        assert not done.skipped and done.changes_removed > 0
        assert log_size(world.database, world.t1) == 0
    finally:
        other_worker.dispose()
