"""Login throttling: failed sign-ins lock a user name on an address, with Retry-After.

Runs on SQLite and, when FIELDREP_TEST_DATABASE_URL is set, on PostgreSQL (the
counts live in the server database so that several API workers share them).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from argon2 import PasswordHasher
from servertest import PASSWORD, TEST_PASSWORDS, World
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from fieldrep.server.core.security import Passwords, utcnow
from fieldrep.server.models import LoginThrottle, User
from fieldrep.server.services import admin, throttle
from fieldrep.server.services.auth import AuthService

pytestmark = pytest.mark.anyio

WRONG = "not the password"


class Clock:
    """A settable now for the throttle."""

    def __init__(self) -> None:
        self.now = datetime(2026, 11, 26, 9, 0, tzinfo=utcnow().tzinfo)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@pytest.fixture
def clock(world: World) -> Clock:
    clock = Clock()
    auth: AuthService = world.app.state.fieldrep.auth
    auth.clock = clock
    return clock


@pytest.fixture
async def elsewhere(world: World) -> AsyncIterator[httpx.AsyncClient]:
    """The same app seen from another client address."""
    transport = httpx.ASGITransport(app=world.app, client=("203.0.113.7", 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://fieldrep.test") as client:
        yield client


async def login(http: httpx.AsyncClient, username: str, password: str) -> httpx.Response:
    return await http.post("/v1/auth/login", json={"username": username, "password": password})


async def fail(http: httpx.AsyncClient, username: str, times: int) -> list[int]:
    return [(await login(http, username, WRONG)).status_code for _ in range(times)]


async def test_the_fifth_failure_locks_the_user_on_that_address_for_a_minute(
    http: httpx.AsyncClient, elsewhere: httpx.AsyncClient, clock: Clock
) -> None:
    assert await fail(http, "alice", 4) == [401, 401, 401, 401]
    locked = await login(http, "alice", WRONG)
    assert locked.status_code == 429
    assert locked.headers["retry-after"] == "60"
    body = locked.json()
    assert body["code"] == "too_many_attempts"
    assert "Too many failed sign-ins" in body["message"]
    assert body["details"] == {"retry_after": 60}
    # Even the right password waits: the lock is checked before the password.
    refused = await login(http, "alice", PASSWORD)
    assert refused.status_code == 429
    clock.advance(seconds=20)
    assert (await login(http, "alice", PASSWORD)).headers["retry-after"] == "40"
    # Other users on this address, and alice elsewhere, are not locked.
    assert (await login(http, "bob", PASSWORD)).status_code == 200
    assert (await login(elsewhere, "alice", PASSWORD)).status_code == 200
    clock.advance(seconds=41)
    assert (await login(http, "alice", PASSWORD)).status_code == 200


async def test_each_further_lock_doubles_up_to_the_cap(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    world.settings.login_lockout_max_seconds = 200
    waits = []
    for _ in range(4):
        codes = await fail(http, "alice", 5)
        assert codes == [401, 401, 401, 401, 429]
        answer = await login(http, "alice", WRONG)
        waits.append(int(answer.headers["retry-after"]))
        clock.advance(seconds=waits[-1])
    assert waits == [60, 120, 200, 200]


async def test_a_successful_sign_in_clears_the_count(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    assert await fail(http, "alice", 4) == [401] * 4
    assert (await login(http, "alice", PASSWORD)).status_code == 200
    assert await fail(http, "alice", 4) == [401] * 4
    with world.database.read() as session:
        keys = session.scalars(select(LoginThrottle.user_key)).all()
    # alice's own key counts the last four; the address key keeps all eight.
    assert sorted(keys) == sorted([throttle.ADDRESS_ONLY, throttle.user_key("alice")])


async def test_failures_older_than_the_window_are_not_counted(
    http: httpx.AsyncClient, clock: Clock
) -> None:
    assert await fail(http, "alice", 4) == [401] * 4
    clock.advance(minutes=15)
    assert await fail(http, "alice", 4) == [401] * 4
    assert await fail(http, "alice", 1) == [429]


async def test_an_unknown_user_is_locked_alike(http: httpx.AsyncClient, clock: Clock) -> None:
    # Same answers for a name that does not exist: no way to tell users apart.
    assert await fail(http, "nobody", 5) == [401, 401, 401, 401, 429]


async def test_a_name_with_a_nul_character_is_an_unknown_user(
    http: httpx.AsyncClient, clock: Clock
) -> None:
    # PostgreSQL refuses NUL in text: the name is never sent to it, nor stored.
    assert await fail(http, "ali\x00ce", 5) == [401, 401, 401, 401, 429]


async def test_many_user_names_from_one_address_lock_the_address(
    http: httpx.AsyncClient, elsewhere: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    world.settings.login_max_failures_per_address = 6
    codes = [(await login(http, f"guess{number}", WRONG)).status_code for number in range(6)]
    assert codes == [401] * 5 + [429]
    assert (await login(http, "bob", PASSWORD)).status_code == 429
    assert (await login(elsewhere, "bob", PASSWORD)).status_code == 200
    # A valid sign-in does not reset the address count.
    clock.advance(seconds=61)
    assert (await login(http, "bob", PASSWORD)).status_code == 200
    assert await fail(http, "guess0", 1) == [401]


async def test_the_admin_unlocks_a_user(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    assert await fail(http, "alice", 5) == [401] * 4 + [429]
    assert admin.unlock_sign_in(world.database, "alice") == 1
    assert (await login(http, "alice", PASSWORD)).status_code == 200
    assert admin.unlock_sign_in(world.database, "alice") == 0
    assert admin.unlock_sign_in(world.database, "carol", "127.0.0.1") == 1  # the address key


async def test_stale_keys_are_forgotten_but_running_locks_are_kept(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    world.settings.login_lockout_max_seconds = 10 * 86400
    world.settings.login_lockout_seconds = 2 * 86400
    assert await fail(http, "alice", 5) == [401] * 4 + [429]
    await fail(http, "bob", 1)
    later = clock.now + timedelta(days=1, seconds=1)

    def count() -> int:
        with world.database.read() as session:
            return int(session.scalar(select(func.count()).select_from(LoginThrottle)) or 0)

    assert count() == 3  # alice, bob, and the address
    assert world.database.write(lambda session: throttle.forget_stale(session, later)) == 2
    assert count() == 1  # alice is still locked


def test_a_missing_user_and_an_account_without_password_cost_one_verification(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    passwords = Passwords(time_cost=1, memory_kib=8, parallelism=1)
    verified: list[str] = []
    original = PasswordHasher.verify

    def spy(self: PasswordHasher, digest: str | bytes, password: str | bytes) -> bool:
        verified.append(str(digest))
        return original(self, digest, password)

    monkeypatch.setattr(PasswordHasher, "verify", spy)
    real = passwords.hash(PASSWORD)
    assert passwords.verify(real, PASSWORD)
    assert not passwords.verify(None, PASSWORD)
    assert not passwords.verify("!no-password", PASSWORD)
    assert not passwords.verify(real, WRONG)
    # Each check ran argon2 once, on an argon2 hash of the same parameters.
    assert len(verified) == 4
    assert all(digest.startswith("$argon2id$v=19$m=8,t=1,p=1$") for digest in verified)


async def test_a_user_without_a_usable_password_is_refused_like_a_wrong_password(
    http: httpx.AsyncClient, world: World, clock: Clock
) -> None:
    def no_password(session: Session) -> None:
        user = session.scalars(select(User).where(User.username == "carol")).one()
        user.password_hash = "!no-password"

    world.database.write(no_password)
    answer = await login(http, "carol", PASSWORD)
    assert answer.status_code == 401
    assert answer.json()["code"] == "invalid_credentials"
    assert TEST_PASSWORDS.verify("!no-password", PASSWORD) is False
