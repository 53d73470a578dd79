"""References end to end: a row on a parent a territory's devices cannot have never wedges them.

Audit probe: alice pushed a 杭州 contact whose dealer is in 宁波; the server took
it, and every other 杭州 device then failed every sync on the foreign key.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
from sqlalchemy import text
from synce2e import (
    FAST_PASSWORDS,
    PASSWORD,
    Device,
    World,
    assert_converged,
    server_rows,
)
from synctest import contact_values
from tenacity import wait_none

from fieldrep.server.core.security import new_id
from fieldrep.server.services import admin
from fieldrep.server.services.rowstore import ChangeWriter
from fieldrep.server.services.scope import SYSTEM_USER_ID
from fieldrep.storage.enums import AbcClass
from fieldrep.storage.models import Contact, Dealer
from fieldrep.storage.services import core
from fieldrep.sync import orphans
from fieldrep.sync.engine import SyncEngine
from fieldrep.sync.protocol import TABLES, Reason, reason_message


def _dealer_values(territory_id: str, name: str) -> dict[str, Any]:
    given = {
        "territory_id": territory_id,
        "name": name,
        "abc_class": "B",
        "lifecycle_status": "cooperating",
        "status": "active",
        "tier": "dealer",
        "is_key_account": False,
        "is_benchmark": False,
        "has_business_license": False,
    }
    return {name: given.get(name) for name in TABLES["dealer"].fields}


def _push_raw(world: World, username: str, push_op: dict[str, Any]) -> dict[str, Any]:
    """One op pushed straight over HTTP, as the audit probe did."""
    with httpx.Client(transport=world.transport, base_url="http://t") as http:
        login = http.post("/v1/auth/login", json={"username": username, "password": PASSWORD})
        tokens = login.json()
        headers = {
            "Authorization": "Bearer " + tokens["access_token"],
            "X-FieldRep-Protocol": "1",
        }
        body = {"device_id": tokens["device_id"], "batch_id": str(uuid.uuid4()), "ops": [push_op]}
        answer = http.post("/v1/sync/push", headers=headers, json=body)
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()["results"][0]
        return result


def _upsert(table: str, row_id: str, values: dict[str, Any]) -> dict[str, Any]:
    fields = {name: value for name, value in values.items() if value is not None}
    return {
        "op_id": str(uuid.uuid4()),
        "table": table,
        "row_id": row_id,
        "kind": "upsert",
        "fields": fields,
    }


def _legacy_insert(world: World, table: str, row_id: str, values: dict[str, Any]) -> None:
    """A row as a server without the reference check could have stored it."""

    def work(session: Any) -> None:
        writer = ChangeWriter(session, user_id=SYSTEM_USER_ID, device_id=None)
        writer.lock_streams([world.territory])
        writer.insert(table, row_id, world.territory, dict(values))

    world.database.write(work)


def _local_count(device: Device, table: str, row_id: str) -> int:
    with device.engine.connect() as connection:
        query = text(f'SELECT count(*) FROM "{table}" WHERE id = :i')
        return int(connection.execute(query, {"i": row_id}).scalar_one())


def test_the_audit_probe_is_refused_and_the_territory_keeps_syncing(
    world: World, bob: Device
) -> None:
    admin.add_user(world.database, FAST_PASSWORDS, "carol", PASSWORD, role="rep")
    ningbo = admin.add_territory(world.database, "宁波", region="华东")
    admin.assign(world.database, "carol", "宁波")
    bob.sync()
    dealer = new_id()
    created = _push_raw(world, "carol", _upsert("dealer", dealer, _dealer_values(ningbo, "宁波店")))
    assert created["status"] == "applied", created["message"]
    contact = new_id()
    result = _push_raw(
        world,
        "alice",
        _upsert("contact", contact, contact_values(world.territory, dealer, "孤儿")),
    )
    assert result["status"] == "rejected"
    assert result["reason"] == Reason.PARENT_OUT_OF_SCOPE
    assert result["message"] == reason_message(Reason.PARENT_OUT_OF_SCOPE, field="dealer_id")
    # bob's device syncs, again and again, and holds nothing of 宁波.
    for _ in range(2):
        bob.sync()
    assert _local_count(bob, "contact", contact) == 0
    assert _local_count(bob, "dealer", dealer) == 0
    hangzhou = {
        key for key, row in server_rows(world).items() if row["territory_id"] == world.territory
    }
    assert set(bob.rows()) == hangzhou


def test_a_contact_made_offline_under_a_dealer_deleted_meanwhile_is_shown_as_refused(
    world: World, alice: Device, bob: Device
) -> None:
    dealer = core.create(alice.store, Dealer, {"name": "杭州恒达", "abc_class": AbcClass.B}).id
    alice.sync()
    bob.sync()
    core.delete(bob.store, Dealer, dealer)
    bob.sync()
    contact = core.create(alice.store, Contact, {"dealer_id": dealer, "name": "王采购"}).id
    summary = alice.sync()
    assert [(change.table, change.row_id) for change in summary.rejected] == [("contact", contact)]
    refused = alice.outbox("rejected")
    assert [(op.table, op.row_id) for op in refused] == [("contact", contact)]
    assert "dealer_id" in (refused[0].reason or "")
    # Nothing reached the territory: bob's device keeps syncing, alice's too.
    bob.sync()
    alice.sync()
    assert_converged(world, bob)
    assert _local_count(bob, "contact", contact) == 0


def test_a_dealer_and_contacts_made_offline_together_are_all_accepted(
    world: World, alice: Device, bob: Device
) -> None:
    first = core.create(alice.store, Dealer, {"name": "杭州恒达", "abc_class": AbcClass.B}).id
    contact = core.create(alice.store, Contact, {"dealer_id": first, "name": "王采购"}).id
    second = core.create(alice.store, Dealer, {"name": "杭州新达", "abc_class": AbcClass.C}).id
    # The contact's open op now names a dealer whose op comes after it.
    core.update(alice.store, Contact, contact, {"dealer_id": second})
    summary = alice.sync()
    assert summary.rejected == []
    bob.sync()
    assert_converged(world, alice)
    assert_converged(world, bob)
    assert bob.rows()[("contact", contact)]["dealer_id"] == second


def test_a_stored_row_without_its_parent_is_parked_until_the_parent_comes(
    world: World, bob: Device
) -> None:
    bob.sync()
    known = new_id()
    _legacy_insert(world, "dealer", known, _dealer_values(world.territory, "杭州恒达"))
    dealer, orphan, follower = new_id(), new_id(), new_id()
    _legacy_insert(world, "contact", orphan, contact_values(world.territory, dealer, "孤儿"))
    # Its dealer is here, but it reports to the orphan: it cannot stay without it.
    follower_values = {
        **contact_values(world.territory, known, "下属"),
        "reports_to_id": orphan,
    }
    _legacy_insert(world, "contact", follower, follower_values)
    # Before: IntegrityError (FOREIGN KEY constraint failed) at every sync.
    bob.sync()
    bob.sync()
    assert _local_count(bob, "contact", orphan) == 0
    assert _local_count(bob, "contact", follower) == 0
    assert _local_count(bob, "dealer", known) == 1
    with bob.engine.connect() as connection:
        parked = {values["id"] for _, values in orphans.parked_rows(connection)}
    assert parked == {orphan, follower}
    _legacy_insert(world, "dealer", dealer, _dealer_values(world.territory, "迟到的经销商"))
    bob.sync()
    assert _local_count(bob, "contact", orphan) == 1
    assert _local_count(bob, "contact", follower) == 1
    with bob.engine.connect() as connection:
        assert orphans.parked_rows(connection) == []
    assert_converged(world, bob)


def test_a_parent_created_after_its_child_goes_in_the_childs_batch(
    world: World, alice: Device, bob: Device
) -> None:
    first = core.create(alice.store, Dealer, {"name": "杭州恒达", "abc_class": AbcClass.B}).id
    contact = core.create(alice.store, Contact, {"dealer_id": first, "name": "王采购"}).id
    for name in ("甲", "乙", "丙"):
        core.create(alice.store, Dealer, {"name": name, "abc_class": AbcClass.C})
    second = core.create(alice.store, Dealer, {"name": "杭州新达", "abc_class": AbcClass.C}).id
    # The contact's op (second in the outbox) now names the last dealer created.
    core.update(alice.store, Contact, contact, {"dealer_id": second})
    engine = SyncEngine(
        alice.db_path,
        transport=alice.transport,
        wait=wait_none(),
        engine=alice.sync_engine,
        push_batch_size=2,
    )
    summary = engine.sync()
    assert summary.rejected == []
    assert summary.batches > 1
    bob.sync()
    assert_converged(world, alice)
    assert bob.rows()[("contact", contact)]["dealer_id"] == second
