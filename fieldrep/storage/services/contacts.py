"""Contacts at a dealer and their place in the decision chain (DOMAIN.md §2.3)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fieldrep.storage.enums import CooperationInterest, DecisionRole
from fieldrep.storage.models import Contact, Dealer
from fieldrep.storage.services.common import clean_values
from fieldrep.storage.services.core import (
    Record,
    Store,
    get_live,
    insert_row,
    live,
    snapshot,
    tombstone_row,
    update_row,
)

# A contact flag and the dealer column that points at the contact holding that role.
DEALER_ROLE_COLUMNS = {
    "is_business_contact": "business_contact_id",
    "is_settlement_contact": "settlement_contact_id",
    "is_counterpart": "their_contact_id",
}


def add_contact(store: Store, dealer_id: str, values: Mapping[str, Any]) -> Record:
    """Add a person at a dealer; a name is required, phone and e-mail are format-checked."""
    cleaned = clean_values(Contact, values, managed=("dealer_id",))
    with store.write() as session:
        dealer = get_live(session, Dealer, dealer_id)
        cleaned["dealer_id"] = dealer.id
        cleaned.setdefault("territory_id", dealer.territory_id)
        contact = insert_row(session, store, Contact, cleaned)
        _point_dealer_roles(session, store, dealer, contact)
        return snapshot(contact)


def update_contact(store: Store, contact_id: str, values: Mapping[str, Any]) -> Record:
    """Edit a contact (the dealer it belongs to cannot change)."""
    cleaned = clean_values(Contact, values, managed=("dealer_id",))
    with store.write() as session:
        contact = update_row(session, store, get_live(session, Contact, contact_id), cleaned)
        dealer = get_live(session, Dealer, contact.dealer_id)
        _point_dealer_roles(session, store, dealer, contact)
        return snapshot(contact)


def delete_contact(store: Store, contact_id: str) -> None:
    """Tombstone a contact and clear the dealer's role pointers to it."""
    with store.write() as session:
        contact = get_live(session, Contact, contact_id)
        dealer = session.get(Dealer, contact.dealer_id)
        if dealer is not None and not dealer.deleted:
            cleared = {
                column: None
                for column in DEALER_ROLE_COLUMNS.values()
                if getattr(dealer, column) == contact.id
            }
            if cleared:
                update_row(session, store, dealer, cleared)
        tombstone_row(session, store, contact)


def set_decision_role(
    store: Store,
    contact_id: str,
    decision_role: DecisionRole | str,
    *,
    is_senior: bool | None = None,
    cooperation_interest: CooperationInterest | str | None = None,
    is_business_contact: bool | None = None,
    is_settlement_contact: bool | None = None,
    is_counterpart: bool | None = None,
    can_block: bool | None = None,
) -> Record:
    """Mark a contact's decision role and flags; role flags also update the dealer card."""
    values: dict[str, Any] = {"decision_role": decision_role}
    optional = {
        "is_senior": is_senior,
        "cooperation_interest": cooperation_interest,
        "is_business_contact": is_business_contact,
        "is_settlement_contact": is_settlement_contact,
        "is_counterpart": is_counterpart,
        "can_block": can_block,
    }
    values.update({name: value for name, value in optional.items() if value is not None})
    return update_contact(store, contact_id, values)


def dealer_contacts(store: Store, dealer_id: str) -> list[Record]:
    """The dealer's live contacts: seniors first, then by name."""
    with store.read() as session:
        rows = session.scalars(
            live(Contact)
            .where(Contact.dealer_id == dealer_id)
            .order_by(Contact.is_senior.desc(), Contact.name)
        ).all()
        return [snapshot(row) for row in rows]


def _point_dealer_roles(session: Any, store: Store, dealer: Dealer, contact: Contact) -> None:
    """Keep the dealer's business/settlement/counterpart pointers in step with the flags."""
    changes: dict[str, Any] = {}
    for flag, column in DEALER_ROLE_COLUMNS.items():
        current = getattr(dealer, column)
        if getattr(contact, flag):
            if current != contact.id:
                changes[column] = contact.id
        elif current == contact.id:
            changes[column] = None
    if changes:
        update_row(session, store, dealer, changes)
