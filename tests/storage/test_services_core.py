"""core.insert_row: where a new row goes when the caller does not say."""

from __future__ import annotations

from fieldrep.storage.enums import AbcClass
from fieldrep.storage.models import Contact, Dealer
from fieldrep.storage.services import core
from fieldrep.storage.services.core import Store

NINGBO = "0190a000-0000-7000-8000-000000000002"


def test_a_new_row_without_a_parent_goes_to_the_users_territory(store: Store) -> None:
    dealer = core.create(store, Dealer, {"name": "杭州恒达", "abc_class": AbcClass.B})
    assert dealer["territory_id"] == store.user.territory_id


def test_a_new_child_goes_to_its_parents_territory(store: Store) -> None:
    # A manager's device holds several territories; the server refuses a contact
    # filed in another territory than its dealer's.
    values = {"name": "宁波店", "abc_class": AbcClass.B, "territory_id": NINGBO}
    dealer = core.create(store, Dealer, values)
    contact = core.create(store, Contact, {"dealer_id": dealer.id, "name": "王采购"})
    assert contact["territory_id"] == NINGBO


def test_a_territory_given_by_the_caller_stands(store: Store) -> None:
    values = {"name": "宁波店", "abc_class": AbcClass.B, "territory_id": NINGBO}
    dealer = core.create(store, Dealer, values)
    own = store.user.territory_id
    contact = core.create(
        store, Contact, {"dealer_id": dealer.id, "name": "王采购", "territory_id": own}
    )
    assert contact["territory_id"] == own
