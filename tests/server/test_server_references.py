"""References between synced rows: a parent must be on the server, live and in the row's territory.

Devices enforce references as foreign keys and hold only their territories' rows,
so one accepted row naming a parent they cannot have would break the sync of every
device of its territory (audit probe: a 杭州 contact on a 宁波 dealer).
"""

from __future__ import annotations

from typing import Any

import pytest
from servertest import ApiClient, World, contact_fields, dealer_fields, latest, op

from fieldrep.server.core.security import new_id
from fieldrep.sync.protocol import Reason, reason_message

pytestmark = pytest.mark.anyio


def _follow_up_step(territory_id: str, follow_up_id: str) -> dict[str, Any]:
    return {
        "territory_id": territory_id,
        "follow_up_id": follow_up_id,
        "seq": 1,
        "description": "电话确认",
        "due_on": "2026-11-20",
    }


async def _server_rows(client: ApiClient) -> set[tuple[str, str]]:
    client.cursors = {}
    return set(latest(await client.pull()))


async def test_a_contact_on_a_dealer_of_another_territory_is_refused(
    alice: ApiClient, carol: ApiClient, bob: ApiClient, world: World
) -> None:
    ningbo_dealer = await carol.insert_dealer(world.t2, "宁波店")
    contact = new_id()
    answer = await alice.push(op("contact", contact, contact_fields(world.t1, ningbo_dealer)))
    result = answer.results[0]
    assert result.status == "rejected"
    assert result.reason == Reason.PARENT_OUT_OF_SCOPE
    assert result.params == {"field": "dealer_id"}
    assert result.message == reason_message(Reason.PARENT_OUT_OF_SCOPE, field="dealer_id")
    # Nothing reached the territory's stream: bob's devices have nothing to fail on.
    assert ("contact", contact) not in await _server_rows(bob)


async def test_an_admin_cannot_attach_across_territories_either(
    root: ApiClient, world: World
) -> None:
    ningbo_dealer = await root.insert_dealer(world.t2, "宁波店")
    answer = await root.push(op("contact", new_id(), contact_fields(world.t1, ningbo_dealer)))
    assert answer.results[0].reason == Reason.PARENT_OUT_OF_SCOPE


async def test_a_parent_the_server_never_saw_is_refused(alice: ApiClient, world: World) -> None:
    answer = await alice.push(op("contact", new_id(), contact_fields(world.t1, new_id())))
    result = answer.results[0]
    assert result.status == "rejected"
    assert result.reason == Reason.MISSING_PARENT


async def test_a_row_of_another_table_with_the_id_is_no_parent(
    alice: ApiClient, world: World
) -> None:
    dealer = await alice.insert_dealer(world.t1)
    contact = new_id()
    await alice.push(op("contact", contact, contact_fields(world.t1, dealer)))
    # A follow-up step names a follow_up; a contact with that id is not one.
    answer = await alice.push(op("follow_up_step", new_id(), _follow_up_step(world.t1, contact)))
    assert answer.results[0].reason == Reason.MISSING_PARENT


