"""The demo territory: deterministic, realistic, and valid by the services' own rules."""

from __future__ import annotations

import sqlite3
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

import fieldrep.storage.services  # noqa: F401  (registers the validation rules)
from fieldrep.storage import demo_data, formats
from fieldrep.storage.db import open_database
from fieldrep.storage.demo import (
    DEMO_REP_USERNAME,
    PHASE_DEALERS,
    PHASE_INDEX,
    PHASE_PEOPLE,
    DatabaseNotEmpty,
    DemoSummary,
    build_demo,
)
from fieldrep.storage.enums import (
    AbcClass,
    FollowUpSource,
    FollowUpStatus,
    LegacyCategory,
    ObjectionOutcome,
    ObjectionType,
    RecordStatus,
    VisitType,
)
from fieldrep.storage.errors import ValidationError
from fieldrep.storage.models import (
    AppUser,
    Base,
    Contact,
    ContactRecord,
    Dealer,
    FollowUp,
    LegacyIssue,
    Objection,
    ObjectionAnswer,
    SalesFigure,
    VisitPlanItem,
)
from fieldrep.storage.services.core import validate

TODAY = date(2026, 11, 25)


def build(path: Path, **options: Any) -> tuple[Engine, DemoSummary]:
    engine = open_database(path)
    return engine, build_demo(engine, **options)


