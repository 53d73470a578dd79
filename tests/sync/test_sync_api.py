"""The GUI/CLI API without a server: conflicts, resolution, digest, CLI scripting."""

from __future__ import annotations

import json
import socket
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine
from synctest import OTHER, REP, TERRITORY, model_defaults, run_cli

from fieldrep.i18n import language
from fieldrep.storage.services.core import Store
from fieldrep.sync import api, local
from fieldrep.sync.engine import _apply_page
from fieldrep.sync.protocol import SYSTEM_USER_ID, Change

DEALER = "0190a000-0000-7000-8000-00000000d001"
CONFLICT = "0190a000-0000-7000-8000-00000000c001"
FOLLOW_UP = "0190a000-0000-7000-8000-00000000f001"


def pull(engine: Engine, *changes: Change, run: str = "run-1") -> None:
    with engine.begin() as connection:
        _apply_page(connection, list(changes), run, REP)
        local.set_state(connection, local.LAST_SYNC_RUN, run)
        local.set_state(connection, local.USER_ID, REP)


def row_change(table: str, row_id: str, version: int, **values: Any) -> Change:
    return change_of(table, row_id, version, values)


def change_of(table: str, row_id: str, version: int, values: dict[str, Any]) -> Change:
    defaults = model_defaults(table) if table != "sync_conflict" else {}
    row = {**defaults, "territory_id": TERRITORY}
    row.update({"created_at": "2026-01-01T00:00:00.000000Z"})
    row.update({"updated_at": "2026-01-01T00:00:00.000000Z", "updated_by": OTHER, **values})
    row.pop("deleted", None)
    return Change(
        stream=TERRITORY,
        change_no=version,
        table=table,
        row_id=row_id,
        row_version=version,
        deleted=False,
        values=row,
    )


def manager() -> Change:
    return row_change("app_user", OTHER, 1, username="wang", display_name="王经理", role="manager")


def dealer(version: int = 2, **values: Any) -> Change:
    return change_of("dealer", DEALER, version, {"name": "杭州恒达", "abc_class": "B", **values})


def conflict(**values: Any) -> Change:
    record = {
        "table_name": "dealer",
        "row_id": DEALER,
        "field": "city",
        "kind": "field",
        "base_known": True,
        "base": "杭州",
        "mine": "宁波",
        "theirs": "温州",
        "base_version": 2,
        "author_user_id": REP,
        "theirs_user_id": OTHER,
        "status": "open",
        **values,
    }
    return change_of("sync_conflict", CONFLICT, 4, record)


def test_conflicts_are_listed_with_labels(engine: Engine) -> None:
    pull(engine, manager(), dealer(city="温州"), conflict())
    with language("en"):
        [view] = api.list_conflicts(engine)
    assert (view.record_label, view.mine, view.theirs) == ("杭州恒达", "宁波", "温州")
    assert view.field_label == "City"


def test_resolving_mine_is_an_ordinary_change_plus_a_resolution(
    store: Store, engine: Engine
) -> None:
    pull(engine, manager(), dealer(city="温州"), conflict())
    api.resolve_conflict(store, CONFLICT, "mine")
    with engine.connect() as connection:
        ops = {op.table: op for op in local.all_ops(connection)}
        city = connection.exec_driver_sql("SELECT city FROM dealer").scalar()
    assert city == "宁波"
    assert ops["dealer"].fields == {"city": "宁波"} and ops["dealer"].base == {"city": "温州"}
    assert ops["sync_conflict"].fields == {
        "status": "resolved",
        "resolution": "mine",
        "resolved_value": "宁波",
    }
    assert api.list_conflicts(engine) == []
    # A pull of the still-open record does not reopen the pending resolution.
    pull(engine, conflict(), run="run-2")
    assert api.list_conflicts(engine) == []


def test_resolving_with_a_typed_value_is_validated(store: Store, engine: Engine) -> None:
    from fieldrep.storage.errors import ValidationError

    pull(engine, manager(), dealer(), conflict(field="employee_count", mine=5, theirs=7))
    with pytest.raises(ValidationError):
        api.resolve_conflict(store, CONFLICT, "value", "many")
    api.resolve_conflict(store, CONFLICT, "value", "6")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT employee_count FROM dealer").scalar() == 6


