"""Applying one pushed op: per-field three-way merge with the protocol's field policies.

See the module docstring of :mod:`fieldrep.sync.protocol` for the policies. The
merge compares values, never clocks or versions: ``base_version`` is kept in
conflict records for explanation only.
"""

from __future__ import annotations

import heapq
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from fieldrep.server.models import ServerRow
from fieldrep.server.services.rowstore import ChangeWriter
from fieldrep.server.services.scope import Caller
from fieldrep.sync.protocol import (
    CONFLICT_TABLE,
    SCOPE_FIELD,
    SERVER_STAMPED_FIELDS,
    TABLES,
    ConflictKind,
    ConflictStatus,
    FieldIssue,
    OpResult,
    PushOp,
    Reason,
    TableSpec,
    WireValueError,
    keep_both,
    normalise_value,
    reason_message,
    same_value,
)

# Conflict ids derive from the op, so replaying an op can never duplicate a record.
CONFLICT_NAMESPACE = uuid.UUID("6f1c9f0e-3f5a-4c1e-9a57-3d0c2b1f7a10")
_IGNORED_META = frozenset({"id", "row_version"})

RowKey = tuple[str, str]


@dataclass
class MergeContext:
    """The state one batch shares: caller, writer and the rows it touches."""

    session: Session
    caller: Caller
    writer: ChangeWriter
    rows: dict[RowKey, ServerRow]
    #: Rows the batch creates, with their territory: parents even before their insert
    #: (see :func:`batch_creations`).
    created: dict[RowKey, str] = field(default_factory=dict)


class OpRejected(Exception):
    """The whole op is refused before anything was written."""

    def __init__(self, reason: Reason, **params: Any) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.params = {key: str(value) for key, value in params.items()}


@dataclass
class _Outcome:
    changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)
    conflict_ids: list[str] = field(default_factory=list)
    kept_both: list[str] = field(default_factory=list)
    refused: list[FieldIssue] = field(default_factory=list)

    def result(self, op: PushOp, row: ServerRow) -> OpResult:
        """The op's answer: merged when any field was not taken as sent."""
        merged = self.conflicts or self.kept_both or self.refused
        return OpResult(
            op_id=op.op_id,
            status="merged" if merged else "applied",
            row_version=row.row_version,
            deleted=row.deleted,
            conflicts=self.conflicts,
            conflict_ids=self.conflict_ids,
            kept_both=self.kept_both,
            refused=self.refused,
        )

    def refuse(self, name: str, reason: Reason, **params: Any) -> None:
        texts = {"field": name, **{key: str(value) for key, value in params.items()}}
        self.refused.append(
            FieldIssue(
                field=name, reason=reason, message=reason_message(reason, **texts), params=texts
            )
        )


def _rejected(op: PushOp, reason: Reason, params: dict[str, str]) -> OpResult:
    return OpResult(
        op_id=op.op_id,
        status="rejected",
        reason=reason,
        message=reason_message(reason, **params),
        params=params,
    )


def referenced_keys(ops: Sequence[PushOp]) -> set[RowKey]:
    """The rows the ops' reference fields name (to load them with the batch's rows)."""
    found: set[RowKey] = set()
    for op in ops:
        spec = TABLES.get(op.table)
        if spec is None:
            continue
        for name, parent in spec.references.items():
            value = op.fields.get(name)
            if isinstance(value, str):
                found.add((parent, value))
    return found


