"""Opening the database and deciding who works on it (no Qt; runs on the DB worker).

Who is signed in: the user of the sync sign-in when there is one; otherwise the
first sales rep in the database (a demo or an imported territory); on an empty
database, a local rep and territory are made so the workbench can be used at
once, offline, before any server exists.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from fieldrep.i18n import N_, _
from fieldrep.storage.db import open_database
from fieldrep.storage.screens.startup import (
    first_rep_or_new,
    signed_in_user_id,
    with_stored_territory,
)
from fieldrep.storage.services.core import Store, UserContext

if TYPE_CHECKING:
    # The engine is only passed through, opaquely, to the storage functions.
    from sqlalchemy import Engine

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


def signed_in_user(engine: Engine) -> UserContext | None:
    """The user of the sync sign-in as stored now (a sync may have changed the role)."""
    if signed_in_user_id(engine) is None:
        return None
    from fieldrep.sync import api

    context = with_stored_territory(engine, api.user_context(engine))
    return context if context.territory_id else None


def resolve_user(engine: Engine) -> UserContext:
    """The user of this database (see the module docstring); creates one when empty."""
    signed_in = signed_in_user(engine)
    if signed_in is not None:
        return signed_in
    return first_rep_or_new(engine, _(LOCAL_TERRITORY))


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
