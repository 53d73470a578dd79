"""Opening the database and deciding who works on it (no Qt; runs on the DB worker).

Who is signed in: the user of the sync sign-in when there is one; otherwise the
first sales rep in the database (a demo or an imported territory); on an empty
database, a local rep and territory are made so the workbench can be used at
once, offline, before any server exists.
"""

from __future__ import annotations

import getpass
import logging
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from fieldrep.i18n import N_, _
from fieldrep.storage.db import open_database
from fieldrep.storage.enums import Role
from fieldrep.storage.models import AppUser, Territory
from fieldrep.storage.services.core import Store, UserContext
from fieldrep.storage.types import new_id

log = logging.getLogger("fieldrep.ui")

TODAY_ENV = "FIELDREP_TODAY"
LOCAL_TERRITORY = N_("My territory")


def today_source(override: str | None = None) -> Callable[[], date]:
    """The clock of the store: the real date, or a fixed one (demos, --today, FIELDREP_TODAY)."""
    fixed = override or os.environ.get(TODAY_ENV)
    if fixed:
        day = date.fromisoformat(fixed)
        return lambda: day
    return date.today


def _signed_in_user(engine: Engine) -> UserContext | None:
    # Read the sign-in mark with plain SQL: the sync client (HTTP, protocol models)
    # is imported only when someone is signed in, which keeps a cold start short.
    with engine.connect() as connection:
        signed_in = connection.execute(
            text("SELECT value FROM sync_state WHERE key = 'user_id'")
        ).scalar()
    if signed_in is None:
        return None
    from fieldrep.sync import api

    context = api.user_context(engine)
    with Session(engine) as session:
        row = session.get(AppUser, context.user_id)
        if row is not None and not context.territory_id:
            context = UserContext(row.id, row.territory_id, row.role, row.display_name)
    return context if context.territory_id else None


def resolve_user(engine: Engine) -> UserContext:
    """The user of this database (see the module docstring); creates one when empty."""
    signed_in = _signed_in_user(engine)
    if signed_in is not None:
        return signed_in
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
            territory = Territory(
                id=territory_id, territory_id=territory_id, name=_(LOCAL_TERRITORY)
            )
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


def open_store(db_path: Path, today: Callable[[], date] | None = None) -> Store:
    """Open (and migrate) the database and make the store of its user."""
    engine = open_database(db_path)
    try:
        user = resolve_user(engine)
    except Exception:
        engine.dispose()
        raise
    log.info("database %s opened for %s (%s)", db_path, user.display_name, user.user_id)
    return Store(engine, user, today=today or today_source())
