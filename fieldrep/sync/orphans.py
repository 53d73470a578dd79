"""Pulled rows whose parent this device does not have: parked instead of failing every sync.

References between synced rows are deferred foreign keys, checked when a pulled
page commits, so a parent arriving after its child within a page is fine. A row
whose parent never arrives (accepted by a server before it checked references,
or a parent in a stream this device does not hold) would fail the commit of
every page that carries it, forever. So after a page is applied, each of its
rows that names a parent missing here is taken out of its table again and
parked in ``sync_state`` under ``orphan:<table>:<id>`` with its stored values,
and logged; rows that name a parked row are parked with it. The page and its
cursor then commit and the sync goes on.

A parked row comes back as soon as its parents are here (a later page brought
them), and is forgotten when a newer version of it has been applied meanwhile,
or when the rows of its territory leave this device (the territory was taken
from the user, or another user signed in): it is data of a scope the user no
longer has.
Runs inside the apply's transaction with capture off: nothing here is pushed.
"""

from __future__ import annotations

import json
import logging
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from typing import Any

from sqlalchemy import Connection, bindparam, text

from fieldrep.sync.protocol import SCOPE_FIELD, TABLES

log = logging.getLogger(__name__)

PREFIX = "orphan:"
_CHUNK = 400  # ids per IN (...); well under SQLite's variable limit


def _chunks(ids: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(ids), _CHUNK):
        yield list(ids[start : start + _CHUNK])


def _without_parent(connection: Connection, table: str, ids: Sequence[str]) -> set[str]:
    """Rows among ``ids`` of ``table`` that name a row missing from its parent table."""
    found: set[str] = set()
    for name, parent in TABLES[table].references.items():
        statement = text(
            f'SELECT c.id FROM "{table}" AS c WHERE c.id IN :ids AND c."{name}" IS NOT NULL '
            f'AND NOT EXISTS (SELECT 1 FROM "{parent}" AS p WHERE p.id = c."{name}")'
        ).bindparams(bindparam("ids", expanding=True))
        for chunk in _chunks(ids):
            found.update(str(i) for i in connection.execute(statement, {"ids": chunk}).scalars())
    return found


def _children_of(connection: Connection, parent: str, ids: Sequence[str]) -> dict[str, set[str]]:
    """Rows of every table that name one of these rows of ``parent``."""
    found: dict[str, set[str]] = defaultdict(set)
    for table, spec in TABLES.items():
        for name, referenced in spec.references.items():
            if referenced != parent:
                continue
            statement = text(f'SELECT id FROM "{table}" WHERE "{name}" IN :ids').bindparams(
                bindparam("ids", expanding=True)
            )
            for chunk in _chunks(ids):
                found[table].update(
                    str(i) for i in connection.execute(statement, {"ids": chunk}).scalars()
                )
    return found


def _park(connection: Connection, table: str, ids: Sequence[str]) -> None:
    statement = text(f'SELECT * FROM "{table}" WHERE id IN :ids').bindparams(
        bindparam("ids", expanding=True)
    )
    delete = text(f'DELETE FROM "{table}" WHERE id IN :ids').bindparams(
        bindparam("ids", expanding=True)
    )
    for chunk in _chunks(ids):
        for row in connection.execute(statement, {"ids": chunk}):
            values = dict(row._mapping)
            connection.execute(
                text(
                    "INSERT INTO sync_state (key, value) VALUES (:k, :v) "
                    "ON CONFLICT (key) DO UPDATE SET value = excluded.value"
                ),
                {"k": f"{PREFIX}{table}:{values['id']}", "v": json.dumps(values)},
            )
        connection.execute(delete, {"ids": chunk})


def _missing(connection: Connection, table: str, ids: set[str]) -> set[str]:
    """Those of ``ids`` that are not rows of ``table`` here."""
    statement = text(f'SELECT id FROM "{table}" WHERE id IN :ids').bindparams(
        bindparam("ids", expanding=True)
    )
    found: set[str] = set()
    for chunk in _chunks(sorted(ids)):
        found.update(str(i) for i in connection.execute(statement, {"ids": chunk}).scalars())
    return ids - found


