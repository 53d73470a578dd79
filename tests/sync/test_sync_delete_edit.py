"""A delete carries the edits its outbox op coalesced: tombstones converge, no edit is lost.

SYNC.md invariants 1 (convergence) and 2 (no lost edit) for a row edited and then
deleted offline, both when the server's row is still live and when it is already
deleted (H13's finding: the device kept its edited tombstone, the server the old one).
"""

from __future__ import annotations

from typing import Any

from synce2e import Device, World, assert_converged, comparable, server_rows
from synctest import shared_dealer

from fieldrep.storage.models import Dealer
from fieldrep.storage.services import core
from fieldrep.sync import api
from fieldrep.sync.protocol import CONFLICT_TABLE


def tombstone(device: Device, dealer_id: str) -> dict[str, Any]:
    return comparable(device.rows()[("dealer", dealer_id)])


def server_conflicts(world: World, dealer_id: str) -> list[dict[str, Any]]:
    return [
        values
        for (table, _row_id), values in server_rows(world).items()
        if table == CONFLICT_TABLE and values["row_id"] == dealer_id
    ]


def sync_all(*devices: Device) -> None:
    for _round in range(2):
        for device in devices:
            device.sync()


def test_an_edit_then_delete_of_a_live_row_keeps_the_edit_in_the_tombstone(
    world: World, alice: Device, bob: Device
) -> None:
    dealer_id = shared_dealer(alice, bob, city="杭州")
    core.update(alice.store, Dealer, dealer_id, {"city": "宁波"})
    core.delete(alice.store, Dealer, dealer_id)
    [op] = alice.outbox()
    assert (op.kind, op.fields["city"]) == ("delete", "宁波")
    sync_all(alice, bob)
    server = server_rows(world)[("dealer", dealer_id)]
    assert (server["deleted"], server["city"]) == (True, "宁波")
    for device in (alice, bob):
        assert tombstone(device, dealer_id) == comparable(server)
        assert_converged(world, device)


def test_an_edit_then_delete_against_a_newer_edit_keeps_both_values(
    world: World, alice: Device, bob: Device
) -> None:
    dealer_id = shared_dealer(alice, bob, city="杭州")
    core.update(bob.store, Dealer, dealer_id, {"city": "温州"})
    bob.sync()
    core.update(alice.store, Dealer, dealer_id, {"city": "宁波", "address": "文一路 1 号"})
    core.delete(alice.store, Dealer, dealer_id)
    summary = alice.sync()
    assert summary.conflicts == 1
    sync_all(alice, bob)
    server = server_rows(world)[("dealer", dealer_id)]
    assert (server["deleted"], server["city"], server["address"]) == (True, "温州", "文一路 1 号")
    [conflict] = server_conflicts(world, dealer_id)
    assert (conflict["field"], conflict["mine"], conflict["theirs"]) == ("city", "宁波", "温州")
    for device in (alice, bob):
        assert tombstone(device, dealer_id) == comparable(server)
        assert_converged(world, device)


def test_a_restored_edit_deleted_again_converges_with_the_servers_tombstone(
    world: World, alice: Device, bob: Device
) -> None:
    """H13's repro: the server's row is already deleted when the coalesced delete arrives."""
    dealer_id = shared_dealer(alice, bob, city="杭州")
    core.delete(alice.store, Dealer, dealer_id)
    core.update(bob.store, Dealer, dealer_id, {"city": "宁波"})
    alice.sync()
    assert bob.sync().conflicts == 1  # bob's edit lost to the delete: a conflict record
    alice.sync()
    [lost] = api.list_conflicts(alice.engine)
    # Taking bob's edit restores the row here with his city; alice deletes it again
    # before syncing: one delete op whose fields carry the edited city.
    api.resolve_conflict(alice.store, lost.id, "mine")
    assert core.fetch(alice.store, Dealer, dealer_id)["city"] == "宁波"
    core.delete(alice.store, Dealer, dealer_id)
    [op] = [op for op in alice.outbox() if op.table == "dealer"]
    assert (op.kind, op.fields["city"], op.base["city"]) == ("delete", "宁波", "杭州")
    sync_all(alice, bob)
    server = server_rows(world)[("dealer", dealer_id)]
    assert (server["deleted"], server["city"]) == (True, "杭州")
    for device in (alice, bob):
        assert tombstone(device, dealer_id) == comparable(server)
        assert_converged(world, device)
    # No edit lost: bob's record is resolved; alice's "宁波" on the deleted row is a
    # new, open delete-versus-edit record.
    records = sorted(
        (c["status"], c["kind"], c["mine"]) for c in server_conflicts(world, dealer_id)
    )
    assert records == [("open", "delete_edit", "宁波"), ("resolved", "delete_edit", "宁波")]
    assert all(device.sync().pulled == 0 for device in (alice, bob))
