"""`fieldrep server ...`: admin commands against a SQLite file, and `run` as a real process."""

from __future__ import annotations

import io
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from fieldrep import cli_server
from fieldrep.i18n import language
from fieldrep.server.core.config import Settings, sqlite_url
from fieldrep.server.core.db import open_server_database
from fieldrep.server.core.errors import ApiError
from fieldrep.server.core.security import Passwords
from fieldrep.server.models import ServerRow, User
from fieldrep.server.services import admin
from fieldrep.server.services.auth import AuthService
from fieldrep.sync.protocol import LoginRequest


@pytest.fixture
def db(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv("FIELDREP_HOME", str(tmp_path / "home"))
    # Cheap password hashing for the test.
    monkeypatch.setenv("FIELDREP_SERVER_ARGON2_TIME_COST", "1")
    monkeypatch.setenv("FIELDREP_SERVER_ARGON2_MEMORY_KIB", "8")
    monkeypatch.setenv("FIELDREP_SERVER_ARGON2_PARALLELISM", "1")
    return str(tmp_path / "server.db")


def run(args: list[str], stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    old = sys.stdin, sys.stdout, sys.stderr
    sys.stdin, sys.stdout, sys.stderr = io.StringIO(stdin), out, err
    try:
        with language("en"):
            code = cli_server.main(["server", *args])
    finally:
        sys.stdin, sys.stdout, sys.stderr = old
    return code, out.getvalue(), err.getvalue()


def test_admin_commands_set_up_an_organisation(db: str) -> None:
    assert run(["init", "--db", db])[0] == 0
    code, out, _ = run(
        [
            "add-user",
            "mona",
            "--role",
            "manager",
            "--display-name",
            "王经理",
            "--password-stdin",
            "--db",
            db,
        ],
        stdin="manager-password\n",
    )
    assert code == 0 and len(out.strip()) == 36
    code, out, _ = run(["add-territory", "杭州", "--manager", "mona", "--db", db])
    assert code == 0
    territory_id = out.strip()
    code, _, _ = run(
        ["add-user", "alice", "--role", "rep", "--manager", "mona", "--password-stdin", "--db", db],
        stdin="alice-password\n",
    )
    assert code == 0
    assert run(["assign", "alice", "杭州", "--db", db])[0] == 0
    assert run(["assign", "alice", "杭州", "--db", db])[0] == 0  # idempotent
    code, _, err = run(["assign", "alice", "宁波", "--db", db])
    assert code == cli_server.EXIT_REFUSED and "宁波" in err
    code, _, err = run(
        ["add-user", "alice", "--role", "rep", "--password-stdin", "--db", db],
        stdin="another-password\n",
    )
    assert code == cli_server.EXIT_REFUSED and "alice" in err
    code, _, err = run(
        ["add-user", "shorty", "--role", "rep", "--password-stdin", "--db", db], stdin="x\n"
    )
    assert code == cli_server.EXIT_REFUSED
    database = open_server_database(sqlite_url(Path(db)))
    try:
        with database.read() as session:
            users = {user.username: user for user in session.query(User)}
            published = {row.table_name for row in session.query(ServerRow)}
        assert users["alice"].manager_user_id == users["mona"].id
        assert users["alice"].password_hash.startswith("$argon2id$")
        assert published == {"territory", "app_user"}
        assert territory_id
    finally:
        database.dispose()


def test_set_role_changes_the_user_and_their_published_row(db: str) -> None:
    assert run(["init", "--db", db])[0] == 0
    assert run(["add-territory", "杭州", "--db", db])[0] == 0
    code, out, _ = run(
        ["add-user", "alice", "--role", "rep", "--password-stdin", "--db", db],
        stdin="alice-password\n",
    )
    assert code == 0
    alice_id = out.strip()
    assert run(["assign", "alice", "杭州", "--db", db])[0] == 0
    code, out, _ = run(["set-role", "alice", "manager", "--db", db])
    assert (code, out.strip()) == (0, "Role changed.")
    code, _, err = run(["set-role", "nobody", "manager", "--db", db])
    assert code == cli_server.EXIT_REFUSED and "nobody" in err
    database = open_server_database(sqlite_url(Path(db)))
    try:
        with database.read() as session:
            alice = session.get(User, alice_id)
            row = session.get(ServerRow, ("app_user", alice_id))
            assert alice is not None and alice.role == "manager"
            assert row is not None and row.values["role"] == "manager"
            assert row.row_version == 2, "published, then changed: devices pull the change"
    finally:
        database.dispose()


def test_set_role_refuses_to_demote_a_manager_who_still_has_a_team(db: str) -> None:
    assert run(["init", "--db", db])[0] == 0
    assert run(["add-territory", "杭州", "--db", db])[0] == 0
    for name, role, extra in (
        ("mona", "manager", ["--display-name", "王经理"]),
        ("nora", "manager", []),
        ("alice", "rep", ["--display-name", "李雷", "--manager", "mona"]),
        ("bob", "rep", ["--manager", "mona"]),
    ):
        code, _, err = run(
            ["add-user", name, "--role", role, *extra, "--password-stdin", "--db", db],
            stdin="a-password\n",
        )
        assert code == 0, err
    assert run(["assign", "mona", "杭州", "--db", db])[0] == 0
    code, out, err = run(["set-role", "mona", "rep", "--db", db])
    assert (code, out) == (cli_server.EXIT_REFUSED, "")
    assert err.strip() == (
        "mona still manages alice (李雷), bob. Give them another manager first "
        "(fieldrep server set-manager USER MANAGER), then change the role."
    )
    code, _, err = run(["set-manager", "alice", "bob", "--db", db])
    assert code == cli_server.EXIT_REFUSED and "bob" in err, "a rep manages no one"
    assert run(["set-manager", "alice", "nora", "--db", db]) == (0, "Manager changed.\n", "")
    assert run(["set-manager", "bob", "--db", db])[0] == 0  # no manager at all
    code, out, _ = run(["set-role", "mona", "rep", "--db", db])
    assert (code, out.strip()) == (0, "Role changed.")
    database = open_server_database(sqlite_url(Path(db)))
    try:
        with database.read() as session:
            users = {user.username: user for user in session.query(User)}
            row = session.get(ServerRow, ("app_user", users["mona"].id))
        assert users["mona"].role == "rep" and row is not None and row.values["role"] == "rep"
        assert users["alice"].manager_user_id == users["nora"].id
        assert users["bob"].manager_user_id is None
    finally:
        database.dispose()


def test_set_manager_changes_the_published_row(db: str) -> None:
    assert run(["init", "--db", db])[0] == 0
    assert run(["add-territory", "杭州", "--db", db])[0] == 0
    for name, role in (("mona", "manager"), ("alice", "rep")):
        code, _, _ = run(
            ["add-user", name, "--role", role, "--password-stdin", "--db", db],
            stdin="a-password\n",
        )
        assert code == 0
    assert run(["assign", "alice", "杭州", "--db", db])[0] == 0
    assert run(["set-manager", "alice", "mona", "--db", db])[0] == 0
    code, _, err = run(["set-manager", "mona", "mona", "--db", db])
    assert code == cli_server.EXIT_REFUSED and "mona" in err
    database = open_server_database(sqlite_url(Path(db)))
    try:
        with database.read() as session:
            users = {user.username: user for user in session.query(User)}
            row = session.get(ServerRow, ("app_user", users["alice"].id))
        assert row is not None and row.values["manager_user_id"] == users["mona"].id
        assert row.row_version == 2, "published, then changed: devices pull the change"
    finally:
        database.dispose()


def test_devices_and_revoke(db: str) -> None:
    run(["add-user", "alice", "--role", "rep", "--password-stdin", "--db", db], "alice-password\n")
    assert "No devices" in run(["devices", "--db", db])[1]
    database = open_server_database(sqlite_url(Path(db)))
    try:
        settings = Settings(database_url=database.url, secret="s" * 40)
        auth = AuthService(database, settings, Passwords(1, 8, 1))
        tokens = auth.login(LoginRequest(username="alice", password="alice-password"), "127.0.0.1")
    finally:
        database.dispose()
    code, out, _ = run(["devices", "--db", db])
    assert code == 0 and tokens.device_id in out and "alice" in out
    assert run(["revoke", tokens.device_id[:13], "--db", db])[0] == 0
    assert "revoked" in run(["devices", "--db", db])[1]
    assert run(["revoke", "no-such-device", "--db", db])[0] == cli_server.EXIT_REFUSED


def test_unlock_lets_a_locked_user_sign_in_again(db: str) -> None:
    run(["add-user", "alice", "--role", "rep", "--password-stdin", "--db", db], "alice-password\n")
    database = open_server_database(sqlite_url(Path(db)))
    try:
        settings = Settings(database_url=database.url, secret="s" * 40, login_max_failures=2)
        auth = AuthService(database, settings, Passwords(1, 8, 1))
        wrong = LoginRequest(username="alice", password="wrong-password")
        right = LoginRequest(username="alice", password="alice-password")
        statuses = []
        for request in (wrong, wrong, right):
            try:
                auth.login(request, "127.0.0.1")
                statuses.append(200)
            except ApiError as error:
                statuses.append(error.status_code)
        assert statuses == [401, 429, 429]
        code, out, _ = run(["unlock", "alice", "--db", db])
        assert code == 0 and "alice can sign in again" in out
        assert auth.login(right, "127.0.0.1").user.username == "alice"
    finally:
        database.dispose()
    code, out, _ = run(["unlock", "alice", "--address", "127.0.0.1", "--db", db])
    assert code == 0 and "alice can sign in again" in out  # the address key was left
    assert "no failed sign-ins" in run(["unlock", "alice", "--db", db])[1]


def test_reset_epoch_and_prune(db: str) -> None:
    database = open_server_database(sqlite_url(Path(db)))
    try:
        before = admin.initialise(database)
    finally:
        database.dispose()
    code, out, _ = run(["reset-epoch", "--db", db])
    assert code == 0 and before not in out
    run(["add-territory", "杭州", "--db", db])
    code, _, _ = run(["prune-log", "--keep", "0", "--db", db])
    assert code == 0


def test_run_refuses_a_retention_below_one(db: str) -> None:
    code, _, err = run(["run", "--keep-changes", "0", "--db", db])
    assert code == cli_server.EXIT_REFUSED
    assert "--keep-changes must be at least 1" in err


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_run_serves_the_demo_over_http(db: str, tmp_path: Path) -> None:
    port = _free_port()
    env = dict(os.environ)
    env["PYTHONPATH"] = str(Path(__file__).resolve().parent.parent)
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "fieldrep.cli_server",
            "server",
            "run",
            "--db",
            db,
            "--port",
            str(port),
            "--demo",
            "--keep-changes",
            "1",
            "--prune-every",
            "60",
        ],
        env=env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        lines = []
        for line in process.stderr:
            lines.append(line)
            if "Application startup complete" in line:
                break
        else:
            pytest.fail("server did not start:\n" + "".join(lines))
        assert any(line.startswith("{") for line in lines)  # structured JSON lines
        base = f"http://127.0.0.1:{port}"
        assert httpx.get(f"{base}/health").json()["status"] == "ok"
        login = httpx.post(
            f"{base}/v1/auth/login",
            json={"username": admin.DEMO_REP, "password": admin.DEMO_PASSWORD},
        )
        assert login.status_code == 200
        assert login.json()["user"]["territory_ids"]
        assert json.loads(lines[-1])["logger"] == "uvicorn.error"
        # A clean stop: the lifespan ends the scheduled pruning; uvicorn then exits
        # by the signal it caught.
        process.terminate()
        rest = process.stderr.read()
        assert process.wait(timeout=30) in (0, -signal.SIGTERM)
        assert "Application shutdown complete" in rest
        assert "Traceback" not in rest
    finally:
        process.terminate()
        process.wait(timeout=30)
        if process.stderr:
            process.stderr.close()