def _suspects(
    connection: Connection, applied: Mapping[str, Sequence[tuple[str, Mapping[str, Any]]]]
) -> dict[str, list[str]]:
    """Rows of the page that name a parent missing here, by the page's own values.

    A page names few distinct parents (thousands of contacts, a few hundred
    dealers), so looking those up first keeps a clean page cheap.
    """
    named: dict[str, set[str]] = defaultdict(set)
    for table, rows in applied.items():
        for name, parent in TABLES[table].references.items():
            named[parent].update(str(v[name]) for _, v in rows if v.get(name) is not None)
    missing = {parent: _missing(connection, parent, ids) for parent, ids in named.items()}
    suspects: dict[str, list[str]] = {}
    for table, rows in applied.items():
        references = TABLES[table].references.items()
        ids = [
            row_id
            for row_id, values in rows
            if any(str(values.get(name)) in missing[parent] for name, parent in references)
        ]
        if ids:
            suspects[table] = ids
    return suspects


def park_orphans(
    connection: Connection, applied: Mapping[str, Sequence[tuple[str, Mapping[str, Any]]]]
) -> int:
    """Park the rows of a page (table -> [(id, pulled values)]) whose parent is missing here.

    Rows naming a parked row follow it (they would fail the commit just the same).
    Returns how many rows were parked.
    """
    with_references = {
        table: rows
        for table, rows in applied.items()
        if table in TABLES and TABLES[table].references and rows
    }
    waiting = {
        table: _without_parent(connection, table, ids)
        for table, ids in _suspects(connection, with_references).items()
    }
    parked = 0
    while any(waiting.values()):
        following: dict[str, set[str]] = defaultdict(set)
        for table, ids in waiting.items():
            if not ids:
                continue
            ordered = sorted(ids)
            for child_table, child_ids in _children_of(connection, table, ordered).items():
                following[child_table].update(child_ids)
            _park(connection, table, ordered)
            parked += len(ordered)
            log.warning(
                "parked %d pulled %s row(s) whose parent is not on this device: %s",
                len(ordered),
                table,
                ", ".join(ordered[:20]),
            )
        waiting = following
    return parked


def parked_rows(connection: Connection) -> list[tuple[str, dict[str, Any]]]:
    """Every parked row as (table, stored values)."""
    rows = connection.execute(
        text("SELECT key, value FROM sync_state WHERE key LIKE :p ORDER BY key"),
        {"p": PREFIX + "%"},
    ).all()
    return [(str(key)[len(PREFIX) :].split(":", 1)[0], json.loads(value)) for key, value in rows]


def _exists(connection: Connection, table: str, row_id: str) -> bool:
    query = text(f'SELECT 1 FROM "{table}" WHERE id = :i')
    return connection.execute(query, {"i": row_id}).first() is not None


def _forget(connection: Connection, table: str, row_id: str) -> None:
    connection.execute(
        text("DELETE FROM sync_state WHERE key = :k"), {"k": f"{PREFIX}{table}:{row_id}"}
    )


def forget_territories(connection: Connection, territories: Collection[str]) -> int:
    """Forget the parked rows of these territories; returns how many."""
    gone = [
        (table, str(values["id"]))
        for table, values in parked_rows(connection)
        if values.get(SCOPE_FIELD) in territories
    ]
    for table, row_id in gone:
        _forget(connection, table, row_id)
    if gone:
        log.info("forgot %d parked row(s) of territories no longer held", len(gone))
    return len(gone)


def forget_all(connection: Connection) -> None:
    """Forget every parked row (the database's rows go with its identity)."""
    connection.execute(text("DELETE FROM sync_state WHERE key LIKE :p"), {"p": PREFIX + "%"})


def _parents_here(connection: Connection, table: str, values: Mapping[str, Any]) -> bool:
    return all(
        values.get(name) is None or _exists(connection, parent, str(values[name]))
        for name, parent in TABLES[table].references.items()
    )


def bring_back(connection: Connection) -> int:
    """Put back the parked rows whose parents are here now; returns how many came back.

    A parked row that is in its table again (a newer version was applied) is only
    forgotten. A row coming back may be the parent another parked row waits for.
    """
    restored = 0
    progress = True
    while progress:
        progress = False
        for table, values in parked_rows(connection):
            row_id = str(values["id"])
            if _exists(connection, table, row_id):
                _forget(connection, table, row_id)
                continue
            if not _parents_here(connection, table, values):
                continue
            names = list(values)
            columns = ", ".join(f'"{name}"' for name in names)
            marks = ", ".join("?" for _ in names)
            connection.exec_driver_sql(
                f'INSERT INTO "{table}" ({columns}) VALUES ({marks})',
                tuple(values[name] for name in names),
            )
            _forget(connection, table, row_id)
            restored += 1
            progress = True
    if restored:
        log.info("brought back %d parked row(s) whose parents arrived", restored)
    return restored
