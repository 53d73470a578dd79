"""The objection playbook: answers per objection type and how well each worked.

Success is computed from the outcomes of the objections that used an answer,
never stored, so it is always current (DOMAIN.md §2.9).

The same answer can exist more than once: a row lives in one territory (sync
scope), so a manager who gives the team's answers to each of their territories
makes one copy per territory. The playbook counts an answer, not a row: copies
with the same type, title and text are one answer whose success counts the
objections of every copy (:func:`playbook_stats`); an objection links to the
copy of its own dealer's territory (:meth:`AnswerStats.answer_in`), the only one
the server accepts.

Answers are ranked by the lower bound of the 95% Wilson score interval of their
success, not by the raw rate: an answer that worked once in one use (100%) says
little, one that worked 45 times in 50 uses (90%) is the better bet. The lower
bound rewards evidence: 1 of 1 gives 0.21, 45 of 50 gives 0.79.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

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

    answer_id: str  # the copy shown (the user's own territory's when there is one)
    type: ObjectionType
    title: str
    times_used: int
    times_resolved: int
    times_partly_resolved: int
    times_lost: int
    # Every copy of the answer (answer_id included) and their territories, same order.
    copies: tuple[tuple[str, str], ...] = ()

    @property
    def answer_ids(self) -> tuple[str, ...]:
        return tuple(answer_id for answer_id, _territory in self.copies) or (self.answer_id,)

    def answer_in(self, territory_id: str) -> str | None:
        """The copy in ``territory_id``, None when the answer has none there."""
        for answer_id, territory in self.copies:
            if territory == territory_id:
                return answer_id
        return None

    @property
    def success_rate(self) -> Decimal | None:
        """Resolved share of uses (0..1, two decimals); None when never used."""
        if self.times_used == 0:
            return None
        rate = Decimal(self.times_resolved) / Decimal(self.times_used)
        return rate.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)

    @property
    def confidence_floor(self) -> float | None:
        """Lower bound of the 95% Wilson interval of the resolved share; None when never used."""
        if self.times_used == 0:
            return None
        return wilson_lower_bound(self.times_resolved, self.times_used)


# z of a two-sided 95% interval.
WILSON_Z = 1.959963984540054


def wilson_lower_bound(successes: int, trials: int, z: float = WILSON_Z) -> float:
    """Lower bound of the Wilson score interval of ``successes`` in ``trials`` (0 for none)."""
    if trials <= 0:
        return 0.0
    share = successes / trials
    z2 = z * z
    centre = share + z2 / (2 * trials)
    spread = z * math.sqrt(share * (1 - share) / trials + z2 / (4 * trials * trials))
    return max(0.0, (centre - spread) / (1 + z2 / trials))


def ranking_key(stats: AnswerStats) -> tuple[int, float, float, int, str]:
    """Best first: by the Wilson lower bound, then the raw rate, then more uses, then title.

    Never-used answers come last: there is nothing to rank them by. Between equal
    bounds the higher rate, and then the answer tried more often, is the better bet.
    """
    floor = stats.confidence_floor
    if floor is None:
        return (1, 0.0, 0.0, 0, stats.title)
    rate = stats.times_resolved / stats.times_used
    return (0, -round(floor, 12), -rate, -stats.times_used, stats.title)


def rank_answers(stats: Iterable[AnswerStats]) -> list[AnswerStats]:
    """The answers best first (see :func:`ranking_key`)."""
    return sorted(stats, key=ranking_key)


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


def update_answer_copies(
    store: Store, answer_ids: Sequence[str], values: Mapping[str, Any]
) -> Record:
    """Change every copy of one answer alike (see :func:`playbook_stats`); the first's record.

    Editing only the copy shown would split the answer in two entries again.
    """
    if not answer_ids:
        raise ValueError("no answer to update")
    cleaned = clean_values(ObjectionAnswer, values)
    with store.write() as session:
        changed = [
            update_row(session, store, get_live(session, ObjectionAnswer, answer_id), cleaned)
            for answer_id in answer_ids
        ]
        return snapshot(changed[0])


def delete_answer(store: Store, answer_id: str) -> None:
    """Tombstone an answer; objections that used it keep their link for the record."""
    with store.write() as session:
        tombstone_row(session, store, get_live(session, ObjectionAnswer, answer_id))


# What a copy of an answer repeats of it (its territory is the new one's).
COPIED_FIELDS = ("type", "title", "answer_text", "response_pattern", "evidence", "source")


def answer_copy_in(session: Session, store: Store, answer_id: str, territory_id: str) -> str:
    """The id of ``answer_id``'s copy in ``territory_id``, made in this transaction if missing.

    An objection names an answer of its own dealer's territory (the server refuses
    another's: PARENT_OUT_OF_SCOPE), but the rep picks from every answer he sees.
    The picked one stands in for its copy there: the live answer of that territory
    with the same type, title and text (one answer, :func:`playbook_stats`), or a
    new copy written with the objection, so both sync together or not at all. An
    answer not on this device, or deleted, is left as named: there is nothing to copy.
    """
    answer = session.get(ObjectionAnswer, answer_id)
    if answer is None or answer.deleted or answer.territory_id == territory_id:
        return answer_id
    existing = session.scalar(
        select(ObjectionAnswer.id)
        .where(
            ObjectionAnswer.territory_id == territory_id,
            ObjectionAnswer.type == answer.type,
            ObjectionAnswer.title == answer.title,
            ObjectionAnswer.answer_text == answer.answer_text,
            ObjectionAnswer.deleted.is_(False),
        )
        .order_by(ObjectionAnswer.id)
        .limit(1)
    )
    if existing is not None:
        return str(existing)
    values: dict[str, Any] = {name: getattr(answer, name) for name in COPIED_FIELDS}
    values["author_user_id"] = answer.author_user_id  # the answer's author, not the copier
    values["territory_id"] = territory_id
    return insert_row(session, store, ObjectionAnswer, values).id


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
    """Per live answer: times used, resolved, partly resolved, lost; best first.

    Copies of one answer (same type, title and text, in several territories) are
    one entry whose counts add up every copy's objections; it is shown by the copy
    of the user's territory, else the oldest id. The order is :func:`ranking_key`'s
    (Wilson lower bound of success).
    """
    used = func.count(Objection.id)

    def outcome_count(outcome: ObjectionOutcome) -> Any:
        return func.coalesce(func.sum(case((Objection.outcome == outcome, 1), else_=0)), 0)

    query = (
        select(
            ObjectionAnswer.id,
            ObjectionAnswer.type,
            ObjectionAnswer.title,
            ObjectionAnswer.answer_text,
            ObjectionAnswer.territory_id,
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
        .group_by(ObjectionAnswer.id)
        .order_by(ObjectionAnswer.id)
    )
    if objection_type is not None:
        query = query.where(ObjectionAnswer.type == ObjectionType.parse(objection_type))
    home = store.user.territory_id
    merged: dict[tuple[ObjectionType, str, str], AnswerStats] = {}
    with store.read() as session:
        rows = session.execute(query).all()
    for answer_id, kind, title, text, territory, times_used, resolved, partly, lost in rows:
        key = (ObjectionType(kind), str(title), str(text))
        known = merged.get(key)
        copies = (*(known.copies if known else ()), (str(answer_id), str(territory)))
        shown = str(answer_id) if known is None or territory == home else known.answer_id
        if known is not None and known.answer_in(home) is not None:
            shown = known.answer_id  # the first copy of the home territory stays
        merged[key] = AnswerStats(
            answer_id=shown,
            type=key[0],
            title=key[1],
            times_used=int(times_used) + (known.times_used if known else 0),
            times_resolved=int(resolved) + (known.times_resolved if known else 0),
            times_partly_resolved=int(partly) + (known.times_partly_resolved if known else 0),
            times_lost=int(lost) + (known.times_lost if known else 0),
            copies=copies,
        )
    return rank_answers(merged.values())
