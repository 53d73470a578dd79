"""Working days in mainland China for the visit planner.

Weekends and public holidays are days off; the weekend days the State Council
declares working days (调休) are working days. The ``chinesecalendar`` package
carries the official arrangement of each year it knows (2004 up to the year of
its release). A year it does not know yet, the planner still has to reach, so
for those years we fall back to the statutory holidays of the 全国年节及纪念日
放假办法 (2024 revision) on top of weekends:

- 元旦 Jan 1; 劳动节 May 1-2; 国庆节 Oct 1-3 (fixed dates);
- 春节 New Year's Eve and the first three days of the lunar year, 清明节 (the
  solar term), 端午节 (5th day of the 5th lunar month) and 中秋节 (15th day of
  the 8th lunar month), computed with ``lunar-python``.

The fallback cannot know the weekend swaps (调休) and bridge days the State
Council announces each year, so around those holidays it can call a day working
that turns out to be off, or the reverse. A warning is logged once per such year.

Dates here are local calendar dates in China; :data:`CHINA_TZ` and
:func:`local_date` turn stored UTC instants into them.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta, timezone
from functools import cache, lru_cache

import chinese_calendar
from lunar_python import Lunar, Solar

log = logging.getLogger("fieldrep.storage")

# Mainland China has one time zone and no daylight saving time; a fixed offset
# lets SQL (``date(instant, '+8 hours')``) and Python agree on a record's date.
CHINA_UTC_OFFSET_HOURS = 8
CHINA_TZ = timezone(timedelta(hours=CHINA_UTC_OFFSET_HOURS), "Asia/Shanghai")

_ONE_DAY = timedelta(days=1)
# Far more than any run of days off (the longest is about 9); guards the loops.
_MAX_RUN_OF_DAYS_OFF = 60


def local_date(instant: datetime) -> date:
    """The calendar date in China of an aware instant (stored instants are UTC)."""
    return instant.astimezone(CHINA_TZ).date()


def _known_years() -> range:
    years = [day.year for day in chinese_calendar.holidays]
    return range(min(years), max(years) + 1)


KNOWN_YEARS = _known_years()


@cache
def statutory_holidays(year: int) -> frozenset[date]:
    """The statutory public holidays of a year, without the announced swaps and bridges."""
    days = {date(year, 1, 1), date(year, 5, 1), date(year, 5, 2)}
    days.update(date(year, 10, day) for day in (1, 2, 3))
    new_year = Lunar.fromYmd(year, 1, 1)
    for offset in (-1, 0, 1, 2):  # 除夕 and 初一 to 初三
        days.add(_to_date(new_year.next(offset).getSolar()))
    days.add(_to_date(Lunar.fromYmd(year, 5, 5).getSolar()))
    days.add(_to_date(Lunar.fromYmd(year, 8, 15).getSolar()))
    april = Solar.fromYmd(year, 4, 15).getLunar()
    days.add(_to_date(april.getJieQiTable()["清明"]))
    # The lunar year starts between Jan 21 and Feb 20, so its eve is in this year.
    return frozenset(days)


def _to_date(solar: Solar) -> date:
    return date(solar.getYear(), solar.getMonth(), solar.getDay())


_warned_years: set[int] = set()


def _warn_unknown_year(year: int) -> None:
    if year not in _warned_years:
        _warned_years.add(year)
        log.warning(
            "no official holiday arrangement known for %d: using weekends and the "
            "statutory holidays (weekend swaps are not known)",
            year,
        )


@lru_cache(maxsize=4096)
def is_working_day(day: date) -> bool:
    """True on a working day: not a weekend or holiday, or a weekend declared working (调休)."""
    if day.year in KNOWN_YEARS:
        return bool(chinese_calendar.is_workday(day))
    _warn_unknown_year(day.year)
    return day.weekday() < 5 and day not in statutory_holidays(day.year)


def next_working_day(day: date) -> date:
    """The day itself if it is a working day, else the first working day after it."""
    for _ in range(_MAX_RUN_OF_DAYS_OFF):
        if is_working_day(day):
            return day
        day += _ONE_DAY
    raise AssertionError(f"no working day within {_MAX_RUN_OF_DAYS_OFF} days of {day}")


def previous_working_day(day: date) -> date:
    """The day itself if it is a working day, else the last working day before it."""
    for _ in range(_MAX_RUN_OF_DAYS_OFF):
        if is_working_day(day):
            return day
        day -= _ONE_DAY
    raise AssertionError(f"no working day within {_MAX_RUN_OF_DAYS_OFF} days of {day}")


def working_days_between(start: date, end: date) -> int:
    """Working days from ``start`` (included) to ``end`` (excluded); negative if end < start."""
    if end < start:
        return -working_days_between(end, start)
    count = 0
    day = start
    while day < end:
        count += is_working_day(day)
        day += _ONE_DAY
    return count


def add_working_days(day: date, count: int) -> date:
    """The ``count``-th working day after ``day`` (before it when negative).

    With ``count == 0`` this is :func:`next_working_day`. For a working day ``d``,
    ``working_days_between(d, add_working_days(d, n)) == n``.
    """
    if count == 0:
        return next_working_day(day)
    step = _ONE_DAY if count > 0 else -_ONE_DAY
    remaining = abs(count)
    while remaining:
        day += step
        remaining -= is_working_day(day)
    return day


def working_days(start: date, count: int) -> list[date]:
    """The first ``count`` working days on or after ``start``, in order."""
    days: list[date] = []
    day = next_working_day(start)
    while len(days) < count:
        days.append(day)
        day = add_working_days(day, 1)
    return days
