"""Request dependencies: the app state, a read session, the caller, the protocol check."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from fieldrep.server.core.config import Settings
from fieldrep.server.core.db import Database
from fieldrep.server.core.errors import ApiError
from fieldrep.server.services.auth import AuthService, unauthorised
from fieldrep.server.services.maintenance import LogPruner
from fieldrep.server.services.scope import Caller
from fieldrep.sync.protocol import PROTOCOL_HEADER, PROTOCOL_MAX, PROTOCOL_MIN, Reason


@dataclass
class AppState:
    """What every request needs, made once per app."""

    settings: Settings
    database: Database
    auth: AuthService
    #: The scheduled change-log pruning (None when switched off); the lifespan runs it.
    pruner: LogPruner | None = None


def get_state(request: Request) -> AppState:
    state: AppState = request.app.state.fieldrep
    return state


StateDep = Annotated[AppState, Depends(get_state)]


def get_session(state: StateDep) -> Iterator[Session]:
    """A read-only session for one request (writes go through Database.write)."""
    with state.database.read() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]

_bearer = HTTPBearer(auto_error=False, description="Access token from /v1/auth/login")


def get_caller(
    state: StateDep,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Caller:
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise unauthorised(Reason.NOT_AUTHENTICATED)
    return state.auth.authenticate(credentials.credentials)


CallerDep = Annotated[Caller, Depends(get_caller)]


def check_protocol(version: int | None) -> None:
    if version is not None and not PROTOCOL_MIN <= version <= PROTOCOL_MAX:
        raise ApiError(
            426,
            Reason.UNSUPPORTED_CLIENT,
            details={"client": version, "min": PROTOCOL_MIN, "max": PROTOCOL_MAX},
        )


def require_protocol(
    protocol: Annotated[
        int, Header(alias=PROTOCOL_HEADER, description="The client's sync protocol version")
    ],
) -> int:
    """Refuse (426) a client whose protocol version this server does not speak."""
    check_protocol(protocol)
    return protocol


def optional_protocol(
    protocol: Annotated[
        int | None, Header(alias=PROTOCOL_HEADER, description="The client's protocol version")
    ] = None,
) -> int | None:
    check_protocol(protocol)
    return protocol


ProtocolDep = Annotated[int, Depends(require_protocol)]
OptionalProtocolDep = Annotated[int | None, Depends(optional_protocol)]


def require_manager(caller: Caller) -> None:
    if not caller.is_manager:
        raise ApiError(403, Reason.FORBIDDEN)
