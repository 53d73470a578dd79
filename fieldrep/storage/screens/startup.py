"""Who works on a database when the app starts: the queries behind fieldrep.ui.startup."""

from __future__ import annotations

import getpass
import logging

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from fieldrep.storage.enums import Role
from fieldrep.storage.models import AppUser, Territory
from fieldrep.storage.services.core import UserContext
from fieldrep.storage.types import new_id

log = logging.getLogger("fieldrep.storage")


def signed_in_user_id(engine: Engine) -> str | None:
    """The user id of the sync sign-in, or None.

    Plain SQL on purpose: the sync client (HTTP, protocol models) is imported only
    when someone is signed in, which keeps a cold start short.
    """
    with engine.connect() as connection:
        value = connection.execute(
            text("SELECT value FROM sync_state WHERE key = 'user_id'")
        ).scalar()
    return None if value is None else str(value)


def with_stored_territory(engine: Engine, context: UserContext) -> UserContext:
    """``context`` with the territory, role and name of its stored user when it has none."""
    with Session(engine) as session:
        row = session.get(AppUser, context.user_id)
        if row is not None and not context.territory_id:
            return UserContext(row.id, row.territory_id, row.role, row.display_name)
    return context


def first_rep_or_new(engine: Engine, territory_name: str) -> UserContext:
    """The first sales rep of the database; on an empty one, a new local rep.

    The new rep is named after the computer's user and put in the first territory,
    or in a new one called ``territory_name`` when there is none.
    """
    with Session(engine) as session, session.begin():
        rep = session.scalars(
            select(AppUser)
            .where(AppUser.role == Role.REP, AppUser.deleted.is_(False))
            .order_by(AppUser.id)
            .limit(1)
        ).first()
        if rep is not None:
            return UserContext(rep.id, rep.territory_id, rep.role, rep.display_name)
        territory = session.scalars(
            select(Territory).where(Territory.deleted.is_(False)).order_by(Territory.id).limit(1)
        ).first()
        if territory is None:
            territory_id = new_id()
            territory = Territory(id=territory_id, territory_id=territory_id, name=territory_name)
            session.add(territory)
        name = getpass.getuser() or "rep"
        user = AppUser(
            id=new_id(),
            territory_id=territory.id,
            username=name,
            display_name=name,
            role=Role.REP,
        )
        session.add(user)
        log.info("empty database: made local rep %s in territory %s", name, territory.id)
        return UserContext(user.id, territory.id, Role.REP, name)
