"""The visit record's playbook answers: per objection type, best first, with their counts."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from fieldrep.storage.models import Objection
from fieldrep.storage.screens.visit_record import ranked_answers
from fieldrep.storage.services import core
from fieldrep.storage.services.core import Record, Store
from fieldrep.storage.services.dealers import create_dealer
from fieldrep.storage.services.playbook import add_answer, playbook_stats

MakeDealer = Callable[..., Record]


def use(store: Store, dealer: Record, answer: Record, outcome: str) -> None:
    core.create(
        store,
        Objection,
        {
            "dealer_id": dealer.id,
            "type": answer["type"].code,
            "verbatim": "价格太高",
            "raised_on": date(2026, 3, 1),
            "playbook_answer_id": answer.id,
            "outcome": outcome,
        },
    )


def test_answers_come_best_first_by_the_playbook_ranking(
    store: Store, make_dealer: MakeDealer
) -> None:
    dealer = make_dealer()
    # By title the order would be 一次就成, 三中一, 十中九, 未用过.
    lucky = add_answer(store, {"type": "price", "title": "一次就成", "answer_text": "碰巧"})
    weak = add_answer(store, {"type": "price", "title": "三中一", "answer_text": "偶尔"})
    proven = add_answer(store, {"type": "price", "title": "十中九", "answer_text": "稳定"})
    add_answer(store, {"type": "price", "title": "未用过", "answer_text": "新写的"})
    brand = add_answer(store, {"type": "brand", "title": "样板市场", "answer_text": "看样板"})
    use(store, dealer, lucky, "resolved")
    for outcome in ("resolved", "lost", "partially"):
        use(store, dealer, weak, outcome)
    for outcome in ["resolved"] * 9 + ["lost"]:
        use(store, dealer, proven, outcome)
    use(store, dealer, brand, "lost")

    answers = ranked_answers(store, store.user.territory_id)
    price = answers["price"]
    assert [choice.title for choice in price] == ["十中九", "一次就成", "三中一", "未用过"]
    assert [(choice.times_resolved, choice.times_used) for choice in price] == [
        (9, 10),
        (1, 1),
        (1, 3),
        (0, 0),
    ]
    assert [choice.id for choice in price] == [
        entry.answer_id for entry in playbook_stats(store, "price")
    ], "the playbook view's order"
    assert price[0].text == "稳定" and price[0].type == "price"
    [only_brand] = answers["brand"]
    assert (only_brand.title, only_brand.times_resolved, only_brand.times_used) == (
        "样板市场",
        0,
        1,
    )
    assert answers["reward"] == (), "a type without answers offers none"


def test_an_answer_in_several_territories_is_offered_once_as_the_dealers_copy(
    store: Store, make_dealer: MakeDealer
) -> None:
    """A manager's answer copied into two territories: one choice, both copies' counts.

    Before, the picker offered both copies (the same title twice, each with its
    own share of the uses), and picking the other territory's copy made an
    objection the server refuses.
    """
    other_territory = "0190a000-0000-7000-8000-000000000002"
    elsewhere = Store(
        store.engine,
        core.UserContext(store.user.user_id, other_territory, store.user.role, "经理"),
        today=store.today,
    )
    values = {"type": "price", "title": "十中九", "answer_text": "稳定"}
    here = add_answer(store, values)
    there = add_answer(elsewhere, values)
    dealer = make_dealer()
    far_dealer = create_dealer(elsewhere, {"name": "宁波远方商贸", "abc_class": "B"})
    assert far_dealer["territory_id"] == other_territory
    use(store, dealer, here, "resolved")
    use(elsewhere, far_dealer, there, "resolved")
    use(elsewhere, far_dealer, there, "lost")

    [mine] = ranked_answers(store, store.user.territory_id)["price"]
    assert (mine.id, mine.times_resolved, mine.times_used) == (here.id, 2, 3)
    [theirs] = ranked_answers(store, other_territory)["price"]
    assert (theirs.id, theirs.times_resolved, theirs.times_used) == (there.id, 2, 3)
    # A territory without a copy is offered the answer too, as the user's own copy
    # (saving the visit copies it there: see test_services_playbook).
    [offered] = ranked_answers(store, "0190a000-0000-7000-8000-000000000003")["price"]
    assert (offered.id, offered.times_resolved, offered.times_used) == (here.id, 2, 3)


def test_a_territory_without_a_copy_is_offered_every_answer_once(
    store: Store, make_dealer: MakeDealer
) -> None:
    """A rep's home playbook at a dealer of his other territory, which has no copy of it.

    Before, the picker there was empty (only copies in the dealer's territory were
    offered), so the rep could not pick the team's answers away from home.
    """
    other_territory = "0190a000-0000-7000-8000-000000000002"
    proven = add_answer(store, {"type": "price", "title": "十中九", "answer_text": "稳定"})
    unused = add_answer(store, {"type": "price", "title": "未用过", "answer_text": "新的"})
    brand = add_answer(store, {"type": "brand", "title": "样板", "answer_text": "看样板"})
    dealer = make_dealer()
    use(store, dealer, proven, "resolved")

    answers = ranked_answers(store, other_territory)
    assert [(choice.id, choice.times_used) for choice in answers["price"]] == [
        (proven.id, 1),
        (unused.id, 0),
    ]
    assert [choice.title for choice in answers["brand"]] == [brand["title"]]
    assert answers == ranked_answers(store, store.user.territory_id), "the same playbook"
