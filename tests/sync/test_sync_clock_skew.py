"""SYNC.md invariant 8, clock independence: skewed device clocks change nothing.

The same story (merge of different fields, a same-field conflict, a delete, an
edit made by the device whose clock is behind after one whose clock is ahead, the
conflict resolved) is played twice against the real server in-process: once with
true clocks, once with alice's clock three days behind and bob's four days ahead.
Every wall-clock stamp the client writes (``updated_at``, ``created_at``,
``deleted_at``, the outbox and sync times) comes from
:func:`fieldrep.storage.types.utcnow`, which each client module imports by name;
all of those bindings are switched to the clock of the device that is acting.
The outcomes, with the stamps left out, must be identical, and every device must
equal the server.
"""

from __future__ import annotations

import importlib
import pkgutil
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from synce2e import Device, World, assert_converged, comparable, make_world, server_rows
from synctest_keyring import MemoryKeyring

import fieldrep.storage
import fieldrep.sync
from fieldrep.storage import types
from fieldrep.storage.enums import AbcClass
from fieldrep.storage.models import Dealer
from fieldrep.storage.services import core
from fieldrep.storage.services.core import Store
from fieldrep.sync import api, local
from fieldrep.sync.protocol import CONFLICT_TABLE

TRUE_UTCNOW = types.utcnow


class DeviceClocks:
    """The client's clock source, set to the acting device's skew."""

    def __init__(self) -> None:
        self.skew = timedelta(0)

    def utcnow(self) -> datetime:
        return TRUE_UTCNOW() + self.skew

    @contextmanager
    def of(self, skew: timedelta) -> Iterator[None]:
        self.skew = skew
        try:
            yield
        finally:
            self.skew = timedelta(0)


@pytest.fixture
def clocks(monkeypatch: pytest.MonkeyPatch) -> DeviceClocks:
    """Every client module's ``utcnow`` (bound at import) goes through one switchable clock.

    The server's modules keep the true clock: only the devices are skewed.
    """
    clocks = DeviceClocks()
    # Import every client module first: one imported later would keep the patched clock.
    for package in (fieldrep.storage, fieldrep.sync):
        for found in pkgutil.walk_packages(package.__path__, f"{package.__name__}."):
            if ".migrations." not in found.name:
                importlib.import_module(found.name)
    patched = []
    for name, module in list(sys.modules.items()):
        if not name.startswith("fieldrep.") or name.startswith("fieldrep.server"):
            continue
        if getattr(module, "utcnow", None) is TRUE_UTCNOW:
            monkeypatch.setattr(module, "utcnow", clocks.utcnow)
            patched.append(name)
    assert {"fieldrep.storage.types", "fieldrep.storage.services.core"} <= set(patched)
    assert {"fieldrep.storage.services.visits", "fieldrep.sync.local"} <= set(patched)
    return clocks


class Actor:
    """A device whose every write and sync runs on its own (skewed) clock."""

    def __init__(self, device: Device, clocks: DeviceClocks, skew: timedelta) -> None:
        self.device, self.clocks, self.skew = device, clocks, skew
        # The store's "today" (due dates) follows the device's clock too.
        device.store = Store(
            device.engine,
            device.store.user,
            today=lambda: (TRUE_UTCNOW() + skew).date(),
        )

    def do(self, action: Callable[[Store], Any]) -> Any:
        with self.clocks.of(self.skew):
            return action(self.device.store)

    def sync(self) -> Any:
        with self.clocks.of(self.skew):
            return self.device.sync()


def dealer_by_name(store: Store, name: str) -> str:
    with store.engine.connect() as connection:
        return str(
            connection.exec_driver_sql("SELECT id FROM dealer WHERE name = ?", (name,)).scalar_one()
        )


