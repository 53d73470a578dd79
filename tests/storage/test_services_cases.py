"""Legacy issues, complaints, competitor notes, conflicts, trainings and negotiations."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime

import pytest

from fieldrep.storage.enums import (
    ComplaintStatus,
    FollowUpDirection,
    FollowUpSource,
    LegacyStatus,
)
from fieldrep.storage.errors import ValidationError
from fieldrep.storage.models import (
    Base,
    ChannelConflict,
    ChannelConflictDealer,
    CompetitorNote,
    Complaint,
    FollowUp,
    LegacyIssue,
    NegotiationNote,
    TrainingSession,
)
from fieldrep.storage.services import core
from fieldrep.storage.services.cases import (
    add_competitor_note,
    add_negotiation_note,
    close_complaint,
    create_complaint,
    create_legacy_issue,
    escalate_complaint,
    handle_complaint,
    record_channel_conflict,
    record_training,
    set_conflict_status,
    set_legacy_status,
)
from fieldrep.storage.services.core import Record, Store
from fieldrep.storage.services.followups import FollowUpDraft

Count = Callable[[type[Base]], int]
MakeDealer = Callable[..., Record]
TODAY = date(2026, 3, 16)
NOW = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)


def issue_values(category: str) -> dict[str, object]:
    return {
        "title": "前任经理承诺的展柜费",
        "description": "承诺补贴展柜费5000元",
        "category": category,
    }


def test_evidenced_issue_opens_a_must_resolve_follow_up(
    store: Store, make_dealer: MakeDealer
) -> None:
    dealer = make_dealer()
    made = create_legacy_issue(
        store, dealer.id, {**issue_values("evidenced"), "evidence": "合同, 收据"}
    )
    assert made.case["evidence"] == ["合同", "收据"]
    assert made.case["status"] == LegacyStatus.IN_PROGRESS
    assert made.case["raised_on"] == TODAY
    assert made.follow_up is not None
    assert made.follow_up["source_type"] == FollowUpSource.LEGACY_ISSUE
    assert made.follow_up["source_id"] == made.case.id
    assert made.follow_up["direction"] == FollowUpDirection.WE_OWE
    assert made.follow_up["dealer_id"] == dealer.id
    with pytest.raises(ValidationError) as caught:
        set_legacy_status(store, made.case.id, "rejected")
    assert caught.value.fields == ["status"]
    resolved = set_legacy_status(store, made.case.id, "resolved", resolution="已补贴")
    assert resolved["closed_at"] is not None


def test_unresolvable_issue_lifecycle(store: Store, count: Count, make_dealer: MakeDealer) -> None:
    made = create_legacy_issue(store, make_dealer().id, issue_values("unresolvable"))
    assert made.follow_up is None
    assert count(FollowUp) == 0
    with pytest.raises(ValidationError) as caught:
        set_legacy_status(store, made.case.id, "closed")
    assert caught.value.fields == ["answer_given"]
    assert core.fetch(store, LegacyIssue, made.case.id)["status"] == LegacyStatus.OPEN
    closed = set_legacy_status(
        store, made.case.id, "closed", answer_given="已致歉:公司无此政策,无法兑现"
    )
    assert closed["status"] == LegacyStatus.CLOSED


def test_bad_legacy_issue_writes_nothing(
    store: Store, count: Count, make_dealer: MakeDealer
) -> None:
    with pytest.raises(ValidationError) as caught:
        create_legacy_issue(
            store,
            make_dealer().id,
            {**issue_values("evidenced"), "amount": "-5"},
            follow_up=FollowUpDraft("补贴", due_on=date(1800, 1, 1)),
        )
    assert caught.value.fields == ["amount"]
    with pytest.raises(ValidationError) as caught:
        create_legacy_issue(
            store,
            make_dealer().id,
            issue_values("evidenced"),
            follow_up=FollowUpDraft("补贴", due_on=date(1800, 1, 1)),
        )
    assert caught.value.fields == ["due_on"]
    assert count(LegacyIssue) == 0
    assert count(FollowUp) == 0


def test_complaint_handling_and_escalation(store: Store, make_dealer: MakeDealer) -> None:
    dealer = make_dealer()
    complaint = create_complaint(
        store, dealer.id, {"category": "quality", "description": "一批货外包装破损"}
    )
    assert complaint["status"] == ComplaintStatus.RECEIVED
    handled = handle_complaint(store, complaint.id, "先补发,再追责物流", responsible_dept="物流部")
    assert handled["status"] == ComplaintStatus.HANDLING
    escalated = escalate_complaint(store, complaint.id, "质量部")
    assert escalated.case["escalated"] is True
    assert escalated.case["status"] == ComplaintStatus.ESCALATED
    assert escalated.follow_up is not None
    assert escalated.follow_up["direction"] == FollowUpDirection.INTERNAL
    assert escalated.follow_up["counterpart_dept"] == "质量部"
    assert escalated.follow_up["source_type"] == FollowUpSource.COMPLAINT
    with pytest.raises(ValidationError) as caught:
        close_complaint(store, complaint.id, "  ")
    assert caught.value.fields == ["result"]
    assert core.fetch(store, Complaint, complaint.id)["status"] == ComplaintStatus.ESCALATED
    closed = close_complaint(store, complaint.id, "已补发并致歉")
    assert closed["status"] == ComplaintStatus.CLOSED
    assert closed["closed_at"] is not None


def test_competitor_note_needs_time_and_source(
    store: Store, count: Count, make_dealer: MakeDealer
) -> None:
    with pytest.raises(ValidationError) as caught:
        add_competitor_note(store, {"brand": "某品牌"}, dealer_id=make_dealer().id)
    assert set(caught.value.fields) == {"observed_at", "source"}
    assert count(CompetitorNote) == 0
    note = add_competitor_note(
        store,
        {
            "brand": "某品牌",
            "observed_at": "2026-03-15T10:00:00+08:00",
            "source": "经销商店员",
            "promo_type": "bundle",
            "price": "2999.00",
        },
    )
    assert note["observed_at"] == datetime(2026, 3, 15, 2, 0, tzinfo=UTC)


def test_channel_conflict(store: Store, count: Count, make_dealer: MakeDealer) -> None:
    offender, victim = make_dealer(), make_dealer()
    with pytest.raises(ValidationError) as caught:
        record_channel_conflict(
            store,
            {"type": "cross_territory", "description": "跨区低价出货"},
            affected_dealer_ids=(victim.id,),
        )
    assert set(caught.value.fields) == {"offender_dealer_id", "action"}
    assert (count(ChannelConflict), count(ChannelConflictDealer)) == (0, 0)
    conflict = record_channel_conflict(
        store,
        {
            "type": "cross_territory",
            "description": "跨区低价出货",
            "offender_dealer_id": offender.id,
            "action": "warning",
        },
        affected_dealer_ids=(victim.id, victim.id),
    )
    assert conflict["reported_on"] == TODAY
    assert count(ChannelConflictDealer) == 1
    assert set_conflict_status(store, conflict.id, "closed")["closed_at"] is not None


def test_training_lists_attendees_and_names(
    store: Store, count: Count, make_dealer: MakeDealer
) -> None:
    dealer = make_dealer()
    values = {"held_at": NOW, "topic_type": "sales_skills", "topic": "导购销售技巧"}
    with pytest.raises(ValidationError) as caught:
        record_training(
            store, dealer.id, {**values, "attendees": "", "customer_names_collected": ""}
        )
    assert set(caught.value.fields) == {"attendees", "customer_names_collected"}
    assert count(TrainingSession) == 0
    made = record_training(
        store,
        dealer.id,
        {**values, "attendees": "张三、李四", "customer_names_collected": "某某医院, 某某中学"},
        follow_ups=(FollowUpDraft("约高层汇报培训效果"),),
    )
    assert made.case["attendees"] == ["张三", "李四"]
    assert [row["source_type"] for row in made.follow_ups] == [FollowUpSource.TRAINING]


def test_negotiation_concession_needs_policy(
    store: Store, count: Count, make_dealer: MakeDealer
) -> None:
    dealer = make_dealer()
    with pytest.raises(ValidationError) as caught:
        add_negotiation_note(store, dealer.id, {"point": "support", "concession": "多派一名导购"})
    assert caught.value.fields == ["policy_reference"]
    assert count(NegotiationNote) == 0
    note = add_negotiation_note(
        store,
        dealer.id,
        {"point": "support", "concession": "多派一名导购", "policy_reference": "2026促销政策"},
    )
    assert note["noted_on"] == TODAY