def batch_order(ops: Sequence[PushOp]) -> list[int]:
    """The order to apply a batch's ops in: as sent, except that an op waits for the
    ops of the batch that create or restore a row it refers to.

    A client coalesces edits into a row's first op, so a contact created offline
    and then moved to a dealer created later can precede that dealer in the batch.
    An op also stays behind the earlier ops of its own row (create, then delete).
    Ops that refer to each other in a cycle go as sent (their references hold
    anyway: see :func:`batch_creations`). The order depends only on the batch, so
    the same batch always gives the same server state.
    """
    writers: dict[RowKey, list[int]] = defaultdict(list)
    for index, op in enumerate(ops):
        if op.kind != "delete":
            writers[(op.table, op.row_id)].append(index)
    own_row: dict[RowKey, list[int]] = defaultdict(list)
    needs: list[set[int]] = []
    for index, op in enumerate(ops):
        key = (op.table, op.row_id)
        wanted = set(own_row[key])
        own_row[key].append(index)
        for parent_key in referenced_keys([op]):
            wanted.update(i for i in writers.get(parent_key, ()) if i != index)
        needs.append(wanted)
    dependants: dict[int, list[int]] = defaultdict(list)
    for index, wanted in enumerate(needs):
        for needed in wanted:
            dependants[needed].append(index)
    ready = [index for index, wanted in enumerate(needs) if not wanted]
    heapq.heapify(ready)
    done: set[int] = set()
    order: list[int] = []
    while len(order) < len(ops):
        # Nothing ready means a cycle of references: its first op goes as sent.
        index = heapq.heappop(ready) if ready else min(set(range(len(ops))) - done)
        if index in done:
            continue
        done.add(index)
        order.append(index)
        for dependant in dependants[index]:
            needs[dependant].discard(index)
            if not needs[dependant] and dependant not in done:
                heapq.heappush(ready, dependant)
    return order


def batch_creations(context: MergeContext, ops: Sequence[PushOp]) -> dict[RowKey, str]:
    """The rows the batch will create, each with its territory.

    A row the server does not hold is created by the batch's first op of it that
    passes every check of an insert, its references included: each must name a
    live row of its territory that the server holds, that the batch restores or
    that the batch creates.
    Rows failing that are dropped, and so are the rows naming them, until the rest
    hold each other up. Without this, new rows that name each other (contact A
    reports to B, B to A, both made offline) had no order with every parent first
    and were both refused; a row naming one that will be refused is refused too.
    Sets ``context.created``, which :func:`_reference_refusal` consults.
    """
    candidates: dict[RowKey, tuple[TableSpec, dict[str, Any], str]] = {}
    for op in ops:
        key = (op.table, op.row_id)
        if op.kind == "delete" or key in context.rows or key in candidates:
            continue
        try:
            spec = _writable_spec(context, op)
            fields = _clean_values(spec, op.fields, strict=True)
            territory_id = _new_row_territory(context, spec, op, fields)
        except OpRejected:
            continue  # refused when applied; never a parent
        candidates[key] = (spec, fields, territory_id)
    restored = {(op.table, op.row_id) for op in ops if _restores(context, op)}

    def holds(spec: TableSpec, name: str, value: Any, territory_id: str) -> bool:
        refusal = _reference_refusal(context, spec, name, value, territory_id)
        # A parent the batch restores is live by the time its child is applied.
        deleted = refusal is Reason.PARENT_DELETED
        return refusal is None or (deleted and (spec.references[name], str(value)) in restored)

    context.created = {key: territory_id for key, (_, _, territory_id) in candidates.items()}
    naming: dict[RowKey, list[RowKey]] = defaultdict(list)  # parent -> candidates naming it
    for key, (spec, fields, _) in candidates.items():
        for name, parent_table in spec.references.items():
            if fields.get(name) is not None:
                naming[(parent_table, str(fields[name]))].append(key)
    # Each candidate is checked once, and again only when a row it names is dropped.
    queue = list(candidates)
    while queue:
        key = queue.pop()
        if key not in context.created:
            continue
        spec, fields, territory_id = candidates[key]
        if not all(holds(spec, name, fields.get(name), territory_id) for name in spec.references):
            del context.created[key]
            queue.extend(naming.get(key, ()))
    return context.created


def apply_batch(context: MergeContext, ops: Sequence[PushOp]) -> list[OpResult]:
    """Apply a batch's ops in :func:`batch_order`; results come back in the sent order."""
    batch_creations(context, ops)
    results: dict[int, OpResult] = {}
    for index in batch_order(ops):
        results[index] = apply_op(context, ops[index])
    return [results[index] for index in range(len(ops))]


