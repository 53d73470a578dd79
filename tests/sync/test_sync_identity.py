"""Signing a database in as someone else, and records made offline before any sign-in."""

from __future__ import annotations

import io
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from synce2e import (
    FAST_PASSWORDS,
    PASSWORD,
    SERVER_URL,
    Device,
    World,
    fresh_database,
    server_rows,
)
from synctest import run_cli

from fieldrep.i18n import language
from fieldrep.server.services import admin
from fieldrep.storage.db import make_engine
from fieldrep.storage.enums import AbcClass
from fieldrep.storage.models import Dealer
from fieldrep.storage.services import core
from fieldrep.storage.services.core import Store
from fieldrep.sync import api, identity, local
from fieldrep.sync.client import SyncClient
from fieldrep.ui.startup import resolve_user


@pytest.fixture
def world(world: World, monkeypatch: pytest.MonkeyPatch) -> World:
    """The shared world (conftest.py) with carol, a rep of another territory."""
    admin.add_user(world.database, FAST_PASSWORDS, "carol", PASSWORD, role="rep")
    admin.add_territory(world.database, "宁波", region="华东", manager="mona")
    admin.assign(world.database, "carol", "宁波")

    def in_process(*args: Any, **kwargs: Any) -> SyncClient:
        return SyncClient(*args, **{**kwargs, "transport": world.transport})

    # The CLI signs in without a transport: route its client to the app in-process.
    monkeypatch.setattr(api, "SyncClient", in_process)
    return world


@pytest.fixture
def alice(alice: Device) -> Device:
    """Alice's device (conftest.py), synced once."""
    alice.sync()
    return alice


def cli_login(db_path: Path, user: str, monkeypatch: pytest.MonkeyPatch, *extra: str) -> int:
    monkeypatch.setattr(sys, "stdin", io.StringIO(PASSWORD + "\n"))
    with language("en"):
        return run_cli(
            "login",
            "--server",
            SERVER_URL,
            "--user",
            user,
            "--password-stdin",
            "--db",
            str(db_path),
            *extra,
        )


def new_dealer(store: Store, name: str) -> str:
    return core.create(store, Dealer, {"name": name, "abc_class": AbcClass.B}).id


def state(device: Device, key: str) -> str | None:
    with device.engine.connect() as connection:
        return local.get_state(connection, key)


def count(device: Device, table: str) -> int:
    with device.engine.connect() as connection:
        return int(connection.exec_driver_sql(f'SELECT count(*) FROM "{table}"').scalar() or 0)


def territory_id(world: World, name: str) -> str:
    for (table, row_id), values in server_rows(world).items():
        if table == "territory" and values["name"] == name:
            return row_id
    raise AssertionError(name)


# -- another user on the same database


def test_the_same_user_signing_in_again_keeps_everything(alice: Device, world: World) -> None:
    new_dealer(alice.store, "杭州恒达")
    alice.sync()
    cursors = state(alice, local.SERVER_EPOCH)
    api.login(alice.db_path, SERVER_URL, "alice", PASSWORD, transport=world.transport)
    assert count(alice, "dealer") == 1
    assert state(alice, local.SERVER_EPOCH) == cursors
    quiet = alice.sync()
    assert (quiet.pushed, quiet.pulled) == (0, 0)


def test_another_user_is_refused_while_changes_are_unsent(alice: Device, world: World) -> None:
    new_dealer(alice.store, "杭州恒达")
    new_dealer(alice.store, "杭州新达")
    with pytest.raises(identity.UnsentChangesOfAnother) as refused:
        api.login(alice.db_path, SERVER_URL, "carol", PASSWORD, transport=world.transport)
    with language("en"):
        message = refused.value.user_message()
    assert "2 unsent changes of alice" in message
    assert state(alice, local.USER_NAME) == "alice"
    assert len(alice.outbox()) == 2 and count(alice, "dealer") == 2
    with language("zh_CN"):
        assert "alice" in refused.value.user_message()
        assert "unsent" not in refused.value.user_message()


def test_another_user_with_nothing_unsent_starts_from_their_own_scope(
    alice: Device, world: World
) -> None:
    new_dealer(alice.store, "杭州恒达")
    alice.sync()
    carol = Device(world, alice.db_path.parent, "carol")  # a device of her own, for her rows
    new_dealer(carol.store, "宁波甬达")
    carol.sync()
    carol.close()
    api.login(alice.db_path, SERVER_URL, "carol", PASSWORD, transport=world.transport)
    assert count(alice, "dealer") == 0 and count(alice, "app_user") == 0
    assert count(alice, "sync_cursor") == 0 and state(alice, local.DEVICE_ID)
    alice.reopen()  # the store now works as carol
    alice.sync()
    ningbo = territory_id(world, "宁波")
    with alice.engine.connect() as connection:
        scopes = set(connection.exec_driver_sql("SELECT territory_id FROM dealer").scalars())
        names = set(connection.exec_driver_sql("SELECT name FROM dealer").scalars())
    assert scopes == {ningbo} and names == {"宁波甬达"}


