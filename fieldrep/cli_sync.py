"""Command-line sync and scripting: login, sync, dealer add/set/show, conflicts.

Every write goes through the storage services, hence through the outbox, exactly
like the GUI. ``sync`` of a profile set up for the app's embedded sync server runs
that server in-process for the sync, or uses the running app's (see
:func:`fieldrep.localserver.serving_for_sync`). Exit codes: 0 done, 2 bad input,
3 server unreachable, 4 refused or signed out, 5 another sync is running, 6 no
secure keyring.
Problems the user can fix are raised as :class:`~fieldrep.cli_common.CliError`.
"""

from __future__ import annotations

import argparse
import getpass
import json
import logging
import sys
from datetime import date, datetime, time
from decimal import Decimal
from enum import Enum
from pathlib import Path
from typing import Any

from fieldrep.cli_common import (
    CliError,
    add_database_option,
    database_path,
    open_existing_database,
    require_existing_database,
)
from fieldrep.i18n import _
from fieldrep.storage.errors import NotFound, ValidationError
from fieldrep.storage.fields import parse_field_value
from fieldrep.storage.models import Dealer
from fieldrep.storage.services import dealers
from fieldrep.storage.services.core import Store
from fieldrep.sync import api
from fieldrep.sync.client import Refused, SyncError, Unreachable
from fieldrep.sync.engine import SyncBusy
from fieldrep.sync.tokens import NoSecureStorage

log = logging.getLogger("fieldrep.cli")

EXIT_BAD_INPUT = 2  # as cli_common.EXIT_USAGE: input the user can fix
EXIT_UNREACHABLE = 3
EXIT_REFUSED = 4
EXIT_BUSY = 5
EXIT_NO_KEYRING = 6

RESOLUTIONS = ("mine", "theirs", "value", "dismissed")


def register(subparsers: Any) -> None:
    """Add this module's commands to the ``fieldrep`` parser."""
    login = subparsers.add_parser("login", help=_("Sign this computer in to a FieldRep server"))
    login.add_argument("--server", required=True, help=_("Server address, e.g. https://host"))
    login.add_argument("--user", required=True, help=_("User name"))
    login.add_argument(
        "--password-stdin", action="store_true", help=_("Read the password from standard input")
    )
    login.add_argument(
        "--territory",
        metavar="ID",
        help=_("Your territory on the server for records made offline (if you have several)"),
    )
    _db_option(login)
    login.set_defaults(func=cmd_login)

    sync = subparsers.add_parser("sync", help=_("Send local changes and receive others' changes"))
    _db_option(sync)
    sync.add_argument(
        "--export-outbox",
        metavar="FILE",
        type=Path,
        help=_("Write the unsent changes to a JSON file instead of syncing"),
    )
    sync.add_argument(
        "--retries",
        type=int,
        default=5,
        metavar="N",
        help=_("Attempts per request before giving up (with growing pauses)"),
    )
    sync.set_defaults(func=cmd_sync)

    dealer = subparsers.add_parser("dealer", help=_("Add, change or show a dealer"))
    actions = dealer.add_subparsers(dest="dealer_action", required=True)
    add = actions.add_parser("add", help=_("Add a dealer and print its id"))
    add.add_argument("--name", required=True, help=_("The dealer's name"))
    add.add_argument("--city", required=True, help=_("The city the dealer is in"))
    add.add_argument(
        "values",
        nargs="*",
        metavar="FIELD=VALUE",
        help=_("More fields, e.g. abc_class=A phone=0571-88886666 (class C if not given)"),
    )
    _db_option(add)
    add.set_defaults(func=cmd_dealer_add)
    change = actions.add_parser("set", help=_("Change fields of a dealer"))
    change.add_argument("id", help=_("The dealer's id"))
    change.add_argument(
        "values", nargs="+", metavar="FIELD=VALUE", help=_("Fields to change, e.g. city=宁波")
    )
    change.add_argument("--reason", help=_("Why a classification changes"))
    _db_option(change)
    change.set_defaults(func=cmd_dealer_set)
    show = actions.add_parser("show", help=_("Show a dealer"))
    show.add_argument("id", help=_("The dealer's id"))
    show.add_argument("--json", action="store_true", help=_("Print the dealer as JSON"))
    _db_option(show)
    show.set_defaults(func=cmd_dealer_show)

    conflicts = subparsers.add_parser("conflicts", help=_("List or resolve sync conflicts"))
    conflicts.add_argument(
        "--json", action="store_true", help=_("Print the open conflicts as JSON")
    )
    conflicts.add_argument("--resolve", metavar="ID", help=_("Resolve this conflict"))
    conflicts.add_argument(
        "--take",
        choices=RESOLUTIONS,
        help=_(
            "With --resolve: keep mine, take theirs (the default), a typed value "
            "(--value) or dismiss the conflict"
        ),
    )
    conflicts.add_argument(
        "--value", help=_("With --resolve: the value to apply (implies --take value)")
    )
    _db_option(conflicts)
    conflicts.set_defaults(func=cmd_conflicts)

    audit = subparsers.add_parser(
        "audit", help=_("Show who changed what, when and on which device (asks the server)")
    )
    audit.add_argument("--dealer", metavar="ID", help=_("Only this dealer and its records"))
    audit.add_argument("--user", metavar="NAME", help=_("Only changes by this user"))
    audit.add_argument(
        "--since", metavar="DATE", help=_("Only changes from this date on, e.g. 2026-03-01")
    )
    audit.add_argument(
        "--limit",
        type=int,
        default=100,
        metavar="N",
        help=_("Show at most N changes, oldest first (default 100)"),
    )
    audit.add_argument("--json", action="store_true", help=_("Print the changes as JSON"))
    _db_option(audit)
    audit.set_defaults(func=cmd_audit)


