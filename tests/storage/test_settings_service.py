"""Per-territory settings: defaults, validation with named reasons, one row per key."""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from fieldrep.storage.enums import Role
from fieldrep.storage.errors import ValidationError
from fieldrep.storage.models import TerritorySetting
from fieldrep.storage.services.core import Store, UserContext
from fieldrep.storage.services.settings_service import (
    check_value,
    get_setting,
    set_setting,
    territory_settings,
)
from fieldrep.storage.settings import (
    ALL_SETTINGS,
    C_INTERVAL_DAYS,
    CREDIT_HIGH_RISK_BELOW,
    VISITS_PER_MONTH_A,
)

NORTH = "0190a000-0000-7000-8000-00000000b001"
SOUTH = "0190a000-0000-7000-8000-00000000b002"


@pytest.fixture
def north(engine: Engine) -> Store:
    return Store(engine, UserContext("0190a000-0000-7000-8000-0000000000c1", NORTH, Role.REP))


def read(store: Store, territory: str, setting: Any) -> Any:
    with store.read() as session:
        return get_setting(session, territory, setting)


def setting_rows(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.scalar(select(func.count()).select_from(TerritorySetting)) or 0)


def test_unset_setting_reads_its_default(north: Store) -> None:
    assert read(north, NORTH, VISITS_PER_MONTH_A) == 2
    assert read(north, NORTH, C_INTERVAL_DAYS) == 60
    assert read(north, NORTH, CREDIT_HIGH_RISK_BELOW) == Decimal("2.5")


def test_set_setting_is_per_territory(north: Store, engine: Engine) -> None:
    assert set_setting(north, VISITS_PER_MONTH_A, "3") == 3
    assert read(north, NORTH, VISITS_PER_MONTH_A) == 3
    assert read(north, SOUTH, VISITS_PER_MONTH_A) == 2
    set_setting(north, VISITS_PER_MONTH_A, 4, territory_id=SOUTH)
    set_setting(north, VISITS_PER_MONTH_A, 5)  # second write updates the same row
    assert read(north, NORTH, VISITS_PER_MONTH_A) == 5
    assert read(north, SOUTH, VISITS_PER_MONTH_A) == 4
    assert setting_rows(engine) == 2


def test_decimal_setting_keeps_exact_text(north: Store, engine: Engine) -> None:
    assert set_setting(north, CREDIT_HIGH_RISK_BELOW, "2.75") == Decimal("2.75")
    with Session(engine) as session:
        assert session.scalar(select(TerritorySetting.value)) == "2.75"
    assert read(north, NORTH, CREDIT_HIGH_RISK_BELOW) == Decimal("2.75")


@pytest.mark.parametrize(
    ("setting", "value", "reason"),
    [
        (VISITS_PER_MONTH_A, "abc", "must be a number"),
        (VISITS_PER_MONTH_A, "", "must be a number"),
        (VISITS_PER_MONTH_A, "2.5", "must be a whole number"),
        (VISITS_PER_MONTH_A, True, "must be a number"),
        (VISITS_PER_MONTH_A, -1, "must be at least 0"),
        (VISITS_PER_MONTH_A, 32, "must be at most 31"),
        (C_INTERVAL_DAYS, 0, "must be at least 1"),
        (CREDIT_HIGH_RISK_BELOW, "two", "must be a number"),
        (CREDIT_HIGH_RISK_BELOW, "NaN", "must be a number"),
    ],
)
def test_bad_value_is_refused_with_title_and_reason(
    north: Store, engine: Engine, setting: Any, value: Any, reason: str
) -> None:
    with pytest.raises(ValidationError) as caught:
        set_setting(north, setting, value)
    assert caught.value.fields == [setting.key]
    message = caught.value.message("en")
    assert message == f"{setting.title}: {reason}"
    assert setting_rows(engine) == 0


def test_message_is_translatable_to_chinese(north: Store) -> None:
    with pytest.raises(ValidationError) as caught:
        set_setting(north, VISITS_PER_MONTH_A, 99)
    # The separator is the Chinese one whatever the catalogue holds.
    assert "：" in caught.value.message("zh_CN")


def test_check_value_accepts_typed_and_text_values() -> None:
    assert check_value(VISITS_PER_MONTH_A, " 7 ") == 7
    assert check_value(VISITS_PER_MONTH_A, Decimal("3")) == 3
    assert check_value(CREDIT_HIGH_RISK_BELOW, Decimal("1.5")) == Decimal("1.5")
    assert check_value(CREDIT_HIGH_RISK_BELOW, 3) == Decimal(3)


def test_tombstoned_setting_comes_back_when_set_again(north: Store, engine: Engine) -> None:
    set_setting(north, VISITS_PER_MONTH_A, 3)
    with Session(engine) as session, session.begin():
        row = session.scalars(select(TerritorySetting)).one()
        row.deleted = True
    assert read(north, NORTH, VISITS_PER_MONTH_A) == 2
    set_setting(north, VISITS_PER_MONTH_A, 4)
    assert read(north, NORTH, VISITS_PER_MONTH_A) == 4
    assert setting_rows(engine) == 1


def test_unusable_stored_value_reads_default_and_logs(
    north: Store, engine: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    set_setting(north, VISITS_PER_MONTH_A, 3)
    with Session(engine) as session, session.begin():
        session.scalars(select(TerritorySetting)).one().value = "lots"
    with caplog.at_level(logging.WARNING, logger="fieldrep.storage"):
        assert read(north, NORTH, VISITS_PER_MONTH_A) == 2
    assert "cadence.a_visits_per_month" in caplog.text


def test_territory_settings_lists_every_declared_setting(north: Store) -> None:
    set_setting(north, C_INTERVAL_DAYS, 45)
    with north.read() as session:
        values = territory_settings(session, NORTH)
    assert set(values) == {setting.key for setting in ALL_SETTINGS}
    assert values[C_INTERVAL_DAYS.key] == 45
    assert values[VISITS_PER_MONTH_A.key] == 2
