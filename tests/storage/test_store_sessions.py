"""Store sessions: reads never queue behind a writer, writes take the lock up front."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.exc import OperationalError

from fieldrep.storage.models import Dealer
from fieldrep.storage.services.core import Record, Store


def _lock_timeout(engine: Engine, milliseconds: int) -> None:
    """Make lock waits fail fast for this test (the app waits 10 s)."""
    from sqlalchemy import event

    def shorten(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.execute(f"PRAGMA busy_timeout={milliseconds}")

    event.listen(engine, "connect", shorten)
    engine.dispose()


def test_a_read_sees_committed_rows_while_a_writer_holds_the_lock(
    store: Store, engine: Engine, make_dealer: Callable[..., Record]
) -> None:
    make_dealer(name="杭州恒达商贸")
    _lock_timeout(engine, 50)
    with engine.connect() as writer:
        writer.begin()  # BEGIN IMMEDIATE: the write lock, as a sync page holds it
        writer.execute(text("UPDATE dealer SET city = '宁波' WHERE name = '杭州恒达商贸'"))
        with store.read() as session:
            names = session.scalars(select(Dealer.name).where(Dealer.deleted.is_(False))).all()
            city = session.scalar(select(Dealer.city).where(Dealer.name == "杭州恒达商贸"))
        writer.rollback()
    assert "杭州恒达商贸" in names
    assert city != "宁波"  # the uncommitted write is not visible


def test_a_write_still_takes_the_lock_up_front(store: Store, engine: Engine) -> None:
    with store.write() as session:
        session.scalar(select(func.count()).select_from(Dealer))
        # Another writer cannot start while this transaction is open.
        _lock_timeout(engine, 50)
        with engine.connect() as other, pytest.raises(OperationalError, match="locked"):
            other.begin()
