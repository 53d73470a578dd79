"""Column values between their SQLite storage form and the JSON wire form.

SQLite already stores most values in their lossless wire text (Decimal as
canonical text, dates and UTC instants as ISO 8601), so those cross unchanged.
Booleans (stored 0/1), string lists (stored as JSON text) and times of day
(stored with microseconds) change shape. NULL stays null and "" stays "".
The wire types come from :mod:`fieldrep.sync.protocol`.
"""

from __future__ import annotations

import json
from datetime import time
from typing import Any

from fieldrep.sync.protocol import TABLES, WireType

_META_KINDS = {"id": WireType.STRING, "row_version": WireType.INT, "deleted": WireType.BOOL}


def wire_type(table: str, column: str) -> WireType:
    """The wire type of a column of a synced table."""
    meta = _META_KINDS.get(column)
    if meta is not None:
        return meta
    spec = TABLES[table].fields.get(column)
    return WireType.TEXT if spec is None else spec.wire_type


def to_wire(table: str, column: str, value: Any) -> Any:
    """A stored SQLite value as sent to the server."""
    if value is None:
        return None
    kind = wire_type(table, column)
    if kind is WireType.BOOL:
        return bool(value)
    if kind is WireType.INT:
        return int(value)
    if kind is WireType.JSON_LIST:
        return json.loads(value) if isinstance(value, str) else list(value)
    if kind is WireType.TIME:
        return time.fromisoformat(str(value)).isoformat()
    return value


def to_local(table: str, column: str, value: Any) -> Any:
    """A value from the server as stored in SQLite (the form SQLAlchemy writes)."""
    if value is None:
        return None
    kind = wire_type(table, column)
    if kind is WireType.BOOL:
        return 1 if value else 0
    if kind is WireType.INT:
        return int(value)
    if kind is WireType.JSON_LIST:
        if isinstance(value, str):
            return value
        return json.dumps(list(value), ensure_ascii=False)  # as JsonList stores it
    if kind is WireType.TIME:
        return time.fromisoformat(str(value)).strftime("%H:%M:%S.%f")  # SQLAlchemy's form
    if kind is WireType.JSON:
        return json.dumps(value, ensure_ascii=False)
    return value if isinstance(value, str) else str(value)


def same_local(table: str, column: str, left: Any, right: Any) -> bool:
    """Whether two stored values mean the same (0/1 vs True, time precision)."""
    if left is None or right is None:
        return left is None and right is None
    return bool(to_wire(table, column, left) == to_wire(table, column, right))


def fields_to_wire(table: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {name: to_wire(table, name, value) for name, value in fields.items()}


def fields_to_local(table: str, fields: dict[str, Any]) -> dict[str, Any]:
    return {name: to_local(table, name, value) for name, value in fields.items()}
