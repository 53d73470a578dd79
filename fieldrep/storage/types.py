"""Column types that keep values exact on SQLite and PostgreSQL alike.

SQLite has no decimal or time-zone aware types, so money is stored as canonical
decimal text and instants as UTC ISO 8601 text: lossless, comparable and the same
bytes that cross the sync wire.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import uuid_utils
from sqlalchemy import Dialect, String, Text
from sqlalchemy.types import TypeDecorator

from fieldrep.storage.enums import LabelledEnum


def new_id() -> str:
    """A UUIDv7 made locally: sortable by creation, unique without a server."""
    return str(uuid_utils.uuid7())


def utcnow() -> datetime:
    return datetime.now(UTC)


def format_decimal(value: Decimal) -> str:
    """Canonical text of a decimal: no exponent, trailing zeros kept as given."""
    return format(value, "f")


class DecimalText(TypeDecorator[Decimal]):
    """An exact Decimal stored as text (never a float)."""

    impl = String(40)
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, Decimal):
            value = Decimal(str(value))
        return format_decimal(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        return None if value is None else Decimal(value)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware UTC instant stored as ISO 8601 text with microseconds."""

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime; use an aware UTC datetime")
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=UTC)


class EnumCode(TypeDecorator[LabelledEnum]):
    """A :class:`LabelledEnum` stored as its stable code."""

    impl = String(40)
    cache_ok = True

    def __init__(self, enum_class: type[LabelledEnum]) -> None:
        super().__init__()
        self.enum_class = enum_class

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return self.enum_class(value).code

    def process_result_value(self, value: Any, dialect: Dialect) -> LabelledEnum | None:
        return None if value is None else self.enum_class(value)

    def __repr__(self) -> str:
        return "EnumCode()"


class JsonList(TypeDecorator[list[str]]):
    """A list of strings (attendee names, evidence items) stored as JSON text."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: list[str] | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return json.dumps(list(value), ensure_ascii=False)

    def process_result_value(self, value: Any, dialect: Dialect) -> list[str] | None:
        return None if value is None else list(json.loads(value))
