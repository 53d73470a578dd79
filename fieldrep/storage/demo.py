"""A realistic Chinese demo territory, deterministic for a seed and fast at any size.

``build_demo`` fills an empty FieldRep database with territories by region, an
area manager and reps in each, dealers across real cities with contacts and
their decision roles, a year of visit history (contact record cards with
objections and follow-ups), monthly sales figures, complaints, legacy issues,
competitor notes, trainings, projects and the visit plans of the coming days.

Two runs with the same seed and ``today`` give identical databases: every value
comes from one ``random.Random(seed)`` and ids are UUIDv7-shaped values made from
a fixed base timestamp and that generator, never from the clock.

Speed (50,000 dealers make 2.6 million rows): each table's INSERT, built from
its SQLAlchemy Table, runs as one executemany per 10,000 rows, all in one
transaction (a failed build leaves nothing behind). Values go through the
column types' own bind processors, except in the hot loops, which hand over
the stored text directly (tests check it is the very text the types write).
Plain indexes are dropped for the load and built once after it, and
:func:`fieldrep.storage.derived.bulk_load` rebuilds the search index and the
visit statistics once instead of a trigger per row. A big build generates the
rows in a second process while this one writes them; the database is the same.
The rows satisfy the validation rules of the services even though they do not
pass through them (tests check this).
"""

from __future__ import annotations

import gc
import json
import logging
import os
import pickle
import random
import sqlite3
import subprocess
import sys
import time as clock
import traceback
from bisect import bisect_right
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from itertools import accumulate
from operator import itemgetter
from typing import Any, TypeVar

from pypinyin import lazy_pinyin
from sqlalchemy import Boolean, Connection, Dialect, Engine, Integer, Table, text
from sqlalchemy.dialects.sqlite.pysqlite import SQLiteDialect_pysqlite

from fieldrep.i18n import N_
from fieldrep.storage import demo_data as data
from fieldrep.storage import derived
from fieldrep.storage.enums import (
    AbcClass,
    CaseStatus,
    ChannelSegment,
    ChannelType,
    ClassScheme,
    ComplaintCategory,
    ComplaintStatus,
    ConflictAction,
    ConflictType,
    ContactMethod,
    CooperationInterest,
    CreditRisk,
    DealerPhilosophy,
    DealerStatus,
    DealerTier,
    DecisionRole,
    FollowUpDirection,
    FollowUpSource,
    FollowUpStatus,
    InfoSource,
    LegacyCategory,
    LegacyStatus,
    LifecycleStatus,
    NegotiationPoint,
    NextStep,
    ObjectionOutcome,
    ObjectionType,
    PartnershipSystem,
    PartnerTier,
    PaymentTerms,
    PerformanceClass,
    PeriodType,
    PlanHorizon,
    PlanItemStatus,
    ProcurementMode,
    ProjectStage,
    PromoType,
    ReachMode,
    RecordStatus,
    ReportSection,
    ResponsePattern,
    Role,
    SalesForm,
    ServiceTier,
    TrainingTopic,
    VisitType,
)
from fieldrep.storage.models import (
    AfterSalesEvent,
    Agreement,
    AppUser,
    Base,
    CarriedProduct,
    ChannelConflict,
    ChannelConflictDealer,
    ClassHistory,
    CompetitorNote,
    Complaint,
    Contact,
    ContactRecord,
    ContactRecordParticipant,
    CreditAssessment,
    CustomerMgmtReport,
    Dealer,
    DealerAssessment,
    FollowUp,
    FollowUpStep,
    LegacyIssue,
    NegotiationNote,
    Objection,
    ObjectionAnswer,
    Project,
    RelationshipGrade,
    ReportTask,
    RetailPriceChange,
    SalesFigure,
    SalesTarget,
    Territory,
    TrainingSession,
    VisitPlan,
    VisitPlanItem,
)
from fieldrep.storage.settings import (
    C_INTERVAL_DAYS,
    VERIFY_PERIOD_DAYS,
    VISITS_PER_MONTH_A,
    VISITS_PER_MONTH_B,
)
from fieldrep.storage.workdays import is_working_day

log = logging.getLogger("fieldrep.storage")

DEFAULT_DEALERS = 300
DEFAULT_SEED = 0
DEFAULT_TODAY = date(2026, 11, 25)

# The people the app signs in as for the demo, the same for every seed.
DEMO_REP_NAME = "李明"
DEMO_REP_USERNAME = "liming"
DEMO_MANAGER_NAME = "王建国"
DEMO_MANAGER_USERNAME = "wangjianguo"

# A dealer territory of this size or more spans all seven regions; a smaller
# one only 华东, 华南 and 华北.
ALL_REGIONS_FROM = 2000
DEALERS_PER_REP = 100
HISTORY_DAYS = 365
PLAN_DAYS_AHEAD = 5  # working days with a plan, today included
# Planned times of a day's new stops, in route order: two in the morning, the rest
# after lunch (a day has 4 to 6 of them).
PLANNED_SLOTS = (
    time(9, 0),
    time(10, 30),
    time(13, 30),
    time(15, 0),
    time(16, 0),
    time(17, 0),
)
ROUTE_GAP = timedelta(minutes=15)  # between two stops planned at the same time
BATCH_ROWS = 10_000
# From this many dealers a build generates rows in a second process while this one
# writes them; below it, starting that process costs more than it saves.
PARALLEL_FROM = 5_000

# Phases reported to ``progress`` (English, translated where shown).
PHASE_PEOPLE = N_("Territories and people")
PHASE_DEALERS = N_("Dealers and contacts")
PHASE_VISITS = N_("Visit history")
PHASE_SALES = N_("Sales figures")
PHASE_CASES = N_("Complaints, legacy issues and competitors")
PHASE_PLANS = N_("Visit plans")
PHASE_INDEX = N_("Search index and visit statistics")

Progress = Callable[[str, int, int], None]
Execute = Callable[[str, list[tuple[Any, ...]]], None]
T = TypeVar("T")
Row = dict[str, Any]

_ONE_DAY = timedelta(days=1)
_CHINA_OFFSET_HOURS = 8


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`build_demo` made: row counts per table and who to sign in as."""

    seed: int
    today: date
    counts: dict[str, int]
    territories: tuple[str, ...]
    rep_user_id: str
    rep_username: str
    rep_territory_id: str
    manager_username: str
    seconds: float

    @property
    def dealers(self) -> int:
        return self.counts.get("dealer", 0)

    @property
    def contacts(self) -> int:
        return self.counts.get("contact", 0)

    @property
    def contact_records(self) -> int:
        return self.counts.get("contact_record", 0)

    @property
    def total_rows(self) -> int:
        return sum(self.counts.values())


@dataclass(frozen=True)
class _Outcome:
    """What the generator reports back (crosses the process boundary in a parallel build)."""

    counts: dict[str, int]
    territories: tuple[str, ...]
    rep_user_id: str
    rep_territory_id: str


# ---------------------------------------------------------------- ids and time


class _Ids:
    """Deterministic UUIDv7-shaped ids: a fixed base timestamp, a counter, seeded bits.

    The counter fills the 12 ``rand_a`` bits and carries into the millisecond
    field (RFC 9562 method 1), so ids are unique and increase in creation order.
    """

    def __init__(self, rng: random.Random, base: datetime) -> None:
        self._bits = rng.getrandbits
        self._base_ms = int(base.timestamp() * 1000)
        self._count = 0

    def __call__(self) -> str:
        count = self._count
        self._count = count + 1
        value = (
            ((self._base_ms + (count >> 12)) << 80)
            | (0x7 << 76)
            | ((count & 0xFFF) << 64)
            | (0x2 << 62)
            | self._bits(62)
        )
        h = f"{value:032x}"
        return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


def _later(moment: time, step: timedelta) -> time:
    """``moment`` plus ``step`` on the same day (never past 23:59)."""
    minutes = min(moment.hour * 60 + moment.minute + int(step.total_seconds()) // 60, 23 * 60 + 59)
    return time(minutes // 60, minutes % 60)


def _at(day: date, hour: int, minute: int = 0) -> str:
    """The stored form of a wall-clock time in China (hour 8 to 23) as UtcDateTime writes it.

    The hot loops make millions of these: formatting text directly is several
    times faster than building aware datetimes for the column type to format
    (tests check both give the same text).
    """
    return f"{day.isoformat()}T{hour - _CHINA_OFFSET_HOURS:02d}:{minute:02d}:00.000000Z"


# ---------------------------------------------------------------- batched inserts


class _Batch:
    """Rows of one table waiting for an executemany of the table's INSERT."""

    __slots__ = ("converters", "count", "defaults", "getter", "rows", "sql", "stored", "table")

    def __init__(self, table: Table, dialect: Dialect, *, stored: bool) -> None:
        self.table = table
        self.stored = stored
        self.rows: list[Row] = []
        self.count = 0
        keys = [column.key for column in table.columns]
        self.getter = itemgetter(*keys)
        names = ", ".join(f'"{column.name}"' for column in table.columns)
        marks = ", ".join("?" for _ in keys)
        self.sql = f'INSERT INTO "{table.name}" ({names}) VALUES ({marks})'
        # The column types' own bind processors (our TypeDecorators included)
        # turn Python values into what SQLite stores.
        self.converters: list[tuple[int, Callable[[Any], Any]]] = []
        for index, column in enumerate(table.columns):
            if isinstance(column.type, Boolean | Integer):
                continue  # sqlite3 binds Python bools and ints as the integers SQLite stores
            processor = column.type.dialect_impl(dialect).bind_processor(dialect)
            if processor is not None:
                self.converters.append((index, processor))
        defaults: Row = {}
        for column in table.columns:
            default = column.default
            scalar = default is not None and getattr(default, "is_scalar", False)
            defaults[column.key] = getattr(default, "arg", None) if scalar else None
        defaults.update(row_version=0, deleted=False, deleted_at=None)
        self.defaults = defaults

    def parameters(self) -> list[tuple[Any, ...]]:
        """The rows as tuples in column order, converted by the column types.

        A value that is already text is taken as stored (enumeration members are
        their codes; the hot loops pass timestamps in stored form).
        """
        getter = self.getter
        if self.stored:
            _check_stored(self.table, self.rows[0])
            return [getter(row) for row in self.rows]
        converters = self.converters
        result: list[tuple[Any, ...]] = []
        append = result.append
        for row in self.rows:
            values = getter(row)
            if converters:
                converted = list(values)
                for index, processor in converters:
                    value = converted[index]
                    if value is not None and not isinstance(value, str):
                        converted[index] = processor(value)
                values = tuple(converted)
            append(values)
        return result


def _check_stored(table: Table, row: Row) -> None:
    """Refuse a Python value where a stored one was promised (it would bypass its type)."""
    for key, value in row.items():
        if value is not None and not isinstance(value, str | int | float):
            raise TypeError(f"{table.name}.{key}: {type(value).__name__} is not a stored value")


class _Loader:
    """Collects rows per table and inserts them in large executemany batches.

    Rows get every column (the defaults fill the ones not given), so that one
    statement serves a whole batch.
    """

    def __init__(self, execute: Execute, batch_rows: int = BATCH_ROWS) -> None:
        self._execute = execute
        # A fresh dialect on both sides of the two-process build: its bind
        # processors, not a connection's, decide the stored text.
        self._dialect = SQLiteDialect_pysqlite()
        self._batch_rows = batch_rows
        self._batches: dict[type[Base], _Batch] = {}

    def adder(self, model: type[Base], *, stored: bool = False) -> Callable[[Row], None]:
        """A fast ``add(row)`` for one table.

        ``stored``: the rows hold only what SQLite stores (text, integers, None),
        already in the form the column types write; the hot loops use it.
        """
        batch = self._batches.get(model)
        if batch is None:
            table = model.__table__
            assert isinstance(table, Table)
            batch = self._batches[model] = _Batch(table, self._dialect, stored=stored)
        assert batch.stored == stored
        rows = batch.rows
        defaults = batch.defaults
        limit = self._batch_rows
        flush = self._flush

        def add(row: Row) -> None:
            rows.append({**defaults, **row})
            if len(rows) >= limit:
                flush(batch)

        return add

    def add(self, model: type[Base], row: Row) -> None:
        self.adder(model)(row)

    def _flush(self, batch: _Batch) -> None:
        if batch.rows:
            self._execute(batch.sql, batch.parameters())
            batch.count += len(batch.rows)
            batch.rows.clear()

    def flush_all(self) -> None:
        for batch in self._batches.values():
            self._flush(batch)

    def counts(self) -> dict[str, int]:
        return {batch.table.name: batch.count for batch in self._batches.values() if batch.count}


# ---------------------------------------------------------------- what the generator remembers


@dataclass(slots=True)
class _Person:
    id: str
    name: str
    call: str  # how the rep refers to them in notes: 王总, 采购李娜
    role: str  # boss, purchaser, sales, settle, assistant


@dataclass(slots=True)
class _Rep:
    id: str
    name: str
    territory_id: str
    manager_id: str
    dealers: list[_Dealer] = field(default_factory=list)


