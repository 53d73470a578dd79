"""What the GUI and the CLI call: sign in, sync, conflicts, pending count, digest.

Plain functions with plain arguments and frozen results, safe to run on a worker
thread (each call opens its own connections). No Qt here.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import Connection, Engine, Row, text
from sqlalchemy.exc import IntegrityError
from tenacity.wait import WaitBaseT

from fieldrep.i18n import N_, _, ngettext
from fieldrep.storage import fields as field_labels
from fieldrep.storage.db import open_database
from fieldrep.storage.enums import Role
from fieldrep.storage.errors import NotFound
from fieldrep.storage.models import Base
from fieldrep.storage.services.core import Store, UserContext, get_live, update_row
from fieldrep.storage.types import utcnow
from fieldrep.sync import capture, identity, local, tokens
from fieldrep.sync.client import Refused, SyncClient, SyncError, Unreachable
from fieldrep.sync.engine import Progress, SyncEngine, SyncSummary
from fieldrep.sync.protocol import (
    AUDIT_MAX_ROW_IDS,
    CONFLICT_TABLE,
    SYSTEM_USER_ID,
    TABLES,
    AuditEntry,
    Reason,
    UserInfo,
    format_datetime,
    from_wire,
    parse_datetime,
)
from fieldrep.sync.refusals import reason_text, stored_code, stored_params
from fieldrep.sync.values import to_local, to_wire

__all__ = [
    "AuditFieldChange",
    "AuditForbidden",
    "AuditOffline",
    "AuditResult",
    "AuditView",
    "ConflictView",
    "DigestEntry",
    "RefusedField",
    "RejectedView",
    "SyncSummary",
    "UnknownAuditUser",
    "digest",
    "digest_entries",
    "dismiss_rejected",
    "export_outbox",
    "fetch_audit",
    "follow_user_row",
    "list_conflicts",
    "list_rejected",
    "login",
    "pending_count",
    "rejected_count",
    "resolve_conflict",
    "run_sync",
    "user_context",
]


log = logging.getLogger("fieldrep.sync")

# What a rep calls each kind of synced record (digest sentences).
TABLE_LABELS: dict[str, str] = {
    "app_user": N_("User"),
    "customer_mgmt_report": N_("Customer management report"),
    "dealer": N_("Dealer"),
    "objection_answer": N_("Playbook answer"),
    "territory": N_("Territory"),
    "territory_setting": N_("Territory setting"),
    "visit_plan": N_("Visit plan"),
    "after_sales_event": N_("After-sales case"),
    "agreement": N_("Agreement"),
    "carried_product": N_("Carried product"),
    "channel_conflict": N_("Channel conflict"),
    "class_history": N_("Classification change"),
    "competitor_note": N_("Competitor note"),
    "complaint": N_("Complaint"),
    "contact": N_("Contact"),
    "credit_assessment": N_("Credit review"),
    "dealer_assessment": N_("Dealer assessment"),
    "follow_up": N_("Follow-up"),
    "legacy_issue": N_("Legacy issue"),
    "project": N_("Project"),
    "relationship_grade": N_("Relationship grade"),
    "report_task": N_("Report task"),
    "retail_price_change": N_("Retail price change"),
    "sales_figure": N_("Sales figure"),
    "sales_target": N_("Sales target"),
    "visit_plan_item": N_("Planned visit"),
    "channel_conflict_dealer": N_("Dealer in a channel conflict"),
    "contact_record": N_("Contact record"),
    "follow_up_step": N_("Follow-up step"),
    "negotiation_note": N_("Negotiation note"),
    "contact_record_participant": N_("Visit participant"),
    "objection": N_("Objection"),
    "training_session": N_("Training session"),
}


def login(
    db_path: Path | str,
    server_url: str,
    username: str,
    password: str,
    *,
    transport: httpx.BaseTransport | None = None,
    territory: str | None = None,
) -> UserInfo:
    """Sign this database in to a server; tokens go to the OS keyring only.

    Raises :class:`~fieldrep.sync.tokens.NoSecureStorage` before any network call
    when the keyring cannot keep secrets. Signing in as another user (or to
    another server) follows :mod:`fieldrep.sync.identity`: refused while the
    previous user has unsent changes, else their rows are dropped; records made
    offline before any sign-in move to the user's territory (``territory`` names
    it when the account has several).
    """
    server_url = server_url.rstrip("/")
    tokens.load_tokens(server_url, username)  # fails early without a secure keyring
    engine = open_database(db_path)
    try:
        with engine.connect() as connection:
            device = local.get_state(connection, local.DEVICE_ID)
            previous = identity.current(connection)
            identity.check_switch(connection, server_url, username)
            work = identity.offline_work(connection)
        with SyncClient(
            server_url,
            transport=transport,
            save_tokens=lambda new: tokens.save_tokens(server_url, username, new),
        ) as client:
            answer = client.login(username, password, device)
        home: str | None = None
        if work.any:
            try:
                home = identity.choose_home(
                    work, answer.user.territory_ids, territory, answer.user.territory_names
                )
            except SyncError:
                tokens.delete_tokens(server_url, username)  # not signed in after all
                raise
        with engine.begin() as connection:
            if identity.is_switch(previous, server_url, username):
                identity.check_switch(connection, server_url, username)  # edited meanwhile?
                identity.forget_previous_identity(connection)
            elif (previous.server_url, previous.username) != (server_url, username):
                local.clear_cursors(connection)  # another scope: start from a snapshot
                local.set_state(connection, local.SERVER_EPOCH, None)
            if home is not None:
                identity.adopt_offline_work(connection, work, home, answer.user.id)
            local.set_state(connection, local.SERVER_URL, server_url)
            local.set_state(connection, local.USER_NAME, username)
            local.set_state(connection, local.USER_ID, answer.user.id)
            local.set_state(connection, local.DEVICE_ID, answer.device_id)
            local.set_state(connection, "user_role", answer.user.role)
            local.set_state(connection, "user_display_name", answer.user.display_name)
            local.set_state(
                connection,
                "territory_ids",
                identity.territory_state(answer.user.territory_ids, home),
            )
        return answer.user
    finally:
        engine.dispose()


def follow_user_row(engine: Engine) -> None:
    """Take the signed-in user's role and name from their synced app_user row.

    Sign-in stores them once; the server may change the role later (rep and
    manager both ways) and publishes it in that row, so after each sync the
    local context follows it: the manager's fields open or close without
    signing in again. Without the row (not pulled yet) the sign-in's answer stays.
    """
    with engine.begin() as connection:
        user_id = local.get_state(connection, local.USER_ID)
        if user_id is None:
            return
        row = connection.execute(
            text("SELECT role, display_name FROM app_user WHERE id = :i AND deleted = 0"),
            {"i": user_id},
        ).first()
        if row is None:
            return
        local.set_state(connection, "user_role", row.role)
        if row.display_name:
            local.set_state(connection, "user_display_name", row.display_name)


def user_context(engine: Engine) -> UserContext:
    """Who is signed in on this database (for the storage services)."""
    with engine.connect() as connection:
        user_id = local.get_state(connection, local.USER_ID) or local.device_id(connection)
        territories = json.loads(local.get_state(connection, "territory_ids") or "[]")
        role = local.get_state(connection, "user_role") or Role.REP.code
        name = local.get_state(connection, "user_display_name") or ""
    territory = territories[0] if territories else ""
    return UserContext(user_id, territory, Role(role), name)


def run_sync(
    db_path: Path | str,
    progress: Progress | None = None,
    *,
    transport: httpx.BaseTransport | None = None,
    wait: WaitBaseT | None = None,
    max_attempts: int = 5,
) -> SyncSummary:
    """One sync of the database at ``db_path`` (run it on a worker thread)."""
    engine = SyncEngine(db_path, transport=transport, wait=wait, max_attempts=max_attempts)
    try:
        summary = engine.sync(progress)
        follow_user_row(engine.engine)
        return summary
    finally:
        engine.close()


def pending_count(engine: Engine) -> int:
    """How many changes wait to be sent."""
    with engine.connect() as connection:
        return local.pending_count(connection)


def export_outbox(engine: Engine, path: Path | str) -> int:
    """Write every unsent (and refused) change to a JSON file; returns how many.

    A refusal's ``reason`` is worded in the current language as the list of
    refused changes shows it; ``reason_code`` keeps the server's code.
    """
    with engine.connect() as connection:
        document = local.export_ops(connection)
        refused = {op.op_id: op for op in local.all_ops(connection, "rejected")}
        for entry in document["ops"]:
            op = refused.get(entry["op_id"])
            if op is not None:
                entry["reason"] = _rejected_view(connection, op).reason
                entry["reason_code"] = stored_code(op.reason)
    Path(path).write_text(json.dumps(document, ensure_ascii=False, indent=2), encoding="utf-8")
    return len(document["ops"])


# -- conflicts


@dataclass(frozen=True)
class ConflictView:
    """A conflict as the inbox shows it: one field of one record."""

    id: str
    table: str
    row_id: str
    field: str
    field_label: str
    record_label: str
    kind: str
    base: Any
    mine: Any
    theirs: Any
    author: str
    status: str
    resolution: str | None
    theirs_author: str = ""  # who wrote the value that is on the server
    created_at: datetime | None = None  # when the server recorded the conflict


def list_conflicts(engine: Engine, *, include_resolved: bool = False) -> list[ConflictView]:
    """Conflicts pulled from the server, oldest first, open ones only by default."""
    where = "" if include_resolved else "WHERE status = 'open'"
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT id, table_name, row_id, field, kind, status, resolution, record "
                f"FROM sync_conflict {where} ORDER BY json_extract(record, '$.created_at'), id"
            )
        ).all()
        views = []
        for row in rows:
            record = json.loads(row.record)
            views.append(
                ConflictView(
                    id=row.id,
                    table=row.table_name,
                    row_id=row.row_id,
                    field=row.field,
                    field_label=_label(row.table_name, row.field),
                    record_label=_record_label(connection, row.table_name, row.row_id),
                    kind=row.kind,
                    base=record.get("base"),
                    mine=record.get("mine"),
                    theirs=record.get("theirs"),
                    author=_user_name(connection, record.get("author_user_id")),
                    status=row.status,
                    resolution=row.resolution,
                    theirs_author=_user_name(connection, record.get("theirs_user_id")),
                    created_at=_moment(record.get("created_at")),
                )
            )
    return views


def _moment(wire: Any) -> datetime | None:
    try:
        return parse_datetime(wire) if isinstance(wire, str) else None
    except ValueError:
        return None


def resolve_conflict(store: Store, conflict_id: str, choice: str, value: Any = None) -> None:
    """Resolve one field: ``mine``, ``theirs``, ``value`` (typed text) or ``dismissed``.

    The chosen value is an ordinary change of the row (validated, in the outbox),
    written in the same transaction as the resolution, which is pushed too.
    """
    if choice not in ("mine", "theirs", "value", "dismissed"):
        raise ValueError(choice)
    with store.write() as session:
        connection = session.connection()
        row = connection.execute(
            text(
                "SELECT row_version, table_name, row_id, field, kind, record FROM sync_conflict "
                "WHERE id = :i"
            ),
            {"i": conflict_id},
        ).first()
        if row is None:
            raise NotFound(CONFLICT_TABLE, conflict_id)
        record = json.loads(row.record)
        model = _model(row.table_name)
        resolved_value: Any = None
        if choice in ("mine", "value") and model is not None:
            spec = TABLES[row.table_name].fields[row.field]
            if choice == "mine":
                new_value = from_wire(spec.wire_type, record.get("mine"))
            else:
                new_value = field_labels.parse_field_value(model, row.field, str(value or ""))
            target = session.get(model, row.row_id)
            if target is None:
                raise NotFound(row.table_name, row.row_id)
            if target.deleted:  # delete vs edit: taking the edit restores the row
                target.deleted = False
                target.deleted_at = None
            update_row(session, store, get_live(session, model, row.row_id), {row.field: new_value})
            session.flush()
            resolved_value = connection.execute(
                text(f'SELECT "{row.field}" FROM "{row.table_name}" WHERE id = :i'),
                {"i": row.row_id},
            ).scalar()
            resolved_value = to_wire(row.table_name, row.field, resolved_value)
        resolution = {"status": "resolved", "resolution": choice, "resolved_value": resolved_value}
        connection.execute(
            text(
                "UPDATE sync_conflict SET status = 'resolved', resolution = :r, "
                "resolved_value = :v WHERE id = :i"
            ),
            {"r": choice, "v": json.dumps(resolved_value, ensure_ascii=False), "i": conflict_id},
        )
        _queue_resolution(connection, conflict_id, row.row_version, resolution)


def _queue_resolution(
    connection: Connection, conflict_id: str, version: int, fields: dict[str, Any]
) -> None:
    """Put the resolution in the outbox (coalescing with an unsent one)."""
    payload = json.dumps(fields, ensure_ascii=False)
    updated = connection.execute(
        text(
            "UPDATE outbox SET fields = :f WHERE table_name = :t AND row_id = :r "
            "AND batch_id IS NULL AND state = 'pending'"
        ),
        {"f": payload, "t": CONFLICT_TABLE, "r": conflict_id},
    ).rowcount
    if not updated:
        connection.execute(
            text(
                "INSERT INTO outbox (op_id, table_name, row_id, kind, created, fields, base, "
                "base_version, created_at) VALUES (:o, :t, :r, 'upsert', 0, :f, :b, :v, :c)"
            ),
            {
                "o": str(uuid.uuid4()),
                "t": CONFLICT_TABLE,
                "r": conflict_id,
                "f": payload,
                "b": json.dumps({"status": "open"}),
                "v": version,
                "c": utcnow().isoformat(),
            },
        )


# -- refused changes


@dataclass(frozen=True)
class RefusedField:
    """One field of a refused change: my value and the value my copy shows now."""

    field: str
    label: str
    mine: Any  # wire value of what I had typed
    now: Any  # wire value the local row holds now (the server's, restored on refusal)


@dataclass(frozen=True)
class RejectedView:
    """A change the server refused, kept in the outbox until the rep dismisses it."""

    op_id: str
    table: str
    row_id: str
    record_label: str
    kind: str  # "upsert" or "delete"
    created: bool  # the change made a new record
    fields: tuple[RefusedField, ...]
    #: The outbox's reason column: the server's reason code as JSON (older rows: text).
    stored_reason: str | None
    created_at: datetime | None  # when I made the change

    @property
    def reason(self) -> str:
        """Why, in the current language (the list may outlive a language switch)."""
        names = [refused.field for refused in self.fields]
        return _readable_reason(reason_text(self.stored_reason), self.table, names)


# Fields a refused change carries that say nothing to the rep.
_UNSHOWN_FIELDS = frozenset(
    {"id", "row_version", "created_at", "updated_at", "updated_by", "deleted", "deleted_at"}
)


def list_rejected(engine: Engine) -> list[RejectedView]:
    """Changes the server refused (SYNC.md: nothing is silently dropped), oldest first."""
    with engine.connect() as connection:
        ops = local.all_ops(connection, "rejected")
        return [_rejected_view(connection, op) for op in ops]


def _rejected_view(connection: Connection, op: local.OutboxOp) -> RejectedView:
    names = [name for name in op.fields if name not in _UNSHOWN_FIELDS]
    if op.created:  # a new record: what I filled in, not every empty column nor its scope
        names = [
            name
            for name in names
            if op.fields[name] not in (None, "", []) and name != "territory_id"
        ]
    current = _current_values(connection, op.table, op.row_id, names)
    if op.table == CONFLICT_TABLE:
        record = _("Conflict decision")
        shown: list[RefusedField] = []
    else:
        # A change of a territory that left the device names its record in the refusal.
        record = stored_params(op.reason).get("record") or _record_label(
            connection, op.table, op.row_id
        )
        shown = [
            RefusedField(
                field=name,
                label=_label(op.table, name),
                mine=to_wire(op.table, name, op.fields[name]),
                now=to_wire(op.table, name, current[name]) if name in current else None,
            )
            for name in names
        ]
    return RejectedView(
        op_id=op.op_id,
        table=op.table,
        row_id=op.row_id,
        record_label=record,
        kind=op.kind,
        created=op.created,
        fields=tuple(shown),
        stored_reason=op.reason,
        created_at=_local_moment(op.created_at),
    )


def _readable_reason(reason: str, table: str, fields: Sequence[str]) -> str:
    """The server's reason with a leading column or table name put as the rep knows it.

    The engine words a refusal from the server's answer, which names the column
    (``abc_class: only a manager ...``) or, for a whole record, the table
    (``sales_target: ...``); the rep knows them as "Visit class", "Sales target".
    """
    names = [(name, _label(table, name)) for name in fields]
    names.append((table, _table_label(table)))
    for name, label in names:
        for separator in (":", "："):
            prefix = name + separator
            if reason.startswith(prefix):
                return label + separator + reason[len(prefix) :]
    return reason


def _current_values(
    connection: Connection, table: str, row_id: str, names: Sequence[str]
) -> dict[str, Any]:
    """The local row's values of ``names`` (empty when the row or table is unknown)."""
    if table not in TABLES or not names:
        return {}
    known = [name for name in names if name in TABLES[table].fields]
    if not known:
        return {}
    columns = ", ".join(f'"{name}"' for name in known)
    row = connection.execute(
        text(f'SELECT {columns} FROM "{table}" WHERE id = :i'), {"i": row_id}
    ).first()
    return {} if row is None else dict(zip(known, row, strict=True))


