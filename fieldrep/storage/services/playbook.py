"""The objection playbook: answers per objection type and how well each worked.

Success is computed from the outcomes of the objections that used an answer,
never stored, so it is always current (DOMAIN.md §2.9).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import case, func, select

from fieldrep.storage.enums import ObjectionOutcome, ObjectionType
from fieldrep.storage.models import Objection, ObjectionAnswer
from fieldrep.storage.services.common import clean_values
from fieldrep.storage.services.core import (
    Record,
    Store,
    get_live,
    insert_row,
    snapshot,
    tombstone_row,
    update_row,
)


@dataclass(frozen=True)
class AnswerStats:
    """How often a playbook answer was used and how often the objection was resolved."""

    answer_id: str
    type: ObjectionType
    title: str
    times_used: int
    times_resolved: int
    times_partly_resolved: int
    times_lost: int

    @property
    def success_rate(self) -> Decimal | None:
        """Resolved share of uses (0..1, two decimals); None when never used."""
        if self.times_used == 0:
            return None
        rate = Decimal(self.times_resolved) / Decimal(self.times_used)
        return rate.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def add_answer(store: Store, values: Mapping[str, Any]) -> Record:
    """Add an answer to the playbook (type, title and answer text are required)."""
    cleaned = clean_values(ObjectionAnswer, values)
    cleaned.setdefault("author_user_id", store.user.user_id)
    with store.write() as session:
        return snapshot(insert_row(session, store, ObjectionAnswer, cleaned))


def update_answer(store: Store, answer_id: str, values: Mapping[str, Any]) -> Record:
    cleaned = clean_values(ObjectionAnswer, values)
    with store.write() as session:
        answer = get_live(session, ObjectionAnswer, answer_id)
        return snapshot(update_row(session, store, answer, cleaned))


def delete_answer(store: Store, answer_id: str) -> None:
    """Tombstone an answer; objections that used it keep their link for the record."""
    with store.write() as session:
        tombstone_row(session, store, get_live(session, ObjectionAnswer, answer_id))


def answers_for(store: Store, objection_type: ObjectionType | str) -> list[Record]:
    """The live answers for one objection type, by title."""
    kind = ObjectionType.parse(objection_type)
    with store.read() as session:
        rows = session.scalars(
            select(ObjectionAnswer)
            .where(ObjectionAnswer.type == kind, ObjectionAnswer.deleted.is_(False))
            .order_by(ObjectionAnswer.title)
        ).all()
        return [snapshot(row) for row in rows]


def playbook_stats(
    store: Store, objection_type: ObjectionType | str | None = None
) -> list[AnswerStats]:
    """Per live answer: times used, resolved, partly resolved, lost; most used first."""
    used = func.count(Objection.id)

    def outcome_count(outcome: ObjectionOutcome) -> Any:
        return func.coalesce(func.sum(case((Objection.outcome == outcome, 1), else_=0)), 0)

    query = (
        select(
            ObjectionAnswer.id,
            ObjectionAnswer.type,
            ObjectionAnswer.title,
            used,
            outcome_count(ObjectionOutcome.RESOLVED),
            outcome_count(ObjectionOutcome.PARTIALLY),
            outcome_count(ObjectionOutcome.LOST),
        )
        .outerjoin(
            Objection,
            (Objection.playbook_answer_id == ObjectionAnswer.id) & Objection.deleted.is_(False),
        )
        .where(ObjectionAnswer.deleted.is_(False))
        .group_by(ObjectionAnswer.id, ObjectionAnswer.type, ObjectionAnswer.title)
        .order_by(used.desc(), ObjectionAnswer.title)
    )
    if objection_type is not None:
        query = query.where(ObjectionAnswer.type == ObjectionType.parse(objection_type))
    with store.read() as session:
        return [
            AnswerStats(
                answer_id=str(answer_id),
                type=ObjectionType(kind),
                title=str(title),
                times_used=int(times_used),
                times_resolved=int(resolved),
                times_partly_resolved=int(partly),
                times_lost=int(lost),
            )
            for answer_id, kind, title, times_used, resolved, partly, lost in session.execute(query)
        ]
