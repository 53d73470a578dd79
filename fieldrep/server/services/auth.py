"""Sign-in, token refresh with rotation, request authentication, device revocation.

A refresh token is valid once. Presenting an already rotated token again is
either a lost response (its successor was never used: the client retried) or a
stolen token (its successor was used). The first gets a fresh pair and the
unused successor is revoked; the second revokes every token of the device.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from fieldrep.server.core.config import Settings
from fieldrep.server.core.db import Database
from fieldrep.server.core.errors import ApiError
from fieldrep.server.core.security import (
    AccessClaims,
    Passwords,
    TokenExpired,
    TokenInvalid,
    hash_refresh_token,
    issue_access_token,
    new_id,
    new_refresh_token,
    read_access_token,
    utcnow,
)
from fieldrep.server.models import Device, RefreshToken, User
from fieldrep.server.services import throttle
from fieldrep.server.services.pull import user_info
from fieldrep.server.services.rowstore import SECRET_KEY, current_epoch, get_meta
from fieldrep.server.services.scope import Caller, caller_for
from fieldrep.sync.protocol import (
    LoginRequest,
    Reason,
    RefreshRequest,
    TokenResponse,
    format_datetime,
)

_UNAUTHORISED = {"WWW-Authenticate": "Bearer"}


def unauthorised(reason: Reason) -> ApiError:
    return ApiError(401, reason, headers=_UNAUTHORISED)


def too_many_attempts(seconds: int) -> ApiError:
    """429 for a locked sign-in key: Retry-After says when to try again."""
    return ApiError(
        429,
        Reason.TOO_MANY_ATTEMPTS,
        details={"retry_after": seconds},
        headers={"Retry-After": str(seconds)},
    )


@dataclass
class AuthService:
    """Everything about identities, bound to one database and its settings."""

    database: Database
    settings: Settings
    passwords: Passwords
    #: Now, for the login throttle (tests move it on).
    clock: Callable[[], datetime] = utcnow
    _secret: str | None = None

    def secret(self) -> str:
        """The token signing secret: from the settings, else kept in the database."""
        if self.settings.secret:
            return self.settings.secret
        if self._secret is None:
            with self.database.read() as session:
                stored = get_meta(session, SECRET_KEY)
            if stored is None:
                raise RuntimeError("server database not initialised (no token secret)")
            self._secret = stored
        return self._secret

    # ------------------------------------------------------------------ sign-in

    def login(self, request: LoginRequest, address: str) -> TokenResponse:
        """Check the password and give the device a fresh token pair.

        Throttled per user name and client address (:mod:`.throttle`): a locked key
        gets 429 before the password is looked at. The password is checked outside
        the write transaction (argon2 is slow; SQLite has one writer), against a
        dummy hash when the user is unknown or has no usable password, so the
        answer takes as long whether or not the user exists.
        """
        now = self.clock()
        with self.database.read() as session:
            wait = throttle.locked_for(session, request.username, address, now)
            # PostgreSQL text cannot hold NUL: no user has such a name, so none is looked up.
            user = (
                None
                if "\x00" in request.username
                else session.scalars(select(User).where(User.username == request.username)).first()
            )
        if wait is not None:
            raise too_many_attempts(wait)
        valid = self.passwords.verify(user.password_hash if user else None, request.password)
        if user is None or not valid or not user.active:
            policy = throttle.ThrottlePolicy.from_settings(self.settings)
            wait = self.database.write(
                lambda session: throttle.record_failure(
                    session, policy, request.username, address, self.clock()
                )
            )
            if wait is not None:
                raise too_many_attempts(wait)
            raise unauthorised(Reason.INVALID_CREDENTIALS)
        checked_hash = user.password_hash
        new_hash = (
            self.passwords.hash(request.password)
            if self.passwords.needs_rehash(checked_hash)
            else None
        )
        user_id = user.id

        def work(session: Session) -> TokenResponse:
            user = session.get(User, user_id)
            if user is None or not user.active or user.password_hash != checked_hash:
                # Changed while the password was checked: as if it had not matched.
                raise unauthorised(Reason.INVALID_CREDENTIALS)
            throttle.clear(session, request.username, address)
            if new_hash is not None:
                user.password_hash = new_hash
            device = session.get(Device, request.device_id) if request.device_id else None
            if device is not None and device.user_id == user.id and device.revoked_at is not None:
                raise unauthorised(Reason.DEVICE_REVOKED)
            if device is None or device.user_id != user.id:
                device = Device(
                    id=new_id(),
                    user_id=user.id,
                    name=request.device_name,
                    created_at=format_datetime(utcnow()),
                    token_generation=0,
                )
                session.add(device)
            device.name = request.device_name
            response, _token_id = self._issue(session, user, device)
            return response

        return self.database.write(work)

    def sign_in_in_process(self, username: str, device_id: str, device_name: str) -> TokenResponse:
        """Tokens for ``username`` on the device ``device_id``, without a password.

        Only for code running in this process with the server database in hand (the
        app's embedded local server: whoever holds the database could set any
        password, so one would add nothing). No route leads here. The device is
        registered under ``device_id`` when new; a revoked device, another user's
        device or an inactive user is refused as a login would be.
        """

        def work(session: Session) -> TokenResponse:
            user = session.scalars(select(User).where(User.username == username)).first()
            if user is None or not user.active:
                raise unauthorised(Reason.INVALID_CREDENTIALS)
            device = session.get(Device, device_id)
            if device is not None and device.user_id != user.id:
                raise unauthorised(Reason.INVALID_CREDENTIALS)
            if device is not None and device.revoked_at is not None:
                raise unauthorised(Reason.DEVICE_REVOKED)
            if device is None:
                device = Device(
                    id=device_id,
                    user_id=user.id,
                    name=device_name,
                    created_at=format_datetime(utcnow()),
                    token_generation=0,
                )
                session.add(device)
            device.name = device_name
            response, _token_id = self._issue(session, user, device)
            return response

        return self.database.write(work)

    def refresh(self, request: RefreshRequest) -> TokenResponse:
        """Rotate a refresh token (see the module docstring for reuse)."""
        digest = hash_refresh_token(request.refresh_token)

        def work(session: Session) -> TokenResponse | ApiError:
            token = session.scalars(
                select(RefreshToken).where(RefreshToken.token_hash == digest).with_for_update()
            ).first()
            if token is None:
                return unauthorised(Reason.INVALID_TOKEN)
            device = session.get(Device, token.device_id)
            user = session.get(User, device.user_id) if device else None
            if device is None or user is None or not user.active:
                return unauthorised(Reason.INVALID_TOKEN)
            if device.revoked_at is not None:
                return unauthorised(Reason.DEVICE_REVOKED)
            now = utcnow()
            if token.revoked_at is not None:
                return unauthorised(Reason.INVALID_TOKEN)
            if token.used_at is not None:
                successor = (
                    session.get(RefreshToken, token.replaced_by) if token.replaced_by else None
                )
                if successor is None or successor.used_at is not None:
                    # Real reuse: someone else holds the chain. Sign the device out.
                    self._revoke_tokens(session, device, format_datetime(now))
                    return unauthorised(Reason.REFRESH_REUSED)
                successor.revoked_at = format_datetime(now)
            elif token.expires_at <= format_datetime(now):
                return unauthorised(Reason.TOKEN_EXPIRED)
            token.used_at = token.used_at or format_datetime(now)
            response, token_id = self._issue(session, user, device)
            token.replaced_by = token_id
            return response

        outcome = self.database.write(work)
        if isinstance(outcome, ApiError):
            # Raised after commit so that a detected reuse really revokes the tokens.
            raise outcome
        return outcome

    def _issue(self, session: Session, user: User, device: Device) -> tuple[TokenResponse, str]:
        """A new access token and refresh token for ``device``; returns the refresh token's id."""
        now = utcnow()
        access_lifetime = timedelta(minutes=self.settings.access_token_minutes)
        refresh_lifetime = timedelta(days=self.settings.refresh_token_days)
        raw = new_refresh_token()
        token = RefreshToken(
            id=new_id(),
            device_id=device.id,
            token_hash=hash_refresh_token(raw),
            issued_at=format_datetime(now),
            expires_at=_expiry(now, refresh_lifetime),
        )
        session.add(token)
        device.last_seen_at = format_datetime(now)
        session.flush()
        access = issue_access_token(
            self.secret(),
            AccessClaims(user.id, device.id, device.token_generation),
            access_lifetime,
            now=now,
        )
        response = TokenResponse(
            access_token=access,
            refresh_token=raw,
            expires_in=int(access_lifetime.total_seconds()),
            refresh_expires_in=int(refresh_lifetime.total_seconds()),
            device_id=device.id,
            user=user_info(session, user),
            epoch=current_epoch(session),
        )
        return response, token.id

    # ------------------------------------------------------------------ requests

    def authenticate(self, token: str) -> Caller:
        """The caller behind an access token; 401 when expired, forged or revoked."""
        try:
            claims = read_access_token(self.secret(), token)
        except TokenExpired as error:
            raise unauthorised(Reason.TOKEN_EXPIRED) from error
        except TokenInvalid as error:
            raise unauthorised(Reason.INVALID_TOKEN) from error
        with self.database.read() as session:
            device = session.get(Device, claims.device_id)
            user = session.get(User, claims.user_id)
            if device is None or user is None or device.user_id != user.id or not user.active:
                raise unauthorised(Reason.INVALID_TOKEN)
            if device.revoked_at is not None:
                raise unauthorised(Reason.DEVICE_REVOKED)
            if device.token_generation != claims.generation:
                raise unauthorised(Reason.INVALID_TOKEN)
            return caller_for(session, user, device.id)

    # ------------------------------------------------------------------ devices

    def _revoke_tokens(self, session: Session, device: Device, now: str) -> None:
        device.token_generation += 1
        session.execute(
            update(RefreshToken)
            .where(RefreshToken.device_id == device.id, RefreshToken.revoked_at.is_(None))
            .values(revoked_at=now)
        )


def revoke_device(session: Session, device: Device) -> None:
    """End every session of a device; its next request gets 401 device_revoked."""
    now = format_datetime(utcnow())
    device.revoked_at = device.revoked_at or now
    device.token_generation += 1
    session.execute(
        update(RefreshToken)
        .where(RefreshToken.device_id == device.id, RefreshToken.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def _expiry(now: datetime, lifetime: timedelta) -> str:
    return format_datetime(now + lifetime)
