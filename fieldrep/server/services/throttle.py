"""Login throttling: repeated failed sign-ins lock a user name on an address for a while.

Failures are counted per key: a user name on one client address, and the address
alone (every user name tried from it). Within a window (15 minutes) the fifth
failure of a user name on an address, or the fiftieth of the address, locks that
key: 60 seconds the first time, doubled at each further lock, at most an hour. A
locked key is refused with 429 and Retry-After before any password check (so the
refusal costs nothing and says nothing about the user). A successful sign-in
clears its user-name-and-address key; the address count is left to expire, so
that one valid account cannot reset a password sprayer's count. A key with no
failure for a day is forgotten (by the server's maintenance task), and with it its
doubling. ``fieldrep server unlock NAME`` clears a user name's keys at once.

The counts live in the server database (``login_throttle``), so every API worker
of a PostgreSQL deployment counts the same failures; each update takes the key's
row lock, and two workers creating the same key race on its primary key, which
the write transaction retries. Behind a reverse proxy the address is the one
uvicorn reports: it takes X-Forwarded-For from the proxies it trusts (127.0.0.1
unless the FORWARDED_ALLOW_IPS environment variable names others), so set that
to the proxy's address, or every client counts as the proxy.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from fieldrep.server.core.config import Settings
from fieldrep.server.models import LoginThrottle
from fieldrep.sync.protocol import format_datetime, parse_datetime

#: The ``user_key`` of the row counting every user name tried from an address.
ADDRESS_ONLY = ""
#: A key with no failure for this long is forgotten, its lock doubling too.
FORGET_AFTER = timedelta(days=1)
UNKNOWN_ADDRESS = "unknown"


@dataclass(frozen=True)
class ThrottlePolicy:
    """How many failures lock a key, within which window, and for how long."""

    max_failures: int
    max_failures_per_address: int
    window: timedelta
    lockout: timedelta
    lockout_max: timedelta

    @classmethod
    def from_settings(cls, settings: Settings) -> ThrottlePolicy:
        return cls(
            max_failures=settings.login_max_failures,
            max_failures_per_address=settings.login_max_failures_per_address,
            window=timedelta(minutes=settings.login_failure_window_minutes),
            lockout=timedelta(seconds=settings.login_lockout_seconds),
            lockout_max=timedelta(seconds=settings.login_lockout_max_seconds),
        )

    def limit(self, user_key: str) -> int:
        return self.max_failures_per_address if user_key == ADDRESS_ONLY else self.max_failures

    def lock_length(self, lockouts: int) -> timedelta:
        """The length of the ``lockouts``-th lock (1, 2, ...): doubled each time, capped."""
        doublings = min(max(lockouts - 1, 0), 30)  # 2**30 times any lock exceeds any cap
        return min(self.lockout * (1 << doublings), self.lockout_max)


def user_key(username: str) -> str:
    """The stored key of a user name: its SHA-256 (never the name itself)."""
    return hashlib.sha256(username.encode("utf-8")).hexdigest()


def _keys(username: str, address: str) -> list[tuple[str, str]]:
    return [(user_key(username), address), (ADDRESS_ONLY, address)]


def _seconds_until(until: datetime, now: datetime) -> int:
    """Whole seconds to wait (at least 1), as Retry-After wants them."""
    return max(1, math.ceil((until - now).total_seconds()))


def locked_for(session: Session, username: str, address: str, now: datetime) -> int | None:
    """Seconds until ``username`` may try again from ``address``; None when not locked."""
    waits = []
    for key in _keys(username, address):
        row = session.get(LoginThrottle, key)
        if row is not None and row.locked_until is not None:
            until = parse_datetime(row.locked_until)
            if until > now:
                waits.append(_seconds_until(until, now))
    return max(waits) if waits else None


def record_failure(
    session: Session, policy: ThrottlePolicy, username: str, address: str, now: datetime
) -> int | None:
    """Count a failed sign-in; the seconds of the lock it started, or None."""
    waits = []
    for key in _keys(username, address):
        row = session.get(LoginThrottle, key, with_for_update=True)
        if row is None:
            row = LoginThrottle(
                user_key=key[0],
                address=key[1],
                failures=0,
                window_started_at=format_datetime(now),
                last_failure_at=format_datetime(now),
                lockouts=0,
            )
            session.add(row)
        elif parse_datetime(row.last_failure_at) + FORGET_AFTER <= now:
            row.lockouts = 0
            row.failures = 0
            row.window_started_at = format_datetime(now)
        elif parse_datetime(row.window_started_at) + policy.window <= now:
            row.failures = 0
            row.window_started_at = format_datetime(now)
        row.failures += 1
        row.last_failure_at = format_datetime(now)
        if row.failures >= policy.limit(key[0]):
            row.lockouts += 1
            until = now + policy.lock_length(row.lockouts)
            row.locked_until = format_datetime(until)
            # A fresh count after the lock: the next lock needs as many failures again.
            row.failures = 0
            row.window_started_at = format_datetime(until)
            waits.append(_seconds_until(until, now))
    session.flush()
    return max(waits) if waits else None


def clear(session: Session, username: str, address: str) -> None:
    """A successful sign-in: forget the user name's failures on this address."""
    session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.user_key == user_key(username), LoginThrottle.address == address
        )
    )


def unlock(session: Session, username: str, address: str | None = None) -> int:
    """Forget the failures of ``username`` (and of ``address`` as a whole); how many keys."""
    condition = LoginThrottle.user_key == user_key(username)
    if address is not None:
        condition = or_(
            condition,
            (LoginThrottle.user_key == ADDRESS_ONLY) & (LoginThrottle.address == address),
        )
    keys = session.scalars(select(LoginThrottle).where(condition)).all()
    for row in keys:
        session.delete(row)
    return len(keys)


def forget_stale(session: Session, now: datetime) -> int:
    """Drop keys with no failure for :data:`FORGET_AFTER` and no running lock; how many."""
    cutoff = format_datetime(now - FORGET_AFTER)
    result = session.execute(
        delete(LoginThrottle).where(
            LoginThrottle.last_failure_at < cutoff,
            or_(
                LoginThrottle.locked_until.is_(None),
                LoginThrottle.locked_until < format_datetime(now),
            ),
        )
    )
    return int(getattr(result, "rowcount", 0) or 0)
