"""The client against the real server app: SYNC.md's client-side invariants end to end."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from synce2e import SERVER_URL, Device, World, assert_converged, server_rows

from fieldrep.storage.enums import AbcClass
from fieldrep.storage.models import Dealer
from fieldrep.storage.services import core
from fieldrep.sync.client import SignedOut, Unreachable


def new_dealer(device: Device, name: str = "杭州恒达", **values: object) -> str:
    record = core.create(device.store, Dealer, {"name": name, "abc_class": AbcClass.B, **values})
    return record.id


def test_first_sync_brings_the_territory_and_a_second_transfers_nothing(
    world: World, alice: Device
) -> None:
    first = alice.sync()
    assert first.pulled > 0  # territory, users
    assert_converged(world, alice)
    second = alice.sync()
    assert (second.pushed, second.pulled) == (0, 0)


def test_a_new_dealer_reaches_the_other_device_and_nothing_echoes(
    world: World, alice: Device, bob: Device
) -> None:
    dealer_id = new_dealer(alice, city="杭州", phone="")
    summary = alice.sync()
    assert summary.pushed == 1 and alice.outbox() == []
    bob.sync()
    assert core.fetch(bob.store, Dealer, dealer_id)["city"] == "杭州"
    assert core.fetch(bob.store, Dealer, dealer_id)["phone"] == ""
    for device in (alice, bob):
        assert_converged(world, device)
        quiet = device.sync()
        assert (quiet.pushed, quiet.pulled) == (0, 0), device.username
        assert device.outbox() == []


def test_parallel_edits_of_different_fields_merge(world: World, alice: Device, bob: Device) -> None:
    dealer_id = new_dealer(alice, city="杭州")
    alice.sync()
    bob.sync()
    core.update(alice.store, Dealer, dealer_id, {"city": "宁波"})
    core.update(bob.store, Dealer, dealer_id, {"address": "西湖区 1 号"})
    alice.sync()
    bob.sync()
    alice.sync()
    for device in (alice, bob):
        record = core.fetch(device.store, Dealer, dealer_id)
        assert (record["city"], record["address"]) == ("宁波", "西湖区 1 号")
        assert_converged(world, device)


def test_my_own_change_coming_back_is_not_counted_as_received(
    world: World, alice: Device, bob: Device
) -> None:
    from fieldrep.i18n import language

    alice.sync()
    dealer_id = new_dealer(alice, city="杭州")
    created = alice.sync()
    assert (created.pushed, created.pulled, created.echoed) == (1, 0, 1)
    core.update(alice.store, Dealer, dealer_id, {"city": "宁波"})
    edited = alice.sync()
    assert (edited.pushed, edited.pulled, edited.echoed) == (1, 0, 1)
    with language("en"):
        assert edited.line().startswith("Sync done: 1 sent, 0 received,"), edited.line()

    bob.sync()
    core.update(bob.store, Dealer, dealer_id, {"address": "西湖区 1 号"})
    bob.sync()
    news = alice.sync()
    assert (news.pushed, news.pulled, news.echoed) == (0, 1, 0)
    with language("en"):
        assert news.line().startswith("Sync done: 0 sent, 1 received,"), news.line()


def test_my_change_merged_with_another_devices_change_is_received(
    world: World, alice: Device, bob: Device
) -> None:
    dealer_id = new_dealer(alice, city="杭州")
    alice.sync()
    bob.sync()
    core.update(bob.store, Dealer, dealer_id, {"address": "西湖区 1 号"})
    bob.sync()
    core.update(alice.store, Dealer, dealer_id, {"city": "宁波"})
    # The row comes back once, carrying bob's address as well as my city: news.
    merged = alice.sync()
    assert (merged.pushed, merged.pulled, merged.echoed) == (1, 1, 0)
    assert core.fetch(alice.store, Dealer, dealer_id)["address"] == "西湖区 1 号"


def test_same_field_conflict_keeps_both_values_and_converges(
    world: World, alice: Device, bob: Device
) -> None:
    dealer_id = new_dealer(alice, city="杭州")
    alice.sync()
    bob.sync()
    core.update(alice.store, Dealer, dealer_id, {"city": "宁波"})
    core.update(bob.store, Dealer, dealer_id, {"city": "温州"})
    alice.sync()
    summary = bob.sync()
    assert summary.conflicts == 1
    alice.sync()
    from fieldrep.sync import api

    for device in (alice, bob):
        assert core.fetch(device.store, Dealer, dealer_id)["city"] == "宁波"
        assert_converged(world, device)
    [conflict] = api.list_conflicts(bob.engine)
    assert (conflict.mine, conflict.theirs) == ("温州", "宁波")
    api.resolve_conflict(bob.store, conflict.id, "mine")
    resolved = bob.sync()
    # The value and the resolution come back with new versions: nothing new for bob.
    assert (resolved.pushed, resolved.pulled, resolved.echoed) == (2, 0, 2)
    assert alice.sync().pulled == 2, "the dealer and the conflict record are news for alice"
    for device in (alice, bob):
        assert core.fetch(device.store, Dealer, dealer_id)["city"] == "温州"
        assert api.list_conflicts(device.engine) == []
        assert_converged(world, device)


def test_edits_made_between_push_and_pull_survive(world: World, alice: Device, bob: Device) -> None:
    dealer_id = new_dealer(alice, city="杭州")
    alice.sync()
    bob.sync()
    core.update(bob.store, Dealer, dealer_id, {"city": "温州", "address": "bob"})
    bob.sync()
    core.update(alice.store, Dealer, dealer_id, {"short_name": "恒达"})

    from tenacity import wait_none

    from fieldrep.sync.engine import SyncEngine

    engine = SyncEngine(alice.db_path, transport=alice.transport, wait=wait_none())
    engine.after_push = lambda: core.update(
        alice.store, Dealer, dealer_id, {"district": "西湖区", "city": "嘉兴"}
    )
    engine.sync()
    engine.close()
    record = core.fetch(alice.store, Dealer, dealer_id)
    assert (record["district"], record["city"]) == ("西湖区", "嘉兴")  # not overwritten
    assert record["address"] == "bob"  # the pulled change of another field applied
    assert [op.fields for op in alice.outbox()] == [{"district": "西湖区", "city": "嘉兴"}]
    alice.sync()
    bob.sync()
    from fieldrep.sync import api

    for device in (alice, bob):
        record = core.fetch(device.store, Dealer, dealer_id)
        assert record["district"] == "西湖区"
        # city was edited from a stale base: bob's value stands, alice's is a conflict record.
        assert record["city"] == "温州"
        assert [c.mine for c in api.list_conflicts(device.engine)] == ["嘉兴"]
        assert_converged(world, device)


def test_a_delete_propagates_and_never_comes_back(world: World, alice: Device, bob: Device) -> None:
    dealer_id = new_dealer(alice)
    alice.sync()
    bob.sync()
    core.delete(bob.store, Dealer, dealer_id)
    core.update(alice.store, Dealer, dealer_id, {"city": "宁波"})  # edit vs delete
    bob.sync()
    summary = alice.sync()
    assert summary.conflicts == 1  # the losing edit is kept as a conflict record
    bob.sync()
    for device in (alice, bob):
        with pytest.raises(Exception, match="dealer"):
            core.fetch(device.store, Dealer, dealer_id)
        assert_converged(world, device)
        assert device.sync().pulled == 0
    assert server_rows(world)[("dealer", dealer_id)]["deleted"] is True


def test_value_fidelity_across_devices(world: World, alice: Device, bob: Device) -> None:
    from datetime import date
    from decimal import Decimal

    dealer_id = new_dealer(
        alice,
        name="𠀀 Ünïcödé 恒达 \"quoted\" ''",
        registered_capital=Decimal("1000.50"),
        floor_area=Decimal("0.000"),
        relationship_start_date=date(2026, 2, 29 - 1),
        phone="",
        fax=None,
        outlet_count=0,
    )
    alice.sync()
    bob.sync()
    mine = core.fetch(alice.store, Dealer, dealer_id)
    theirs = core.fetch(bob.store, Dealer, dealer_id)
    for field in (
        "name",
        "registered_capital",
        "floor_area",
        "relationship_start_date",
        "phone",
        "fax",
        "outlet_count",
    ):
        assert theirs[field] == mine[field], field
        assert type(theirs[field]) is type(mine[field]), field
    assert str(theirs["floor_area"]) == "0.000"
    assert theirs["phone"] == "" and theirs["fax"] is None


def test_epoch_reset_resyncs_and_keeps_the_outbox(world: World, alice: Device) -> None:
    from fieldrep.server.services import admin

    dealer_id = new_dealer(alice)
    alice.sync()
    core.update(alice.store, Dealer, dealer_id, {"city": "宁波"})  # pending offline edit
    admin.reset_epoch(world.database)
    summary = alice.sync()
    assert summary.resynced
    assert alice.outbox() == []  # the edit was pushed, not dropped
    assert core.fetch(alice.store, Dealer, dealer_id)["city"] == "宁波"
    assert_converged(world, alice)


def test_cursor_too_old_resyncs_and_keeps_the_outbox(
    world: World, alice: Device, bob: Device
) -> None:
    from fieldrep.server.services import admin

    dealer_id = new_dealer(alice)
    alice.sync()
    bob.sync()
    core.update(bob.store, Dealer, dealer_id, {"address": "bob"})
    bob.sync()
    admin.prune_change_log(world.database, 0)
    core.update(alice.store, Dealer, dealer_id, {"city": "宁波"})
    # Alice's edit is pushed first, then her pull gets 410 and resyncs from a snapshot.
    summary = alice.sync()
    assert summary.resynced and alice.outbox() == []
    record = core.fetch(alice.store, Dealer, dealer_id)
    assert (record["city"], record["address"]) == ("宁波", "bob")
    assert_converged(world, alice)


def test_resync_with_a_pending_edit_keeps_it(world: World, alice: Device) -> None:
    from fieldrep.server.services import admin

    dealer_id = new_dealer(alice)
    alice.sync()
    core.update(alice.store, Dealer, dealer_id, {"city": "宁波"})
    admin.reset_epoch(world.database)
    # Every push attempt is dropped: the cycle stops; the next one resyncs, outbox intact.
    alice.transport.plan = ["drop_before"] * 4
    with pytest.raises(Unreachable):
        alice.sync()
    assert [op.fields for op in alice.outbox()] == [{"city": "宁波"}]
    assert alice.sync().resynced
    assert alice.outbox() == []
    assert_converged(world, alice)


def test_token_expiry_mid_cycle_refreshes_and_continues(
    world: World, alice: Device, bob: Device
) -> None:
    import jwt

    from fieldrep.server.core.security import AccessClaims, issue_access_token
    from fieldrep.sync import tokens

    dealer_id = new_dealer(bob)
    bob.sync()
    current = tokens.load_tokens(SERVER_URL, "alice")
    assert current is not None
    claims = jwt.decode(current.access_token, options={"verify_signature": False})
    expired = issue_access_token(
        world.settings.secret or "",
        AccessClaims(claims["sub"], claims["did"], claims["gen"]),
        timedelta(minutes=1),
        now=datetime.now(UTC) - timedelta(hours=1),
    )
    alice.transport.expire_on_pull = expired  # the token runs out between push and pull
    new_dealer(alice, name="李雷的店")
    summary = alice.sync()
    assert summary.pushed == 1 and summary.pulled > 0
    assert core.fetch(alice.store, Dealer, dealer_id)["name"] == "杭州恒达"
    refreshed = tokens.load_tokens(SERVER_URL, "alice")
    assert refreshed is not None and refreshed.refresh_token != current.refresh_token


def test_revoked_device_stops_cleanly_and_keeps_the_outbox(
    world: World, alice: Device, tmp_path: Path
) -> None:
    from fieldrep.server.services import admin
    from fieldrep.sync import api, local

    alice.sync()
    new_dealer(alice, name="未发送的店")
    with alice.engine.connect() as connection:
        device_id = local.get_state(connection, local.DEVICE_ID)
    assert device_id
    admin.revoke(world.database, device_id)
    with pytest.raises(SignedOut):
        alice.sync()
    assert len(alice.outbox()) == 1
    export = tmp_path / "unsent.json"
    assert api.export_outbox(alice.engine, export) == 1
    assert "未发送的店" in export.read_text(encoding="utf-8")


def test_faulty_requests_give_the_same_end_state_without_duplicates(
    world: World, alice: Device, bob: Device
) -> None:
    from synce2e import FAULTS

    for fault in FAULTS:
        dealer_id = new_dealer(alice, name=f"店-{fault}")
        core.update(alice.store, Dealer, dealer_id, {"city": fault})
        alice.transport.plan = [fault, fault]  # the push, then the first pull
        alice.sync()
        assert alice.outbox() == []
    bob.sync()
    rows = [key for key in server_rows(world) if key[0] == "dealer"]
    assert len(rows) == len(FAULTS)
    for device in (alice, bob):
        assert_converged(world, device)


def test_gui_api_runs_a_sync_with_progress_and_a_summary(world: World, alice: Device) -> None:
    from tenacity import wait_none

    from fieldrep.i18n import language
    from fieldrep.sync import api

    new_dealer(alice)
    assert api.pending_count(alice.engine) == 1
    seen: list[tuple[str, int, int | None]] = []
    summary = api.run_sync(
        alice.db_path,
        lambda stage, done, total: seen.append((stage, done, total)),
        transport=alice.transport,
        wait=wait_none(),
    )
    assert summary.pushed == 1 and summary.pulled >= 1
    assert ("Sending changes", 1, 1) in seen
    assert any(stage == "Receiving changes" and done > 0 for stage, done, _total in seen)
    assert api.pending_count(alice.engine) == 0
    with language("en"):
        assert summary.line().startswith("Sync done: 1 sent")
    with language("zh_CN"):
        assert summary.line().startswith("同步完成")