def play(world: World, alice: Actor, bob: Actor) -> dict[str, Any]:
    """The story; returns what happened, keyed by dealer name, without clock stamps."""

    def create(name: str, **values: Any) -> Callable[[Store], Any]:
        return lambda store: core.create(
            store, Dealer, {"name": name, "abc_class": AbcClass.B, **values}
        )

    alice.do(create("杭州恒达", city="杭州", employee_count=10))
    alice.do(create("宁波远航", city="宁波"))
    alice.do(create("温州合力", city="温州"))
    alice.sync()
    bob.sync()
    hengda, yuanhang, heli = (
        dealer_by_name(alice.device.store, name) for name in ("杭州恒达", "宁波远航", "温州合力")
    )

    # bob (clock ahead) edits first; alice (clock behind) edits later in real time.
    bob.do(lambda s: core.update(s, Dealer, hengda, {"city": "温州", "phone": "0571-88886666"}))
    bob.do(lambda s: core.delete(s, Dealer, heli))
    assert bob.sync().rejected == []
    alice.do(lambda s: core.update(s, Dealer, hengda, {"city": "宁波", "employee_count": 20}))
    alice.do(lambda s: core.update(s, Dealer, yuanhang, {"notes": "周三送货"}))
    first = alice.sync()
    bob.sync()
    # A later edit by the device whose clock is behind still wins over an older one.
    bob.do(lambda s: core.update(s, Dealer, yuanhang, {"city": "舟山"}))
    bob.sync()
    alice.sync()  # she has seen 舟山 (four days "later" by bob's clock) and edits after it
    alice.do(lambda s: core.update(s, Dealer, yuanhang, {"city": "台州"}))
    second = alice.sync()
    bob.sync()
    [conflict, *_rest] = api.list_conflicts(alice.device.engine)
    conflicts_seen = sorted(
        (view.field, view.mine, view.theirs) for view in api.list_conflicts(alice.device.engine)
    )
    alice.do(lambda s: api.resolve_conflict(s, conflict.id, "mine"))
    alice.sync()
    bob.sync()
    for actor in (alice, bob):
        assert_converged(world, actor.device)
        assert api.list_conflicts(actor.device.engine) == []

    names = {hengda: "杭州恒达", yuanhang: "宁波远航", heli: "温州合力"}
    outcome: dict[str, Any] = {
        "conflicts at the first sync": first.conflicts,
        "conflicts at the second sync": second.conflicts,
        "conflicts seen": conflicts_seen,
    }
    for (table, row_id), values in server_rows(world).items():
        if table == "dealer" and row_id in names:
            kept = comparable(values)
            kept.pop("id", None)
            # Each run has its own server, hence its own territory id.
            assert kept.pop("territory_id") == world.territory
            outcome[names[row_id]] = kept
        elif table == CONFLICT_TABLE and values["row_id"] in names:
            outcome[f"conflict {names[values['row_id']]} {values['field']}"] = (
                values["status"],
                values["resolution"],
                values["mine"],
                values["theirs"],
            )
    return outcome


@pytest.fixture
def worlds(
    tmp_path: Path, home: Path, memory_keyring: MemoryKeyring
) -> Iterator[Callable[[str], tuple[World, Device, Device]]]:
    opened: list[tuple[World, Device, Device]] = []

    def open_world(name: str) -> tuple[World, Device, Device]:
        folder = tmp_path / name
        folder.mkdir()
        world = make_world(folder)
        alice, bob = Device(world, folder, "alice"), Device(world, folder, "bob")
        opened.append((world, alice, bob))
        return world, alice, bob

    yield open_world
    for world, alice, bob in opened:
        alice.close()
        bob.close()
        world.transport.shutdown()
        world.database.dispose()


def test_skewed_device_clocks_change_nothing(
    worlds: Callable[[str], tuple[World, Device, Device]], clocks: DeviceClocks
) -> None:
    world, alice, bob = worlds("true-clocks")
    expected = play(world, Actor(alice, clocks, timedelta(0)), Actor(bob, clocks, timedelta(0)))

    behind, ahead = timedelta(days=-3), timedelta(days=4)
    world, alice, bob = worlds("skewed-clocks")
    skewed = play(world, Actor(alice, clocks, behind), Actor(bob, clocks, ahead))
    differing = {
        key: {
            name: (expected[key].get(name), skewed[key].get(name))
            for name in expected[key]
            if expected[key][name] != skewed[key].get(name)
        }
        if isinstance(expected[key], dict)
        else (expected[key], skewed.get(key))
        for key in expected
        if expected[key] != skewed.get(key)
    }
    assert differing == {}
    assert skewed == expected

    # The skew was real: alice's rows and bob's sync time carry each one's wrong time.
    now = TRUE_UTCNOW()
    with alice.engine.connect() as connection:
        alice_made = connection.exec_driver_sql(
            "SELECT created_at FROM dealer WHERE name = '杭州恒达'"
        ).scalar_one()
    with bob.engine.connect() as connection:
        bob_synced = local.get_state(connection, local.LAST_SYNC)
    assert date.fromisoformat(str(alice_made)[:10]) <= (now - timedelta(days=3)).date()
    assert date.fromisoformat(str(bob_synced)[:10]) >= (now + timedelta(days=4)).date()
    assert expected["杭州恒达"]["city"] == "宁波", "the resolution (mine) is on the server"
    assert (expected["杭州恒达"]["employee_count"], expected["杭州恒达"]["phone"]) == (
        20,
        "0571-88886666",
    ), "different fields merged"
    assert expected["宁波远航"]["city"] == "台州", "the later edit won, whatever its clock"
    assert expected["温州合力"]["deleted"] is True
    assert expected["conflicts seen"] == [("city", "宁波", "温州")]
