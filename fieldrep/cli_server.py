"""`fieldrep server ...`: run the sync server and administer it.

Every command takes ``--db`` (a SQLite path or a database URL such as
``postgresql+psycopg://user@host/db``); without it the server uses server.db in
the data folder. Exit codes: 0 done, 1 refused (bad input), 2 usage.
"""

from __future__ import annotations

import argparse
import functools
import getpass
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from pydantic import ValidationError

from fieldrep.i18n import _
from fieldrep.server.core.config import Settings
from fieldrep.server.core.db import Database, open_server_database
from fieldrep.server.core.security import Passwords
from fieldrep.server.services import admin
from fieldrep.server.services.scope import ROLES

EXIT_REFUSED = 1
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8765

Command = Callable[[argparse.Namespace], int]


def register(subparsers: Any) -> None:
    """Add `fieldrep server` and its commands to the ``fieldrep`` parser."""
    server = subparsers.add_parser("server", help=_("Run or administer the sync server"))
    commands = server.add_subparsers(dest="server_command", required=True)

    run = commands.add_parser("run", help=_("Run the sync server"))
    run.add_argument("--host", default=DEFAULT_HOST, help=_("Address to listen on"))
    run.add_argument("--port", type=int, default=DEFAULT_PORT, help=_("Port to listen on"))
    run.add_argument(
        "--demo",
        action="store_true",
        help=_("Create the demo territory and demo users when they are missing"),
    )
    run.add_argument(
        "--keep-changes",
        type=int,
        metavar="N",
        help=_("Changes each territory keeps in its log when pruned (default: 1000000)"),
    )
    run.add_argument(
        "--prune-every",
        type=float,
        metavar="MINUTES",
        help=_("Minutes between automatic log prunings; 0 turns them off (default: 60)"),
    )
    _db_option(run)
    run.set_defaults(func=cmd_run)

    init = commands.add_parser("init", help=_("Create or upgrade the server database"))
    _db_option(init)
    init.set_defaults(func=cmd_init)

    territory = commands.add_parser("add-territory", help=_("Add a territory"))
    territory.add_argument("name", help=_("The territory's name, e.g. 杭州"))
    territory.add_argument("--region", help=_("Region the territory belongs to"))
    territory.add_argument("--manager", help=_("User name of the territory's manager"))
    _db_option(territory)
    territory.set_defaults(func=cmd_add_territory)

    user = commands.add_parser("add-user", help=_("Add a user"))
    user.add_argument("name", help=_("User name used to sign in"))
    user.add_argument(
        "--role",
        required=True,
        choices=ROLES,
        help=_("What the user may do: rep, manager or admin"),
    )
    user.add_argument("--display-name", help=_("Name shown to others, e.g. 王经理"))
    user.add_argument("--manager", help=_("User name of the manager whose team this rep joins"))
    user.add_argument(
        "--password-stdin", action="store_true", help=_("Read the password from standard input")
    )
    _db_option(user)
    user.set_defaults(func=cmd_add_user)

    password = commands.add_parser("set-password", help=_("Set a user's password"))
    password.add_argument("name", help=_("User name"))
    password.add_argument(
        "--password-stdin", action="store_true", help=_("Read the password from standard input")
    )
    _db_option(password)
    password.set_defaults(func=cmd_set_password)

    role = commands.add_parser("set-role", help=_("Change a user's role"))
    role.add_argument("name", help=_("User name"))
    role.add_argument("role", choices=ROLES, help=_("What the user may do: rep, manager or admin"))
    _db_option(role)
    role.set_defaults(func=cmd_set_role)

    manager = commands.add_parser(
        "set-manager", help=_("Put a user in a manager's team (or, without MANAGER, in none)")
    )
    manager.add_argument("name", help=_("User name"))
    manager.add_argument("manager", nargs="?", help=_("User name of the new manager"))
    _db_option(manager)
    manager.set_defaults(func=cmd_set_manager)

    assign = commands.add_parser("assign", help=_("Assign a user to a territory"))
    assign.add_argument("user", help=_("User name"))
    assign.add_argument("territory", help=_("The territory's name"))
    _db_option(assign)
    assign.set_defaults(func=cmd_assign)

    devices = commands.add_parser("devices", help=_("List the signed-in devices"))
    _db_option(devices)
    devices.set_defaults(func=cmd_devices)

    revoke = commands.add_parser("revoke", help=_("Revoke a device: it is signed out for good"))
    revoke.add_argument("device", help=_("Device id (or its first 8 or more characters)"))
    _db_option(revoke)
    revoke.set_defaults(func=cmd_revoke)

    epoch = commands.add_parser(
        "reset-epoch", help=_("After restoring a backup: make every device resync")
    )
    _db_option(epoch)
    epoch.set_defaults(func=cmd_reset_epoch)

    unlock = commands.add_parser(
        "unlock", help=_("Let a user sign in again after too many failed sign-ins")
    )
    unlock.add_argument("name", help=_("User name"))
    unlock.add_argument(
        "--address", help=_("Also clear the failures counted for this client address")
    )
    _db_option(unlock)
    unlock.set_defaults(func=cmd_unlock)

    prune = commands.add_parser(
        "prune-log", help=_("Forget old change-log entries; older devices resync")
    )
    prune.add_argument("--keep", type=int, required=True, help=_("Changes to keep per territory"))
    _db_option(prune)
    prune.set_defaults(func=cmd_prune_log)


def _db_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="URL",
        help=_("Server database: a SQLite file or a postgresql+psycopg:// URL"),
    )


def _settings(args: argparse.Namespace) -> Settings:
    return Settings.from_env(database_url=args.db)


@contextmanager
def _opened(settings: Settings) -> Iterator[Database]:
    """The server database of ``settings``, closed when the block ends."""
    database = open_server_database(settings.database_url)
    try:
        yield database
    finally:
        database.dispose()


