"""The conflict inbox and the audit trail: resolutions are ordinary, audited changes."""

from __future__ import annotations

from typing import Any

import pytest
from servertest import ApiClient, World, latest, op

from fieldrep.sync.protocol import CONFLICT_TABLE, AuditPage, ConflictPage, Reason

pytestmark = pytest.mark.anyio


async def _conflict(
    alice: ApiClient, bob: ApiClient, world: World, **fields: Any
) -> tuple[str, str]:
    """A dealer whose city alice and bob changed in parallel; returns (dealer, conflict)."""
    row_id = await alice.insert_dealer(world.t1, city="杭州", **fields)
    await alice.push(op("dealer", row_id, {"city": "余杭"}, base={"city": "杭州"}))
    merged = (
        await bob.push(op("dealer", row_id, {"city": "萧山"}, base={"city": "杭州"}))
    ).results[0]
    return row_id, merged.conflict_ids[0]


async def test_the_inbox_lists_open_conflicts_with_filters_and_paging(
    alice: ApiClient, bob: ApiClient, mona: ApiClient, world: World
) -> None:
    first_row, first = await _conflict(alice, bob, world)
    _second_row, second = await _conflict(alice, bob, world)
    page = ConflictPage.model_validate((await mona.get("/v1/conflicts", limit=1)).json())
    assert [c.id for c in page.conflicts] == [min(first, second)]
    assert page.next_after == min(first, second)
    rest = ConflictPage.model_validate(
        (await mona.get("/v1/conflicts", limit=1, after=page.next_after)).json()
    )
    assert [c.id for c in rest.conflicts] == [max(first, second)]
    assert rest.next_after is None
    by_row = ConflictPage.model_validate(
        (await mona.get("/v1/conflicts", table="dealer", row_id=first_row)).json()
    )
    assert [(c.id, c.field, c.mine, c.theirs) for c in by_row.conflicts] == [
        (first, "city", "萧山", "余杭")
    ]
    await mona.post(f"/v1/conflicts/{first}/resolve", {"resolution": "theirs"})
    still_open = ConflictPage.model_validate(
        (await mona.get("/v1/conflicts", status="open")).json()
    )
    assert [c.id for c in still_open.conflicts] == [second]


async def test_resolving_with_mine_applies_the_value_as_an_ordinary_change(
    alice: ApiClient, bob: ApiClient, mona: ApiClient, world: World
) -> None:
    row_id, conflict_id = await _conflict(alice, bob, world)
    await alice.pull()
    response = await mona.post(f"/v1/conflicts/{conflict_id}/resolve", {"resolution": "mine"})
    assert response.status_code == 200
    body = response.json()
    assert body["conflict"]["status"] == "resolved"
    assert body["conflict"]["resolution"] == "mine"
    assert body["conflict"]["resolved_by"] == mona.user_id
    assert body["conflict"]["resolved_value"] == "萧山"
    changes = latest(await alice.pull())
    assert changes[("dealer", row_id)].values["city"] == "萧山"
    assert changes[("dealer", row_id)].row_version == body["row_version"]
    assert changes[(CONFLICT_TABLE, conflict_id)].values["status"] == "resolved"
    audit = AuditPage.model_validate((await mona.get("/v1/audit", row_id=row_id)).json())
    last = audit.entries[-1]
    assert (last.user_id, last.action) == (mona.user_id, "update")
    assert (last.changes["city"].old, last.changes["city"].new) == ("余杭", "萧山")


