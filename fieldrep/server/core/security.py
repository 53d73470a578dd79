"""Passwords (argon2id), access tokens (JWT HS256) and refresh tokens (random, hashed)."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import jwt
import uuid_utils
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from fieldrep.sync.protocol import format_datetime

ISSUER = "fieldrep-server"
ALGORITHM = "HS256"
ARGON2_PREFIX = "$argon2"


def new_id() -> str:
    """A UUIDv7: sortable by creation time, unique without coordination."""
    return str(uuid_utils.uuid7())


def utcnow() -> datetime:
    return datetime.now(UTC)


def now_text() -> str:
    """Now as protocol wire text (UTC 'Z'); such texts sort chronologically."""
    return format_datetime(utcnow())


class Passwords:
    """argon2id hashing with configurable cost."""

    def __init__(self, time_cost: int, memory_kib: int, parallelism: int) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism
        )
        # Verified against when the user does not exist, so both paths cost the same.
        self._dummy = self._hasher.hash(secrets.token_urlsafe(16))

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches.

        A missing user, or one whose hash is no argon2 hash (an account without a
        usable password), still pays for one verification against a dummy hash, so
        the answer takes as long as for a real user.
        """
        usable = password_hash is not None and password_hash.startswith(ARGON2_PREFIX)
        try:
            matched = self._hasher.verify(
                password_hash if usable and password_hash else self._dummy, password
            )
        except (VerificationError, InvalidHashError):
            return False
        return matched and usable

    def needs_rehash(self, password_hash: str) -> bool:
        return self._hasher.check_needs_rehash(password_hash)


@dataclass(frozen=True)
class AccessClaims:
    """What an access token says: which user on which device, and its generation."""

    user_id: str
    device_id: str
    generation: int


class TokenExpired(Exception):
    """The access token's lifetime is over."""


class TokenInvalid(Exception):
    """The access token is forged, damaged or not an access token."""


def issue_access_token(
    secret: str, claims: AccessClaims, lifetime: timedelta, *, now: datetime | None = None
) -> str:
    issued = now or utcnow()
    payload = {
        "iss": ISSUER,
        "typ": "access",
        "sub": claims.user_id,
        "did": claims.device_id,
        "gen": claims.generation,
        "iat": int(issued.timestamp()),
        "exp": int((issued + lifetime).timestamp()),
    }
    return jwt.encode(payload, secret, algorithm=ALGORITHM)


def read_access_token(secret: str, token: str) -> AccessClaims:
    """Verify signature, issuer, type and expiry; raise TokenExpired or TokenInvalid."""
    try:
        payload = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            issuer=ISSUER,
            options={"require": ["exp", "iat", "sub", "iss"]},
        )
    except jwt.ExpiredSignatureError as error:
        raise TokenExpired from error
    except jwt.PyJWTError as error:
        raise TokenInvalid(str(error)) from error
    if payload.get("typ") != "access":
        raise TokenInvalid("not an access token")
    user_id, device_id, generation = payload.get("sub"), payload.get("did"), payload.get("gen")
    if not isinstance(user_id, str) or not isinstance(device_id, str):
        raise TokenInvalid("missing subject or device")
    if not isinstance(generation, int):
        raise TokenInvalid("missing generation")
    return AccessClaims(user_id, device_id, generation)


def new_refresh_token() -> str:
    """An unguessable refresh token (256 bits)."""
    return secrets.token_urlsafe(32)


def hash_refresh_token(token: str) -> str:
    """Refresh tokens are stored only as SHA-256 (they are random, so no salt is needed)."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_secret() -> str:
    return secrets.token_urlsafe(48)


def new_epoch() -> str:
    """A fresh server epoch: changes when the database is restored from a backup."""
    return secrets.token_hex(8)
