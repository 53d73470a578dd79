"""Why the server refused a change, kept as its reason code and worded when shown.

A refused op stays in the outbox until the rep dismisses it, maybe across a
language switch, so its ``reason`` column holds the server's reason code, the
code's parameters and the server's own message as JSON, not words: the words
come from :data:`fieldrep.sync.protocol.REASON_MESSAGES` in the language of the
moment they are read. Rows refused before this format hold the text as it was
worded then; they read as they are.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fieldrep.i18n import _
from fieldrep.sync.protocol import REASON_MESSAGES, FieldIssue, OpResult, Reason

# The key that tells a stored refusal from the plain text of an older row.
_CODE_KEY = "code"


@dataclass(frozen=True)
class Refusal:
    """One refusal: the server's reason code (None when it gave none) and its parameters."""

    code: str | None
    params: tuple[tuple[str, str], ...] = ()
    #: The server's own words: shown when the code has no message here.
    message: str | None = None

    @classmethod
    def of_result(cls, result: OpResult) -> Refusal:
        """Why a whole op was refused."""
        code = None if result.reason is None else result.reason.value
        return cls(code, _sorted(result.params), result.message)

    @classmethod
    def of_issue(cls, issue: FieldIssue) -> Refusal:
        """Why one field of an accepted op was refused (its field named when unsaid)."""
        params = {"field": issue.field, **issue.params}
        return cls(issue.reason.value, _sorted(params), issue.message)

    def text(self) -> str:
        """The reason in the current language."""
        template = _template(self.code)
        if template is not None:
            return _(template).format_map(_Params(dict(self.params)))
        return self.message or _("Refused by the server.")

    def stored(self) -> str:
        """The JSON kept in the outbox's ``reason`` column."""
        document = {_CODE_KEY: self.code, "params": dict(self.params), "message": self.message}
        return json.dumps(document, ensure_ascii=False)


def reason_text(stored: str | None) -> str:
    """A stored ``reason`` column in the current language (older plain text as it is)."""
    if not stored:
        return _("Refused by the server.")
    refusal = _decoded(stored)
    return stored if refusal is None else refusal.text()


def stored_code(stored: str | None) -> str | None:
    """The reason code of a stored ``reason`` column (None for older plain text)."""
    refusal = None if not stored else _decoded(stored)
    return None if refusal is None else refusal.code


def stored_params(stored: str | None) -> dict[str, str]:
    """The parameters of a stored ``reason`` column (empty for older plain text)."""
    refusal = None if not stored else _decoded(stored)
    return {} if refusal is None else dict(refusal.params)


def _decoded(stored: str) -> Refusal | None:
    if not stored.startswith("{"):
        return None
    try:
        document = json.loads(stored)
    except ValueError:
        return None
    if not isinstance(document, dict) or _CODE_KEY not in document:
        return None
    code = document[_CODE_KEY]
    params = document.get("params")
    message = document.get("message")
    return Refusal(
        code if isinstance(code, str) else None,
        _sorted(params) if isinstance(params, dict) else (),
        message if isinstance(message, str) else None,
    )


def _template(code: str | None) -> str | None:
    if code is None:
        return None
    try:
        reason = Reason(code)
    except ValueError:  # a code of a newer server: its own message is shown
        return None
    return REASON_MESSAGES.get(reason)


def _sorted(params: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    return tuple(sorted((str(name), str(value)) for name, value in params.items()))


class _Params(dict[str, str]):
    """Format parameters that leave an unknown placeholder as it is."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"