def test_cli_login_as_another_user_exit_codes(
    alice: Device,
    world: World,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    new_dealer(alice.store, "杭州恒达")
    assert cli_login(alice.db_path, "carol", monkeypatch) == 4
    assert "1 unsent change of alice" in capsys.readouterr().err
    alice.sync()
    assert cli_login(alice.db_path, "carol", monkeypatch) == 0
    assert "Signed in" in capsys.readouterr().out
    assert count(alice, "dealer") == 0
    assert state(alice, local.USER_NAME) == "carol"


# -- records made offline before any sign-in


@pytest.fixture
def offline(tmp_path: Path, home: Path) -> Iterator[tuple[Path, Store]]:
    """A database opened with no server: the app's local rep and territory, one dealer."""
    db_path = tmp_path / "offline.db"
    fresh_database(db_path)
    engine = make_engine(db_path)
    store = Store(engine, resolve_user(engine))
    new_dealer(store, "离线经销商")
    yield db_path, store
    engine.dispose()


def test_offline_records_move_to_the_reps_territory_at_first_sign_in(
    world: World, offline: tuple[Path, Store]
) -> None:
    db_path, store = offline
    placeholder = store.user.territory_id
    api.login(db_path, SERVER_URL, "alice", PASSWORD, transport=world.transport)
    with Device.open_existing(world, db_path) as device:
        [op] = device.outbox()
        assert (op.table, op.fields["territory_id"]) == ("dealer", world.territory)
        summary = device.sync()
        assert summary.rejected == [] and device.outbox() == []
        assert device.outbox("rejected") == []
        quiet = device.sync()
        assert (quiet.pushed, quiet.pulled) == (0, 0)
        with device.engine.connect() as connection:
            gone = connection.execute(
                text("SELECT count(*) FROM territory WHERE id = :i"), {"i": placeholder}
            ).scalar()
            user = json.loads(local.get_state(connection, "territory_ids") or "[]")
    assert gone == 0 and user[0] == world.territory
    dealers = [v for (t, _), v in server_rows(world).items() if t == "dealer"]
    assert [(d["name"], d["territory_id"]) for d in dealers] == [("离线经销商", world.territory)]
    territories = [v for (t, _), v in server_rows(world).items() if t == "territory"]
    assert len(territories) == 2  # 杭州 and 宁波 only: the placeholder never went up


def test_offline_records_wait_for_a_choice_among_several_territories(
    world: World,
    offline: tuple[Path, Store],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    db_path, _store = offline
    admin.assign(world.database, "alice", "宁波")
    ningbo = territory_id(world, "宁波")
    assert cli_login(db_path, "alice", monkeypatch) == 4
    err = capsys.readouterr().err
    assert "2 territories" in err and ningbo in err and "--territory" in err
    assert f"{ningbo} (宁波)" in err, "each id with its name"
    with Device.open_existing(world, db_path) as device:
        assert state(device, local.USER_NAME) is None  # not signed in
    assert cli_login(db_path, "alice", monkeypatch, "--territory", "nowhere") == 4
    assert cli_login(db_path, "alice", monkeypatch, "--territory", ningbo) == 0
    with Device.open_existing(world, db_path) as device:
        device.sync()
        assert device.outbox() == [] and device.outbox("rejected") == []
        quiet = device.sync()
        assert (quiet.pushed, quiet.pulled) == (0, 0)
    dealers = [v for (t, _), v in server_rows(world).items() if t == "dealer"]
    assert [d["territory_id"] for d in dealers] == [ningbo]


def test_offline_records_the_server_refused_before_are_sent_again(
    world: World, offline: tuple[Path, Store]
) -> None:
    """A sign-in before this existed: the server refused the placeholders and the dealer."""
    db_path, store = offline
    with store.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE outbox SET state = 'rejected', reason = 'out of scope'")
    api.login(db_path, SERVER_URL, "alice", PASSWORD, transport=world.transport)
    with Device.open_existing(world, db_path) as device:
        [op] = device.outbox()
        assert (op.table, op.created, op.fields["territory_id"]) == (
            "dealer",
            True,
            world.territory,
        )
        device.sync()
        assert device.outbox() == [] and device.outbox("rejected") == []
    dealers = [v for (t, _), v in server_rows(world).items() if t == "dealer"]
    assert [(d["name"], d["territory_id"]) for d in dealers] == [("离线经销商", world.territory)]


def test_refused_changes_of_the_previous_user_also_block_a_switch(
    alice: Device, world: World
) -> None:
    new_dealer(alice.store, "杭州恒达")
    with alice.engine.begin() as connection:
        connection.exec_driver_sql("UPDATE outbox SET state = 'rejected', reason = 'refused'")
    with pytest.raises(identity.UnsentChangesOfAnother):
        api.login(alice.db_path, SERVER_URL, "carol", PASSWORD, transport=world.transport)
    assert count(alice, "dealer") == 1