def _db_option(parser: argparse.ArgumentParser) -> None:
    add_database_option(parser)


def _db(args: argparse.Namespace) -> Path:
    return database_path(args)


def _fail(message: str, code: int) -> int:
    raise CliError(message, code)


def _local_server_refused(db_path: Path, error: Exception) -> int:
    """The profile's embedded server (``fieldrep.localserver``) could not start."""
    log.warning("local sync server not available for %s: %s", db_path, error)
    return _fail(
        _("The local sync server of this profile could not start: {reason}").format(reason=error),
        EXIT_REFUSED,
    )


def cmd_login(args: argparse.Namespace) -> int:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = getpass.getpass(_("Password: "))
    try:
        user = api.login(_db(args), args.server, args.user, password, territory=args.territory)
    except NoSecureStorage as error:
        return _fail(error.user_message(), EXIT_NO_KEYRING)
    except Unreachable as error:
        return _fail(error.user_message(), EXIT_UNREACHABLE)
    except SyncError as error:
        return _fail(error.user_message(), EXIT_REFUSED)
    print(_("Signed in as {name}.").format(name=user.display_name))
    return 0


def cmd_sync(args: argparse.Namespace) -> int:
    if args.export_outbox:
        engine = open_existing_database(_db(args))
        try:
            count = api.export_outbox(engine, args.export_outbox)
        finally:
            engine.dispose()
        print(
            _("{count} unsent changes written to {path}.").format(
                count=count, path=args.export_outbox
            )
        )
        return 0
    from fieldrep.localserver import LocalServerRefused, serving_for_sync

    db_path = require_existing_database(_db(args))
    try:
        # A profile tied to the app's embedded server: that server runs here for the
        # sync (or the running app's is used); otherwise this changes nothing.
        with serving_for_sync(db_path):
            summary = api.run_sync(db_path, max_attempts=max(1, args.retries))
    except LocalServerRefused as error:
        return _local_server_refused(db_path, error)
    except NoSecureStorage as error:
        return _fail(error.user_message(), EXIT_NO_KEYRING)
    except SyncBusy as error:
        return _fail(error.user_message(), EXIT_BUSY)
    except Unreachable as error:
        return _fail(error.user_message(), EXIT_UNREACHABLE)
    except Refused as error:
        return _fail(error.user_message(), EXIT_REFUSED)
    except SyncError as error:
        return _fail(error.user_message(), EXIT_REFUSED)
    print(summary.line())
    for rejected in summary.rejected:
        print(f"  {rejected.table} {rejected.row_id}: {rejected.reason}", file=sys.stderr)
    return 0


def _store(args: argparse.Namespace) -> Store:
    engine = open_existing_database(_db(args))
    return Store(engine, api.user_context(engine))


def _assignments(items: list[str]) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for item in items:
        name, separator, text = item.partition("=")
        if not separator or not name.strip():
            raise ValueError(item)
        values[name.strip()] = parse_field_value(Dealer, name.strip(), text)
    return values


def _with_store(args: argparse.Namespace, action: Any) -> int:
    store = _store(args)
    try:
        if not store.user.territory_id:
            return _fail(
                _("This database is not signed in. Run: fieldrep login --server URL --user NAME"),
                EXIT_REFUSED,
            )
        return int(action(store))
    except ValidationError as error:
        return _fail(error.message(), EXIT_BAD_INPUT)
    except NotFound as error:
        return _fail(_("No such record: {id}").format(id=error.row_id), EXIT_BAD_INPUT)
    except ValueError as error:
        return _fail(_("Expected FIELD=VALUE, got “{text}”").format(text=error), EXIT_BAD_INPUT)
    finally:
        store.engine.dispose()


def cmd_dealer_add(args: argparse.Namespace) -> int:
    def run(store: Store) -> int:
        values = _assignments(args.values)
        values["name"] = parse_field_value(Dealer, "name", args.name)
        values["city"] = parse_field_value(Dealer, "city", args.city)
        values.setdefault("abc_class", "C")
        record = dealers.create_dealer(store, values)
        print(record.id)
        return 0

    return _with_store(args, run)


def cmd_dealer_set(args: argparse.Namespace) -> int:
    def run(store: Store) -> int:
        dealers.update_dealer(store, args.id, _assignments(args.values), reason=args.reason)
        return 0

    return _with_store(args, run)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, datetime | date | time):
        return value.isoformat()
    return value


