"""Edits still unsent when a device reconciles with a restored server (reconcile.py).

An edit's base is the value the rep saw. After a restore the server may have
lost the change that gave that value: its value is then an older state of the
same history, and the edit must apply on it as it would have before the
restore, not turn into a conflict that the rep's own older values then win.
Found by the sync state machine (an edit made during a sync overwritten by it).
"""

from __future__ import annotations

from pathlib import Path

import pytest
from synce2e import (
    Crash,
    Device,
    World,
    assert_converged,
    backup_server,
    restore_server,
    server_rows,
)

from fieldrep.storage.enums import AbcClass
from fieldrep.storage.models import Dealer
from fieldrep.storage.services import core
from fieldrep.sync import local
from fieldrep.sync.protocol import CONFLICT_TABLE


def shared_dealer(alice: Device, bob: Device) -> str:
    """A dealer alice creates in 杭州 and both devices sync."""
    alice.sync()
    bob.sync()
    record = core.create(
        alice.store, Dealer, {"name": "杭州恒达", "abc_class": AbcClass.B, "city": "杭州"}
    )
    alice.sync()
    bob.sync()
    return record.id


def city(device: Device, dealer_id: str) -> object:
    return core.fetch(device.store, Dealer, dealer_id)["city"]


def server_city(world: World, dealer_id: str) -> object:
    return server_rows(world)[("dealer", dealer_id)]["city"]


def conflicts(world: World) -> list[tuple[object, object, object]]:
    return sorted(
        (values["mine"], values["theirs"], values["status"])
        for key, values in server_rows(world).items()
        if key[0] == CONFLICT_TABLE
    )


def test_an_edit_made_while_reconciling_wins_over_an_older_lost_conflict(
    world: World, alice: Device, bob: Device, tmp_path: Path
) -> None:
    dealer_id = shared_dealer(alice, bob)
    backup_server(world, tmp_path / "backup.db")
    core.update(bob.store, Dealer, dealer_id, {"city": "宁波"})
    bob.sync()
    core.update(alice.store, Dealer, dealer_id, {"city": "温州"})
    alice.sync()  # a conflict: alice's 温州 kept in a record, 宁波 stays
    assert conflicts(world) == [("温州", "宁波", "open")]
    restore_server(world, tmp_path / "backup.db")  # 宁波 and the record are lost

    def edit() -> None:
        # Alice, who saw 宁波, types 台州 while the sync runs (it reconciles).
        core.update(alice.store, Dealer, dealer_id, {"city": "台州"})

    alice.sync(after_push=edit)
    # Her newest value stands; her older 温州, lost with its record, is kept again
    # as a record, never applied over 台州.
    assert city(alice, dealer_id) == "台州"
    assert server_city(world, dealer_id) == "台州"
    assert ("温州", "台州", "open") in conflicts(world)
    bob.sync()
    alice.sync()
    for device in (alice, bob):
        assert_converged(world, device)
    assert server_city(world, dealer_id) == "台州"


def test_an_unsent_edit_whose_base_the_restore_lost_is_applied(
    world: World, alice: Device, bob: Device, tmp_path: Path
) -> None:
    dealer_id = shared_dealer(alice, bob)
    backup_server(world, tmp_path / "backup.db")
    core.update(bob.store, Dealer, dealer_id, {"city": "宁波"})
    bob.sync()
    alice.sync()  # alice sees 宁波
    restore_server(world, tmp_path / "backup.db")  # the server is back at 杭州
    core.update(alice.store, Dealer, dealer_id, {"city": "台州"})  # base 宁波, lost upstream
    alice.sync()
    # 杭州 is an older state of what alice saw: her edit applies, no conflict.
    assert server_city(world, dealer_id) == "台州"
    assert city(alice, dealer_id) == "台州"
    assert conflicts(world) == []
    # Bob gives back his lost 宁波: it meets alice's newer value, kept in a record.
    bob.sync()
    alice.sync()
    assert server_city(world, dealer_id) == "台州"
    assert conflicts(world) == [("宁波", "台州", "open")]
    for device in (alice, bob):
        assert_converged(world, device)