def apply_op(context: MergeContext, op: PushOp) -> OpResult:
    """Apply ``op`` and say what happened to it (never raises for a refusal)."""
    try:
        return _apply(context, op)
    except OpRejected as refusal:
        return _rejected(op, refusal.reason, refusal.params)


def _clean_values(spec: TableSpec, values: dict[str, Any], *, strict: bool) -> dict[str, Any]:
    """Validate names and values; ``strict`` refuses the op, otherwise bad entries drop."""
    clean: dict[str, Any] = {}
    for name, value in values.items():
        if name in _IGNORED_META or name == "deleted":
            continue
        field_spec = spec.fields.get(name)
        if field_spec is None:
            if strict:
                raise OpRejected(Reason.UNKNOWN_FIELD, field=name)
            continue
        if name in SERVER_STAMPED_FIELDS and name != "created_at":
            continue
        try:
            clean[name] = normalise_value(field_spec, value)
        except WireValueError as error:
            if strict:
                raise OpRejected(Reason.INVALID_VALUE, field=name, detail=error) from error
    return clean


def _is_restore(op: PushOp) -> bool:
    """The op brings a deleted row back (kind restore, or deleted set from true to false)."""
    return op.kind == "restore" or (
        op.fields.get("deleted") is False and op.base.get("deleted") is True
    )


def _restores(context: MergeContext, op: PushOp) -> bool:
    """The op will bring back a row the server holds deleted (checked as applying it will)."""
    row = context.rows.get((op.table, op.row_id))
    if not _is_restore(op) or row is None or not row.deleted:
        return False
    try:
        spec = _writable_spec(context, op)
        _clean_values(spec, op.fields, strict=True)
    except OpRejected:
        return False
    return not spec.pseudo and context.caller.can_see(row.territory_id)


def _writable_spec(context: MergeContext, op: PushOp) -> TableSpec:
    """The op's table, if the caller may write it at all."""
    spec = TABLES.get(op.table)
    if spec is None:
        raise OpRejected(Reason.UNKNOWN_TABLE, table=op.table)
    if spec.server_managed:
        raise OpRejected(Reason.READ_ONLY_TABLE, table=op.table)
    if spec.manager_only and not context.caller.is_manager:
        raise OpRejected(Reason.MANAGER_ONLY, field=op.table)
    return spec


def _apply(context: MergeContext, op: PushOp) -> OpResult:
    spec = _writable_spec(context, op)
    fields = _clean_values(spec, op.fields, strict=True)
    base = _clean_values(spec, op.base, strict=False)
    restore = _is_restore(op)
    row = context.rows.get((op.table, op.row_id))
    if row is None:
        return _insert(context, spec, op, fields)
    if not context.caller.can_see(row.territory_id):
        raise OpRejected(Reason.OUT_OF_SCOPE)
    if spec.pseudo:
        return _resolve_conflict_record(context, spec, op, row, fields, base)
    if op.kind == "delete":
        return _delete(context, spec, op, row, fields, base)
    return _update(context, spec, op, row, fields, base, restore=restore)


def _new_row_territory(
    context: MergeContext, spec: TableSpec, op: PushOp, fields: dict[str, Any]
) -> str:
    """The territory of a row the op creates, once the checks that need no other row pass."""
    if spec.pseudo:
        raise OpRejected(Reason.READ_ONLY_TABLE, table=op.table)
    territory_id = fields.get(SCOPE_FIELD)
    if territory_id is None:
        raise OpRejected(Reason.MISSING_FIELD, field=SCOPE_FIELD)
    if not context.caller.can_see(territory_id) or not context.writer.has_stream(territory_id):
        raise OpRejected(Reason.OUT_OF_SCOPE)
    for name, field_spec in spec.fields.items():
        if field_spec.required and name not in SERVER_STAMPED_FIELDS and fields.get(name) is None:
            raise OpRejected(Reason.MISSING_FIELD, field=name)
    return str(territory_id)


