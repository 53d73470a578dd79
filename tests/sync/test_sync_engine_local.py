"""Engine pieces that need no server: push op building, push answers, the profile lock."""

from __future__ import annotations

import json
import uuid
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from synctest import OTHER, REP, TERRITORY, model_defaults

from fieldrep.storage.enums import AbcClass
from fieldrep.storage.models import Dealer
from fieldrep.storage.services import core
from fieldrep.storage.services.core import Store
from fieldrep.sync import local
from fieldrep.sync.engine import (
    SyncBusy,
    SyncEngine,
    SyncSummary,
    _apply_page,
    sync_lock,
    to_push_ops,
)
from fieldrep.sync.protocol import Change, OpResult

DEALER = "0190a000-0000-7000-8000-00000000d001"


def seed(engine: Engine, version: int = 5, **values: Any) -> None:
    """Pull one dealer row as the server would send it (log mode)."""
    row = {**model_defaults("dealer"), "territory_id": TERRITORY, "name": "杭州恒达"}
    row.update({"abc_class": "B", "created_at": "2026-01-01T00:00:00.000000Z"})
    row.update({"updated_at": "2026-01-01T00:00:00.000000Z", "updated_by": OTHER, **values})
    row.pop("deleted", None)
    change = Change(
        stream=TERRITORY,
        change_no=version,
        table="dealer",
        row_id=DEALER,
        row_version=version,
        deleted=False,
        values=row,
    )
    with engine.begin() as connection:
        _apply_page(connection, [change], "seed", REP)


def ops(engine: Engine) -> list[local.OutboxOp]:
    with engine.connect() as connection:
        return local.all_ops(connection)


def test_created_op_becomes_one_insert_with_scope(store: Store, engine: Engine) -> None:
    record = core.create(store, Dealer, {"name": "恒达", "abc_class": AbcClass.B, "phone": ""})
    [op] = ops(engine)
    [push] = to_push_ops(op)
    assert push.kind == "upsert" and push.base == {} and push.base_version == 0
    assert push.fields["territory_id"] == TERRITORY
    assert push.fields["phone"] == "" and push.fields["is_key_account"] is False
    assert "deleted" not in push.fields and "updated_by" not in push.fields
    assert "created_at" in push.fields
    assert str(push.row_id) == record.id


def test_update_op_sends_changed_fields_with_their_base(store: Store, engine: Engine) -> None:
    seed(engine, city="杭州")
    core.update(store, Dealer, DEALER, {"city": "宁波"})
    [push] = to_push_ops(ops(engine)[0])
    assert (push.kind, push.fields, push.base, push.base_version) == (
        "upsert",
        {"city": "宁波"},
        {"city": "杭州"},
        5,
    )


def test_delete_and_restore_ops(store: Store, engine: Engine) -> None:
    seed(engine)
    core.delete(store, Dealer, DEALER)
    [push] = to_push_ops(ops(engine)[0])
    assert push.kind == "delete" and push.base_version == 5
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM outbox")
        connection.exec_driver_sql("UPDATE dealer SET deleted = 0, deleted_at = NULL")
    [push] = to_push_ops(ops(engine)[0])
    assert push.kind == "restore"


def test_created_then_deleted_sends_create_then_delete_with_stable_ids(
    store: Store, engine: Engine
) -> None:
    record = core.create(store, Dealer, {"name": "恒达", "abc_class": AbcClass.B})
    core.delete(store, Dealer, record.id)
    [op] = ops(engine)
    first = to_push_ops(op)
    assert [push.kind for push in first] == ["upsert", "delete"]
    assert [push.op_id for push in first] == [push.op_id for push in to_push_ops(op)]


def freeze(engine: Engine) -> tuple[str, list[local.OutboxOp]]:
    with engine.begin() as connection:
        batch = local.freeze_batch(connection, 100)
    assert batch is not None
    return batch


def record(
    engine: Engine, batch: tuple[str, list[local.OutboxOp]], results: list[OpResult]
) -> SyncSummary:
    summary = SyncSummary()
    sync = SyncEngine(Path("unused.db"), engine=engine)
    sync._record_push(batch[0], batch[1], results, summary)
    return summary


