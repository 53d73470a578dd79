"""What the GUI asks of the sync client, as plain functions for the worker threads.

No Qt here: each function takes plain arguments, calls :mod:`fieldrep.sync.api`,
and returns a frozen dataclass the status bar or the settings dialog shows.
Errors the user can act on (not signed in, server unreachable, no keyring) come
back as outcomes with their translated sentence; anything else is a bug and is
raised to the op helper, which logs it and shows the standard error dialog.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

from fieldrep.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from sqlalchemy import Engine

log = logging.getLogger("fieldrep.ui")

NOT_CONFIGURED = N_(
    "Sync is not set up: enter the server address and sign in under Settings (File > Settings)."
)


def not_configured_text() -> str:
    """Sync is not set up, in the current language."""
    return _(NOT_CONFIGURED)


@dataclass(frozen=True)
class SyncState:
    """What the status bar shows about sync."""

    pending: int
    conflicts: int
    last_sync: datetime | None
    server_url: str | None
    username: str | None
    rejected: int = 0  # changes the server refused, kept until the rep dismisses them
    signed_in: bool = False  # this user's tokens are in the keyring

    @property
    def configured(self) -> bool:
        return bool(self.server_url and self.username)


@dataclass(frozen=True)
class SyncOutcome:
    """The result of one sync attempt, in the current language.

    ``describe`` words ``message`` again in whatever language is current (the
    summary's or the error's own method), so the status bar can follow a switch.
    """

    ok: bool
    message: str
    digest: tuple[str, ...] = ()
    reached_server: bool = False
    not_configured: bool = False
    conflicts: int = 0
    describe: Callable[[], str] | None = None
    #: An automatic sync (fieldrep.ui.auto_sync): its result shows in the status bar
    #: only, no window opens for it.
    background: bool = False

    def text(self) -> str:
        """The message in the current language."""
        return self.describe() if self.describe is not None else self.message


@dataclass(frozen=True)
class SignInOutcome:
    """The result of signing in or out: a sentence for the dialog, and who is signed in."""

    ok: bool
    message: str
    display_name: str = ""
    #: What is wrong with a field, by field name: each words its sentence in the
    #: current language (the dialog words it again after a switch).
    problems: dict[str, Callable[[], str]] = field(default_factory=dict)
    #: (id, name) of the territories to choose from: the account has several, and
    #: records made offline here need one (then sign in again with the choice).
    territory_choices: tuple[tuple[str, str], ...] = ()
    #: Words ``message`` again in the current language (the dialog follows a switch).
    describe: Callable[[], str] | None = None

    def text(self) -> str:
        """The message in the current language."""
        return self.describe() if self.describe is not None else self.message


def _worded(ok: bool, describe: Callable[[], str], **details: Any) -> SignInOutcome:
    """An outcome whose sentence can be worded again after a language switch."""
    return SignInOutcome(ok, describe(), describe=describe, **details)


def _territory_question(territories: int, rows: int) -> str:
    return ngettext(
        "Your account has {count} territories. Choose the one that takes the "
        "{rows} record made on this computer before signing in, then sign in again.",
        "Your account has {count} territories. Choose the one that takes the "
        "{rows} records made on this computer before signing in, then sign in again.",
        rows,
    ).format(count=territories, rows=rows)


def read_sync_state(engine: Engine) -> SyncState:
    """Pending changes, open conflicts, refused changes, last sync and the server in use."""
    from fieldrep.sync import api, local

    with engine.connect() as connection:
        last = local.get_state(connection, local.LAST_SYNC)
        server = local.get_state(connection, local.SERVER_URL)
        user = local.get_state(connection, local.USER_NAME)
    last_sync = None
    if last:
        try:
            last_sync = datetime.fromisoformat(last)
        except ValueError:
            log.warning("unreadable last sync time %r", last)
    return SyncState(
        pending=api.pending_count(engine),
        conflicts=len(api.list_conflicts(engine)),
        last_sync=last_sync,
        server_url=server,
        username=user,
        rejected=api.rejected_count(engine),
        signed_in=has_tokens(server, user),
    )


def has_tokens(server_url: str | None, username: str | None) -> bool:
    """Whether this user is signed in to this server (their tokens are in the keyring)."""
    from fieldrep.sync import tokens

    if not server_url or not username:
        return False
    try:
        return tokens.load_tokens(server_url, username) is not None
    except tokens.NoSecureStorage as error:
        log.info("keyring unavailable, shown as signed out: %s", error)
        return False


def sync_now(db_path: Path) -> SyncOutcome:
    """One sync of the database; what happened, as a sentence and the digest lines."""
    from fieldrep.sync import api
    from fieldrep.sync.client import NotSignedIn, SyncError, Unreachable
    from fieldrep.sync.tokens import NoSecureStorage

    try:
        summary = api.run_sync(db_path)
    except NotSignedIn:
        return SyncOutcome(
            False, _(NOT_CONFIGURED), not_configured=True, describe=not_configured_text
        )
    except Unreachable as error:
        log.info("sync: server unreachable: %s", error)
        return SyncOutcome(False, error.user_message(), describe=error.user_message)
    except SyncError as error:
        log.warning("sync failed: %s", error)
        return SyncOutcome(
            False, error.user_message(), reached_server=True, describe=error.user_message
        )
    except NoSecureStorage as error:
        return SyncOutcome(False, error.user_message(), describe=error.user_message)
    from fieldrep.storage.db import open_database

    engine = open_database(db_path)
    try:
        lines = tuple(api.digest(engine))
    finally:
        engine.dispose()
    return SyncOutcome(
        True,
        summary.line(),
        lines,
        reached_server=True,
        conflicts=summary.conflicts,
        describe=summary.line,
    )


def sign_in(
    db_path: Path, server_url: str, username: str, password: str, territory: str | None = None
) -> SignInOutcome:
    """Sign this database in to a server; the tokens go to the OS keyring only.

    Records made here before any sign-in move to the user's territory; when the
    account has several, the outcome lists them and ``territory`` names the one
    chosen on the next attempt (``fieldrep login --territory`` in the CLI).
    """
    from fieldrep.sync import api
    from fieldrep.sync.client import SyncError
    from fieldrep.sync.identity import TerritoryNeeded
    from fieldrep.sync.tokens import NoSecureStorage

    problems: dict[str, Callable[[], str]] = {}
    if not server_url.strip():
        problems["server_url"] = lambda: _("Enter the server address.")
    if not username.strip():
        problems["username"] = lambda: _("Enter your user name.")
    if not password:
        problems["password"] = lambda: _("Enter your password.")
    if problems:
        return SignInOutcome(False, "", problems=problems)
    try:
        user = api.login(
            db_path, server_url.strip(), username.strip(), password, territory=territory
        )
    except NoSecureStorage as error:
        return _worded(False, error.user_message)
    except TerritoryNeeded as error:
        if not error.territories:
            return _worded(False, error.user_message)
        return _worded(
            False,
            partial(_territory_question, len(error.territories), error.rows),
            territory_choices=tuple(error.choices()),
        )
    except SyncError as error:
        return _worded(False, error.user_message)
    name = user.display_name or user.username
    return _worded(
        True, lambda: _("Signed in as {name}.").format(name=name), display_name=user.display_name
    )


def sign_out(db_path: Path) -> SignInOutcome:
    """Forget this database's tokens; unsent changes stay in the outbox."""
    from fieldrep.storage.db import open_database
    from fieldrep.sync import local, tokens

    engine = open_database(db_path)
    try:
        with engine.connect() as connection:
            server = local.get_state(connection, local.SERVER_URL)
            user = local.get_state(connection, local.USER_NAME)
    finally:
        engine.dispose()
    if not server or not user:
        return _worded(True, lambda: _("Not signed in."))
    try:
        tokens.delete_tokens(server, user)
    except tokens.NoSecureStorage as error:
        return _worded(False, error.user_message)
    return _worded(True, lambda: _("Signed out. Unsent changes are kept."))
