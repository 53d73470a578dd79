"""Scope isolation through every endpoint: a rep never reads or writes another territory."""

from __future__ import annotations

import pytest
from servertest import ApiClient, World, dealer_fields, latest, op

from fieldrep.server.core.security import new_id
from fieldrep.sync.protocol import CONFLICT_TABLE, Reason

pytestmark = pytest.mark.anyio


async def test_a_rep_cannot_insert_into_another_territory(alice: ApiClient, world: World) -> None:
    result = (await alice.push(op("dealer", new_id(), dealer_fields(world.t2)))).results[0]
    assert (result.status, result.reason) == ("rejected", Reason.OUT_OF_SCOPE)


async def test_a_rep_cannot_insert_into_an_unknown_territory(alice: ApiClient) -> None:
    result = (await alice.push(op("dealer", new_id(), dealer_fields(new_id())))).results[0]
    assert (result.status, result.reason) == ("rejected", Reason.OUT_OF_SCOPE)


async def test_a_rep_cannot_edit_delete_or_resolve_rows_of_another_territory(
    alice: ApiClient, carol: ApiClient, world: World
) -> None:
    row_id = await carol.insert_dealer(world.t2, "宁波店", city="宁波")
    for attempt in (
        op("dealer", row_id, {"city": "杭州"}, base={"city": "宁波"}),
        op("dealer", row_id, kind="delete"),
        op("dealer", row_id, dealer_fields(world.t1)),  # claiming the id for 杭州
    ):
        result = (await alice.push(attempt)).results[0]
        assert (result.status, result.reason) == ("rejected", Reason.OUT_OF_SCOPE)
    carol_rows = latest(await carol.pull())
    assert carol_rows[("dealer", row_id)].values["city"] == "宁波"
    assert carol_rows[("dealer", row_id)].row_version == 1


async def test_pulls_never_return_rows_of_other_territories(
    alice: ApiClient, carol: ApiClient, mona: ApiClient, root: ApiClient, world: World
) -> None:
    mine = await alice.insert_dealer(world.t1, "杭州店")
    theirs = await carol.insert_dealer(world.t2, "宁波店")
    # A conflict record in 宁波 must stay there too.
    await carol.push(op("dealer", theirs, {"city": "x"}))
    assert {c.stream for c in await alice.pull()} == {world.t1}
    assert {c.stream for c in await carol.pull()} == {world.t2}
    assert {c.stream for c in await mona.pull()} == {world.t1}  # her team works in 杭州
    everything = latest(await root.pull())
    assert ("dealer", mine) in everything and ("dealer", theirs) in everything
    assert any(table == CONFLICT_TABLE for table, _ in everything)


async def test_conflict_inbox_and_resolution_are_scoped(
    alice: ApiClient, carol: ApiClient, world: World
) -> None:
    theirs = await carol.insert_dealer(world.t2, "宁波店", city="宁波")
    merged = (await carol.push(op("dealer", theirs, {"city": "x"}))).results[0]
    conflict_id = merged.conflict_ids[0]
    assert (await alice.get("/v1/conflicts")).json()["conflicts"] == []
    assert (await alice.get("/v1/conflicts", territory_id=world.t2)).json()["conflicts"] == []
    response = await alice.post(f"/v1/conflicts/{conflict_id}/resolve", {"resolution": "mine"})
    assert response.status_code == 404
    sneaky = await alice.push(
        op(CONFLICT_TABLE, conflict_id, {"status": "resolved"}, base={"status": "open"})
    )
    assert sneaky.results[0].reason is Reason.OUT_OF_SCOPE
    assert len((await carol.get("/v1/conflicts")).json()["conflicts"]) == 1


async def test_audit_is_for_managers_and_scoped(
    alice: ApiClient, carol: ApiClient, mona: ApiClient, root: ApiClient, world: World
) -> None:
    await alice.insert_dealer(world.t1)
    await carol.insert_dealer(world.t2)
    denied = await alice.get("/v1/audit")
    assert denied.status_code == 403
    assert denied.json()["code"] == "forbidden"
    seen_by_mona = {e["territory_id"] for e in (await mona.get("/v1/audit")).json()["entries"]}
    assert seen_by_mona == {world.t1}
    outside = (await mona.get("/v1/audit", territory_id=world.t2)).json()["entries"]
    assert outside == []
    seen_by_root = {e["territory_id"] for e in (await root.get("/v1/audit")).json()["entries"]}
    assert seen_by_root == {world.t1, world.t2}