def dealer_city(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return connection.execute(
            text("SELECT city FROM dealer WHERE id = :i"), {"i": DEALER}
        ).scalar()


def test_applied_op_leaves_the_outbox(store: Store, engine: Engine) -> None:
    seed(engine, city="杭州")
    core.update(store, Dealer, DEALER, {"city": "宁波"})
    batch = freeze(engine)
    op_id = uuid.UUID(batch[1][0].op_id)
    summary = record(engine, batch, [OpResult(op_id=op_id, status="applied", row_version=6)])
    assert summary.pushed == 1 and ops(engine) == []
    assert dealer_city(engine) == "宁波"


def test_conflicting_field_takes_the_newest_server_value_seen(store: Store, engine: Engine) -> None:
    seed(engine, city="杭州")
    core.update(store, Dealer, DEALER, {"city": "宁波"})
    # A pull while the edit is pending keeps the rep's value but remembers the server's.
    seed(engine, 6, city="温州")
    assert dealer_city(engine) == "宁波"
    batch = freeze(engine)
    op_id = uuid.UUID(batch[1][0].op_id)
    summary = record(
        engine, batch, [OpResult(op_id=op_id, status="merged", row_version=6, conflicts=["city"])]
    )
    assert summary.merged == 1 and summary.conflicts == 1
    assert dealer_city(engine) == "温州"  # what the server kept; the rep's value is in the conflict
    assert ops(engine) == []


def test_rejected_op_stays_visible_and_the_row_goes_back(store: Store, engine: Engine) -> None:
    seed(engine, city="杭州")
    core.update(store, Dealer, DEALER, {"city": "宁波"})
    batch = freeze(engine)
    op_id = uuid.UUID(batch[1][0].op_id)
    summary = record(
        engine,
        batch,
        [OpResult(op_id=op_id, status="rejected", reason="out_of_scope", message="no")],
    )
    [op] = ops(engine)
    assert op.state == "rejected" and op.reason
    assert summary.rejected and summary.rejected[0].row_id == DEALER
    assert dealer_city(engine) == "杭州"
    with engine.connect() as connection:
        assert local.pending_count(connection) == 0


def test_edit_during_push_survives_a_conflict_answer(store: Store, engine: Engine) -> None:
    seed(engine, city="杭州")
    core.update(store, Dealer, DEALER, {"city": "宁波"})
    batch = freeze(engine)
    core.update(store, Dealer, DEALER, {"city": "温州"})  # while the batch is in flight
    op_id = uuid.UUID(batch[1][0].op_id)
    record(engine, batch, [OpResult(op_id=op_id, status="merged", conflicts=["city"])])
    assert dealer_city(engine) == "温州"
    [op] = ops(engine)
    assert op.fields == {"city": "温州"} and op.batch_id is None


def test_unanswered_op_stays_frozen_in_a_batch_of_its_own(store: Store, engine: Engine) -> None:
    seed(engine, city="杭州")
    core.update(store, Dealer, DEALER, {"city": "宁波"})
    batch = freeze(engine)
    core.update(store, Dealer, DEALER, {"address": "edited meanwhile"})  # a new open op
    record(engine, batch, [])
    frozen, open_op = ops(engine)
    assert frozen.batch_id not in (None, batch[0]) and frozen.state == "pending"
    assert frozen.fields == {"city": "宁波"}  # never coalesced into
    assert open_op.batch_id is None and open_op.fields == {"address": "edited meanwhile"}
    with engine.connect() as connection:
        resend = local.frozen_batch(connection)
    assert resend is not None and [op.op_id for op in resend[1]] == [frozen.op_id]


def test_only_one_sync_per_profile(tmp_path: Path) -> None:
    db = tmp_path / "fieldrep.db"
    with sync_lock(db), pytest.raises(SyncBusy), sync_lock(db):
        pass
    with sync_lock(db):  # released again
        pass


def test_export_of_the_outbox(store: Store, engine: Engine, tmp_path: Path) -> None:
    from fieldrep.sync import api

    core.create(store, Dealer, {"name": "恒达", "abc_class": AbcClass.B})
    path = tmp_path / "outbox.json"
    assert api.export_outbox(engine, path) == 1
    document = json.loads(path.read_text(encoding="utf-8"))
    assert document["ops"][0]["fields"]["name"] == "恒达"
    assert REP  # the exporting user is whoever is signed in


def test_the_export_words_a_refusal_as_the_refused_list_does(
    store: Store, engine: Engine, tmp_path: Path
) -> None:
    """Support reads the export: the reason in words, as the rep saw it, not its JSON."""
    from fieldrep.i18n import language
    from fieldrep.sync import api
    from fieldrep.sync.protocol import Reason
    from fieldrep.sync.refusals import Refusal

    core.create(store, Dealer, {"name": "恒达", "abc_class": AbcClass.A})
    [op] = ops(engine)
    refusal = Refusal(Reason.MANAGER_ONLY.value, (("field", "abc_class"),), "server words")
    with engine.begin() as connection:
        local.reject(connection, op.op_id, refusal.stored())
    path = tmp_path / "outbox.json"
    for code, expected in (
        ("en", "Visit class: only a manager can change this."),
        ("zh_CN", None),
    ):
        with language(code):
            assert api.export_outbox(engine, path) == 1
            [exported] = json.loads(path.read_text(encoding="utf-8"))["ops"]
            [listed] = api.list_rejected(engine)
            assert exported["reason"] == listed.reason
            assert exported["reason_code"] == "manager_only"
        assert "{" not in exported["reason"] and "abc_class" not in exported["reason"]
        if expected is not None:
            assert exported["reason"] == expected
