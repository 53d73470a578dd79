"""Every validation rule with bad input: the field is named and nothing is written."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import update as sql_update

from fieldrep.i18n import translate
from fieldrep.storage.enums import (
    CreditRisk,
    FollowUpDirection,
    FollowUpSource,
    FollowUpStatus,
    ObjectionOutcome,
    PaymentTerms,
    RecordStatus,
)
from fieldrep.storage.errors import ValidationError
from fieldrep.storage.fields import field_label
from fieldrep.storage.models import (
    Agreement,
    Base,
    ChannelConflict,
    CompetitorNote,
    Complaint,
    Contact,
    ContactRecord,
    CreditAssessment,
    CustomerMgmtReport,
    Dealer,
    DealerAssessment,
    FollowUp,
    FollowUpStep,
    LegacyIssue,
    NegotiationNote,
    Objection,
    RelationshipGrade,
    ReportTask,
    SalesFigure,
    TrainingSession,
    VisitPlan,
    VisitPlanItem,
)
from fieldrep.storage.services import core
from fieldrep.storage.services.core import Record, Store
from fieldrep.storage.services.settings_service import set_setting
from fieldrep.storage.settings import CREDIT_SCALE_MAX

# The store fixture's user and "today" (tests/storage/conftest.py).
REP = "0190a000-0000-7000-8000-0000000000a1"
TODAY = date(2026, 3, 16)

Count = Callable[[type[Base]], int]
MakeDealer = Callable[..., Record]
NOW = datetime(2026, 3, 16, 2, 0, tzinfo=UTC)


def refused(store: Store, model: type[Base], values: dict[str, Any]) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        core.create(store, model, values)
    return caught.value


def refused_update(
    store: Store, model: type[Base], row_id: str, values: dict[str, Any]
) -> ValidationError:
    with pytest.raises(ValidationError) as caught:
        core.update(store, model, row_id, values)
    return caught.value


def follow_up_values(**values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {"title": "寄送行业需求资料", "owner_user_id": REP, "due_on": TODAY}
    base.update(values)
    return base


# ---------------------------------------------------------------- invariant 1


def test_follow_up_needs_owner_and_due_date(store: Store, count: Count) -> None:
    error = refused(store, FollowUp, {"title": "电话确认收到资料"})
    assert set(error.fields) == {"owner_user_id", "due_on"}
    assert count(FollowUp) == 0
    message = error.message("en")
    assert "Owner: must not be empty" in message
    assert "Due date: must not be empty" in message


def test_follow_up_title_must_not_be_blank(store: Store, count: Count) -> None:
    error = refused(store, FollowUp, follow_up_values(title="   "))
    assert error.fields == ["title"]
    assert count(FollowUp) == 0


# ---------------------------------------------------------------- invariant 2


def test_agreed_item_needs_a_timeline(store: Store, count: Count) -> None:
    error = refused(store, FollowUp, follow_up_values(source_type=FollowUpSource.VISIT_AGREEMENT))
    assert error.fields == ["verify_by"]
    assert count(FollowUp) == 0


def test_agreed_item_with_steps_needs_no_verify_date(store: Store) -> None:
    row = core.create(
        store,
        FollowUp,
        follow_up_values(
            source_type=FollowUpSource.VISIT_AGREEMENT, verify_by=TODAY + timedelta(days=14)
        ),
    )
    error = refused_update(store, FollowUp, row.id, {"verify_by": None})
    assert error.fields == ["verify_by"]
    core.create(
        store,
        FollowUpStep,
        {"follow_up_id": row.id, "seq": 1, "description": "经销商拜访客户", "due_on": TODAY},
    )
    assert core.update(store, FollowUp, row.id, {"verify_by": None})["verify_by"] is None


def test_verify_date_not_before_due_date(store: Store) -> None:
    error = refused(store, FollowUp, follow_up_values(verify_by=TODAY - timedelta(days=1)))
    assert error.fields == ["verify_by"]
    assert "must not be before Due date" in error.message("en")


# ---------------------------------------------------------------- invariant 3


def test_closing_we_owe_needs_result_and_notification(store: Store) -> None:
    row = core.create(store, FollowUp, follow_up_values(direction=FollowUpDirection.WE_OWE))
    error = refused_update(store, FollowUp, row.id, {"status": FollowUpStatus.DONE})
    assert set(error.fields) == {"result", "result_notified_at"}
    assert core.fetch(store, FollowUp, row.id)["status"] == FollowUpStatus.OPEN
    done = core.update(
        store,
        FollowUp,
        row.id,
        {"status": FollowUpStatus.DONE, "result": "资料已寄出", "result_notified_at": NOW},
    )
    assert done["status"] == FollowUpStatus.DONE


def test_closing_dealer_owes_needs_no_notification(store: Store) -> None:
    row = core.create(store, FollowUp, follow_up_values(direction=FollowUpDirection.DEALER_OWES))
    assert core.update(store, FollowUp, row.id, {"status": "done"})["status"] == "done"


# ---------------------------------------------------------------- invariants 4 and 6


def record_values(dealer: Record, **values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "dealer_id": dealer.id,
        "rep_user_id": REP,
        "contact_at": NOW,
        "contact_method": "visit",
    }
    base.update(values)
    return base


def test_final_record_needs_the_four_summaries(
    store: Store, count: Count, make_dealer: MakeDealer
) -> None:
    dealer = make_dealer()
    error = refused(
        store, ContactRecord, record_values(dealer, status=RecordStatus.FINAL, content="谈了返利")
    )
    assert set(error.fields) == {"successes", "shortcomings", "lessons"}
    assert count(ContactRecord) == 0
    draft = core.create(store, ContactRecord, record_values(dealer))
    error = refused_update(store, ContactRecord, draft.id, {"status": RecordStatus.FINAL})
    assert set(error.fields) == {"content", "successes", "shortcomings", "lessons"}
    assert core.fetch(store, ContactRecord, draft.id)["status"] == RecordStatus.DRAFT


def test_final_record_summaries_cannot_be_blanked(store: Store, make_dealer: MakeDealer) -> None:
    dealer = make_dealer()
    texts = dict.fromkeys(("content", "successes", "shortcomings", "lessons"), "有内容")
    final = core.create(store, ContactRecord, record_values(dealer, status="final", **texts))
    error = refused_update(store, ContactRecord, final.id, {"lessons": " "})
    assert error.fields == ["lessons"]


def test_development_visit_needs_next_step(store: Store, make_dealer: MakeDealer) -> None:
    dealer = make_dealer()
    texts = dict.fromkeys(("content", "successes", "shortcomings", "lessons"), "有内容")
    error = refused(
        store,
        ContactRecord,
        record_values(dealer, status="final", visit_type="development", **texts),
    )
    assert error.fields == ["next_step"]
    ok = core.create(
        store,
        ContactRecord,
        record_values(
            dealer, status="final", visit_type="development", next_step="pursue_training", **texts
        ),
    )
    assert ok["next_step"] == "pursue_training"


# ---------------------------------------------------------------- invariants 7 and 8


def legacy_values(dealer: Record, **values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "dealer_id": dealer.id,
        "title": "前任经理承诺的返利未兑现",
        "description": "2024年第四季度返利",
        "category": "evidenced",
        "raised_on": TODAY,
    }
    base.update(values)
    return base


def test_evidenced_issue_cannot_be_rejected(store: Store, make_dealer: MakeDealer) -> None:
    issue = core.create(store, LegacyIssue, legacy_values(make_dealer()))
    error = refused_update(store, LegacyIssue, issue.id, {"status": "rejected"})
    assert error.fields == ["status"]
    assert core.fetch(store, LegacyIssue, issue.id)["status"] == "open"


def test_unresolvable_issue_needs_an_answer_before_closing(
    store: Store, make_dealer: MakeDealer
) -> None:
    issue = core.create(store, LegacyIssue, legacy_values(make_dealer(), category="unresolvable"))
    for status in ("closed", "resolved", "rejected"):
        error = refused_update(store, LegacyIssue, issue.id, {"status": status})
        assert error.fields == ["answer_given"]
    closed = core.update(
        store,
        LegacyIssue,
        issue.id,
        {"status": "closed", "answer_given": "已致歉并说明公司无此政策"},
    )
    assert closed["status"] == "closed"


# ---------------------------------------------------------------- invariant 9


def test_objection_needs_a_type_and_defaults_to_open(
    store: Store, count: Count, make_dealer: MakeDealer
) -> None:
    dealer = make_dealer()
    base = {"dealer_id": dealer.id, "verbatim": "你们的价格太高了", "raised_on": TODAY}
    error = refused(store, Objection, base)
    assert error.fields == ["type"]
    error = refused(store, Objection, {**base, "type": "expensive"})
    assert error.fields == ["type"]
    assert count(Objection) == 0
    made = core.create(store, Objection, {**base, "type": "price"})
    assert made["outcome"] == ObjectionOutcome.OPEN


# ---------------------------------------------------------------- invariant 14


def assessment_values(dealer: Record, **values: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "dealer_id": dealer.id,
        "reviewed_at": TODAY,
        "capital": 1,
        "character": 2,
        "capacity": 1,
        "collateral": 1,
        "condition": 2,
        "overall_grade": "D",
        "risk_level": CreditRisk.HIGH,
    }
    base.update(values)
    return base


def test_extended_terms_blocked_for_high_risk(store: Store, make_dealer: MakeDealer) -> None:
    dealer = make_dealer()
    core.create(store, CreditAssessment, assessment_values(dealer))
    error = refused_update(store, Dealer, dealer.id, {"payment_terms": PaymentTerms.EXTENDED})
    assert error.fields == ["payment_terms"]
    assert core.fetch(store, Dealer, dealer.id)["payment_terms"] is None
    # A newer low-risk review lifts the block.
    core.create(
        store,
        CreditAssessment,
        assessment_values(
            dealer,
            reviewed_at=TODAY + timedelta(days=1),
            risk_level=CreditRisk.LOW,
            capital=5,
            overall_grade="A",
        ),
    )
    assert core.update(store, Dealer, dealer.id, {"payment_terms": "extended"})["payment_terms"]


def test_high_risk_assessment_cannot_grant_extended_terms(
    store: Store, count: Count, make_dealer: MakeDealer
) -> None:
    error = refused(
        store, CreditAssessment, assessment_values(make_dealer(), payment_terms="extended")
    )
    assert error.fields == ["payment_terms"]
    assert count(CreditAssessment) == 0


# ---------------------------------------------------------------- invariants 15-19


def test_concession_needs_policy_reference(
    store: Store, count: Count, make_dealer: MakeDealer
) -> None:
    values = {
        "dealer_id": make_dealer().id,
        "point": "profit_margin",
        "concession": "年底返利提高一个点",
        "noted_on": TODAY,
    }
    assert refused(store, NegotiationNote, values).fields == ["policy_reference"]
    assert count(NegotiationNote) == 0
    assert core.create(store, NegotiationNote, {**values, "policy_reference": "2026渠道政策第3条"})


def test_conflict_needs_offender_and_action(store: Store, count: Count) -> None:
    error = refused(
        store,
        ChannelConflict,
        {"type": "cross_territory", "description": "跨区销售", "reported_on": TODAY},
    )
    assert set(error.fields) == {"offender_dealer_id", "action"}
    assert count(ChannelConflict) == 0


def test_report_task_is_named(store: Store, count: Count) -> None:
    report = core.create(
        store,
        CustomerMgmtReport,
        {
            "rep_user_id": REP,
            "period_type": "week",
            "period_start": TODAY,
            "period_end": TODAY + timedelta(days=6),
            "title": "第12周客户管理报告",
        },
    )
    error = refused(store, ReportTask, {"report_id": report.id, "section": "completed", "name": ""})
    assert error.fields == ["name"]
    assert count(ReportTask) == 0


def test_competitor_note_is_timestamped_and_sourced(store: Store, count: Count) -> None:
    error = refused(store, CompetitorNote, {"brand": "某竞品", "source": " "})
    assert set(error.fields) == {"observed_at", "source"}
    assert count(CompetitorNote) == 0


def test_training_lists_attendees_and_customer_names(
    store: Store, count: Count, make_dealer: MakeDealer
) -> None:
    error = refused(
        store,
        TrainingSession,
        {
            "dealer_id": make_dealer().id,
            "held_at": NOW,
            "topic_type": "sales_skills",
            "topic": "销售技巧",
            "attendees": [],
            "customer_names_collected": [" "],
        },
    )
    assert set(error.fields) == {"attendees", "customer_names_collected"}
    assert count(TrainingSession) == 0


# ---------------------------------------------------------------- scores and ranges


def test_five_c_scores_within_the_scale_setting(
    store: Store, count: Count, make_dealer: MakeDealer
) -> None:
    dealer = make_dealer()
    error = refused(store, CreditAssessment, assessment_values(dealer, capital=0, condition=6))
    assert set(error.fields) == {"capital", "condition"}
    assert "from 1 to 5" in error.message("en")
    assert count(CreditAssessment) == 0
    set_setting(store, CREDIT_SCALE_MAX, "10")
    assert core.create(store, CreditAssessment, assessment_values(dealer, condition=8))


def test_relationship_grade_dimensions_one_to_five(
    store: Store, count: Count, make_dealer: MakeDealer
) -> None:
    values = {
        "dealer_id": make_dealer().id,
        "period_type": "quarter",
        "period_start": date(2026, 1, 1),
        "familiarity": 0,
        "closeness": 3,
        "sales_support": 6,
        "complaint_level": 2,
        "receivable_level": 5,
        "overall_grade": "B",
    }
    assert set(refused(store, RelationshipGrade, values).fields) == {"familiarity", "sales_support"}
    assert count(RelationshipGrade) == 0


def test_fit_score_is_a_percentage(store: Store, make_dealer: MakeDealer) -> None:
    values = {"dealer_id": make_dealer().id, "assessed_at": TODAY, "fit_score_pct": 101}
    assert refused(store, DealerAssessment, values).fields == ["fit_score_pct"]
    assert core.create(store, DealerAssessment, {**values, "fit_score_pct": 65})


# ---------------------------------------------------------------- dealer fields and formats


def test_dealer_needs_name_and_visit_class(store: Store, count: Count) -> None:
    error = refused(store, Dealer, {"name": "  "})
    assert set(error.fields) == {"name", "abc_class"}
    assert count(Dealer) == 0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("phone", "12345"),
        ("fax", "13812345678"),
        ("email", "sales@"),
        ("credit_code", "91110000600037341M"),
        ("registered_capital", Decimal("-1")),
        ("credit_limit", Decimal("100.001")),
        ("local_market_share", Decimal("120")),
        ("outlet_count", -3),
        ("relationship_start_date", date(1800, 1, 1)),
    ],
)
def test_dealer_formats(store: Store, count: Count, field: str, value: Any) -> None:
    error = refused(store, Dealer, {"name": "海信电器杭州经销部", "abc_class": "A", field: value})
    assert error.fields == [field]
    assert error.message("en").startswith(field_label(Dealer, field) + ": ")
    assert count(Dealer) == 0


def test_good_dealer_formats_pass(store: Store) -> None:
    dealer = core.create(
        store,
        Dealer,
        {
            "name": "海信电器杭州经销部",
            "abc_class": "A",
            "phone": "0571-87654321",
            "fax": "0571-87654322",
            "email": "hz@haixin.com.cn",
            "credit_code": "91110000600037341L",
            "registered_capital": Decimal("5000000.00"),
        },
    )
    assert dealer["phone"] == "0571-87654321"


@pytest.mark.parametrize(
    ("field", "value"),
    [("mobile", "0571-87654321"), ("phone", "abc"), ("email", "x y@z.cn")],
)
def test_contact_formats(
    store: Store, count: Count, make_dealer: MakeDealer, field: str, value: str
) -> None:
    error = refused(store, Contact, {"dealer_id": make_dealer().id, "name": "王总", field: value})
    assert error.fields == [field]
    assert count(Contact) == 0


def test_birth_date_not_in_future(store: Store, make_dealer: MakeDealer) -> None:
    values = {"dealer_id": make_dealer().id, "name": "王总", "birth_date": date(2099, 1, 1)}
    assert refused(store, Contact, values).fields == ["birth_date"]


def test_money_on_sales_figures(store: Store, make_dealer: MakeDealer) -> None:
    values = {
        "dealer_id": make_dealer().id,
        "period_type": "month",
        "period_start": date(2026, 2, 1),
        "revenue": Decimal("-100"),
        "collected": Decimal("1.234"),
        "market_share": Decimal("101"),
    }
    error = refused(store, SalesFigure, values)
    assert set(error.fields) == {"revenue", "collected", "market_share"}
    assert "at most 2 decimal places" in error.message("en")


def test_unchanged_old_values_do_not_block_edits(store: Store, make_dealer: MakeDealer) -> None:
    dealer = make_dealer()
    with store.write() as session:  # a value that arrived by sync in an older format
        session.execute(sql_update(Dealer).where(Dealer.id == dealer.id).values(phone="12345"))
    assert core.update(store, Dealer, dealer.id, {"city": "宁波市"})["city"] == "宁波市"
    assert refused_update(store, Dealer, dealer.id, {"phone": "54321"}).fields == ["phone"]


# ---------------------------------------------------------------- date order and states


def test_date_order(store: Store, count: Count, make_dealer: MakeDealer) -> None:
    dealer = make_dealer()
    error = refused(
        store,
        Agreement,
        {
            "dealer_id": dealer.id,
            "title": "2026年经销协议",
            "valid_from": date(2026, 1, 1),
            "valid_to": date(2025, 12, 31),
        },
    )
    assert error.fields == ["valid_to"]
    assert "Valid to: must not be before Valid from" in error.message("en")
    error = refused(
        store,
        VisitPlan,
        {
            "rep_user_id": REP,
            "horizon": "week",
            "period_start": TODAY,
            "period_end": TODAY - timedelta(days=1),
            "title": "本周拜访计划",
        },
    )
    assert error.fields == ["period_end"]
    assert count(Agreement) == 0
    assert count(VisitPlan) == 0


def test_closed_complaint_needs_result(store: Store, make_dealer: MakeDealer) -> None:
    values = {
        "dealer_id": make_dealer().id,
        "category": "quality",
        "description": "一批货外包装破损",
        "received_at": NOW,
        "status": "closed",
    }
    assert refused(store, Complaint, values).fields == ["result"]


def test_not_done_plan_item_needs_reason(store: Store, make_dealer: MakeDealer) -> None:
    values = {
        "dealer_id": make_dealer().id,
        "rep_user_id": REP,
        "planned_date": TODAY,
        "status": "not_done",
    }
    assert refused(store, VisitPlanItem, values).fields == ["deviation_reason"]
    assert core.create(store, VisitPlanItem, {**values, "deviation_reason": "客户临时外出"})


def test_every_problem_is_reported_at_once(store: Store) -> None:
    error = refused(
        store, Dealer, {"name": "", "abc_class": "A", "phone": "1", "email": "x", "team_size": -1}
    )
    assert set(error.fields) == {"name", "phone", "email", "team_size"}
    assert len(error.message("en").splitlines()) == 4


def test_messages_in_chinese(store: Store) -> None:
    error = refused(store, FollowUp, {"title": "电话确认收到资料"})
    chinese_label = translate("Owner", "zh_CN")
    if chinese_label == "Owner":
        pytest.skip("zh_CN catalogue not compiled")
    message = error.message("zh_CN")
    assert f"{chinese_label}：" in message
    assert translate("must not be empty", "zh_CN") in message
    assert "must not be empty" not in message
