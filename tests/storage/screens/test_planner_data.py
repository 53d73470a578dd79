"""The Planner's data: the calendar's working days and holidays, proposals for free slots."""

from __future__ import annotations

from datetime import date

from fieldrep.i18n import _, language
from fieldrep.storage.cadence import DueDealer
from fieldrep.storage.enums import AbcClass
from fieldrep.storage.screens.planner import (
    PlannerMode,
    day_info,
    grid_days,
    spread_over_free_slots,
)


def test_holidays_and_swapped_days_are_named() -> None:
    national = day_info(date(2026, 10, 1))
    assert not national.working and national.label == "National Day"
    with language("zh_CN"):
        assert _(national.label) == "国庆节"
    swapped = day_info(date(2026, 10, 10))  # a Saturday declared a working day
    assert swapped.working and swapped.swapped and swapped.label == "Working day (swapped)"
    assert day_info(date(2026, 11, 28)).label is None and not day_info(date(2026, 11, 28)).working
    # A year the calendar package does not know yet: statutory holidays, named.
    assert day_info(date(2027, 10, 1)).label == "National Day"


def test_month_grid_is_whole_weeks() -> None:
    days = grid_days(PlannerMode.MONTH, date(2026, 10, 15))
    assert days[0] == date(2026, 9, 28) and days[-1] == date(2026, 11, 1)
    assert len(days) % 7 == 0


def test_proposals_move_to_days_with_room() -> None:
    def due(name: str) -> DueDealer:
        return DueDealer(name, name, None, AbcClass.A, None, date(2026, 12, 1), 0)

    monday, tuesday = date(2026, 11, 30), date(2026, 12, 1)
    placed = spread_over_free_slots(
        [(tuesday, due("a")), (tuesday, due("b")), (tuesday, due("c"))],
        [monday, tuesday, date(2026, 12, 2)],
        {tuesday: 1},
        per_day=2,
    )
    # Never earlier than proposed; a full day passes its dealers on to the next.
    assert [(p.day, p.dealer.name) for p in placed] == [
        (tuesday, "a"),
        (date(2026, 12, 2), "b"),
        (date(2026, 12, 2), "c"),
    ]
    assert placed[1].dealer.days_overdue == 1
