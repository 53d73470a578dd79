"""Dealer names in pinyin order: a stored sort key, local derived data.

Chinese readers look a name up by its pinyin (杭州 under H, 重庆 under C), not
by the code points of its characters, so lists ordered by name order by
``dealer.name_sort`` instead (made by migration 0005, indexed with ``deleted``
and with ``abc_class``). The key is the name's syllables in lower case, one
space between them, Latin words and digits kept as they are (``TCL王牌`` reads
``tcl wang pai``), then ``\\x01`` and the name itself. So syllables compare one
by one as in a dictionary (阿那 ``a na`` before 安 ``an``), a reading that starts
another sorts first (安 ``an`` before 安徽 ``an hui``), and names that read alike
keep a fixed order. Phrases read in context through pypinyin's dictionary (重庆
``chong qing``, 长沙 ``chang sha``).

Freshness works like the search index: triggers named ``name_sort_*`` on
``dealer`` call the SQL function ``fr_name_sort_key`` (registered on every
connection FieldRep opens) whenever a dealer is inserted or renamed, whatever
wrote it: the services, raw SQL, rows applied by sync. The column is not in the
ORM model nor in the protocol, and the outbox capture triggers list their
columns explicitly, so the key is never sent to the server. Bulk loads suspend
the triggers and :func:`rebuild_name_sort` fills every key in one statement.
"""

from __future__ import annotations

import logging
import re
import sqlite3
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, literal_column

from fieldrep.storage import derived
from fieldrep.storage.db import register_connect_hook
from fieldrep.storage.search import normalize

log = logging.getLogger("fieldrep.storage")

COLUMN = "name_sort"
TRIGGER_PREFIX = "name_sort_"
SQL_FUNCTION = "fr_name_sort_key"
# Between the reading and the name: below every character a reading holds, so a
# reading that is a prefix of another sorts first whatever the names are.
NAME_SEPARATOR = "\x01"
# ORDER BY this for pinyin order (the dealer table must be in the FROM clause).
DEALER_NAME_SORT: Any = literal_column(f"dealer.{COLUMN}")

# Runs of Han characters (read as pinyin), runs of other letters and digits (kept).
_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_PIECE = re.compile(f"([{_HAN}]+)|[^\\W_{_HAN}]+")

# With the id at the end both cover the dealer list's ids in name order: a list of
# 50,000 is read off the index alone, never from the wide dealer rows.
INDEXES = (
    # The dealer list without filters, and every list of live dealers by name.
    f"CREATE INDEX ix_dealer_live_name_sort ON dealer (deleted, {COLUMN}, id)",
    # The dealer list filtered by class (the filter it is used with most).
    f"CREATE INDEX ix_dealer_class_name_sort ON dealer (abc_class, deleted, {COLUMN}, id)",
)
INDEX_NAMES = ("ix_dealer_live_name_sort", "ix_dealer_class_name_sort")
_SET_KEY = f"UPDATE dealer SET {COLUMN} = {SQL_FUNCTION}(NEW.name) WHERE id = NEW.id;"
TRIGGERS: dict[str, str] = {
    f"{TRIGGER_PREFIX}insert": f"AFTER INSERT ON dealer BEGIN {_SET_KEY} END",
    # Only a rename: an update of the key itself (or of anything else) is left alone.
    f"{TRIGGER_PREFIX}rename": f"AFTER UPDATE OF name ON dealer "
    f"WHEN NEW.name IS NOT OLD.name BEGIN {_SET_KEY} END",
}


@lru_cache(maxsize=8192)
def _segment_syllables(segment: str) -> tuple[str, ...]:
    # pypinyin loads its dictionaries on import (a fifth of a second): imported on
    # the first key, not when the database opens.
    from pypinyin import Style, pinyin

    return tuple(options[0] for options in pinyin(segment, style=Style.NORMAL, strict=False))


def _han_syllables(run: str) -> list[str]:
    # Segmenting first and caching per segment is ten times faster than
    # lazy_pinyin on the whole name (bulk loads key 50,000 names).
    from pypinyin.seg.simpleseg import seg

    syllables: list[str] = []
    for segment in seg(run):
        syllables.extend(_segment_syllables(segment))
    return syllables


def reading(name: str) -> str:
    """The name as it is looked up: pinyin syllables and Latin words, lower case."""
    words: list[str] = []
    for match in _PIECE.finditer(normalize(name)):
        if match.group(1):
            words.extend(_han_syllables(match.group(1)))
        else:
            words.append(match.group(0))
    return " ".join(words)


def name_sort_key(name: str) -> str:
    """The stored sort key of a dealer name."""
    return reading(name) + NAME_SEPARATOR + name


def _sql_name_sort_key(name: object) -> str | None:
    # Called by triggers inside the caller's write: a fault here must not refuse
    # the dealer being saved. The name itself is stored as the key instead (code
    # point order for that one row) and the fault is logged; a rebuild repairs it.
    if name is None:
        return None
    text = name if isinstance(name, str) else str(name)
    try:
        return name_sort_key(text)
    except Exception:
        log.exception("sorting: cannot make the sort key of a dealer name")
        return NAME_SEPARATOR + text


def install_functions(connection: sqlite3.Connection) -> None:
    """Register the SQL function the sort key triggers call on one sqlite3 connection."""
    connection.create_function(SQL_FUNCTION, 1, _sql_name_sort_key, deterministic=True)


register_connect_hook(install_functions)


def _install_on(connection: Connection) -> None:
    # FieldRep's connections have the function from the connect hook; this is for
    # a connection made elsewhere. SQLite refuses to replace a function that a
    # prepared statement (a trigger that ran) still uses: then it is there already.
    driver = connection.connection.driver_connection
    if isinstance(driver, sqlite3.Connection):
        try:
            install_functions(driver)
        except sqlite3.OperationalError:
            log.debug("sorting: %s is in use on this connection", SQL_FUNCTION)


def rebuild_name_sort(connection: Connection) -> None:
    """Recompute every dealer's key in one statement (bulk loads, migration 0005).

    Only the key column is written: no other trigger on ``dealer`` fires for it,
    and the outbox capture sees no captured column change.
    """
    _install_on(connection)
    connection.exec_driver_sql(f"UPDATE dealer SET {COLUMN} = {SQL_FUNCTION}(name)")


def install_name_sort(connection: Connection) -> None:
    """Add the key column, its indexes and triggers, and fill it (migration 0005)."""
    connection.exec_driver_sql(f"ALTER TABLE dealer ADD COLUMN {COLUMN} TEXT")
    rebuild_name_sort(connection)
    for statement in INDEXES:
        connection.exec_driver_sql(statement)
    for name, body in TRIGGERS.items():
        connection.exec_driver_sql(f'CREATE TRIGGER "{name}" {body}')


def uninstall_name_sort(connection: Connection) -> None:
    """Drop the triggers, indexes and column (migration 0005 downgrade)."""
    for name in TRIGGERS:
        connection.exec_driver_sql(f'DROP TRIGGER IF EXISTS "{name}"')
    for index in INDEX_NAMES:
        connection.exec_driver_sql(f'DROP INDEX IF EXISTS "{index}"')
    connection.exec_driver_sql(f"ALTER TABLE dealer DROP COLUMN {COLUMN}")


derived.register(derived.DerivedData("name_sort", TRIGGER_PREFIX, rebuild_name_sort))