def _refusals_told(command: Command) -> Command:
    """``command`` with an administration refusal (AdminError) told on stderr, exit 1."""

    @functools.wraps(command)
    def run(args: argparse.Namespace) -> int:
        try:
            return command(args)
        except admin.AdminError as error:
            return _refused(error)

    return run


def _passwords(settings: Settings) -> Passwords:
    return Passwords(
        settings.argon2_time_cost, settings.argon2_memory_kib, settings.argon2_parallelism
    )


def _fail(message: str) -> int:
    print(message, file=sys.stderr)
    return EXIT_REFUSED


def _refused(error: admin.AdminError) -> int:
    return _fail(_(error.message).format(**error.params))


def _read_password(args: argparse.Namespace) -> str | None:
    if args.password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(_("Password: "))
    second = getpass.getpass(_("Repeat the password: "))
    if first != second:
        return None
    return first


def cmd_init(args: argparse.Namespace) -> int:
    with _opened(_settings(args)) as database:
        epoch = admin.initialise(database)
    print(_("Server database ready (epoch {epoch}).").format(epoch=epoch))
    return 0


@_refusals_told
def cmd_add_territory(args: argparse.Namespace) -> int:
    with _opened(_settings(args)) as database:
        territory_id = admin.add_territory(
            database, args.name, region=args.region, manager=args.manager
        )
    print(territory_id)
    return 0


@_refusals_told
def cmd_add_user(args: argparse.Namespace) -> int:
    password = _read_password(args)
    if password is None:
        return _fail(_("The passwords do not match."))
    settings = _settings(args)
    with _opened(settings) as database:
        user_id = admin.add_user(
            database,
            _passwords(settings),
            args.name,
            password,
            role=args.role,
            display_name=args.display_name,
            manager=args.manager,
        )
    print(user_id)
    return 0


@_refusals_told
def cmd_set_password(args: argparse.Namespace) -> int:
    password = _read_password(args)
    if password is None:
        return _fail(_("The passwords do not match."))
    settings = _settings(args)
    with _opened(settings) as database:
        admin.set_password(database, _passwords(settings), args.name, password)
    print(_("Password changed."))
    return 0


@_refusals_told
def cmd_set_role(args: argparse.Namespace) -> int:
    with _opened(_settings(args)) as database:
        admin.set_role(database, args.name, args.role)
    print(_("Role changed."))
    return 0


@_refusals_told
def cmd_set_manager(args: argparse.Namespace) -> int:
    with _opened(_settings(args)) as database:
        admin.set_manager(database, args.name, args.manager)
    print(_("Manager changed."))
    return 0


@_refusals_told
def cmd_assign(args: argparse.Namespace) -> int:
    with _opened(_settings(args)) as database:
        admin.assign(database, args.user, args.territory)
    print(_("{user} is assigned to {territory}.").format(user=args.user, territory=args.territory))
    return 0


def cmd_devices(args: argparse.Namespace) -> int:
    with _opened(_settings(args)) as database:
        devices = admin.list_devices(database)
    if not devices:
        print(_("No devices yet."))
        return 0
    for device in devices:
        state = _("revoked {when}").format(when=device.revoked_at) if device.revoked_at else ""
        seen = device.last_seen_at or "-"
        print(f"{device.id}  {device.username}  {device.name}  {seen}  {state}".rstrip())
    return 0


@_refusals_told
def cmd_revoke(args: argparse.Namespace) -> int:
    with _opened(_settings(args)) as database:
        admin.revoke(database, args.device)
    print(_("Device {id} is revoked.").format(id=args.device))
    return 0


def cmd_reset_epoch(args: argparse.Namespace) -> int:
    with _opened(_settings(args)) as database:
        epoch = admin.reset_epoch(database)
    print(_("New epoch {epoch}: every device will resync.").format(epoch=epoch))
    return 0


def cmd_unlock(args: argparse.Namespace) -> int:
    with _opened(_settings(args)) as database:
        cleared = admin.unlock_sign_in(database, args.name, args.address)
    if cleared == 0:
        print(_("{name} had no failed sign-ins to clear.").format(name=args.name))
    else:
        print(_("{name} can sign in again.").format(name=args.name))
    return 0


@_refusals_told
def cmd_prune_log(args: argparse.Namespace) -> int:
    with _opened(_settings(args)) as database:
        removed = admin.prune_change_log(database, args.keep)
    print(_("{count} old changes removed.").format(count=removed))
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    import uvicorn

    from fieldrep.server.core.logging import setup_json_logging
    from fieldrep.server.main import create_app

    setup_json_logging()
    try:
        settings = Settings.from_env(
            database_url=args.db,
            log_retention_changes=args.keep_changes,
            log_prune_interval_minutes=args.prune_every,
        )
    except ValidationError:
        return _fail(_("--keep-changes must be at least 1 and --prune-every at least 0."))
    database = open_server_database(settings.database_url)
    if args.demo:
        demo = admin.ensure_demo(database, _passwords(settings))
        print(
            _("Demo: territory {territory}, rep {rep} / password {password}.").format(
                territory=demo.territory, rep=demo.rep, password=demo.password
            ),
            file=sys.stderr,
        )
    app = create_app(settings, database=database)
    try:
        uvicorn.run(app, host=args.host, port=args.port, log_config=None, access_log=False)
    finally:
        database.dispose()
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Run `fieldrep server ...` on its own (python -m fieldrep.cli_server ...)."""
    parser = argparse.ArgumentParser(prog="fieldrep")
    register(parser.add_subparsers(dest="command", required=True))
    args = parser.parse_args(argv)
    result: int = args.func(args)
    return result


if __name__ == "__main__":
    sys.exit(main())
