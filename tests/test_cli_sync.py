"""``fieldrep conflicts`` and ``fieldrep sync`` end to end, two devices and the real server.

The server is the FastAPI app in-process (tests/sync/synce2e.py). alice works
through the command line only (sync, conflicts listed as text and JSON, resolved
with ``--take theirs`` and with ``--value``); manager mona's device syncs through
the engine and must see alice's resolution.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import keyring
import pytest
from tenacity import wait_none

from fieldrep import cli
from fieldrep.logging_setup import shutdown_logging
from fieldrep.storage.enums import AbcClass
from fieldrep.storage.models import Dealer
from fieldrep.storage.services import core
from fieldrep.sync import api, client, local
from fieldrep.sync.engine import SyncSummary
from fieldrep.sync.protocol import CONFLICT_TABLE, PROTOCOL_MAX

# The end-to-end harness of the sync tests (a module beside their tests, not a package).
sys.path.insert(0, str(Path(__file__).resolve().parent / "sync"))
from synce2e import Device, World, assert_converged, make_world, server_rows
from synctest_keyring import MemoryKeyring


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    previous = keyring.get_keyring()
    keyring.set_keyring(MemoryKeyring())
    world = make_world(tmp_path)
    yield world
    world.transport.shutdown()
    world.database.dispose()
    keyring.set_keyring(previous)
    shutdown_logging()


@pytest.fixture
def devices(world: World, tmp_path: Path) -> Iterator[tuple[Device, Device]]:
    alice = Device(world, tmp_path, "alice")
    mona = Device(world, tmp_path, "mona")
    yield alice, mona
    alice.close()
    mona.close()


@pytest.fixture(autouse=True)
def cli_reaches_the_test_server(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """``fieldrep sync`` talks to the in-process server (the URL saved at login is fake)."""
    real_run_sync = api.run_sync

    def run_sync(db_path: Path | str, progress: Any = None, **options: Any) -> SyncSummary:
        attempts = int(options.get("max_attempts", 2))
        return real_run_sync(
            db_path, progress, transport=world.transport, wait=wait_none(), max_attempts=attempts
        )

    monkeypatch.setattr(api, "run_sync", run_sync)
    real_fetch_audit = api.fetch_audit

    def fetch_audit(db_path: Path | str, **filters: Any) -> api.AuditResult:
        transport = getattr(world, "audit_transport", world.transport)
        return real_fetch_audit(
            db_path, transport=transport, wait=wait_none(), max_attempts=2, **filters
        )

    monkeypatch.setattr(api, "fetch_audit", fetch_audit)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def dealer_values(device: Device, dealer_id: str) -> tuple[Any, ...]:
    with device.engine.connect() as connection:
        return tuple(
            connection.exec_driver_sql(
                "SELECT city, employee_count FROM dealer WHERE id = ?", (dealer_id,)
            ).one()
        )


def test_conflicts_listed_resolved_and_seen_by_the_other_device(
    capsys: pytest.CaptureFixture[str], world: World, devices: tuple[Device, Device]
) -> None:
    alice, mona = devices
    db = str(alice.db_path)
    dealer = core.create(
        alice.store,
        Dealer,
        {"name": "杭州恒达", "abc_class": AbcClass.B, "city": "杭州", "employee_count": 10},
    )
    code, out, err = run(capsys, "--lang", "en", "sync", "--db", db)
    assert code == 0, err
    mona.sync()

    # Both change the same two fields; mona's reach the server first.
    core.update(alice.store, Dealer, dealer.id, {"city": "宁波", "employee_count": 15})
    core.update(mona.store, Dealer, dealer.id, {"city": "温州", "employee_count": 12})
    assert mona.sync().rejected == []

    code, out, err = run(capsys, "--lang", "en", "sync", "--db", db)
    assert code == 0, err
    assert "2 conflict" in out, out

    # Text: one line per conflict, in the user's language.
    code, out, err = run(capsys, "conflicts", "--db", db)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2, out
    views = {view.field: view for view in api.list_conflicts(alice.engine)}
    city, staff = views["city"], views["employee_count"]
    city_line = next(line for line in lines if line.startswith(city.id))
    assert "杭州恒达" in city_line and "城市" in city_line
    assert "宁波" in city_line and "温州" in city_line
    code, out, _err = run(capsys, "--lang", "en", "conflicts", "--db", db)
    english = next(line for line in out.splitlines() if line.startswith(city.id))
    # Each value names its own author: alice (李雷) wrote mine, mona (王经理) theirs.
    assert "City: mine 宁波 (李雷) / theirs 温州 (王经理)" in english, english
    assert "城市：我方 宁波（李雷）/ 对方 温州（王经理）" in city_line, city_line

    # JSON: the same two, with their values and ids.
    code, out, err = run(capsys, "conflicts", "--json", "--db", db)
    assert code == 0, err
    listed = {item["field"]: item for item in json.loads(out)}
    assert set(listed) == {"city", "employee_count"}
    assert (listed["city"]["id"], listed["city"]["mine"], listed["city"]["theirs"]) == (
        city.id,
        "宁波",
        "温州",
    )
    assert (listed["employee_count"]["mine"], listed["employee_count"]["theirs"]) == (15, 12)
    assert listed["city"]["status"] == "open" and listed["city"]["row_id"] == dealer.id

    # A typed value needs its text; a value with another choice is refused.
    code, _out, err = run(
        capsys, "--lang", "en", "conflicts", "--resolve", staff.id, "--take", "value", "--db", db
    )
    assert code == 2 and "--value" in err, err
    code, _out, err = run(
        capsys, "--lang", "en", "conflicts", "--db", db, "--resolve", staff.id,
        "--take", "mine", "--value", "13",
    )  # fmt: skip
    assert code == 2 and "--take mine" in err, err
    assert len(api.list_conflicts(alice.engine)) == 2, "nothing resolved by a refused command"

    # Resolve: take theirs for the city, type 13 for the staff count.
    code, out, err = run(
        capsys, "--lang", "en", "conflicts", "--resolve", city.id, "--take", "theirs", "--db", db
    )
    assert code == 0, err
    assert "Resolved" in out
    code, out, err = run(
        capsys, "--lang", "en", "conflicts", "--resolve", staff.id, "--value", "13", "--db", db
    )
    assert code == 0, err
    code, out, err = run(capsys, "--lang", "en", "conflicts", "--db", db)
    assert (code, out.strip()) == (0, "No open conflicts.")
    assert json.loads(run(capsys, "conflicts", "--json", "--db", db)[1]) == []

    # Sync: the server has the resolution, and mona's device shows it.
    code, out, err = run(capsys, "--lang", "en", "sync", "--db", db)
    assert code == 0, err
    rows = server_rows(world)
    assert (rows[("dealer", dealer.id)]["city"], rows[("dealer", dealer.id)]["employee_count"]) == (
        "温州",
        13,
    )
    decisions = {
        values["field"]: (values["status"], values["resolution"])
        for (table, _id), values in rows.items()
        if table == CONFLICT_TABLE and values["row_id"] == dealer.id
    }
    assert decisions == {"city": ("resolved", "theirs"), "employee_count": ("resolved", "value")}
    mona.sync()
    assert dealer_values(mona, dealer.id) == ("温州", 13)
    assert dealer_values(alice, dealer.id) == ("温州", 13)
    assert api.list_conflicts(mona.engine) == []
    assert_converged(world, alice)
    assert_converged(world, mona)


def test_resolving_an_unknown_conflict_is_one_clear_line(
    capsys: pytest.CaptureFixture[str], devices: tuple[Device, Device]
) -> None:
    alice, _mona = devices
    code, _out, err = run(
        capsys, "--lang", "en", "conflicts", "--resolve", "no-such-id", "--db", str(alice.db_path)
    )
    assert code == 2
    assert err.strip().endswith("No such record: no-such-id"), err
    assert "Traceback" not in err


def test_every_option_of_the_sync_and_server_commands_has_help(
    capsys: pytest.CaptureFixture[str],
) -> None:
    for command in (
        ["dealer", "add"],
        ["dealer", "set"],
        ["dealer", "show"],
        ["conflicts"],
        ["audit"],
        ["server", "add-territory"],
        ["server", "add-user"],
        ["server", "set-password"],
        ["server", "assign"],
    ):
        parser = cli.build_parser(command)
        for action in subparser(parser, command)._actions:
            assert action.help, (command, action.option_strings or action.dest)
    assert cli.main(["conflicts", "--help"]) == 0
    out = capsys.readouterr().out
    assert "以 JSON 格式列出未解决的冲突" in out, out
    assert "隐含 --take value" in out, out


def subparser(parser: Any, path: list[str]) -> Any:
    """The parser of ``fieldrep <path...>``."""
    import argparse

    for name in path:
        [choices] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
        parser = choices.choices[name]
    return parser


def test_sync_outside_the_servers_protocol_range_says_update_fieldrep(
    capsys: pytest.CaptureFixture[str],
    world: World,
    devices: tuple[Device, Device],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    alice, _mona = devices
    db = str(alice.db_path)
    dealer = core.create(alice.store, Dealer, {"name": "杭州恒达", "abc_class": AbcClass.B})
    monkeypatch.setattr(client, "PROTOCOL_VERSION", PROTOCOL_MAX + 1)
    code, out, err = run(capsys, "--lang", "en", "sync", "--db", db)
    assert code == 4, (out, err)
    assert err.strip().endswith(
        "This version of FieldRep is not supported by the server. Please update FieldRep."
    ), err
    assert "Traceback" not in err
    code, _out, err = run(capsys, "sync", "--db", db)
    assert code == 4 and "请更新 FieldRep" in err, err
    assert [op.row_id for op in alice.outbox()] == [dealer.id], "the change still waits"
    monkeypatch.setattr(client, "PROTOCOL_VERSION", PROTOCOL_MAX)
    assert run(capsys, "sync", "--db", db)[0] == 0
    assert ("dealer", dealer.id) in server_rows(world)


def test_the_sync_line_counts_only_what_others_changed_as_received(
    capsys: pytest.CaptureFixture[str], world: World, devices: tuple[Device, Device]
) -> None:
    alice, mona = devices
    db = str(alice.db_path)
    code, _out, err = run(capsys, "--lang", "en", "sync", "--db", db)
    assert code == 0, err
    dealer = core.create(alice.store, Dealer, {"name": "杭州恒达", "abc_class": AbcClass.B})
    code, out, err = run(capsys, "--lang", "en", "sync", "--db", db)
    assert code == 0, err
    assert out.startswith("Sync done: 1 sent, 0 received,"), out

    mona.sync()
    core.update(mona.store, Dealer, dealer.id, {"city": "温州"})
    mona.sync()
    code, out, err = run(capsys, "--lang", "en", "sync", "--db", db)
    assert code == 0, err
    assert out.startswith("Sync done: 0 sent, 1 received,"), out


class Offline(httpx.BaseTransport):
    def handle_request(self, request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("network is unreachable", request=request)


def test_audit_prints_each_change_in_words(
    capsys: pytest.CaptureFixture[str], world: World, devices: tuple[Device, Device]
) -> None:
    alice, mona = devices
    db, mona_db = str(alice.db_path), str(mona.db_path)
    dealer = core.create(
        alice.store, Dealer, {"name": "杭州恒达", "abc_class": AbcClass.B, "city": "杭州"}
    ).id
    assert run(capsys, "sync", "--db", db)[0] == 0
    core.update(alice.store, Dealer, dealer, {"city": "宁波"})
    assert run(capsys, "sync", "--db", db)[0] == 0
    mona.sync()
    with alice.engine.connect() as connection:
        device = local.get_state(connection, local.DEVICE_ID)
    assert device

    # One line per change: when, who, which device, what, each field old -> new.
    code, out, err = run(capsys, "audit", "--db", mona_db, "--dealer", dealer)
    assert code == 0, err
    lines = out.strip().splitlines()
    assert len(lines) == 2, out
    assert "李雷" in lines[0] and "新建了经销商“杭州恒达”" in lines[0], lines[0]
    assert f"李雷（{device}）修改了经销商“杭州恒达”：" in lines[1], lines[1]
    assert "城市：杭州 → 宁波" in lines[1] and "updated_at" not in lines[1], lines[1]
    code, out, err = run(capsys, "--lang", "en", "audit", "--db", mona_db, "--dealer", dealer)
    assert f"李雷 ({device}) changed Dealer “杭州恒达”: City: 杭州 → 宁波" in out, out

    code, out, err = run(capsys, "audit", "--db", mona_db, "--dealer", dealer, "--json")
    assert code == 0, err
    listed = json.loads(out)
    assert [item["action"] for item in listed] == ["insert", "update"]
    assert listed[1]["changes"]["city"] == {"label": "城市", "old": "杭州", "new": "宁波"}
    assert (listed[1]["username"], listed[1]["device_id"]) == ("alice", device)

    code, out, err = run(capsys, "--lang", "en", "audit", "--db", mona_db, "--limit", "1")
    assert code == 0 and len(out.strip().splitlines()) == 1, out
    assert "More changes exist" in err, err
    code, out, _err = run(capsys, "--lang", "en", "audit", "--db", mona_db, "--user", "mona")
    assert (code, out.strip()) == (0, "No changes found.")
    code, _out, err = run(capsys, "--lang", "en", "audit", "--db", mona_db, "--since", "soon")
    assert code == 2 and "--since" in err, err
    code, _out, err = run(capsys, "--lang", "en", "audit", "--db", mona_db, "--user", "zed")
    assert code == 2 and "zed" in err, err

    # The server keeps the audit for managers: a rep is refused (exit 4, as sync).
    code, _out, err = run(capsys, "--lang", "en", "audit", "--db", db)
    assert code == 4 and "managers only" in err, err
    # Offline: exit 3, as sync, and a clear line.
    world.audit_transport = Offline()  # type: ignore[attr-defined]
    code, _out, err = run(capsys, "audit", "--db", mona_db)
    assert code == 3 and "变更记录需要联网" in err, err
    assert "Traceback" not in err