def dump(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in storage order: equal dumps are equal databases."""
    with sqlite3.connect(path) as connection:
        tables = [
            row[0]
            for row in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' "
                "AND name NOT LIKE 'sqlite_%' ORDER BY name"
            )
        ]
        return {table: _rows(connection, table) for table in tables}


def _rows(connection: sqlite3.Connection, table: str) -> list[tuple[Any, ...]]:
    try:
        return connection.execute(f'SELECT rowid, * FROM "{table}" ORDER BY rowid').fetchall()
    except sqlite3.OperationalError:  # a WITHOUT ROWID table: ordered by its key
        return connection.execute(f'SELECT * FROM "{table}"').fetchall()


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Engine, DemoSummary]]:
    """A 300-dealer demo (the default size), built once for the read-only tests."""
    path = tmp_path_factory.mktemp("demo") / "demo.db"
    engine, summary = build(path)
    yield engine, summary
    engine.dispose()


def test_same_seed_gives_an_identical_database(tmp_path: Path) -> None:
    first, _ = build(tmp_path / "a.db", dealers=40, seed=7)
    second, _ = build(tmp_path / "b.db", dealers=40, seed=7)
    first.dispose()
    second.dispose()
    a, b = dump(tmp_path / "a.db"), dump(tmp_path / "b.db")
    assert a["dealer"]  # the comparison is about something
    assert a == b


def test_a_two_process_build_gives_the_same_database(tmp_path: Path) -> None:
    """Big demos generate rows in a child process: same bytes as building in one."""
    first, one = build(tmp_path / "one.db", dealers=40, seed=5, parallel=False)
    second, two = build(tmp_path / "two.db", dealers=40, seed=5, parallel=True)
    first.dispose()
    second.dispose()
    assert one.counts == two.counts
    assert dump(tmp_path / "one.db") == dump(tmp_path / "two.db")


def test_another_seed_gives_another_database(tmp_path: Path) -> None:
    first, _ = build(tmp_path / "a.db", dealers=40, seed=1)
    second, _ = build(tmp_path / "b.db", dealers=40, seed=2)
    first.dispose()
    second.dispose()
    a, b = dump(tmp_path / "a.db"), dump(tmp_path / "b.db")
    assert a["dealer"] != b["dealer"]
    assert a["contact_record"] != b["contact_record"]


def test_counts_scale_with_the_number_of_dealers(tmp_path: Path) -> None:
    small_engine, small = build(tmp_path / "small.db", dealers=30)
    large_engine, large = build(tmp_path / "large.db", dealers=150)
    small_engine.dispose()
    large_engine.dispose()
    assert (small.dealers, large.dealers) == (30, 150)
    for summary in (small, large):
        assert 2.6 <= summary.contacts / summary.dealers <= 3.4
        assert 7 <= summary.contact_records / summary.dealers <= 14
    assert large.counts["sales_figure"] > 3 * small.counts["sales_figure"]


def test_no_dealers_still_makes_the_people(tmp_path: Path) -> None:
    engine, summary = build(tmp_path / "empty.db", dealers=0)
    with Session(engine) as session:
        usernames = set(session.scalars(select(AppUser.username)))
    engine.dispose()
    assert summary.dealers == 0
    assert DEMO_REP_USERNAME in usernames


def test_refuses_a_database_with_dealers_and_writes_nothing(tmp_path: Path) -> None:
    engine, summary = build(tmp_path / "demo.db", dealers=10)
    with pytest.raises(DatabaseNotEmpty):
        build_demo(engine, dealers=10, seed=1)
    with Session(engine) as session:
        dealers = len(session.scalars(select(Dealer.id)).all())
    engine.dispose()
    assert dealers == summary.dealers == 10


def test_negative_dealers_are_refused(tmp_path: Path) -> None:
    engine = open_database(tmp_path / "demo.db")
    with pytest.raises(ValueError, match="negative"):
        build_demo(engine, dealers=-1)
    engine.dispose()


def test_progress_reports_every_phase_in_order(tmp_path: Path) -> None:
    seen: list[tuple[str, int, int]] = []
    engine, _ = build(
        tmp_path / "demo.db", dealers=20, progress=lambda *report: seen.append(report)
    )
    engine.dispose()
    phases = list(dict.fromkeys(phase for phase, _done, _total in seen))
    assert phases[0] == PHASE_PEOPLE
    assert PHASE_DEALERS in phases
    assert phases[-1] == PHASE_INDEX
    assert seen[-1] == (PHASE_INDEX, 1, 1)


def test_every_row_passes_the_service_validation_rules(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    problems: list[str] = []
    checked = 0
    with Session(engine) as session, session.no_autoflush:
        for mapper in Base.registry.mappers:
            model = mapper.class_
            if not getattr(model, "__sync__", False):
                continue
            for row in session.scalars(select(model)):
                checked += 1
                try:
                    validate(session, row, {})
                except ValidationError as error:
                    problems.append(f"{model.__tablename__} {row.id}: {error.message('en')}")
    assert checked > 10_000
    assert problems == []


def test_stored_values_are_what_the_column_types_write(demo: tuple[Engine, DemoSummary]) -> None:
    """Values the hot loops wrote as text read back and re-store to the very same text."""
    engine, _ = demo
    dialect = engine.dialect
    mismatches: list[str] = []
    with engine.connect() as connection:
        for table in Base.metadata.sorted_tables:
            for column in table.columns:
                impl = column.type.dialect_impl(dialect)
                to_python = impl.result_processor(dialect, None)
                to_storage = impl.bind_processor(dialect)
                if to_python is None or to_storage is None:
                    continue
                raw_values = connection.exec_driver_sql(
                    f'SELECT DISTINCT "{column.name}" FROM "{table.name}" '
                    f'WHERE "{column.name}" IS NOT NULL LIMIT 2000'
                ).scalars()
                for raw in raw_values:
                    again = to_storage(to_python(raw))
                    if again != raw:
                        mismatches.append(f"{table.name}.{column.name}: {raw!r} -> {again!r}")
    assert mismatches == []


def test_references_all_point_at_rows(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    with engine.connect() as connection:
        broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
    assert broken == []


def test_dealers_are_spread_over_real_cities_with_valid_codes(
    demo: tuple[Engine, DemoSummary],
) -> None:
    engine, summary = demo
    real = {(city.province, city.name) for city in demo_data.CITIES}
    with Session(engine) as session:
        dealers = session.scalars(select(Dealer)).all()
    assert len(dealers) == summary.dealers == 300
    assert {(d.province, d.city) for d in dealers} <= real
    assert len({d.city for d in dealers}) >= 15
    assert len({d.name for d in dealers}) == len(dealers)
    for dealer in dealers:
        assert dealer.credit_code is not None
        assert formats.credit_code_problem(dealer.credit_code) is None, dealer.credit_code
        assert dealer.phone is not None
        assert formats.phone_problem(dealer.phone) is None, dealer.phone
        assert dealer.name.startswith(dealer.city.removesuffix("市") if dealer.city else "")
        assert dealer.name.endswith("公司")
    shares = Counter(d.abc_class for d in dealers)
    assert 0.13 <= shares[AbcClass.A] / 300 <= 0.27
    assert 0.22 <= shares[AbcClass.B] / 300 <= 0.38
    assert 0.40 <= shares[AbcClass.C] / 300 <= 0.60


def test_contacts_carry_decision_roles(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    with Session(engine) as session:
        contacts = session.scalars(select(Contact)).all()
        dealer_ids = set(session.scalars(select(Dealer.id)))
    for contact in contacts:
        assert contact.mobile is not None
        assert formats.mobile_problem(contact.mobile) is None
    seniors = {c.dealer_id for c in contacts if c.is_senior}
    assert 0.85 * len(dealer_ids) <= len(seniors) < len(dealer_ids)  # a few need a senior visit
    roles = Counter(c.decision_role.code for c in contacts)
    assert {"decision_maker", "influencer", "user", "gatekeeper"} <= set(roles)
    assert any(c.is_settlement_contact for c in contacts)


def test_visit_history_is_a_year_of_complete_cards(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    with Session(engine) as session:
        records = session.scalars(select(ContactRecord)).all()
    days = [record.contact_at.date() for record in records]
    assert min(days) >= TODAY - timedelta(days=366)
    assert max(days) < TODAY
    final = [r for r in records if r.status == RecordStatus.FINAL]
    assert len(final) > 0.9 * len(records)
    for record in final:
        assert record.content and record.successes and record.shortcomings and record.lessons
    development = [r for r in final if r.visit_type == VisitType.DEVELOPMENT]
    assert development
    assert all(record.next_step is not None for record in development)
    assert len({record.content for record in records}) > 0.5 * len(records)  # varied text


def test_objections_follow_ups_and_legacy_issues(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    with Session(engine) as session:
        objections = session.scalars(select(Objection)).all()
        follow_ups = session.scalars(select(FollowUp)).all()
        legacy = session.scalars(select(LegacyIssue)).all()
    assert {o.type for o in objections} == set(ObjectionType)
    outcomes = Counter(o.outcome for o in objections)
    assert outcomes[ObjectionOutcome.RESOLVED] > outcomes[ObjectionOutcome.OPEN] > 0
    assert all(o.verbatim for o in objections)
    open_states = (FollowUpStatus.OPEN, FollowUpStatus.IN_PROGRESS)
    overdue = [f for f in follow_ups if f.status in open_states and f.due_on < TODAY]
    assert overdue
    assert any(f.status in open_states and f.due_on >= TODAY for f in follow_ups)
    agreed = [f for f in follow_ups if f.source_type == FollowUpSource.VISIT_AGREEMENT]
    assert agreed and all(f.verify_by is not None for f in agreed)
    assert {issue.category for issue in legacy} == set(LegacyCategory)


def test_the_playbook_has_each_answer_once(demo: tuple[Engine, DemoSummary]) -> None:
    """One team playbook: no answer copied per territory, objections use their own territory's.

    Before, every territory had a copy of every answer, so the playbook listed each
    three times with its uses split between the copies.
    """
    engine, summary = demo
    with Session(engine) as session:
        answers = session.scalars(select(ObjectionAnswer)).all()
        objections = session.scalars(select(Objection)).all()
    assert len(summary.territories) > 1  # copies were possible
    same = Counter((a.type, a.title, a.answer_text) for a in answers)
    assert same and max(same.values()) == 1
    assert {a.type for a in answers} == set(ObjectionType)
    assert {a.territory_id for a in answers} == {summary.rep_territory_id}
    by_id = {a.id: a for a in answers}
    linked = [(o, o.playbook_answer_id) for o in objections if o.playbook_answer_id]
    assert len(linked) > 20
    for objection, answer_id in linked:
        answer = by_id[answer_id]
        assert objection.territory_id == answer.territory_id  # the server refuses others
        assert objection.type == answer.type
        assert objection.answer_given == answer.answer_text


def test_route_stops_are_planned_later_and_later(demo: tuple[Engine, DemoSummary]) -> None:
    """Every rep's day: stop n+1 is planned after stop n (was 15:30 then 15:00)."""
    engine, _ = demo
    with Session(engine) as session:
        items = session.scalars(
            select(VisitPlanItem).order_by(
                VisitPlanItem.rep_user_id, VisitPlanItem.planned_date, VisitPlanItem.route_seq
            )
        ).all()
    days: dict[tuple[str, date], list[VisitPlanItem]] = {}
    for item in items:
        days.setdefault((item.rep_user_id, item.planned_date), []).append(item)
    assert any(len(stops) >= 5 for stops in days.values())
    for stops in days.values():
        assert [s.route_seq for s in stops] == list(range(1, len(stops) + 1))
        times = [s.time_slot for s in stops if s.time_slot is not None]
        assert len(times) == len(stops)
        assert all(a < b for a, b in pairwise(times)), times


def test_sales_figures_are_exact_decimals(demo: tuple[Engine, DemoSummary]) -> None:
    engine, _ = demo
    with Session(engine) as session:
        figures = session.scalars(select(SalesFigure)).all()
    assert figures
    for figure in figures[:500]:
        assert figure.revenue is not None and figure.revenue > 0
        assert figure.collected is not None and figure.receivable is not None
        assert figure.receivable >= 0
        assert figure.revenue.as_tuple().exponent >= -2
    assert sum(f.dealer_confirmed_at is not None for f in figures) > 0.7 * len(figures)


def test_today_has_planned_visits_for_the_demo_rep(demo: tuple[Engine, DemoSummary]) -> None:
    engine, summary = demo
    with Session(engine) as session:
        today_items = session.scalars(
            select(VisitPlanItem).where(
                VisitPlanItem.rep_user_id == summary.rep_user_id,
                VisitPlanItem.planned_date == TODAY,
            )
        ).all()
    assert 4 <= len(today_items) <= 6
    assert sorted(item.route_seq for item in today_items) == list(range(1, len(today_items) + 1))


def test_the_search_index_and_due_list_are_built(demo: tuple[Engine, DemoSummary]) -> None:
    search = pytest.importorskip("fieldrep.storage.search")
    cadence = pytest.importorskip("fieldrep.storage.cadence")
    engine, _ = demo
    with Session(engine) as session:
        dealer = session.scalars(select(Dealer).order_by(Dealer.id).limit(1)).one()
        hits = search.search_dealers(session, dealer.name, 5)
        due = cadence.due_dealers(session, TODAY)
    assert dealer.id in [hit.dealer_id for hit in hits]
    assert due
    assert due[0].days_overdue >= due[-1].days_overdue


def test_every_dealer_has_its_pinyin_sort_key(demo: tuple[Engine, DemoSummary]) -> None:
    from fieldrep.storage.sorting import name_sort_key

    engine, _ = demo
    with engine.connect() as connection:
        rows = connection.exec_driver_sql("SELECT name, name_sort FROM dealer").all()
    assert rows
    assert all(key == name_sort_key(name) for name, key in rows)
