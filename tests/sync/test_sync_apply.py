"""Applying pulled rows: no echo into the outbox, pending fields kept, values exact."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, text
from synctest import REP, TERRITORY, model_defaults

from fieldrep.storage.enums import AbcClass
from fieldrep.storage.models import Dealer
from fieldrep.storage.services import core
from fieldrep.storage.services.core import Store
from fieldrep.sync import local
from fieldrep.sync.apply import RowChange, apply_rows
from fieldrep.sync.values import to_local, to_wire

OTHER = "0190a000-0000-7000-8000-0000000000b2"
DEALER = "0190a000-0000-7000-8000-00000000d001"


def server_row(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = {
        **model_defaults("dealer"),
        "territory_id": TERRITORY,
        "name": "杭州恒达",
        "abc_class": "B",
        "deleted": False,
        "is_key_account": False,
        "is_benchmark": False,
        "lifecycle_status": "cooperating",
        "status": "active",
        "created_at": "2026-01-01T00:00:00.000000Z",
        "updated_at": "2026-01-01T00:00:00.000000Z",
        "updated_by": OTHER,
    }
    row.update(values)
    return row


def apply(engine: Engine, *changes: RowChange, own_user: str = REP) -> None:
    with engine.begin() as connection:
        apply_rows(connection, changes, sync_run="run-1", own_user=own_user)


def dealer(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        row = connection.execute(text("SELECT * FROM dealer WHERE id = :i"), {"i": DEALER})
        return dict(row.mappings().one())


def count_outbox(engine: Engine) -> int:
    with engine.connect() as connection:
        return local.pending_count(connection)


def test_pulled_row_is_inserted_without_an_outbox_entry(engine: Engine) -> None:
    apply(engine, RowChange("dealer", DEALER, 3, server_row(), OTHER))
    assert dealer(engine)["row_version"] == 3
    assert dealer(engine)["name"] == "杭州恒达"
    assert count_outbox(engine) == 0


def test_pending_field_is_not_overwritten_but_others_are(store: Store, engine: Engine) -> None:
    apply(engine, RowChange("dealer", DEALER, 3, server_row(city="杭州"), OTHER))
    core.update(store, Dealer, DEALER, {"city": "宁波"})

    apply(
        engine,
        RowChange("dealer", DEALER, 4, server_row(city="温州", abc_class="A"), OTHER),
    )
    row = dealer(engine)
    assert row["city"] == "宁波"  # the rep's pending edit stays
    assert row["abc_class"] == "A"  # the other field follows the server
    assert row["row_version"] == 4  # new base
    with engine.connect() as connection:
        [op] = local.all_ops(connection)
    assert op.fields == {"city": "宁波"} and op.base == {"city": "杭州"}


def test_frozen_pending_field_is_kept_too(store: Store, engine: Engine) -> None:
    apply(engine, RowChange("dealer", DEALER, 3, server_row(city="杭州"), OTHER))
    core.update(store, Dealer, DEALER, {"city": "宁波"})
    with engine.begin() as connection:
        assert local.freeze_batch(connection, 100) is not None
    apply(engine, RowChange("dealer", DEALER, 4, server_row(city="温州"), OTHER))
    assert dealer(engine)["city"] == "宁波"


def test_own_change_coming_back_is_quiet(engine: Engine) -> None:
    apply(engine, RowChange("dealer", DEALER, 3, server_row(city="杭州"), REP))
    apply(engine, RowChange("dealer", DEALER, 4, server_row(city="杭州"), REP))
    assert count_outbox(engine) == 0
    with engine.connect() as connection:
        digest = connection.exec_driver_sql("SELECT count(*) FROM sync_change_digest").scalar()
    assert digest == 0


def test_changes_by_others_are_recorded_for_the_digest(engine: Engine) -> None:
    apply(engine, RowChange("dealer", DEALER, 3, server_row(), OTHER))
    apply(engine, RowChange("dealer", DEALER, 4, server_row(abc_class="A"), OTHER))
    with engine.connect() as connection:
        rows = connection.exec_driver_sql(
            "SELECT field, old, new, by_user, created FROM sync_change_digest ORDER BY seq"
        ).all()
    assert [tuple(row) for row in rows] == [
        (None, None, None, OTHER, 1),
        ("abc_class", "B", "A", OTHER, 0),
    ]


def test_values_round_trip_exactly(store: Store, engine: Engine) -> None:
    record = core.create(
        store,
        Dealer,
        {
            "name": "𠀀 Ünïcödé 恒达",
            "abc_class": AbcClass.B,
            "registered_capital": Decimal("1000.50"),
            "floor_area": Decimal("0.000"),
            "phone": "",
            "fax": None,
            "is_key_account": True,
            "outlet_count": 0,
        },
    )
    with engine.connect() as connection:
        [op] = local.all_ops(connection)
    wire = {name: to_wire("dealer", name, value) for name, value in op.fields.items()}
    # What crosses the wire is JSON, and comes back identical.
    wire = json.loads(json.dumps(wire))
    assert wire["registered_capital"] == "1000.50" and wire["floor_area"] == "0.000"
    assert wire["phone"] == "" and wire["fax"] is None
    assert wire["is_key_account"] is True and wire["outlet_count"] == 0

    other_id = "0190a000-0000-7000-8000-00000000d0ff"
    apply(engine, RowChange("dealer", other_id, 1, wire, OTHER))
    copy = core.fetch(store, Dealer, other_id)
    for name in ("name", "registered_capital", "floor_area", "phone", "fax", "is_key_account"):
        assert copy[name] == record[name], name
    assert str(copy["floor_area"]) == "0.000"
    assert to_local("dealer", "is_key_account", False) == 0
    assert to_local("dealer", "phone", None) is None


def test_pulled_dealers_get_the_local_name_sort_key_and_no_outbox_op(engine: Engine) -> None:
    apply(engine, RowChange("dealer", DEALER, 3, server_row(name="重庆恒达"), OTHER))
    assert dealer(engine)["name_sort"] == "chong qing heng da\x01重庆恒达"
    apply(engine, RowChange("dealer", DEALER, 4, {"name": "杭州恒达"}, OTHER))
    assert dealer(engine)["name_sort"] == "hang zhou heng da\x01杭州恒达"
    assert count_outbox(engine) == 0
