"""The ``fieldrep`` command: the desktop app without a subcommand, tools with one.

Subcommands come from an explicit list of modules, each exposing
``register(subparsers)`` and handlers ``func(args) -> exit code``. Only the module
of the command being run is imported (``--help`` imports them all), so a quick
``fieldrep search`` does not pay for the server or the PDF code.

Messages are in the user's language: ``--lang`` before the subcommand, else the
``FIELDREP_LANG`` environment variable, else Chinese. Exit codes: 0 done, 1 an
unexpected error (details in the log file), 2 a bad argument or a database
FieldRep cannot use; subcommand modules may document more.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sqlite3
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

from fieldrep import __version__
from fieldrep.cli_common import (
    EXIT_FAILURE,
    EXIT_OK,
    EXIT_USAGE,
    CliError,
    add_database_option,
    database_error_message,
    database_path,
    non_negative_int,
    not_fieldrep_message,
    open_database_or_fail,
    open_existing_database,
    parse_date,
    positive_int,
    say,
    tell,
)
from fieldrep.i18n import N_, _, ngettext, set_language
from fieldrep.storage.db import NotAFieldRepDatabase

log = logging.getLogger("fieldrep.cli")

PROG = "fieldrep"
LANGUAGE_ENVS = ("FIELDREP_LANG", "FIELDREP_LANGUAGE")
LANGUAGE_CHOICES = ("zh_CN", "en")

# The modules that register subcommands, with the commands each one adds (so that
# running one command imports one module). Add new modules here.
COMMAND_MODULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("fieldrep.cli", ("demo", "search", "due")),
    ("fieldrep.cli_sync", ("login", "sync", "dealer", "conflicts")),
    ("fieldrep.cli_server", ("server",)),
    ("fieldrep.cli_print", ("print",)),
)

# argparse's own messages (Python 3.11), translated through our catalogue.
ARGPARSE_MESSAGES = (
    N_("usage: "),
    N_("positional arguments"),
    N_("options"),
    N_("show this help message and exit"),
    N_("show program's version number and exit"),
    N_("the following arguments are required: %s"),
    N_("unrecognized arguments: %s"),
    N_("invalid choice: %(value)r (choose from %(choices)s)"),
    N_("argument %(argument_name)s: %(message)s"),
    N_("expected one argument"),
    N_("expected at least one argument"),
    N_("expected at most one argument"),
    N_("invalid %(type)s value: %(value)r"),
    N_("not allowed with argument %s"),
    N_("ambiguous option: %(option)s could match %(matches)s"),
    N_("one of the arguments %s is required"),
)


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are one translated line (exit code 2)."""

    def error(self, message: str) -> NoReturn:
        tell(_("{prog}: {message} (see “{prog} --help”)").format(prog=self.prog, message=message))
        self.exit(EXIT_USAGE)


@contextmanager
def _argparse_in_our_language() -> Iterator[None]:
    """Route argparse's own strings (usage:, options, errors) through our catalogue."""
    namespace = vars(argparse)
    saved = {name: namespace[name] for name in ("_", "ngettext")}
    namespace.update(_=_, ngettext=ngettext)
    try:
        yield
    finally:
        namespace.update(saved)


def choose_language(argv: Sequence[str]) -> str:
    """``--lang`` before the subcommand, else FIELDREP_LANG, else Chinese."""
    tokens = list(argv)
    for index, token in enumerate(tokens):
        if token == "--lang" and index + 1 < len(tokens):
            return tokens[index + 1]
        if token.startswith("--lang="):
            return token.split("=", 1)[1]
        if not token.startswith("-"):
            break  # the subcommand: its options are its own
    for name in LANGUAGE_ENVS:
        if os.environ.get(name):
            return os.environ[name]
    return "zh_CN"


def _wanted_modules(argv: Sequence[str]) -> list[str]:
    """The modules to import: the one that owns the command in ``argv``, else all."""
    command = _command_token(argv)
    for module, commands in COMMAND_MODULES:
        if command in commands:
            return [module]
    return [module for module, _commands in COMMAND_MODULES]


def _command_token(argv: Sequence[str]) -> str | None:
    takes_value = {"--lang", "--db", "--today", "--server"}
    skip = False
    for token in argv:
        if skip:
            skip = False
            continue
        if token in takes_value:
            skip = True
            continue
        if not token.startswith("-"):
            return token
    return None


