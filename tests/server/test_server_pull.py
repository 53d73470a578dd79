"""POST /v1/sync/pull: snapshot and log paging, cursor safety, 410 and epoch changes."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from servertest import ApiClient, World, contact_fields, dealer_fields, latest, op

from fieldrep.server.core.security import new_id
from fieldrep.server.services import admin
from fieldrep.server.services import pull as pull_service
from fieldrep.sync.protocol import TABLE_ORDER, Change, PullResponse

pytestmark = pytest.mark.anyio


async def _seed(client: ApiClient, territory_id: str, dealers: int) -> list[str]:
    """Dealers, each with one contact, pushed children first (the server orders them)."""
    ops: list[dict[str, Any]] = []
    ids: list[str] = []
    for number in range(dealers):
        dealer_id = new_id()
        ids.append(dealer_id)
        ops.append(
            op("contact", new_id(), contact_fields(territory_id, dealer_id, f"联系人{number}"))
        )
        ops.append(op("dealer", dealer_id, dealer_fields(territory_id, f"经销商{number}")))
    result = await client.push(*ops)
    assert {r.status for r in result.results} == {"applied"}
    return ids


async def test_snapshot_pages_deliver_every_row_once_parents_first(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    await _seed(alice, world.t1, 25)
    pages: list[PullResponse] = []
    for _ in range(100):
        response = await bob.pull_page(limit=7)
        assert response.status_code == 200
        page = PullResponse.model_validate(response.json())
        assert len(page.changes) <= 7
        pages.append(page)
        bob.cursors = page.cursors
        if not page.has_more:
            break
    changes = [change for page in pages for change in page.changes]
    keys = [(c.table, c.row_id) for c in changes]
    assert len(keys) == len(set(keys))  # nothing twice
    tables = [c.table for c in changes]
    assert tables.count("dealer") == 25
    assert tables.count("contact") == 25
    assert tables.count("territory") == 1
    assert tables.count("app_user") == 2  # alice and bob live in 杭州
    positions = [TABLE_ORDER.index(table) for table in tables]
    assert positions == sorted(positions)  # parents before children across pages
    assert all(c.change_no is None for c in changes)
    assert all(cursor.startswith("log:") for cursor in bob.cursors.values())
    assert await bob.pull() == []


async def test_log_mode_delivers_the_current_state_once(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    await bob.pull()
    row_id = await alice.insert_dealer(world.t1, city="a")
    for old, new in (("a", "b"), ("b", "c"), ("c", "d")):
        await alice.push(op("dealer", row_id, {"city": new}, base={"city": old}))
    changes = await bob.pull()
    assert [(c.table, c.row_version, c.values["city"]) for c in changes] == [("dealer", 4, "d")]
    assert changes[0].change_no is not None


async def test_changes_made_during_a_snapshot_are_not_missed(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    dealer_ids = await _seed(alice, world.t1, 10)
    seen: dict[tuple[str, str], Change] = {}
    response = await bob.pull_page(limit=5)
    page = PullResponse.model_validate(response.json())
    bob.cursors = page.cursors
    seen.update(latest(page.changes))
    # Edits land while bob is half-way through his snapshot.
    for dealer_id in dealer_ids:
        await alice.push(op("dealer", dealer_id, {"city": "新"}, base={"city": None}))
    new_id_ = await alice.insert_dealer(world.t1, "新经销商")
    for change in await bob.pull(limit=5):
        key = (change.table, change.row_id)
        if key not in seen or seen[key].row_version < change.row_version:
            seen[key] = change
    for dealer_id in dealer_ids:
        assert seen[("dealer", dealer_id)].values["city"] == "新"
    assert ("dealer", new_id_) in seen


async def test_concurrent_pushes_and_pulls_never_skip_a_change(
    alice: ApiClient, bob: ApiClient, mona: ApiClient, world: World
) -> None:
    """Cursor safety: a puller running alongside writers ends with the server's state."""
    row_ids = [await alice.insert_dealer(world.t1, f"店{i}", city="0") for i in range(6)]
    done = asyncio.Event()
    seen = latest(await mona.pull())  # the snapshot; from here on the log alone

    async def writer(client: ApiClient, offset: int) -> None:
        for step in range(1, 16):
            row_id = row_ids[(step + offset) % len(row_ids)]
            await client.push(
                op("dealer", row_id, {"notes": f"{client.tokens.user.username}{step}"})
            )

    async def puller() -> None:
        while True:
            finished = done.is_set()
            for change in await mona.pull(limit=3):
                key = (change.table, change.row_id)
                assert key not in seen or seen[key].row_version < change.row_version, key
                seen[key] = change
            if finished:
                return
            await asyncio.sleep(0)

    pulling = asyncio.create_task(puller())
    await asyncio.gather(writer(alice, 0), writer(bob, 3))
    done.set()
    await pulling
    truth = latest(await ApiClient(mona.http, mona.tokens).pull())
    for key, change in truth.items():
        assert seen[key].row_version == change.row_version, key
        assert seen[key].values == change.values


