"""Dealer and contact services: profile edits, classification history, decision roles."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from fieldrep.storage.enums import AbcClass, ClassScheme, DecisionRole, PartnerTier
from fieldrep.storage.errors import NotFound, ValidationError
from fieldrep.storage.models import Base, ClassHistory, Contact, Dealer
from fieldrep.storage.services.contacts import (
    add_contact,
    dealer_contacts,
    delete_contact,
    set_decision_role,
    update_contact,
)
from fieldrep.storage.services.core import Record, Store
from fieldrep.storage.services.dealers import (
    change_classification,
    create_dealer,
    delete_dealer,
    get_dealer,
    update_dealer,
)

Count = Callable[[type[Base]], int]
MakeDealer = Callable[..., Record]


def history(store: Store, dealer_id: str) -> list[ClassHistory]:
    with store.read() as session:
        return list(
            session.scalars(
                select(ClassHistory)
                .where(ClassHistory.dealer_id == dealer_id)
                .order_by(ClassHistory.created_at)
            )
        )


def test_create_dealer_from_typed_text(store: Store) -> None:
    dealer = create_dealer(
        store,
        {
            "name": "海信电器杭州经销部",
            "abc_class": "A",
            "is_key_account": "是",
            "registered_capital": "1,000,000",
            "relationship_start_date": "2024-05-01",
            "phone": "0571-87654321",
        },
    )
    assert dealer["abc_class"] == AbcClass.A
    assert dealer["is_key_account"] is True
    assert str(dealer["registered_capital"]) == "1000000"
    assert dealer["territory_id"] == store.user.territory_id
    assert dealer["updated_by"] == store.user.user_id
    assert get_dealer(store, dealer.id)["name"] == "海信电器杭州经销部"


def test_create_dealer_refuses_bad_text_and_writes_nothing(store: Store, count: Count) -> None:
    with pytest.raises(ValidationError) as caught:
        create_dealer(
            store, {"name": "甲", "abc_class": "Z", "outlet_count": "many", "colour": "red"}
        )
    assert set(caught.value.fields) == {"abc_class", "outlet_count", "colour"}
    with pytest.raises(ValidationError) as caught:
        create_dealer(store, {"name": "甲", "abc_class": "A", "row_version": 3})
    assert caught.value.fields == ["row_version"]
    assert count(Dealer) == 0


def test_class_change_in_profile_edit_needs_reason(
    store: Store, count: Count, make_dealer: MakeDealer
) -> None:
    dealer = make_dealer(abc_class="B")
    with pytest.raises(ValidationError) as caught:
        update_dealer(store, dealer.id, {"abc_class": "A", "city": "宁波市"})
    assert caught.value.fields == ["reason"]
    assert get_dealer(store, dealer.id)["city"] == "杭州市"  # nothing half-written
    assert count(ClassHistory) == 0
    updated = update_dealer(
        store, dealer.id, {"abc_class": "A", "city": "宁波市"}, reason="年销量进入前20%"
    )
    assert updated["abc_class"] == AbcClass.A
    [row] = history(store, dealer.id)
    assert (row.scheme, row.old_value, row.new_value) == (ClassScheme.ABC, "B", "A")
    assert row.reason == "年销量进入前20%"
    assert row.changed_on == store.today()


def test_profile_edit_without_class_change_needs_no_reason(
    store: Store, count: Count, make_dealer: MakeDealer
) -> None:
    dealer = make_dealer(abc_class="B")
    update_dealer(store, dealer.id, {"abc_class": "B", "address": "文三路1号"})
    assert count(ClassHistory) == 0


def test_change_classification_of_each_scheme(store: Store, make_dealer: MakeDealer) -> None:
    dealer = make_dealer(abc_class="C")
    change_classification(store, dealer.id, "abc", "B", "连续两季度达标")
    change_classification(store, dealer.id, ClassScheme.PARTNER_TIER, "gold", "贡献等级提升")
    change_classification(
        store, dealer.id, ClassScheme.RELATIONSHIP, "良", "季度客情评定", period_label="2026Q1"
    )
    current = get_dealer(store, dealer.id)
    assert current["abc_class"] == AbcClass.B
    assert current["partner_tier"] == PartnerTier.GOLD
    assert current["relationship_grade"] == "良"
    rows = history(store, dealer.id)
    assert [(row.scheme, row.old_value, row.new_value) for row in rows] == [
        (ClassScheme.ABC, "C", "B"),
        (ClassScheme.PARTNER_TIER, None, "gold"),
        (ClassScheme.RELATIONSHIP, None, "良"),
    ]
    assert rows[2].period_label == "2026Q1"


def test_change_classification_refuses_blank_reason_and_bad_value(
    store: Store, count: Count, make_dealer: MakeDealer
) -> None:
    dealer = make_dealer(abc_class="C")
    with pytest.raises(ValidationError) as caught:
        change_classification(store, dealer.id, "abc", "A", "  ")
    assert caught.value.fields == ["reason"]
    with pytest.raises(ValidationError) as caught:
        change_classification(store, dealer.id, "abc", "D", "升级")
    assert caught.value.fields == ["new_value"]
    assert count(ClassHistory) == 0
    assert get_dealer(store, dealer.id)["abc_class"] == AbcClass.C


def test_delete_dealer_tombstones(store: Store, make_dealer: MakeDealer) -> None:
    dealer = make_dealer()
    delete_dealer(store, dealer.id)
    with pytest.raises(NotFound):
        get_dealer(store, dealer.id)
    with pytest.raises(NotFound):
        update_dealer(store, dealer.id, {"city": "宁波市"})
    with store.read() as session:
        row = session.get(Dealer, dealer.id)
        assert row is not None and row.deleted and row.deleted_at is not None


def test_contacts_and_decision_roles(store: Store, make_dealer: MakeDealer) -> None:
    dealer = make_dealer()
    boss = add_contact(
        store, dealer.id, {"name": "王总", "title": "总经理", "mobile": "13912345678"}
    )
    clerk = add_contact(store, dealer.id, {"name": "李会计", "is_settlement_contact": True})
    assert get_dealer(store, dealer.id)["settlement_contact_id"] == clerk.id
    marked = set_decision_role(
        store, boss.id, "decision_maker", is_senior=True, is_business_contact=True
    )
    assert marked["decision_role"] == DecisionRole.DECISION_MAKER
    assert marked["is_senior"] is True
    card = get_dealer(store, dealer.id)
    assert card["business_contact_id"] == boss.id
    assert [row["name"] for row in dealer_contacts(store, dealer.id)] == ["王总", "李会计"]
    update_contact(store, boss.id, {"is_business_contact": False})
    assert get_dealer(store, dealer.id)["business_contact_id"] is None
    delete_contact(store, clerk.id)
    assert get_dealer(store, dealer.id)["settlement_contact_id"] is None
    assert [row["name"] for row in dealer_contacts(store, dealer.id)] == ["王总"]


def test_contact_refusals_write_nothing(
    store: Store, count: Count, make_dealer: MakeDealer
) -> None:
    dealer = make_dealer()
    with pytest.raises(ValidationError) as caught:
        add_contact(store, dealer.id, {"name": "", "mobile": "123"})
    assert set(caught.value.fields) == {"name", "mobile"}
    boss = add_contact(store, dealer.id, {"name": "王总"})
    with pytest.raises(ValidationError) as caught:
        set_decision_role(store, boss.id, "emperor")
    assert caught.value.fields == ["decision_role"]
    with pytest.raises(ValidationError):
        update_contact(store, boss.id, {"dealer_id": make_dealer().id})
    assert count(Contact) == 1
    with pytest.raises(NotFound):
        add_contact(store, "no-such-dealer", {"name": "张三"})
