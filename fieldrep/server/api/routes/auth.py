"""Sign-in and token refresh."""

from __future__ import annotations

from fastapi import APIRouter, Request

from fieldrep.server.api.deps import CallerDep, SessionDep, StateDep
from fieldrep.server.api.routes.errors import error_responses
from fieldrep.server.core.errors import ApiError
from fieldrep.server.models import User
from fieldrep.server.services import throttle
from fieldrep.server.services.pull import user_info
from fieldrep.sync.protocol import LoginRequest, Reason, RefreshRequest, TokenResponse, UserInfo

router = APIRouter(prefix="/auth", tags=["auth"])


@router.post("/login", response_model=TokenResponse, responses=error_responses(401, 429))
def login(credentials: LoginRequest, request: Request, state: StateDep) -> TokenResponse:
    """Check user name and password; tokens for this device (a new one without device_id).

    Repeated failures lock the user name on the caller's address for a while
    (429 with Retry-After, before any password check).
    """
    address = request.client.host if request.client else throttle.UNKNOWN_ADDRESS
    return state.auth.login(credentials, address)


@router.post("/refresh", response_model=TokenResponse, responses=error_responses(401))
def refresh_token(request: RefreshRequest, state: StateDep) -> TokenResponse:
    """Exchange a refresh token for a new pair; the old refresh token is spent."""
    return state.auth.refresh(request)


@router.get("/me", response_model=UserInfo, responses=error_responses(401))
def me(caller: CallerDep, session: SessionDep) -> UserInfo:
    """The signed-in user and the territories in their scope."""
    user = session.get(User, caller.user_id)
    if user is None:
        raise ApiError(401, Reason.INVALID_TOKEN)
    return user_info(session, user)
