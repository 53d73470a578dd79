"""Local derived data kept current by SQLite triggers, and bulk loading around it.

Search index, visit statistics and the dealer name sort key are derived from
synced rows by triggers made in migrations. A bulk load (demo territory, first
sync snapshot) drops those triggers, inserts fast, then recreates them from the
very SQL they were made with and rebuilds each derived table (or column) once.
Derived data is local: never synced.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import Connection, text

log = logging.getLogger("fieldrep.storage")


@dataclass(frozen=True)
class DerivedData:
    """A family of derived tables: its trigger name prefix and how to rebuild it."""

    name: str
    trigger_prefix: str
    rebuild: Callable[[Connection], None]


_registry: dict[str, DerivedData] = {}


def register(derived: DerivedData) -> None:
    _registry[derived.name] = derived


def registered() -> list[DerivedData]:
    # Importing the owners registers them; import here to avoid import cycles.
    import importlib

    for module in (
        "fieldrep.storage.search",
        "fieldrep.storage.cadence",
        "fieldrep.storage.sorting",
    ):
        try:
            importlib.import_module(module)
        except ModuleNotFoundError:
            log.debug("derived data module %s not present", module)
    return list(_registry.values())


def rebuild_all(connection: Connection) -> None:
    for derived in registered():
        derived.rebuild(connection)


@contextmanager
def triggers_suspended(connection: Connection) -> Iterator[int]:
    """Drop every derived-data trigger for the block, then recreate it from its own SQL.

    Yields how many triggers were dropped. Runs inside the caller's transaction:
    if the block fails, the triggers come back with the rollback.
    """
    saved: list[tuple[str, str]] = []
    for derived in registered():
        rows = connection.execute(
            text("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE :p"),
            {"p": derived.trigger_prefix + "%"},
        ).all()
        for name, sql in rows:
            saved.append((str(name), str(sql)))
            connection.exec_driver_sql(f'DROP TRIGGER "{name}"')
    yield len(saved)
    for _name, sql in saved:
        connection.exec_driver_sql(sql)


@contextmanager
def bulk_load(connection: Connection) -> Iterator[None]:
    """Suspend derived-data triggers for a bulk insert, then rebuild once.

    Runs inside the caller's transaction: if the load fails, the triggers come
    back with the rollback.
    """
    with triggers_suspended(connection):
        yield
    rebuild_all(connection)
