"""Read and write the per-territory settings declared in :mod:`fieldrep.storage.settings`.

A territory that never changed a setting uses its declared default; a change is
one synced ``territory_setting`` row holding the value's canonical text. The API:

- :func:`get_setting` one value of one territory (inside the caller's session);
- :func:`territory_settings` every declared setting of one territory, for a form;
- :func:`set_setting` validate and store one value (its own transaction).

Changing a cadence setting moves the territory's due dates at once: triggers on
``territory_setting`` recompute them (see :mod:`fieldrep.storage.cadence`).
"""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import Any, NoReturn, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from fieldrep.i18n import N_
from fieldrep.storage.errors import FieldProblem, ValidationError
from fieldrep.storage.models import TerritorySetting
from fieldrep.storage.services.core import Store, insert_row, update_row
from fieldrep.storage.settings import ALL_SETTINGS, Setting
from fieldrep.storage.types import format_decimal

log = logging.getLogger("fieldrep.storage")

T = TypeVar("T", int, Decimal, str)


def get_setting(session: Session, territory_id: str, setting: Setting[T]) -> T:
    """The territory's value of ``setting``, or its default when unset or unreadable."""
    stored = session.scalar(
        select(TerritorySetting.value).where(
            TerritorySetting.territory_id == territory_id,
            TerritorySetting.key == setting.key,
            TerritorySetting.deleted.is_(False),
        )
    )
    return _stored_or_default(setting, territory_id, stored)


def territory_settings(session: Session, territory_id: str) -> dict[str, Any]:
    """Every declared setting of the territory, by key, with defaults filled in."""
    stored: dict[str, str] = dict(
        session.execute(
            select(TerritorySetting.key, TerritorySetting.value).where(
                TerritorySetting.territory_id == territory_id,
                TerritorySetting.deleted.is_(False),
            )
        ).all()
    )
    values: dict[str, Any] = {}
    for setting in ALL_SETTINGS:
        declared: Setting[Any] = setting
        values[setting.key] = _stored_or_default(declared, territory_id, stored.get(setting.key))
    return values


def set_setting(
    store: Store, setting: Setting[T], value: Any, *, territory_id: str | None = None
) -> T:
    """Validate ``value`` (typed or as text) and store it for the territory.

    The territory is the current user's unless given. Raises
    :class:`ValidationError` naming the setting and the reason; returns the value
    as stored.
    """
    checked = check_value(setting, value)
    territory = territory_id or store.user.territory_id
    text = format_decimal(checked) if isinstance(checked, Decimal) else str(checked)
    with store.write() as session:
        row = session.scalar(
            select(TerritorySetting).where(
                TerritorySetting.territory_id == territory,
                TerritorySetting.key == setting.key,
            )
        )
        if row is None:
            insert_row(
                session,
                store,
                TerritorySetting,
                {"territory_id": territory, "key": setting.key, "value": text},
            )
        else:
            # (territory, key) is unique even among tombstones: setting a value the
            # user deleted elsewhere is an explicit choice, so the row comes back.
            if row.deleted:
                row.deleted = False
                row.deleted_at = None
            update_row(session, store, row, {"value": text})
    return checked


def check_value(setting: Setting[T], value: Any) -> T:
    """``value`` converted to the setting's type and range-checked, or ValidationError."""
    converted = _convert(setting, value)
    if setting.minimum is not None and converted < setting.minimum:
        _refuse(setting, N_("must be at least {minimum}"), minimum=setting.minimum)
    if setting.maximum is not None and converted > setting.maximum:
        _refuse(setting, N_("must be at most {maximum}"), maximum=setting.maximum)
    return converted


def _convert(setting: Setting[T], value: Any) -> T:
    kind = setting.kind
    if isinstance(value, bool):  # bool is an int to Python, never a setting value
        _refuse(setting, N_("must be a number"))
    if kind is str:
        text = str(value).strip()
        if not text:
            _refuse(setting, N_("must not be empty"))
        return kind(text)
    if kind is int:
        if isinstance(value, int):
            return kind(value)
        if isinstance(value, Decimal) and value == value.to_integral_value():
            return kind(int(value))
        text = str(value).strip()
        try:
            return kind(int(text))
        except ValueError:
            pass
        try:
            Decimal(text)
        except InvalidOperation:
            _refuse(setting, N_("must be a number"))
        _refuse(setting, N_("must be a whole number"))
    # Decimal: floats are refused because they are not exact.
    if isinstance(value, float):
        value = str(value)
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        _refuse(setting, N_("must be a number"))
    if not number.is_finite():
        _refuse(setting, N_("must be a number"))
    return kind(number)


def _refuse(setting: Setting[Any], reason: str, **params: Any) -> NoReturn:
    raise ValidationError(
        [FieldProblem(setting.key, setting.title, reason, params)], "territory_setting"
    )


def _stored_or_default(setting: Setting[T], territory_id: str, stored: str | None) -> T:
    if stored is None:
        return setting.default
    try:
        return check_value(setting, stored)
    except ValidationError:
        # A value that cannot be read (edited outside FieldRep) must not stop the
        # planner: use the default and leave a trace.
        log.warning(
            "territory %s: setting %s has unusable value %r; using the default",
            territory_id,
            setting.key,
            stored,
        )
        return setting.default
