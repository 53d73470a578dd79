"""Outbox capture by triggers: one op per row, coalescing, frozen batches, raw SQL."""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, text

from fieldrep.storage.enums import AbcClass, Role
from fieldrep.storage.models import Base, Dealer
from fieldrep.storage.services import core
from fieldrep.storage.services.core import Store
from fieldrep.sync import capture


def outbox(engine: Engine) -> list[dict[str, Any]]:
    with engine.connect() as connection:
        rows = connection.execute(text("SELECT * FROM outbox ORDER BY seq")).mappings().all()
    result = []
    for row in rows:
        item = dict(row)
        item["fields"] = json.loads(item["fields"])
        item["base"] = json.loads(item["base"])
        result.append(item)
    return result


def new_dealer(store: Store, **values: Any) -> str:
    record = core.create(store, Dealer, {"name": "杭州恒达", "abc_class": AbcClass.B, **values})
    return record.id


def test_insert_records_one_created_upsert_with_every_value(store: Store, engine: Engine) -> None:
    dealer_id = new_dealer(store, city="杭州", phone="", registered_capital=Decimal("1000.50"))

    [op] = outbox(engine)
    assert op["table_name"] == "dealer" and op["row_id"] == dealer_id
    assert op["kind"] == "upsert" and op["created"] == 1
    assert op["base"] == {} and op["base_version"] == 0
    assert op["fields"]["name"] == "杭州恒达"
    assert op["fields"]["phone"] == ""  # empty text is not NULL
    assert op["fields"]["fax"] is None
    assert op["fields"]["registered_capital"] == "1000.50"  # exact decimal text
    assert "id" not in op["fields"] and "row_version" not in op["fields"]


def test_edits_of_one_row_coalesce_first_base_last_value(store: Store, engine: Engine) -> None:
    dealer_id = new_dealer(store, city="杭州")
    with engine.begin() as connection:  # as if the insert had been pushed and acknowledged
        connection.exec_driver_sql("DELETE FROM outbox")
        connection.exec_driver_sql("UPDATE dealer SET row_version = 7")

    core.update(store, Dealer, dealer_id, {"city": "宁波"})
    core.update(store, Dealer, dealer_id, {"city": None, "phone": "0571-87654321"})
    manager = Store(engine, dataclasses.replace(store.user, role=Role.MANAGER))
    core.update(manager, Dealer, dealer_id, {"abc_class": AbcClass.A})  # the class is theirs

    [op] = outbox(engine)
    assert op["kind"] == "upsert" and op["created"] == 0
    assert op["base_version"] == 7
    assert op["fields"] == {"city": None, "phone": "0571-87654321", "abc_class": "A"}
    assert op["base"] == {"city": "杭州", "phone": None, "abc_class": "B"}


def test_edits_to_a_new_row_stay_one_created_op_without_base(store: Store, engine: Engine) -> None:
    dealer_id = new_dealer(store)
    core.update(store, Dealer, dealer_id, {"city": "温州"})
    [op] = outbox(engine)
    assert op["created"] == 1 and op["base"] == {}
    assert op["fields"]["city"] == "温州" and op["fields"]["name"] == "杭州恒达"


def test_frozen_op_is_never_coalesced_into(store: Store, engine: Engine) -> None:
    dealer_id = new_dealer(store, city="杭州")
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE outbox SET batch_id = 'batch-1'")
    frozen_before = outbox(engine)[0]

    core.update(store, Dealer, dealer_id, {"city": "宁波"})

    frozen, new = outbox(engine)
    assert frozen == frozen_before
    assert new["batch_id"] is None and new["created"] == 0
    assert new["fields"] == {"city": "宁波"} and new["base"] == {"city": "杭州"}


def test_tombstone_turns_the_op_into_a_delete(store: Store, engine: Engine) -> None:
    dealer_id = new_dealer(store)
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM outbox")
    core.update(store, Dealer, dealer_id, {"city": "宁波"})
    core.delete(store, Dealer, dealer_id)
    [op] = outbox(engine)
    assert op["kind"] == "delete"
    assert op["fields"]["city"] == "宁波" and op["fields"]["deleted"] == 1


def test_raw_sql_is_captured_too(store: Store, engine: Engine) -> None:
    dealer_id = new_dealer(store)
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM outbox")
        connection.execute(
            text("UPDATE dealer SET short_name = '恒达' WHERE id = :i"), {"i": dealer_id}
        )
    [op] = outbox(engine)
    assert op["fields"] == {"short_name": "恒达"} and op["base"] == {"short_name": None}


def test_hard_delete_is_captured_as_delete(store: Store, engine: Engine) -> None:
    dealer_id = new_dealer(store)
    with engine.begin() as connection:
        connection.exec_driver_sql("UPDATE outbox SET batch_id = 'b'")
        connection.execute(text("DELETE FROM dealer WHERE id = :i"), {"i": dealer_id})
    ops = outbox(engine)
    assert [op["kind"] for op in ops] == ["upsert", "delete"]


def test_only_timestamps_changed_makes_no_op(store: Store, engine: Engine) -> None:
    dealer_id = new_dealer(store)
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM outbox")
        connection.execute(
            text("UPDATE dealer SET updated_at = 'x', updated_by = 'y' WHERE id = :i"),
            {"i": dealer_id},
        )
    assert outbox(engine) == []


def test_a_refused_write_leaves_no_op(store: Store, engine: Engine) -> None:
    with pytest.raises(RuntimeError), store.write() as session:
        session.add(Dealer(name="x", abc_class=AbcClass.B, territory_id="t"))
        session.flush()
        raise RuntimeError("abort")
    assert outbox(engine) == []


def test_capture_switched_off_inside_a_transaction(store: Store, engine: Engine) -> None:
    dealer_id = new_dealer(store)
    with engine.begin() as connection:
        connection.exec_driver_sql("DELETE FROM outbox")
        capture.set_capture(connection, False)
        connection.execute(text("UPDATE dealer SET city = 'x' WHERE id = :i"), {"i": dealer_id})
        capture.set_capture(connection, True)
        connection.execute(text("UPDATE dealer SET city = 'y' WHERE id = :i"), {"i": dealer_id})
    [op] = outbox(engine)
    assert op["fields"] == {"city": "y"} and op["base"] == {"city": "x"}


def test_a_failed_apply_restores_capture(engine: Engine) -> None:
    with pytest.raises(RuntimeError), engine.begin() as connection:
        capture.set_capture(connection, False)
        raise RuntimeError("crash mid-apply")
    with engine.connect() as connection:
        assert connection.exec_driver_sql("SELECT enabled FROM _fr_capture").scalar_one() == 1


def test_triggers_cover_every_synced_column_of_the_models(engine: Engine) -> None:
    """A model change without a migration that recreates the triggers fails here."""
    with engine.connect() as connection:
        captured = capture.captured_columns(connection)
    expected = {
        table.name: sorted(c.name for c in table.columns if c.name not in ("id", "row_version"))
        for table in Base.metadata.sorted_tables
        if table.name in capture.synced_tables()
    }
    assert {name: sorted(columns) for name, columns in captured.items()} == expected


def test_trigger_names_stay_in_their_own_namespace(engine: Engine) -> None:
    with engine.connect() as connection:
        names = connection.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'trigger' AND sql LIKE '%outbox%'"
        ).scalars()
        assert all(name.startswith("sync_capture_") for name in names)
