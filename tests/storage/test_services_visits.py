"""Visit plans and record_visit: the whole visit is written, or nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

import pytest
from sqlalchemy import select

from fieldrep.storage.enums import (
    FollowUpDirection,
    FollowUpSource,
    FollowUpStatus,
    ObjectionOutcome,
    PlanItemStatus,
    RecordStatus,
)
from fieldrep.storage.errors import NotFound, ValidationError
from fieldrep.storage.models import (
    AppUser,
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
    FollowUpChange,
    ItemValidationError,
    ObjectionChange,
    ObjectionDraft,
    VisitAmendment,
    VisitDraft,
    amend_visit,
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


# ---------------------------------------------------------------- amending a saved record


def colleague(store: Store) -> str:
    return core.create(
        store, AppUser, {"username": "zhangwei", "display_name": "张伟", "role": "rep"}
    ).id


def final_visit(store: Store, dealer: Record) -> Record:
    return record_visit(store, full_draft(dealer, finalise=True)).record


def test_a_final_record_gets_another_objection_with_a_colleague_as_owner(
    store: Store, make_dealer: MakeDealer
) -> None:
    record = final_visit(store, make_dealer())
    owner = colleague(store)
    result = amend_visit(
        store,
        record.id,
        VisitAmendment(
            new_objections=(
                ObjectionDraft(
                    type="reward",
                    verbatim="你们的年终奖励太少",
                    follow_up_title="申请年终返利政策说明",
                    follow_up_due_on=TODAY + timedelta(days=5),
                    follow_up_owner_user_id=owner,
                ),
            ),
            new_follow_ups=(AgreedItem("补寄样品", due_on=TODAY + timedelta(days=2)),),
        ),
    )
    [objection] = result.objections
    assert objection["contact_record_id"] == record.id
    assert objection["raised_on"] == record["contact_at"].astimezone().date()
    by_title = {row["title"]: row for row in result.follow_ups}
    assert by_title["申请年终返利政策说明"]["owner_user_id"] == owner
    assert by_title["申请年终返利政策说明"]["source_id"] == objection.id
    assert objection["follow_up_id"] == by_title["申请年终返利政策说明"].id
    extra = by_title["补寄样品"]
    assert (extra["source_type"], extra["source_id"]) == (FollowUpSource.VISIT_AGREEMENT, record.id)
    assert extra["owner_user_id"] == REP and extra["verify_by"] is not None
    assert core.fetch(store, ContactRecord, record.id)["status"] == RecordStatus.FINAL


def test_an_objection_outcome_changes_but_its_wording_is_write_once(
    store: Store, make_dealer: MakeDealer
) -> None:
    record = final_visit(store, make_dealer())
    with store.read() as session:
        objection_id = session.scalars(
            select(Objection.id).where(
                Objection.contact_record_id == record.id, Objection.type == "authority"
            )
        ).one()
    amend_visit(
        store,
        record.id,
        VisitAmendment(
            objection_changes=(
                ObjectionChange(
                    objection_id,
                    {"outcome": "resolved", "answer_given": "约了老板下周见面"},
                    follow_up=AgreedItem("约老板见面", owner_user_id=REP),
                ),
            )
        ),
    )
    saved = core.fetch(store, Objection, objection_id)
    assert saved["outcome"] == ObjectionOutcome.RESOLVED
    assert saved["answer_given"] == "约了老板下周见面"
    assert core.fetch(store, FollowUp, saved["follow_up_id"])["title"] == "约老板见面"
    with pytest.raises(ItemValidationError) as caught:
        amend_visit(
            store,
            record.id,
            VisitAmendment(
                objection_changes=(ObjectionChange(objection_id, {"verbatim": "改过的话"}),)
            ),
        )
    assert caught.value.fields == ["verbatim"] and caught.value.item == objection_id
    assert core.fetch(store, Objection, objection_id)["verbatim"] == "我们老板不在"


def test_a_final_record_text_is_frozen(store: Store, make_dealer: MakeDealer) -> None:
    record = final_visit(store, make_dealer())
    with pytest.raises(ValidationError) as caught:
        amend_visit(store, record.id, VisitAmendment(record_values={"lessons": "改写"}))
    assert caught.value.fields == ["lessons"]


def test_follow_ups_of_the_record_are_handed_over_moved_and_closed(
    store: Store, make_dealer: MakeDealer
) -> None:
    record = final_visit(store, make_dealer())
    owner = colleague(store)
    with store.read() as session:
        follow_up = session.scalars(
            select(FollowUp).where(
                FollowUp.source_id == record.id, FollowUp.direction == FollowUpDirection.WE_OWE
            )
        ).first()
        assert follow_up is not None
    new_due = TODAY + timedelta(days=10)
    amend_visit(
        store,
        record.id,
        VisitAmendment(
            follow_up_changes=(FollowUpChange(follow_up.id, owner_user_id=owner, due_on=new_due),)
        ),
    )
    moved = core.fetch(store, FollowUp, follow_up.id)
    assert (moved["owner_user_id"], moved["due_on"]) == (owner, new_due)
    # Closing what we owe needs the result and the dealer told (invariant 3).
    with pytest.raises(ItemValidationError) as caught:
        amend_visit(
            store,
            record.id,
            VisitAmendment(follow_up_changes=(FollowUpChange(follow_up.id, status="done"),)),
        )
    assert set(caught.value.fields) == {"result", "result_notified_at"}
    assert caught.value.item == follow_up.id
    amend_visit(
        store,
        record.id,
        VisitAmendment(
            follow_up_changes=(
                FollowUpChange(
                    follow_up.id, status="done", result="资料已寄出", result_notified=True
                ),
            )
        ),
    )
    done = core.fetch(store, FollowUp, follow_up.id)
    assert done["status"] == FollowUpStatus.DONE and done["completed_at"] is not None


@pytest.mark.parametrize(
    ("amendment", "field", "item"),
    [
        (
            VisitAmendment(new_follow_ups=(AgreedItem("太早", due_on=TODAY - timedelta(days=1)),)),
            "due_on",
            "new-follow-up-0",
        ),
        (
            VisitAmendment(new_follow_ups=(AgreedItem("谁", owner_user_id="nobody"),)),
            "owner_user_id",
            "new-follow-up-0",
        ),
        (
            VisitAmendment(
                new_objections=(
                    ObjectionDraft(type="price", verbatim="贵"),
                    ObjectionDraft(type="price", verbatim=" "),
                )
            ),
            "verbatim",
            "new-objection-1",
        ),
    ],
)
def test_amending_is_all_or_nothing_and_names_the_item(
    store: Store,
    count: Count,
    make_dealer: MakeDealer,
    amendment: VisitAmendment,
    field: str,
    item: str,
) -> None:
    record = final_visit(store, make_dealer())
    before = counts(count)
    with pytest.raises(ItemValidationError) as caught:
        amend_visit(store, record.id, amendment)
    assert field in caught.value.fields and caught.value.item == item
    assert counts(count) == before


def test_a_follow_up_of_another_record_is_refused(store: Store, make_dealer: MakeDealer) -> None:
    dealer = make_dealer()
    first, second = final_visit(store, dealer), final_visit(store, dealer)
    with store.read() as session:
        other = session.scalars(select(FollowUp.id).where(FollowUp.source_id == second.id)).first()
    assert other is not None
    with pytest.raises(ItemValidationError) as caught:
        amend_visit(
            store,
            first.id,
            VisitAmendment(follow_up_changes=(FollowUpChange(other, status="in_progress"),)),
        )
    assert caught.value.fields == ["source_id"]