def test_resolving_theirs_changes_no_row(store: Store, engine: Engine) -> None:
    pull(engine, manager(), dealer(city="温州"), conflict())
    api.resolve_conflict(store, CONFLICT, "theirs")
    with engine.connect() as connection:
        assert [op.table for op in local.all_ops(connection)] == ["sync_conflict"]
    assert api.pending_count(engine) == 1


def test_digest_in_words_a_rep_understands(engine: Engine) -> None:
    pull(engine, manager(), dealer(), run="run-1")
    pull(
        engine,
        dealer(3, abc_class="A"),
        row_change(
            "follow_up",
            FOLLOW_UP,
            4,
            title="送样品",
            owner_user_id=REP,
            due_on="2026-12-01",
        ),
        run="run-2",
    )
    with language("en"):
        lines = api.digest(engine)
    assert lines[0] == "王经理 changed 杭州恒达's Visit class Class B -> Class A"
    assert lines[-1] == "1 new follow-up assigned to you"
    with language("zh_CN"):
        assert api.digest(engine)  # translated text exists in any language


def test_digest_names_the_administrator_for_a_server_command(engine: Engine) -> None:
    # 'fieldrep server set-role' writes as the server's system user: no one a rep
    # knows by name, but "Someone" would hide that it was the administration.
    pull(engine, manager(), dealer(), run="run-1")
    pull(engine, dealer(3, abc_class="A", updated_by=SYSTEM_USER_ID), run="run-2")
    with language("en"):
        assert api.digest(engine) == [
            "The administrator changed 杭州恒达's Visit class Class B -> Class A"
        ]
    with language("zh_CN"):
        assert api.digest(engine)[0].startswith("管理员 ")


def signed_in(engine: Engine) -> None:
    with engine.begin() as connection:
        local.set_state(connection, local.USER_ID, REP)
        local.set_state(connection, "territory_ids", json.dumps([TERRITORY]))


