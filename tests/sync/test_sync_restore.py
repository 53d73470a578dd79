"""A server restored from a backup: devices give it back what it lost (reconcile.py)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from synce2e import (
    Crash,
    Device,
    World,
    assert_converged,
    backup_server,
    restore_server,
    server_rows,
)
from synctest import shared_dealer
from tenacity import wait_none

from fieldrep.server.api.routes import sync as sync_routes
from fieldrep.server.services import admin
from fieldrep.server.services import pull as pull_service
from fieldrep.storage.enums import AbcClass
from fieldrep.storage.models import Dealer
from fieldrep.storage.services import core
from fieldrep.sync import reconcile
from fieldrep.sync.engine import SyncEngine
from fieldrep.sync.protocol import CONFLICT_TABLE, PullRequest
from fieldrep.sync.reconcile import Verdict


@pytest.fixture
def alice(alice: Device) -> Device:
    """Alice's device (conftest.py), synced once: it holds the territory before any backup."""
    alice.sync()
    return alice


@pytest.fixture
def bob(bob: Device) -> Device:
    """Bob's device (conftest.py), synced once."""
    bob.sync()
    return bob


@pytest.fixture
def backup(tmp_path: Path) -> Path:
    return tmp_path / "backup.db"


def new_dealer(device: Device, name: str, **values: object) -> str:
    record = core.create(device.store, Dealer, {"name": name, "abc_class": AbcClass.B, **values})
    return record.id


def server_dealer(world: World, dealer_id: str) -> dict[str, object] | None:
    return server_rows(world).get(("dealer", dealer_id))


def server_conflicts(world: World) -> list[dict[str, object]]:
    return [values for key, values in server_rows(world).items() if key[0] == CONFLICT_TABLE]


def lose_an_edit(
    world: World, backup: Path, device: Device, dealer_id: str, values: dict[str, object]
) -> None:
    """Back the server up to ``backup``, let ``device`` edit the dealer and sync it,
    then restore the backup: the server has lost the edit, the device has not."""
    backup_server(world, backup)
    core.update(device.store, Dealer, dealer_id, values)
    device.sync()
    restore_server(world, backup)


def assert_all_converged(world: World, *devices: Device) -> None:
    for device in devices:
        assert_converged(world, device)


@pytest.mark.parametrize(
    ("local", "server", "local_stamp", "server_stamp", "restored", "expected"),
    [
        (3, 5, "2026-01-02", "2026-01-01", None, Verdict.SERVER),  # the server knows more
        (5, 3, "2026-01-02", "2026-01-01", None, Verdict.APPLY),  # server at an ancestor
        (5, 3, "2026-01-01", "2026-01-02", None, Verdict.CONFLICT),  # both moved since
        (4, 4, "2026-01-01", "2026-01-02", None, Verdict.CONFLICT),  # a version reused
        (5, 3, None, "2026-01-01", None, Verdict.CONFLICT),  # no stamp: never guess "apply"
        # With the row's version at the restore (R): ours lost (L > R), the server's
        # changed after the restore (S > R): both moved, however high S is.
        (2, 3, "2026-01-01", "2026-01-02", 1, Verdict.CONFLICT),
        (2, 9, "2026-01-01", "2026-01-02", 0, Verdict.CONFLICT),
        (2, 5, "2026-01-01", "2026-01-02", 2, Verdict.SERVER),  # we lost nothing (L <= R)
        (5, 3, "2026-01-02", "2026-01-01", 3, Verdict.APPLY),  # unchanged since the restore
        (5, 3, "2026-01-01", "2026-01-02", 3, Verdict.CONFLICT),  # a stamp still guards
    ],
)
def test_verdict(
    local: int,
    server: int,
    local_stamp: str | None,
    server_stamp: str,
    restored: int | None,
    expected: Verdict,
) -> None:
    assert reconcile.verdict(local, server, local_stamp, server_stamp, restored) is expected


def test_a_reconciliation_remembers_the_first_epoch_it_began_from(alice: Device) -> None:
    with alice.sync_engine.begin() as connection:
        reconcile.begin(connection, "epoch-a")
        # Another epoch change before it ended: its unseen rows are still from epoch-a.
        reconcile.begin(connection, "epoch-b")
        assert reconcile.known_epoch(connection) == "epoch-a"
        reconcile.finish(connection)
        assert reconcile.known_epoch(connection) is None
        assert not reconcile.pending(connection)