async def test_a_child_created_under_a_dealer_deleted_meanwhile_is_refused(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    dealer = await alice.insert_dealer(world.t1)
    deleted = await bob.push(op("dealer", dealer, kind="delete", base_version=1))
    assert deleted.results[0].deleted is True
    answer = await alice.push(op("contact", new_id(), contact_fields(world.t1, dealer)))
    result = answer.results[0]
    assert result.status == "rejected"
    assert result.reason == Reason.PARENT_DELETED
    # Restoring the dealer makes it a parent again.
    restored = await bob.push(op("dealer", dealer, kind="restore", base_version=2))
    assert restored.results[0].deleted is False
    again = await alice.push(op("contact", new_id(), contact_fields(world.t1, dealer)))
    assert again.results[0].status == "applied"


async def test_parent_and_children_in_one_batch_are_applied_in_any_order(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    dealer, boss, buyer = new_id(), new_id(), new_id()
    boss_fields = contact_fields(world.t1, dealer, "老板")
    buyer_fields = {**contact_fields(world.t1, dealer, "采购"), "reports_to_id": boss}
    # As a client may send them: a row's first op carries its later edits, so a
    # contact moved under a dealer created afterwards comes first.
    answer = await alice.push(
        op("contact", buyer, buyer_fields),
        op("contact", boss, boss_fields),
        op("dealer", dealer, dealer_fields(world.t1)),
    )
    assert [result.status for result in answer.results] == ["applied"] * 3
    rows = latest(await bob.pull())
    assert rows[("contact", buyer)].values["reports_to_id"] == boss
    # Applied parents first: the stream's order is one a device can apply page by page.
    order = [change.row_id for change in sorted(rows.values(), key=lambda c: c.change_no or 0)]
    assert order.index(dealer) < order.index(boss) < order.index(buyer)


async def test_a_created_then_deleted_row_keeps_its_order_while_waiting_for_its_parent(
    alice: ApiClient, world: World
) -> None:
    dealer, contact = new_id(), new_id()
    answer = await alice.push(
        op("contact", contact, contact_fields(world.t1, dealer)),
        op("contact", contact, kind="delete"),
        op("dealer", dealer, dealer_fields(world.t1)),
    )
    assert [result.status for result in answer.results] == ["applied"] * 3
    assert answer.results[1].deleted is True
    assert latest(await alice.pull())[("contact", contact)].deleted is True


async def test_a_child_after_a_refused_parent_in_the_batch_is_refused(
    alice: ApiClient, world: World
) -> None:
    dealer = new_id()
    answer = await alice.push(
        op("dealer", dealer, dealer_fields(world.t2)),  # 宁波: not alice's
        op("contact", new_id(), contact_fields(world.t1, dealer)),
    )
    assert answer.results[0].reason == Reason.OUT_OF_SCOPE
    assert answer.results[1].reason == Reason.MISSING_PARENT


async def test_a_parent_from_an_earlier_batch_is_a_parent(alice: ApiClient, world: World) -> None:
    dealer = await alice.insert_dealer(world.t1)
    answer = await alice.push(op("contact", new_id(), contact_fields(world.t1, dealer)))
    assert answer.results[0].status == "applied"


async def test_moving_a_row_to_a_bad_parent_refuses_that_field_only(
    alice: ApiClient, carol: ApiClient, world: World
) -> None:
    dealer = await alice.insert_dealer(world.t1)
    contact = new_id()
    await alice.push(op("contact", contact, contact_fields(world.t1, dealer)))
    ningbo_dealer = await carol.insert_dealer(world.t2, "宁波店")
    answer = await alice.push(
        op(
            "contact",
            contact,
            {"dealer_id": ningbo_dealer, "title": "采购经理"},
            base={"dealer_id": dealer, "title": None},
            base_version=1,
        )
    )
    result = answer.results[0]
    assert result.status == "merged"
    assert [(issue.field, issue.reason) for issue in result.refused] == [
        ("dealer_id", Reason.PARENT_OUT_OF_SCOPE)
    ]
    row = latest(await alice.pull())[("contact", contact)]
    assert row.values["dealer_id"] == dealer
    assert row.values["title"] == "采购经理"


async def test_a_row_whose_parent_is_gone_stays_editable(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    dealer = await alice.insert_dealer(world.t1)
    contact = new_id()
    await alice.push(op("contact", contact, contact_fields(world.t1, dealer)))
    await bob.push(op("dealer", dealer, kind="delete", base_version=1))
    # The reference is not changed, so it is not checked again.
    answer = await alice.push(
        op("contact", contact, {"title": "老板"}, base={"title": None}, base_version=1)
    )
    assert answer.results[0].status == "applied"


async def test_a_conflict_on_a_reference_resolves_to_a_valid_parent(
    alice: ApiClient, bob: ApiClient, mona: ApiClient, world: World
) -> None:
    first = await alice.insert_dealer(world.t1, "恒达")
    second = await alice.insert_dealer(world.t1, "新达")
    third = await alice.insert_dealer(world.t1, "远达")
    contact = new_id()
    await alice.push(op("contact", contact, contact_fields(world.t1, first)))
    base = {"dealer_id": first}
    await alice.push(op("contact", contact, {"dealer_id": second}, base=base, base_version=1))
    answer = await bob.push(op("contact", contact, {"dealer_id": third}, base=base, base_version=1))
    [conflict_id] = answer.results[0].conflict_ids
    response = await mona.post(f"/v1/conflicts/{conflict_id}/resolve", {"resolution": "mine"})
    assert response.status_code == 200, response.text
    assert latest(await mona.pull())[("contact", contact)].values["dealer_id"] == third


async def test_a_conflict_cannot_be_resolved_to_a_missing_parent(
    alice: ApiClient, bob: ApiClient, mona: ApiClient, world: World
) -> None:
    first = await alice.insert_dealer(world.t1, "恒达")
    second = await alice.insert_dealer(world.t1, "新达")
    contact = new_id()
    await alice.push(op("contact", contact, contact_fields(world.t1, first)))
    base = {"dealer_id": first}
    await alice.push(op("contact", contact, {"dealer_id": second}, base=base, base_version=1))
    # Without a base, bob's older value is a conflict with alice's newer one.
    answer = await bob.push(op("contact", contact, {"dealer_id": first}))
    [conflict_id] = answer.results[0].conflict_ids
    response = await mona.post(
        f"/v1/conflicts/{conflict_id}/resolve", {"resolution": "value", "value": new_id()}
    )
    assert response.status_code == 409
    assert response.json()["code"] == Reason.MISSING_PARENT


async def test_two_new_contacts_reporting_to_each_other_in_one_batch_are_both_applied(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    """A rep may well make this offline: no order of the batch has every parent first."""
    dealer = await alice.insert_dealer(world.t1)
    first, second = new_id(), new_id()
    answer = await alice.push(
        op("contact", first, {**contact_fields(world.t1, dealer, "甲"), "reports_to_id": second}),
        op("contact", second, {**contact_fields(world.t1, dealer, "乙"), "reports_to_id": first}),
    )
    assert [result.status for result in answer.results] == ["applied", "applied"]
    rows = latest(await bob.pull())
    assert rows[("contact", first)].values["reports_to_id"] == second
    assert rows[("contact", second)].values["reports_to_id"] == first


async def test_a_cycle_with_its_parent_created_in_the_same_batch_is_applied(
    alice: ApiClient, world: World
) -> None:
    dealer, first, second = new_id(), new_id(), new_id()
    answer = await alice.push(
        op("contact", first, {**contact_fields(world.t1, dealer, "甲"), "reports_to_id": second}),
        op("contact", second, {**contact_fields(world.t1, dealer, "乙"), "reports_to_id": first}),
        op("dealer", dealer, dealer_fields(world.t1)),
    )
    assert [result.status for result in answer.results] == ["applied"] * 3


async def test_a_cycle_member_refused_for_its_own_parent_takes_the_other_along(
    alice: ApiClient, world: World
) -> None:
    """A row is a parent only if it exists after the batch: a refused one never does."""
    dealer = await alice.insert_dealer(world.t1)
    first, second = new_id(), new_id()
    answer = await alice.push(
        op("contact", first, {**contact_fields(world.t1, dealer, "甲"), "reports_to_id": second}),
        # Its dealer was never on the server.
        op("contact", second, {**contact_fields(world.t1, new_id(), "乙"), "reports_to_id": first}),
    )
    assert [(result.status, result.reason) for result in answer.results] == [
        ("rejected", Reason.MISSING_PARENT),
        ("rejected", Reason.MISSING_PARENT),
    ]
    assert [result.params for result in answer.results] == [
        {"field": "reports_to_id"},
        {"field": "dealer_id"},
    ]
    assert not {("contact", first), ("contact", second)} & await _server_rows(alice)


async def test_a_cycle_across_territories_is_refused(root: ApiClient, world: World) -> None:
    """Rows the batch creates are parents only within their own territory.

    Each names a row of another territory, so neither is created, and each then
    names a row that is not on the server.
    """
    hangzhou = await root.insert_dealer(world.t1)
    ningbo = await root.insert_dealer(world.t2, "宁波店")
    first, second = new_id(), new_id()
    answer = await root.push(
        op("contact", first, {**contact_fields(world.t1, hangzhou, "甲"), "reports_to_id": second}),
        op("contact", second, {**contact_fields(world.t2, ningbo, "乙"), "reports_to_id": first}),
    )
    assert [(result.reason, result.params) for result in answer.results] == [
        (Reason.MISSING_PARENT, {"field": "reports_to_id"}),
        (Reason.MISSING_PARENT, {"field": "reports_to_id"}),
    ]
    assert not {("contact", first), ("contact", second)} & await _server_rows(root)


async def test_a_cycle_member_deleted_later_in_the_batch_is_still_a_parent(
    alice: ApiClient, world: World
) -> None:
    """As when its parent came first: a child may name a row the batch then deletes."""
    dealer = await alice.insert_dealer(world.t1)
    first, second = new_id(), new_id()
    answer = await alice.push(
        op("contact", first, {**contact_fields(world.t1, dealer, "甲"), "reports_to_id": second}),
        op("contact", second, {**contact_fields(world.t1, dealer, "乙"), "reports_to_id": first}),
        op("contact", second, kind="delete"),
    )
    assert [result.status for result in answer.results] == ["applied"] * 3
    rows = latest(await alice.pull())
    assert rows[("contact", second)].deleted is True
    assert rows[("contact", first)].values["reports_to_id"] == second


async def test_a_cycle_under_a_dealer_restored_in_the_same_batch_is_applied(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    """As a device sends refused contacts again with the restore of their dealer."""
    dealer = await alice.insert_dealer(world.t1)
    await bob.push(op("dealer", dealer, kind="delete", base_version=1))
    first, second = new_id(), new_id()
    answer = await alice.push(
        op("dealer", dealer, kind="restore", base_version=2),
        op("contact", first, {**contact_fields(world.t1, dealer, "甲"), "reports_to_id": second}),
        op("contact", second, {**contact_fields(world.t1, dealer, "乙"), "reports_to_id": first}),
    )
    assert [result.status for result in answer.results] == ["applied"] * 3
    rows = latest(await bob.pull())
    assert rows[("dealer", dealer)].deleted is False
    assert rows[("contact", first)].values["reports_to_id"] == second
