"""5C credit assessment: grade and risk from the scores and the territory settings."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal

import pytest
from sqlalchemy import select

from fieldrep.storage.enums import ClassScheme, CreditRisk, PaymentTerms
from fieldrep.storage.errors import ValidationError
from fieldrep.storage.models import Base, ClassHistory, CreditAssessment
from fieldrep.storage.services.core import Record, Store
from fieldrep.storage.services.credit import FiveC, assess_credit, grade_and_risk
from fieldrep.storage.services.dealers import get_dealer, update_dealer
from fieldrep.storage.services.settings_service import set_setting
from fieldrep.storage.settings import CREDIT_HIGH_RISK_BELOW, CREDIT_SCALE_MAX

Count = Callable[[type[Base]], int]
MakeDealer = Callable[..., Record]


@pytest.mark.parametrize(
    ("scores", "grade", "risk"),
    [
        (FiveC(5, 5, 4, 4, 4), "A", CreditRisk.LOW),  # 4.4 of 5
        (FiveC(4, 4, 3, 4, 3), "B", CreditRisk.LOW),  # 3.6: 72 %
        (FiveC(3, 3, 3, 3, 3), "B", CreditRisk.MEDIUM),  # 3.0: 60 %
        (FiveC(3, 2, 3, 2, 3), "C", CreditRisk.MEDIUM),  # 2.6
        (FiveC(2, 2, 3, 2, 2), "C", CreditRisk.HIGH),  # 2.2: 44 %, below 2.5
        (FiveC(1, 1, 2, 1, 1), "D", CreditRisk.HIGH),
    ],
)
def test_grade_and_risk(scores: FiveC, grade: str, risk: CreditRisk) -> None:
    assert grade_and_risk(scores, 5, Decimal("2.5")) == (grade, risk)


def test_assessment_updates_the_dealer(store: Store, make_dealer: MakeDealer) -> None:
    dealer = make_dealer()
    update_dealer(store, dealer.id, {"payment_terms": "extended"})
    review = assess_credit(store, dealer.id, FiveC(2, 2, 2, 2, 2), fulfilment_record="两次逾期")
    assert review["overall_grade"] == "C"
    assert review["risk_level"] == CreditRisk.HIGH
    assert review["payment_terms"] == PaymentTerms.PREPAY
    card = get_dealer(store, dealer.id)
    assert card["credit_grade"] == "C"
    assert card["payment_terms"] == PaymentTerms.PREPAY
    with store.read() as session:
        [change] = session.scalars(select(ClassHistory)).all()
    assert (change.scheme, change.old_value, change.new_value) == (ClassScheme.CREDIT, None, "C")
    assert change.reason  # a readable reason is recorded
    with pytest.raises(ValidationError):
        update_dealer(store, dealer.id, {"payment_terms": "extended"})


def test_scale_and_risk_line_are_settings(store: Store, make_dealer: MakeDealer) -> None:
    set_setting(store, CREDIT_SCALE_MAX, 10)
    set_setting(store, CREDIT_HIGH_RISK_BELOW, "4")
    review = assess_credit(store, make_dealer().id, FiveC(8, 9, 8, 8, 9))
    assert (review["overall_grade"], review["risk_level"]) == ("A", CreditRisk.LOW)
    review = assess_credit(store, make_dealer().id, FiveC(3, 4, 3, 4, 3))
    assert review["risk_level"] == CreditRisk.HIGH


def test_out_of_scale_scores_write_nothing(
    store: Store, count: Count, make_dealer: MakeDealer
) -> None:
    dealer = make_dealer()
    with pytest.raises(ValidationError) as caught:
        assess_credit(store, dealer.id, FiveC(6, 5, 5, 0, 5))
    assert set(caught.value.fields) == {"capital", "collateral"}
    assert count(CreditAssessment) == 0
    assert count(ClassHistory) == 0
    assert get_dealer(store, dealer.id)["credit_grade"] is None
