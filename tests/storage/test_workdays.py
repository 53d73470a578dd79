"""Working days: weekends, official holidays and swaps, and the fallback for unknown years."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta

import chinese_calendar
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fieldrep.storage import workdays
from fieldrep.storage.workdays import (
    add_working_days,
    is_working_day,
    local_date,
    next_working_day,
    previous_working_day,
    statutory_holidays,
    working_days,
    working_days_between,
)


@pytest.fixture
def fresh_warnings(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Forget which unknown years were already warned about (and the day cache)."""
    monkeypatch.setattr(workdays, "_warned_years", set())
    workdays.is_working_day.cache_clear()
    yield
    workdays.is_working_day.cache_clear()


def test_plain_weekdays_and_weekends() -> None:
    assert is_working_day(date(2026, 11, 25))  # Wednesday
    assert not is_working_day(date(2026, 11, 28))  # Saturday
    assert not is_working_day(date(2026, 11, 29))  # Sunday


def test_national_day_2026_and_its_working_weekend_days() -> None:
    for day in range(1, 8):
        assert not is_working_day(date(2026, 10, day))
    assert next_working_day(date(2026, 10, 1)) == date(2026, 10, 8)
    # 调休: Sunday Sep 20 and Saturday Oct 10 are working days.
    assert is_working_day(date(2026, 9, 20))
    assert is_working_day(date(2026, 10, 10))
    assert next_working_day(date(2026, 10, 10)) == date(2026, 10, 10)
    assert previous_working_day(date(2026, 10, 7)) == date(2026, 9, 30)


def test_spring_festival_2026() -> None:
    assert not is_working_day(date(2026, 2, 17))
    assert is_working_day(date(2026, 2, 14))  # Saturday made a working day


def test_fallback_year_uses_weekends_and_statutory_holidays(fresh_warnings: None) -> None:
    assert 2027 not in workdays.KNOWN_YEARS
    assert not is_working_day(date(2027, 1, 1))  # 元旦, a Friday
    assert is_working_day(date(2027, 1, 4))
    for day in (5, 8):  # 除夕 (Friday) to 初三 (Monday)
        assert not is_working_day(date(2027, 2, day))
    assert is_working_day(date(2027, 2, 9))
    assert not is_working_day(date(2027, 4, 5))  # 清明, Monday
    assert not is_working_day(date(2027, 6, 9))  # 端午, Wednesday
    assert not is_working_day(date(2027, 9, 15))  # 中秋, Wednesday
    assert not is_working_day(date(2027, 10, 1))  # 国庆, Friday
    assert is_working_day(date(2027, 10, 4))  # Oct 1-3 only: no announced bridge known
    assert is_working_day(date(2027, 11, 24))


def test_unknown_year_warns_once(fresh_warnings: None, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="fieldrep.storage"):
        for offset in range(40):
            is_working_day(date(2028, 3, 1) + timedelta(days=offset))
    warnings = [record for record in caplog.records if "2028" in record.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING


# 2020: Mid-Autumn fell on National Day, so one day fewer.
@pytest.mark.parametrize(("year", "count"), [(2020, 12), (2021, 13), (2025, 13), (2026, 13)])
def test_fallback_holidays_agree_with_the_official_calendar(year: int, count: int) -> None:
    """The lunar and solar-term dates the fallback computes are official holidays."""
    computed = statutory_holidays(year)
    assert len(computed) == count
    for day in computed:
        assert chinese_calendar.is_holiday(day), day


def test_leap_year_fallback_days() -> None:
    holidays = statutory_holidays(2028)
    assert date(2028, 1, 25) in holidays  # 除夕 2028
    assert date(2028, 1, 26) in holidays  # 春节 2028
    assert date(2028, 2, 29) not in holidays


def test_working_days_between_counts_start_not_end() -> None:
    assert working_days_between(date(2026, 11, 23), date(2026, 11, 30)) == 5
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 9)) == 2
    assert working_days_between(date(2026, 10, 9), date(2026, 9, 30)) == -2
    assert working_days_between(date(2026, 11, 25), date(2026, 11, 25)) == 0


def test_add_working_days_across_holidays_and_years() -> None:
    assert add_working_days(date(2026, 9, 30), 1) == date(2026, 10, 8)
    assert add_working_days(date(2026, 10, 8), -1) == date(2026, 9, 30)
    assert add_working_days(date(2026, 11, 28), 0) == date(2026, 11, 30)
    assert add_working_days(date(2026, 11, 28), 1) == date(2026, 11, 30)
    assert add_working_days(date(2026, 12, 31), 1) == date(2027, 1, 4)


def test_working_days_lists_the_next_ones() -> None:
    assert working_days(date(2026, 9, 29), 4) == [
        date(2026, 9, 29),
        date(2026, 9, 30),
        date(2026, 10, 8),
        date(2026, 10, 9),
    ]


@given(
    st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 12, 31)),
    st.integers(min_value=-40, max_value=40),
)
def test_add_and_between_are_inverse(day: date, count: int) -> None:
    start = next_working_day(day)
    assert working_days_between(start, add_working_days(start, count)) == count


def test_local_date_is_china_time() -> None:
    assert local_date(datetime(2026, 11, 24, 16, 0, tzinfo=UTC)) == date(2026, 11, 25)
    assert local_date(datetime(2026, 11, 24, 15, 59, tzinfo=UTC)) == date(2026, 11, 24)