def test_old_version_survives_the_mark() -> None:
    for version in (0, 1, 7):
        assert reconcile.old_version(-version - 1) == version
        assert reconcile.old_version(version) == version


def test_a_lost_create_is_sent_again(
    world: World, alice: Device, bob: Device, backup: Path
) -> None:
    backup_server(world, backup)
    dealer_id = shared_dealer(alice, bob, city="杭州")
    restore_server(world, backup)
    assert server_dealer(world, dealer_id) is None
    summary = alice.sync()
    assert summary.resynced and alice.outbox() == []
    restored = server_dealer(world, dealer_id)
    assert restored is not None and restored["city"] == "杭州"
    bob.sync()  # bob held the row too: it is there already, nothing doubles
    for device in (alice, bob):
        assert_converged(world, device)
        assert device.outbox() == []
    assert server_conflicts(world) == []
    assert [key for key in server_rows(world) if key[0] == "dealer"] == [("dealer", dealer_id)]


def test_a_lost_edit_is_sent_again(world: World, alice: Device, bob: Device, backup: Path) -> None:
    dealer_id = shared_dealer(alice, bob, city="杭州")
    lose_an_edit(world, backup, alice, dealer_id, {"city": "宁波", "address": "江北区 8 号"})
    assert (server_dealer(world, dealer_id) or {})["city"] == "杭州"
    alice.sync()
    bob.sync()
    restored = server_dealer(world, dealer_id) or {}
    assert (restored["city"], restored["address"]) == ("宁波", "江北区 8 号")
    assert server_conflicts(world) == []
    for device in (alice, bob):
        assert core.fetch(device.store, Dealer, dealer_id)["city"] == "宁波"
        assert_converged(world, device)


def test_a_lost_delete_is_sent_again(
    world: World, alice: Device, bob: Device, backup: Path
) -> None:
    dealer_id = shared_dealer(alice, bob)
    backup_server(world, backup)
    core.delete(alice.store, Dealer, dealer_id)
    alice.sync()
    restore_server(world, backup)
    alice.sync()
    bob.sync()
    assert (server_dealer(world, dealer_id) or {})["deleted"] is True
    assert_all_converged(world, alice, bob)


def test_a_row_newer_on_the_server_is_not_overwritten(
    world: World, alice: Device, bob: Device, backup: Path
) -> None:
    # bob knows the row at its first version and never edits it
    dealer_id = shared_dealer(alice, bob, city="杭州")
    core.update(alice.store, Dealer, dealer_id, {"city": "宁波"})
    alice.sync()
    backup_server(world, backup)
    restore_server(world, backup)
    # After the restore alice changes the row again, before bob comes back.
    core.update(alice.store, Dealer, dealer_id, {"city": "温州"})
    alice.sync()
    summary = bob.sync()
    assert summary.resynced and bob.outbox() == []
    assert core.fetch(bob.store, Dealer, dealer_id)["city"] == "温州"
    assert (server_dealer(world, dealer_id) or {})["city"] == "温州"
    assert server_conflicts(world) == []
    assert_all_converged(world, alice, bob)


def test_a_row_changed_on_both_sides_keeps_both_values(
    world: World, alice: Device, bob: Device, backup: Path
) -> None:
    dealer_id = shared_dealer(alice, bob, city="杭州")
    # accepted, then lost by the restore
    lose_an_edit(world, backup, alice, dealer_id, {"city": "宁波"})
    core.update(bob.store, Dealer, dealer_id, {"city": "温州"})
    bob.sync()  # bob's change reaches the restored server first: the same version number
    alice.sync()
    bob.sync()
    conflicts = server_conflicts(world)
    city = (server_dealer(world, dealer_id) or {})["city"]
    assert city == "温州"
    assert [(c["field"], c["mine"], c["theirs"]) for c in conflicts] == [("city", "宁波", "温州")]
    assert_all_converged(world, alice, bob)