def _insert(context: MergeContext, spec: TableSpec, op: PushOp, fields: dict[str, Any]) -> OpResult:
    if op.kind == "delete":
        # Nothing to delete: the row never reached the server.
        return OpResult(op_id=op.op_id, status="applied", row_version=None, deleted=True)
    territory_id = _new_row_territory(context, spec, op, fields)
    for name in spec.references:
        refusal = _reference_refusal(context, spec, name, fields.get(name), territory_id)
        if refusal is not None:
            raise OpRejected(refusal, field=name)
    values = {name: fields.get(name) for name in spec.fields}
    row = context.writer.insert(op.table, op.row_id, territory_id, values, op_id=str(op.op_id))
    context.rows[(op.table, op.row_id)] = row
    return OpResult(op_id=op.op_id, status="applied", row_version=row.row_version, deleted=False)


def _reference_refusal(
    context: MergeContext, spec: TableSpec, name: str, value: Any, territory_id: str
) -> Reason | None:
    """Why ``value`` may not be the new value of reference field ``name`` (None: it may).

    Devices hold only their territories' rows and enforce the references as
    foreign keys, so a row naming a parent they cannot have would make every
    device of the territory fail to apply it. The parent must be on the server,
    live (delete wins: a child is not attached to a deleted parent) and in the
    row's own territory. Rows the batch creates count, before their insert too
    (see :func:`batch_creations`); a push loads the rows its ops refer to with
    its rows.
    """
    parent_table = spec.references.get(name)
    if parent_table is None or value is None:
        return None
    key = (parent_table, str(value))
    parent = context.rows.get(key)
    if parent is None and key in context.created:
        if context.created[key] != territory_id:
            return Reason.PARENT_OUT_OF_SCOPE
        return None
    if parent is None:
        # Not loaded with the batch (a conflict resolution loads only its row).
        parent = context.session.get(ServerRow, key)
        if parent is None:
            return Reason.MISSING_PARENT
        context.rows[key] = parent
    if parent.territory_id != territory_id:
        return Reason.PARENT_OUT_OF_SCOPE
    if parent.deleted:
        return Reason.PARENT_DELETED
    return None


def _is_frozen(spec: TableSpec, row: ServerRow) -> bool:
    if spec.frozen_when is None:
        return False
    name, value = spec.frozen_when
    return bool(row.values.get(name) == value)


def _delete(
    context: MergeContext,
    spec: TableSpec,
    op: PushOp,
    row: ServerRow,
    fields: dict[str, Any],
    base: dict[str, Any],
) -> OpResult:
    """Delete the row after merging the edits the delete's outbox op coalesced.

    A client that edits a row and then deletes it sends one delete op carrying
    those edits (with their bases); an older client sends a bare delete. The
    edits merge as an update's would, so they are never lost: on a live row into
    the tombstone, on a row already deleted as delete-versus-edit records, whose
    answer (``merged``) makes the client give the fields the server's values back.
    """
    if spec.never_deleted or _is_frozen(spec, row):
        raise OpRejected(Reason.APPEND_ONLY, field=op.table)
    if row.deleted:
        outcome = _Outcome()
        _keep_edits_of_deleted_row(context, spec, op, row, fields, base, outcome)
        if outcome.conflicts:
            return _deleted_row_result(op, row, outcome)
        return OpResult(op_id=op.op_id, status="applied", row_version=row.row_version, deleted=True)
    values = dict(row.values)
    outcome = _merge_fields(context, spec, op, row, values, fields, base)
    values["deleted_at"] = context.writer.now
    context.writer.stamp(values)
    row.values = values
    row.deleted = True
    changes = {**outcome.changes, "deleted": (False, True)}
    context.writer.record(row, "delete", changes, op_id=str(op.op_id))
    return outcome.result(op, row)