def test_an_unsent_edit_older_than_the_backup_still_conflicts(
    world: World, alice: Device, bob: Device, tmp_path: Path
) -> None:
    dealer_id = shared_dealer(alice, bob)
    core.update(alice.store, Dealer, dealer_id, {"city": "台州"})  # offline, base 杭州
    core.update(bob.store, Dealer, dealer_id, {"city": "宁波"})
    bob.sync()
    backup_server(world, tmp_path / "backup.db")  # the backup has bob's 宁波
    restore_server(world, tmp_path / "backup.db")  # nothing lost, a new epoch
    alice.sync()
    # The server's 宁波 is newer than alice's base: a real conflict, as without a restore.
    assert server_city(world, dealer_id) == "宁波"
    assert conflicts(world) == [("台州", "宁波", "open")]
    bob.sync()
    for device in (alice, bob):
        assert_converged(world, device)


def test_one_sync_sends_every_batch_frozen_before_it(
    world: World, alice: Device, bob: Device, tmp_path: Path
) -> None:
    """Ops frozen into batches of their own (a lost conflict record sent again is one)
    all go in the next sync, however many batches they make."""
    alice.sync()
    bob.sync()
    ids = [
        core.create(alice.store, Dealer, {"name": f"经销商{n}", "abc_class": AbcClass.B}).id
        for n in range(4)
    ]
    alice.sync()
    for dealer_id in ids:
        core.update(alice.store, Dealer, dealer_id, {"city": "宁波"})
        with alice.engine.begin() as connection:
            local.freeze_open_op(connection, "dealer", dealer_id)
    summary = alice.sync()
    assert summary.batches == 4
    assert alice.outbox() == []
    assert_converged(world, alice)


def test_a_lost_conflict_record_sent_again_leaves_the_row_as_the_server_has_it(
    world: World, alice: Device, bob: Device, tmp_path: Path
) -> None:
    dealer_id = shared_dealer(alice, bob)
    backup_server(world, tmp_path / "backup.db")
    core.update(alice.store, Dealer, dealer_id, {"city": "温州"})
    alice.sync()
    core.update(bob.store, Dealer, dealer_id, {"city": "宁波"})
    bob.sync()  # 宁波 loses against 温州: a record; bob's row shows 温州
    restore_server(world, tmp_path / "backup.db")  # 温州 and the record are lost
    alice.sync()  # alice gives 温州 back
    bob.sync()  # bob sends his lost record again
    alice.sync()
    # As before the restore: 温州 stands, bob's 宁波 is kept in an open record, and
    # bob's row shows the server's value (not the record's old base 杭州).
    assert server_city(world, dealer_id) == "温州"
    assert ("宁波", "温州", "open") in conflicts(world)
    assert city(bob, dealer_id) == "温州"
    for device in (alice, bob):
        assert_converged(world, device)


def test_a_new_row_sent_while_a_reconciliation_waits_and_lost_by_a_restore_is_sent_again(
    world: World, alice: Device, tmp_path: Path
) -> None:
    alice.sync()
    backup_server(world, tmp_path / "backup.db")
    restore_server(world, tmp_path / "backup.db")
    # The reconciling snapshot dies after its 410: the reconciliation waits, epoch unknown.
    alice.transport.crash_at = alice.transport.sync_requests + 1
    with pytest.raises(Crash):
        alice.sync()
    alice.reopen()
    dealer_id = core.create(alice.store, Dealer, {"name": "杭州新达", "abc_class": AbcClass.B}).id
    # Pushed and taken, then the sync dies before its pull gives the row its version.
    alice.transport.crash_at = alice.transport.sync_requests + 1
    with pytest.raises(Crash):
        alice.sync()
    alice.reopen()
    assert alice.outbox() == []
    restore_server(world, tmp_path / "backup.db")  # the server loses the new row
    alice.sync()
    alice.sync()
    assert ("dealer", dealer_id) in server_rows(world)
    assert_converged(world, alice)