def test_a_lost_edit_survives_more_changes_made_after_the_restore(
    world: World, alice: Device, bob: Device, backup: Path
) -> None:
    dealer_id = shared_dealer(alice, bob, city="杭州")
    # accepted at version 2, then lost by the restore
    lose_an_edit(world, backup, alice, dealer_id, {"city": "宁波"})
    # Bob changes the row twice after the restore: the server's version (3) passes
    # alice's (2), so versions alone say "the server is newer".
    core.update(bob.store, Dealer, dealer_id, {"city": "温州"})
    bob.sync()
    core.update(bob.store, Dealer, dealer_id, {"city": "台州"})
    bob.sync()
    alice.sync()
    bob.sync()
    assert (server_dealer(world, dealer_id) or {})["city"] == "台州"
    conflicts = server_conflicts(world)
    assert [(c["field"], c["mine"], c["theirs"]) for c in conflicts] == [("city", "宁波", "台州")]
    assert_all_converged(world, alice, bob)


def test_a_lost_edit_of_one_field_survives_changes_of_another_after_the_restore(
    world: World, alice: Device, bob: Device, backup: Path
) -> None:
    dealer_id = shared_dealer(alice, bob, city="杭州")
    lose_an_edit(world, backup, alice, dealer_id, {"city": "宁波"})
    for address in ("江北区 8 号", "江北区 9 号"):
        core.update(bob.store, Dealer, dealer_id, {"address": address})
        bob.sync()
    alice.sync()
    bob.sync()
    restored = server_dealer(world, dealer_id) or {}
    # The server says which fields changed since the restore, with their values
    # then: the city did not (alice's lost edit is applied again), the address
    # did and alice still held its value at the restore (bob's change is taken).
    # Neither is a conflict.
    assert (restored["city"], restored["address"]) == ("宁波", "江北区 9 号")
    assert server_conflicts(world) == []
    for device in (alice, bob):
        assert core.fetch(device.store, Dealer, dealer_id)["city"] == "宁波"
        assert_converged(world, device)


