"""POST /v1/sync/push: per-field three-way merge, field policies, idempotent batches."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from servertest import ApiClient, World, dealer_fields, latest, op
from sqlalchemy import func, select

from fieldrep.server.core.security import new_id
from fieldrep.server.models import ChangeLog, ServerRow
from fieldrep.sync.protocol import CONFLICT_TABLE, KEEP_BOTH_MARKER, Reason

pytestmark = pytest.mark.anyio


async def _row(client: ApiClient, table: str, row_id: str) -> dict[str, Any]:
    rows = latest(await client.pull())
    change = rows[(table, row_id)]
    return {"row_version": change.row_version, "deleted": change.deleted, **change.values}


async def test_insert_comes_back_with_its_version_and_no_echo(
    alice: ApiClient, world: World
) -> None:
    row_id = new_id()
    result = await alice.push(op("dealer", row_id, dealer_fields(world.t1, city="杭州")))
    assert result.results[0].status == "applied"
    assert result.results[0].row_version == 1
    changes = latest(await alice.pull())
    dealer = changes[("dealer", row_id)]
    assert dealer.row_version == 1
    assert dealer.values["city"] == "杭州"
    assert dealer.values["updated_by"] == alice.user_id
    # Quiescence: nothing new, nothing transferred.
    assert await alice.pull() == []


async def test_three_way_merge_applies_untouched_fields_and_records_a_conflict(
    alice: ApiClient, bob: ApiClient, mona: ApiClient, world: World
) -> None:
    row_id = await alice.insert_dealer(world.t1, city="杭州", phone="0571-1")
    base = {"city": "杭州", "phone": "0571-1", "address": None}
    first = await alice.push(
        op("dealer", row_id, {"city": "余杭"}, base={"city": "杭州"}, base_version=1)
    )
    assert first.results[0].status == "applied"
    second = await bob.push(
        op(
            "dealer",
            row_id,
            {"city": "萧山", "phone": "0571-2", "address": "文一路 1 号"},
            base=base,
            base_version=1,
        )
    )
    result = second.results[0]
    assert result.status == "merged"
    assert result.conflicts == ["city"]
    assert len(result.conflict_ids) == 1
    row = await _row(bob, "dealer", row_id)
    assert row["city"] == "余杭"  # the server value stays provisionally
    assert row["phone"] == "0571-2"  # other fields of the op still apply
    assert row["address"] == "文一路 1 号"
    assert row["row_version"] == result.row_version == 3
    for viewer in (alice, bob, mona):
        viewer.cursors = {}  # a fresh snapshot of everything the viewer may see
        conflicts = [c for c in latest(await viewer.pull()).values() if c.table == CONFLICT_TABLE]
        assert [c.row_id for c in conflicts] == result.conflict_ids
        values = conflicts[0].values
        assert (values["base"], values["mine"], values["theirs"]) == ("杭州", "萧山", "余杭")
        assert values["author_user_id"] == bob.user_id
        assert values["theirs_user_id"] == alice.user_id
        assert values["status"] == "open"
        assert values["kind"] == "field"


async def test_same_value_on_both_sides_is_no_conflict(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    row_id = await alice.insert_dealer(world.t1, city="杭州")
    await alice.push(op("dealer", row_id, {"city": "余杭"}, base={"city": "杭州"}))
    result = (
        await bob.push(op("dealer", row_id, {"city": "余杭"}, base={"city": "杭州"}))
    ).results[0]
    assert result.status == "applied"
    assert result.conflicts == []
    assert result.row_version == 2  # nothing changed, no new version


async def test_unknown_base_with_a_different_value_is_a_conflict(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    row_id = await alice.insert_dealer(world.t1, city="杭州")
    result = (await bob.push(op("dealer", row_id, {"city": "宁波"}))).results[0]
    assert result.status == "merged"
    assert result.conflicts == ["city"]


async def test_keep_both_notes_are_concatenated_with_a_marker(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    row_id = await alice.insert_dealer(world.t1, notes="首次拜访。")
    await alice.push(
        op("dealer", row_id, {"notes": "首次拜访。\n老板在。"}, base={"notes": "首次拜访。"})
    )
    result = (
        await bob.push(
            op("dealer", row_id, {"notes": "首次拜访。\n仓库很大。"}, base={"notes": "首次拜访。"})
        )
    ).results[0]
    assert result.status == "merged"
    assert result.kept_both == ["notes"]
    assert result.conflicts == []
    row = await _row(bob, "dealer", row_id)
    assert (
        row["notes"]
        == "首次拜访。\n老板在。" + KEEP_BOTH_MARKER.format(who="韩梅梅") + "仓库很大。"
    )


async def test_rep_cannot_change_manager_only_fields_but_a_manager_can(
    alice: ApiClient, mona: ApiClient, world: World
) -> None:
    row_id = await alice.insert_dealer(world.t1, abc_class="B", credit_limit="5000.00")
    only = await alice.push(op("dealer", row_id, {"abc_class": "A"}, base={"abc_class": "B"}))
    assert only.results[0].status == "rejected"
    assert only.results[0].reason is Reason.MANAGER_ONLY
    assert only.results[0].message and "abc_class" in only.results[0].message
    mixed = await alice.push(
        op(
            "dealer",
            row_id,
            {"credit_limit": "90000.00", "city": "杭州"},
            base={"credit_limit": "5000.00", "city": None},
        )
    )
    result = mixed.results[0]
    assert result.status == "merged"
    assert [(issue.field, issue.reason) for issue in result.refused] == [
        ("credit_limit", Reason.MANAGER_ONLY)
    ]
    row = await _row(alice, "dealer", row_id)
    assert (row["credit_limit"], row["city"], row["abc_class"]) == ("5000.00", "杭州", "B")
    by_manager = await mona.push(op("dealer", row_id, {"abc_class": "A"}, base={"abc_class": "B"}))
    assert by_manager.results[0].status == "applied"
    assert (await _row(alice, "dealer", row_id))["abc_class"] == "A"


async def test_manager_only_and_server_managed_tables(
    alice: ApiClient, mona: ApiClient, world: World
) -> None:
    dealer_id = await alice.insert_dealer(world.t1)
    assessment = {
        "territory_id": world.t1,
        "dealer_id": dealer_id,
        "reviewed_at": "2026-11-01",
        "capital": 4,
        "character": 5,
        "capacity": 3,
        "collateral": 2,
        "condition": 4,
        "overall_grade": "B",
        "risk_level": "medium",
    }
    row_id = new_id()
    by_rep = (await alice.push(op("credit_assessment", row_id, assessment))).results[0]
    assert (by_rep.status, by_rep.reason) == ("rejected", Reason.MANAGER_ONLY)
    by_manager = (await mona.push(op("credit_assessment", row_id, assessment))).results[0]
    assert by_manager.status == "applied"
    territory = (
        await mona.push(op("territory", new_id(), {"territory_id": world.t1, "name": "x"}))
    ).results[0]
    assert (territory.status, territory.reason) == ("rejected", Reason.READ_ONLY_TABLE)


def _record_fields(territory_id: str, dealer_id: str, **overrides: Any) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "territory_id": territory_id,
        "dealer_id": dealer_id,
        "rep_user_id": new_id(),
        "contact_at": "2026-11-24T02:00:00.000000Z",
        "contact_method": "visit",
        "visit_type": "return_visit",
        "status": "draft",
        "content": "谈了返利",
    }
    fields.update(overrides)
    return fields


async def test_a_finalised_visit_record_is_append_only(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    dealer_id = await alice.insert_dealer(world.t1)
    record_id = new_id()
    await alice.push(op("contact_record", record_id, _record_fields(world.t1, dealer_id)))
    draft_edit = await bob.push(
        op("contact_record", record_id, {"lessons": "先约时间"}, base={"lessons": None})
    )
    assert draft_edit.results[0].status == "applied"  # drafts merge normally
    final = await alice.push(
        op("contact_record", record_id, {"status": "final"}, base={"status": "draft"})
    )
    assert final.results[0].status == "applied"
    late = (
        await bob.push(
            op("contact_record", record_id, {"content": "改过的内容"}, base={"content": "谈了返利"})
        )
    ).results[0]
    assert late.status == "rejected"
    assert late.reason is Reason.APPEND_ONLY
    assert len(late.conflict_ids) == 1  # the late edit is kept for the manager
    rows = latest(await bob.pull())
    assert rows[("contact_record", record_id)].values["content"] == "谈了返利"
    kept = rows[(CONFLICT_TABLE, late.conflict_ids[0])].values
    assert (kept["kind"], kept["mine"]) == ("append_only", "改过的内容")
    deletion = (await alice.push(op("contact_record", record_id, kind="delete"))).results[0]
    assert (deletion.status, deletion.reason) == ("rejected", Reason.APPEND_ONLY)


async def test_objection_wording_is_write_once_but_its_handling_is_editable(
    alice: ApiClient, world: World
) -> None:
    dealer_id = await alice.insert_dealer(world.t1)
    objection_id = new_id()
    fields = {
        "territory_id": world.t1,
        "dealer_id": dealer_id,
        "type": "price",
        "verbatim": "你们的价格太高了",
        "outcome": "open",
        "raised_on": "2026-11-24",
    }
    assert (await alice.push(op("objection", objection_id, fields))).results[0].status == "applied"
    handled = await alice.push(
        op(
            "objection",
            objection_id,
            {"outcome": "resolved", "verbatim": "价格高"},
            base={"outcome": "open", "verbatim": "你们的价格太高了"},
        )
    )
    result = handled.results[0]
    assert result.status == "merged"
    assert [(i.field, i.reason) for i in result.refused] == [("verbatim", Reason.APPEND_ONLY)]
    row = await _row(alice, "objection", objection_id)
    assert (row["outcome"], row["verbatim"]) == ("resolved", "你们的价格太高了")
    deletion = (await alice.push(op("objection", objection_id, kind="delete"))).results[0]
    assert deletion.reason is Reason.APPEND_ONLY


async def test_delete_wins_over_an_edit_which_is_kept_and_restorable(
    alice: ApiClient, bob: ApiClient, mona: ApiClient, world: World
) -> None:
    row_id = await alice.insert_dealer(world.t1, city="杭州")
    deleted = (await alice.push(op("dealer", row_id, kind="delete", base_version=1))).results[0]
    assert (deleted.status, deleted.deleted) == ("applied", True)
    edit = (
        await bob.push(
            op("dealer", row_id, {"city": "萧山"}, base={"city": "杭州"}, base_version=1)
        )
    ).results[0]
    assert edit.status == "merged"
    assert edit.reason is Reason.ROW_DELETED
    assert edit.deleted is True
    assert edit.conflicts == ["city"]
    rows = latest(await mona.pull())
    assert rows[("dealer", row_id)].deleted is True
    kept = rows[(CONFLICT_TABLE, edit.conflict_ids[0])].values
    assert (kept["kind"], kept["mine"]) == ("delete_edit", "萧山")
    # The tombstone does not come back by itself; an explicit restore brings it back.
    restored = (
        await bob.push(
            op("dealer", row_id, {"city": "萧山"}, kind="restore", base={"city": "杭州"})
        )
    ).results[0]
    assert (restored.status, restored.deleted) == ("applied", False)
    row = await _row(bob, "dealer", row_id)
    assert (row["deleted"], row["city"], row["deleted_at"]) == (False, "萧山", None)


async def test_an_upsert_setting_deleted_false_restores(alice: ApiClient, world: World) -> None:
    row_id = await alice.insert_dealer(world.t1)
    await alice.push(op("dealer", row_id, kind="delete"))
    result = (
        await alice.push(op("dealer", row_id, {"deleted": False}, base={"deleted": True}))
    ).results[0]
    assert (result.status, result.deleted) == ("applied", False)


async def test_a_delete_with_fields_merges_them_into_the_tombstone(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    row_id = await alice.insert_dealer(world.t1, city="杭州", phone="0571-1")
    await bob.push(op("dealer", row_id, {"phone": "0571-2"}, base={"phone": "0571-1"}))
    deletion = (
        await alice.push(
            op(
                "dealer",
                row_id,
                {"city": "宁波", "phone": "0571-3"},
                kind="delete",
                base={"city": "杭州", "phone": "0571-1"},
                base_version=1,
            )
        )
    ).results[0]
    assert (deletion.status, deletion.deleted, deletion.conflicts) == ("merged", True, ["phone"])
    assert deletion.row_version == 3  # one change: the merged fields and the delete
    row = await _row(alice, "dealer", row_id)
    assert (row["deleted"], row["city"], row["phone"]) == (True, "宁波", "0571-2")
    kept = latest(await bob.pull())[(CONFLICT_TABLE, deletion.conflict_ids[0])].values
    assert (kept["kind"], kept["mine"], kept["theirs"]) == ("field", "0571-3", "0571-2")


async def test_a_delete_with_fields_of_a_deleted_row_keeps_them_as_delete_edit_records(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    row_id = await alice.insert_dealer(world.t1, city="杭州", phone="0571-1")
    await alice.push(op("dealer", row_id, kind="delete", base_version=1))
    deleted = await _row(bob, "dealer", row_id)  # bob's cursor now past the delete
    deletion = (
        await bob.push(
            op(
                "dealer",
                row_id,
                {"city": "宁波", "phone": "0571-1"},
                kind="delete",
                base={"city": "杭州", "phone": "0571-1"},
                base_version=1,
            )
        )
    ).results[0]
    assert (deletion.status, deletion.deleted, deletion.conflicts) == ("merged", True, ["city"])
    assert deletion.reason is Reason.ROW_DELETED
    assert deletion.row_version == deleted["row_version"]  # the tombstone is unchanged
    changes = latest(await bob.pull())
    assert ("dealer", row_id) not in changes
    kept = changes[(CONFLICT_TABLE, deletion.conflict_ids[0])].values
    assert (kept["kind"], kept["base"], kept["mine"], kept["theirs"]) == (
        "delete_edit",
        "杭州",
        "宁波",
        "杭州",
    )
    again = (
        await bob.push(op("dealer", row_id, {"city": "杭州"}, kind="delete", base_version=2))
    ).results[0]
    assert (again.status, again.conflicts) == ("applied", [])  # nothing differs: no record


async def test_a_bare_delete_behaves_as_before_on_live_and_deleted_rows(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    row_id = await alice.insert_dealer(world.t1, city="杭州")
    first = (await alice.push(op("dealer", row_id, kind="delete", base_version=1))).results[0]
    assert (first.status, first.deleted, first.row_version) == ("applied", True, 2)
    row = await _row(alice, "dealer", row_id)
    assert (row["deleted"], row["city"]) == (True, "杭州")
    second = (await bob.push(op("dealer", row_id, kind="delete", base_version=1))).results[0]
    assert (second.status, second.deleted, second.row_version) == ("applied", True, 2)
    assert second.conflicts == [] and second.conflict_ids == []
    assert await alice.pull() == []  # nothing recorded


async def test_a_repeated_batch_gets_the_stored_response_and_changes_nothing(
    alice: ApiClient, world: World
) -> None:
    row_id = new_id()
    batch_id = str(uuid.uuid4())
    ops = [
        op("dealer", row_id, dealer_fields(world.t1)),
        op("dealer", row_id, {"city": "杭州"}, base={"city": None}),
    ]
    first = await alice.push_raw(*ops, batch_id=batch_id)
    again = await alice.push_raw(*ops, batch_id=batch_id)
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json()
    with world.database.read() as session:
        rows = session.scalar(
            select(func.count()).select_from(ServerRow).where(ServerRow.id == row_id)
        )
        changes = session.scalar(
            select(func.count()).select_from(ChangeLog).where(ChangeLog.row_id == row_id)
        )
    assert (rows, changes) == (1, 2)
    other = await alice.push_raw(op("dealer", new_id(), dealer_fields(world.t1)), batch_id=batch_id)
    assert other.status_code == 409
    assert other.json()["code"] == "batch_mismatch"


async def test_bad_ops_are_rejected_one_by_one_with_reasons(alice: ApiClient, world: World) -> None:
    good_id = new_id()
    response = await alice.push(
        op("no_such_table", new_id(), {}),
        op("dealer", new_id(), dealer_fields(world.t1, colour="red")),
        op("dealer", new_id(), dealer_fields(world.t1, credit_limit="lots")),
        op("dealer", new_id(), dealer_fields(world.t1, abc_class="Z")),
        op("dealer", new_id(), {"territory_id": world.t1, "name": "缺字段"}),
        op("dealer", new_id(), {"name": "没有片区"}),
        op("dealer", good_id, dealer_fields(world.t1)),
    )
    reasons = [(r.status, r.reason) for r in response.results]
    assert reasons == [
        ("rejected", Reason.UNKNOWN_TABLE),
        ("rejected", Reason.UNKNOWN_FIELD),
        ("rejected", Reason.INVALID_VALUE),
        ("rejected", Reason.INVALID_VALUE),
        ("rejected", Reason.MISSING_FIELD),
        ("rejected", Reason.MISSING_FIELD),
        ("applied", None),
    ]
    assert response.results[2].params["field"] == "credit_limit"
    assert all(r.message for r in response.results[:-1])


async def test_values_round_trip_exactly(alice: ApiClient, bob: ApiClient, world: World) -> None:
    row_id = await alice.insert_dealer(
        world.t1,
        name='𠮷野家 "测试" \\ ✓',
        credit_limit="1234.50",
        floor_area="0.001",
        short_name="",
        fax=None,
        relationship_start_date="2024-02-29",
        profile_reviewed_at="2026-11-25T16:30:00+08:00",
        employee_count=2**40,
    )
    row = await _row(bob, "dealer", row_id)
    assert row["name"] == '𠮷野家 "测试" \\ ✓'
    assert row["credit_limit"] == "1234.50"
    assert row["floor_area"] == "0.001"
    assert row["short_name"] == ""
    assert row["fax"] is None
    assert row["relationship_start_date"] == "2024-02-29"
    assert row["profile_reviewed_at"] == "2026-11-25T08:30:00.000000Z"
    assert row["employee_count"] == 2**40


async def test_decimals_equal_by_value_do_not_conflict(
    alice: ApiClient, mona: ApiClient, world: World
) -> None:
    row_id = await alice.insert_dealer(world.t1, credit_limit="100.50")
    result = (
        await mona.push(op("dealer", row_id, {"credit_limit": "100.5"}, base={"credit_limit": "7"}))
    ).results[0]
    assert (result.status, result.conflicts, result.row_version) == ("applied", [], 1)


async def test_a_row_cannot_move_to_another_territory(
    alice: ApiClient, root: ApiClient, world: World
) -> None:
    row_id = await alice.insert_dealer(world.t1)
    result = (
        await root.push(
            op("dealer", row_id, {"territory_id": world.t2}, base={"territory_id": world.t1})
        )
    ).results[0]
    assert (result.status, result.reason) == ("rejected", Reason.TERRITORY_IMMUTABLE)


async def test_a_batch_must_come_from_the_signed_in_device(alice: ApiClient) -> None:
    body = {"device_id": new_id(), "batch_id": str(uuid.uuid4()), "ops": []}
    response = await alice.post("/v1/sync/push", body)
    assert response.status_code == 403
    assert response.json()["code"] == "wrong_device"


async def test_a_delete_of_a_row_the_server_never_saw_is_harmless(alice: ApiClient) -> None:
    result = (await alice.push(op("dealer", new_id(), kind="delete"))).results[0]
    assert (result.status, result.row_version) == ("applied", None)
    assert [c for c in await alice.pull() if c.table == "dealer"] == []


async def test_a_batch_sent_twice_at_once_is_applied_once(alice: ApiClient, world: World) -> None:
    row_id = new_id()
    batch_id = str(uuid.uuid4())
    ops = [
        op("dealer", row_id, dealer_fields(world.t1)),
        op("dealer", row_id, {"city": "杭州"}, base={"city": None}),
    ]
    first, second = await asyncio.gather(
        alice.push_raw(*ops, batch_id=batch_id), alice.push_raw(*ops, batch_id=batch_id)
    )
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    with world.database.read() as session:
        changes = session.scalar(
            select(func.count()).select_from(ChangeLog).where(ChangeLog.row_id == row_id)
        )
    assert changes == 2
