"""Who works on the database: the signed-in user, else the first rep, else a new local rep."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from fieldrep.storage.db import open_database
from fieldrep.storage.enums import Role
from fieldrep.storage.models import AppUser
from fieldrep.ui.startup import open_store, resolve_user, today_source


def test_empty_database_gets_a_local_rep_once(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "empty.db")
    try:
        first = resolve_user(engine)
        again = resolve_user(engine)
        assert first == again
        assert first.role == Role.REP and first.territory_id
        with Session(engine) as session:
            assert session.scalars(select(AppUser.id)).all() == [first.user_id]
    finally:
        engine.dispose()


def test_the_signed_in_user_wins_over_the_first_rep(demo_engine: Engine) -> None:
    with Session(demo_engine) as session:
        other = session.scalars(
            select(AppUser).where(AppUser.role == Role.REP).order_by(AppUser.id.desc())
        ).first()
        assert other is not None
        other_id, other_territory = other.id, other.territory_id
    assert resolve_user(demo_engine).user_id != other_id
    with demo_engine.begin() as connection:
        for key, value in (
            ("user_id", other_id),
            ("territory_ids", json.dumps([other_territory])),
            ("user_role", "rep"),
            ("user_display_name", "韩梅梅"),
        ):
            connection.execute(
                text("INSERT INTO sync_state (key, value) VALUES (:k, :v)"),
                {"k": key, "v": value},
            )
    signed_in = resolve_user(demo_engine)
    assert (signed_in.user_id, signed_in.territory_id) == (other_id, other_territory)
    assert signed_in.display_name == "韩梅梅"


def test_open_store_with_a_fixed_day(tmp_path: Path) -> None:
    store = open_store(tmp_path / "new.db", today_source("2026-03-16"))
    try:
        assert store.today() == date(2026, 3, 16)
    finally:
        store.engine.dispose()
