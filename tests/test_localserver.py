"""The embedded local sync server: filled once, signed in, quiet first sync, stops cleanly.

Every test runs the real server (uvicorn on 127.0.0.1) on a small demo territory
in its own folder, with a keyring that cannot store anything: the local server's
tokens live in memory only.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from sqlalchemy import Engine, select, text

from fieldrep import cli, localserver
from fieldrep.i18n import set_language
from fieldrep.localserver import (
    LOCAL_SERVER_URL,
    LocalServer,
    LocalServerInUse,
    LocalServerRefused,
)
from fieldrep.logging_setup import shutdown_logging
from fieldrep.server.core.config import sqlite_url
from fieldrep.server.core.db import Database, open_server_database
from fieldrep.server.models import AuditEntry, ServerRow
from fieldrep.server.services import admin
from fieldrep.server.services.rowstore import get_meta, set_meta
from fieldrep.storage.db import open_database
from fieldrep.storage.demo import DEMO_REP_USERNAME, build_demo
from fieldrep.storage.services.core import Store
from fieldrep.storage.services.dealers import update_dealer
from fieldrep.sync import api, local, tokens
from fieldrep.sync.protocol import MODEL_TABLES, TABLES
from fieldrep.sync.values import to_wire

DEALERS = 30
ROOT = Path(__file__).resolve().parent.parent
TODAY = date(2026, 11, 25)
# The offscreen platform has no window manager; these warnings are not the app's.
OFFSCREEN_NOISE = r"This plugin does not support (propagateSizeHints|raise)\(\)"


@pytest.fixture(autouse=True)
def no_keyring() -> Iterator[None]:
    """A keyring without any backend, as on a headless Linux without Secret Service."""
    previous: KeyringBackend = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    yield
    keyring.set_keyring(previous)


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "fieldrep.db"


@pytest.fixture
def server_path(tmp_path: Path) -> Path:
    return tmp_path / "server.db"


@pytest.fixture
def launcher(db_path: Path, server_path: Path) -> Iterator[LocalServer]:
    server = LocalServer(db_path, server_path=server_path, dealers=DEALERS, today=TODAY)
    yield server
    thread = server.thread
    server.stop()
    assert thread is None or not thread.is_alive(), "the server thread outlived stop()"


@pytest.fixture
def server_db(server_path: Path) -> Iterator[Database]:
    database = open_server_database(sqlite_url(server_path))
    yield database
    database.dispose()


@pytest.fixture
def client(db_path: Path) -> Iterator[Engine]:
    engine = open_database(db_path)
    yield engine
    engine.dispose()


def client_rows(engine: Engine) -> dict[tuple[str, str], dict[str, Any]]:
    """Every synced row of the client as wire values, with version and tombstone.

    Only the synced fields: local columns (a sort key, say) never reach the server.
    """
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    with engine.connect() as connection:
        for table in MODEL_TABLES:
            synced = {*TABLES[table].fields, "row_version", "deleted"}
            for row in connection.execute(text(f'SELECT * FROM "{table}"')).mappings():
                rows[(table, str(row["id"]))] = {
                    name: to_wire(table, name, value)
                    for name, value in row.items()
                    if name in synced
                }
    return rows


def server_rows(database: Database) -> dict[tuple[str, str], dict[str, Any]]:
    with database.read() as session:
        return {
            (row.table_name, row.id): {
                **row.values,
                "row_version": row.row_version,
                "deleted": row.deleted,
            }
            for row in session.scalars(select(ServerRow))
        }


def state(engine: Engine, key: str) -> str | None:
    with engine.connect() as connection:
        return local.get_state(connection, key)


def count(engine: Engine, table: str) -> int:
    with engine.connect() as connection:
        return int(connection.execute(text(f'SELECT count(*) FROM "{table}"')).scalar_one())


def test_first_start_fills_client_and_server_with_the_same_demo(
    launcher: LocalServer, client: Engine, server_db: Database
) -> None:
    url = launcher.run()
    assert url is not None and url.startswith("http://127.0.0.1:")
    answer = httpx.get(f"{url}/health")
    assert answer.status_code == 200 and answer.json()["status"] == "ok"

    assert count(client, "dealer") == DEALERS
    mine, theirs = client_rows(client), server_rows(server_db)
    assert mine == theirs, "client and server hold the same rows, versions and values"
    assert all(row["row_version"] >= 1 for row in mine.values())
    with client.connect() as connection:
        assert local.pending_count(connection) == 0
        cursors = local.cursors(connection)
    with server_db.read() as session:
        assert session.scalars(select(AuditEntry.id).limit(1)).first() is not None
        epoch = get_meta(session, "epoch")
    assert set(cursors) == {str(t) for t in {row["territory_id"] for row in theirs.values()}}
    assert state(client, local.SERVER_EPOCH) == epoch


def test_the_app_is_signed_in_as_the_demo_rep_without_a_keyring(
    launcher: LocalServer, client: Engine
) -> None:
    url = launcher.run()
    assert url is not None
    assert state(client, local.SERVER_URL) == url == state(client, LOCAL_SERVER_URL)
    assert state(client, local.USER_NAME) == DEMO_REP_USERNAME
    with client.connect() as connection:
        rep_id, home = connection.execute(
            text("SELECT id, territory_id FROM app_user WHERE username = :u"),
            {"u": DEMO_REP_USERNAME},
        ).one()
    context = api.user_context(client)
    assert (context.user_id, context.territory_id, context.role.code) == (rep_id, home, "rep")
    stored = tokens.load_tokens(url, DEMO_REP_USERNAME)
    assert stored is not None and stored.device_id == state(client, local.DEVICE_ID)
    # Only the local server's tokens live in memory: a real server still needs a keyring.
    with pytest.raises(tokens.NoSecureStorage):
        tokens.save_tokens("https://fieldrep.example.com", "liming", stored)


def test_the_first_sync_transfers_nothing_and_an_edit_reaches_the_server(
    launcher: LocalServer, db_path: Path, client: Engine, server_db: Database
) -> None:
    launcher.run()
    first = api.run_sync(db_path)
    assert (first.pushed, first.pulled, first.conflicts, first.rejected) == (0, 0, 0, [])
    assert state(client, local.LAST_SYNC) is not None

    store = Store(client, api.user_context(client), today=lambda: TODAY)
    with client.connect() as connection:
        dealer_id, version = connection.execute(
            text("SELECT id, row_version FROM dealer WHERE territory_id = :t ORDER BY id LIMIT 1"),
            {"t": store.user.territory_id},
        ).one()
    update_dealer(store, dealer_id, {"notes": "本地服务器同步测试"})
    assert api.pending_count(client) == 1

    edit = api.run_sync(db_path)
    assert (edit.pushed, edit.rejected, edit.conflicts) == (1, [], 0)
    assert api.pending_count(client) == 0
    theirs = server_rows(server_db)[("dealer", dealer_id)]
    assert theirs["notes"] == "本地服务器同步测试"
    assert theirs["row_version"] == version + 1
    assert client_rows(client)[("dealer", dealer_id)]["row_version"] == theirs["row_version"]

    again = api.run_sync(db_path)
    assert (again.pushed, again.pulled) == (0, 0), "no echo of our own change"


def test_a_second_start_reuses_the_server_and_its_demo(
    launcher: LocalServer,
    db_path: Path,
    server_path: Path,
    client: Engine,
    server_db: Database,
) -> None:
    first_url = launcher.run()
    api.run_sync(db_path)
    store = Store(client, api.user_context(client), today=lambda: TODAY)
    with client.connect() as connection:
        dealer_id = connection.execute(text("SELECT id FROM dealer LIMIT 1")).scalar_one()
    update_dealer(store, dealer_id, {"notes": "第二次启动前的修改"})
    launcher.stop()
    rows_before = len(server_rows(server_db))

    second = LocalServer(db_path, server_path=server_path, dealers=DEALERS, today=TODAY)
    try:
        url = second.run()
        assert url is not None and url != first_url
        assert count(client, "dealer") == DEALERS, "no second demo in the client"
        assert len(server_rows(server_db)) == rows_before, "no second demo on the server"
        summary = api.run_sync(db_path)
        # The change comes back once with its new version (no further outbox entry):
        # bookkeeping, not a change received from someone else.
        assert (summary.pushed, summary.pulled, summary.rejected) == (1, 0, [])
        assert summary.echoed == 1
        assert server_rows(server_db)[("dealer", dealer_id)]["notes"] == "第二次启动前的修改"
        assert client_rows(client) == server_rows(server_db)
    finally:
        thread = second.thread
        second.stop()
    assert thread is not None and not thread.is_alive()


def test_stop_ends_the_thread_and_closes_the_port(launcher: LocalServer) -> None:
    url = launcher.run()
    assert url is not None
    thread = launcher.thread
    assert thread is not None and thread.is_alive()
    assert launcher.running
    launcher.stop()
    assert not thread.is_alive()
    assert not launcher.running
    port = int(url.rsplit(":", 1)[1])
    with pytest.raises(OSError), socket.create_connection(("127.0.0.1", port), timeout=5):
        pass
    with pytest.raises(tokens.NoSecureStorage):  # forgotten: no longer kept in memory
        tokens.load_tokens(url, DEMO_REP_USERNAME)
    launcher.stop()  # a second stop is harmless
    names = [t.name for t in threading.enumerate() if t.is_alive()]
    assert "fieldrep-local-server" not in names


def test_a_database_signed_in_to_another_server_skips_the_local_one(
    launcher: LocalServer, client: Engine, server_path: Path
) -> None:
    with client.begin() as connection:
        local.set_state(connection, local.SERVER_URL, "https://fieldrep.example.com")
    assert launcher.run() is None
    assert launcher.thread is None
    assert not server_path.exists()
    assert count(client, "dealer") == 0


def test_a_database_with_dealers_is_served_as_it_is(
    launcher: LocalServer, db_path: Path, client: Engine, server_db: Database
) -> None:
    build_demo(client, dealers=12, seed=7, today=TODAY)
    launcher.run()
    assert count(client, "dealer") == 12, "the existing territory, not a new demo"
    assert client_rows(client) == server_rows(server_db)
    summary = api.run_sync(db_path)
    assert (summary.pushed, summary.pulled) == (0, 0)


def test_a_database_used_offline_before_syncs_without_refusals(
    launcher: LocalServer, db_path: Path, client: Engine, server_db: Database
) -> None:
    """An earlier offline start made a local rep and territory (pending in the outbox)."""
    from fieldrep.ui.startup import resolve_user

    offline_user = resolve_user(client)
    assert api.pending_count(client) > 0
    launcher.run()
    assert api.user_context(client).user_id != offline_user.user_id, "the demo rep"
    assert client_rows(client) == server_rows(server_db)
    summary = api.run_sync(db_path)
    assert (summary.pushed, summary.pulled, summary.rejected) == (0, 0, [])


def test_a_new_empty_database_gets_the_territory_by_its_first_sync(
    launcher: LocalServer, db_path: Path, server_path: Path, server_db: Database, tmp_path: Path
) -> None:
    launcher.run()
    launcher.stop()
    fresh = tmp_path / "new-laptop.db"
    second = LocalServer(fresh, server_path=server_path, dealers=DEALERS, today=TODAY)
    try:
        assert second.run() is not None
        summary = api.run_sync(fresh)
        assert summary.pulled == len(server_rows(server_db))
        engine = open_database(fresh)
        try:
            assert client_rows(engine) == server_rows(server_db)
            assert api.user_context(engine).territory_id
        finally:
            engine.dispose()
    finally:
        second.stop()


def test_a_first_run_stopped_after_the_server_import_is_finished_next_time(
    launcher: LocalServer, db_path: Path, server_path: Path, client: Engine, server_db: Database
) -> None:
    launcher.run()
    launcher.stop()
    # As if the app stopped after the server committed and before the client did.
    with client.begin() as connection:
        connection.exec_driver_sql("UPDATE dealer SET row_version = 0")
        local.clear_cursors(connection)
        for key in (LOCAL_SERVER_URL, local.SERVER_URL, local.SERVER_EPOCH, local.USER_ID):
            local.set_state(connection, key, None)
    second = LocalServer(db_path, server_path=server_path, dealers=DEALERS, today=TODAY)
    try:
        assert second.run() is not None
        assert client_rows(client) == server_rows(server_db)
        summary = api.run_sync(db_path)
        assert (summary.pushed, summary.pulled) == (0, 0)
    finally:
        second.stop()


def test_a_server_database_set_up_by_someone_else_is_left_alone(
    launcher: LocalServer, client: Engine, server_db: Database
) -> None:
    admin.add_territory(server_db, "杭州")
    with client.begin() as connection:  # pointed at the local server by an earlier start
        local.set_state(connection, local.SERVER_URL, "http://127.0.0.1:1")
        local.set_state(connection, LOCAL_SERVER_URL, "http://127.0.0.1:1")
    with pytest.raises(LocalServerRefused):
        launcher.run()
    assert count(client, "dealer") == 0
    assert state(client, local.SERVER_URL) is None, "the app then says sync is not set up"


def test_the_rep_is_assigned_every_territory_the_app_shows(
    launcher: LocalServer, client: Engine, server_db: Database
) -> None:
    launcher.run()
    with client.connect() as connection:
        territories = {
            str(t) for t in connection.execute(text("SELECT id FROM territory")).scalars()
        }
    assert set(json.loads(state(client, "territory_ids") or "[]")) == territories
    with server_db.read() as session:
        assert get_meta(session, localserver.META_REP) == DEMO_REP_USERNAME


# ---------------------------------------------------------------- the GUI start-up


@pytest.mark.qt_log_ignore(OFFSCREEN_NOISE)
def test_the_app_starts_with_the_local_server_and_shows_the_sync(
    qapp: Any, fieldrep_home: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """run_gui on the profile's database: demo, server, one sync, then a clean stop."""
    from PySide6.QtCore import QTimer

    from fieldrep.ui.app import run_gui
    from fieldrep.ui.mainwindow import MainWindow
    from fieldrep.ui.statusbar import Network

    monkeypatch.setattr(localserver, "DEMO_DEALERS", DEALERS)
    seen: dict[str, Any] = {}

    def ready(window: MainWindow) -> None:
        def check() -> None:
            status = window.status
            state_ = status.state
            if state_ is None or state_.last_sync is None or status.syncing:
                QTimer.singleShot(20, check)
                return
            seen["network"] = status.network()
            seen["last_sync"] = status.last_sync_label.text()
            seen["pending"] = state_.pending
            seen["user"] = window.services.store.user.display_name if window.services else ""
            seen["message"] = status.currentMessage()
            seen["shot"] = window.grab().save(str(fieldrep_home / "local-server-start.png"))
            first_attempt = status.last_attempt
            status.sync_button.click()  # "sync now" against the local server
            after_click(first_attempt)

        def after_click(first_attempt: object) -> None:
            status = window.status
            if status.syncing or status.last_attempt == first_attempt:
                QTimer.singleShot(20, lambda: after_click(first_attempt))
                return
            seen["sync_now"] = (status.last_attempt, status.currentMessage())
            window.close()

        check()

    code = run_gui(["fieldrep", "--today", TODAY.isoformat()], on_ready=ready)
    assert code == 0
    assert seen["network"] is Network.ONLINE
    assert seen["last_sync"].startswith("上次同步")
    assert seen["pending"] == 0
    assert seen["user"] == "李明"
    assert seen["message"].startswith("同步完成"), seen["message"]
    assert seen["shot"]
    attempt, message = seen["sync_now"]
    assert attempt is not None and attempt[1], "the server was reached"
    assert message.startswith("同步完成：发送 0 条，接收 0 条"), message
    assert (fieldrep_home / "server.db").is_file()
    names = [t.name for t in threading.enumerate() if t.is_alive()]
    assert "fieldrep-local-server" not in names, "the server stopped with the app"


