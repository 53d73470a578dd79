"""The audit trail through the client API (``api.fetch_audit``) against the real server.

Who changed what, when, on which device, each field old -> new; the server
decides who may read it: managers within their team's territories, never a rep.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from synce2e import FAST_PASSWORDS, PASSWORD, Device, World
from tenacity import wait_none

from fieldrep.i18n import set_language
from fieldrep.server.services import admin
from fieldrep.storage.enums import AbcClass
from fieldrep.storage.models import Contact, Dealer
from fieldrep.storage.services import core
from fieldrep.sync import api, local
from fieldrep.sync.client import Unreachable


def audit(world: World, device: Device, **filters: Any) -> api.AuditResult:
    return api.fetch_audit(
        device.db_path, transport=world.transport, wait=wait_none(), max_attempts=1, **filters
    )


def device_id(device: Device) -> str | None:
    with device.engine.connect() as connection:
        return local.get_state(connection, local.DEVICE_ID)


def add_ningbo(world: World) -> None:
    """A second team: manager nina and rep carl in 宁波, outside mona's scope."""
    admin.add_user(
        world.database, FAST_PASSWORDS, "nina", PASSWORD, role="manager", display_name="倪经理"
    )
    admin.add_user(
        world.database,
        FAST_PASSWORDS,
        "carl",
        PASSWORD,
        role="rep",
        display_name="卡尔",
        manager="nina",
    )
    admin.add_territory(world.database, "宁波", region="华东", manager="nina")
    admin.assign(world.database, "carl", "宁波")


def test_a_manager_reads_who_changed_a_dealer_and_its_rows(
    world: World, alice: Device, tmp_path: Path
) -> None:
    mona = Device(world, tmp_path, "mona")
    try:
        dealer = core.create(
            alice.store,
            Dealer,
            {"name": "杭州恒达", "abc_class": AbcClass.B, "city": "杭州", "employee_count": 10},
        ).id
        contact = core.create(alice.store, Contact, {"dealer_id": dealer, "name": "王采购"}).id
        other = core.create(alice.store, Dealer, {"name": "湖州新店", "abc_class": AbcClass.C}).id
        alice.sync()
        core.update(alice.store, Dealer, dealer, {"city": "宁波", "employee_count": 15})
        alice.sync()
        mona.sync()

        found = audit(world, mona, dealer_id=dealer)
        assert not found.more
        assert [(view.table, view.row_id, view.action) for view in found.entries] == [
            ("dealer", dealer, "insert"),
            ("contact", contact, "insert"),
            ("dealer", dealer, "update"),
        ], "the dealer and its contact, oldest first; the other dealer is not listed"
        change = found.entries[-1]
        assert (change.user, change.username, change.device_id) == (
            "李雷",
            "alice",
            device_id(alice),
        )
        assert change.record_label == "杭州恒达" and change.action_label == "修改了"
        words = {item.field: (item.label, item.old, item.new) for item in change.changes}
        assert words["city"] == ("城市", "杭州", "宁波")
        assert words["employee_count"][1:] == ("10", "15")
        assert "updated_at" not in words and "row_version" not in words
        assert found.entries[1].record_label == "王采购"

        set_language("en")
        english = audit(world, mona, dealer_id=dealer).entries[-1]
        assert english.action_label == "changed"
        assert {item.field: item.label for item in english.changes}["city"] == "City"

        # Filters: a user (by user name or display name), a date, a limit.
        everything = audit(world, mona, limit=1000).entries
        assert {view.row_id for view in everything} >= {dealer, contact, other}
        assert {view.username for view in audit(world, mona, user="李雷").entries} == {"alice"}
        assert audit(world, mona, user="mona").entries == []
        with pytest.raises(api.UnknownAuditUser):
            audit(world, mona, user="nobody")
        assert audit(world, mona, since=date.today() + timedelta(days=2)).entries == []
        first_two = audit(world, mona, limit=2)
        assert first_two.more and [view.id for view in first_two.entries] == [
            view.id for view in everything[:2]
        ]
    finally:
        mona.close()


def test_a_rep_is_refused_and_a_manager_sees_only_their_team(
    world: World, alice: Device, tmp_path: Path
) -> None:
    add_ningbo(world)
    mona = Device(world, tmp_path, "mona")
    nina = Device(world, tmp_path, "nina")
    carl = Device(world, tmp_path, "carl")
    try:
        hangzhou = core.create(
            alice.store, Dealer, {"name": "杭州恒达", "abc_class": AbcClass.B}
        ).id
        alice.sync()
        ningbo = core.create(carl.store, Dealer, {"name": "宁波新店", "abc_class": AbcClass.C}).id
        carl.sync()

        # A rep reads no audit at all, not even of their own territory.
        for rep, dealer in ((alice, hangzhou), (alice, ningbo), (carl, hangzhou)):
            with pytest.raises(api.AuditForbidden) as refused:
                audit(world, rep, dealer_id=dealer)
            assert "经理" in refused.value.user_message()
        # Each manager reads their own team's territory and nothing of the other's.
        assert [view.row_id for view in audit(world, nina, dealer_id=ningbo).entries] == [ningbo]
        assert audit(world, mona, dealer_id=ningbo).entries == []
        assert audit(world, nina, dealer_id=hangzhou).entries == []
        assert ningbo not in {view.row_id for view in audit(world, mona, limit=1000).entries}
        assert hangzhou not in {view.row_id for view in audit(world, nina, limit=1000).entries}
    finally:
        for device in (mona, nina, carl):
            device.close()


class Offline(httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("network is unreachable", request=request)


def test_offline_says_the_history_needs_the_server(alice: Device) -> None:
    with pytest.raises(api.AuditOffline) as offline:
        api.fetch_audit(alice.db_path, transport=Offline(), wait=wait_none(), max_attempts=2)
    assert "需要联网" in offline.value.user_message()
    assert isinstance(offline.value, Unreachable)  # the CLI's exit 3