def _keep_edits_of_deleted_row(
    context: MergeContext,
    spec: TableSpec,
    op: PushOp,
    row: ServerRow,
    fields: dict[str, Any],
    base: dict[str, Any],
    outcome: _Outcome,
) -> None:
    """Delete wins; every field the edit would change is kept as a conflict record."""
    for name, new in fields.items():
        if name in SERVER_STAMPED_FIELDS or name == SCOPE_FIELD:
            continue
        current = row.values.get(name)
        if not same_value(spec.fields[name], current, new):
            outcome.conflicts.append(name)
            outcome.conflict_ids.append(
                _record_conflict(
                    context, row, op, name, ConflictKind.DELETE_EDIT, base, new, current
                )
            )


def _deleted_row_result(op: PushOp, row: ServerRow, outcome: _Outcome) -> OpResult:
    return OpResult(
        op_id=op.op_id,
        status="merged",
        row_version=row.row_version,
        deleted=True,
        conflicts=outcome.conflicts,
        conflict_ids=outcome.conflict_ids,
        reason=Reason.ROW_DELETED,
        message=reason_message(Reason.ROW_DELETED),
    )


def _update(
    context: MergeContext,
    spec: TableSpec,
    op: PushOp,
    row: ServerRow,
    fields: dict[str, Any],
    base: dict[str, Any],
    *,
    restore: bool,
) -> OpResult:
    restoring = row.deleted and restore
    if row.deleted and not restoring:
        outcome = _Outcome()
        _keep_edits_of_deleted_row(context, spec, op, row, fields, base, outcome)
        return _deleted_row_result(op, row, outcome)
    values = dict(row.values)
    outcome = _merge_fields(context, spec, op, row, values, fields, base)
    if outcome.changes or restoring:
        if restoring:
            row.deleted = False
            values["deleted_at"] = None
            outcome.changes["deleted"] = (True, False)
        context.writer.stamp(values)
        row.values = values
        context.writer.record(
            row, "restore" if restoring else "update", outcome.changes, op_id=str(op.op_id)
        )
    return _result(op, row, outcome)


def _merge_fields(
    context: MergeContext,
    spec: TableSpec,
    op: PushOp,
    row: ServerRow,
    values: dict[str, Any],
    fields: dict[str, Any],
    base: dict[str, Any],
) -> _Outcome:
    """Three-way merge of the op's fields into ``values`` (the row's, updated in place)."""
    caller = context.caller
    outcome = _Outcome()
    frozen = _is_frozen(spec, row)
    for name, new in fields.items():
        if name in SERVER_STAMPED_FIELDS:
            continue
        field_spec = spec.fields[name]
        current = values.get(name)
        if name == SCOPE_FIELD:
            if current != new:
                outcome.refuse(name, Reason.TERRITORY_IMMUTABLE)
            continue
        if same_value(field_spec, current, new):
            continue
        if name in spec.manager_only_fields and not caller.is_manager:
            outcome.refuse(name, Reason.MANAGER_ONLY)
            continue
        if frozen or name in spec.write_once_fields:
            outcome.refuse(name, Reason.APPEND_ONLY)
            outcome.conflict_ids.append(
                _record_conflict(
                    context, row, op, name, ConflictKind.APPEND_ONLY, base, new, current
                )
            )
            continue
        # Checked only when the reference changes: rows already held stay editable.
        refusal = _reference_refusal(context, spec, name, new, row.territory_id)
        if refusal is not None:
            outcome.refuse(name, refusal)
            continue
        if name in base and same_value(field_spec, current, base[name]):
            values[name] = new
            outcome.changes[name] = (current, new)
        elif (
            name in spec.keep_both_fields
            and isinstance(current, str)
            and isinstance(new, str)
            and current
            and new
        ):
            combined = keep_both(current, base.get(name), new, caller.display_name)
            values[name] = combined
            outcome.changes[name] = (current, combined)
            outcome.kept_both.append(name)
        else:
            outcome.conflicts.append(name)
            outcome.conflict_ids.append(
                _record_conflict(context, row, op, name, ConflictKind.FIELD, base, new, current)
            )
    return outcome


