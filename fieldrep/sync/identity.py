"""Whose rows a database holds: signing in as someone else, adopting offline work.

A database's synced rows belong to the identity it is signed in with (server
address and user name). SYNC.md invariant 6 (scope isolation) must also hold
when the rep hands the laptop over or signs in to another server:

- Same identity again: everything stays.
- Another identity while the outbox holds changes of the previous one (unsent,
  or refused and not yet dismissed): refused
  (:class:`UnsentChangesOfAnother`). Sending them as the new user would put
  them under the wrong name, or into a scope they do not belong to; the rep
  syncs them first (or exports them for support).
- Another identity with nothing unsent: :func:`forget_previous_identity` drops
  every row that came for the old identity (and the sync bookkeeping with it)
  and keeps the device id (sent at sign-in; the server may answer with a device
  of the new user's own), so the first sync brings only the new user's scope.

Offline work before any sign-in: on an empty database the app makes a local
rep and territory (``fieldrep.ui.startup``) so the rep can work at once. Those
two rows are placeholders, never pushed (the server manages users and
territories); what the rep made in them must reach the server in the rep's
territory there. :func:`adopt_offline_work` moves it (with capture on, so the
unsent creations carry the new territory and user) and removes the
placeholders. With several territories on the server the rep names one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Connection, bindparam, text

from fieldrep.i18n import N_, _, ngettext
from fieldrep.sync import capture, local, orphans, reconcile
from fieldrep.sync.client import Refused
from fieldrep.sync.protocol import CONFLICT_TABLE, MODEL_TABLES, SCOPE_FIELD, TABLES

#: Bookkeeping rows that belong to an identity (dropped with its rows).
_SYNC_TABLES = ("sync_conflict", "sync_shadow", "sync_user", "sync_change_digest", "sync_cursor")
#: sync_state keys that describe the previous identity's data, not the device.
_IDENTITY_STATE = (
    local.SERVER_EPOCH,
    local.LAST_SYNC,
    local.LAST_SYNC_RUN,
    reconcile.RECONCILE,
    "derived_stale",
)
_PLACEHOLDER_TABLES = ("territory", "app_user")


class UnsentChangesOfAnother(Refused):
    """Signing in as another identity while the previous one has unsent changes."""

    def __init__(self, count: int, user: str, server: str) -> None:
        super().__init__(f"{count} unsent changes of {user} at {server}")
        self.count = count
        self.user = user
        self.server = server

    def user_message(self) -> str:
        text_ = ngettext(
            "This database holds {count} unsent change of {user} ({server}). "
            "Sign in as {user} and sync first, or export the change "
            "(fieldrep sync --export-outbox FILE), before signing in as someone else.",
            "This database holds {count} unsent changes of {user} ({server}). "
            "Sign in as {user} and sync first, or export the changes "
            "(fieldrep sync --export-outbox FILE), before signing in as someone else.",
            self.count,
        )
        return text_.format(count=self.count, user=self.user, server=self.server)


class TerritoryNeeded(Refused):
    """Offline work waits for a territory, and the account has none or several.

    ``names`` holds the territories' names where the server gave them (a picker
    shows names, not ids).
    """

    def __init__(
        self, territories: list[str], rows: int, names: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(f"{rows} offline records, territories {territories}")
        self.territories = territories
        self.rows = rows
        self.names: dict[str, str] = dict(names or {})

    def choices(self) -> list[tuple[str, str]]:
        """(id, name) of each territory to choose from, by name (the id without one)."""
        named = [(tid, self.names.get(tid) or tid) for tid in self.territories]
        return sorted(named, key=lambda choice: (choice[1], choice[0]))

    def user_message(self) -> str:
        if not self.territories:
            return _(
                "Your account has no territory on this server, so the records made "
                "offline have nowhere to go. Ask your manager to assign you a territory."
            )
        text_ = ngettext(
            "Your account has {count} territories on this server: say which one the "
            "{rows} record made offline belongs to (--territory ID, one of: {ids}).",
            "Your account has {count} territories on this server: say which one the "
            "{rows} records made offline belong to (--territory ID, one of: {ids}).",
            self.rows,
        )
        return text_.format(
            count=len(self.territories), rows=self.rows, ids=", ".join(self._named_ids())
        )

    def _named_ids(self) -> list[str]:
        """Each id with its name where the server gave one: '0190… (宁波)'."""
        return [
            f"{tid} ({self.names[tid]})" if self.names.get(tid) else tid for tid in self.territories
        ]


class UnknownTerritory(Refused):
    template = N_("The territory {detail} is not one of your territories on this server.")


@dataclass(frozen=True)
class Identity:
    server_url: str | None
    username: str | None

    @property
    def known(self) -> bool:
        return self.server_url is not None and self.username is not None


def current(connection: Connection) -> Identity:
    return Identity(
        local.get_state(connection, local.SERVER_URL), local.get_state(connection, local.USER_NAME)
    )


def is_switch(previous: Identity, server_url: str, username: str) -> bool:
    """Whether signing in as ``username`` at ``server_url`` changes whose rows these are."""
    return previous.known and (previous.server_url, previous.username) != (server_url, username)


def check_switch(connection: Connection, server_url: str, username: str) -> None:
    """Refuse a switch of identity while the previous one has unsent changes."""
    previous = current(connection)
    if not is_switch(previous, server_url, username):
        return
    # Refused changes count too: they are the previous user's, kept for them to see.
    count = int(connection.exec_driver_sql("SELECT count(*) FROM outbox").scalar_one())
    if count:
        raise UnsentChangesOfAnother(count, previous.username or "", previous.server_url or "")


def forget_previous_identity(connection: Connection) -> None:
    """Drop every synced row and the sync bookkeeping; the device id stays."""
    capture.set_capture(connection, False)
    for table in reversed(MODEL_TABLES):
        connection.exec_driver_sql(f'DELETE FROM "{table}"')
    for table in _SYNC_TABLES:
        connection.exec_driver_sql(f'DELETE FROM "{table}"')
    connection.exec_driver_sql("DELETE FROM outbox")  # empty: checked before
    connection.exec_driver_sql("DELETE FROM sync_batch")
    orphans.forget_all(connection)
    capture.set_capture(connection, True)
    for key in _IDENTITY_STATE:
        local.set_state(connection, key, None)


# -- offline work made before any sign-in


@dataclass(frozen=True)
class OfflineWork:
    """Placeholder user and territory rows made locally, and what was made in them."""

    territories: list[str]
    users: list[str]
    rows: int

    @property
    def any(self) -> bool:
        return bool(self.territories)


def _unsent_creations(connection: Connection, table: str) -> list[str]:
    # Refused ones count too: a sign-in before this existed had the server refuse them.
    return [
        str(row_id)
        for row_id in connection.execute(
            text(
                "SELECT row_id FROM outbox WHERE table_name = :t AND created = 1 "
                "AND state IN ('pending', 'rejected')"
            ),
            {"t": table},
        ).scalars()
    ]


def offline_work(connection: Connection) -> OfflineWork:
    """The placeholders (made here, never sent) and how many rows they hold."""
    territories = _unsent_creations(connection, "territory")
    users = _unsent_creations(connection, "app_user")
    rows = 0
    if territories:
        for table in _movable_tables():
            rows += int(
                connection.execute(
                    text(f'SELECT count(*) FROM "{table}" WHERE {SCOPE_FIELD} IN :ids').bindparams(
                        bindparam("ids", expanding=True)
                    ),
                    {"ids": territories},
                ).scalar_one()
            )
    return OfflineWork(territories, users, rows)


def _movable_tables() -> list[str]:
    return [
        table
        for table in MODEL_TABLES
        if not TABLES[table].server_managed and table != CONFLICT_TABLE
    ]


def choose_home(
    work: OfflineWork,
    territories: list[str],
    wanted: str | None,
    names: Mapping[str, str] | None = None,
) -> str:
    """The server territory that takes the offline work (refused when unclear)."""
    if wanted is not None:
        if wanted not in territories:
            raise UnknownTerritory(wanted)
        return wanted
    if len(territories) == 1:
        return territories[0]
    raise TerritoryNeeded(sorted(territories), work.rows, names)


def adopt_offline_work(connection: Connection, work: OfflineWork, home: str, user_id: str) -> None:
    """Move the offline rows into ``home`` and to ``user_id``; drop the placeholders.

    Capture stays on for the move: every moved row has an unsent creation, which
    takes the new values (first base, last value), so the server gets each row
    once, in the right territory.
    """
    if not work.any:
        return
    _stub_territory(connection, work.territories[0], home)
    placeholders = {"ids": work.territories}
    for table in _movable_tables():
        moved = _rows_in(connection, table, work.territories)
        connection.execute(
            text(
                f'UPDATE "{table}" SET {SCOPE_FIELD} = :home WHERE {SCOPE_FIELD} IN :ids'
            ).bindparams(bindparam("ids", expanding=True)),
            {**placeholders, "home": home},
        )
        if work.users:
            for column in _user_columns(table):
                connection.execute(
                    text(
                        f'UPDATE "{table}" SET "{column}" = :me WHERE "{column}" IN :ids'
                    ).bindparams(bindparam("ids", expanding=True)),
                    {"ids": work.users, "me": user_id},
                )
        _revive_refused_creations(connection, table, moved)
    capture.set_capture(connection, False)
    for table, ids in (("app_user", work.users), ("territory", work.territories)):
        if not ids:
            continue
        statement = text(f'DELETE FROM "{table}" WHERE id IN :ids').bindparams(
            bindparam("ids", expanding=True)
        )
        connection.execute(statement, {"ids": ids})
        connection.execute(
            text("DELETE FROM outbox WHERE table_name = :t AND row_id IN :ids").bindparams(
                bindparam("ids", expanding=True)
            ),
            {"t": table, "ids": ids},
        )
    capture.set_capture(connection, True)


def _rows_in(connection: Connection, table: str, territories: list[str]) -> list[str]:
    statement = text(f'SELECT id FROM "{table}" WHERE {SCOPE_FIELD} IN :ids').bindparams(
        bindparam("ids", expanding=True)
    )
    return [str(row_id) for row_id in connection.execute(statement, {"ids": territories}).scalars()]


def _revive_refused_creations(connection: Connection, table: str, row_ids: list[str]) -> None:
    """A creation the server refused (out of scope) is sent again, now in the home territory.

    It takes the row's current values; the op capture just made for the move goes.
    """
    if not row_ids:
        return
    refused = connection.execute(
        text(
            "SELECT op_id, row_id FROM outbox WHERE table_name = :t AND created = 1 "
            "AND state = 'rejected' AND row_id IN :ids"
        ).bindparams(bindparam("ids", expanding=True)),
        {"t": table, "ids": row_ids},
    ).all()
    fields = [*TABLES[table].fields, "deleted"]
    for op_id, row_id in refused:
        row = (
            connection.execute(text(f'SELECT * FROM "{table}" WHERE id = :i'), {"i": row_id})
            .mappings()
            .first()
        )
        if row is None:
            continue
        values = {name: row[name] for name in fields if name in row}
        local.drop_open_ops(connection, table, str(row_id))
        connection.execute(
            text(
                "UPDATE outbox SET state = 'pending', reason = NULL, batch_id = NULL, "
                "fields = :f WHERE op_id = :o"
            ),
            {"f": json.dumps(values, ensure_ascii=False), "o": op_id},
        )


def _stub_territory(connection: Connection, placeholder: str, home: str) -> None:
    """Hold the home territory's place until the first sync brings its row (keys hold)."""
    exists = connection.execute(text("SELECT 1 FROM territory WHERE id = :i"), {"i": home})
    if exists.first() is not None:
        return
    row = (
        connection.execute(text("SELECT * FROM territory WHERE id = :i"), {"i": placeholder})
        .mappings()
        .first()
    )
    if row is None:
        return
    values = {**dict(row), "id": home, SCOPE_FIELD: home, "row_version": 0}
    columns = ", ".join(f'"{name}"' for name in values)
    marks = ", ".join(f":{name}" for name in values)
    capture.set_capture(connection, False)
    connection.execute(text(f"INSERT INTO territory ({columns}) VALUES ({marks})"), values)
    capture.set_capture(connection, True)


def _user_columns(table: str) -> list[str]:
    return [name for name in TABLES[table].fields if name.endswith("_user_id")]


def territory_state(territories: list[str], home: str | None) -> str:
    """The territories to record for the store: the home territory first."""
    if home is None:
        return json.dumps(territories)
    return json.dumps(sorted(territories, key=lambda tid: (tid != home, tid)))
