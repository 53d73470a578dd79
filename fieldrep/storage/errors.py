"""The one error type that services raise for bad input.

It names the field and the reason; both are English source strings marked for
translation, so the same error reads in Chinese or English where it is shown.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from fieldrep.i18n import _, translate


@dataclass(frozen=True)
class FieldProblem:
    """One field and why its value was refused."""

    field: str  # attribute name, e.g. "due_on"
    field_label: str  # English label marked with N_(), e.g. "Due date"
    reason: str  # English reason marked with N_(), may contain {placeholders}
    params: Mapping[str, Any] = dataclasses.field(default_factory=dict)

    def message(self, lang: str | None = None) -> str:
        """'Due date: must not be empty' in the current (or given) language."""
        tr = _ if lang is None else (lambda text: translate(text, lang))
        params = {
            key: tr(value) if isinstance(value, str) and key.endswith("_label") else value
            for key, value in self.params.items()
        }
        separator = "：" if (lang or _current()) == "zh_CN" else ": "
        return f"{tr(self.field_label)}{separator}{tr(self.reason).format(**params)}"


def _current() -> str:
    from fieldrep.i18n import current_language

    return current_language()


class ValidationError(Exception):
    """Bad input for a service call; nothing was written.

    ``problems`` lists every field that was refused, so a form can mark them all.
    """

    def __init__(self, problems: list[FieldProblem], entity: str = "") -> None:
        if not problems:
            raise ValueError("a ValidationError needs at least one problem")
        self.problems = problems
        self.entity = entity
        super().__init__(self.message("en"))

    @property
    def fields(self) -> list[str]:
        return [problem.field for problem in self.problems]

    def message(self, lang: str | None = None) -> str:
        """All problems, one a line, in the current (or given) language."""
        return "\n".join(problem.message(lang) for problem in self.problems)

    def __str__(self) -> str:
        return self.message()


class NotFound(Exception):
    """No live row with that id (never existed, deleted, or out of scope)."""

    def __init__(self, entity: str, row_id: str) -> None:
        super().__init__(f"{entity} {row_id}")
        self.entity = entity
        self.row_id = row_id
