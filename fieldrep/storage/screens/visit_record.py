"""What the visit record window reads: its target, the visit's context, dealers to pick (no Qt)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

from sqlalchemy import or_, select

from fieldrep.storage.enums import ObjectionType
from fieldrep.storage.models import (
    AppUser,
    Contact,
    ContactRecord,
    ContactRecordParticipant,
    Dealer,
    FollowUp,
    Objection,
    VisitPlanItem,
)
from fieldrep.storage.services.core import Record, Store, fetch, live, snapshot

PICKER_LIMIT = 30


@dataclass(frozen=True)
class PersonChoice:
    """A contact at the dealer who can take part in the visit."""

    id: str
    name: str
    title: str | None
    is_senior: bool


@dataclass(frozen=True)
class AnswerChoice:
    """A playbook answer the rep can pick for an objection, with how often it worked."""

    id: str
    type: str
    title: str
    text: str
    pattern: str | None
    times_used: int = 0
    times_resolved: int = 0


@dataclass(frozen=True)
class VisitContext:
    """Everything the visit record needs from the database, loaded in one call."""

    dealer_id: str
    dealer_name: str
    today: date
    me: str
    contacts: tuple[PersonChoice, ...]
    users: tuple[tuple[str, str], ...]  # (user id, display name)
    answers: Mapping[str, tuple[AnswerChoice, ...]]
    plan_item: Record | None = None
    record: Record | None = None
    participant_ids: tuple[str, ...] = ()
    saved_objections: tuple[Record, ...] = ()
    saved_follow_ups: tuple[Record, ...] = ()


@dataclass(frozen=True)
class VisitTarget:
    """What an id opened as a visit record points at."""

    dealer_id: str | None = None
    plan_item_id: str | None = None
    record_id: str | None = None


def resolve_target(store: Store, record_id: str) -> VisitTarget:
    """Whether ``record_id`` is a planned visit, a contact record or a dealer (or nothing)."""
    if not record_id:
        return VisitTarget()
    with store.read() as session:
        item = session.get(VisitPlanItem, record_id)
        if item is not None and not item.deleted:
            if item.contact_record_id:
                return VisitTarget(item.dealer_id, record_id=item.contact_record_id)
            return VisitTarget(item.dealer_id, plan_item_id=item.id)
        record = session.get(ContactRecord, record_id)
        if record is not None and not record.deleted:
            return VisitTarget(record.dealer_id, record_id=record.id)
        dealer = session.get(Dealer, record_id)
        if dealer is not None and not dealer.deleted:
            return VisitTarget(dealer.id)
    return VisitTarget()


def load_visit_context(store: Store, target: VisitTarget) -> VisitContext:
    """The dealer, its contacts, the territory's people and the playbook (and a saved record)."""

    plan_item = fetch(store, VisitPlanItem, target.plan_item_id) if target.plan_item_id else None
    record = fetch(store, ContactRecord, target.record_id) if target.record_id else None
    dealer_id = target.dealer_id or (
        plan_item["dealer_id"] if plan_item else record["dealer_id"] if record else None
    )
    if not dealer_id:
        raise ValueError("a visit record needs a dealer")
    dealer = fetch(store, Dealer, dealer_id)
    participant_ids: tuple[str, ...] = ()
    objections: tuple[Record, ...] = ()
    follow_ups: tuple[Record, ...] = ()
    with store.read() as session:
        contacts = tuple(
            PersonChoice(row.id, row.name, row.title, row.is_senior)
            for row in session.scalars(
                live(Contact)
                .where(Contact.dealer_id == dealer_id)
                .order_by(Contact.is_senior.desc(), Contact.name)
            )
        )
        users = tuple(
            (row.id, row.display_name)
            for row in session.scalars(
                live(AppUser)
                .where(AppUser.territory_id == dealer["territory_id"])
                .order_by(AppUser.display_name)
            )
        )
        if record is not None:
            participant_ids = tuple(
                session.scalars(
                    select(ContactRecordParticipant.contact_id).where(
                        ContactRecordParticipant.contact_record_id == record.id,
                        ContactRecordParticipant.deleted.is_(False),
                    )
                )
            )
            objection_rows = session.scalars(
                live(Objection).where(Objection.contact_record_id == record.id)
            ).all()
            objections = tuple(snapshot(row) for row in objection_rows)
            sources = [record.id, *(row.id for row in objection_rows)]
            follow_ups = tuple(
                snapshot(row)
                for row in session.scalars(
                    live(FollowUp)
                    .where(or_(*(FollowUp.source_id == source for source in sources)))
                    .order_by(FollowUp.due_on)
                )
            )
        # Owners from elsewhere (a manager, a colleague since moved) keep their name.
        known = {user_id for user_id, _name in users}
        missing = {row["owner_user_id"] for row in follow_ups} - known - {store.user.user_id}
        if missing:
            users = (
                *users,
                *(
                    (row.id, row.display_name)
                    for row in session.scalars(live(AppUser).where(AppUser.id.in_(missing)))
                ),
            )
    if store.user.user_id not in {user_id for user_id, _name in users}:
        users = ((store.user.user_id, store.user.display_name or store.user.user_id), *users)
    return VisitContext(
        dealer_id=dealer_id,
        dealer_name=dealer["name"],
        today=store.today(),
        me=store.user.user_id,
        contacts=contacts,
        users=users,
        answers=ranked_answers(store, dealer["territory_id"]),
        plan_item=plan_item,
        record=record,
        participant_ids=participant_ids,
        saved_objections=objections,
        saved_follow_ups=follow_ups,
    )


