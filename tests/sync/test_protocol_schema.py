"""The protocol's table declarations must match the client's SQLAlchemy models exactly.

fieldrep.server cannot import fieldrep.storage, so fieldrep.sync.protocol repeats
the synced schema as data; this test is what keeps the two from drifting apart.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Boolean, Date, Integer, String, Text, Time
from sqlalchemy.sql.schema import Column

from fieldrep.storage.models import Base, SyncedBase
from fieldrep.storage.types import DecimalText, EnumCode, JsonList, UtcDateTime
from fieldrep.sync import protocol
from fieldrep.sync.protocol import TABLES, FieldSpec, WireType


def _model_tables() -> dict[str, Any]:
    found: dict[str, Any] = {}
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        if issubclass(cls, SyncedBase):
            found[cls.__tablename__] = cls.__table__
    return found


def _expected_wire_type(column: Column[Any]) -> WireType:
    column_type = column.type
    if isinstance(column_type, EnumCode):
        return WireType.CODE
    if isinstance(column_type, DecimalText):
        return WireType.DECIMAL
    if isinstance(column_type, UtcDateTime):
        return WireType.DATETIME
    if isinstance(column_type, JsonList):
        return WireType.JSON_LIST
    if isinstance(column_type, Boolean):
        return WireType.BOOL
    if isinstance(column_type, Integer):
        return WireType.INT
    if isinstance(column_type, Date):
        return WireType.DATE
    if isinstance(column_type, Time):
        return WireType.TIME
    if isinstance(column_type, Text):
        return WireType.TEXT
    if isinstance(column_type, String):
        return WireType.STRING
    raise AssertionError(f"no wire type for {column!r}")


def test_every_synced_model_is_declared_and_nothing_else() -> None:
    assert set(_model_tables()) == set(protocol.MODEL_TABLES)


@pytest.mark.parametrize("table_name", sorted(_model_tables()))
def test_fields_types_and_nullability_match_the_model(table_name: str) -> None:
    table = _model_tables()[table_name]
    spec = TABLES[table_name]
    columns = {c.name: c for c in table.columns if c.name not in protocol.ROW_META_FIELDS}
    assert set(spec.fields) == set(columns), table_name
    for name, column in columns.items():
        declared = spec.fields[name]
        assert declared.wire_type is _expected_wire_type(column), f"{table_name}.{name}"
        assert declared.required == (not column.nullable), f"{table_name}.{name} nullability"
        if isinstance(column.type, EnumCode):
            codes = tuple(member.code for member in column.type.enum_class)
            assert declared.choices == codes, f"{table_name}.{name} codes"
        else:
            assert declared.choices == (), f"{table_name}.{name} has codes but is no enum"


def test_snapshot_order_puts_parents_before_children() -> None:
    position = {name: index for index, name in enumerate(protocol.TABLE_ORDER)}
    for table_name, table in _model_tables().items():
        for foreign_key in table.foreign_keys:
            parent = foreign_key.column.table.name
            if parent != table_name:
                assert position[parent] < position[table_name], (parent, table_name)


@pytest.mark.parametrize("table_name", sorted(_model_tables()))
def test_references_are_exactly_the_models_foreign_keys(table_name: str) -> None:
    table = _model_tables()[table_name]
    foreign_keys = {
        column.name: foreign_key.column.table.name
        for column in table.columns
        for foreign_key in column.foreign_keys
    }
    assert dict(TABLES[table_name].references) == foreign_keys


def test_policies_name_existing_fields_and_tables() -> None:
    for policy in (
        protocol.MANAGER_ONLY_FIELDS,
        protocol.KEEP_BOTH_FIELDS,
        protocol.WRITE_ONCE_FIELDS,
    ):
        for table_name, field_names in policy.items():
            assert field_names <= set(TABLES[table_name].fields), table_name
    for table_name, (field_name, value) in protocol.FROZEN_WHEN.items():
        assert value in TABLES[table_name].fields[field_name].choices
    for table_names in (
        protocol.MANAGER_ONLY_TABLES,
        protocol.SERVER_MANAGED_TABLES,
        protocol.NEVER_DELETED_TABLES,
    ):
        assert table_names <= set(protocol.MODEL_TABLES)
    for table_name, field_names in protocol.KEEP_BOTH_FIELDS.items():
        for field_name in field_names:
            assert TABLES[table_name].fields[field_name].wire_type is WireType.TEXT


@pytest.mark.parametrize(
    ("wire_type", "python_value", "wire_value"),
    [
        (WireType.DECIMAL, Decimal("1234.50"), "1234.50"),
        (WireType.DECIMAL, Decimal("-0.001"), "-0.001"),
        (WireType.DATE, date(2026, 2, 28), "2026-02-28"),
        (WireType.TIME, time(9, 30), "09:30:00"),
        (
            WireType.DATETIME,
            datetime(2026, 11, 25, 8, 1, 2, 345, tzinfo=UTC),
            "2026-11-25T08:01:02.000345Z",
        ),
        (WireType.JSON_LIST, ["名单", ""], ["名单", ""]),
        (WireType.TEXT, "", ""),
        (WireType.TEXT, "杭州恒达 🏭", "杭州恒达 🏭"),
    ],
)
def test_values_round_trip_losslessly(
    wire_type: WireType, python_value: Any, wire_value: Any
) -> None:
    assert protocol.to_wire(wire_type, python_value) == wire_value
    back = protocol.from_wire(wire_type, wire_value)
    assert back == python_value
    assert type(back) is type(python_value)
    spec = FieldSpec("x", wire_type)
    assert protocol.normalise_value(spec, wire_value) == wire_value


@pytest.mark.parametrize(
    ("spec", "value"),
    [
        (FieldSpec("x", WireType.INT), True),
        (FieldSpec("x", WireType.INT), "1"),
        (FieldSpec("x", WireType.BOOL), 1),
        (FieldSpec("x", WireType.DECIMAL), 1.5),
        (FieldSpec("x", WireType.DECIMAL), "NaN"),
        (FieldSpec("x", WireType.DECIMAL), "abc"),
        (FieldSpec("x", WireType.DATE), "2026-02-30"),
        (FieldSpec("x", WireType.DATETIME), "2026-02-01T10:00:00"),
        (FieldSpec("x", WireType.CODE, choices=("A", "B")), "D"),
        (FieldSpec("x", WireType.TEXT, required=True), None),
        (FieldSpec("x", WireType.JSON_LIST), ["a", 1]),
    ],
)
def test_bad_wire_values_are_refused(spec: FieldSpec, value: Any) -> None:
    with pytest.raises(protocol.WireValueError):
        protocol.normalise_value(spec, value)


def test_datetimes_with_offsets_become_utc_and_decimals_compare_by_value() -> None:
    spec = FieldSpec("x", WireType.DATETIME)
    assert protocol.normalise_value(spec, "2026-11-25T16:00:00+08:00") == (
        "2026-11-25T08:00:00.000000Z"
    )
    money = FieldSpec("m", WireType.DECIMAL)
    assert protocol.same_value(money, "1.50", "1.5")
    assert not protocol.same_value(money, "1.50", None)
    assert not protocol.same_value(FieldSpec("t", WireType.TEXT), "", None)


def test_keep_both_appends_only_the_new_part_after_a_common_base() -> None:
    merged = protocol.keep_both(
        "首次拜访。\n老板在。", "首次拜访。", "首次拜访。\n老板不在。", "李雷"
    )
    assert (
        merged
        == "首次拜访。\n老板在。" + protocol.KEEP_BOTH_MARKER.format(who="李雷") + "老板不在。"
    )
    unrelated = protocol.keep_both("甲", "乙", "丙", "韩梅梅")
    assert unrelated == "甲" + protocol.KEEP_BOTH_MARKER.format(who="韩梅梅") + "丙"


def test_every_reason_has_a_message() -> None:
    assert set(protocol.REASON_MESSAGES) == set(protocol.Reason)
    assert "dealer" in protocol.reason_message(protocol.Reason.UNKNOWN_TABLE, table="dealer")
