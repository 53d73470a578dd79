"""The running server's own upkeep: change-log pruning (and stale sign-in counts) on a schedule.

Each stream keeps its newest ``log_retention_changes`` change numbers; older
entries are deleted and the stream's horizon moves up, so a device whose cursor
is below it gets 410 and resyncs from a snapshot (:mod:`.pull`). The same pass
forgets login-throttle keys that saw no failure for a day.

Several API workers may run the task at once. Each stream is pruned in a write
transaction of its own (a stream's lock is held only while its own entries go):
on PostgreSQL the transaction first takes a transaction-scoped advisory lock and
a worker that does not get it leaves the pass to the one that has it; on SQLite
write transactions are serialised anyway. Pruning is idempotent (the horizon
only moves up), so a pass repeated by another worker removes nothing more.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from contextlib import suppress
from dataclasses import dataclass
from datetime import datetime

import anyio.to_thread
from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from fieldrep.server.core.db import Database
from fieldrep.server.core.security import utcnow
from fieldrep.server.models import ChangeLog, SyncStream
from fieldrep.server.services import throttle

log = logging.getLogger("fieldrep.server")

#: PostgreSQL advisory lock key of the pruning pass ("FRPL").
PRUNE_LOCK_KEY = 0x4652504C


@dataclass(frozen=True)
class PruneResult:
    """What one pass did; ``skipped`` when another worker was pruning."""

    changes_removed: int = 0
    streams_pruned: int = 0
    throttle_keys_forgotten: int = 0
    skipped: bool = False


def prune_stream(session: Session, territory_id: str, keep: int) -> int:
    """Keep the newest ``keep`` changes of one stream (row-locked); how many entries went."""
    stream = session.get(SyncStream, territory_id, with_for_update=True)
    if stream is None:
        return 0
    horizon = max(stream.horizon, stream.last_change_no - keep)
    if horizon <= stream.horizon:
        return 0
    result = session.execute(
        delete(ChangeLog).where(
            ChangeLog.territory_id == territory_id, ChangeLog.change_no <= horizon
        )
    )
    stream.horizon = horizon
    return int(getattr(result, "rowcount", 0) or 0)


def _took_pass_lock(session: Session, database: Database) -> bool:
    """On PostgreSQL, this transaction's hold on the pruning pass; SQLite needs none."""
    if database.is_sqlite:
        return True
    taken = session.execute(
        text("SELECT pg_try_advisory_xact_lock(:key)"), {"key": PRUNE_LOCK_KEY}
    ).scalar()
    return bool(taken)


def prune_once(database: Database, keep: int, now: datetime) -> PruneResult:
    """One pruning pass over every stream, then the stale throttle keys."""
    with database.read() as session:
        territory_ids = list(session.scalars(select(SyncStream.territory_id)))
    removed = pruned = 0
    for territory_id in territory_ids:

        def work(session: Session, territory_id: str = territory_id) -> int | None:
            if not _took_pass_lock(session, database):
                return None
            return prune_stream(session, territory_id, keep)

        count = database.write(work)
        if count is None:
            return PruneResult(removed, pruned, skipped=True)
        removed += count
        pruned += count > 0

    def forget(session: Session) -> int | None:
        if not _took_pass_lock(session, database):
            return None
        return throttle.forget_stale(session, now)

    forgotten = database.write(forget)
    return PruneResult(removed, pruned, forgotten or 0, skipped=forgotten is None)


Sleep = Callable[[float], Awaitable[None]]


class LogPruner:
    """Runs :func:`prune_once` at start and then every ``interval_s`` seconds.

    Started and stopped by the app's lifespan; each pass runs on a worker thread
    (the database calls block). A pass that fails is logged and the next one runs
    on schedule. ``sleep`` and ``clock`` are injectable for tests.
    """

    def __init__(
        self,
        database: Database,
        keep: int,
        interval_s: float,
        *,
        sleep: Sleep = asyncio.sleep,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.database = database
        self.keep = keep
        self.interval_s = interval_s
        self.sleep = sleep
        self.clock = clock
        self.passes = 0
        self._task: asyncio.Task[None] | None = None

    def tick(self) -> PruneResult | None:
        """One pass now; None when it failed (logged)."""
        try:
            result = prune_once(self.database, self.keep, self.clock())
        except Exception:
            log.exception("change-log pruning failed; the next pass runs on schedule")
            return None
        finally:
            self.passes += 1
        if result.changes_removed or result.throttle_keys_forgotten:
            log.info(
                "pruned %d change-log entries of %d streams, forgot %d sign-in counts",
                result.changes_removed,
                result.streams_pruned,
                result.throttle_keys_forgotten,
            )
        return result

    async def run(self) -> None:
        """Pass, sleep, pass ... until cancelled (a running pass is finished first)."""
        while True:
            await anyio.to_thread.run_sync(self.tick)
            await self.sleep(self.interval_s)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(
                self.run(), name="fieldrep-log-pruner"
            )

    async def stop(self) -> None:
        """Cancel the loop and wait for it to end."""
        task, self._task = self._task, None
        if task is None:
            return
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()
