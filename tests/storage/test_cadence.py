"""Visit cadence: intervals over month ends and holidays, the local statistics kept by
triggers, due lists, per-territory settings, compliance and the planner's proposals."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, insert, select, update
from sqlalchemy.orm import Session

from fieldrep.i18n import _
from fieldrep.storage.cadence import (
    UNASSIGNED_REP,
    Cadence,
    compliance,
    due_dealers,
    due_this_week,
    next_due,
    proposed_visits,
    rebuild_visit_stats,
    same_day_next_month,
    visit_stats,
    visited_within_cadence,
)
from fieldrep.storage.db import open_database
from fieldrep.storage.derived import bulk_load
from fieldrep.storage.enums import (
    AbcClass,
    ContactMethod,
    DealerStatus,
    LifecycleStatus,
    PlanItemStatus,
    Role,
)
from fieldrep.storage.errors import NotFound
from fieldrep.storage.models import (
    AppUser,
    ContactRecord,
    Dealer,
    TerritorySetting,
    VisitPlanItem,
)
from fieldrep.storage.services.core import Store, UserContext
from fieldrep.storage.services.settings_service import set_setting
from fieldrep.storage.settings import C_INTERVAL_DAYS, VISITS_PER_MONTH_A, VISITS_PER_MONTH_B
from fieldrep.storage.workdays import CHINA_TZ

EAST = "0190b000-0000-7000-8000-0000000000e1"
WEST = "0190b000-0000-7000-8000-0000000000e2"
REP_ZHANG = "0190b000-0000-7000-8000-0000000000f1"
REP_LI = "0190b000-0000-7000-8000-0000000000f2"
START = date(2026, 1, 1)

A, B, C = AbcClass.A, AbcClass.B, AbcClass.C


@pytest.fixture
def session(engine: Engine) -> Iterator[Session]:
    """One session whose flushes fire the triggers; tests read the effects in it."""
    with Session(engine) as session, session.begin():
        yield session


def add_dealer(
    session: Session,
    abc_class: AbcClass = A,
    *,
    start: date | None = START,
    territory: str = EAST,
    rep: str | None = REP_ZHANG,
    name: str = "测试经销商",
    **values: Any,
) -> str:
    dealer = Dealer(
        territory_id=territory,
        name=name,
        city="杭州市",
        abc_class=abc_class,
        relationship_start_date=start,
        our_contact_user_id=rep,
        **values,
    )
    session.add(dealer)
    session.flush()
    return dealer.id


def at_china_time(day: date, hour: int = 10) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=CHINA_TZ).astimezone(UTC)


def add_visit(
    session: Session,
    dealer_id: str,
    day: date,
    method: ContactMethod = ContactMethod.VISIT,
    *,
    hour: int = 10,
) -> ContactRecord:
    record = ContactRecord(
        territory_id=EAST,
        dealer_id=dealer_id,
        rep_user_id=REP_ZHANG,
        contact_at=at_china_time(day, hour),
        contact_method=method,
    )
    session.add(record)
    session.flush()
    return record


def stats_of(session: Session, dealer_id: str) -> tuple[str | None, int, str | None]:
    row = session.execute(
        select(visit_stats.c.last_visit_on, visit_stats.c.visit_count, visit_stats.c.due_on).where(
            visit_stats.c.dealer_id == dealer_id
        )
    ).one()
    return row[0], row[1], row[2]


def all_stats(session: Session) -> list[tuple[Any, ...]]:
    return [
        tuple(row)
        for row in session.execute(select(visit_stats).order_by(visit_stats.c.dealer_id)).all()
    ]


# ---------------------------------------------------------------------------
# The interval rules


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 1, 31), date(2026, 2, 28)),
        (date(2028, 1, 31), date(2028, 2, 29)),
        (date(2028, 1, 29), date(2028, 2, 29)),
        (date(2026, 3, 31), date(2026, 4, 30)),
        (date(2026, 12, 31), date(2027, 1, 31)),
        (date(2026, 11, 25), date(2026, 12, 25)),
    ],
)
def test_same_day_next_month_clamps_to_month_end(day: date, expected: date) -> None:
    assert same_day_next_month(day) == expected


@pytest.mark.parametrize(
    ("anchor", "abc_class", "expected"),
    [
        (date(2026, 1, 15), A, date(2026, 1, 30)),  # 31 days / 2
        (date(2026, 1, 31), A, date(2026, 2, 14)),  # to Feb 28: 28 days / 2
        (date(2028, 1, 31), A, date(2028, 2, 14)),  # to Feb 29: 29 days / 2, rounded down
        (date(2028, 2, 15), A, date(2028, 2, 29)),  # leap day
        (date(2026, 2, 15), A, date(2026, 3, 1)),
        (date(2026, 1, 31), B, date(2026, 2, 28)),
        (date(2028, 1, 31), B, date(2028, 2, 29)),
        (date(2026, 12, 31), B, date(2027, 1, 31)),
        (date(2026, 11, 25), C, date(2027, 1, 24)),
    ],
)
def test_raw_due_over_month_ends(anchor: date, abc_class: AbcClass, expected: date) -> None:
    assert Cadence().raw_due(anchor, abc_class) == expected


def test_due_date_moves_to_the_next_working_day() -> None:
    cadence = Cadence()
    # Sep 16 + 15 days = Oct 1, National Day: the first working day after it is Oct 8.
    assert cadence.due(date(2026, 9, 16), A) == date(2026, 10, 8)
    # Oct 10 2026 is a Saturday made a working day (调休): it stays.
    assert cadence.due(date(2026, 9, 10), B) == date(2026, 10, 10)
    # 2027 is beyond the official data: Jan 1 is still a holiday, then the weekend.
    assert cadence.due(date(2026, 12, 1), B) == date(2027, 1, 4)
    # A Sunday in the fallback year moves to Monday.
    assert cadence.due(date(2026, 11, 25), C) == date(2027, 1, 25)


def test_zero_visits_a_month_is_no_cadence() -> None:
    cadence = Cadence(visits_per_month_a=0)
    assert cadence.due(date(2026, 1, 1), A) is None
    assert cadence.due(date(2026, 1, 1), B) == date(2026, 2, 2)


def test_more_visits_a_month_shortens_the_interval() -> None:
    assert Cadence(visits_per_month_a=4).raw_due(date(2026, 1, 1), A) == date(2026, 1, 8)
    assert Cadence(c_interval_days=30).raw_due(date(2026, 1, 1), C) == date(2026, 1, 31)


# ---------------------------------------------------------------------------
# SQL statistics kept by triggers


def test_sql_due_dates_match_the_python_rules(engine: Engine) -> None:
    """Never-visited dealers starting on every day over two year ends and a leap February."""
    days = [date(2027, 12, 1) + timedelta(days=offset) for offset in range(460)]
    with Session(engine) as session, session.begin():
        dealers = [
            (add_dealer(session, abc_class, start=day), abc_class, day)
            for day in days
            for abc_class in (A, B, C)
        ]
        cadence = Cadence()
        for dealer_id, abc_class, day in dealers:
            assert stats_of(session, dealer_id)[2] == str(cadence.raw_due(day, abc_class))
    store = Store(engine, UserContext(REP_ZHANG, EAST, Role.REP))
    set_setting(store, VISITS_PER_MONTH_A, 3)
    set_setting(store, VISITS_PER_MONTH_B, 2)
    set_setting(store, C_INTERVAL_DAYS, 45)
    changed = Cadence(3, 2, 45)
    with Session(engine) as session:
        for dealer_id, abc_class, day in dealers:
            assert stats_of(session, dealer_id)[2] == str(changed.raw_due(day, abc_class))


def test_visits_update_the_statistics(session: Session) -> None:
    dealer = add_dealer(session, A)
    assert stats_of(session, dealer) == (None, 0, "2026-01-16")
    first = add_visit(session, dealer, date(2026, 11, 10))
    assert stats_of(session, dealer) == ("2026-11-10", 1, "2026-11-25")
    add_visit(session, dealer, date(2026, 11, 20), ContactMethod.PHONE)
    add_visit(session, dealer, date(2026, 11, 21), ContactMethod.ONLINE)
    add_visit(session, dealer, date(2026, 11, 22), ContactMethod.MEETING)
    assert stats_of(session, dealer) == ("2026-11-10", 1, "2026-11-25")
    second = add_visit(session, dealer, date(2026, 11, 20))
    assert stats_of(session, dealer) == ("2026-11-20", 2, "2026-12-05")

    second.deleted = True  # a tombstoned visit no longer counts
    session.flush()
    assert stats_of(session, dealer) == ("2026-11-10", 1, "2026-11-25")

    first.contact_at = at_china_time(date(2026, 11, 12))
    session.flush()
    assert stats_of(session, dealer) == ("2026-11-12", 1, "2026-11-27")

    first.contact_method = ContactMethod.PHONE
    session.flush()
    assert stats_of(session, dealer) == (None, 0, "2026-01-16")


def test_moving_a_visit_to_another_dealer_updates_both(session: Session) -> None:
    one = add_dealer(session, B)
    other = add_dealer(session, B)
    record = add_visit(session, one, date(2026, 11, 2))
    record.dealer_id = other
    session.flush()
    assert stats_of(session, one) == (None, 0, "2026-02-01")
    assert stats_of(session, other) == ("2026-11-02", 1, "2026-12-02")
    session.delete(record)
    session.flush()
    assert stats_of(session, other) == (None, 0, "2026-02-01")


def test_visit_day_is_the_date_in_china(session: Session) -> None:
    dealer = add_dealer(session, B)
    add_visit(session, dealer, date(2026, 11, 25), hour=7)  # Nov 24, 23:00 UTC
    assert stats_of(session, dealer)[0] == "2026-11-25"


def test_never_visited_dealer_counts_from_start_or_creation(session: Session) -> None:
    started = add_dealer(session, B, start=date(2026, 11, 2))
    created = add_dealer(
        session, C, start=None, created_at=datetime(2026, 11, 24, 20, 0, tzinfo=UTC)
    )
    assert stats_of(session, started)[2] == "2026-12-02"
    assert stats_of(session, created)[2] == "2027-01-24"  # created Nov 25 in China
    assert next_due(session, created, date(2026, 11, 25)) == date(2027, 1, 25)  # a Sunday


def test_dealer_changes_update_the_due_date(session: Session) -> None:
    dealer = add_dealer(session, B)
    add_visit(session, dealer, date(2026, 11, 2))
    row = session.get(Dealer, dealer)
    assert row is not None
    row.abc_class = A
    session.flush()
    assert stats_of(session, dealer)[2] == "2026-11-17"
    row.name = "新名字"
    row.city = "宁波市"
    row.our_contact_user_id = REP_LI
    session.flush()
    (listed,) = due_dealers(session, date(2026, 11, 17), rep_user_id=REP_LI)
    assert (listed.name, listed.city, listed.abc_class) == ("新名字", "宁波市", A)
    row.status = DealerStatus.DORMANT
    session.flush()
    assert stats_of(session, dealer)[2] is None
    row.status = DealerStatus.ACTIVE
    row.lifecycle_status = LifecycleStatus.ELIMINATED
    session.flush()
    assert stats_of(session, dealer)[2] is None
    row.lifecycle_status = LifecycleStatus.COOPERATING
    row.deleted = True
    session.flush()
    assert stats_of(session, dealer)[2] is None


def test_visit_arriving_before_its_dealer_is_counted(session: Session) -> None:
    """Sync may apply a child row before its parent (deferred foreign keys)."""
    dealer_id = "0190b000-0000-7000-8000-00000000d001"
    session.add(
        ContactRecord(
            territory_id=EAST,
            dealer_id=dealer_id,
            rep_user_id=REP_ZHANG,
            contact_at=at_china_time(date(2026, 11, 3)),
            contact_method=ContactMethod.VISIT,
        )
    )
    session.flush()
    add_dealer(session, B, id=dealer_id)
    assert stats_of(session, dealer_id) == ("2026-11-03", 1, "2026-12-03")


# ---------------------------------------------------------------------------
# Due lists


def test_due_list_most_overdue_first(session: Session) -> None:
    on = date(2026, 11, 25)
    late_a = add_dealer(session, A, name="甲")
    add_visit(session, late_a, date(2026, 10, 20))  # due Nov 4
    late_b = add_dealer(session, B, name="乙")
    add_visit(session, late_b, date(2026, 10, 4))  # due Nov 4 as well: A goes first
    today_b = add_dealer(session, B, name="丙")
    add_visit(session, today_b, date(2026, 10, 25))  # due Nov 25
    soon_a = add_dealer(session, A, name="丁")
    add_visit(session, soon_a, date(2026, 11, 12))  # due Nov 27
    fresh_c = add_dealer(session, C, name="戊")
    add_visit(session, fresh_c, date(2026, 11, 1))  # due Dec 31

    listed = due_dealers(session, on)
    assert [row.dealer_id for row in listed] == [late_a, late_b, today_b]
    assert [row.days_overdue for row in listed] == [21, 21, 0]
    assert listed[0].name == "甲"
    assert listed[0].city == "杭州市"
    assert listed[0].abc_class == A
    assert listed[0].last_visit_on == date(2026, 10, 20)
    assert listed[0].due_on == date(2026, 11, 4)

    upcoming = due_dealers(session, on, within_days=2)
    assert [row.dealer_id for row in upcoming] == [late_a, late_b, today_b, soon_a]
    assert upcoming[-1].days_overdue == -2
    assert [row.dealer_id for row in due_dealers(session, on, limit=2)] == [late_a, late_b]
    assert due_dealers(session, on, limit=0) == []


def test_due_list_gives_the_garbage_collector_back(session: Session) -> None:
    # due_dealers pauses automatic collection while it builds the list.
    dealer = add_dealer(session, A, name="甲")
    add_visit(session, dealer, date(2026, 10, 20))
    on = date(2026, 11, 25)
    assert [row.dealer_id for row in due_dealers(session, on)] == [dealer]
    assert gc.isenabled()
    gc.disable()
    try:
        assert [row.dealer_id for row in due_dealers(session, on)] == [dealer]
        assert not gc.isenabled()  # left off when the caller had turned it off
    finally:
        gc.enable()


def test_due_list_leaves_out_dealers_not_on_a_cadence(session: Session) -> None:
    on = date(2026, 11, 25)
    add_dealer(session, B, status=DealerStatus.DORMANT)
    add_dealer(session, B, status=DealerStatus.CLOSED)
    add_dealer(session, B, lifecycle_status=LifecycleStatus.ELIMINATED)
    add_dealer(session, B, deleted=True)
    prospect = add_dealer(session, B, lifecycle_status=LifecycleStatus.PROSPECT)
    assert [row.dealer_id for row in due_dealers(session, on)] == [prospect]


def test_due_list_filters_territory_and_rep(session: Session) -> None:
    on = date(2026, 11, 25)
    east = add_dealer(session, B, territory=EAST, rep=REP_ZHANG)
    west = add_dealer(session, B, territory=WEST, rep=REP_LI)
    assert {row.dealer_id for row in due_dealers(session, on)} == {east, west}
    assert [row.dealer_id for row in due_dealers(session, on, territory_ids=[WEST])] == [west]
    assert [row.dealer_id for row in due_dealers(session, on, rep_user_id=REP_ZHANG)] == [east]
    assert due_dealers(session, on, territory_ids=[]) == []


def test_due_date_on_a_holiday_waits_for_the_next_working_day(session: Session) -> None:
    dealer = add_dealer(session, A)
    add_visit(session, dealer, date(2026, 9, 16))  # raw due Oct 1
    assert due_dealers(session, date(2026, 10, 7)) == []
    (row,) = due_dealers(session, date(2026, 10, 8))
    assert row.due_on == date(2026, 10, 8)
    assert row.days_overdue == 0
    assert [r.dealer_id for r in due_dealers(session, date(2026, 10, 7), within_days=1)] == [dealer]


def test_due_this_week(session: Session) -> None:
    wednesday = date(2026, 11, 25)
    overdue = add_dealer(session, B)
    add_visit(session, overdue, date(2026, 10, 20))
    today = add_dealer(session, B)
    add_visit(session, today, date(2026, 10, 25))
    friday = add_dealer(session, B)
    add_visit(session, friday, date(2026, 10, 27))
    saturday = add_dealer(session, B)  # Saturday Nov 28 moves to Monday Nov 30
    add_visit(session, saturday, date(2026, 10, 28))
    assert [row.dealer_id for row in due_this_week(session, wednesday)] == [today, friday]


def test_due_this_week_after_a_holiday(session: Session) -> None:
    thursday = date(2026, 10, 8)  # the first working day after National Day
    in_holiday = add_dealer(session, B)
    add_visit(session, in_holiday, date(2026, 9, 3))  # raw due Oct 3: moved to Oct 8
    before_holiday = add_dealer(session, B)
    add_visit(session, before_holiday, date(2026, 8, 30))  # due Sep 30: overdue
    assert [row.dealer_id for row in due_this_week(session, thursday)] == [in_holiday]
    assert [row.dealer_id for row in due_dealers(session, thursday)] == [
        before_holiday,
        in_holiday,
    ]


def test_next_due_uses_visits_up_to_the_day(session: Session) -> None:
    dealer = add_dealer(session, A)
    add_visit(session, dealer, date(2026, 11, 3))
    add_visit(session, dealer, date(2026, 11, 20))
    assert next_due(session, dealer, date(2026, 11, 10)) == date(2026, 11, 18)
    assert next_due(session, dealer, date(2026, 11, 25)) == date(2026, 12, 7)  # Sat Dec 5
    (row,) = due_dealers(session, date(2026, 12, 7))
    assert row.due_on == next_due(session, dealer, date(2026, 12, 7))
    dormant = add_dealer(session, A, status=DealerStatus.DORMANT)
    assert next_due(session, dormant, date(2026, 11, 25)) is None
    with pytest.raises(NotFound):
        next_due(session, "0190b000-0000-7000-8000-00000000dead", date(2026, 11, 25))


# ---------------------------------------------------------------------------
# Settings per territory


def test_setting_changes_move_due_dates_of_that_territory_only(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        east = add_dealer(session, C, territory=EAST)
        west = add_dealer(session, C, territory=WEST)
        east_a = add_dealer(session, A, territory=EAST)
        for dealer in (east, west, east_a):
            add_visit(session, dealer, date(2026, 10, 1))
    on = date(2026, 11, 25)
    with Session(engine) as session:
        assert {row.dealer_id for row in due_dealers(session, on)} == {east_a}

    store = Store(engine, UserContext(REP_ZHANG, EAST, Role.REP))
    set_setting(store, C_INTERVAL_DAYS, 30)
    with Session(engine) as session:
        due = {row.dealer_id: row.due_on for row in due_dealers(session, on)}
        assert due == {east: date(2026, 11, 2), east_a: date(2026, 10, 16)}  # Oct 31 is Sat
        assert next_due(session, west, on) == date(2026, 11, 30)

    set_setting(store, VISITS_PER_MONTH_A, 0)  # class A off the cadence in the east
    with Session(engine) as session:
        assert [row.dealer_id for row in due_dealers(session, on)] == [east]
        assert next_due(session, east_a, on) is None

    with Session(engine) as session, session.begin():  # a synced delete of the settings
        session.execute(update(TerritorySetting).values(deleted=True))
    with Session(engine) as session:
        assert {row.dealer_id for row in due_dealers(session, on)} == {east_a}


def test_unusable_setting_value_reads_as_default_in_sql_too(session: Session) -> None:
    dealer = add_dealer(session, C)
    session.add(TerritorySetting(territory_id=EAST, key=C_INTERVAL_DAYS.key, value="soon"))
    session.flush()
    assert stats_of(session, dealer)[2] == "2026-03-02"  # Jan 1 + 60 days


# ---------------------------------------------------------------------------
# Bulk load


def _copy_rows(source: Engine, target: Engine, *, in_bulk: bool) -> None:
    tables = [AppUser.__table__, Dealer.__table__, ContactRecord.__table__]
    tables.append(TerritorySetting.__table__)
    with source.connect() as reading, target.begin() as writing:
        if in_bulk:
            with bulk_load(writing):
                for table in tables:
                    rows = [dict(row) for row in reading.execute(select(table)).mappings()]
                    if rows:
                        writing.execute(insert(table), rows)
                # Triggers are off during the load: nothing derived yet.
                assert writing.execute(select(visit_stats)).first() is None
        else:
            for table in tables:
                rows = [dict(row) for row in reading.execute(select(table)).mappings()]
                if rows:
                    writing.execute(insert(table), rows)


def _varied_territory(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        for number in range(60):
            abc_class = (A, B, C)[number % 3]
            territory = EAST if number % 2 else WEST
            dealer = add_dealer(
                session,
                abc_class,
                territory=territory,
                start=None if number % 7 == 0 else date(2025, 1 + number % 12, 1 + number % 28),
                status=DealerStatus.DORMANT if number % 11 == 0 else DealerStatus.ACTIVE,
            )
            for visit in range(number % 5):
                record = add_visit(
                    session,
                    dealer,
                    date(2026, 1, 31) + timedelta(days=37 * visit + number),
                    ContactMethod.PHONE if (number + visit) % 4 == 0 else ContactMethod.VISIT,
                    hour=(number * 5 + visit) % 24,
                )
                record.deleted = (number + visit) % 6 == 0
        session.add(TerritorySetting(territory_id=EAST, key=VISITS_PER_MONTH_A.key, value="3"))
        session.add(TerritorySetting(territory_id=WEST, key=C_INTERVAL_DAYS.key, value="45"))


def test_bulk_load_rebuild_equals_trigger_results(engine: Engine, tmp_path: Path) -> None:
    _varied_territory(engine)
    with Session(engine) as session:
        by_triggers = all_stats(session)
    assert len(by_triggers) == 60
    assert any(row[1] is not None for row in by_triggers)

    with engine.begin() as connection:
        rebuild_visit_stats(connection)
    with Session(engine) as session:
        assert all_stats(session) == by_triggers

    loaded = open_database(tmp_path / "loaded.db")
    try:
        _copy_rows(engine, loaded, in_bulk=True)
        with Session(loaded) as session:
            assert all_stats(session) == by_triggers
        # The triggers are back after the load.
        with Session(loaded) as session, session.begin():
            dealer = session.scalars(select(Dealer).where(Dealer.status == "active")).first()
            assert dealer is not None
            add_visit(session, dealer.id, date(2026, 11, 24))
            assert stats_of(session, dealer.id)[0] == "2026-11-24"
    finally:
        loaded.dispose()


# ---------------------------------------------------------------------------
# Compliance


def test_monthly_check_prorates_partial_months() -> None:
    cadence = Cadence()
    window = (date(2026, 10, 16), date(2026, 11, 30))
    # October: 16 of 31 days need 2 * 16 // 31 = 1 visit; November needs 2.
    assert visited_within_cadence(
        cadence, A, window, [date(2026, 10, 20), date(2026, 11, 2), date(2026, 11, 16)], START
    )
    assert not visited_within_cadence(
        cadence, A, window, [date(2026, 11, 2), date(2026, 11, 16)], START
    )
    assert not visited_within_cadence(
        cadence, A, window, [date(2026, 10, 20), date(2026, 11, 2), date(2026, 11, 2)], START
    )


def _compliance_dataset(session: Session) -> None:
    for user_id, name in ((REP_ZHANG, "张伟"), (REP_LI, "李娜")):
        session.add(
            AppUser(id=user_id, territory_id=EAST, username=name, display_name=name, role=Role.REP)
        )

    def dealer(abc_class: AbcClass, rep: str | None, *visits: date, **values: Any) -> str:
        dealer_id = add_dealer(session, abc_class, rep=rep, **values)
        for day in visits:
            add_visit(session, dealer_id, day)
        return dealer_id

    d = date
    dealer(A, REP_ZHANG, d(2026, 10, 5), d(2026, 10, 20), d(2026, 11, 3), d(2026, 11, 17))  # ok
    dealer(A, REP_ZHANG, d(2026, 10, 5), d(2026, 10, 20), d(2026, 11, 3))  # 1 in Nov
    dealer(A, REP_LI, d(2026, 10, 5), d(2026, 10, 5), d(2026, 11, 3), d(2026, 11, 17))  # 1 day
    dealer(B, REP_ZHANG, d(2026, 10, 15), d(2026, 11, 15))  # ok
    dealer(B, REP_LI, d(2026, 10, 15))  # none in Nov
    dealer(B, REP_LI, start=d(2026, 11, 10))  # 21 days of Nov need 1 * 21 // 30 = 0: ok
    phoned = dealer(B, REP_ZHANG)
    add_visit(session, phoned, d(2026, 10, 9), ContactMethod.PHONE)
    add_visit(session, phoned, d(2026, 11, 9), ContactMethod.PHONE)
    dealer(B, None, d(2026, 10, 1), d(2026, 11, 2))  # ok, no rep assigned
    dealer(C, REP_ZHANG, d(2026, 8, 20), d(2026, 10, 10))  # ok: next due Dec 9
    dealer(C, REP_LI, d(2026, 8, 1), d(2026, 10, 20))  # was due Sep 30
    dealer(C, REP_ZHANG, d(2026, 9, 1))  # due Nov 2, not visited by Nov 30
    # Not counted at all:
    dealer(A, REP_ZHANG, status=DealerStatus.DORMANT)
    dealer(A, REP_ZHANG, deleted=True)
    dealer(A, REP_ZHANG, start=d(2026, 12, 1))  # relationship starts after the period
    tombstoned = dealer(B, REP_LI, d(2026, 10, 15), d(2026, 11, 15))
    session.execute(
        update(ContactRecord)
        .where(
            ContactRecord.dealer_id == tombstoned,
            ContactRecord.contact_at > at_china_time(d(2026, 11, 1)),
        )
        .values(deleted=True)
    )
    session.flush()


def test_compliance_by_class_and_by_rep(session: Session) -> None:
    _compliance_dataset(session)
    period = (date(2026, 10, 1), date(2026, 11, 30))
    by_class = compliance(session, *period, group_by="class")
    assert [(row.key, row.dealers, row.compliant, row.percent) for row in by_class] == [
        ("A", 3, 1, Decimal("33.3")),
        ("B", 6, 3, Decimal("50.0")),
        ("C", 3, 1, Decimal("33.3")),
    ]
    assert by_class[0].label == A.label

    by_rep = compliance(session, *period, group_by="rep")
    assert [(row.key, row.label, row.dealers, row.compliant) for row in by_rep] == [
        (REP_ZHANG, "张伟", 6, 3),
        (REP_LI, "李娜", 5, 1),
        (None, _(UNASSIGNED_REP), 1, 1),
    ]
    assert by_rep[-1].percent == Decimal("100.0")


def test_compliance_follows_territory_settings(session: Session) -> None:
    _compliance_dataset(session)
    session.add(TerritorySetting(territory_id=EAST, key=VISITS_PER_MONTH_A.key, value="1"))
    session.flush()
    by_class = compliance(session, date(2026, 10, 1), date(2026, 11, 30), group_by="class")
    assert (by_class[0].dealers, by_class[0].compliant) == (3, 3)
    assert (
        compliance(
            session, date(2026, 10, 1), date(2026, 11, 30), group_by="class", territory_ids=[WEST]
        )
        == []
    )


# ---------------------------------------------------------------------------
# Planner proposals


def test_proposed_visits_fill_working_days_most_overdue_first(session: Session) -> None:
    # Plan from Tue Sep 29 2026 for 3 working days: Sep 29, Sep 30 and Oct 8.
    def due_on(abc_class: AbcClass, visit: date, name: str) -> str:
        dealer_id = add_dealer(session, abc_class, name=name)
        add_visit(session, dealer_id, visit)
        return dealer_id

    b_early = due_on(B, date(2026, 8, 20), "b_early")  # due Sep 20 (a working Sunday)
    a_tie = due_on(A, date(2026, 9, 8), "a_tie")  # due Sep 23 (Wed)
    b_tie = due_on(B, date(2026, 8, 23), "b_tie")  # due Sep 23 as well
    c_late = due_on(C, date(2026, 7, 28), "c_late")  # due Sep 26 (a Saturday): Sep 28
    a_holiday = due_on(A, date(2026, 9, 16), "a_holiday")  # due Oct 1: Oct 8
    planned = due_on(B, date(2026, 8, 10), "planned")  # would be first, but is planned
    due_on(B, date(2026, 9, 9), "after")  # due Oct 9: after the horizon
    session.add(
        VisitPlanItem(
            territory_id=EAST,
            dealer_id=planned,
            rep_user_id=REP_ZHANG,
            planned_date=date(2026, 9, 30),
            status=PlanItemStatus.PLANNED,
        )
    )
    session.flush()

    proposals = proposed_visits(session, date(2026, 9, 29), 3, per_day=2)
    assert [(day, dealer.dealer_id) for day, dealer in proposals] == [
        (date(2026, 9, 29), b_early),
        (date(2026, 9, 29), a_tie),
        (date(2026, 9, 30), b_tie),
        (date(2026, 9, 30), c_late),
        (date(2026, 10, 8), a_holiday),
    ]
    assert proposals[0][1].days_overdue == 9
    assert proposals[-1][1].days_overdue == 0
    with pytest.raises(ValueError):
        proposed_visits(session, date(2026, 9, 29), 3, per_day=0)
