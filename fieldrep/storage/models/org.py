"""Territories, people using FieldRep, and per-territory settings."""

from __future__ import annotations

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from fieldrep.storage.enums import Role
from fieldrep.storage.models.base import SyncedBase, code


class Territory(SyncedBase):
    """A sales territory (定域): the scope that decides who sees which rows."""

    __tablename__ = "territory"

    name: Mapped[str]
    region: Mapped[str | None]
    manager_user_id: Mapped[str | None] = mapped_column(String(36))


class AppUser(SyncedBase):
    """A rep, manager or admin as known to this device (owners, authors)."""

    __tablename__ = "app_user"

    username: Mapped[str] = mapped_column(index=True)
    display_name: Mapped[str]
    role: Mapped[Role] = code(Role, nullable=False)
    phone: Mapped[str | None]
    email: Mapped[str | None]
    manager_user_id: Mapped[str | None] = mapped_column(String(36))


class TerritorySetting(SyncedBase):
    """A configurable rule of one territory (cadence, 532 cut-offs, warning lines).

    The keys and defaults are declared once in :mod:`fieldrep.storage.settings`.
    """

    __tablename__ = "territory_setting"
    __table_args__ = (UniqueConstraint("territory_id", "key"),)

    key: Mapped[str]
    value: Mapped[str]
