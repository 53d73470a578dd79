"""A territory lost while the device resyncs leaves the device (issue #4, SYNC.md invariant 6).

A pull names the territories the device may no longer see in ``revoked_streams``,
but only for cursors the device sent. After a 410 (``cursor_too_old``) or an
epoch change the device forgets its cursors first, so a territory taken from the
rep at that moment was never named: its rows and parked rows stayed on the device
for good, and a reconciliation queued its unseen rows again as creates, which the
server refused. The pull's ``scope`` (the territories in the caller's scope) lets
the device drop them once the resync ends; unsent changes of such a territory
stay visible as refused, with the reason.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from synce2e import Crash, Device, World, backup_server, restore_server, server_rows
from synctest import orphan, parked, unassign
from tenacity import wait_none

from fieldrep.server.services import admin
from fieldrep.server.services import pull as pull_service
from fieldrep.storage.enums import AbcClass
from fieldrep.storage.models import Dealer
from fieldrep.storage.services import core
from fieldrep.sync import api
from fieldrep.sync.engine import SyncEngine
from fieldrep.sync.protocol import CONFLICT_TABLE, Reason


@pytest.fixture
def ningbo(world: World) -> str:
    """A second territory, 宁波, that bob holds besides 杭州."""
    territory = admin.add_territory(world.database, "宁波", region="华东")
    admin.assign(world.database, "bob", "宁波")
    return territory


def new_dealer(device: Device, name: str, territory_id: str) -> str:
    values = {"name": name, "abc_class": AbcClass.B, "territory_id": territory_id}
    return core.create(device.store, Dealer, values).id


def rows_of(device: Device, territory_id: str) -> set[tuple[str, str]]:
    return {key for key, values in device.rows().items() if values["territory_id"] == territory_id}


def refused(device: Device) -> dict[str, str]:
    """Refused changes as row id -> the refusal's reason code."""
    return {op.row_id: json.loads(op.reason or "{}")["code"] for op in device.outbox("rejected")}


@pytest.fixture
def bob_with_both(world: World, bob: Device, ningbo: str) -> Device:
    """Bob's device holding rows and a parked row of 宁波 and of 杭州."""
    new_dealer(bob, "宁波恒达", ningbo)
    new_dealer(bob, "杭州恒达", world.territory)
    orphan(world, ningbo, "宁波孤儿")
    orphan(world, world.territory, "杭州孤儿")
    bob.sync()
    assert rows_of(bob, ningbo) and len(parked(bob)) == 2
    return bob


def assert_only_hangzhou_left(world: World, bob: Device, ningbo: str) -> None:
    assert rows_of(bob, ningbo) == set()
    assert all(values["territory_id"] == world.territory for values in bob.rows().values())
    hangzhou_orphans = {
        row_id
        for (table, row_id), values in server_rows(world).items()
        if table == "contact" and values["territory_id"] == world.territory
    }
    assert parked(bob) and parked(bob) <= hangzhou_orphans


def too_old_cursors(world: World) -> None:
    """A change in 杭州 after bob's last pull, then the log pruned: his cursor is too old."""
    orphan(world, world.territory, "杭州新孤儿")
    admin.prune_change_log(world.database, 0)


def test_a_territory_lost_with_a_too_old_cursor_leaves_the_device(
    world: World, bob_with_both: Device, ningbo: str
) -> None:
    bob = bob_with_both
    unassign(world, "bob", ningbo)
    too_old_cursors(world)
    summary = bob.sync()
    assert summary.resynced  # the 410 path, where no stream is named as revoked
    assert_only_hangzhou_left(world, bob, ningbo)
    assert refused(bob) == {}
    assert bob.sync().pulled == 0  # and it stays that way: nothing comes back


def test_a_territory_lost_at_a_restore_is_not_sent_back_and_leaves_the_device(
    world: World, bob_with_both: Device, ningbo: str, tmp_path: Path
) -> None:
    bob = bob_with_both
    backup = tmp_path / "backup.db"
    backup_server(world, backup)
    restore_server(world, backup)
    unassign(world, "bob", ningbo)  # the assignment is put right after the restore
    summary = bob.sync()
    assert summary.resynced
    assert_only_hangzhou_left(world, bob, ningbo)
    # The reconciliation queued nothing of 宁波 again as a create: nothing refused.
    assert refused(bob) == {}
    assert bob.outbox() == []
    # 杭州 as the server holds it (its orphans parked here).
    hangzhou = {
        key
        for key, values in server_rows(world).items()
        if key[0] != CONFLICT_TABLE and values["territory_id"] == world.territory
    }
    assert set(bob.rows()) | {("contact", row_id) for row_id in parked(bob)} == hangzhou