@dataclass(slots=True)
class _Dealer:
    id: str
    territory_id: str
    rep: _Rep
    city: data.City
    district: str
    name: str
    short_name: str
    abc: AbcClass
    lifecycle: LifecycleStatus
    channel_type: ChannelType
    industry: data.Industry
    relationship_start: date
    competitor: str
    monthly_revenue: int  # yuan, the dealer's typical month with us
    people: list[_Person] = field(default_factory=list)
    last_visit: date | None = None
    interval_days: int = 30

    @property
    def cooperating(self) -> bool:
        return self.lifecycle in _COOPERATING

    def person(self, role: str) -> _Person | None:
        for person in self.people:
            if person.role == role:
                return person
        return None


_COOPERATING = frozenset(
    {LifecycleStatus.COOPERATING, LifecycleStatus.BENCHMARK, LifecycleStatus.TRAINING}
)
_DEVELOPING = frozenset(
    {
        LifecycleStatus.PROSPECT,
        LifecycleStatus.CONTACTED,
        LifecycleStatus.INTENT_STRONG,
        LifecycleStatus.INTENT_WEAK,
    }
)


# ---------------------------------------------------------------- the generator


class _Generator:
    """Makes the rows, phase by phase, in an order fixed by the seed."""

    def __init__(
        self,
        loader: _Loader,
        *,
        dealers: int,
        seed: int,
        today: date,
        progress: Progress | None,
    ) -> None:
        self.loader = loader
        self.dealer_count = dealers
        self.rng = random.Random(seed)
        self.today = today
        self.progress = progress
        self.history_start = today - timedelta(days=HISTORY_DAYS)
        base = datetime(self.history_start.year, self.history_start.month, 1, tzinfo=UTC)
        self.new_id = _Ids(random.Random(self.rng.getrandbits(64)), base)
        self.reps: list[_Rep] = []
        self.dealers: list[_Dealer] = []
        self.territories: list[tuple[str, str]] = []  # (id, region)
        self.manager_of: dict[str, str] = {}  # territory id -> manager user id
        # The team's playbook: per type, (answer id, answer text), all in one territory.
        self.playbook: dict[ObjectionType, list[tuple[str, str]]] = {}
        self.playbook_territory_id: str | None = None
        self.demo_rep: _Rep | None = None
        self._usernames: set[str] = set()
        self._company_names: set[str] = set()
        self._plan_ids: dict[tuple[str, date], str] = {}
        # The stops of each rep's day, numbered in the order of their times at the end.
        self._route_stops: dict[tuple[str, date], list[Row]] = {}
        self._working_days = self._working_day_table()

    # ------------------------------------------------------------ small helpers

    def _report(self, phase: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(phase, done, total)

    def chance(self, probability: float) -> bool:
        return self.rng.random() < probability

    def pick(self, options: Sequence[T]) -> T:
        return options[int(self.rng.random() * len(options))]

    def between(self, low: int, high: int) -> int:
        """A whole number from low to high, both included."""
        return low + int(self.rng.random() * (high - low + 1))

    def weighted(self, options: Sequence[T], cumulative: Sequence[float]) -> T:
        return options[bisect_right(cumulative, self.rng.random() * cumulative[-1])]

    def person_name(self, female: bool | None = None) -> str:
        surname = self.pick(data.SURNAMES)
        if female is None:
            female = self.chance(0.4)
        chars = data.GIVEN_FEMALE if female else data.GIVEN_MALE
        given = self.pick(chars) if self.chance(0.35) else self.pick(chars) + self.pick(chars)
        return surname + given

    def mobile(self) -> str:
        prefix = self.pick(_MOBILE_PREFIXES)
        return f"{prefix}{self.rng.getrandbits(30) % 100_000_000:08d}"

    def landline(self, city: data.City) -> str:
        first = self.pick("2345678")
        return f"{city.area_code}-{first}{self.rng.getrandbits(24) % 10_000_000:07d}"

    def credit_code(self, city: data.City) -> str:
        """A unified social credit code (GB 32100) with valid check characters."""
        digits = [self.between(0, 9) for _ in range(8)]
        org_check = (11 - sum(d * w for d, w in zip(digits, _ORG_WEIGHTS, strict=True)) % 11) % 11
        organisation = "".join(map(str, digits)) + ("X" if org_check == 10 else str(org_check))
        first_17 = "91" + city.division_code + organisation
        return first_17 + _uscc_check(first_17)

    def username(self, name: str) -> str:
        base = "".join(lazy_pinyin(name))
        candidate, number = base, 1
        while candidate in self._usernames:
            number += 1
            candidate = f"{base}{number}"
        self._usernames.add(candidate)
        return candidate

    def _working_day_table(self) -> list[date]:
        """Working days from a year before today to two weeks after it."""
        days: list[date] = []
        day = self.history_start - timedelta(days=30)
        while day <= self.today + timedelta(days=30):
            if is_working_day(day):
                days.append(day)
            day += _ONE_DAY
        return days

    def working_day_on_or_after(self, day: date) -> date:
        days = self._working_days
        index = bisect_right(days, day - _ONE_DAY)
        return days[index] if index < len(days) else day

    def working_days_from(self, day: date, count: int) -> list[date]:
        days = self._working_days
        index = bisect_right(days, day - _ONE_DAY)
        return days[index : index + count]

    def sync(self, row_id: str, territory_id: str, at: str, by: str | None) -> Row:
        """The sync columns of a new row written at ``at`` by ``by``."""
        return {
            "id": row_id,
            "territory_id": territory_id,
            "created_at": at,
            "updated_at": at,
            "updated_by": by,
        }

    # ------------------------------------------------------------ phases

    def run(self) -> _Outcome:
        self.make_people()
        self.make_dealers()
        self.make_visit_history()
        self.make_sales()
        self.make_cases()
        self.make_plans()
        self.loader.flush_all()
        assert self.demo_rep is not None
        return _Outcome(
            counts=self.loader.counts(),
            territories=tuple(region for _id, region in self.territories),
            rep_user_id=self.demo_rep.id,
            rep_territory_id=self.demo_rep.territory_id,
        )

    def make_people(self) -> None:
        """Territories by region, an area manager each, reps, and the objection playbook."""
        self._report(PHASE_PEOPLE, 0, 1)
        regions = (
            data.REGION_ORDER if self.dealer_count >= ALL_REGIONS_FROM else data.REGION_ORDER[:3]
        )
        self.region_cities: dict[str, list[data.City]] = {
            region: [c for c in data.CITIES if c.province in data.REGION_PROVINCES[region]]
            for region in regions
        }
        weights = [sum(c.weight for c in self.region_cities[r]) for r in regions]
        shares = _split(self.dealer_count, weights)
        self.region_dealers = dict(zip(regions, shares, strict=True))
        created = _at(self.history_start - timedelta(days=60), 9)
        add_territory = self.loader.adder(Territory)
        add_user = self.loader.adder(AppUser)
        for index, region in enumerate(regions):
            territory_id = self.new_id()
            manager_id = self.new_id()
            self.territories.append((territory_id, region))
            self.manager_of[territory_id] = manager_id
            add_territory(
                {
                    **self.sync(territory_id, territory_id, created, None),
                    "name": f"{region}大区",
                    "region": region,
                    "manager_user_id": manager_id,
                }
            )
            manager_name = DEMO_MANAGER_NAME if index == 0 else self.person_name()
            manager_username = DEMO_MANAGER_USERNAME if index == 0 else self.username(manager_name)
            self._usernames.add(manager_username)
            add_user(
                {
                    **self.sync(manager_id, territory_id, created, None),
                    "username": manager_username,
                    "display_name": manager_name,
                    "role": Role.MANAGER,
                    "phone": self.mobile(),
                    "email": f"{manager_username}@xinghe.example.com",
                    "manager_user_id": None,
                }
            )
            rep_count = max(2, round(self.region_dealers[region] / DEALERS_PER_REP))
            for rep_index in range(rep_count):
                rep_id = self.new_id()
                demo = index == 0 and rep_index == 0
                name = DEMO_REP_NAME if demo else self.person_name()
                username = DEMO_REP_USERNAME if demo else self.username(name)
                self._usernames.add(username)
                rep = _Rep(rep_id, name, territory_id, manager_id)
                self.reps.append(rep)
                if demo:
                    self.demo_rep = rep
                add_user(
                    {
                        **self.sync(rep_id, territory_id, created, manager_id),
                        "username": username,
                        "display_name": name,
                        "role": Role.REP,
                        "phone": self.mobile(),
                        "email": f"{username}@xinghe.example.com",
                        "manager_user_id": manager_id,
                    }
                )
            if index == 0:
                self.make_playbook(territory_id, manager_id, created)
        self._report(PHASE_PEOPLE, 1, 1)

    def make_playbook(self, territory_id: str, manager_id: str, at: str) -> None:
        """The objection playbook, once: the demo manager's, in the demo rep's territory.

        Each answer is one row, so its success counts every objection that used it.
        A row lives in one territory (sync scope) and an objection may only use an
        answer of its own territory (the server refuses another's), so only this
        territory's objections link to the playbook; the other regions' managers
        have not written one (copying it into every territory made each answer
        show up once per territory with its uses split between the copies).
        """
        add = self.loader.adder(ObjectionAnswer)
        self.playbook_territory_id = territory_id
        for code, answers in data.PLAYBOOK.items():
            kind = ObjectionType(code)
            for title, answer, pattern, evidence in answers:
                answer_id = self.new_id()
                self.playbook.setdefault(kind, []).append((answer_id, answer))
                add(
                    {
                        **self.sync(answer_id, territory_id, at, manager_id),
                        "type": kind,
                        "title": title,
                        "answer_text": answer,
                        "response_pattern": ResponsePattern(pattern),
                        "evidence": evidence or None,
                        "source": "区域销售培训教材",
                        "author_user_id": manager_id,
                    }
                )

    # ------------------------------------------------------------ dealers

    def make_dealers(self) -> None:
        """Dealers with the 17 sections of the profile card, contacts and what hangs off them."""
        total = self.dealer_count
        self._report(PHASE_DEALERS, 0, total)
        industry_cumulative = list(accumulate(i.weight for i in data.INDUSTRIES))
        reps_by_territory: dict[str, list[_Rep]] = {}
        for rep in self.reps:
            reps_by_territory.setdefault(rep.territory_id, []).append(rep)
        done = 0
        for territory_id, region in self.territories:
            cities = self.region_cities[region]
            cumulative = list(accumulate(c.weight for c in cities))
            count = self.region_dealers[region]
            # 定域: each rep covers a contiguous run of the territory's cities.
            drawn = sorted(cities.index(self.weighted(cities, cumulative)) for _ in range(count))
            reps = reps_by_territory[territory_id]
            for position, city_index in enumerate(drawn):
                rep = reps[position * len(reps) // count]
                industry = self.weighted(data.INDUSTRIES, industry_cumulative)
                self.make_dealer(territory_id, rep, cities[city_index], industry)
                done += 1
                if done % 5000 == 0:
                    self._report(PHASE_DEALERS, done, total)
        self._report(PHASE_DEALERS, total, total)

    def company_name(self, city: data.City, industry: data.Industry) -> tuple[str, str]:
        for _attempt in range(50):
            brand = self.pick(data.BRAND_FIRST) + self.pick(data.BRAND_SECOND)
            if brand[0] == brand[1]:
                continue
            name = f"{city.short}{brand}{industry.suffix}{self.pick(data.COMPANY_FORMS)}"
            if name not in self._company_names:
                self._company_names.add(name)
                return name, f"{brand}{industry.suffix}"
        # A crowded city: add the district, as registrations there do.
        district = self.pick(city.districts)
        brand = self.pick(data.BRAND_FIRST) + self.pick(data.BRAND_SECOND)
        number = len(self._company_names)
        name = f"{city.short}{district}{brand}{industry.suffix}{number % 1000:03d}有限公司"
        self._company_names.add(name)
        return name, f"{brand}{industry.suffix}"

    def make_dealer(
        self, territory_id: str, rep: _Rep, city: data.City, industry: data.Industry
    ) -> None:
        rng = self.rng
        roll = rng.random()
        abc = AbcClass.A if roll < 0.2 else AbcClass.B if roll < 0.5 else AbcClass.C
        lifecycle = self.lifecycle_for(abc)
        channel_type = self.weighted(_CHANNEL_TYPES, list(accumulate(industry.channel_weights)))
        district = self.pick(city.districts)
        name, short_name = self.company_name(city, industry)
        if lifecycle in _DEVELOPING:
            start = self.today - timedelta(days=self.between(20, 150))
        else:
            start = date(self.between(2010, 2026), self.between(1, 12), self.between(1, 28))
            if start > self.today - timedelta(days=120):
                start = self.today - timedelta(days=self.between(120, 700))
        revenue_range = {AbcClass.A: (300_000, 1_200_000), AbcClass.B: (100_000, 400_000)}.get(
            abc, (20_000, 120_000)
        )
        dealer = _Dealer(
            id=self.new_id(),
            territory_id=territory_id,
            rep=rep,
            city=city,
            district=district,
            name=name,
            short_name=short_name,
            abc=abc,
            lifecycle=lifecycle,
            channel_type=channel_type,
            industry=industry,
            relationship_start=start,
            competitor=self.pick(data.COMPETITOR_NAMES),
            monthly_revenue=self.between(*revenue_range),
        )
        rep.dealers.append(dealer)
        self.dealers.append(dealer)
        created = _at(max(start, self.history_start - timedelta(days=30)), 10)
        contacts = self.make_contacts(dealer, created)
        credit = self.credit_review(dealer)
        self.add_dealer_row(dealer, contacts, created, credit)
        self.loader.add(CreditAssessment, credit)
        self.make_profile_children(dealer, created)

    def lifecycle_for(self, abc: AbcClass) -> LifecycleStatus:
        roll = self.rng.random()
        if abc == AbcClass.A:
            return LifecycleStatus.BENCHMARK if roll < 0.12 else LifecycleStatus.COOPERATING
        if abc == AbcClass.B:
            return LifecycleStatus.TRAINING if roll < 0.05 else LifecycleStatus.COOPERATING
        if roll < 0.04:
            return LifecycleStatus.PROSPECT
        if roll < 0.08:
            return LifecycleStatus.CONTACTED
        if roll < 0.11:
            return LifecycleStatus.INTENT_STRONG
        if roll < 0.13:
            return LifecycleStatus.INTENT_WEAK
        if roll < 0.17:
            return LifecycleStatus.TRAINING
        if roll < 0.19:
            return LifecycleStatus.ELIMINATED
        return LifecycleStatus.COOPERATING

    def make_contacts(self, dealer: _Dealer, created: str) -> list[Row]:
        """The boss, purchasing, sales and settlement people: 3 a dealer on average."""
        roll = self.rng.random()
        roles = ["boss", "purchaser"]
        if roll < 0.3:
            pass
        elif roll < 0.7:
            roles.append(self.pick(("sales", "settle")))
        else:
            roles += ["sales", "settle"]
        # Some dealers have no known senior contact yet: the card warns about it.
        if self.chance(0.05):
            roles[0] = "sales"
        rows: list[Row] = []
        boss_id: str | None = None
        for role in roles:
            rows.append(self.contact_row(dealer, role, created, boss_id))
            if role == "boss":
                boss_id = rows[-1]["id"]
        return rows

    def contact_row(self, dealer: _Dealer, role: str, created: str, boss_id: str | None) -> Row:
        female = self.chance(0.55 if role in ("settle", "purchaser") else 0.25)
        name = self.person_name(female)
        surname = name[0]
        title, department, call = {
            "boss": (self.pick(("总经理", "董事长", "老板")), "总经办", f"{surname}总"),
            "purchaser": ("采购经理", "采购部", f"采购{name}"),
            "sales": (self.pick(("销售主管", "业务经理", "门店店长")), "销售部", f"销售主管{name}"),
            "settle": (self.pick(("财务经理", "会计", "出纳")), "财务部", f"财务{name}"),
        }[role]
        person = _Person(self.new_id(), name, call, role)
        dealer.people.append(person)
        decision_role = {
            "boss": DecisionRole.DECISION_MAKER,
            "purchaser": DecisionRole.INFLUENCER,
            "sales": DecisionRole.USER,
            "settle": DecisionRole.GATEKEEPER,
        }[role]
        birth_year = self.between(1962, 1990) if role == "boss" else self.between(1972, 2001)
        username = "".join(lazy_pinyin(name)) if self.chance(0.3) else None
        return {
            **self.sync(person.id, dealer.territory_id, created, dealer.rep.id),
            "dealer_id": dealer.id,
            "name": name,
            "title": title,
            "department": department,
            "phone": self.landline(dealer.city) if self.chance(0.4) else None,
            "mobile": self.mobile(),
            "email": f"{username}@163.com" if username else None,
            "wechat": f"wx_{self.rng.getrandbits(32):08x}" if self.chance(0.6) else None,
            "address": None,
            "birth_date": date(birth_year, self.between(1, 12), self.between(1, 28)),
            "education": self.pick(data.EDUCATION),
            "native_place": f"{(c := self.pick(data.CITIES)).province}{c.name}",
            "family": self.pick(data.FAMILY) if self.chance(0.6) else None,
            "personality": self.pick(data.PERSONALITY),
            "hobbies": self.pick(data.HOBBIES),
            "decision_role": decision_role,
            "reports_to_id": boss_id if role != "boss" else None,
            "is_senior": role == "boss",
            "is_business_contact": role == "purchaser",
            "is_settlement_contact": role == "settle",
            "is_counterpart": role == "purchaser",
            "is_sales_staff": role == "sales",
            "is_shop_assistant": False,
            "cooperation_interest": CooperationInterest.COMPANY
            if role == "boss" or self.chance(0.7)
            else CooperationInterest.PERSONAL,
            "met_at": self.pick(("首次拜访", "经销商座谈会", "产品培训", "展会")),
            "project_role": None,
            "project_line": None,
            "can_block": False,
            "notes": None,
        }

    def add_dealer_row(
        self, dealer: _Dealer, contacts: list[Row], created: str, credit: Row
    ) -> None:
        rng = self.rng
        city = dealer.city
        abc = dealer.abc
        boss = dealer.person("boss")
        purchaser = dealer.person("purchaser")
        settle = dealer.person("settle")
        scale = {AbcClass.A: 3, AbcClass.B: 2, AbcClass.C: 1}[abc]
        employees = self.between(5, 20) * scale * scale
        outlets = self.between(1, 3) * scale
        market = self.pick(data.MARKETS)
        road = self.pick(data.ROADS)
        # 上海市长宁区…, not 上海市上海市长宁区…, for the four municipalities.
        province = "" if city.province == city.name else city.province
        address = f"{province}{city.name}{dealer.district}{road}{self.between(1, 999)}号"
        if self.chance(0.4):
            address += f"{city.short}{market}{self.pick(data.BUILDINGS)}{self.between(1, 5)}楼"
        brand_pinyin = "".join(lazy_pinyin(dealer.short_name[:2]))
        year = dealer.relationship_start.year
        key_people = "；".join(f"{c['title']}{c['name']}" for c in contacts)
        self.loader.add(
            Dealer,
            {
                **self.sync(dealer.id, dealer.territory_id, created, dealer.rep.id),
                "name": dealer.name,
                "short_name": dealer.short_name,
                "province": city.province,
                "city": city.name,
                "district": dealer.district,
                "address": address,
                "phone": self.landline(city),
                "fax": self.landline(city) if self.chance(0.4) else None,
                "email": f"{brand_pinyin}{self.between(1, 999)}@{self.pick(_MAIL_DOMAINS)}"
                if self.chance(0.6)
                else None,
                "website": f"www.{brand_pinyin}{city.area_code[1:]}.com"
                if self.chance(0.1)
                else None,
                "credit_code": self.credit_code(city),
                "legal_rep": boss.name if boss else self.person_name(),
                "key_personnel": key_people,
                "outlet_count": outlets,
                "outlets": f"{dealer.district}总店" + (f"等{outlets}家门店" if outlets > 1 else ""),
                "business_scale": f"年营业额约{dealer.monthly_revenue * 12 // 10_000 * 3}万元，"
                f"员工{employees}人",
                "employee_count": employees,
                "registered_capital": Decimal(
                    self.pick((50, 100, 200, 500, 1000)) * scale * 10_000
                ),
                "category_sales_capacity": Decimal(dealer.monthly_revenue * 12 * 3),
                "business_rules": self.pick(data.BUSINESS_RULES),
                "relationship_start_date": dealer.relationship_start,
                "our_contact_user_id": dealer.rep.id,
                "their_contact_id": purchaser.id if purchaser else None,
                "initial_class": abc.code if self.chance(0.7) else self.pick("ABC"),
                "main_products": dealer.industry.main_products,
                "reputation": self.pick(data.REPUTATION),
                "location_desc": self.pick(data.LOCATION_DESC).format(
                    district=dealer.district, market=market
                ),
                "floor_area": Decimal(self.between(40, 200) * scale),
                "attitude": self.pick(data.ATTITUDE),
                "volume_desc": f"月均出货约{dealer.monthly_revenue // 3500}台",
                "stock_desc": f"常备库存约{dealer.monthly_revenue // 7000}台",
                "abc_class": abc,
                "performance_class": {
                    AbcClass.A: PerformanceClass.FIVE,
                    AbcClass.B: PerformanceClass.THREE,
                    AbcClass.C: PerformanceClass.TWO,
                }[abc],
                "credit_grade": credit["overall_grade"],
                "relationship_grade": self.pick(("优", "良", "良", "中")),
                "annual_integrated_class": abc.code,
                "service_tier": ServiceTier.VIP
                if abc == AbcClass.A and self.chance(0.5)
                else ServiceTier.REGULAR,
                "partner_tier": PartnerTier.GOLD
                if abc == AbcClass.A
                else PartnerTier.SILVER
                if abc == AbcClass.B and self.chance(0.4)
                else PartnerTier.NONE,
                "is_key_account": abc == AbcClass.A and self.chance(0.6),
                "is_benchmark": dealer.lifecycle == LifecycleStatus.BENCHMARK,
                "lifecycle_status": dealer.lifecycle,
                "status": DealerStatus.CLOSED
                if dealer.lifecycle == LifecycleStatus.ELIMINATED
                else DealerStatus.ACTIVE,
                "settlement_time": self.pick(data.SETTLEMENT_TIME),
                "settlement_method": self.pick(data.SETTLEMENT_METHOD),
                "invoice_usage": self.pick(data.INVOICE_USAGE),
                "settlement_procedure": self.pick(data.SETTLEMENT_PROCEDURE),
                "business_contact_id": purchaser.id if purchaser else None,
                "settlement_contact_id": settle.id if settle else None,
                # From the 5C review: high risk never gets extended terms (invariant 14).
                "payment_terms": credit["payment_terms"],
                "credit_limit": Decimal(dealer.monthly_revenue // 10_000 * 10_000 + 50_000),
                "delivery_requirements": self.pick(data.DELIVERY_REQUIREMENTS),
                "after_sales_terms": self.pick(data.AFTER_SALES_TERMS),
                "nature": self.pick(data.NATURE),
                "history": f"成立于{year - self.between(1, 12)}年，{self.pick(_HISTORY_TAILS)}",
                "staff_quality": self.pick(data.STAFF_QUALITY),
                "warehouse_capacity": self.pick(data.WAREHOUSE),
                "delivery_capacity": self.pick(data.DELIVERY_CAPACITY),
                "philosophy": DealerPhilosophy.SUSTAINED
                if rng.random() < 0.7
                else DealerPhilosophy.QUICK_MONEY,
                "local_market_share": Decimal(self.between(2, 25)),
                "profit_level": self.pick(data.PROFIT_LEVEL),
                "financial_status": self.pick(data.FINANCIAL_STATUS),
                "management_level": self.pick(data.MANAGEMENT_LEVEL),
                "upstream_relations": f"同时代理{dealer.competitor}等品牌",
                "core_area": f"{city.name}{dealer.district}",
                "radiation_area": f"{city.name}及周边县市",
                "reach_mode": self.pick(_REACH_MODES),
                "customer_structure": self.pick(data.CUSTOMER_STRUCTURE),
                "promo_services": self.pick(data.PROMO_SERVICES),
                "business_mode": self.pick(data.BUSINESS_MODE),
                "product_dev_type": self.pick(data.PRODUCT_DEV_TYPE),
                "industries": self.pick(data.INDUSTRIES_SERVED),
                "success_case_industries": self.pick(data.INDUSTRIES_SERVED),
                "org_structure": self.pick(data.ORG_STRUCTURE),
                "decision_process": self.pick(data.DECISION_PROCESS),
                "resource_focus": self.pick(data.RESOURCE_FOCUS),
                "key_products": self.pick(data.OUR_PRODUCTS).variety,
                "support_needs": self.pick(data.SUPPORT_NEEDS),
                "cooperation_history": self.pick(data.COOPERATION_HISTORY).format(year=year)
                if dealer.cooperating
                else None,
                "expectations": self.pick(data.EXPECTATIONS),
                "channel_type": dealer.channel_type,
                "channel_segment": ChannelSegment.OFFLINE_AGENT
                if rng.random() < 0.75
                else self.pick(_SEGMENTS),
                "sales_form": self.pick(_SALES_FORMS),
                "partnership_system": PartnershipSystem.CONTRACT
                if rng.random() < 0.85
                else PartnershipSystem.ADMINISTERED,
                "tier": DealerTier.SUB_DISTRIBUTOR if rng.random() < 0.1 else DealerTier.DEALER,
                "has_business_license": True,
                "qualification_certs": self.pick(data.QUALIFICATIONS),
                "past_cases": self.pick(data.PAST_CASES),
                "after_sales_capability": self.pick(data.AFTER_SALES_CAPABILITY),
                "coverage": f"{city.name}{self.between(2, 8)}个区县",
                "customer_resources": f"长期客户约{self.between(20, 300)}家",
                "team_size": max(2, employees // 3),
                "financial_proof": self.pick(data.FINANCIAL_PROOF),
                "notes": self.pick(data.DEALER_NOTES).format(competitor=dealer.competitor) or None,
                "profile_reviewed_at": _at(self.today - timedelta(days=self.between(1, 240)), 18),
            },
        )
        add_contact = self.loader.adder(Contact)
        for row in contacts:
            add_contact(row)

    def credit_review(self, dealer: _Dealer) -> Row:
        """The dealer's latest 5C review: scores 1-5, grade, risk and payment terms."""
        base = {AbcClass.A: 4, AbcClass.B: 3, AbcClass.C: 2}[dealer.abc]
        scores = [min(5, max(1, base + self.between(-1, 1))) for _ in range(5)]
        average = sum(scores) / 5
        grade = next(grade for floor, grade in _CREDIT_GRADES if average >= floor)
        if average < 2.5:
            risk, terms = CreditRisk.HIGH, PaymentTerms.PREPAY
        elif average < 3.2:
            risk, terms = CreditRisk.MEDIUM, PaymentTerms.SHORTENED
        else:
            risk, terms = CreditRisk.LOW, PaymentTerms.NORMAL
        reviewed = self.today - timedelta(days=self.between(10, 300))
        return {
            **self.sync(self.new_id(), dealer.territory_id, _at(reviewed, 17), dealer.rep.id),
            "dealer_id": dealer.id,
            "reviewed_at": reviewed,
            "capital": scores[0],
            "character": scores[1],
            "capacity": scores[2],
            "collateral": scores[3],
            "condition": scores[4],
            "overall_grade": grade,
            "risk_level": risk,
            "payment_terms": terms,
            "credit_limit": Decimal(dealer.monthly_revenue // 10_000 * 10_000 + 50_000),
            "fulfilment_record": self.pick(
                ("近一年按时回款", "偶有逾期，金额不大", "曾有一次逾期超过60天")
            ),
            "third_party_source": self.pick(("企业信用信息公示系统", "银行征信报告", None)),
            "notes": None,
        }

    def make_profile_children(self, dealer: _Dealer, created: str) -> None:
        """Carried products, class history, 客情 grade, agreements, assessments, prices."""
        rep_id = dealer.rep.id
        territory = dealer.territory_id
        abc = dealer.abc
        base = {AbcClass.A: 4, AbcClass.B: 3, AbcClass.C: 2}[abc]
        add_product = self.loader.adder(CarriedProduct)
        ours = self.rng.sample(data.OUR_PRODUCTS, self.between(1, 3 if dealer.cooperating else 1))
        for product in ours:
            add_product(
                {
                    **self.sync(self.new_id(), territory, created, rep_id),
                    "dealer_id": dealer.id,
                    "brand": data.OUR_BRAND,
                    "variety": product.variety,
                    "spec": product.spec,
                    "is_ours": True,
                }
            )
        for brand, lines in self.rng.sample(data.COMPETITORS, self.between(1, 2)):
            add_product(
                {
                    **self.sync(self.new_id(), territory, created, rep_id),
                    "dealer_id": dealer.id,
                    "brand": brand,
                    "variety": self.pick(lines),
                    "spec": None,
                    "is_ours": False,
                }
            )

        if dealer.cooperating and self.chance(0.15):
            changed = self.today - timedelta(days=self.between(20, 330))
            old = self.pick([c for c in "ABC" if c != abc.code])
            self.loader.add(
                ClassHistory,
                {
                    **self.sync(self.new_id(), territory, _at(changed, 16), rep_id),
                    "dealer_id": dealer.id,
                    "scheme": ClassScheme.ABC,
                    "old_value": old,
                    "new_value": abc.code,
                    "reason": "年度评估销量提升，上调客户等级"
                    if old > abc.code
                    else "销量下滑、回款变慢，下调客户等级",
                    "changed_on": changed,
                    "changed_by": self.manager_of[territory],
                    "period_label": str(changed.year),
                },
            )
        if dealer.cooperating and (abc != AbcClass.C or self.chance(0.3)):
            quarter_start = date(self.today.year, ((self.today.month - 1) // 3) * 3 + 1, 1)
            month_before = quarter_start - _ONE_DAY
            previous_quarter = date(month_before.year, month_before.month - 2, 1)
            dims = [min(5, max(1, base + self.between(-1, 1))) for _ in range(5)]
            # 5 -> A, 4 -> B, 3 -> C, 2 or less -> D
            overall = "ABCD"[min(3, 5 - round(sum(dims) / 5))]
            self.loader.add(
                RelationshipGrade,
                {
                    **self.sync(self.new_id(), territory, _at(quarter_start, 17), rep_id),
                    "dealer_id": dealer.id,
                    "period_type": PeriodType.QUARTER,
                    "period_start": previous_quarter,
                    "familiarity": dims[0],
                    "closeness": dims[1],
                    "sales_support": dims[2],
                    "complaint_level": dims[3],
                    "receivable_level": dims[4],
                    "overall_grade": overall,
                    "notes": None,
                },
            )
        if dealer.cooperating and abc != AbcClass.C:
            year = self.today.year
            self.loader.add(
                Agreement,
                {
                    **self.sync(self.new_id(), territory, _at(date(year, 1, 8), 15), rep_id),
                    "dealer_id": dealer.id,
                    "title": f"{year}年度{data.OUR_BRAND}产品经销协议",
                    "signed_on": date(year, 1, self.between(5, 20)),
                    "valid_from": date(year, 1, 1),
                    "valid_to": date(year, 12, 31),
                    "file_ref": f"HT-{year}-{self.between(1000, 9999)}",
                    "terms": "年度任务按季度分解，返利与任务完成率挂钩，季度结算",
                    "sales_area": f"{dealer.city.name}{dealer.district}",
                    "price_system": "执行厂家统一指导价，出货价不得低于指导价的95%",
                    "after_sales_split": "经销商负责初检和送修，厂家承担保修期内维修费用",
                    "profit_margin": "差价+季度返利2%+年终奖励1%，均与任务挂钩",
                    "investment": f"经销商配备专职业务员{self.between(1, 4)}名，"
                    f"配送车辆{self.between(1, 3)}台",
                    "rights": "区域内独家分销，享有窜货保护"
                    if abc == AbcClass.A
                    else "非独家，享有窜货保护",
                    "risk": "质量问题退换货运费由厂家承担，过期品按协议比例分担",
                    "support": "提供样机、促销物料，节假日派驻导购员",
                    "is_exclusive": abc == AbcClass.A and self.chance(0.5),
                    "cross_territory_protection": True,
                    "policy_reference": f"渠道政策{year}-01号",
                },
            )
        if not dealer.cooperating or self.chance(0.03):
            fit = self.between(40, 90)
            assessed = max(dealer.relationship_start, self.history_start) + timedelta(days=7)
            self.loader.add(
                DealerAssessment,
                {
                    **self.sync(self.new_id(), territory, _at(assessed, 17), rep_id),
                    "dealer_id": dealer.id,
                    "assessed_at": min(assessed, self.today),
                    "credit_standard": self.pick(data.REPUTATION),
                    "scale_standard": f"员工约{self.between(10, 80)}人，自有仓库",
                    "network_standard": self.pick(data.CUSTOMER_STRUCTURE),
                    "philosophy_standard": self.pick(("重视长期经营", "偏重短期利润")),
                    "scope_conflict": self.chance(0.1),
                    "enthusiasm": self.pick(("积极", "一般", "观望")),
                    "operating_ability": self.pick(data.MANAGEMENT_LEVEL),
                    "reputation": self.pick(data.REPUTATION),
                    "social_relations": self.pick(("与本地政企客户关系好", "行业协会会员", "一般")),
                    "fit_score_pct": fit,
                    "conclusion": "契合度达标，建议重点开发"
                    if fit >= 60
                    else "契合度不足，暂缓开发",
                },
            )
        if dealer.lifecycle in (LifecycleStatus.INTENT_STRONG, LifecycleStatus.TRAINING):
            for point in self.rng.sample(list(NegotiationPoint), self.between(1, 3)):
                concession = self.chance(0.4)
                noted = self.today - timedelta(days=self.between(3, 40))
                self.loader.add(
                    NegotiationNote,
                    {
                        **self.sync(self.new_id(), territory, _at(noted, 18), rep_id),
                        "dealer_id": dealer.id,
                        "agreement_id": None,
                        "point": point,
                        "our_position": _NEGOTIATION[point][0],
                        "their_position": _NEGOTIATION[point][1],
                        "bottom_line": _NEGOTIATION[point][2],
                        "interests": "希望短期能赚钱，长期有发展，合作愉快",
                        "concession": "首单额外给予1%返利" if concession else None,
                        "policy_reference": f"新品首单政策{self.today.year}-07号"
                        if concession
                        else None,
                        "noted_on": noted,
                    },
                )
        if dealer.cooperating and self.chance(0.4):
            product = self.pick(data.OUR_PRODUCTS)
            changed = self.today - timedelta(days=self.between(5, 300))
            old_price = product.price + product.price * self.between(0, 10) // 100
            # A cut of 3 to 15 percent, in whole tens of yuan as shops price.
            new_price = max(10, (old_price * (100 - self.between(3, 15)) // 100) // 10 * 10 - 1)
            self.loader.add(
                RetailPriceChange,
                {
                    **self.sync(self.new_id(), territory, _at(changed, 17), rep_id),
                    "dealer_id": dealer.id,
                    "product": product.name,
                    "old_price": Decimal(old_price),
                    "new_price": Decimal(new_price),
                    "changed_on": changed,
                    "notes": self.pick(("跟进竞品降价", "厂家统一调价", "节日促销价")),
                },
            )
        if dealer.cooperating and self.chance(0.15):
            occurred = self.today - timedelta(days=self.between(5, 300))
            self.loader.add(
                AfterSalesEvent,
                {
                    **self.sync(self.new_id(), territory, _at(occurred, 16), rep_id),
                    "dealer_id": dealer.id,
                    "occurred_on": occurred,
                    "description": f"顾客购买的{self.pick(data.OUR_PRODUCTS).name}"
                    f"{self.pick(data.DEFECTS)}",
                    "handling": "由授权网点上门检测，更换主板后恢复正常",
                },
            )

    # ------------------------------------------------------------ visit history

    def make_visit_history(self) -> None:
        """A year of contact record cards, with participants, objections and follow-ups."""
        total = len(self.dealers)
        self._report(PHASE_VISITS, 0, total)
        intervals = {
            AbcClass.A: 30 / VISITS_PER_MONTH_A.default,
            AbcClass.B: 30 / VISITS_PER_MONTH_B.default,
            AbcClass.C: float(C_INTERVAL_DAYS.default),
        }
        self.plan_window_start = self.today - timedelta(days=self.today.weekday())
        history = _History(self)
        for done, dealer in enumerate(self.dealers, 1):
            dealer.interval_days = round(intervals[dealer.abc])
            history.make(dealer, intervals[dealer.abc])
            if done % 2000 == 0:
                self._report(PHASE_VISITS, done, total)
        self._report(PHASE_VISITS, total, total)

    def plan_id(self, rep: _Rep, day: date) -> str:
        key = (rep.id, day)
        found = self._plan_ids.get(key)
        if found is None:
            found = self._plan_ids[key] = self.new_id()
        return found

    def add_route_stop(self, rep: _Rep, day: date, item: Row) -> None:
        """Keep a plan item of the rep's day; :meth:`write_routes` numbers and writes it.

        A day's stops come from the visit history (done and added visits), the plans
        of the coming days and a missed visit; only when all are known can the route
        order follow the planned times (a rep reads stop 5 as coming after stop 4).
        """
        self._route_stops.setdefault((rep.id, day), []).append(item)

    def write_routes(self) -> None:
        """Each day's stops in the order of their planned times, numbered 1, 2, 3...

        Two stops planned at the same time keep the order they were made in, and the
        later one moves on by ROUTE_GAP, so a time never repeats or goes back.
        """
        add_item = self.loader.adder(VisitPlanItem)
        for stops in self._route_stops.values():
            stops.sort(key=itemgetter("time_slot"))  # stable: ties keep their order
            previous: time | None = None
            for seq, item in enumerate(stops, 1):
                slot: time = item["time_slot"]
                if previous is not None and slot <= previous:
                    slot = _later(previous, ROUTE_GAP)
                item["time_slot"] = previous = slot
                item["route_seq"] = seq
                add_item(item)
        self._route_stops.clear()

    # ------------------------------------------------------------ sales figures

    def make_sales(self) -> None:
        """Twelve months of volume, revenue, collections, receivables and stock per dealer."""
        total = len(self.dealers)
        self._report(PHASE_SALES, 0, total)
        months: list[date] = []
        month = self.today.replace(day=1)
        for _ in range(12):
            month = (month - _ONE_DAY).replace(day=1)
            months.append(month)
        months.reverse()
        add = self.loader.adder(SalesFigure, stored=True)
        rng = self.rng
        random = rng.random
        # Per month: its stored date, when its figures were entered, and whether the
        # dealer had time to confirm them (invariant 11) before today.
        month_facts = []
        for month in months:
            next_month = (month + timedelta(days=32)).replace(day=1)
            entered_on = next_month + _ONE_DAY if next_month < self.today else self.today - _ONE_DAY
            confirmable = next_month + timedelta(days=12) < self.today
            month_facts.append(
                (
                    month,
                    month.isoformat(),
                    _SEASON[month.month],
                    _at(entered_on, 18),
                    next_month,
                    confirmable,
                )
            )
        for done, dealer in enumerate(self.dealers, 1):
            if not dealer.cooperating:
                continue
            start_month = dealer.relationship_start.replace(day=1)
            receivable_fen = dealer.monthly_revenue * 30  # 30% of a month outstanding
            average_price = 2500 + self.between(0, 2000)
            retail_price = str(average_price + 300)
            share = str(self.between(3, 25))
            territory_id = dealer.territory_id
            rep_id = dealer.rep.id
            for month, month_text, season, entered, next_month, confirmable in month_facts:
                if month < start_month:
                    continue
                revenue_yuan = dealer.monthly_revenue * season * (0.75 + random() * 0.5)
                volume = max(1, int(revenue_yuan / average_price + 0.5))
                revenue_fen = volume * average_price * 100
                collected_fen = min(
                    receivable_fen + revenue_fen,
                    int((receivable_fen + revenue_fen * 0.7) * (0.8 + random() * 0.3)),
                )
                receivable_fen += revenue_fen - collected_fen
                confirmed = (
                    _at(next_month + timedelta(days=self.between(2, 10)), 15)
                    if confirmable and random() < 0.95
                    else None
                )
                add(
                    {
                        "id": self.new_id(),
                        "territory_id": territory_id,
                        "created_at": entered,
                        "updated_at": entered,
                        "updated_by": rep_id,
                        "dealer_id": dealer.id,
                        "period_type": PeriodType.MONTH,
                        "period_start": month_text,
                        "product": None,
                        "volume": str(volume),
                        "revenue": _fen(revenue_fen),
                        "collected": _fen(collected_fen),
                        "receivable": _fen(receivable_fen),
                        "dealer_inventory": str(int(volume * (0.3 + random() * 0.9) + 0.5)),
                        "retail_price": retail_price,
                        "purchase_qty": str(volume + self.between(-2, 5) if volume > 2 else volume),
                        "purchase_frequency": self.between(1, 6),
                        "market_share": share,
                        "dealer_confirmed_at": confirmed,
                    }
                )
            if done % 5000 == 0:
                self._report(PHASE_SALES, done, total)
        add_target = self.loader.adder(SalesTarget)
        for rep in self.reps:
            monthly = sum(d.monthly_revenue for d in rep.dealers if d.cooperating)
            for month in [*months, self.today.replace(day=1)]:
                target = monthly * _SEASON[month.month] * 1.1
                add_target(
                    {
                        **self.sync(self.new_id(), rep.territory_id, _at(month, 9), rep.manager_id),
                        "rep_user_id": rep.id,
                        "dealer_id": None,
                        "channel": "全渠道",
                        "period_type": PeriodType.MONTH,
                        "period_start": month,
                        "revenue_target": Decimal(round(target, -4)),
                        "volume_target": Decimal(round(target / 3500, -1)),
                        "collection_target": Decimal(round(target * 0.95, -4)),
                        "warning_line_pct": Decimal(80),
                    }
                )
        self._report(PHASE_SALES, total, total)

    # ------------------------------------------------------------ cases

    def make_cases(self) -> None:
        """Complaints, legacy issues, competitor notes, projects, conflicts, reports."""
        total = len(self.dealers)
        self._report(PHASE_CASES, 0, total)
        cases = _Cases(self)
        for done, dealer in enumerate(self.dealers, 1):
            cases.make(dealer)
            if done % 5000 == 0:
                self._report(PHASE_CASES, done, total)
        cases.make_conflicts()
        cases.make_reports()
        self._report(PHASE_CASES, total, total)

    # ------------------------------------------------------------ plans

    def make_plans(self) -> None:
        """Daily plans of this week and the next working days: Today has content."""
        self._report(PHASE_PLANS, 0, len(self.reps))
        upcoming = self.working_days_from(self.today, PLAN_DAYS_AHEAD)
        for done, rep in enumerate(self.reps, 1):
            # 定线: the most overdue dealers first, one district after another.
            candidates = [d for d in rep.dealers if d.lifecycle != LifecycleStatus.ELIMINATED]
            candidates.sort(key=lambda d: (_due(d, self.today), d.id))
            position = 0
            for day in upcoming:
                count = self.between(4, 6)
                chosen = candidates[position : position + count]
                position += count
                chosen.sort(key=lambda d: (d.district, d.id))
                for slot, dealer in zip(PLANNED_SLOTS, chosen, strict=False):
                    developing = dealer.lifecycle in _DEVELOPING
                    self.add_route_stop(
                        rep,
                        day,
                        {
                            **self.sync(
                                self.new_id(),
                                rep.territory_id,
                                _at(day - timedelta(days=self.between(1, 4)), 18),
                                rep.id,
                            ),
                            "plan_id": self.plan_id(rep, day),
                            "dealer_id": dealer.id,
                            "rep_user_id": rep.id,
                            "planned_date": day,
                            "time_slot": slot,
                            "route_seq": 0,  # numbered by write_routes
                            "frequency": _FREQUENCY_TEXT[dealer.abc],
                            "planned_minutes": self.pick((30, 45, 60, 90)),
                            "actual_minutes": None,
                            "status": PlanItemStatus.PLANNED,
                            "deviation_reason": None,
                            "visit_type": VisitType.DEVELOPMENT
                            if developing
                            else VisitType.RETURN_VISIT,
                            "objective": self.pick(data.OBJECTIVES),
                            "agenda": self.pick(data.AGENDAS),
                            "appointment_confirmed": day == self.today or self.chance(0.5),
                            "prep_checklist": None,
                            "contact_record_id": None,
                        },
                    )
            # A planned visit of this week that did not happen, with the reason.
            past_days = [
                d for d in self.working_days_from(self.plan_window_start, 5) if d < self.today
            ]
            if past_days and rep.dealers and self.chance(0.6):
                day = self.pick(past_days)
                dealer = self.pick(rep.dealers)
                self.add_route_stop(
                    rep,
                    day,
                    {
                        **self.sync(self.new_id(), rep.territory_id, _at(day, 18), rep.id),
                        "plan_id": self.plan_id(rep, day),
                        "dealer_id": dealer.id,
                        "rep_user_id": rep.id,
                        "planned_date": day,
                        "time_slot": time(16, 0),
                        "route_seq": 0,  # numbered by write_routes
                        "frequency": _FREQUENCY_TEXT[dealer.abc],
                        "planned_minutes": 60,
                        "actual_minutes": None,
                        "status": PlanItemStatus.NOT_DONE,
                        "deviation_reason": self.pick(data.DEVIATION_REASONS),
                        "visit_type": VisitType.RETURN_VISIT,
                        "objective": self.pick(data.OBJECTIVES),
                        "agenda": None,
                        "appointment_confirmed": False,
                        "prep_checklist": None,
                        "contact_record_id": None,
                    },
                )
            if done % 100 == 0:
                self._report(PHASE_PLANS, done, len(self.reps))
        self.write_routes()
        add_plan = self.loader.adder(VisitPlan)
        reps = {rep.id: rep for rep in self.reps}
        week_number = self.today.isocalendar().week
        for (rep_id, day), plan_id in self._plan_ids.items():
            rep = reps[rep_id]
            add_plan(
                {
                    **self.sync(plan_id, rep.territory_id, _at(day - _ONE_DAY, 19), rep.id),
                    "rep_user_id": rep.id,
                    "horizon": PlanHorizon.DAY,
                    "period_start": day,
                    "period_end": day,
                    "title": f"{day.month}月{day.day}日拜访计划（第{week_number}周）",
                    "notes": None,
                    "review": "按计划完成，个别客户改约" if day < self.today else None,
                }
            )
        self._report(PHASE_PLANS, len(self.reps), len(self.reps))


def _due(dealer: _Dealer, today: date) -> date:
    if dealer.last_visit is None:
        return today - timedelta(days=365)
    return dealer.last_visit + timedelta(days=dealer.interval_days)


# ---------------------------------------------------------------- visit history of one dealer


class _Slots(dict[str, Any]):
    """Template slots that draw their value the first time a template asks for it."""

    def __init__(self, given: dict[str, Any], makers: dict[str, Callable[[], Any]]) -> None:
        super().__init__(given)
        self.makers = makers

    def __missing__(self, key: str) -> Any:
        value = self[key] = self.makers[key]()
        return value


class _History:
    """Contact record cards of one dealer over the year, and what each visit produced."""

    def __init__(self, generator: _Generator) -> None:
        self.g = generator
        self.rng = generator.rng
        loader = generator.loader
        self.add_record = loader.adder(ContactRecord, stored=True)
        self.add_participant = loader.adder(ContactRecordParticipant, stored=True)
        self.add_objection = loader.adder(Objection, stored=True)
        self.add_follow_up = loader.adder(FollowUp, stored=True)
        self.add_step = loader.adder(FollowUpStep)
        self.add_training = loader.adder(TrainingSession)
        self.today = generator.today
        self.verify_days = timedelta(days=VERIFY_PERIOD_DAYS.default)
        g = generator
        # Slots of the card text, drawn only when the chosen template uses them.
        self.slot_makers: dict[str, Callable[[], Any]] = {
            "product": lambda: g.pick(data.OUR_PRODUCTS).name,
            "new_product": lambda: g.pick(data.NEW_PRODUCTS),
            "promo": lambda: g.pick(data.PROMOS),
            "stock": lambda: g.between(5, 80),
            "amount": lambda: g.between(3, 60),
            "flow": lambda: g.pick(data.FLOW),
            "count": lambda: g.between(2, 12),
            "defect": lambda: g.pick(data.DEFECTS),
            "topic": lambda: g.pick(data.TOPICS),
            "staff": lambda: g.between(8, 60),
            "outlets": lambda: g.between(1, 6),
        }

    def visit_days(self, dealer: _Dealer, interval: float) -> list[tuple[date, bool]]:
        """(day, is_phone_call) of every contact, oldest first."""
        g = self.g
        rng = self.rng
        start = max(dealer.relationship_start, g.history_start)
        end = self.today
        if dealer.lifecycle in _DEVELOPING:
            interval = max(10.0, (end - start).days / g.between(2, 5))
        elif dealer.lifecycle == LifecycleStatus.ELIMINATED:
            end = end - timedelta(days=g.between(60, 200))
        elif rng.random() < 0.08:
            # Neglected lately: these are the overdue dealers on the due list.
            end = end - timedelta(days=int(interval * (1 + rng.random() * 2)))
        diligence = 0.9 + rng.random() * 0.7
        days: list[tuple[date, bool]] = []
        offset = rng.random() * interval
        span = (end - start).days
        while offset < span:
            day = g.working_day_on_or_after(start + timedelta(days=int(offset)))
            if day >= end:
                break
            days.append((day, False))
            if rng.random() < 0.15:
                call = g.working_day_on_or_after(day + timedelta(days=g.between(3, 7)))
                if call < end:
                    days.append((call, True))
            offset += interval * diligence * (0.75 + rng.random() * 0.5)
        days.sort()
        return days

    def make(self, dealer: _Dealer, interval: float) -> None:
        days = self.visit_days(dealer, interval)
        if not days:
            return
        developing = dealer.lifecycle in _DEVELOPING
        base_slots = self.base_slots(dealer)
        last_index = len(days) - 1
        for index, (day, phone) in enumerate(days):
            self.make_record(dealer, day, phone, developing, index, index == last_index, base_slots)
        dealer.last_visit = max((day for day, phone in days if not phone), default=None)

    def base_slots(self, dealer: _Dealer) -> dict[str, Any]:
        boss = dealer.person("boss")
        purchaser = dealer.person("purchaser") or boss
        sales = dealer.person("sales") or purchaser
        settle = dealer.person("settle") or purchaser
        return {
            "boss": boss.call if boss else "老板",
            "purchaser": purchaser.call if purchaser else "采购",
            "sales": sales.call if sales else "业务员",
            "settle": settle.call if settle else "财务",
            "competitor": dealer.competitor,
            "district": dealer.district,
            "main_products": dealer.industry.main_products,
        }

    def make_record(
        self,
        dealer: _Dealer,
        day: date,
        phone: bool,
        developing: bool,
        index: int,
        last: bool,
        base_slots: dict[str, Any],
    ) -> None:
        g = self.g
        rng = self.rng
        rep = dealer.rep
        territory = dealer.territory_id
        record_id = g.new_id()
        # Who went: now and then the area manager joins for a senior visit.
        visit_type, method, templates = self.kind_of_visit(dealer, phone, developing, index)
        slots = _Slots(base_slots, self.slot_makers)
        slots["month"] = 12 if day.month == 1 else day.month - 1
        content = g.pick(templates).format_map(slots)
        hour = g.between(9, 16)
        minute = g.pick((0, 10, 20, 30, 40, 50))
        contact_at = _at(day, hour, minute)
        written = _at(day, hour + g.between(1, 5), minute)
        draft = (self.today - day).days <= 2 and rng.random() < 0.3
        people = dealer.people
        participants = self.participants(dealer, visit_type, phone)
        agreements: list[tuple[str, str]] = []
        if not phone and rng.random() < 0.35:
            agreements.append(g.pick(data.AGREEMENTS))
            if rng.random() < 0.2:
                second = g.pick(data.AGREEMENTS)
                if second != agreements[0]:
                    agreements.append(second)
        plan_item_id: str | None = None
        if day >= g.plan_window_start and not phone:
            plan_item_id = g.new_id()
            g.add_route_stop(
                rep,
                day,
                {
                    **g.sync(plan_item_id, territory, _at(day - _ONE_DAY, 18), rep.id),
                    "plan_id": g.plan_id(rep, day),
                    "dealer_id": dealer.id,
                    "rep_user_id": rep.id,
                    "planned_date": day,
                    "time_slot": time(hour, minute),
                    "route_seq": 0,  # numbered by write_routes
                    "frequency": _FREQUENCY_TEXT[dealer.abc],
                    "planned_minutes": 60,
                    "actual_minutes": g.between(30, 120),
                    "status": PlanItemStatus.ADDED if rng.random() < 0.15 else PlanItemStatus.DONE,
                    "deviation_reason": None,
                    "visit_type": visit_type,
                    "objective": g.pick(data.OBJECTIVES),
                    "agenda": g.pick(data.AGENDAS),
                    "appointment_confirmed": True,
                    "prep_checklist": None,
                    "contact_record_id": record_id,
                },
            )
        successes = g.pick(data.SUCCESSES)
        if rng.random() < 0.4:
            successes += "；" + g.pick(data.SUCCESSES)
        self.add_record(
            {
                "id": record_id,
                "territory_id": territory,
                "created_at": written,
                "updated_at": written,
                "updated_by": rep.id,
                "dealer_id": dealer.id,
                "plan_item_id": plan_item_id,
                "rep_user_id": rep.id,
                "contact_at": contact_at,
                "contact_method": method,
                "visit_type": visit_type,
                "location": "电话"
                if phone
                else g.pick(data.LOCATIONS_MEETING)
                if method == ContactMethod.MEETING
                else g.pick(data.LOCATIONS_VISIT),
                "participants": "、".join(p.call for p in participants) or None,
                "content": content,
                "successes": successes,
                "shortcomings": g.pick(data.SHORTCOMINGS),
                "lessons": g.pick(data.LESSONS),
                "new_agreements": "\n".join(text for text, _d in agreements) or None,
                "new_plans": g.pick(data.NEW_PLANS) if rng.random() < 0.25 else None,
                "special_notes": g.pick(data.SPECIAL_NOTES).format(competitor=dealer.competitor)
                if rng.random() < 0.12
                else None,
                "other": g.pick(data.OTHER_NOTES) if rng.random() < 0.05 else None,
                "info_gaps": g.pick(data.INFO_GAPS).format(competitor=dealer.competitor)
                if developing or rng.random() < 0.2
                else None,
                "sources_to_try": g.pick(data.SOURCES_TO_TRY)
                if developing or rng.random() < 0.1
                else None,
                "cooperation_intent": g.pick(data.COOPERATION_INTENT)
                if developing or rng.random() < 0.3
                else None,
                "next_step": self.next_step(dealer, last)
                if visit_type == VisitType.DEVELOPMENT
                else None,
                "figures_confirmed": data.FIGURES_CONFIRMED.format(
                    month=slots["month"],
                    qty=dealer.monthly_revenue // 3500,
                    amount=dealer.monthly_revenue // 10_000,
                )
                if not developing and not phone and rng.random() < 0.15
                else None,
                "status": RecordStatus.DRAFT if draft else RecordStatus.FINAL,
                "finalised_at": None if draft else written,
            }
        )
        for person in participants:
            self.add_participant(
                {
                    "id": g.new_id(),
                    "territory_id": territory,
                    "created_at": written,
                    "updated_at": written,
                    "updated_by": rep.id,
                    "contact_record_id": record_id,
                    "contact_id": person.id,
                }
            )
        for agreement_text, direction in agreements:
            self.make_follow_up(
                dealer,
                day,
                written,
                agreement_text,
                FollowUpDirection(direction),
                FollowUpSource.VISIT_AGREEMENT,
                record_id,
            )
        if not phone and people and rng.random() < 0.22:
            self.make_objection(dealer, day, written, record_id, participants)
        if visit_type == VisitType.TRAINING:
            self.make_training(dealer, day, contact_at, record_id, slots)

    def kind_of_visit(
        self, dealer: _Dealer, phone: bool, developing: bool, index: int
    ) -> tuple[VisitType, ContactMethod, tuple[str, ...]]:
        if phone:
            return VisitType.RETURN_VISIT, ContactMethod.PHONE, data.CONTENT_PHONE
        if developing:
            return VisitType.DEVELOPMENT, ContactMethod.VISIT, data.CONTENT_DEVELOPMENT
        roll = self.rng.random()
        if roll < 0.04:
            return VisitType.TRAINING, ContactMethod.TRAINING, data.CONTENT_TRAINING
        if roll < 0.10:
            return VisitType.ASSISTED, ContactMethod.VISIT, data.CONTENT_ASSISTED
        if roll < 0.14:
            return VisitType.EXEC_VISIT, ContactMethod.VISIT, data.CONTENT_EXEC
        if roll < 0.18:
            return VisitType.DEALER_MEETING, ContactMethod.MEETING, data.CONTENT_MEETING
        return VisitType.RETURN_VISIT, ContactMethod.VISIT, data.CONTENT_RETURN

    def participants(self, dealer: _Dealer, visit_type: VisitType, phone: bool) -> list[_Person]:
        people = dealer.people
        if not people:
            return []
        wanted = {
            VisitType.EXEC_VISIT: ("boss",),
            VisitType.TRAINING: ("sales", "purchaser"),
            VisitType.ASSISTED: ("sales",),
            VisitType.DEALER_MEETING: ("boss",),
        }.get(visit_type)
        if wanted:
            chosen = [p for p in people if p.role in wanted][:2]
            if chosen:
                return chosen
        first = self.g.pick(people)
        if phone or self.rng.random() < 0.8:
            return [first]
        second = self.g.pick(people)
        return [first] if second is first else [first, second]

    def next_step(self, dealer: _Dealer, last: bool) -> NextStep:
        if not last:
            return NextStep.CONTINUE
        if dealer.lifecycle == LifecycleStatus.INTENT_WEAK:
            return NextStep.NO_VALUE if self.rng.random() < 0.5 else NextStep.CONTINUE
        if dealer.lifecycle == LifecycleStatus.INTENT_STRONG:
            return NextStep.PURSUE_TRAINING
        return NextStep.CONTINUE

    def make_follow_up(
        self,
        dealer: _Dealer,
        day: date,
        written: str,
        title: str,
        direction: FollowUpDirection,
        source: FollowUpSource,
        source_id: str,
        *,
        owner_id: str | None = None,
        days: tuple[int, int] = (3, 14),
    ) -> str:
        g = self.g
        rng = self.rng
        today = self.today
        follow_up_id = g.new_id()
        due = g.working_day_on_or_after(day + timedelta(days=g.between(*days)))
        late = (today - due).days
        roll = rng.random()
        if late > 7:
            status = (
                FollowUpStatus.DONE
                if roll < 0.93
                else FollowUpStatus.CANCELLED
                if roll < 0.96
                else FollowUpStatus.IN_PROGRESS
                if roll < 0.985
                else FollowUpStatus.BLOCKED
            )
        elif late > 0:
            status = (
                FollowUpStatus.DONE
                if roll < 0.6
                else FollowUpStatus.OPEN
                if roll < 0.85
                else FollowUpStatus.IN_PROGRESS
            )
        else:
            status = (
                FollowUpStatus.OPEN
                if roll < 0.8
                else FollowUpStatus.IN_PROGRESS
                if roll < 0.95
                else FollowUpStatus.DONE
            )
        completed: str | None = None
        notified: str | None = None
        result: str | None = None
        updated = written
        if status == FollowUpStatus.DONE:
            finished = min(due - timedelta(days=g.between(0, 3)), today - _ONE_DAY)
            finished = max(finished, day)
            done_hour = g.between(10, 18)
            completed = _at(finished, done_hour)
            result = g.pick(_FOLLOW_UP_RESULTS[direction])
            if direction == FollowUpDirection.WE_OWE:
                notified = _at(finished, done_hour + g.between(1, 4))
            updated = max(written, notified or completed)
        elif status == FollowUpStatus.CANCELLED:
            result = "经销商调整计划，此事取消"
            updated = max(written, _at(min(due, today - _ONE_DAY), 17))
        elif status == FollowUpStatus.BLOCKED:
            result = "等待公司相关部门审批，已向区域经理升级"
        row = g.sync(follow_up_id, dealer.territory_id, written, dealer.rep.id)
        row["updated_at"] = updated
        row.update(
            {
                "title": title,
                "details": None,
                "owner_user_id": owner_id or dealer.rep.id,
                "due_on": due.isoformat(),
                "dealer_id": dealer.id,
                "source_type": source,
                "source_id": source_id,
                "direction": direction,
                "counterpart_dept": "市场部" if direction == FollowUpDirection.INTERNAL else None,
                "status": status,
                "result": result,
                "result_notified_at": notified,
                "verify_by": (due + self.verify_days).isoformat(),
                "escalated": status == FollowUpStatus.BLOCKED,
                "completed_at": completed,
                "reminded_at": _at(due - _ONE_DAY, 9) if due - _ONE_DAY < today else None,
            }
        )
        self.add_follow_up(row)
        if status in (FollowUpStatus.OPEN, FollowUpStatus.IN_PROGRESS) and (
            direction == FollowUpDirection.WE_OWE
        ):
            first, second = g.pick(data.AGREEMENT_STEPS)
            for seq, (description, step_due) in enumerate(
                ((first, day + timedelta(days=2)), (second, due)), 1
            ):
                done = seq == 1 and step_due < today and status == FollowUpStatus.IN_PROGRESS
                self.add_step(
                    {
                        **g.sync(g.new_id(), dealer.territory_id, written, dealer.rep.id),
                        "follow_up_id": follow_up_id,
                        "seq": seq,
                        "description": description,
                        "due_on": step_due,
                        "done_at": _at(step_due, 16) if done else None,
                        "note": None,
                    }
                )
        return follow_up_id

    def make_objection(
        self,
        dealer: _Dealer,
        day: date,
        written: str,
        record_id: str,
        participants: list[_Person],
    ) -> None:
        g = self.g
        rng = self.rng
        code = g.weighted(_OBJECTION_CODES, _OBJECTION_CUMULATIVE)
        kind = ObjectionType(code)
        age = (self.today - day).days
        roll = rng.random()
        if age > 30:
            outcome = (
                ObjectionOutcome.RESOLVED
                if roll < 0.6
                else ObjectionOutcome.PARTIALLY
                if roll < 0.78
                else ObjectionOutcome.DEFERRED
                if roll < 0.88
                else ObjectionOutcome.LOST
                if roll < 0.93
                else ObjectionOutcome.OPEN
            )
        else:
            outcome = (
                ObjectionOutcome.OPEN
                if roll < 0.5
                else ObjectionOutcome.RESOLVED
                if roll < 0.8
                else ObjectionOutcome.PARTIALLY
            )
        playbook = (
            g.playbook.get(kind, []) if dealer.territory_id == g.playbook_territory_id else []
        )
        # The words said are the linked answer's, else one of the training material's.
        linked = g.pick(playbook) if playbook and rng.random() < 0.6 else None
        answer_given = linked[1] if linked else g.pick(data.PLAYBOOK[code])[1]
        objection_id = g.new_id()
        follow_up_id: str | None = None
        if outcome in (ObjectionOutcome.OPEN, ObjectionOutcome.DEFERRED):
            follow_up_id = self.make_follow_up(
                dealer,
                day,
                written,
                data.OBJECTION_FOLLOW_UPS[code],
                FollowUpDirection.WE_OWE,
                FollowUpSource.OBJECTION,
                objection_id,
                days=(5, 15),
            )
        evidence = (
            rng.sample(data.OBJECTION_EVIDENCE, g.between(1, 2)) if rng.random() < 0.6 else None
        )
        self.add_objection(
            {
                **g.sync(objection_id, dealer.territory_id, written, dealer.rep.id),
                "dealer_id": dealer.id,
                "contact_record_id": record_id,
                "raised_by_contact_id": g.pick(participants).id if participants else None,
                "type": kind,
                "verbatim": g.pick(data.OBJECTION_VERBATIM[code]).format(
                    competitor=dealer.competitor
                ),
                "real_concern": g.pick(data.OBJECTION_CONCERN[code])
                if rng.random() < 0.85
                else None,
                "response_pattern": ResponsePattern(g.pick(data.OBJECTION_PATTERNS[code])),
                "answer_given": answer_given,
                "playbook_answer_id": linked[0] if linked else None,
                "evidence_used": json.dumps(evidence, ensure_ascii=False) if evidence else None,
                "outcome": outcome,
                "follow_up_id": follow_up_id,
                "raised_on": day.isoformat(),
            }
        )

    def make_training(
        self, dealer: _Dealer, day: date, held_at: str, record_id: str, slots: dict[str, Any]
    ) -> None:
        g = self.g
        topic_code = g.pick(tuple(data.TRAINING_TOPICS))
        attendees = [g.person_name() for _ in range(g.between(3, 12))]
        customers = [
            g.pick(data.END_CUSTOMERS).format(city=dealer.city.short, district=dealer.district)
            for _ in range(g.between(2, 3))
        ]
        self.add_training(
            {
                **g.sync(g.new_id(), dealer.territory_id, held_at, dealer.rep.id),
                "dealer_id": dealer.id,
                "held_at": held_at,
                "topic_type": TrainingTopic(topic_code),
                "topic": data.TRAINING_TOPICS[topic_code].format(product=slots["product"]),
                "prepared_material": "针对对方的客户群做了专题PPT和竞品对比表",
                "cases_discussed": "同城学校电脑教室项目、连锁门店促销案例",
                "attendees": sorted(set(attendees)),
                "customer_names_collected": sorted(set(customers)),
                "qa_notes": "学员关心售后分工和项目报价，已现场解答",
                "exec_debrief_at": _at(day + timedelta(days=g.between(2, 7)), 15)
                if day + timedelta(days=7) < self.today
                else None,
                "contact_record_id": record_id,
            }
        )


# ---------------------------------------------------------------- cases of one dealer


class _Cases:
    """Complaints, legacy issues, competitor notes and projects."""

    def __init__(self, generator: _Generator) -> None:
        self.g = generator
        self.rng = generator.rng
        loader = generator.loader
        self.add_complaint = loader.adder(Complaint)
        self.add_legacy = loader.adder(LegacyIssue)
        self.add_competitor = loader.adder(CompetitorNote)
        self.add_project = loader.adder(Project)
        self.history = _History(generator)
        self.complaint_codes = tuple(data.COMPLAINTS)

    def day_in_history(self, dealer: _Dealer, latest: int = 1) -> date:
        start = max(dealer.relationship_start, self.g.history_start)
        span = max(1, (self.g.today - start).days - latest)
        return start + timedelta(days=int(self.rng.random() * span))

    def make(self, dealer: _Dealer) -> None:
        rng = self.rng
        if rng.random() < 0.3:
            self.make_complaint(dealer)
        if dealer.cooperating and rng.random() < 0.12:
            self.make_legacy_issue(dealer)
        if rng.random() < 0.5:
            self.make_competitor_note(dealer)
        if dealer.channel_type == ChannelType.INTEGRATION and rng.random() < 0.25:
            self.make_project(dealer)

    def make_complaint(self, dealer: _Dealer) -> None:
        g = self.g
        code = g.pick(self.complaint_codes)
        category = ComplaintCategory(code)
        received_day = self.day_in_history(dealer)
        received = _at(received_day, g.between(9, 17))
        age = (g.today - received_day).days
        dept = data.COMPLAINT_DEPTS[code]
        if age > 20:
            status = (
                ComplaintStatus.CLOSED if self.rng.random() < 0.92 else ComplaintStatus.ESCALATED
            )
        else:
            status = g.pick(
                (ComplaintStatus.RECEIVED, ComplaintStatus.HANDLING, ComplaintStatus.CLOSED)
            )
        # Closed one to fifteen days later, and before today.
        closed = (
            _at(
                received_day + timedelta(days=g.between(1, min(15, max(1, age - 1)))),
                g.between(9, 18),
            )
            if status == ComplaintStatus.CLOSED
            else None
        )
        row = g.sync(g.new_id(), dealer.territory_id, received, dealer.rep.id)
        row["updated_at"] = closed or received
        row.update(
            {
                "dealer_id": dealer.id,
                "category": category,
                "description": g.pick(data.COMPLAINTS[code]),
                "received_at": received,
                "handling": g.pick(data.COMPLAINT_HANDLING).format(dept=dept)
                if status != ComplaintStatus.RECEIVED
                else None,
                "responsible_dept": dept,
                "result": g.pick(data.COMPLAINT_RESULTS) if closed else None,
                "status": status,
                "escalated": status == ComplaintStatus.ESCALATED or self.rng.random() < 0.05,
                "closed_at": closed,
            }
        )
        self.add_complaint(row)

    def make_legacy_issue(self, dealer: _Dealer) -> None:
        g = self.g
        rng = self.rng
        code = g.pick((*(("evidenced",) * 2), "unresolvable", "discretionary", "discretionary"))
        category = LegacyCategory(code)
        title, description = g.pick(data.LEGACY_ISSUES[code])
        raised = self.day_in_history(dealer, latest=10)
        amount = g.between(2, 60) * 1000
        former = g.person_name(female=False)
        issue_id = g.new_id()
        answer: str | None = None
        resolution: str | None = None
        plan: str | None = None
        closed: str | None = None
        roll = rng.random()
        if category == LegacyCategory.EVIDENCED:
            status = LegacyStatus.RESOLVED if roll < 0.6 else LegacyStatus.IN_PROGRESS
            resolution = g.pick(data.LEGACY_RESOLUTIONS)
            if status == LegacyStatus.IN_PROGRESS:
                self.history.make_follow_up(
                    dealer,
                    raised,
                    _at(raised, 18),
                    f"解决遗留问题：{title}",
                    FollowUpDirection.WE_OWE,
                    FollowUpSource.LEGACY_ISSUE,
                    issue_id,
                    days=(10, 30),
                )
        elif category == LegacyCategory.UNRESOLVABLE:
            status = LegacyStatus.CLOSED if roll < 0.8 else LegacyStatus.OPEN
            answer = g.pick(data.LEGACY_ANSWERS) if status == LegacyStatus.CLOSED else None
        else:
            status = (
                LegacyStatus.OPEN
                if roll < 0.4
                else LegacyStatus.IN_PROGRESS
                if roll < 0.7
                else LegacyStatus.RESOLVED
            )
            plan = g.pick(data.LEGACY_PLANS)
            if status == LegacyStatus.RESOLVED:
                resolution = "结合促销方案以物料支持的形式解决"
        if status in (LegacyStatus.RESOLVED, LegacyStatus.CLOSED):
            closed_day = min(raised + timedelta(days=g.between(5, 60)), g.today - _ONE_DAY)
            closed = _at(closed_day, 17)
        created = _at(raised, 18)
        row = g.sync(issue_id, dealer.territory_id, created, dealer.rep.id)
        row["updated_at"] = closed or created
        row.update(
            {
                "dealer_id": dealer.id,
                "title": title,
                "description": description.format(
                    former=former,
                    year=g.between(2019, g.today.year - 1),
                    amount=amount,
                    city=dealer.city.name,
                    count=g.between(20, 200),
                ),
                "category": category,
                "evidence": rng.sample(data.LEGACY_EVIDENCE, 2)
                if category == LegacyCategory.EVIDENCED
                else None,
                "origin": f"前任区域经理{former}",
                "amount": Decimal(amount),
                "resolution": resolution,
                "answer_given": answer,
                "status": status,
                "linked_plan": plan,
                "raised_on": raised,
                "closed_at": closed,
            }
        )
        self.add_legacy(row)

    def make_competitor_note(self, dealer: _Dealer) -> None:
        g = self.g
        brand, lines = g.pick(data.COMPETITORS)
        observed = _at(self.day_in_history(dealer), g.between(9, 17))
        promo = g.pick(_PROMO_TYPES)
        self.add_competitor(
            {
                **g.sync(g.new_id(), dealer.territory_id, observed, dealer.rep.id),
                "dealer_id": dealer.id,
                "brand": brand,
                "product": g.pick(lines),
                "price": Decimal(g.between(8, 80) * 100 - 1),
                "promo_type": promo,
                "promo_details": g.pick(data.COMPETITOR_PROMO_DETAILS)
                if promo in (PromoType.TIME_LIMITED_DISCOUNT, PromoType.BUNDLE)
                else None,
                "after_sales": g.pick(data.COMPETITOR_AFTER_SALES),
                "channel_info": g.pick(data.COMPETITOR_CHANNEL),
                "market_share": Decimal(g.between(5, 35)),
                "strengths": g.pick(data.COMPETITOR_STRENGTHS),
                "weaknesses": g.pick(data.COMPETITOR_WEAKNESSES),
                "customer_opinion": g.pick(data.COMPETITOR_OPINIONS),
                "is_competitor_agent": brand == dealer.competitor,
                "observed_at": observed,
                "source": g.pick(data.COMPETITOR_SOURCES),
            }
        )

    def make_project(self, dealer: _Dealer) -> None:
        g = self.g
        customer = g.pick(data.END_CUSTOMERS).format(
            city=dealer.city.short, district=dealer.district
        )
        created_day = self.day_in_history(dealer, latest=5)
        stage = g.pick(list(ProjectStage))
        self.add_project(
            {
                **g.sync(g.new_id(), dealer.territory_id, _at(created_day, 17), dealer.rep.id),
                "dealer_id": dealer.id,
                "name": g.pick(data.PROJECT_NAMES).format(customer=customer),
                "end_customer": customer,
                "protection": g.pick(data.PROJECT_PROTECTION),
                "is_small_deal_handoff": self.rng.random() < 0.2,
                "info_source": g.pick(list(InfoSource)),
                "procurement_mode": g.pick(list(ProcurementMode)),
                "stage": stage,
                "estimated_amount": Decimal(g.between(10, 300) * 10_000),
                "expected_close_on": g.today + timedelta(days=g.between(20, 180)),
                "status": CaseStatus.CLOSED if stage == ProjectStage.COLLECT else CaseStatus.OPEN,
                "notes": "甲方工程部经理拍板，监理不能得罪",
            }
        )

    def make_conflicts(self) -> None:
        g = self.g
        add_conflict = g.loader.adder(ChannelConflict)
        add_affected = g.loader.adder(ChannelConflictDealer)
        if not g.dealers:
            return
        by_city: dict[str, list[_Dealer]] = {}
        for dealer in g.dealers:
            by_city.setdefault(dealer.city.name, []).append(dealer)
        count = max(1, len(g.dealers) // 300)
        for _ in range(count):
            offender = g.pick(g.dealers)
            kind = g.pick(list(ConflictType))
            reported = self.day_in_history(offender, latest=5)
            closed = reported + timedelta(days=30) < g.today and self.rng.random() < 0.6
            conflict_id = g.new_id()
            at = _at(reported, 17)
            other_city = g.pick(data.CITIES)
            add_conflict(
                {
                    **g.sync(conflict_id, offender.territory_id, at, offender.rep.manager_id),
                    "type": kind,
                    "offender_dealer_id": offender.id,
                    "region": offender.city.name,
                    "description": data.CONFLICT_DESCRIPTIONS[kind.code].format(
                        city=other_city.name
                    ),
                    "evidence": ["扫码追溯记录", "门店照片"],
                    "action": g.pick(list(ConflictAction)),
                    "status": CaseStatus.CLOSED if closed else CaseStatus.IN_PROGRESS,
                    "reported_on": reported,
                    "closed_at": _at(reported + timedelta(days=30), 17) if closed else None,
                }
            )
            neighbours = [d for d in by_city[offender.city.name] if d is not offender][:2]
            for affected in neighbours:
                add_affected(
                    {
                        **g.sync(g.new_id(), offender.territory_id, at, offender.rep.manager_id),
                        "conflict_id": conflict_id,
                        "dealer_id": affected.id,
                    }
                )

    def make_reports(self) -> None:
        g = self.g
        add_report = g.loader.adder(CustomerMgmtReport)
        add_task = g.loader.adder(ReportTask)
        end = g.today.replace(day=1) - _ONE_DAY
        start = end.replace(day=1)
        for rep in g.reps:
            report_id = g.new_id()
            at = _at(end + timedelta(days=2), 17)
            add_report(
                {
                    **g.sync(report_id, rep.territory_id, at, rep.id),
                    "rep_user_id": rep.id,
                    "period_type": PeriodType.MONTH,
                    "period_start": start,
                    "period_end": end,
                    "title": f"{start.year}年{start.month}月客户管理报告",
                    "summary": "本月重点客户回访按计划完成，回款略低于目标，新品铺货进度正常。",
                    "dealer_confirmed_at": None,
                    "submitted_at": at,
                }
            )
            for seq, section in enumerate(ReportSection, 1):
                name, key_data, problem = g.pick(data.REPORT_TASKS)
                add_task(
                    {
                        **g.sync(g.new_id(), rep.territory_id, at, rep.id),
                        "report_id": report_id,
                        "section": section,
                        "seq": seq,
                        "name": name,
                        "key_data": key_data.format(count=g.between(3, 20), pct=g.between(75, 105)),
                        "problems": problem,
                        "effective_solutions": "提前预约并准备对比资料"
                        if section == ReportSection.COMPLETED
                        else None,
                        "ineffective_solutions": None,
                        "thanks": "感谢市场部的物料支持"
                        if section == ReportSection.COMPLETED
                        else None,
                        "help_needed": "需要售后部门加快响应"
                        if section == ReportSection.IN_PROGRESS
                        else None,
                        "challenges": "年底资金紧张，回款压力大"
                        if section == ReportSection.NEW
                        else None,
                    }
                )


# ---------------------------------------------------------------- constants


def _uscc_check(first_17: str) -> str:
    alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
    total = sum(alphabet.index(c) * w for c, w in zip(first_17, _USCC_WEIGHTS, strict=True))
    return alphabet[(31 - total % 31) % 31]


def _fen(amount: int) -> str:
    """An amount in fen as DecimalText stores it in yuan: 123456 -> '1234.56'."""
    return f"{amount // 100}.{amount % 100:02d}"


def _split(total: int, weights: Sequence[int]) -> list[int]:
    """``total`` split in proportion to ``weights`` (largest remainders)."""
    whole = sum(weights)
    raw = [total * w / whole for w in weights]
    shares = [int(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: (shares[i] - raw[i], i))
    for index in by_remainder[: total - sum(shares)]:
        shares[index] += 1
    return shares


_CREDIT_GRADES = ((4.4, "AAA"), (3.8, "AA"), (3.0, "A"), (2.5, "B"), (0.0, "C"))
_USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)
# Mainland mobile number segments (134 and 154 are not in use).
_MOBILE_PREFIXES = tuple(
    str(segment)
    for segment in (*range(130, 140), *range(150, 160), 166, 173, 175, 176, 177, *range(180, 200))
    if segment not in (134, 154, 190, 192, 193, 194, 195, 196, 197)
)
_MAIL_DOMAINS = ("163.com", "126.com", "qq.com", "sina.com", "139.com")
_CHANNEL_TYPES = (ChannelType.PRODUCT, ChannelType.DISTRIBUTION, ChannelType.INTEGRATION)
_REACH_MODES = (ReachMode.DIRECT, ReachMode.DIRECT, ReachMode.SUB_DISTRIBUTOR)
_SEGMENTS = (ChannelSegment.ONLINE, ChannelSegment.VERTICAL)
_SALES_FORMS = (SalesForm.DISTRIBUTION, SalesForm.AGENCY, SalesForm.AGENCY, SalesForm.PURCHASE_SALE)
_PROMO_TYPES = (
    PromoType.TIME_LIMITED_DISCOUNT,
    PromoType.BUNDLE,
    PromoType.OTHER,
    PromoType.NONE,
)
_HISTORY_TAILS = (
    "由家电门店起家，后转做电脑数码",
    "创始人曾在国企做采购，熟悉政企渠道",
    "早年在电子市场做柜台批发，近年开了品牌门店",
    "从手机零售做起，逐步扩展到电脑和网络设备",
)
_FREQUENCY_TEXT = {AbcClass.A: "每月2次", AbcClass.B: "每月1次", AbcClass.C: "每两个月1次"}
# Monthly sales pattern of consumer electronics in China: 618, back to school,
# Double 11 and the year-end and Spring Festival stocking.
_SEASON = {
    1: 1.15,
    2: 0.7,
    3: 0.9,
    4: 0.9,
    5: 1.0,
    6: 1.25,
    7: 0.95,
    8: 1.05,
    9: 1.1,
    10: 1.0,
    11: 1.3,
    12: 1.2,
}
# Price and rebate objections are the most common, authority the least.
_OBJECTION_WEIGHTS = {
    "demand": 10,
    "financial": 12,
    "authority": 6,
    "price": 22,
    "product": 12,
    "brand": 10,
    "promotion": 12,
    "reward": 16,
}
_OBJECTION_CODES = tuple(_OBJECTION_WEIGHTS)
_OBJECTION_CUMULATIVE = list(accumulate(_OBJECTION_WEIGHTS.values()))
_FOLLOW_UP_RESULTS = {
    FollowUpDirection.WE_OWE: (
        "已按约定完成，电话告知对方并确认",
        "资料已发送，对方确认收到",
        "已协调相关部门处理完毕，结果已通报经销商",
    ),
    FollowUpDirection.DEALER_OWES: (
        "对方已按约定完成",
        "对方已付款，财务确认到账",
        "已收到对方提交的计划",
    ),
    FollowUpDirection.INTERNAL: ("内部已确认，方案可行", "财务已同意调整"),
}
_NEGOTIATION = {
    NegotiationPoint.PROFIT_MARGIN: (
        "差价+季度返利2%+年终奖励1%",
        "希望季度返利提到3%",
        "综合返点不超过6%",
    ),
    NegotiationPoint.INVESTMENT: ("经销商配2名专职业务员", "只能配1名兼职", "至少1名专职"),
    NegotiationPoint.RIGHTS: ("非独家，享有窜货保护", "要求区域独家", "独家需年任务达标后再谈"),
    NegotiationPoint.RISK: ("过期品按比例分担", "要求厂家全部承担", "质量问题厂家全担"),
    NegotiationPoint.SUPPORT: ("提供样机和物料", "要求派驻导购员", "旺季派驻导购员"),
}


# ---------------------------------------------------------------- entry point


def _driver(connection: Connection) -> sqlite3.Connection:
    raw = connection.connection.driver_connection
    assert isinstance(raw, sqlite3.Connection)
    return raw


@contextmanager
def _bulk_connection(engine: Engine) -> Iterator[Connection]:
    """A connection tuned for one big load, restored before it goes back to the pool.

    Foreign keys are checked by construction (and by the tests), not per row; a
    large page cache keeps the index pages of the big tables in memory. When no
    other connection has the file open, the load runs with a rollback journal
    instead of the WAL: new pages then go to the file once, instead of to the
    WAL first and to the file again at the checkpoint (gigabytes for a big demo).
    """
    with engine.connect() as connection:
        raw = _driver(connection)
        raw.execute("PRAGMA foreign_keys=OFF")
        raw.execute("PRAGMA cache_size=-262144")  # 256 MiB
        left_wal = _leave_wal(raw)
        try:
            yield connection
        finally:
            if left_wal:
                try:
                    raw.execute("PRAGMA journal_mode=WAL")
                except sqlite3.OperationalError:  # every new connection turns it on again
                    log.warning("could not switch the database back to WAL mode yet")
            raw.execute("PRAGMA foreign_keys=ON")
            raw.execute("PRAGMA cache_size=-2000")


def _leave_wal(raw: sqlite3.Connection) -> bool:
    """Switch to a rollback journal if this is the only connection; True if it did."""
    raw.execute("PRAGMA busy_timeout=0")
    try:
        mode = raw.execute("PRAGMA journal_mode=DELETE").fetchone()[0]
    except sqlite3.OperationalError:  # another connection holds the WAL open
        mode = "wal"
    finally:
        raw.execute("PRAGMA busy_timeout=10000")
    return str(mode).lower() == "delete"


@contextmanager
def _secondary_indexes_dropped(connection: Connection) -> Iterator[None]:
    """Drop the plain indexes of the domain tables for a bulk load, then remake them.

    Building an index once over loaded rows costs a fraction of updating it row by
    row; the indexes come back from the very SQL the migrations made them with.
    Unique indexes stay: they are part of the tables' constraints.
    """
    domain_tables = [table.name for table in Base.metadata.sorted_tables]
    marks = ", ".join(f":t{index}" for index in range(len(domain_tables)))
    rows = connection.execute(
        text(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
            f"AND sql NOT LIKE 'CREATE UNIQUE%' AND tbl_name IN ({marks}) ORDER BY name"
        ),
        {f"t{index}": name for index, name in enumerate(domain_tables)},
    ).all()
    for name, _sql in rows:
        connection.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    for _name, sql in rows:
        connection.exec_driver_sql(sql)


def _capture_table_exists(connection: Connection) -> bool:
    return (
        connection.execute(
            text("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_fr_capture'")
        ).first()
        is not None
    )


class DatabaseNotEmpty(Exception):
    """The demo goes only into a database without dealers (ids would collide)."""


def has_dealers(engine: Engine) -> bool:
    """True when the database holds any dealer row, deleted ones included."""
    with engine.connect() as connection:
        return connection.execute(text("SELECT 1 FROM dealer LIMIT 1")).first() is not None


def build_demo(
    engine: Engine,
    *,
    dealers: int = DEFAULT_DEALERS,
    seed: int = DEFAULT_SEED,
    today: date = DEFAULT_TODAY,
    progress: Progress | None = None,
    parallel: bool | None = None,
) -> DemoSummary:
    """Fill an empty FieldRep database with a demo territory of ``dealers`` dealers.

    Deterministic for ``seed`` and ``today``; one transaction, so a failure leaves
    the database as it was. ``progress(phase, done, total)`` reports the phases.
    ``parallel`` makes the rows in a second process while this one writes them
    (default: for big territories on a machine with two cores or more); the
    database is the same either way.
    """
    if dealers < 0:
        raise ValueError("dealers must not be negative")
    if has_dealers(engine):
        raise DatabaseNotEmpty()
    if parallel is None:
        parallel = dealers >= PARALLEL_FROM and (os.cpu_count() or 1) >= 2
    started = clock.perf_counter()
    # Millions of short-lived rows: the cyclic collector would walk them again and
    # again for nothing (they hold no cycles).
    collecting = gc.isenabled()
    gc.disable()
    try:
        with _bulk_connection(engine) as connection:
            with connection.begin():
                outcome = _load(connection, dealers, seed, today, progress, parallel)
            # The WAL now holds a copy of every page written: fold it back into the file.
            _driver(connection).execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        if collecting:
            gc.enable()
    if progress is not None:
        progress(PHASE_INDEX, 1, 1)
    summary = DemoSummary(
        seed=seed,
        today=today,
        counts=outcome.counts,
        territories=outcome.territories,
        rep_user_id=outcome.rep_user_id,
        rep_username=DEMO_REP_USERNAME,
        rep_territory_id=outcome.rep_territory_id,
        manager_username=DEMO_MANAGER_USERNAME,
        seconds=clock.perf_counter() - started,
    )
    log.info(
        "demo territory built: %d dealers, %d rows in %.1f s%s",
        summary.dealers,
        summary.total_rows,
        summary.seconds,
        " (two processes)" if parallel else "",
    )
    return summary


def _load(
    connection: Connection,
    dealers: int,
    seed: int,
    today: date,
    progress: Progress | None,
    parallel: bool,
) -> _Outcome:
    """Every row, inside the caller's transaction, with derived data rebuilt once."""
    # The demo is local seed data like a snapshot pull: never captured for push.
    capture = _capture_table_exists(connection)
    if capture:
        connection.exec_driver_sql("UPDATE _fr_capture SET enabled = 0")
    with derived.bulk_load(connection):
        with _secondary_indexes_dropped(connection):
            outcome = (
                _load_from_child(connection, dealers, seed, today, progress) if parallel else None
            )
            if outcome is None:

                def execute(sql: str, rows: list[tuple[Any, ...]]) -> None:
                    connection.exec_driver_sql(sql, rows)

                generator = _Generator(
                    _Loader(execute), dealers=dealers, seed=seed, today=today, progress=progress
                )
                outcome = generator.run()
        if progress is not None:
            progress(PHASE_INDEX, 0, 1)
    if capture:
        connection.exec_driver_sql("UPDATE _fr_capture SET enabled = 1")
    return outcome


def _load_from_child(
    connection: Connection, dealers: int, seed: int, today: date, progress: Progress | None
) -> _Outcome | None:
    """Insert the rows a child process generates: SQLite here, Python there, both busy.

    The child is a plain ``python -c`` running :func:`_child_main` (not
    multiprocessing, which would re-import the host program's main module) and
    sends pickled messages on its stdout. The pipe holds little, so the child
    never runs far ahead and memory stays flat. Returns None, so the caller
    builds in this process, when no child can be started (a frozen application)
    or it stopped before sending anything.
    """
    if getattr(sys, "frozen", False):
        return None
    environment = dict(os.environ)
    environment["PYTHONPATH"] = os.pathsep.join(path for path in sys.path if path)
    child = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from fieldrep.storage.demo import _child_main; _child_main()",
            str(dealers),
            str(seed),
            today.isoformat(),
        ],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=environment,
    )
    assert child.stdout is not None
    received = False
    try:
        while True:
            try:
                message = pickle.load(child.stdout)  # a fresh memo for each message
            except EOFError:
                if not received:
                    log.warning("demo generator process did not start; building in one process")
                    return None
                raise RuntimeError(
                    f"the demo generator process stopped unexpectedly ({child.poll()})"
                ) from None
            received = True
            kind = message[0]
            if kind == "rows":
                connection.exec_driver_sql(message[1], message[2])
            elif kind == "progress":
                if progress is not None:
                    progress(message[1], message[2], message[3])
            elif kind == "done":
                outcome: _Outcome = message[1]
                return outcome
            else:
                raise RuntimeError(f"the demo generator failed:\n{message[1]}")
    finally:
        child.stdout.close()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def _child_main() -> None:
    """The child's side of a parallel build: generate, send batches, then the outcome.

    Arguments: dealers, seed, today (YYYY-MM-DD). Only pickled messages go to the
    real stdout; anything else the child prints goes to stderr.
    """
    channel = sys.stdout.buffer
    sys.stdout = sys.stderr
    gc.disable()

    def send(message: tuple[Any, ...]) -> None:
        pickle.dump(message, channel, protocol=pickle.HIGHEST_PROTOCOL)
        channel.flush()

    try:
        dealers, seed, today = int(sys.argv[1]), int(sys.argv[2]), date.fromisoformat(sys.argv[3])
        generator = _Generator(
            _Loader(lambda sql, rows: send(("rows", sql, rows))),
            dealers=dealers,
            seed=seed,
            today=today,
            progress=lambda phase, done, total: send(("progress", phase, done, total)),
        )
        send(("done", generator.run()))
    except BrokenPipeError:  # the parent gave up: nothing to tell it
        sys.exit(1)
    except BaseException:
        send(("error", traceback.format_exc()))
        sys.exit(1)
