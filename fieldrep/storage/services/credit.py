"""5C credit assessments (DOMAIN.md §2.5): scores in, overall grade and risk out.

The scale maximum and the high-risk line are territory settings (CREDIT_SCALE_MAX,
CREDIT_HIGH_RISK_BELOW). The grade compares the average score with the scale:
A from 80 %, B from 60 %, C from 40 %, D below. The risk is high below the
high-risk line, low from 70 % of the scale, medium in between. A high-risk
review defaults to prepayment and ends any extended terms on the dealer card
(invariant 14, 「對高風險合作方采取預付款或縮短賬期」).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from fieldrep.i18n import N_, _
from fieldrep.storage.enums import ClassScheme, CreditRisk, PaymentTerms
from fieldrep.storage.models import CreditAssessment, Dealer
from fieldrep.storage.services.common import clean_values
from fieldrep.storage.services.core import Record, Store, get_live, insert_row, snapshot, update_row
from fieldrep.storage.services.dealers import log_classification_change
from fieldrep.storage.services.settings_service import get_setting
from fieldrep.storage.settings import CREDIT_HIGH_RISK_BELOW, CREDIT_SCALE_MAX

GRADE_BANDS: tuple[tuple[Decimal, str], ...] = (
    (Decimal("0.8"), "A"),
    (Decimal("0.6"), "B"),
    (Decimal("0.4"), "C"),
)
LOW_RISK_FROM = Decimal("0.7")
REASON_CREDIT_REVIEW = N_("5C credit review of {date}: average {average}")


@dataclass(frozen=True)
class FiveC:
    """The five scores: capital, character, capacity, collateral, condition."""

    capital: int
    character: int
    capacity: int
    collateral: int
    condition: int

    def average(self) -> Decimal:
        total = self.capital + self.character + self.capacity + self.collateral + self.condition
        return (Decimal(total) / 5).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def grade_and_risk(
    scores: FiveC, scale_max: int, high_risk_below: Decimal
) -> tuple[str, CreditRisk]:
    """The overall grade (A-D) and risk level of a set of scores on a 1..scale_max scale."""
    average = scores.average()
    share = average / Decimal(scale_max)
    grade = next((letter for floor, letter in GRADE_BANDS if share >= floor), "D")
    if average < high_risk_below:
        risk = CreditRisk.HIGH
    elif share >= LOW_RISK_FROM:
        risk = CreditRisk.LOW
    else:
        risk = CreditRisk.MEDIUM
    return grade, risk


def assess_credit(
    store: Store,
    dealer_id: str,
    scores: FiveC,
    *,
    reviewed_at: date | None = None,
    payment_terms: PaymentTerms | str | None = None,
    credit_limit: Decimal | str | None = None,
    fulfilment_record: str | None = None,
    third_party_source: str | None = None,
    notes: str | None = None,
) -> Record:
    """Record a 5C review, compute grade and risk, and update the dealer's credit grade.

    The dealer's credit grade change goes to the class history; scores outside
    1..CREDIT_SCALE_MAX are refused naming the score.
    """
    values: dict[str, Any] = clean_values(
        CreditAssessment,
        {
            "payment_terms": payment_terms,
            "credit_limit": credit_limit,
            "fulfilment_record": fulfilment_record,
            "third_party_source": third_party_source,
            "notes": notes,
        },
    )
    with store.write() as session:
        dealer = get_live(session, Dealer, dealer_id)
        scale_max = get_setting(session, dealer.territory_id, CREDIT_SCALE_MAX)
        high_risk_below = get_setting(session, dealer.territory_id, CREDIT_HIGH_RISK_BELOW)
        # Out-of-range scores still get a grade here; the insert's rule refuses them.
        grade, risk = grade_and_risk(scores, scale_max, high_risk_below)
        if values.get("payment_terms") is None and risk == CreditRisk.HIGH:
            values["payment_terms"] = PaymentTerms.PREPAY
        day = reviewed_at or store.today()
        values.update(
            {
                "dealer_id": dealer.id,
                "territory_id": dealer.territory_id,
                "reviewed_at": day,
                "capital": scores.capital,
                "character": scores.character,
                "capacity": scores.capacity,
                "collateral": scores.collateral,
                "condition": scores.condition,
                "overall_grade": grade,
                "risk_level": risk,
            }
        )
        assessment = insert_row(session, store, CreditAssessment, values)
        dealer_changes: dict[str, Any] = {}
        if dealer.credit_grade != grade:
            reason = _(REASON_CREDIT_REVIEW).format(date=day.isoformat(), average=scores.average())
            log_classification_change(session, store, dealer, ClassScheme.CREDIT, grade, reason)
            dealer_changes["credit_grade"] = grade
        if risk == CreditRisk.HIGH and dealer.payment_terms == PaymentTerms.EXTENDED:
            dealer_changes["payment_terms"] = assessment.payment_terms
        if dealer_changes:
            update_row(session, store, dealer, dealer_changes)
        return snapshot(assessment)
