"""The queries views need: results, ordering, paging, warnings and index use."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from sqlalchemy import update as sql_update

from fieldrep.storage.models import Dealer, FollowUp
from fieldrep.storage.queries import (
    TimelineKind,
    WarningCode,
    dealer_timeline,
    dealer_warnings,
    dealers,
    open_complaints,
    open_legacy_issues,
    overdue_follow_ups,
    todays_plan,
)
from fieldrep.storage.services.cases import (
    close_complaint,
    create_complaint,
    create_legacy_issue,
    set_legacy_status,
)
from fieldrep.storage.services.contacts import add_contact
from fieldrep.storage.services.core import Record, Store
from fieldrep.storage.services.credit import FiveC, assess_credit
from fieldrep.storage.services.dealers import delete_dealer, update_dealer
from fieldrep.storage.services.followups import (
    FollowUpDraft,
    change_follow_up_status,
    create_follow_up,
)
from fieldrep.storage.services.settings_service import set_setting
from fieldrep.storage.services.visits import (
    AgreedItem,
    ObjectionDraft,
    VisitDraft,
    plan_visit,
    record_visit,
)
from fieldrep.storage.settings import STALE_PROFILE_DAYS
from fieldrep.storage.sorting import name_sort_key

MakeDealer = Callable[..., Record]
REP = "0190a000-0000-7000-8000-0000000000a1"
OTHER_REP = "0190a000-0000-7000-8000-0000000000a2"
TODAY = date(2026, 3, 16)


def test_dealers_by_class_city_status_paged(store: Store, make_dealer: MakeDealer) -> None:
    names = ["丙", "甲", "乙", "丁", "戊"]
    for index, name in enumerate(names):
        make_dealer(name=name, abc_class="A" if index % 2 == 0 else "B", city="杭州市")
    make_dealer(name="己", abc_class="A", city="宁波市")
    gone = make_dealer(name="庚", abc_class="A", city="杭州市")
    delete_dealer(store, gone.id)

    page = dealers(store, abc_class="A", city="杭州市")
    assert page.total == 3
    # Pinyin order: bing, wu, yi (code points would put 乙 before 戊).
    assert [row.name for row in page.items] == ["丙", "戊", "乙"]
    first = dealers(store, offset=0, limit=2)
    second = dealers(store, offset=2, limit=2)
    assert first.total == second.total == 6
    assert first.has_more
    everything = [row.name for row in dealers(store, limit=100).items]
    assert [row.name for row in first.items + second.items] == everything[:4]
    assert everything == sorted(everything, key=name_sort_key)
    update_dealer(store, page.items[0].id, {"status": "dormant"})
    assert dealers(store, status="dormant").total == 1
    assert dealers(store, status="active", abc_class="A").total == 3
    assert dealers(store, province="浙江省").total == 6


def test_dealer_timeline_merges_newest_first(store: Store, make_dealer: MakeDealer) -> None:
    dealer = make_dealer()
    older = record_visit(
        store,
        VisitDraft(
            dealer_id=dealer.id,
            contact_at=datetime(2026, 3, 1, 2, 0, tzinfo=UTC),
            content="首次拜访",
            objections=(ObjectionDraft(type="price", verbatim="太贵了"),),
        ),
    )
    newer = record_visit(
        store,
        VisitDraft(
            dealer_id=dealer.id,
            contact_at=datetime(2026, 3, 10, 2, 0, tzinfo=UTC),
            content="回访",
            new_agreements=(AgreedItem("寄资料"),),
        ),
    )
    complaint = create_complaint(
        store,
        dealer.id,
        {
            "category": "quality",
            "description": "外包装破损",
            "received_at": datetime(2026, 3, 5, 1, 0, tzinfo=UTC),
        },
    )
    issue = create_legacy_issue(
        store,
        dealer.id,
        {
            "title": "展柜费",
            "description": "前任承诺",
            "category": "discretionary",
            "raised_on": date(2026, 2, 1),
        },
    )
    follow_up_id = newer.follow_ups[0].id
    # A follow-up's time is when it was made: pin it an hour after the newer visit.
    with store.write() as session:
        session.execute(
            sql_update(FollowUp)
            .where(FollowUp.id == follow_up_id)
            .values(created_at=datetime(2026, 3, 10, 3, 0, tzinfo=UTC))
        )
    events = dealer_timeline(store, dealer.id)
    kinds = [(event.kind, event.row_id) for event in events]
    assert kinds == [
        (TimelineKind.FOLLOW_UP, follow_up_id),
        (TimelineKind.VISIT, newer.record.id),
        (TimelineKind.COMPLAINT, complaint.id),
        (TimelineKind.VISIT, older.record.id),
        (TimelineKind.OBJECTION, older.objections[0].id),
        (TimelineKind.LEGACY_ISSUE, issue.case.id),
    ]
    times = [event.at for event in events]
    assert times == sorted(times, reverse=True)
    assert [event.row_id for event in dealer_timeline(store, dealer.id, offset=2, limit=2)] == [
        complaint.id,
        older.record.id,
    ]
    assert events[1].title  # the visit type's label


def test_todays_plan_in_route_order(store: Store, make_dealer: MakeDealer) -> None:
    first, second, third = make_dealer(name="一号店"), make_dealer(name="二号店"), make_dealer()
    plan_visit(store, second.id, TODAY, values={"route_seq": 2})
    plan_visit(store, first.id, TODAY, values={"route_seq": 1, "objective": "谈培训"})
    plan_visit(store, third.id, TODAY + timedelta(days=1))
    plan_visit(store, third.id, TODAY, rep_user_id=OTHER_REP)
    rows = todays_plan(store)
    assert [(row.dealer_name, row.route_seq) for row in rows] == [("一号店", 1), ("二号店", 2)]
    assert rows[0].city == "杭州市"
    assert rows[0].objective == "谈培训"
    assert [row.dealer_id for row in todays_plan(store, rep_user_id=OTHER_REP)] == [third.id]
    assert [row.dealer_id for row in todays_plan(store, day=TODAY + timedelta(days=1))] == [
        third.id
    ]


def test_overdue_follow_ups_most_overdue_first(store: Store, make_dealer: MakeDealer) -> None:
    dealer = make_dealer(name="海信专卖店")
    late = create_follow_up(
        store, FollowUpDraft("十天前到期", due_on=TODAY - timedelta(days=10)), dealer_id=dealer.id
    )
    later = create_follow_up(store, FollowUpDraft("三天前到期", due_on=TODAY - timedelta(days=3)))
    create_follow_up(store, FollowUpDraft("今天到期", due_on=TODAY))
    done = create_follow_up(
        store, FollowUpDraft("已完成", due_on=TODAY - timedelta(days=20), direction="internal")
    )
    change_follow_up_status(store, done.id, "done")
    cancelled = create_follow_up(store, FollowUpDraft("已取消", due_on=TODAY - timedelta(days=30)))
    change_follow_up_status(store, cancelled.id, "cancelled")
    others = create_follow_up(
        store, FollowUpDraft("别人的", due_on=TODAY - timedelta(days=5), owner_user_id=OTHER_REP)
    )

    page = overdue_follow_ups(store)
    assert [row.id for row in page.items] == [late.id, others.id, later.id]
    assert [row.days_overdue for row in page.items] == [10, 5, 3]
    assert page.items[0].dealer_name == "海信专卖店"
    assert page.items[1].dealer_name is None
    mine = overdue_follow_ups(store, owner_user_id=REP)
    assert [row.id for row in mine.items] == [late.id, later.id]
    assert overdue_follow_ups(store, limit=1).total == 3
    assert overdue_follow_ups(store, today=TODAY - timedelta(days=4)).total == 2


def test_open_legacy_issues_and_complaints(store: Store, make_dealer: MakeDealer) -> None:
    dealer = make_dealer()
    values = {"description": "前任承诺", "category": "discretionary"}
    old = create_legacy_issue(
        store, dealer.id, {**values, "title": "旧", "raised_on": date(2025, 1, 1)}
    )
    new = create_legacy_issue(
        store, dealer.id, {**values, "title": "新", "raised_on": date(2026, 1, 1)}
    )
    evidenced = create_legacy_issue(
        store,
        dealer.id,
        {**values, "title": "有据", "category": "evidenced", "raised_on": date(2025, 6, 1)},
    )
    set_legacy_status(store, new.case.id, "resolved")
    assert [row.id for row in open_legacy_issues(store).items] == [old.case.id, evidenced.case.id]
    assert [row.id for row in open_legacy_issues(store, category="evidenced").items] == [
        evidenced.case.id
    ]
    first = create_complaint(
        store,
        dealer.id,
        {
            "category": "quality",
            "description": "破损",
            "received_at": datetime(2026, 3, 1, tzinfo=UTC),
        },
    )
    second = create_complaint(
        store,
        dealer.id,
        {
            "category": "stockout",
            "description": "断货",
            "received_at": datetime(2026, 3, 2, tzinfo=UTC),
        },
    )
    closed = create_complaint(store, dealer.id, {"category": "quality", "description": "已处理"})
    close_complaint(store, closed.id, "已补发")
    page = open_complaints(store, dealer_id=dealer.id)
    assert [row.id for row in page.items] == [first.id, second.id]
    delete_dealer(store, dealer.id)
    assert open_complaints(store).total == 0
    assert open_legacy_issues(store).total == 0


def test_dealer_warnings(store: Store, make_dealer: MakeDealer) -> None:
    dealer = make_dealer(
        address="文三路1号",
        phone="0571-87654321",
        legal_rep="王某",
        main_products="电视",
        channel_type="distribution",
    )
    codes = [warning.code for warning in dealer_warnings(store, dealer.id)]
    assert codes == [WarningCode.NO_SENIOR_CONTACT, WarningCode.INCOMPLETE_PROFILE]
    incomplete = dealer_warnings(store, dealer.id)[1]
    assert incomplete.field_names == ("settlement_method",)

    add_contact(store, dealer.id, {"name": "王总", "is_senior": True})
    update_dealer(store, dealer.id, {"settlement_method": "月结"})
    assert dealer_warnings(store, dealer.id) == []

    # A profile untouched for longer than the setting is stale.
    with store.write() as session:
        session.execute(
            sql_update(Dealer)
            .where(Dealer.id == dealer.id)
            .values(updated_at=datetime(2025, 1, 1, tzinfo=UTC))
        )
    [stale] = dealer_warnings(store, dealer.id)
    assert stale.code == WarningCode.STALE_PROFILE
    assert stale.params["limit"] == 180
    set_setting(store, STALE_PROFILE_DAYS, 3650)
    assert dealer_warnings(store, dealer.id) == []

    assess_credit(store, dealer.id, FiveC(1, 2, 1, 2, 1))
    codes = [warning.code for warning in dealer_warnings(store, dealer.id)]
    assert codes == [WarningCode.HIGH_CREDIT_RISK]


def test_warning_messages_name_fields(store: Store, make_dealer: MakeDealer, english: None) -> None:
    dealer = make_dealer()
    messages = [warning.message() for warning in dealer_warnings(store, dealer.id)]
    assert "senior visit" in messages[0]
    assert "Address" in messages[1] and "Channel type" in messages[1]


def plan(engine: Engine, sql: str, **params: object) -> str:
    with engine.connect() as connection:
        rows = connection.execute(text("EXPLAIN QUERY PLAN " + sql), params).all()
    return " | ".join(str(row[-1]) for row in rows)


@pytest.mark.parametrize(
    ("sql", "index"),
    [
        (
            "SELECT id FROM dealer WHERE deleted = 0 AND abc_class = 'A' ORDER BY name LIMIT 50",
            "ix_dealer_abc_class_name",
        ),
        (
            "SELECT id FROM dealer WHERE deleted = 0 AND city = '杭州市' ORDER BY name LIMIT 50",
            "ix_dealer_city_name",
        ),
        (
            "SELECT id FROM visit_plan_item WHERE rep_user_id = 'r' "
            "AND planned_date = '2026-03-16' AND deleted = 0 ORDER BY route_seq",
            "ix_visit_plan_item_rep_day_route",
        ),
        (
            "SELECT id FROM follow_up WHERE owner_user_id = 'r' AND due_on < '2026-03-16' "
            "AND deleted = 0 AND status IN ('open', 'in_progress', 'blocked') ORDER BY due_on",
            "ix_follow_up_owner_due",
        ),
        (
            "SELECT count(*) FROM follow_up WHERE due_on < '2026-03-16' AND deleted = 0 "
            "AND status IN ('open', 'in_progress', 'blocked')",
            "COVERING INDEX ix_follow_up_status_due",
        ),
        (
            "SELECT count(*) FROM dealer WHERE deleted = 0 AND status = 'active'",
            "COVERING INDEX ix_dealer_status_name",
        ),
        (
            "SELECT id FROM dealer WHERE deleted = 0 ORDER BY name LIMIT 50",
            "ix_dealer_live_name",
        ),
        (
            "SELECT id FROM complaint WHERE status IN ('received', 'handling') AND deleted = 0",
            "ix_complaint_status",
        ),
    ],
)
def test_queries_use_indexes(engine: Engine, sql: str, index: str) -> None:
    with engine.begin() as connection:
        connection.exec_driver_sql("ANALYZE")
    found = plan(engine, sql)
    assert index in found, found
    if "IN (" not in sql:  # rows from several IN ranges are merged by a small sort
        assert "USE TEMP B-TREE" not in found, found


def test_composite_indexes_are_declared_on_the_models() -> None:
    assert "ix_follow_up_owner_due" in {index.name for index in FollowUp.__table__.indexes}
    assert "ix_dealer_city_name" in {index.name for index in Dealer.__table__.indexes}