async def test_resolving_with_another_value_or_theirs(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    row_id, conflict_id = await _conflict(alice, bob, world)
    bad = await bob.post(
        f"/v1/conflicts/{conflict_id}/resolve", {"resolution": "value", "value": 12}
    )
    assert bad.status_code == 422
    assert bad.json()["code"] == "invalid_value"
    good = await bob.post(
        f"/v1/conflicts/{conflict_id}/resolve", {"resolution": "value", "value": "滨江"}
    )
    assert good.status_code == 200
    assert latest(await bob.pull())[("dealer", row_id)].values["city"] == "滨江"
    _other_row, other = await _conflict(alice, bob, world)
    kept = await bob.post(f"/v1/conflicts/{other}/resolve", {"resolution": "theirs"})
    assert kept.json()["row_version"] is None  # nothing to apply


async def test_a_client_resolves_offline_by_pushing_the_record_and_the_value(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    row_id, conflict_id = await _conflict(alice, bob, world)
    result = await bob.push(
        op("dealer", row_id, {"city": "萧山"}, base={"city": "余杭"}),
        op(
            CONFLICT_TABLE,
            conflict_id,
            {"status": "resolved", "resolution": "mine", "resolved_value": "萧山"},
            base={"status": "open", "resolution": None, "resolved_value": None},
        ),
    )
    assert [r.status for r in result.results] == ["applied", "applied"]
    record = latest(await alice.pull())[(CONFLICT_TABLE, conflict_id)].values
    assert (record["status"], record["resolved_by"]) == ("resolved", bob.user_id)
    tamper = (
        await bob.push(op(CONFLICT_TABLE, conflict_id, {"mine": "别的"}, base={"mine": "萧山"}))
    ).results[0]
    assert (tamper.status, tamper.reason) == ("rejected", Reason.READ_ONLY_FIELD)


async def test_a_deleted_row_is_restored_by_resolving_its_kept_edit(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    row_id = await alice.insert_dealer(world.t1, city="杭州")
    await alice.push(op("dealer", row_id, kind="delete"))
    edit = (await bob.push(op("dealer", row_id, {"city": "萧山"}, base={"city": "杭州"}))).results[
        0
    ]
    response = await bob.post(
        f"/v1/conflicts/{edit.conflict_ids[0]}/resolve", {"resolution": "mine"}
    )
    assert response.status_code == 200
    row = latest(await bob.pull())[("dealer", row_id)]
    assert (row.deleted, row.values["city"]) == (False, "萧山")


async def test_a_rep_cannot_resolve_into_a_manager_only_field(
    alice: ApiClient, mona: ApiClient, world: World
) -> None:
    row_id = await alice.insert_dealer(world.t1, abc_class="B")
    await mona.push(op("dealer", row_id, {"abc_class": "A"}, base={"abc_class": "B"}))
    merged = await mona.push(op("dealer", row_id, {"abc_class": "C"}, base={"abc_class": "B"}))
    conflict_id = merged.results[0].conflict_ids[0]
    response = await alice.post(f"/v1/conflicts/{conflict_id}/resolve", {"resolution": "mine"})
    assert response.status_code == 403
    assert response.json()["code"] == "manager_only"


async def test_the_audit_trail_records_who_which_device_and_each_field(
    alice: ApiClient, mona: ApiClient, world: World
) -> None:
    row_id = await alice.insert_dealer(world.t1, city="杭州")
    await alice.push(
        op("dealer", row_id, {"city": "余杭", "phone": "1"}, base={"city": "杭州", "phone": None})
    )
    await alice.push(op("dealer", row_id, kind="delete"))
    page = AuditPage.model_validate(
        (await mona.get("/v1/audit", table="dealer", row_id=row_id)).json()
    )
    assert [e.action for e in page.entries] == ["insert", "update", "delete"]
    assert {e.user_id for e in page.entries} == {alice.user_id}
    assert {e.device_id for e in page.entries} == {alice.device_id}
    assert {e.username for e in page.entries} == {"alice"}
    update = page.entries[1].changes
    assert (update["city"].old, update["city"].new) == ("杭州", "余杭")
    assert (update["phone"].old, update["phone"].new) == (None, "1")
    assert [e.row_version for e in page.entries] == [1, 2, 3]
    by_user = AuditPage.model_validate((await mona.get("/v1/audit", user_id=alice.user_id)).json())
    assert {e.user_id for e in by_user.entries} == {alice.user_id}
    first = AuditPage.model_validate((await mona.get("/v1/audit", limit=1)).json())
    assert first.next_after == first.entries[0].id
    future = await mona.get("/v1/audit", since="2999-01-01T00:00:00Z")
    assert future.json()["entries"] == []
    bad = await mona.get("/v1/audit", since="yesterday")
    assert bad.status_code == 422
