"""Dealer services: the profile card and its classifications (DOMAIN.md §2.1, §2.4).

Every classification scheme is kept apart and every change of one writes a
:class:`ClassHistory` row with a required reason, whether it comes through
:func:`change_classification` or through a profile edit in :func:`update_dealer`.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from fieldrep.i18n import N_
from fieldrep.storage.enums import (
    AbcClass,
    ClassScheme,
    LabelledEnum,
    PartnerTier,
    PerformanceClass,
    ServiceTier,
)
from fieldrep.storage.errors import ValidationError
from fieldrep.storage.fields import REASON_NOT_CHOICE, problem
from fieldrep.storage.models import ClassHistory, Dealer
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

# The dealer column holding the current value of each scheme.
SCHEME_COLUMNS: dict[ClassScheme, str] = {
    ClassScheme.ABC: "abc_class",
    ClassScheme.INITIAL: "initial_class",
    ClassScheme.PERFORMANCE: "performance_class",
    ClassScheme.RELATIONSHIP: "relationship_grade",
    ClassScheme.CREDIT: "credit_grade",
    ClassScheme.ANNUAL_INTEGRATED: "annual_integrated_class",
    ClassScheme.SERVICE_TIER: "service_tier",
    ClassScheme.PARTNER_TIER: "partner_tier",
}
SCHEME_ENUMS: dict[ClassScheme, type[LabelledEnum]] = {
    ClassScheme.ABC: AbcClass,
    ClassScheme.PERFORMANCE: PerformanceClass,
    ClassScheme.SERVICE_TIER: ServiceTier,
    ClassScheme.PARTNER_TIER: PartnerTier,
}
COLUMN_SCHEMES = {column: scheme for scheme, column in SCHEME_COLUMNS.items()}

REASON_NEEDS_REASON = N_("changing a classification needs a reason")


def create_dealer(store: Store, values: Mapping[str, Any]) -> Record:
    """Add a dealer; name and visit class (abc_class) are required."""
    cleaned = clean_values(Dealer, values)
    with store.write() as session:
        return snapshot(insert_row(session, store, Dealer, cleaned))


def update_dealer(
    store: Store,
    dealer_id: str,
    values: Mapping[str, Any],
    *,
    reason: str | None = None,
    period_label: str | None = None,
) -> Record:
    """Edit a dealer's profile.

    A change of a classification column (abc_class, credit_grade, ...) is logged
    in the class history with ``reason``, which is then required.
    """
    cleaned = clean_values(Dealer, values)
    with store.write() as session:
        dealer = get_live(session, Dealer, dealer_id)
        changed = {
            COLUMN_SCHEMES[name]: value
            for name, value in cleaned.items()
            if name in COLUMN_SCHEMES and _text(value) != _text(getattr(dealer, name))
        }
        if changed and not (reason and reason.strip()):
            raise ValidationError(
                [problem(ClassHistory, "reason", REASON_NEEDS_REASON)], "class_history"
            )
        for scheme, value in changed.items():
            log_classification_change(
                session, store, dealer, scheme, value, reason or "", period_label
            )
        return snapshot(update_row(session, store, dealer, cleaned))


def delete_dealer(store: Store, dealer_id: str) -> None:
    """Tombstone a dealer (its history stays for sync and reports)."""
    with store.write() as session:
        tombstone_row(session, store, get_live(session, Dealer, dealer_id))


def get_dealer(store: Store, dealer_id: str) -> Record:
    """A snapshot of one live dealer (NotFound when missing or deleted)."""
    with store.read() as session:
        return snapshot(get_live(session, Dealer, dealer_id))


def change_classification(
    store: Store,
    dealer_id: str,
    scheme: ClassScheme | str,
    new_value: Any,
    reason: str,
    *,
    period_label: str | None = None,
    changed_on: date | None = None,
) -> Record:
    """Set one classification of a dealer and log it with its reason; returns the history row."""
    scheme = ClassScheme.parse(scheme)
    value = _scheme_value(scheme, new_value)
    with store.write() as session:
        dealer = get_live(session, Dealer, dealer_id)
        history = log_classification_change(
            session, store, dealer, scheme, value, reason, period_label, changed_on
        )
        update_row(session, store, dealer, {SCHEME_COLUMNS[scheme]: value})
        return snapshot(history)


def _scheme_value(scheme: ClassScheme, value: Any) -> Any:
    enum_class = SCHEME_ENUMS.get(scheme)
    if enum_class is None:
        return None if value is None else str(value).strip()
    try:
        return enum_class.parse(value)
    except ValueError:
        choices = " / ".join(member.code for member in enum_class)
        raise ValidationError(
            [problem(ClassHistory, "new_value", REASON_NOT_CHOICE, text=value, choices=choices)],
            "class_history",
        ) from None


def _text(value: Any) -> str | None:
    if value is None:
        return None
    return value.code if isinstance(value, LabelledEnum) else str(value)


def log_classification_change(
    session: Session,
    store: Store,
    dealer: Dealer,
    scheme: ClassScheme,
    value: Any,
    reason: str,
    period_label: str | None = None,
    changed_on: date | None = None,
) -> ClassHistory:
    """Write one class history row (inside the caller's transaction)."""
    return insert_row(
        session,
        store,
        ClassHistory,
        {
            "dealer_id": dealer.id,
            "territory_id": dealer.territory_id,
            "scheme": scheme,
            "old_value": _text(getattr(dealer, SCHEME_COLUMNS[scheme])),
            "new_value": _text(value) or "",
            "reason": reason.strip() if reason else reason,
            "changed_on": changed_on or store.today(),
            "changed_by": store.user.user_id,
            "period_label": period_label,
        },
    )
