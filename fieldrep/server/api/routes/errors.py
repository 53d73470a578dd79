"""The error responses each route documents in the OpenAPI schema."""

from __future__ import annotations

from typing import Any

from fieldrep.sync.protocol import ErrorResponse


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI entries for these status codes, all with the ErrorResponse body."""
    return {code: {"model": ErrorResponse} for code in (*codes, 400, 422, 500, 503)}
