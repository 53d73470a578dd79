"""Helpers the entity services share: cleaning caller values before a write.

Services accept typed values (``date``, ``Decimal``, enum members) or the text a
user typed (``"2026-03-31"``, ``"A"``, ``"是"``); text is parsed with
:func:`fieldrep.storage.fields.parse_field_value`, so every front end gets the
same conversions and the same field-naming errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import String, Text

from fieldrep.storage.errors import FieldProblem, ValidationError
from fieldrep.storage.fields import (
    REASON_NOT_EDITABLE,
    REASON_UNKNOWN_FIELD,
    SYNC_COLUMNS,
    columns,
    parse_field_value,
    problem,
)
from fieldrep.storage.models import Base


def clean_values(
    model: type[Base], values: Mapping[str, Any], *, managed: tuple[str, ...] = ()
) -> dict[str, Any]:
    """Check field names and turn typed text into column values.

    ``managed`` names columns the calling service sets itself (refused from callers).
    Collects every problem before raising one :class:`ValidationError`.
    """
    table = columns(model)
    cleaned: dict[str, Any] = {}
    problems: list[FieldProblem] = []
    for name, value in values.items():
        if name not in table:
            problems.append(FieldProblem(name, name, REASON_UNKNOWN_FIELD))
            continue
        if name in SYNC_COLUMNS or name in managed:
            problems.append(problem(model, name, REASON_NOT_EDITABLE))
            continue
        if isinstance(value, str):
            if type(table[name].type) in (Text, String):
                stripped = value.strip()
                cleaned[name] = stripped if stripped or not table[name].nullable else None
                continue
            try:
                cleaned[name] = parse_field_value(model, name, value)
            except ValidationError as error:
                problems.extend(error.problems)
            continue
        cleaned[name] = value
    if problems:
        raise ValidationError(problems, model.__tablename__)
    return cleaned


def lines(text: str | None) -> list[str]:
    """The non-blank lines of a multi-line text field (agreements, plans)."""
    if not text:
        return []
    return [line.strip(" \t-•·*") for line in text.splitlines() if line.strip(" \t-•·*")]
