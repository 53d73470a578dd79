"""New rows whose parents are made in the same sync, or come back later, reach the server.

Issue #4: two new contacts reporting to each other, made offline, were both
refused (no order of the batch puts every parent first); a contact refused
because its dealer had been deleted elsewhere stayed refused after the dealer
was restored, so the rep's work never reached the server (SYNC.md invariant 2).
"""

from __future__ import annotations

from synce2e import Device, World, assert_converged, server_rows
from synctest import shared_dealer

from fieldrep.storage.models import Contact, Dealer
from fieldrep.storage.services import core
from fieldrep.sync import api
from fieldrep.sync.protocol import Reason


def test_two_new_contacts_reporting_to_each_other_reach_the_server(
    world: World, alice: Device, bob: Device
) -> None:
    dealer = shared_dealer(alice, bob, city="杭州")
    boss = core.create(alice.store, Contact, {"dealer_id": dealer, "name": "王总"}).id
    buyer = core.create(
        alice.store, Contact, {"dealer_id": dealer, "name": "李采购", "reports_to_id": boss}
    ).id
    # Coalesced into the boss's creation: it now names a row created after it.
    core.update(alice.store, Contact, boss, {"reports_to_id": buyer})
    summary = alice.sync()
    assert summary.rejected == []
    assert alice.outbox(None) == []
    server = server_rows(world)
    assert server[("contact", boss)]["reports_to_id"] == buyer
    assert server[("contact", buyer)]["reports_to_id"] == boss
    bob.sync()
    assert bob.rows()[("contact", boss)]["reports_to_id"] == buyer
    for device in (alice, bob):
        assert_converged(world, device)


def _refused_contact(alice: Device, bob: Device, dealer: str) -> str:
    """bob deletes the dealer; alice, offline, edits it and adds a contact: refused."""
    core.delete(bob.store, Dealer, dealer)
    bob.sync()
    core.update(alice.store, Dealer, dealer, {"city": "宁波"})
    contact = core.create(alice.store, Contact, {"dealer_id": dealer, "name": "王采购"}).id
    summary = alice.sync()
    assert [(change.row_id, change.refusal.code) for change in summary.rejected] == [
        (contact, Reason.PARENT_DELETED)
    ]
    return contact


def test_a_contact_refused_for_a_deleted_dealer_stays_refused_while_it_is_deleted(
    world: World, alice: Device, bob: Device
) -> None:
    dealer = shared_dealer(alice, bob, city="杭州")
    contact = _refused_contact(alice, bob, dealer)
    for _round in range(2):
        summary = alice.sync()
        assert (summary.pushed, summary.rejected) == (0, [])
    assert [view.row_id for view in api.list_rejected(alice.engine)] == [contact]
    assert ("contact", contact) not in server_rows(world)


def test_a_refused_contact_is_sent_again_once_its_dealer_is_restored_here(
    world: World, alice: Device, bob: Device
) -> None:
    dealer = shared_dealer(alice, bob, city="杭州")
    contact = _refused_contact(alice, bob, dealer)
    # alice takes her edit of the deleted dealer: that restores it.
    [lost] = [view for view in api.list_conflicts(alice.engine) if view.field == "city"]
    api.resolve_conflict(alice.store, lost.id, "mine")
    summary = alice.sync()
    assert summary.rejected == []
    assert api.list_rejected(alice.engine) == []
    assert alice.outbox(None) == []
    server = server_rows(world)
    assert server[("dealer", dealer)]["deleted"] is False
    assert (server[("contact", contact)]["deleted"], server[("contact", contact)]["name"]) == (
        False,
        "王采购",
    )
    bob.sync()
    for device in (alice, bob):
        assert_converged(world, device)
    assert all(device.sync().pulled == 0 for device in (alice, bob))


def test_a_refused_contact_is_sent_again_when_a_sync_brings_its_dealer_back(
    world: World, alice: Device, bob: Device
) -> None:
    dealer = shared_dealer(alice, bob, city="杭州")
    contact = _refused_contact(alice, bob, dealer)
    # bob takes alice's lost edit of the dealer he deleted: that restores it.
    bob.sync()
    [lost] = [view for view in api.list_conflicts(bob.engine) if view.field == "city"]
    api.resolve_conflict(bob.store, lost.id, "mine")
    bob.sync()
    # One sync of alice's brings the dealer back and sends the contact.
    summary = alice.sync()
    assert summary.rejected == []
    assert api.list_rejected(alice.engine) == []
    assert server_rows(world)[("contact", contact)]["deleted"] is False
    bob.sync()
    for device in (alice, bob):
        assert_converged(world, device)
    assert bob.rows()[("contact", contact)]["dealer_id"] == dealer
