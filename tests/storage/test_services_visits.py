"""Visit plans and record_visit: the whole visit is written, or nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from fieldrep.storage.enums import (
    FollowUpDirection,
    FollowUpSource,
    ObjectionOutcome,
    PlanItemStatus,
    RecordStatus,
)
from fieldrep.storage.errors import NotFound, ValidationError
from fieldrep.storage.models import (
    Base,
    ContactRecord,
    ContactRecordParticipant,
    FollowUp,
    Objection,
    VisitPlanItem,
)
from fieldrep.storage.services import core
from fieldrep.storage.services.contacts import add_contact
from fieldrep.storage.services.core import Record, Store
from fieldrep.storage.services.visits import (
    AgreedItem,
    ObjectionDraft,
    VisitDraft,
    create_plan,
    finalise_record,
    plan_visit,
    record_visit,
    set_plan_item_status,
)

Count = Callable[[type[Base]], int]
MakeDealer = Callable[..., Record]
REP = "0190a000-0000-7000-8000-0000000000a1"
OTHER_REP = "0190a000-0000-7000-8000-0000000000a2"
TODAY = date(2026, 3, 16)
# 10:00 in China on the fixed today.
VISIT_AT = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)
SUMMARY = {
    "content": "了解了经销商的组织架构与决策链,介绍了我司多产品线与本地标杆客户案例",
    "successes": "见到了老板,确认其对项目型产品感兴趣",
    "shortcomings": "没有带齐行业案例资料",
    "lessons": "拜访前要按渠道类型准备案例",
}


def full_draft(dealer: Record, **changes: object) -> VisitDraft:
    values: dict[str, object] = {
        "dealer_id": dealer.id,
        "contact_at": VISIT_AT,
        "location": "经销商办公室",
        "new_agreements": (
            AgreedItem("寄送行业需求资料并电话确认收到"),
            AgreedItem(
                "经销商给出拜访其客户的时间表",
                direction=FollowUpDirection.DEALER_OWES,
                due_on=TODAY + timedelta(days=3),
                owner_user_id=OTHER_REP,
            ),
        ),
        "new_plans": AgreedItem.from_lines("- 下周安排协助拜访\n\n争取月度培训机会"),
        "objections": (
            ObjectionDraft(
                type="price",
                verbatim="你们的价格太高了,我们的利润空间太小",
                real_concern="担心首批进货压资金",
                response_pattern="affirm_supplement_guide",
                follow_up_title="提供首单返利方案",
            ),
            ObjectionDraft(type="authority", verbatim="我们老板不在"),
        ),
        **SUMMARY,
    }
    values.update(changes)
    return VisitDraft(**values)  # type: ignore[arg-type]


def test_plan_visit_orders_the_route(store: Store, make_dealer: MakeDealer) -> None:
    plan = create_plan(store, "day", TODAY, TODAY, "3月16日拜访计划")
    first = plan_visit(store, make_dealer().id, TODAY, values={"plan_id": plan.id})
    second = plan_visit(store, make_dealer().id, TODAY, values={"time_slot": "14:30"})
    other_day = plan_visit(store, make_dealer().id, TODAY + timedelta(days=1))
    assert (first["route_seq"], second["route_seq"], other_day["route_seq"]) == (1, 2, 1)
    assert second["time_slot"] == time(14, 30)
    assert first["rep_user_id"] == REP
    assert first["status"] == PlanItemStatus.PLANNED


def test_plan_item_not_done_needs_reason(store: Store, make_dealer: MakeDealer) -> None:
    item = plan_visit(store, make_dealer().id, TODAY)
    with pytest.raises(ValidationError) as caught:
        set_plan_item_status(store, item.id, "not_done")
    assert caught.value.fields == ["deviation_reason"]
    done = set_plan_item_status(store, item.id, "not_done", deviation_reason="客户临时出差")
    assert done["status"] == PlanItemStatus.NOT_DONE


def test_record_visit_writes_everything(store: Store, make_dealer: MakeDealer) -> None:
    dealer = make_dealer()
    boss = add_contact(store, dealer.id, {"name": "王总", "is_senior": True})
    item = plan_visit(store, dealer.id, TODAY)
    result = record_visit(
        store, full_draft(dealer, participant_contact_ids=(boss.id, boss.id), actual_minutes=50)
    )

    record = result.record
    assert record["status"] == RecordStatus.DRAFT
    assert record["rep_user_id"] == REP
    assert record["plan_item_id"] == item.id
    assert (
        record["new_agreements"] == "寄送行业需求资料并电话确认收到\n经销商给出拜访其客户的时间表"
    )
    assert record["new_plans"] == "下周安排协助拜访\n争取月度培训机会"
    assert [row["contact_id"] for row in result.participants] == [boss.id]

    by_source: dict[FollowUpSource, list[Record]] = {}
    for follow_up in result.follow_ups:
        by_source.setdefault(follow_up["source_type"], []).append(follow_up)
    agreements = by_source[FollowUpSource.VISIT_AGREEMENT]
    assert [row["title"] for row in agreements] == [
        "寄送行业需求资料并电话确认收到",
        "经销商给出拜访其客户的时间表",
    ]
    assert agreements[0]["owner_user_id"] == REP
    assert agreements[0]["due_on"] == TODAY + timedelta(days=7)
    assert agreements[0]["verify_by"] == TODAY + timedelta(days=7 + 14)
    assert agreements[1]["owner_user_id"] == OTHER_REP
    assert agreements[1]["due_on"] == TODAY + timedelta(days=3)
    assert agreements[1]["direction"] == FollowUpDirection.DEALER_OWES
    assert all(row["source_id"] == record.id for row in agreements)
    plans = by_source[FollowUpSource.VISIT_PLAN]
    assert [row["title"] for row in plans] == ["下周安排协助拜访", "争取月度培训机会"]
    assert plans[0]["verify_by"] is None
    [objection_follow_up] = by_source[FollowUpSource.OBJECTION]

    price, authority = result.objections
    assert price["outcome"] == ObjectionOutcome.OPEN
    assert authority["outcome"] == ObjectionOutcome.OPEN
    assert price["follow_up_id"] == objection_follow_up.id
    assert objection_follow_up["source_id"] == price.id
    assert price["raised_on"] == TODAY
    assert price["contact_record_id"] == record.id

    assert result.plan_item is not None
    assert result.plan_item["status"] == PlanItemStatus.DONE
    assert result.plan_item["contact_record_id"] == record.id
    assert result.plan_item["actual_minutes"] == 50
    assert core.fetch(store, VisitPlanItem, item.id)["status"] == PlanItemStatus.DONE


def test_record_visit_finalised_at_once(store: Store, make_dealer: MakeDealer) -> None:
    result = record_visit(store, full_draft(make_dealer(), finalise=True))
    assert result.record["status"] == RecordStatus.FINAL
    assert result.record["finalised_at"] is not None


def test_unplanned_visit_leaves_other_plans_alone(store: Store, make_dealer: MakeDealer) -> None:
    dealer, other = make_dealer(), make_dealer()
    other_item = plan_visit(store, other.id, TODAY)
    tomorrow_item = plan_visit(store, dealer.id, TODAY + timedelta(days=1))
    result = record_visit(store, full_draft(dealer))
    assert result.plan_item is None
    assert result.record["plan_item_id"] is None
    assert core.fetch(store, VisitPlanItem, other_item.id)["status"] == PlanItemStatus.PLANNED
    assert core.fetch(store, VisitPlanItem, tomorrow_item.id)["status"] == PlanItemStatus.PLANNED


def counts(count: Count) -> tuple[int, ...]:
    return tuple(
        count(model) for model in (ContactRecord, ContactRecordParticipant, FollowUp, Objection)
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"new_agreements": (AgreedItem("寄资料"), AgreedItem("  "))}, "title"),
        ({"new_plans": (AgreedItem("培训", due_on=date(1800, 1, 1)),)}, "due_on"),
        ({"objections": (ObjectionDraft(type="", verbatim="太贵"),)}, "type"),
        ({"objections": (ObjectionDraft(type="price", verbatim=" "),)}, "verbatim"),
        ({"finalise": True, "lessons": ""}, "lessons"),
        ({"finalise": True, "visit_type": "development"}, "next_step"),
        ({"contact_method": "telepathy"}, "contact_method"),
    ],
)
def test_record_visit_is_all_or_nothing(
    store: Store, count: Count, make_dealer: MakeDealer, changes: dict[str, object], field: str
) -> None:
    dealer = make_dealer()
    item = plan_visit(store, dealer.id, TODAY)
    with pytest.raises(ValidationError) as caught:
        record_visit(store, full_draft(dealer, **changes))
    assert field in caught.value.fields
    assert counts(count) == (0, 0, 0, 0)
    assert core.fetch(store, VisitPlanItem, item.id)["status"] == PlanItemStatus.PLANNED


def test_participant_of_another_dealer_rolls_back(
    store: Store, count: Count, make_dealer: MakeDealer
) -> None:
    dealer, other = make_dealer(), make_dealer()
    stranger = add_contact(store, other.id, {"name": "别家的人"})
    with pytest.raises(ValidationError) as caught:
        record_visit(store, full_draft(dealer, participant_contact_ids=(stranger.id,)))
    assert caught.value.fields == ["contact_id"]
    with pytest.raises(NotFound):
        record_visit(store, full_draft(dealer, participant_contact_ids=("missing",)))
    assert counts(count) == (0, 0, 0, 0)


def test_finalise_record(store: Store, make_dealer: MakeDealer) -> None:
    dealer = make_dealer()
    draft = record_visit(
        store, VisitDraft(dealer_id=dealer.id, contact_at=VISIT_AT, content="电话沟通")
    )
    with pytest.raises(ValidationError) as caught:
        finalise_record(store, draft.record.id)
    assert set(caught.value.fields) == {"successes", "shortcomings", "lessons"}
    with store.read() as session:
        status = session.scalar(
            select(ContactRecord.status).where(ContactRecord.id == draft.record.id)
        )
    assert status == RecordStatus.DRAFT
    final = finalise_record(
        store,
        draft.record.id,
        {"successes": "约好了培训", "shortcomings": "无", "lessons": "先约时间"},
    )
    assert final["status"] == RecordStatus.FINAL