def build_parser(argv: Sequence[str] = ()) -> argparse.ArgumentParser:
    """The whole command line; ``argv`` picks which subcommand modules to load."""
    parser = _Parser(
        prog=PROG,
        description=_(
            "FieldRep, the dealer visit workbench for channel sales reps. "
            "Without a command it opens the desktop application."
        ),
        epilog=_("Run “fieldrep COMMAND --help” for the options of a command."),
    )
    parser.add_argument(
        "--lang",
        choices=LANGUAGE_CHOICES,
        dest="global_language",
        help=_("Language of messages and of the application (default: zh_CN)"),
    )
    parser.add_argument(
        "--db",
        type=Path,
        dest="global_db",
        metavar="PATH",
        help=_("Database to open in the application (default: your profile's)"),
    )
    parser.add_argument(
        "--today",
        type=parse_date,
        dest="global_today",
        metavar="YYYY-MM-DD",
        help=_("Open the application as if today were this date (for demos)"),
    )
    parser.add_argument(
        "--server",
        dest="global_server",
        metavar="URL",
        help=_(
            "Use this sync server (sign in under Settings) instead of the local server "
            "the application starts by itself"
        ),
    )
    # Python 3.11's argparse words --version's help when the action is made, untranslated:
    # pass it through the catalogue here (the catalogue has it).
    parser.add_argument(
        "--version",
        action="version",
        version=f"{PROG} {__version__}",
        help=_("show program's version number and exit"),
    )
    subparsers = parser.add_subparsers(
        dest="command", title=_("commands"), metavar=_("COMMAND"), parser_class=_Parser
    )
    for module_name in _wanted_modules(argv):
        module = sys.modules[__name__] if module_name == __name__ else None
        if module is None:
            module = importlib.import_module(module_name)
        module.register(subparsers)
    return parser


# ---------------------------------------------------------------- demo, search, due


def register(subparsers: Any) -> None:
    """The storage commands: demo, search and due."""
    demo = subparsers.add_parser(
        "demo",
        help=_("Fill a database with a realistic demo territory"),
        description=_(
            "Build a demo territory: dealers across real Chinese cities with contacts, "
            "a year of visits, objections, follow-ups, sales figures and complaints. "
            "The same seed always gives the same database."
        ),
    )
    add_database_option(demo)
    demo.add_argument(
        "--dealers",
        type=non_negative_int,
        default=300,
        metavar="N",
        help=_("Number of dealers (default: 300)"),
    )
    demo.add_argument(
        "--seed", type=int, default=0, metavar="S", help=_("Random seed (default: 0)")
    )
    demo.add_argument(
        "--today",
        type=parse_date,
        default=None,
        metavar="YYYY-MM-DD",
        help=_("The day the demo history ends (default: 2026-11-25)"),
    )
    demo.add_argument(
        "--force",
        action="store_true",
        help=_("Replace a database that already has dealers"),
    )
    demo.set_defaults(func=cmd_demo)

    search = subparsers.add_parser(
        "search",
        help=_("Find dealers by name, place, contact, phone or pinyin"),
        description=_(
            "Print one dealer a line, best match first: id, name and city separated by tabs. "
            "Chinese text matches anywhere; pinyin matches in full or by initials (hxdq)."
        ),
    )
    add_database_option(search)
    search.add_argument("query", nargs="+", metavar="QUERY", help=_("What to look for"))
    search.add_argument(
        "--limit",
        type=positive_int,
        default=20,
        metavar="N",
        help=_("At most this many dealers (default: 20)"),
    )
    search.set_defaults(func=cmd_search)

    due = subparsers.add_parser(
        "due",
        help=_("List the dealers due or overdue for a visit"),
        description=_(
            "Print the dealers whose visit is due by their class cadence on that date, "
            "most overdue first. Columns, separated by tabs: id, name, city, class, "
            "last visit, due date, days overdue."
        ),
    )
    add_database_option(due)
    due.add_argument(
        "--date",
        type=parse_date,
        default=None,
        metavar="YYYY-MM-DD",
        help=_("The day to check (default: today)"),
    )
    due.set_defaults(func=cmd_due)


def cmd_demo(args: argparse.Namespace) -> int:
    from fieldrep.storage.demo import DEFAULT_TODAY, build_demo, has_dealers

    path = database_path(args)
    engine = open_database_or_fail(path)
    try:
        if has_dealers(engine):
            if not args.force:
                raise CliError(
                    _(
                        "The database already has dealers: {path}. "
                        "Use --force to replace it with the demo."
                    ).format(path=path)
                )
            engine.dispose()
            _remove_database(path)
            engine = open_database_or_fail(path)
        summary = build_demo(
            engine,
            dealers=args.dealers,
            seed=args.seed,
            today=args.today or DEFAULT_TODAY,
            progress=_progress_printer(),
        )
    finally:
        engine.dispose()
    say(
        _("Demo territory built in {seconds:.1f} s: {path}").format(
            seconds=summary.seconds, path=path
        )
    )
    say(
        _(
            "{dealers} dealers, {contacts} contacts, {records} visit records; {rows} rows in all."
        ).format(
            dealers=summary.dealers,
            contacts=summary.contacts,
            records=summary.contact_records,
            rows=summary.total_rows,
        )
    )
    say(_("Territories: {names}").format(names=_(", ").join(summary.territories)))
    say(
        _("Demo rep: {rep}; area manager: {manager}.").format(
            rep=summary.rep_username, manager=summary.manager_username
        )
    )
    return EXIT_OK


