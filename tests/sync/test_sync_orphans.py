"""Parked rows (pulled rows whose parent is not on this device) leave with their territory.

Issue #4: a device that lost a territory (scope change) or was signed in as
someone else dropped that territory's rows but kept the rows it had parked for
it in sync_state: stale data of a scope the user no longer has (SYNC.md
invariant 6), brought back should a row of that id ever arrive.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete, select
from synce2e import FAST_PASSWORDS, PASSWORD, SERVER_URL, Device, World
from synctest import contact_values

from fieldrep.server.core.security import new_id
from fieldrep.server.models import Assignment, User
from fieldrep.server.services import admin
from fieldrep.server.services.rowstore import ChangeWriter
from fieldrep.server.services.scope import SYSTEM_USER_ID
from fieldrep.sync import api, orphans


def _orphan(world: World, territory_id: str, name: str) -> str:
    """A contact whose dealer never existed, as a server without the reference check stored it."""
    row_id = new_id()

    def work(session: Any) -> None:
        writer = ChangeWriter(session, user_id=SYSTEM_USER_ID, device_id=None)
        writer.lock_streams([territory_id])
        writer.insert("contact", row_id, territory_id, contact_values(territory_id, new_id(), name))

    world.database.write(work)
    return row_id


def _parked(device: Device) -> set[str]:
    with device.engine.connect() as connection:
        return {str(values["id"]) for _, values in orphans.parked_rows(connection)}


def _unassign(world: World, username: str, territory_id: str) -> None:
    def work(session: Any) -> None:
        user_id = session.scalars(select(User.id).where(User.username == username)).one()
        session.execute(
            delete(Assignment).where(
                Assignment.user_id == user_id, Assignment.territory_id == territory_id
            )
        )

    world.database.write(work)


def test_losing_a_territory_drops_the_rows_parked_for_it(world: World, bob: Device) -> None:
    ningbo = admin.add_territory(world.database, "宁波", region="华东")
    admin.assign(world.database, "bob", "宁波")
    kept = _orphan(world, world.territory, "杭州孤儿")
    gone = _orphan(world, ningbo, "宁波孤儿")
    bob.sync()
    assert _parked(bob) == {kept, gone}
    _unassign(world, "bob", ningbo)
    bob.sync()
    assert _parked(bob) == {kept}
    assert all(values["territory_id"] == world.territory for values in bob.rows().values())


def test_signing_in_as_someone_else_drops_every_parked_row(world: World, bob: Device) -> None:
    admin.add_user(world.database, FAST_PASSWORDS, "carol", PASSWORD, role="rep")
    admin.assign(world.database, "carol", "杭州")
    _orphan(world, world.territory, "杭州孤儿")
    bob.sync()
    assert len(_parked(bob)) == 1
    api.login(bob.db_path, SERVER_URL, "carol", PASSWORD, transport=world.transport)
    assert _parked(bob) == set()
