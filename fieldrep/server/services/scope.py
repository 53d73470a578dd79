"""Who is calling and which territories they may see and change.

A rep: the territories assigned to them. A manager: their own assignments, the
territories they manage, and every territory of the reps in their team. An
admin: everything. Every query of the server filters by this scope.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldrep.server.models import Assignment, SyncStream, Territory, User
from fieldrep.sync.protocol import SYSTEM_USER_ID as SYSTEM_USER_ID  # the admin commands use it

ROLES = ("rep", "manager", "admin")
SYSTEM_USERNAME = "system"


@dataclass(frozen=True)
class Caller:
    """An authenticated user on a device, with their scope (None: every territory)."""

    user_id: str
    username: str
    display_name: str
    role: str
    device_id: str | None
    territories: frozenset[str] | None

    @property
    def is_manager(self) -> bool:
        """Managers and admins may write manager-only fields and tables."""
        return self.role in ("manager", "admin")

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def can_see(self, territory_id: str) -> bool:
        """Whether rows of ``territory_id`` are in scope (read and write alike)."""
        return self.territories is None or territory_id in self.territories

    def visible(self, territory_ids: Iterable[str]) -> list[str]:
        return sorted(t for t in territory_ids if self.can_see(t))


def scope_of(session: Session, user: User) -> frozenset[str] | None:
    """The territories ``user`` may see; None for an admin (all of them)."""
    if user.role == "admin":
        return None
    own = set(session.scalars(select(Assignment.territory_id).where(Assignment.user_id == user.id)))
    if user.role == "manager":
        own.update(
            session.scalars(select(Territory.id).where(Territory.manager_user_id == user.id))
        )
        team = select(User.id).where(User.manager_user_id == user.id, User.active.is_(True))
        own.update(
            session.scalars(select(Assignment.territory_id).where(Assignment.user_id.in_(team)))
        )
    return frozenset(own)


def caller_for(session: Session, user: User, device_id: str | None) -> Caller:
    return Caller(
        user_id=user.id,
        username=user.username,
        display_name=user.display_name,
        role=user.role,
        device_id=device_id,
        territories=scope_of(session, user),
    )


def system_caller() -> Caller:
    """The server itself (admin functions): every territory, no device."""
    return Caller(SYSTEM_USER_ID, SYSTEM_USERNAME, SYSTEM_USERNAME, "admin", None, None)


def visible_streams(session: Session, caller: Caller) -> dict[str, SyncStream]:
    """The stream counters of every territory the caller may see."""
    query = select(SyncStream)
    if caller.territories is not None:
        if not caller.territories:
            return {}
        query = query.where(SyncStream.territory_id.in_(sorted(caller.territories)))
    return {stream.territory_id: stream for stream in session.scalars(query)}