def cmd_dealer_show(args: argparse.Namespace) -> int:
    def run(store: Store) -> int:
        record = dealers.get_dealer(store, args.id)
        values = {name: _plain(value) for name, value in record.values.items()}
        if args.json:
            print(json.dumps(values, ensure_ascii=False, indent=2))
        else:
            for name, value in values.items():
                if value is not None and value != "":
                    print(f"{name}: {value}")
        return 0

    return _with_store(args, run)


def _resolution(args: argparse.Namespace) -> str:
    """--take, or "value" when only --value is given; a value needs --take value."""
    take: str = args.take or ("value" if args.value is not None else "theirs")
    if take == "value" and args.value is None:
        raise CliError(_("--take value needs the value: add --value TEXT"), EXIT_BAD_INPUT)
    if take != "value" and args.value is not None:
        raise CliError(
            _("--value applies only with --take value, not with --take {take}").format(take=take),
            EXIT_BAD_INPUT,
        )
    return take


def cmd_conflicts(args: argparse.Namespace) -> int:
    def run(store: Store) -> int:
        if args.resolve:
            api.resolve_conflict(store, args.resolve, _resolution(args), args.value)
            print(_("Resolved; the change is sent with the next sync."))
            return 0
        views = api.list_conflicts(store.engine)
        if args.json:
            print(
                json.dumps(
                    [view.__dict__ for view in views], ensure_ascii=False, indent=2, default=str
                )
            )
        elif not views:
            print(_("No open conflicts."))
        else:
            for view in views:
                # Each side names its own author: the op's author wrote "mine", and
                # whoever last wrote the server's value wrote "theirs".
                print(
                    _(
                        "{id}  {record} · {field}: mine {mine} ({author}) / "
                        "theirs {theirs} ({theirs_author})"
                    ).format(
                        id=view.id,
                        record=view.record_label,
                        field=view.field_label,
                        mine=view.mine,
                        author=view.author,
                        theirs=view.theirs,
                        theirs_author=view.theirs_author,
                    )
                )
        return 0

    return _with_store(args, run)


def _since(text: str | None) -> date | datetime | None:
    """--since: a date (from its local midnight) or a date and time."""
    if text is None:
        return None
    try:
        return date.fromisoformat(text) if len(text) <= 10 else datetime.fromisoformat(text)
    except ValueError:
        raise CliError(
            _("--since needs a date such as 2026-03-01, got “{text}”").format(text=text),
            EXIT_BAD_INPUT,
        ) from None


def _audit_line(view: api.AuditView) -> str:
    """One change in words: when, who, on which device, what, each field old → new."""
    when = view.at.astimezone().strftime("%Y-%m-%d %H:%M")
    device = view.device_id or _("unknown device")
    changes = "; ".join(
        _("{field}: {old} → {new}").format(field=change.label, old=change.old, new=change.new)
        for change in view.changes
    )
    words = {
        "when": when,
        "who": view.user,
        "device": device,
        "action": view.action_label,
        "kind": view.table_label,
        "record": view.record_label,
    }
    if not changes:
        return _("{when}  {who} ({device}) {action} {kind} “{record}”").format(**words)
    return _("{when}  {who} ({device}) {action} {kind} “{record}”: {changes}").format(
        changes=changes, **words
    )


def _audit_json(view: api.AuditView) -> dict[str, Any]:
    return {
        "id": view.id,
        "at": view.at.isoformat(),
        "user": view.user,
        "username": view.username,
        "device_id": view.device_id,
        "table": view.table,
        "row_id": view.row_id,
        "record": view.record_label,
        "action": view.action,
        "changes": {
            change.field: {"label": change.label, "old": change.old, "new": change.new}
            for change in view.changes
        },
    }


def cmd_audit(args: argparse.Namespace) -> int:
    if args.limit < 1:
        return _fail(_("--limit needs a number of 1 or more"), EXIT_BAD_INPUT)
    from fieldrep.localserver import LocalServerRefused, serving_for_sync

    db_path = _db(args)
    open_existing_database(db_path).dispose()  # a clear error for a wrong --db
    since = _since(args.since)
    try:
        with serving_for_sync(db_path):
            result = api.fetch_audit(
                db_path, dealer_id=args.dealer, user=args.user, since=since, limit=args.limit
            )
    except LocalServerRefused as error:
        return _local_server_refused(db_path, error)
    except NoSecureStorage as error:
        return _fail(error.user_message(), EXIT_NO_KEYRING)
    except api.UnknownAuditUser as error:
        return _fail(error.user_message(), EXIT_BAD_INPUT)
    except Unreachable as error:
        return _fail(error.user_message(), EXIT_UNREACHABLE)
    except SyncError as error:
        return _fail(error.user_message(), EXIT_REFUSED)
    if args.json:
        print(json.dumps([_audit_json(view) for view in result.entries], ensure_ascii=False))
    elif not result.entries:
        print(_("No changes found."))
    else:
        for view in result.entries:
            print(_audit_line(view))
    if result.more:
        print(_("More changes exist: raise --limit or start later with --since."), file=sys.stderr)
    return 0