async def test_tombstones_propagate(alice: ApiClient, bob: ApiClient, world: World) -> None:
    row_id = await alice.insert_dealer(world.t1)
    await bob.pull()
    await alice.push(op("dealer", row_id, kind="delete"))
    changes = await bob.pull()
    assert [(c.row_id, c.deleted) for c in changes] == [(row_id, True)]
    assert changes[0].values["deleted_at"] is not None


async def test_a_pruned_log_answers_410_and_a_resync_recovers(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    await bob.pull()
    for number in range(5):
        await alice.insert_dealer(world.t1, f"店{number}")
    admin.prune_change_log(world.database, keep=2)
    response = await bob.pull_page()
    assert response.status_code == 410
    body = response.json()
    assert body["code"] == "cursor_too_old"
    assert body["details"]["streams"] == [world.t1]
    bob.cursors = {}
    dealers = [c for c in await bob.pull() if c.table == "dealer"]
    assert len(dealers) == 5


async def test_an_epoch_change_answers_410(alice: ApiClient, world: World) -> None:
    meta = (await alice.get("/v1/sync/meta")).json()
    assert (await alice.pull_page(epoch=meta["epoch"])).status_code == 200
    new_epoch = admin.reset_epoch(world.database)
    response = await alice.pull_page(epoch=meta["epoch"])
    assert response.status_code == 410
    assert response.json()["code"] == "epoch_changed"
    assert response.json()["details"]["epoch"] == new_epoch
    assert (await alice.pull_page(epoch=new_epoch)).status_code == 200


async def test_a_cursor_from_the_future_answers_410(alice: ApiClient, world: World) -> None:
    alice.cursors = {world.t1: "log:999999"}
    response = await alice.pull_page()
    assert response.status_code == 410


@pytest.mark.parametrize(
    "cursor", ["", "log:", "log:-1", "snap:1:no_table:", "zzz", "snap:x:dealer:"]
)
async def test_a_forged_cursor_is_a_bad_request(
    alice: ApiClient, world: World, cursor: str
) -> None:
    alice.cursors = {world.t1: cursor}
    response = await alice.pull_page()
    assert response.status_code == 400
    assert response.json()["code"] == "bad_request"


async def test_cursors_of_streams_out_of_scope_are_revoked_not_served(
    alice: ApiClient, carol: ApiClient, world: World
) -> None:
    await carol.insert_dealer(world.t2, "宁波店")
    alice.cursors = {world.t2: "log:0"}
    response = await alice.pull_page()
    page = PullResponse.model_validate(response.json())
    assert page.revoked_streams == [world.t2]
    assert world.t2 not in page.cursors
    assert all(change.stream == world.t1 for change in page.changes)


async def test_every_page_names_the_territories_of_the_callers_scope(
    alice: ApiClient, carol: ApiClient, mona: ApiClient, root: ApiClient, world: World
) -> None:
    # A rep: their territories; a manager: their team's; an admin: every one (null).
    # A device that resynced drops the rows of any other territory (it sent no cursor
    # that revoked_streams could name).
    admin.assign(world.database, "carol", "杭州")
    expected = (
        (alice, [world.t1]),
        (carol, sorted([world.t1, world.t2])),
        (mona, [world.t1]),
        (root, None),
    )
    for client, scope in expected:
        response = await client.pull_page(limit=1)
        page = PullResponse.model_validate(response.json())
        assert page.scope == scope
        if scope is not None:
            assert sorted(page.cursors) == scope  # the streams the pull itself serves


async def test_pull_names_the_people_who_made_the_changes(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    await alice.insert_dealer(world.t1)
    response = await bob.pull_page()
    users = {
        user.id: user.display_name for user in PullResponse.model_validate(response.json()).users
    }
    assert users[alice.user_id] == "李雷"


async def test_two_syncs_in_a_row_transfer_nothing(alice: ApiClient, world: World) -> None:
    await alice.insert_dealer(world.t1)
    assert await alice.pull() != []
    assert await alice.pull() == []
    assert await alice.pull() == []


async def _dealers(client: ApiClient) -> dict[str, Change]:
    client.cursors = {}
    return {c.row_id: c for c in await client.pull() if c.table == "dealer"}


async def _set_city(client: ApiClient, reader: ApiClient, dealer_id: str, city: str) -> None:
    cursors = reader.cursors
    current = (await _dealers(reader))[dealer_id]
    reader.cursors = cursors
    change = op(
        "dealer",
        dealer_id,
        {"city": city},
        base={"city": current.values["city"]},
        base_version=current.row_version,
    )
    assert (await client.push(change)).results[0].status == "applied"


async def test_rows_carry_their_version_at_the_last_restore(
    alice: ApiClient, bob: ApiClient, world: World
) -> None:
    kept = await alice.insert_dealer(world.t1, "店甲")
    edited = await alice.insert_dealer(world.t1, "店乙")
    assert {c.restore_version for c in (await _dealers(bob)).values()} == {None}
    # Changed once before the restore, twice after it.
    for city in ("宁波", "温州", "台州"):
        if city == "温州":
            admin.reset_epoch(world.database)
        await _set_city(alice, bob, edited, city)
    created = await alice.insert_dealer(world.t1, "店丙")
    bob.cursors = {}
    snapshot = await _dealers(bob)
    assert {key: (c.row_version, c.restore_version) for key, c in snapshot.items()} == {
        kept: (1, 1),
        edited: (4, 2),
        created: (1, 0),
    }
    assert {c.change_no for c in snapshot.values()} == {None}
    # Log pages say the same.
    await _set_city(alice, bob, kept, "杭州")
    log = [c for c in await bob.pull() if c.table == "dealer"]
    assert [(c.row_id, c.row_version, c.restore_version) for c in log] == [(kept, 2, 1)]
    assert log[0].change_no is not None


async def _set(client: ApiClient, reader: ApiClient, dealer_id: str, **fields: Any) -> None:
    current = (await _dealers(reader))[dealer_id]
    base = {name: current.values.get(name) for name in fields}
    change = op("dealer", dealer_id, fields, base=base, base_version=current.row_version)
    assert (await client.push(change)).results[0].status == "applied"


async def _reconciling(client: ApiClient, known_epoch: str) -> dict[str, Change]:
    client.cursors = {}
    changes = await client.pull(limit=2, reconcile_from=known_epoch)  # several pages
    return {c.row_id: c for c in changes if c.table == "dealer"}


async def test_a_reconciling_device_gets_rows_as_at_the_first_restore_after_its_epoch(
    alice: ApiClient, bob: ApiClient, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(pull_service, "_HISTORY_CHUNK", 1)  # a page's rows in several lookups
    first_epoch = PullResponse.model_validate((await bob.pull_page()).json()).epoch
    edited = await alice.insert_dealer(world.t1, "店甲", city="杭州")
    kept = await alice.insert_dealer(world.t1, "店乙")
    await _set(alice, bob, edited, city="宁波")  # version 2 at the first restore
    second_epoch = admin.reset_epoch(world.database)
    await _set(alice, bob, edited, city="温州")
    await _set(alice, bob, edited, address="江北区 8 号")  # version 4 at the second restore
    created = await alice.insert_dealer(world.t1, "店丙")
    third_epoch = admin.reset_epoch(world.database)
    await _set(alice, bob, edited, city="台州")

    def seen(rows: dict[str, Change]) -> dict[str, tuple[int, int | None, Any]]:
        return {key: (c.row_version, c.restore_version, c.restored) for key, c in rows.items()}

    # From the first epoch, the first restore counts: the city and the address
    # changed since, with their values then; a row created after it shares nothing.
    from_first = seen(await _reconciling(bob, first_epoch))
    assert from_first[edited] == (5, 2, {"city": "宁波", "address": None})
    assert from_first[kept] == (1, 1, {})
    assert from_first[created] == (1, 0, None)
    # From the second epoch, only the second restore.
    from_second = seen(await _reconciling(bob, second_epoch))
    assert from_second[edited] == (5, 4, {"city": "温州"})
    assert from_second[created] == (1, 1, {})
    # The current epoch: no restore since, as a plain pull (the latest restore's version).
    assert seen(await _reconciling(bob, third_epoch))[edited] == (5, 4, None)
    # An epoch the server does not know: nothing is taken as shared.
    unknown = seen(await _reconciling(bob, "0123456789abcdef"))
    assert unknown == {key: (then[0], 0, None) for key, then in from_first.items()}