def test_a_server_that_does_not_list_reconcile_from_is_not_sent_it(
    world: World, alice: Device, bob: Device, backup: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An older server lists no features and refuses fields it does not know.
    monkeypatch.setattr(sync_routes, "SERVER_FEATURES", ())
    sent: list[str | None] = []
    real_pull = pull_service.pull

    def pull(database: Any, caller: Any, request: PullRequest) -> Any:
        sent.append(request.reconcile_from)
        return real_pull(database, caller, request)

    monkeypatch.setattr(pull_service, "pull", pull)
    dealer_id = new_dealer(alice, "杭州恒达", city="杭州")
    alice.sync()
    bob.sync()
    backup_server(world, backup)
    core.update(alice.store, Dealer, dealer_id, {"city": "宁波"})
    alice.sync()
    restore_server(world, backup)
    core.update(bob.store, Dealer, dealer_id, {"address": "江北区 8 号"})
    bob.sync()
    sent.clear()
    alice.sync()
    bob.sync()
    assert sent and set(sent) == {None}
    # Without the restored values alice's lost city is still kept, as a record.
    conflicts = {c["field"]: c for c in server_conflicts(world)}
    assert set(conflicts) == {"city", "address"}
    assert conflicts["city"]["mine"] == "宁波"
    for device in (alice, bob):
        assert_converged(world, device)


def test_both_moved_only_a_field_changed_on_both_sides_is_a_conflict(
    world: World, alice: Device, bob: Device, backup: Path
) -> None:
    dealer_id = shared_dealer(alice, bob, city="杭州", address="西湖区 1 号")
    # both lost by the restore
    lose_an_edit(world, backup, alice, dealer_id, {"city": "宁波", "phone": "0574-12345678"})
    core.update(bob.store, Dealer, dealer_id, {"city": "温州", "address": "江北区 8 号"})
    bob.sync()
    alice.sync()
    bob.sync()
    restored = server_dealer(world, dealer_id) or {}
    # city: changed on both sides (a genuine conflict, bob's value stays); phone:
    # alice's lost edit, applied; address: bob's alone, kept.
    assert (restored["city"], restored["phone"], restored["address"]) == (
        "温州",
        "0574-12345678",
        "江北区 8 号",
    )
    conflicts = server_conflicts(world)
    assert [(c["field"], c["base"], c["mine"], c["theirs"]) for c in conflicts] == [
        ("city", "杭州", "宁波", "温州")
    ]
    assert_all_converged(world, alice, bob)


def test_a_device_offline_through_two_restores_keeps_its_lost_edit(
    world: World, alice: Device, bob: Device, tmp_path: Path
) -> None:
    dealer_id = shared_dealer(alice, bob, city="杭州")
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    # version 2, lost by the first restore; alice then sleeps
    lose_an_edit(world, first, alice, dealer_id, {"city": "宁波"})
    # Between the restores bob moves the row past alice's version (3 > 2).
    for address in ("江北区 8 号", "江北区 9 号"):
        core.update(bob.store, Dealer, dealer_id, {"address": address})
        bob.sync()
    backup_server(world, second)
    restore_server(world, second)  # nothing lost this time; the row is at 3 then
    bob.sync()
    alice.sync()
    bob.sync()
    restored = server_dealer(world, dealer_id) or {}
    # Against the latest restore alice's version (2) looks older than the row's
    # then (3); from her epoch the first restore counts (version 1 then).
    assert (restored["city"], restored["address"]) == ("宁波", "江北区 9 号")
    assert server_conflicts(world) == []
    for device in (alice, bob):
        assert core.fetch(device.store, Dealer, dealer_id)["city"] == "宁波"
        assert_converged(world, device)


def test_two_restores_a_field_changed_between_them_by_both_is_a_conflict(
    world: World, alice: Device, bob: Device, tmp_path: Path
) -> None:
    dealer_id = shared_dealer(alice, bob, city="杭州")
    first, second = tmp_path / "first.db", tmp_path / "second.db"
    lose_an_edit(world, first, alice, dealer_id, {"city": "宁波"})
    for city in ("温州", "台州"):
        core.update(bob.store, Dealer, dealer_id, {"city": city})
        bob.sync()
    backup_server(world, second)
    restore_server(world, second)
    alice.sync()
    bob.sync()
    assert (server_dealer(world, dealer_id) or {})["city"] == "台州"
    conflicts = server_conflicts(world)
    assert [(c["field"], c["mine"], c["theirs"]) for c in conflicts] == [("city", "宁波", "台州")]
    assert_all_converged(world, alice, bob)


def test_a_delete_made_after_the_restore_wins_over_a_lost_edit(
    world: World, alice: Device, bob: Device, backup: Path
) -> None:
    dealer_id = shared_dealer(alice, bob, city="杭州")
    lose_an_edit(world, backup, alice, dealer_id, {"city": "宁波"})
    core.update(bob.store, Dealer, dealer_id, {"address": "江北区 8 号"})
    bob.sync()
    core.delete(bob.store, Dealer, dealer_id)
    bob.sync()
    alice.sync()
    bob.sync()
    # Alice's live copy is not taken for a lost undelete: bob's delete stays, and
    # her lost city is kept in a delete-versus-edit record.
    assert (server_dealer(world, dealer_id) or {})["deleted"] is True
    cities = [c["mine"] for c in server_conflicts(world) if c["field"] == "city"]
    assert cities == ["宁波"]
    assert_all_converged(world, alice, bob)


def test_a_device_that_knew_no_lost_change_takes_the_server_rows_quietly(
    world: World, alice: Device, bob: Device, backup: Path
) -> None:
    dealer_id = shared_dealer(alice, bob, city="杭州")
    backup_server(world, backup)
    restore_server(world, backup)  # nothing was lost
    for city in ("温州", "台州"):
        core.update(alice.store, Dealer, dealer_id, {"city": city})
        alice.sync()
    summary = bob.sync()
    assert summary.resynced and bob.outbox() == []
    assert core.fetch(bob.store, Dealer, dealer_id)["city"] == "台州"
    assert server_conflicts(world) == []
    assert_all_converged(world, alice, bob)


def test_two_devices_sending_the_same_lost_row_give_one_row(
    world: World, alice: Device, bob: Device, backup: Path
) -> None:
    backup_server(world, backup)
    dealer_id = shared_dealer(alice, bob, city="杭州")
    core.update(alice.store, Dealer, dealer_id, {"city": "宁波"})
    alice.sync()  # bob never pulled this edit
    restore_server(world, backup)
    bob.sync()  # bob gives the row back with the value he knew
    alice.sync()
    bob.sync()
    dealers = [key for key in server_rows(world) if key[0] == "dealer"]
    assert dealers == [("dealer", dealer_id)]
    conflicts = server_conflicts(world)
    assert len(conflicts) <= 1
    city = (server_dealer(world, dealer_id) or {})["city"]
    assert city == "宁波" or [c["mine"] for c in conflicts] == ["宁波"]
    assert_all_converged(world, alice, bob)


def test_a_pending_edit_stays_as_it_is(world: World, alice: Device, backup: Path) -> None:
    dealer_id = new_dealer(alice, "杭州恒达", city="杭州")
    alice.sync()
    lose_an_edit(world, backup, alice, dealer_id, {"address": "江北区 8 号"})
    core.update(alice.store, Dealer, dealer_id, {"city": "宁波"})  # offline, not yet sent
    alice.sync()
    restored = server_dealer(world, dealer_id) or {}
    assert (restored["city"], restored["address"]) == ("宁波", "江北区 8 号")
    assert alice.outbox() == []
    assert_converged(world, alice)


def test_a_plain_resync_does_not_reconcile(world: World, alice: Device) -> None:
    new_dealer(alice, "杭州恒达")
    alice.sync()
    admin.prune_change_log(world.database, 0)
    new_dealer(alice, "杭州新达")
    summary = alice.sync()
    with alice.engine.connect() as connection:
        assert not reconcile.pending(connection)
        assert connection.exec_driver_sql("SELECT min(row_version) FROM dealer").scalar() >= 1
    assert summary.pushed == 1
    assert_converged(world, alice)


def _unseen(device: Device) -> int:
    with device.engine.connect() as connection:
        return int(
            connection.exec_driver_sql("SELECT count(*) FROM dealer WHERE row_version < 0").scalar()
            or 0
        )


def test_a_crash_mid_snapshot_still_reconciles(world: World, alice: Device, backup: Path) -> None:
    ids = [new_dealer(alice, f"经销商{n}", city="杭州") for n in range(6)]
    alice.sync()
    backup_server(world, backup)
    for dealer_id in ids:
        core.update(alice.store, Dealer, dealer_id, {"city": "宁波"})
    lost = new_dealer(alice, "丢失的经销商")
    alice.sync()
    restore_server(world, backup)
    # Pull 0 answers 410, pulls 1-3 bring users, the territory and some dealers (3 rows
    # a page): die at the fourth page, in the middle of the dealers.
    alice.transport.crash_at = alice.transport.sync_requests + 4
    engine = SyncEngine(
        alice.db_path,
        transport=alice.transport,
        wait=wait_none(),
        engine=alice.sync_engine,
        pull_limit=3,
    )
    with pytest.raises(Crash):
        engine.sync()
    alice.reopen()
    with alice.engine.connect() as connection:
        assert reconcile.pending(connection)
    assert 0 < _unseen(alice) < 7
    alice.sync()
    assert _unseen(alice) == 0 and alice.outbox() == []
    for dealer_id in ids:
        assert (server_dealer(world, dealer_id) or {})["city"] == "宁波"
    assert server_dealer(world, lost) is not None
    assert server_conflicts(world) == []
    assert_converged(world, alice)


def test_a_crash_before_the_end_of_reconciling_still_reconciles(
    world: World, alice: Device, backup: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    backup_server(world, backup)
    lost = new_dealer(alice, "丢失的经销商")
    alice.sync()
    restore_server(world, backup)
    finish = reconcile.finish

    def crash(*_args: object) -> reconcile.ReconcileStats:
        raise Crash()

    monkeypatch.setattr(reconcile, "finish", crash)
    with pytest.raises(Crash):
        alice.sync()
    monkeypatch.setattr(reconcile, "finish", finish)
    alice.reopen()
    assert _unseen(alice) == 1
    alice.sync()
    assert server_dealer(world, lost) is not None
    assert alice.outbox() == []
    assert_converged(world, alice)


def test_edits_made_while_reconciling_are_sent_with_their_old_base(
    world: World, alice: Device, backup: Path
) -> None:
    dealer_id = new_dealer(alice, "杭州恒达", city="杭州")
    alice.sync()
    backup_server(world, backup)
    restore_server(world, backup)
    with alice.sync_engine.begin() as connection:
        reconcile.begin(connection)  # as if the resync had started and then stopped
    core.update(alice.store, Dealer, dealer_id, {"city": "宁波"})
    [op] = alice.outbox()
    assert op.base_version < 0
    alice.sync()
    assert (server_dealer(world, dealer_id) or {})["city"] == "宁波"
    assert_converged(world, alice)
    with alice.engine.connect() as connection:
        versions = connection.execute(text("SELECT row_version FROM dealer")).scalars().all()
    assert min(versions) >= 1
