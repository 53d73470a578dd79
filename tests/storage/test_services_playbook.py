"""The objection playbook and its success statistics from objection outcomes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from fieldrep.storage.enums import ObjectionType
from fieldrep.storage.errors import ValidationError
from fieldrep.storage.models import Base, Objection, ObjectionAnswer
from fieldrep.storage.services import core
from fieldrep.storage.services.core import Record, Store
from fieldrep.storage.services.dealers import create_dealer
from fieldrep.storage.services.playbook import (
    AnswerStats,
    add_answer,
    answers_for,
    delete_answer,
    playbook_stats,
    rank_answers,
    update_answer,
    update_answer_copies,
    wilson_lower_bound,
)
from fieldrep.storage.services.visits import (
    ObjectionChange,
    ObjectionDraft,
    VisitAmendment,
    VisitDraft,
    amend_visit,
    record_visit,
)

Count = Callable[[type[Base]], int]
MakeDealer = Callable[..., Record]


def objection(store: Store, dealer: Record, answer: Record | None, outcome: str) -> None:
    core.create(
        store,
        Objection,
        {
            "dealer_id": dealer.id,
            "type": "price",
            "verbatim": "价格太高",
            "raised_on": date(2026, 3, 1),
            "playbook_answer_id": answer.id if answer else None,
            "outcome": outcome,
        },
    )


def test_playbook_crud_and_stats(store: Store, count: Count, make_dealer: MakeDealer) -> None:
    dealer = make_dealer()
    affirm = add_answer(
        store,
        {
            "type": "price",
            "title": "肯定+补充+引导",
            "answer_text": "先肯定价格关切,再补充隐性价值,最后引导到全生命周期价值",
            "response_pattern": "affirm_supplement_guide",
        },
    )
    roi = add_answer(store, {"type": "price", "title": "量化回报", "answer_text": "三个月多赚2万"})
    unused = add_answer(store, {"type": "brand", "title": "样板市场", "answer_text": "带去看样板"})
    for outcome in ("resolved", "resolved", "lost", "open"):
        objection(store, dealer, affirm, outcome)
    objection(store, dealer, roi, "partially")
    objection(store, dealer, None, "resolved")  # answered without the playbook

    stats = {row.title: row for row in playbook_stats(store)}
    assert [row.title for row in playbook_stats(store)] == [
        "肯定+补充+引导",
        "量化回报",
        "样板市场",
    ]
    first = stats["肯定+补充+引导"]
    assert (first.times_used, first.times_resolved, first.times_lost) == (4, 2, 1)
    assert first.success_rate == Decimal("0.50")
    assert stats["量化回报"].times_partly_resolved == 1
    assert stats["量化回报"].success_rate == Decimal("0.00")
    assert stats["样板市场"].times_used == 0
    assert stats["样板市场"].success_rate is None
    assert [row.title for row in playbook_stats(store, "brand")] == ["样板市场"]

    assert update_answer(store, roi.id, {"evidence": "老客户案例"})["evidence"] == "老客户案例"
    assert [row["title"] for row in answers_for(store, "price")] == ["肯定+补充+引导", "量化回报"]
    delete_answer(store, unused.id)
    assert [row.title for row in playbook_stats(store, "brand")] == []
    assert count(ObjectionAnswer) == 3


def test_answer_needs_type_title_and_text(store: Store, count: Count) -> None:
    with pytest.raises(ValidationError) as caught:
        add_answer(store, {"title": " ", "answer_text": ""})
    assert set(caught.value.fields) == {"type", "title", "answer_text"}
    assert count(ObjectionAnswer) == 0


def stats(title: str, resolved: int, used: int) -> AnswerStats:
    return AnswerStats(
        answer_id=title,
        type=ObjectionType.PRICE,
        title=title,
        times_used=used,
        times_resolved=resolved,
        times_partly_resolved=0,
        times_lost=used - resolved,
    )


def test_wilson_lower_bound_known_values() -> None:
    assert wilson_lower_bound(1, 1) == pytest.approx(0.2065, abs=1e-4)
    assert wilson_lower_bound(45, 50) == pytest.approx(0.7864, abs=1e-4)
    assert wilson_lower_bound(0, 5) == 0.0
    assert wilson_lower_bound(0, 0) == 0.0
    assert wilson_lower_bound(50, 50) == pytest.approx(0.9287, abs=1e-4)


def test_an_answer_proven_often_beats_one_lucky_use() -> None:
    lucky = stats("一次就成", 1, 1)
    proven = stats("久经考验", 45, 50)
    assert lucky.success_rate == Decimal("1.00") > proven.success_rate  # type: ignore[operator]
    assert [row.title for row in rank_answers([lucky, proven])] == ["久经考验", "一次就成"]
    assert proven.confidence_floor is not None and lucky.confidence_floor is not None
    assert proven.confidence_floor > lucky.confidence_floor


def test_ranking_ties_and_never_used_answers() -> None:
    ranked = rank_answers(
        [
            stats("未用过", 0, 0),
            stats("零成功多次", 0, 5),
            stats("零成功一次", 0, 1),
            stats("半数二", 2, 4),
            stats("半数一", 2, 4),
            stats("十中九", 9, 10),
        ]
    )
    assert [row.title for row in ranked] == [
        "十中九",
        "半数一",  # equal record: by title
        "半数二",
        # Both bounds are 0 and both rates 0: the answer tried more often is better known.
        "零成功多次",
        "零成功一次",
        "未用过",  # nothing to rank by: last
    ]


def test_playbook_stats_rank_by_the_lower_bound(store: Store, make_dealer: MakeDealer) -> None:
    dealer = make_dealer()
    lucky = add_answer(store, {"type": "price", "title": "一次就成", "answer_text": "碰巧"})
    proven = add_answer(store, {"type": "price", "title": "十中九", "answer_text": "稳定"})
    objection(store, dealer, lucky, "resolved")
    for outcome in ["resolved"] * 9 + ["lost"]:
        objection(store, dealer, proven, outcome)
    ranked = playbook_stats(store, "price")
    assert [row.title for row in ranked] == ["十中九", "一次就成"]
    assert (ranked[0].times_resolved, ranked[0].times_used) == (9, 10)
    assert ranked[0].success_rate == Decimal("0.90") < ranked[1].success_rate  # type: ignore[operator]


def test_copies_of_an_answer_in_several_territories_are_one_answer(
    store: Store, make_dealer: MakeDealer
) -> None:
    """The same answer in two territories: one entry whose success counts both copies' uses.

    Before, each copy was its own entry ("用数据证明" 3/3, 4/5, 0/4 side by side),
    and an edit of one copy would have split the answer again.
    """
    other_territory = "0190a000-0000-7000-8000-000000000002"
    elsewhere = Store(
        store.engine,
        core.UserContext(store.user.user_id, other_territory, store.user.role, "经理"),
        today=store.today,
    )
    values = {"type": "price", "title": "用数据证明", "answer_text": "拿出同城销量数据"}
    there = add_answer(elsewhere, values)  # the older id
    here = add_answer(store, values)
    different = add_answer(store, {**values, "answer_text": "另一种说法"})
    dealer = make_dealer()
    far_dealer = create_dealer(elsewhere, {"name": "宁波远方商贸", "abc_class": "B"})
    for outcome in ("resolved", "resolved", "resolved"):
        objection(store, dealer, here, outcome)
    for outcome in ("resolved", "lost", "partially", "resolved", "open"):
        objection(elsewhere, far_dealer, there, outcome)

    ranked = playbook_stats(store, "price")
    assert len(ranked) == 2, "same title, other text: another answer"
    [merged] = [row for row in ranked if row.answer_id != different.id]
    assert merged.answer_id == here.id, "shown as the copy of the user's territory"
    assert (merged.times_resolved, merged.times_used) == (5, 8)
    assert (merged.times_partly_resolved, merged.times_lost) == (1, 1)
    assert set(merged.answer_ids) == {here.id, there.id}
    assert merged.answer_in(other_territory) == there.id
    assert merged.answer_in(store.user.territory_id) == here.id
    assert merged.answer_in("0190a000-0000-7000-8000-000000000003") is None
    # Someone of the other territory is shown their own copy, with the same counts.
    [theirs] = [row for row in playbook_stats(elsewhere, "price") if row.times_used]
    assert (theirs.answer_id, theirs.times_used) == (there.id, 8)

    # An edit changes every copy alike: still one answer.
    update_answer_copies(store, merged.answer_ids, {"title": "用销量数据证明"})
    titles = sorted(row.title for row in playbook_stats(store, "price"))
    assert titles == ["用数据证明", "用销量数据证明"]
    [edited] = [row for row in playbook_stats(store, "price") if row.title == "用销量数据证明"]
    assert edited.times_used == 8


def test_an_answer_of_another_territory_picked_at_a_visit_is_copied_with_the_objection(
    store: Store, make_dealer: MakeDealer, count: Count
) -> None:
    """A rep picks his home territory's answer for a dealer of his other territory.

    The saved objection names a new copy of the answer in the dealer's territory
    (the server refuses another territory's answer), written in the same
    transaction, and the playbook still counts one answer. Before, the objection
    named the home territory's answer.
    """
    other_territory = "0190a000-0000-7000-8000-000000000002"
    elsewhere = Store(
        store.engine,
        core.UserContext(store.user.user_id, other_territory, store.user.role, "代表"),
        today=store.today,
    )
    picked = add_answer(
        store,
        {
            "type": "price",
            "title": "用数据证明",
            "answer_text": "拿出同城销量数据",
            "response_pattern": "affirm_supplement_guide",
            "evidence": "同城销量表",
        },
    )
    objection(store, make_dealer(), picked, "resolved")
    far_dealer = create_dealer(elsewhere, {"name": "宁波远方商贸", "abc_class": "B"})
    assert far_dealer["territory_id"] == other_territory
    answers_before = count(ObjectionAnswer)

    def visit(answer_id: str, outcome: str) -> Record:
        result = record_visit(
            store,
            VisitDraft(
                dealer_id=far_dealer.id,
                contact_at=datetime(2026, 3, 2, 9, 0, tzinfo=UTC),
                content="谈价格",
                objections=(
                    ObjectionDraft(
                        "price", "太贵了", playbook_answer_id=answer_id, outcome=outcome
                    ),
                ),
            ),
        )
        [saved] = result.objections
        return saved

    first = visit(picked.id, "resolved")
    copy_id = first["playbook_answer_id"]
    assert copy_id != picked.id, "another territory's answer is not named"
    copy = core.fetch(store, ObjectionAnswer, copy_id)
    assert copy["territory_id"] == other_territory == first["territory_id"]
    for name in ("type", "title", "answer_text", "response_pattern", "evidence"):
        assert copy[name] == picked[name], name
    assert count(ObjectionAnswer) == answers_before + 1

    # Picking it again (by either id) names the same copy: no second one.
    assert visit(picked.id, "lost")["playbook_answer_id"] == copy_id
    assert visit(copy_id, "open")["playbook_answer_id"] == copy_id
    assert count(ObjectionAnswer) == answers_before + 1

    # One answer, counting the home visit and the three far ones.
    [merged] = playbook_stats(store, "price")
    assert merged.answer_id == picked.id, "shown as the home territory's copy"
    assert set(merged.answer_ids) == {picked.id, copy_id}
    assert (merged.times_resolved, merged.times_used, merged.times_lost) == (2, 4, 1)

    # Picking it later for a saved objection names the copy too.
    other = add_answer(store, {"type": "price", "title": "算总账", "answer_text": "算三年总成本"})
    changed = amend_visit(
        store,
        first["contact_record_id"],
        VisitAmendment(
            objection_changes=(ObjectionChange(first.id, {"playbook_answer_id": other.id}),)
        ),
    )
    other_copy = core.fetch(store, ObjectionAnswer, changed.objections[0]["playbook_answer_id"])
    assert other_copy.id != other.id
    assert (other_copy["territory_id"], other_copy["title"]) == (other_territory, "算总账")
