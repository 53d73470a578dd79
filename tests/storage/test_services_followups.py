"""Follow-up services: defaults, status changes with a timeline, escalation."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest

from fieldrep.storage.enums import FollowUpDirection, FollowUpStatus
from fieldrep.storage.errors import ValidationError
from fieldrep.storage.models import Base, FollowUp, FollowUpStep
from fieldrep.storage.services import core
from fieldrep.storage.services.core import Record, Store
from fieldrep.storage.services.followups import (
    FollowUpDraft,
    add_step,
    change_follow_up_status,
    complete_step,
    create_follow_up,
    escalate_follow_up,
    follow_up_timeline,
    notify_result,
    update_follow_up,
)

Count = Callable[[type[Base]], int]
MakeDealer = Callable[..., Record]
REP = "0190a000-0000-7000-8000-0000000000a1"
TODAY = date(2026, 3, 16)


def test_defaults_owner_and_due_date(store: Store, make_dealer: MakeDealer) -> None:
    row = create_follow_up(store, FollowUpDraft("寄送样品"), dealer_id=make_dealer().id)
    assert row["owner_user_id"] == REP
    assert row["due_on"] == TODAY + timedelta(days=7)
    assert row["status"] == FollowUpStatus.OPEN
    assert row["source_type"] == "manual"


def test_agreement_gets_verify_date_from_setting(store: Store) -> None:
    row = create_follow_up(
        store, FollowUpDraft("约培训", due_on=TODAY), source_type="visit_agreement"
    )
    assert row["verify_by"] == TODAY + timedelta(days=14)


def test_blank_title_writes_nothing(store: Store, count: Count) -> None:
    with pytest.raises(ValidationError) as caught:
        create_follow_up(store, FollowUpDraft(" "))
    assert caught.value.fields == ["title"]
    assert count(FollowUp) == 0


def test_status_changes_are_logged_on_the_timeline(store: Store, count: Count) -> None:
    row = create_follow_up(store, FollowUpDraft("申请补发破损货品"))
    add_step(store, row.id, "提交补货申请", TODAY + timedelta(days=1))
    change_follow_up_status(store, row.id, "in_progress", note="已提交申请")
    with pytest.raises(ValidationError) as caught:
        change_follow_up_status(store, row.id, "done")
    assert set(caught.value.fields) == {"result", "result_notified_at"}
    assert core.fetch(store, FollowUp, row.id)["status"] == FollowUpStatus.IN_PROGRESS
    assert count(FollowUpStep) == 2  # the refused close left no step
    done = change_follow_up_status(
        store,
        row.id,
        FollowUpStatus.DONE,
        result="货品已补发",
        result_notified_at=datetime(2026, 3, 18, 3, 0, tzinfo=UTC),
    )
    assert done["status"] == FollowUpStatus.DONE
    assert done["completed_at"] is not None
    steps = follow_up_timeline(store, row.id)
    assert [step["seq"] for step in steps] == [1, 2, 3]
    assert steps[0]["description"] == "提交补货申请"
    assert steps[0]["done_at"] is None
    assert steps[1]["description"] == "已提交申请"
    assert steps[1]["done_at"] is not None
    complete_step(store, steps[0].id, note="当天完成")
    assert follow_up_timeline(store, row.id)[0]["done_at"] is not None
    reopened = change_follow_up_status(store, row.id, "open")
    assert reopened["completed_at"] is None


def test_notify_then_close(store: Store) -> None:
    row = create_follow_up(store, FollowUpDraft("反馈返利核算结果"))
    update_follow_up(store, row.id, {"result": "返利已核准"})
    notify_result(store, row.id)
    assert change_follow_up_status(store, row.id, "done")["status"] == FollowUpStatus.DONE


def test_internal_follow_up_closes_without_notification(store: Store) -> None:
    row = create_follow_up(
        store, FollowUpDraft("内部核对账目", direction=FollowUpDirection.INTERNAL)
    )
    assert change_follow_up_status(store, row.id, "done")["status"] == FollowUpStatus.DONE


def test_escalate(store: Store) -> None:
    row = create_follow_up(store, FollowUpDraft("质量问题赔付"))
    escalated = escalate_follow_up(store, row.id, "客服部")
    assert escalated["escalated"] is True
    assert escalated["status"] == FollowUpStatus.BLOCKED
    assert escalated["counterpart_dept"] == "客服部"
    assert "客服部" in follow_up_timeline(store, row.id)[-1]["description"]


def test_update_refuses_status_and_bad_dates(store: Store) -> None:
    row = create_follow_up(store, FollowUpDraft("寄资料", due_on=TODAY))
    with pytest.raises(ValidationError) as caught:
        update_follow_up(store, row.id, {"status": "done"})
    assert caught.value.fields == ["status"]
    with pytest.raises(ValidationError) as caught:
        update_follow_up(store, row.id, {"verify_by": "2026-03-01"})
    assert caught.value.fields == ["verify_by"]
    with pytest.raises(ValidationError) as caught:
        update_follow_up(store, row.id, {"due_on": ""})
    assert caught.value.fields == ["due_on"]