def _result(op: PushOp, row: ServerRow, outcome: _Outcome) -> OpResult:
    took_effect = bool(outcome.changes or outcome.conflicts or outcome.kept_both)
    if outcome.refused and not took_effect:
        first = outcome.refused[0]
        return OpResult(
            op_id=op.op_id,
            status="rejected",
            row_version=row.row_version,
            deleted=row.deleted,
            conflict_ids=outcome.conflict_ids,
            refused=outcome.refused,
            reason=first.reason,
            message=first.message,
            params=first.params,
        )
    return outcome.result(op, row)


def _record_conflict(
    context: MergeContext,
    row: ServerRow,
    op: PushOp,
    name: str,
    kind: ConflictKind,
    base: dict[str, Any],
    mine: Any,
    theirs: Any,
) -> str:
    """Keep one field's losing value as a conflict record in the row's stream."""
    conflict_id = str(
        uuid.uuid5(CONFLICT_NAMESPACE, f"{op.op_id}:{row.table_name}:{row.id}:{name}")
    )
    key = (CONFLICT_TABLE, conflict_id)
    if key in context.rows or context.session.get(ServerRow, key) is not None:
        return conflict_id
    values: dict[str, Any] = {
        "table_name": row.table_name,
        "row_id": row.id,
        "field": name,
        "kind": kind.value,
        "base_known": name in base,
        "base": base.get(name),
        "mine": mine,
        "theirs": theirs,
        "base_version": op.base_version,
        "author_user_id": context.caller.user_id,
        "device_id": context.caller.device_id,
        "op_id": str(op.op_id),
        "theirs_user_id": row.values.get("updated_by"),
        "status": ConflictStatus.OPEN.value,
        "resolution": None,
        "resolved_value": None,
        "resolved_by": None,
        "resolved_at": None,
        "created_at": None,
    }
    conflict = context.writer.insert(
        CONFLICT_TABLE, conflict_id, row.territory_id, values, op_id=str(op.op_id)
    )
    context.rows[key] = conflict
    return conflict_id


def _resolve_conflict_record(
    context: MergeContext,
    spec: TableSpec,
    op: PushOp,
    row: ServerRow,
    fields: dict[str, Any],
    base: dict[str, Any],
) -> OpResult:
    """A client resolving (or reopening) a conflict record: only its resolution fields."""
    if op.kind == "delete":
        raise OpRejected(Reason.READ_ONLY_TABLE, table=op.table)
    writable = spec.client_writable_fields or frozenset()
    values = dict(row.values)
    outcome = _Outcome()
    for name, new in fields.items():
        if name in SERVER_STAMPED_FIELDS:
            continue
        current = values.get(name)
        field_spec = spec.fields[name]
        if same_value(field_spec, current, new):
            continue
        if name not in writable:
            outcome.refuse(name, Reason.READ_ONLY_FIELD)
            continue
        if name in base and not same_value(field_spec, current, base[name]):
            # Someone else resolved it differently meanwhile: theirs stands.
            outcome.refuse(name, Reason.CONFLICT)
            continue
        values[name] = new
        outcome.changes[name] = (current, new)
    if outcome.changes:
        stamp_resolution(values, outcome.changes, context.caller.user_id, context.writer.now)
        context.writer.stamp(values)
        row.values = values
        context.writer.record(row, "update", outcome.changes, op_id=str(op.op_id))
    return _result(op, row, outcome)


def stamp_resolution(
    values: dict[str, Any], changes: dict[str, tuple[Any, Any]], user_id: str, now: str
) -> None:
    """Who resolved a conflict and when; reopening clears the resolution."""
    status = values.get("status")
    if status == ConflictStatus.RESOLVED.value:
        for name, new in (("resolved_by", user_id), ("resolved_at", now)):
            changes[name] = (values.get(name), new)
            values[name] = new
    elif status == ConflictStatus.OPEN.value:
        for name in ("resolution", "resolved_value", "resolved_by", "resolved_at"):
            if values.get(name) is not None:
                changes[name] = (values.get(name), None)
                values[name] = None
