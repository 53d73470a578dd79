"""The objection playbook and its success statistics from objection outcomes."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal

import pytest

from fieldrep.storage.errors import ValidationError
from fieldrep.storage.models import Base, Objection, ObjectionAnswer
from fieldrep.storage.services import core
from fieldrep.storage.services.core import Record, Store
from fieldrep.storage.services.playbook import (
    add_answer,
    answers_for,
    delete_answer,
    playbook_stats,
    update_answer,
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
