"""What every ``fieldrep`` subcommand module shares: options, argument types, errors.

A subcommand module exposes ``register(subparsers)``; its handlers take the parsed
arguments and return an exit code. They report a problem the user can fix by
raising :class:`CliError` (one translated line on stderr, exit code 2 unless
said otherwise); :func:`fieldrep.cli.main` turns unexpected errors into one line
and a traceback in the log file.
"""

from __future__ import annotations

import argparse
import sqlite3
import sys
from datetime import date
from pathlib import Path

from sqlalchemy import Engine
from sqlalchemy.exc import DatabaseError as SqlAlchemyDatabaseError

from fieldrep.i18n import _
from fieldrep.paths import default_database_path
from fieldrep.storage.db import NotAFieldRepDatabase, open_database

EXIT_OK = 0
EXIT_FAILURE = 1  # something unexpected went wrong (details in the log file)
EXIT_USAGE = 2  # a bad argument or a file FieldRep cannot use


class CliError(Exception):
    """A problem the user can fix; ``message`` is already in the user's language."""

    def __init__(self, message: str, exit_code: int = EXIT_USAGE) -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code


# ---------------------------------------------------------------- argument types


def parse_date(text: str) -> date:
    """An argparse type: a date written YYYY-MM-DD."""
    try:
        return date.fromisoformat(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("not a date (write it as YYYY-MM-DD): {value}").format(value=text)
        ) from None


def non_negative_int(text: str) -> int:
    """An argparse type: a whole number, 0 or more."""
    value = _whole_number(text)
    if value < 0:
        raise argparse.ArgumentTypeError(
            _("must be a whole number of 0 or more: {value}").format(value=text)
        )
    return value


def positive_int(text: str) -> int:
    """An argparse type: a whole number, 1 or more."""
    value = _whole_number(text)
    if value < 1:
        raise argparse.ArgumentTypeError(
            _("must be a whole number of 1 or more: {value}").format(value=text)
        )
    return value


def _whole_number(text: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise argparse.ArgumentTypeError(
            _("not a whole number: {value}").format(value=text)
        ) from None


# ---------------------------------------------------------------- the database


def add_database_option(parser: argparse.ArgumentParser) -> None:
    """``--db PATH``, defaulting to the database of the user's profile."""
    parser.add_argument(
        "--db",
        type=Path,
        default=None,
        metavar="PATH",
        help=_("Database file (default: the one in your FieldRep profile)"),
    )


def database_path(args: argparse.Namespace) -> Path:
    """The ``--db`` given to the subcommand or before it, else the profile's database."""
    chosen = getattr(args, "db", None) or getattr(args, "global_db", None)
    return Path(chosen) if chosen else default_database_path()


def require_existing_database(path: Path) -> Path:
    """``path`` if a database file is there; else :class:`CliError` naming the path.

    For the commands that work on a profile's data (sync, dealer, conflicts ...): a
    mistyped ``--db`` must not leave an empty new database behind.
    """
    if not path.exists():
        raise CliError(_("The database file does not exist: {path}").format(path=path))
    if path.is_dir():
        raise CliError(_("This is a folder, not a database file: {path}").format(path=path))
    if path.stat().st_size == 0:
        raise CliError(_("The database file is empty: {path}").format(path=path))
    return path


def open_existing_database(path: Path) -> Engine:
    """Open (and migrate) a FieldRep database that must already exist.

    Raises :class:`CliError` with a clear message for a missing, empty or foreign file.
    """
    return open_database_or_fail(require_existing_database(path), create=False)


def open_database_or_fail(path: Path, *, create: bool = True) -> Engine:
    """:func:`open_database` with its failures turned into :class:`CliError`."""
    if path.is_dir():
        raise CliError(_("This is a folder, not a database file: {path}").format(path=path))
    try:
        return open_database(path, create=create)
    except NotAFieldRepDatabase as error:
        raise CliError(not_fieldrep_message(error)) from error
    except FileNotFoundError as error:
        raise CliError(_("The database file does not exist: {path}").format(path=path)) from error
    except (sqlite3.Error, SqlAlchemyDatabaseError, PermissionError) as error:
        raise CliError(database_error_message(path, error)) from error


def not_fieldrep_message(error: NotAFieldRepDatabase) -> str:
    return _(NotAFieldRepDatabase.message).format(path=error.path)


def database_error_message(path: Path | None, error: BaseException) -> str:
    """One line for a database that cannot be read or written."""
    detail = getattr(error, "orig", None) or error
    if path is None:
        return _("The database cannot be used: {error}").format(error=detail)
    return _("The database {path} cannot be used: {error}").format(path=path, error=detail)


# ---------------------------------------------------------------- output


def say(text: str = "") -> None:
    """A line of output (stdout): what scripts read."""
    print(text)


def tell(text: str) -> None:
    """A line for the person at the terminal (stderr): messages, progress, problems."""
    print(text, file=sys.stderr)
