"""Every error leaves the server as an ErrorResponse with a stable code; never a bare 500."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from starlette.exceptions import HTTPException as StarletteHTTPException

from fieldrep.sync.protocol import ErrorResponse, Reason, reason_message

log = logging.getLogger("fieldrep.server")


class ApiError(Exception):
    """An expected refusal: HTTP status, reason code, message and details."""

    def __init__(
        self,
        status_code: int,
        reason: Reason,
        *,
        details: Any = None,
        headers: dict[str, str] | None = None,
        **params: Any,
    ) -> None:
        super().__init__(reason.value)
        self.status_code = status_code
        self.reason = reason
        self.message = reason_message(reason, **params)
        self.details = details
        self.headers = headers


def error_json(
    status_code: int,
    code: str,
    message: str,
    details: Any = None,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    body = ErrorResponse(code=code, message=message, details=jsonable_encoder(details))
    return JSONResponse(body.model_dump(mode="json"), status_code=status_code, headers=headers)


_STATUS_REASONS = {
    400: Reason.BAD_REQUEST,
    401: Reason.NOT_AUTHENTICATED,
    403: Reason.FORBIDDEN,
    404: Reason.NOT_FOUND,
}


async def _api_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ApiError)
    return error_json(
        error.status_code, error.reason.value, error.message, error.details, error.headers
    )


async def _validation_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    details = [
        {"loc": list(item.get("loc", ())), "msg": item.get("msg", ""), "type": item.get("type")}
        for item in error.errors()
    ]
    return error_json(
        422, Reason.VALIDATION_ERROR.value, reason_message(Reason.VALIDATION_ERROR), details
    )


async def _http_error(_request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, StarletteHTTPException)
    reason = _STATUS_REASONS.get(error.status_code, Reason.BAD_REQUEST)
    message = error.detail if isinstance(error.detail, str) else reason_message(reason)
    headers = dict(error.headers) if error.headers else None
    return error_json(error.status_code, reason.value, message, headers=headers)


async def _database_error(request: Request, error: Exception) -> JSONResponse:
    log.warning("database unavailable for %s %s: %s", request.method, request.url.path, error)
    return error_json(
        503,
        Reason.SERVER_BUSY.value,
        reason_message(Reason.SERVER_BUSY),
        headers={"Retry-After": "1"},
    )


async def _unexpected(request: Request, error: Exception) -> JSONResponse:
    log.exception("unexpected error in %s %s", request.method, request.url.path, exc_info=error)
    return error_json(500, Reason.INTERNAL_ERROR.value, reason_message(Reason.INTERNAL_ERROR))


def install_error_handlers(app: FastAPI) -> None:
    """Route every kind of failure to an ErrorResponse."""
    app.add_exception_handler(ApiError, _api_error)
    app.add_exception_handler(RequestValidationError, _validation_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(OperationalError, _database_error)
    app.add_exception_handler(Exception, _unexpected)