def test_unsent_changes_of_a_territory_lost_at_a_restore_stay_visible_as_refused(
    world: World, bob_with_both: Device, ningbo: str, tmp_path: Path
) -> None:
    bob = bob_with_both
    (kept_dealer,) = [key[1] for key in rows_of(bob, world.territory) if key[0] == "dealer"]
    (lost_dealer,) = [key[1] for key in rows_of(bob, ningbo) if key[0] == "dealer"]
    backup = tmp_path / "backup.db"
    backup_server(world, backup)
    restore_server(world, backup)
    unassign(world, "bob", ningbo)
    # Offline: an edit and a new dealer in 宁波, an edit in 杭州.
    core.update(bob.store, Dealer, lost_dealer, {"city": "宁波北仑"})
    new_in_lost = new_dealer(bob, "宁波新店", ningbo)
    core.update(bob.store, Dealer, kept_dealer, {"city": "杭州滨江"})
    summary = bob.sync()
    assert_only_hangzhou_left(world, bob, ningbo)
    # Not dropped in silence: both changes are kept, refused, with the scope reason.
    assert refused(bob) == {lost_dealer: Reason.OUT_OF_SCOPE, new_in_lost: Reason.OUT_OF_SCOPE}
    assert {change.row_id for change in summary.rejected} == {lost_dealer, new_in_lost}
    assert bob.outbox() == []
    # The rep sees what was not sent: the list of refused changes shows the values.
    shown = {
        view.row_id: {f.field: f.mine for f in view.fields}
        for view in api.list_rejected(bob.engine)
    }
    assert shown[lost_dealer] == {"city": "宁波北仑"}
    labels = {view.row_id: view.record_label for view in api.list_rejected(bob.engine)}
    assert labels == {lost_dealer: "宁波恒达", new_in_lost: "宁波新店"}
    assert shown[new_in_lost]["name"] == "宁波新店"
    assert (server_rows(world).get(("dealer", kept_dealer)) or {})["city"] == "杭州滨江"
    assert ("dealer", new_in_lost) not in server_rows(world)


def test_unsent_changes_of_a_territory_lost_with_a_too_old_cursor_stay_visible_as_refused(
    world: World, bob_with_both: Device, ningbo: str
) -> None:
    bob = bob_with_both
    (lost_dealer,) = [key[1] for key in rows_of(bob, ningbo) if key[0] == "dealer"]
    unassign(world, "bob", ningbo)
    too_old_cursors(world)
    core.update(bob.store, Dealer, lost_dealer, {"city": "宁波北仑"})
    bob.sync()
    assert_only_hangzhou_left(world, bob, ningbo)
    assert refused(bob) == {lost_dealer: Reason.OUT_OF_SCOPE}


def test_a_server_that_does_not_name_the_scope_still_resyncs(
    world: World, bob_with_both: Device, ningbo: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    bob = bob_with_both
    real_to_json = pull_service.PullPage.to_json

    def older_server(page: pull_service.PullPage) -> str:
        body = json.loads(real_to_json(page))
        body.pop("scope", None)
        return json.dumps(body, ensure_ascii=False)

    unassign(world, "bob", ningbo)
    too_old_cursors(world)
    with monkeypatch.context() as patch:
        patch.setattr(pull_service.PullPage, "to_json", older_server)
        assert bob.sync().resynced
    # It cannot tell: 宁波 stays (as before the scope was sent); nothing refused or lost.
    assert rows_of(bob, ningbo)
    assert refused(bob) == {} and bob.outbox() == []
    # Once the server names the scope, the next resync drops it.
    too_old_cursors(world)
    assert bob.sync().resynced
    assert_only_hangzhou_left(world, bob, ningbo)


def test_a_crash_in_the_middle_of_the_resync_still_drops_the_lost_territory(
    world: World, bob_with_both: Device, ningbo: str
) -> None:
    bob = bob_with_both
    unassign(world, "bob", ningbo)
    too_old_cursors(world)
    # Pull 0 answers 410, pull 1 brings the snapshot's first page: die at pull 2.
    bob.transport.crash_at = bob.transport.sync_requests + 2
    engine = SyncEngine(
        bob.db_path, transport=bob.transport, wait=wait_none(), engine=bob.sync_engine, pull_limit=2
    )
    with pytest.raises(Crash):
        engine.sync()
    bob.reopen()
    assert rows_of(bob, ningbo)  # mid-snapshot: the check is still due
    bob.sync()  # resumes from the snapshot's cursors (no 410, nothing revoked)
    assert_only_hangzhou_left(world, bob, ningbo)
