"""Parked rows (pulled rows whose parent is not on this device) leave with their territory.

Issue #4: a device that lost a territory (scope change) or was signed in as
someone else dropped that territory's rows but kept the rows it had parked for
it in sync_state: stale data of a scope the user no longer has (SYNC.md
invariant 6), brought back should a row of that id ever arrive.
"""

from __future__ import annotations

from synce2e import FAST_PASSWORDS, PASSWORD, SERVER_URL, Device, World
from synctest import orphan, parked, unassign

from fieldrep.server.services import admin
from fieldrep.sync import api


def test_losing_a_territory_drops_the_rows_parked_for_it(world: World, bob: Device) -> None:
    ningbo = admin.add_territory(world.database, "宁波", region="华东")
    admin.assign(world.database, "bob", "宁波")
    kept = orphan(world, world.territory, "杭州孤儿")
    gone = orphan(world, ningbo, "宁波孤儿")
    bob.sync()
    assert parked(bob) == {kept, gone}
    unassign(world, "bob", ningbo)
    bob.sync()
    assert parked(bob) == {kept}
    assert all(values["territory_id"] == world.territory for values in bob.rows().values())


def test_signing_in_as_someone_else_drops_every_parked_row(world: World, bob: Device) -> None:
    admin.add_user(world.database, FAST_PASSWORDS, "carol", PASSWORD, role="rep")
    admin.assign(world.database, "carol", "杭州")
    orphan(world, world.territory, "杭州孤儿")
    bob.sync()
    assert len(parked(bob)) == 1
    api.login(bob.db_path, SERVER_URL, "carol", PASSWORD, transport=world.transport)
    assert parked(bob) == set()