def _remove_database(path: Path) -> None:
    for suffix in ("", "-wal", "-shm", "-journal"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)


def _progress_printer() -> Callable[[str, int, int], None] | None:
    """Progress on stderr, only for a person watching a terminal."""
    if not sys.stderr.isatty():
        return None

    def show(phase: str, done: int, total: int) -> None:
        line = _("{phase}: {done}/{total}").format(phase=_(phase), done=done, total=total)
        sys.stderr.write("\r" + line.ljust(60))
        if done >= total:
            sys.stderr.write("\n")
        sys.stderr.flush()

    return show


def cmd_search(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from fieldrep.storage.search import search_dealers

    query = " ".join(args.query)
    engine = open_existing_database(database_path(args))
    try:
        with Session(engine) as session:
            hits = search_dealers(session, query, args.limit)
    finally:
        engine.dispose()
    for hit in hits:
        say(f"{hit.dealer_id}\t{hit.name}\t{hit.city or ''}")
    if not hits:
        tell(_("No dealer matches “{query}”.").format(query=query))
    return EXIT_OK


def cmd_due(args: argparse.Namespace) -> int:
    from sqlalchemy.orm import Session

    from fieldrep.storage.cadence import due_dealers

    on = args.date or date.today()
    engine = open_existing_database(database_path(args))
    try:
        with Session(engine) as session:
            dealers = due_dealers(session, on)
    finally:
        engine.dispose()
    for dealer in dealers:
        last_visit = dealer.last_visit_on.isoformat() if dealer.last_visit_on else "-"
        say(
            "\t".join(
                (
                    dealer.dealer_id,
                    dealer.name,
                    dealer.city or "",
                    dealer.abc_class.code,
                    last_visit,
                    dealer.due_on.isoformat(),
                    str(dealer.days_overdue),
                )
            )
        )
    if not dealers:
        tell(_("No dealer is due on {date}.").format(date=on.isoformat()))
    return EXIT_OK


# ---------------------------------------------------------------- entry point


def _run_gui(args: argparse.Namespace, argv: Sequence[str]) -> int:
    try:
        from fieldrep.ui.app import run_gui
    except ImportError as error:
        log.error("the desktop application cannot start: %s", error, exc_info=True)
        tell(_("The desktop application cannot start here: {error}").format(error=error))
        return EXIT_FAILURE
    return run_gui([sys.argv[0] if sys.argv and sys.argv[0] else PROG, *argv])


def _setup_logging() -> None:
    try:
        from fieldrep.logging_setup import setup_logging
    except ImportError:  # pragma: no cover - the module ships with FieldRep
        return
    try:
        setup_logging()
    except OSError as error:
        tell(_("Cannot write the log file: {error}").format(error=error))


def _unexpected(error: BaseException) -> int:
    try:
        from fieldrep.logging_setup import report_unexpected
    except ImportError:  # pragma: no cover
        log.exception("unexpected error")
        tell(_("Something went wrong: {error}").format(error=error))
        return EXIT_FAILURE
    tell(report_unexpected((type(error), error, error.__traceback__), "cli"))
    return EXIT_FAILURE


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``fieldrep`` with ``argv`` (default: the process arguments); returns the exit code."""
    arguments = list(sys.argv[1:] if argv is None else argv)
    set_language(choose_language(arguments))
    with _argparse_in_our_language():
        try:
            parser = build_parser(arguments)
            args = parser.parse_args(arguments)
        except SystemExit as stop:  # --help, --version and argument errors
            return stop.code if isinstance(stop.code, int) else EXIT_USAGE
    if args.command is None:
        return _run_gui(args, arguments)
    _setup_logging()
    handler: Callable[[argparse.Namespace], int] = args.func
    try:
        return handler(args)
    except CliError as error:
        tell(error.message)
        return error.exit_code
    except NotAFieldRepDatabase as error:
        tell(not_fieldrep_message(error))
        return EXIT_USAGE
    except sqlite3.Error as error:
        tell(database_error_message(None, error))
        return EXIT_USAGE
    except KeyboardInterrupt:
        tell(_("Interrupted."))
        return 130
    except Exception as error:
        from sqlalchemy.exc import DatabaseError

        if isinstance(error, DatabaseError):
            log.warning("database error", exc_info=True)
            tell(database_error_message(None, error))
            return EXIT_USAGE
        return _unexpected(error)


if __name__ == "__main__":
    sys.exit(main())