def _local_moment(stored: str) -> datetime | None:
    try:
        moment = datetime.fromisoformat(stored.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def dismiss_rejected(engine: Engine, op_ids: Sequence[str]) -> int:
    """The rep has seen these refused changes: remove them; returns how many went.

    For a refused edit the local row already holds the server's value (the engine
    restored it when the server refused). A refused new record never reached the
    server, so once seen it leaves this copy too (without an outbox entry), and the
    copy equals the server again (SYNC.md invariant 1). It stays when it has a
    newer unsent change or other records point to it.
    """
    wanted = set(op_ids)
    with engine.begin() as connection:
        refused = [op for op in local.all_ops(connection, "rejected") if op.op_id in wanted]
        dropped = local.drop_rejected(connection, list(wanted))
        new_records = [
            op for op in refused if op.created and op.table in TABLES and op.table != CONFLICT_TABLE
        ]
        if new_records:
            capture.set_capture(connection, False)
            for op in new_records:
                _drop_refused_record(connection, op)
            capture.set_capture(connection, True)
        return dropped


def _drop_refused_record(connection: Connection, op: local.OutboxOp) -> None:
    """Remove a refused new record the server never accepted (row_version still 0)."""
    if op.row_id in local.pending_fields(connection, op.table, [op.row_id]):
        return  # edited again since: its next push says what the server thinks
    nested = connection.begin_nested()
    try:
        connection.execute(
            text(f'DELETE FROM "{op.table}" WHERE id = :i AND row_version = 0'),
            {"i": op.row_id},
        )
    except IntegrityError:
        nested.rollback()  # other records point to it: keep it rather than break them
        log.info("refused %s %s kept: other records refer to it", op.table, op.row_id)
    else:
        nested.commit()


def rejected_count(engine: Engine) -> int:
    """How many refused changes wait to be seen."""
    with engine.connect() as connection:
        return local.rejected_count(connection)


# -- digest


def _digest_rows(
    connection: Connection, sync_run: str | None
) -> tuple[str | None, Sequence[Row[Any]] | None]:
    """Who I am and the recorded changes of a sync run (the last one by default).

    The rows are None when no sync has run yet.
    """
    run = sync_run or local.get_state(connection, local.LAST_SYNC_RUN)
    me = local.get_state(connection, local.USER_ID)
    if run is None:
        return me, None
    rows = connection.execute(
        text(
            "SELECT table_name, row_id, field, old, new, by_user, created, deleted "
            "FROM sync_change_digest WHERE sync_run = :r ORDER BY seq"
        ),
        {"r": run},
    ).all()
    return me, rows


def digest(engine: Engine, sync_run: str | None = None) -> list[str]:
    """What others changed in the last sync, one sentence each, in the current language."""
    with engine.connect() as connection:
        me, rows = _digest_rows(connection, sync_run)
        if rows is None:
            return []
        lines: list[str] = []
        assigned = 0
        created: Counter[tuple[str, str]] = Counter()
        for row in rows:
            who = _user_name(connection, row.by_user)
            if row.table_name == "follow_up" and (
                (row.created and _owner(connection, row.row_id) == me)
                or (row.field == "owner_user_id" and row.new == me)
            ):
                assigned += 1
                continue
            if row.created:
                created[(who, row.table_name)] += 1
                continue
            record = _record_label(connection, row.table_name, row.row_id)
            if row.deleted:
                lines.append(_("{who} deleted {record}").format(who=who, record=record))
            elif row.field and row.field != "deleted":
                lines.append(
                    _("{who} changed {record}'s {field} {old} -> {new}").format(
                        who=who,
                        record=record,
                        field=_label(row.table_name, row.field),
                        old=_show(row.table_name, row.field, row.old),
                        new=_show(row.table_name, row.field, row.new),
                    )
                )
        for (who, table), count in created.items():
            lines.append(
                ngettext(
                    "{who} added {count} record of type “{kind}”",
                    "{who} added {count} records of type “{kind}”",
                    count,
                ).format(who=who, count=count, kind=_table_label(table))
            )
        if assigned:
            lines.append(
                ngettext(
                    "{count} new follow-up assigned to you",
                    "{count} new follow-ups assigned to you",
                    assigned,
                ).format(count=assigned)
            )
    return lines


@dataclass(frozen=True)
class DigestEntry:
    """One line of the digest and the record it leads to (the GUI's record kinds)."""

    text: str
    kind: str | None  # "dealer" or "follow_up"; None when no single record fits
    record_id: str | None


def digest_entries(engine: Engine, sync_run: str | None = None) -> list[DigestEntry]:
    """The digest of :func:`digest`, each line with the record a click opens.

    A change of a dealer, or of a record that belongs to a dealer, leads to the
    dealer card. Follow-ups newly assigned to me are one line each, leading to
    the follow-up.
    """
    with engine.connect() as connection:
        me, rows = _digest_rows(connection, sync_run)
        if rows is None:
            return []
        entries: list[DigestEntry] = []
        assigned: dict[str, str] = {}  # follow-up id -> who assigned it
        created: dict[tuple[str, str], list[str]] = {}
        for row in rows:
            who = _user_name(connection, row.by_user)
            if row.table_name == "follow_up" and (
                (row.created and _owner(connection, row.row_id) == me)
                or (row.field == "owner_user_id" and row.new == me)
            ):
                assigned.setdefault(row.row_id, who)
                continue
            if row.created:
                created.setdefault((who, row.table_name), []).append(row.row_id)
                continue
            record = _record_label(connection, row.table_name, row.row_id)
            kind, record_id = _digest_target(connection, row.table_name, row.row_id)
            if row.deleted:
                line = _("{who} deleted {record}").format(who=who, record=record)
            elif row.field and row.field != "deleted":
                line = _("{who} changed {record}'s {field} {old} -> {new}").format(
                    who=who,
                    record=record,
                    field=_label(row.table_name, row.field),
                    old=_show(row.table_name, row.field, row.old),
                    new=_show(row.table_name, row.field, row.new),
                )
            else:
                continue
            entries.append(DigestEntry(line, kind, record_id))
        for (who, table), row_ids in created.items():
            line = ngettext(
                "{who} added {count} record of type “{kind}”",
                "{who} added {count} records of type “{kind}”",
                len(row_ids),
            ).format(who=who, count=len(row_ids), kind=_table_label(table))
            targets = {_digest_target(connection, table, row_id) for row_id in row_ids}
            kind, record_id = targets.pop() if len(targets) == 1 else (None, None)
            entries.append(DigestEntry(line, kind, record_id))
        for follow_up_id, who in assigned.items():
            found = connection.execute(
                text("SELECT title, due_on, dealer_id FROM follow_up WHERE id = :i"),
                {"i": follow_up_id},
            ).first()
            if found is None:
                continue
            dealer = _record_label(connection, "dealer", found.dealer_id) if found.dealer_id else ""
            line = _("{who} assigned you a follow-up: {title} ({dealer}), due {due}").format(
                who=who, title=found.title, dealer=dealer or "-", due=found.due_on
            )
            entries.append(DigestEntry(line, "follow_up", follow_up_id))
    return entries


#: Tables whose rows open as a record of their own in the GUI (registry kinds).
_OWN_RECORD_KINDS = {"dealer": "dealer", "follow_up": "follow_up", "contact_record": "visit"}


def _digest_target(
    connection: Connection, table: str, row_id: str
) -> tuple[str | None, str | None]:
    """The record a digest line opens: the row itself when it opens on its own (a
    dealer, a follow-up, a visit record), else the nearest such row it belongs to,
    found through its references (an objection opens its visit, a follow-up step its
    follow-up, a contact its dealer). None when the row leads nowhere the rep can open.
    """
    for _hop in range(4):  # reference chains are short; a bound guards a cycle
        kind = _OWN_RECORD_KINDS.get(table)
        if kind is not None:
            return kind, row_id
        spec = TABLES.get(table)
        if spec is None or not spec.references:
            return None, None
        parent = _nearest_parent(connection, table, row_id, spec.references)
        if parent is None:
            return None, None
        table, row_id = parent
    return None, None


#: Which parent a digest line prefers: the most specific record that opens on its own.
_PARENT_PREFERENCE = ("contact_record", "follow_up", "dealer")


def _nearest_parent(
    connection: Connection, table: str, row_id: str, references: Mapping[str, str]
) -> tuple[str, str] | None:
    """The referenced row of ``row_id`` a rep would want to open (see above)."""

    def preference(item: tuple[str, str]) -> int:
        parent_table = item[1]
        if parent_table in _PARENT_PREFERENCE:
            return _PARENT_PREFERENCE.index(parent_table)
        return len(_PARENT_PREFERENCE)

    ordered = sorted(references.items(), key=preference)
    columns = ", ".join(f'"{name}"' for name, _parent in ordered)
    found = connection.execute(
        text(f'SELECT {columns} FROM "{table}" WHERE id = :i'), {"i": row_id}
    ).first()
    if found is None:
        return None
    for (_name, parent_table), value in zip(ordered, found, strict=True):
        if value:
            return parent_table, str(value)
    return None


def _model(table: str) -> Any:
    for mapper in Base.registry.mappers:
        if getattr(mapper.class_, "__tablename__", None) == table:
            return mapper.class_
    return None


def _label(table: str, field: str) -> str:
    model = _model(table)
    try:
        return _(field_labels.field_label(model or table, field))
    except KeyError:
        return field


def _table_label(table: str) -> str:
    label = TABLE_LABELS.get(table)
    return _(label) if label else table


def _show(table: str, field: str, stored: str | None) -> str:
    if stored is None or stored == "":
        return _("(empty)")
    model = _model(table)
    if model is not None:
        column_type = model.__table__.columns[field].type
        enum_class = getattr(column_type, "enum_class", None)
        if enum_class is not None:
            try:
                return str(enum_class(stored).label)
            except ValueError:
                return stored
    return stored


def _owner(connection: Connection, follow_up_id: str) -> str | None:
    value = connection.execute(
        text("SELECT owner_user_id FROM follow_up WHERE id = :i"), {"i": follow_up_id}
    ).scalar()
    return None if value is None else str(value)


def _user_name(connection: Connection, user_id: str | None) -> str:
    if not user_id:
        return _("Someone")
    if user_id == SYSTEM_USER_ID:
        # The server's administration commands (a role changed, a user assigned):
        # no person signed in made the change, but the rep knows who runs the server.
        return _("The administrator")
    for sql in (
        "SELECT display_name FROM app_user WHERE id = :i",
        "SELECT display_name FROM sync_user WHERE id = :i",
    ):
        name = connection.execute(text(sql), {"i": user_id}).scalar()
        if name:
            return str(name)
    return _("Someone")


def _record_label(connection: Connection, table: str, row_id: str) -> str:
    return local.record_name(connection, table, row_id) or _table_label(table)


def stored_value(table: str, field: str, wire: Any) -> Any:
    """A wire value as SQLite stores it (for tests and tools)."""
    return to_local(table, field, wire)


# -- audit trail: who changed what, when, on which device (an online query)


class AuditOffline(Unreachable):
    """The change history lives on the server: without it there is none to show."""

    template = N_(
        "The change history needs a connection to the server, which cannot be reached now."
    )

    def user_message(self) -> str:
        # The technical reason (in ``detail``) goes to the log; the user needs the fix.
        return _(self.template)


class AuditForbidden(Refused):
    """The server shows its audit trail to managers (and admins) only."""

    template = N_("The server shows the change history to managers only.")


class UnknownAuditUser(SyncError):
    """``user`` names nobody this device knows (no id to ask the server for)."""

    template = N_("No user named “{detail}” is known on this device.")


#: Every change sets these; the history names the fields a person changed.
_AUDIT_BOOKKEEPING = frozenset({"updated_at", "updated_by", "row_version", "created_at"})
#: How many entries one request asks for (the server allows 1000).
_AUDIT_PAGE = 500

AUDIT_ACTIONS: dict[str, str] = {
    "insert": N_("created"),
    "update": N_("changed"),
    "delete": N_("deleted"),
    "restore": N_("restored"),
}


@dataclass(frozen=True)
class AuditFieldChange:
    """One field of an audit entry, worded: its label and both values as shown elsewhere."""

    field: str
    label: str
    old: str
    new: str


@dataclass(frozen=True)
class AuditView:
    """One accepted change as the history shows it (words in the current language)."""

    id: int
    at: datetime  # aware, UTC
    user: str  # the display name when this device knows the user, else the user name
    username: str
    device_id: str | None
    table: str
    table_label: str
    row_id: str
    record_label: str
    action: str
    action_label: str
    changes: tuple[AuditFieldChange, ...]
    this_device: bool = False  # made on the device that asks


@dataclass(frozen=True)
class AuditResult:
    """The entries found, oldest first; ``more`` when the limit left some on the server."""

    entries: list[AuditView]
    more: bool


def fetch_audit(
    db_path: Path | str,
    *,
    dealer_id: str | None = None,
    user: str | None = None,
    since: datetime | date | None = None,
    limit: int = 100,
    transport: httpx.BaseTransport | None = None,
    wait: WaitBaseT | None = None,
    max_attempts: int = 3,
) -> AuditResult:
    """The server's audit trail in the signed-in user's scope (run it on a worker thread).

    ``dealer_id`` narrows it to the dealer and every row of it this device holds
    (contacts, visit records and their objections, ...); ``user`` is a user name
    or display name known here; a ``since`` date starts at local midnight. The
    server decides what the caller may read: a rep is refused
    (:class:`AuditForbidden`), a manager sees only their team's territories.
    Offline raises :class:`AuditOffline`.
    """
    sync_engine = SyncEngine(db_path, transport=transport, wait=wait, max_attempts=max_attempts)
    try:
        with sync_engine.engine.connect() as connection:
            query: list[tuple[str, str]] = []
            if user:
                query.append(("user_id", _audit_user_id(connection, user)))
            if since is not None:
                query.append(("since", format_datetime(_instant(since))))
            row_chunks: list[list[str]] = [[]]
            if dealer_id:
                row_ids = _dealer_row_ids(connection, dealer_id)
                row_chunks = [
                    row_ids[start : start + AUDIT_MAX_ROW_IDS]
                    for start in range(0, len(row_ids), AUDIT_MAX_ROW_IDS)
                ]
        found: list[AuditEntry] = []
        more = False
        try:
            with sync_engine.client() as client:
                for chunk in row_chunks:
                    entries, left = _audit_pages(
                        client, query + [("row_id", row_id) for row_id in chunk], limit
                    )
                    found.extend(entries)
                    more = more or left
        except Unreachable as error:
            log.info("change history not fetched, server unreachable: %s", error.detail)
            raise AuditOffline(error.detail, error.code) from error
        except Refused as error:
            if error.code == Reason.FORBIDDEN:
                raise AuditForbidden(error.detail, error.code) from error
            raise
        found.sort(key=lambda entry: entry.id)
        if len(found) > limit:
            found, more = found[:limit], True
        with sync_engine.engine.connect() as connection:
            return AuditResult([_audit_view(connection, entry) for entry in found], more)
    finally:
        sync_engine.close()


def _audit_pages(
    client: SyncClient, query: list[tuple[str, str]], limit: int
) -> tuple[list[AuditEntry], bool]:
    """Up to ``limit`` entries of one filter, page by page; True when more are left."""
    entries: list[AuditEntry] = []
    after: int | None = None
    while len(entries) < limit:
        page_query = [*query, ("limit", str(min(_AUDIT_PAGE, limit - len(entries))))]
        if after is not None:
            page_query.append(("after", str(after)))
        page = client.audit(page_query)
        entries.extend(page.entries)
        after = page.next_after
        if after is None:
            return entries, False
    return entries, True


def _instant(since: datetime | date) -> datetime:
    """A date means its local midnight; a naive time is local time."""
    if not isinstance(since, datetime):
        since = datetime.combine(since, datetime.min.time())
    return since if since.tzinfo is not None else since.astimezone()


def _audit_user_id(connection: Connection, user: str) -> str:
    found = connection.execute(
        text(
            "SELECT id FROM app_user WHERE username = :u OR display_name = :u "
            "ORDER BY username = :u DESC LIMIT 1"
        ),
        {"u": user},
    ).scalar()
    if found is None:
        raise UnknownAuditUser(user)
    return str(found)


def _dealer_row_ids(connection: Connection, dealer_id: str) -> list[str]:
    """The dealer and every row here that belongs to it, through references, deleted too."""
    held: dict[str, set[str]] = {"dealer": {dealer_id}}
    for _depth in range(4):  # reference chains are short (dealer > visit > objection ...)
        grew = False
        for table, spec in TABLES.items():
            if table == "dealer":
                continue
            for column, parent in spec.references.items():
                parents = held.get(parent)
                if not parents:
                    continue
                marks = ", ".join(f":p{index}" for index in range(len(parents)))
                params = {f"p{index}": value for index, value in enumerate(sorted(parents))}
                ids = {
                    str(value)
                    for value in connection.execute(
                        text(f'SELECT id FROM "{table}" WHERE "{column}" IN ({marks})'), params
                    ).scalars()
                }
                new = ids - held.get(table, set())
                if new:
                    held.setdefault(table, set()).update(new)
                    grew = True
        if not grew:
            break
    children = sorted(row_id for table, ids in held.items() if table != "dealer" for row_id in ids)
    return [dealer_id, *children]


def _audit_view(connection: Connection, entry: AuditEntry) -> AuditView:
    known = _known_user_name(connection, entry.user_id)
    own_device = local.get_state(connection, local.DEVICE_ID)
    changes = tuple(
        AuditFieldChange(
            field=name,
            label=_label(entry.table, name),
            old=_audit_value(connection, entry.table, name, change.old),
            new=_audit_value(connection, entry.table, name, change.new),
        )
        for name, change in entry.changes.items()
        if name not in _AUDIT_BOOKKEEPING
    )
    action = AUDIT_ACTIONS.get(entry.action)
    return AuditView(
        id=entry.id,
        at=parse_datetime(entry.at),
        user=known or entry.username,
        username=entry.username,
        device_id=entry.device_id,
        table=entry.table,
        table_label=_table_label(entry.table),
        row_id=entry.row_id,
        record_label=_record_label(connection, entry.table, entry.row_id)
        if entry.table in TABLES
        else _table_label(entry.table),
        action=entry.action,
        action_label=_(action) if action else entry.action,
        changes=changes,
        this_device=entry.device_id is not None and entry.device_id == own_device,
    )


def _known_user_name(connection: Connection, user_id: str) -> str | None:
    if user_id == SYSTEM_USER_ID:
        return _("The administrator")
    name = connection.execute(
        text("SELECT display_name FROM app_user WHERE id = :i"), {"i": user_id}
    ).scalar()
    return str(name) if name else None


def _audit_value(connection: Connection, table: str, field: str, wire: Any) -> str:
    """A wire value as the rep reads it: labels for codes, names for references."""
    if wire is None or wire == "":
        return _("(empty)")
    spec = TABLES.get(table)
    if spec is None:
        return str(wire)
    if isinstance(wire, bool):
        return _("Yes") if wire else _("No")
    parent = "territory" if field == "territory_id" else spec.references.get(field)
    if parent == "app_user":
        return _known_user_name(connection, str(wire)) or str(wire)
    if parent is not None:
        return local.record_name(connection, parent, str(wire)) or str(wire)
    try:
        stored = to_local(table, field, wire)
        return _show(table, field, str(stored))
    except (KeyError, ValueError, TypeError):
        return str(wire)