def ranked_answers(store: Store, territory_id: str) -> dict[str, tuple[AnswerChoice, ...]]:
    """The playbook's live answers per objection type (code), best first, for a dealer
    of ``territory_id``.

    The order is the playbook's ranking (:func:`~fieldrep.storage.services.playbook.ranking_key`:
    the Wilson lower bound of how often an answer resolved the objection), so the
    answer most likely to work is offered first and never-used ones come last.
    Every answer the user sees is offered once, with the counts of all its copies
    (the rep expects the team's playbook at every dealer): as its copy in the
    dealer's territory when there is one, so a saved objection and a draft name the
    same id as before, else as the playbook's shown copy. Saving the visit makes
    the missing copy in the dealer's territory with the objection
    (:func:`~fieldrep.storage.services.playbook.answer_copy_in`): the server
    refuses an objection naming another territory's answer.
    """
    # Imported when a record first opens, not with the view (as before the move).
    from fieldrep.storage.services.playbook import answers_for, playbook_stats

    answers: dict[str, tuple[AnswerChoice, ...]] = {}
    stats = playbook_stats(store)  # ranked, all types in one query, copies merged
    for kind in ObjectionType:
        rows = {row.id: row for row in answers_for(store, kind)}
        choices = []
        for entry in stats:
            if entry.type != kind:
                continue
            answer_id = entry.answer_in(territory_id) or entry.answer_id
            if answer_id not in rows:
                continue
            row = rows[answer_id]
            choices.append(
                AnswerChoice(
                    row.id,
                    kind.code,
                    row["title"],
                    row["answer_text"],
                    row["response_pattern"].code if row["response_pattern"] else None,
                    times_used=entry.times_used,
                    times_resolved=entry.times_resolved,
                )
            )
        answers[kind.code] = tuple(choices)
    return answers


@dataclass(frozen=True)
class DealerMatch:
    """A dealer the picker offers."""

    id: str
    name: str
    city: str | None


def find_dealers(store: Store, text: str) -> list[DealerMatch]:
    """The best matching dealers for the picker (name, pinyin or phone)."""
    from fieldrep.storage.queries import DealerListFilter, dealer_list_ids, dealer_list_rows

    ids = dealer_list_ids(store, DealerListFilter(text=text)).ids[:PICKER_LIMIT]
    rows = dealer_list_rows(store, ids)
    return [DealerMatch(rows[i].id, rows[i].name, rows[i].city) for i in ids if i in rows]