# ---------------------------------------------------------------- `fieldrep sync`


@pytest.fixture
def profile(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The profile folder is tmp_path: fieldrep.db and server.db are the fixtures' files."""
    monkeypatch.setenv("FIELDREP_HOME", str(tmp_path))
    for name in cli.LANGUAGE_ENVS:
        monkeypatch.delenv(name, raising=False)
    yield tmp_path
    shutdown_logging()
    set_language("zh_CN")


def edit_first_dealer(client: Engine, notes: str) -> str:
    store = Store(client, api.user_context(client), today=lambda: TODAY)
    with client.connect() as connection:
        dealer_id = str(
            connection.execute(
                text("SELECT id FROM dealer WHERE territory_id = :t ORDER BY id LIMIT 1"),
                {"t": store.user.territory_id},
            ).scalar_one()
        )
    update_dealer(store, dealer_id, {"notes": notes})
    return dealer_id


def cli_sync(db_path: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = cli.main(["--lang", "en", "sync", "--db", str(db_path)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def server_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == "fieldrep-local-server"]


def test_cli_sync_after_the_app_closed_runs_the_local_server_for_the_sync(
    profile: Path,
    launcher: LocalServer,
    db_path: Path,
    server_path: Path,
    client: Engine,
    server_db: Database,
    capsys: pytest.CaptureFixture[str],
) -> None:
    launcher.run()
    launcher.stop()  # the app closed: a stale address, no tokens
    stale = state(client, local.SERVER_URL)
    dealer_id = edit_first_dealer(client, "关闭应用后命令行同步")

    code, out, err = cli_sync(db_path, capsys)

    assert (code, err) == (0, "")
    lines = out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Sync done: 1 sent, ")
    assert lines[0].endswith(" 0 conflicts, 0 refused.")
    assert server_rows(server_db)[("dealer", dealer_id)]["notes"] == "关闭应用后命令行同步"
    assert api.pending_count(client) == 0
    # It ran on a port of its own and is gone: no thread, no lock, no tokens.
    assert state(client, local.SERVER_URL) not in (None, stale)
    assert server_threads() == []
    after = LocalServer(db_path, server_path=server_path, lock_wait_s=0)
    assert after.try_hold()
    after.stop()
    with client.connect() as connection:
        user = local.get_state(connection, local.USER_NAME)
    url = state(client, local.SERVER_URL)
    assert url is not None and user is not None
    with pytest.raises(tokens.NoSecureStorage):  # not in memory any more: asks the keyring
        tokens.load_tokens(url, user)


def test_cli_sync_while_the_app_runs_uses_the_apps_server(
    profile: Path,
    launcher: LocalServer,
    db_path: Path,
    client: Engine,
    server_db: Database,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = launcher.run()  # the app, holding the local server
    dealer_id = edit_first_dealer(client, "应用运行时命令行同步")

    code, out, err = cli_sync(db_path, capsys)

    assert (code, err) == (0, "")
    assert "1 sent" in out
    assert server_rows(server_db)[("dealer", dealer_id)]["notes"] == "应用运行时命令行同步"
    # The app's server served it and still runs, at the address it wrote.
    assert state(client, local.SERVER_URL) == url
    assert launcher.running and len(server_threads()) == 1
    assert httpx.get(f"{url}/health").status_code == 200


def test_the_app_cannot_take_the_local_server_a_cli_sync_holds(
    profile: Path, launcher: LocalServer, db_path: Path, server_path: Path
) -> None:
    launcher.run()
    launcher.stop()
    cli_side = LocalServer(db_path, server_path=server_path, lock_wait_s=0)
    assert cli_side.try_hold()
    try:
        app_side = LocalServer(db_path, server_path=server_path, lock_wait_s=0)
        with pytest.raises(LocalServerInUse):
            app_side.prepare()
        assert not app_side.running
    finally:
        cli_side.stop()
    assert app_side.prepare() is not None  # free again once the sync is done
    app_side.stop()


def test_a_profile_not_set_up_for_the_local_server_syncs_as_before(
    profile: Path, db_path: Path, client: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    with localserver.serving_for_sync(db_path) as url:
        assert url is None
    code, _out, err = cli_sync(db_path, capsys)
    assert code == 4
    assert "not signed in" in err
    assert not (db_path.parent / "server.db").exists()


def test_cli_sync_refuses_when_the_server_serves_another_database(
    profile: Path,
    launcher: LocalServer,
    db_path: Path,
    server_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    launcher.run()
    launcher.stop()
    # Meanwhile the server was given to another database's device.
    database = open_server_database(sqlite_url(server_path))
    try:
        database.write(lambda session: set_meta(session, localserver.META_DEVICE, "another"))
    finally:
        database.dispose()

    code, out, err = cli_sync(db_path, capsys)

    assert code == 4 and out == ""
    assert err.startswith("The local sync server of this profile could not start:")
    assert "another FieldRep database" in err
    assert server_threads() == []


def test_cli_sync_in_another_process_goes_to_the_apps_server(
    profile: Path, launcher: LocalServer, db_path: Path, client: Engine, server_db: Database
) -> None:
    url = launcher.run()  # this process plays the app
    dealer_id = edit_first_dealer(client, "另一个进程的命令行同步")
    environment = {**os.environ, "FIELDREP_HOME": str(profile), "PYTHONPATH": str(ROOT)}
    result = subprocess.run(
        [sys.executable, "-m", "fieldrep.cli", "--lang", "en", "sync", "--db", str(db_path)],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Sync done: 1 sent, ")
    assert server_rows(server_db)[("dealer", dealer_id)]["notes"] == "另一个进程的命令行同步"
    assert state(client, local.SERVER_URL) == url and launcher.running
