"""A role changed on the server reaches the device at its next sync.

Sign-in stores the user's role once; the administrator may change it later
(``fieldrep server set-role``), which changes the user's published app_user row
too. After each sync the device's user context follows that row
(:func:`fieldrep.sync.api.follow_user_row`), so the manager's fields open or
close without signing in again.
"""

from __future__ import annotations

import pytest
from synce2e import FAST_PASSWORDS, PASSWORD, Device, World, server_rows
from tenacity import wait_none

from fieldrep.server.services import admin
from fieldrep.server.services.admin import AdminError
from fieldrep.storage.enums import Role
from fieldrep.sync import api, local
from fieldrep.sync.engine import SyncSummary


def run_sync(device: Device) -> SyncSummary:
    """A sync as the GUI's Sync now makes it (through fieldrep.sync.api)."""
    return api.run_sync(device.db_path, transport=device.transport, wait=wait_none())


def user_id(device: Device) -> str:
    with device.engine.connect() as connection:
        found = local.get_state(connection, local.USER_ID)
    assert found is not None
    return found


def test_a_role_changed_on_the_server_is_taken_at_the_next_sync(
    world: World, alice: Device
) -> None:
    run_sync(alice)
    assert api.user_context(alice.engine).role is Role.REP
    admin.set_role(world.database, "alice", "manager")
    assert server_rows(world)[("app_user", user_id(alice))]["role"] == "manager"
    assert api.user_context(alice.engine).role is Role.REP, "the device learns it at a sync"
    run_sync(alice)
    context = api.user_context(alice.engine)
    assert (context.role, context.display_name) == (Role.MANAGER, "李雷")
    admin.set_role(world.database, "alice", "rep")
    run_sync(alice)
    assert api.user_context(alice.engine).role is Role.REP


def test_setting_the_same_role_again_changes_no_row(world: World, alice: Device) -> None:
    run_sync(alice)
    version = server_rows(world)[("app_user", user_id(alice))]["row_version"]
    admin.set_role(world.database, "alice", "rep")
    assert server_rows(world)[("app_user", user_id(alice))]["row_version"] == version


def test_a_user_not_published_yet_gets_the_new_role_when_assigned(world: World) -> None:
    carol = admin.add_user(world.database, FAST_PASSWORDS, "carol", PASSWORD, role="rep")
    admin.set_role(world.database, "carol", "manager")
    assert ("app_user", carol) not in server_rows(world)
    admin.assign(world.database, "carol", "杭州")
    assert server_rows(world)[("app_user", carol)]["role"] == "manager"


def test_an_unknown_role_is_refused(world: World) -> None:
    with pytest.raises(AdminError):
        admin.set_role(world.database, "alice", "boss")