def test_cli_dealer_add_set_show_go_through_the_outbox(
    engine: Engine, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signed_in(engine)
    db = str(home / "fieldrep.db")
    assert (
        run_cli(
            "dealer",
            "add",
            "--name",
            "杭州恒达",
            "--city",
            "杭州",
            "phone=0571-87654321",
            "--db",
            db,
        )
        == 0
    )
    dealer_id = capsys.readouterr().out.strip()
    assert run_cli("dealer", "set", dealer_id, "registered_capital=1000.50", "--db", db) == 0
    assert run_cli("dealer", "show", dealer_id, "--json", "--db", db) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["registered_capital"] == "1000.50" and shown["city"] == "杭州"
    with engine.connect() as connection:
        [op] = local.all_ops(connection)
    assert op.created and op.fields["registered_capital"] == "1000.50"


def test_cli_refuses_bad_input_with_the_field_named(
    engine: Engine, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    signed_in(engine)
    db = str(home / "fieldrep.db")
    with language("en"):
        code = run_cli(
            "dealer", "add", "--name", "x", "--city", "y", "employee_count=many", "--db", db
        )
    assert code == 2
    assert "many" in capsys.readouterr().err
    assert api.pending_count(engine) == 0


def test_cli_sync_without_login_says_so(
    engine: Engine, home: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with language("en"):
        assert run_cli("sync", "--db", str(home / "fieldrep.db")) == 4
    assert "fieldrep login" in capsys.readouterr().err


def closed_port_url() -> str:
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{closed.getsockname()[1]}"
    closed.close()  # nothing listens there now
    return url


def fieldrep(*argv: str) -> int:
    """The real ``fieldrep`` entry point (it logs to the file in the data folder)."""
    from fieldrep import cli
    from fieldrep.logging_setup import shutdown_logging

    try:
        return cli.main(list(argv))
    finally:
        shutdown_logging()


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh_CN", "无法连接服务器（服务器拒绝连接）。您的修改已保留，稍后会发送。"),
        (
            "en",
            "The server cannot be reached (the server refused the connection). "
            "Your changes are kept and will be sent later.",
        ),
    ],
)
def test_cli_sync_unreachable_server_says_why_in_words_and_logs_the_detail(
    lang: str,
    expected: str,
    engine: Engine,
    home: Path,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: object,
) -> None:
    from fieldrep.logging_setup import log_file_path
    from fieldrep.sync import tokens

    url = closed_port_url()
    with engine.begin() as connection:
        local.set_state(connection, local.SERVER_URL, url)
        local.set_state(connection, local.USER_NAME, "alice")
        local.set_state(connection, local.DEVICE_ID, "device-1")
    tokens.save_tokens(url, "alice", tokens.Tokens("access", "refresh", "device-1"))
    code = fieldrep("--lang", lang, "sync", "--retries", "1", "--db", str(home / "fieldrep.db"))
    assert code == 3
    assert capsys.readouterr().err.strip() == expected  # no "ConnectError: [Errno 111] ..."
    log = log_file_path().read_text(encoding="utf-8")
    assert "ConnectError" in log and url in log, "the technical detail is in the log file"


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("zh_CN", "无法连接服务器（服务器拒绝连接），请检查地址和网络后重试。"),
        (
            "en",
            "The server cannot be reached (the server refused the connection). "
            "Please check the address and the network and try again.",
        ),
    ],
)
def test_cli_login_to_an_unreachable_server_asks_to_check_address_and_network(
    lang: str,
    expected: str,
    home: Path,
    capsys: pytest.CaptureFixture[str],
    memory_keyring: object,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Nothing waits to be sent at sign-in: not "your changes will be sent later"."""
    import functools
    import io

    from tenacity import wait_none

    from fieldrep.sync import client

    # One attempt: the retries' pauses only make the test slow.
    monkeypatch.setattr(
        api, "SyncClient", functools.partial(client.SyncClient, max_attempts=1, wait=wait_none())
    )
    monkeypatch.setattr(sys, "stdin", io.StringIO("secret password\n"))
    url = closed_port_url()
    code = fieldrep(
        "--lang",
        lang,
        "login",
        "--server",
        url,
        "--user",
        "alice",
        "--password-stdin",
        "--db",
        str(home / "fieldrep.db"),
    )
    assert code == 3
    assert capsys.readouterr().err.strip() == expected


def test_cli_login_without_a_secure_keyring_says_so_and_stores_nothing(
    home: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import io

    import keyring
    from keyring.backends import fail

    previous = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    monkeypatch.setattr(sys, "stdin", io.StringIO("secret password\n"))
    try:
        with language("en"):
            code = run_cli(
                "login",
                "--server",
                "http://127.0.0.1:9",
                "--user",
                "alice",
                "--password-stdin",
                "--db",
                str(home / "fieldrep.db"),
            )
    finally:
        keyring.set_keyring(previous)
    assert code == 6
    assert "secure password storage" in capsys.readouterr().err
    assert not (home / "fieldrep.db").exists() or "secret" not in (
        home / "fieldrep.db"
    ).read_bytes().decode("latin-1")


def test_digest_lines_open_the_most_specific_record_a_rep_can_open(engine: Engine) -> None:
    visit, objection, step, contact = (
        "0190a000-0000-7000-8000-0000000000a1",
        "0190a000-0000-7000-8000-0000000000a2",
        "0190a000-0000-7000-8000-0000000000a3",
        "0190a000-0000-7000-8000-0000000000a4",
    )
    pull(
        engine,
        manager(),
        dealer(),
        row_change(
            "contact_record",
            visit,
            3,
            dealer_id=DEALER,
            rep_user_id=REP,
            contact_at="2026-11-20T09:00:00.000000Z",
            contact_method="visit",
        ),
        row_change(
            "objection",
            objection,
            4,
            dealer_id=DEALER,
            contact_record_id=visit,
            type="price",
            verbatim="太贵了",
            raised_on="2026-11-20",
        ),
        row_change(
            "follow_up",
            FOLLOW_UP,
            5,
            dealer_id=DEALER,
            title="送样品",
            owner_user_id=REP,
            due_on="2026-12-01",
        ),
        row_change(
            "follow_up_step",
            step,
            6,
            follow_up_id=FOLLOW_UP,
            description="打电话",
            due_on="2026-11-28",
        ),
        row_change("contact", contact, 7, dealer_id=DEALER, name="张总"),
    )
    with engine.connect() as connection:
        target = lambda table, row_id: api._digest_target(connection, table, row_id)  # noqa: E731
        assert target("dealer", DEALER) == ("dealer", DEALER)
        assert target("contact_record", visit) == ("visit", visit)
        assert target("objection", objection) == ("visit", visit)  # its visit, not the dealer
        assert target("follow_up_step", step) == ("follow_up", FOLLOW_UP)
        assert target("contact", contact) == ("dealer", DEALER)
        assert target("objection_answer", "0190a000-0000-7000-8000-0000000000ff") == (None, None)
        assert target("contact", "0190a000-0000-7000-8000-0000000000fe") == (None, None)
