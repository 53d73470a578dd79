"""Declarative base and the columns every synced table carries (SYNC.md 'Records')."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any, ClassVar

from sqlalchemy import Date, ForeignKey, Integer, MetaData, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from fieldrep.storage.enums import LabelledEnum
from fieldrep.storage.types import DecimalText, EnumCode, JsonList, UtcDateTime, new_id, utcnow

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UtcDateTime(),
        Decimal: DecimalText(),
        date: Date(),
        str: Text(),
        list[str]: JsonList(),
    }


def ref(table: str, *, nullable: bool = True, index: bool = True) -> Any:
    """A reference to another synced row.

    Deferred so that a sync can apply a batch of rows in server order even when a
    child arrives in the same transaction before its parent.
    """
    return mapped_column(
        String(36),
        ForeignKey(f"{table}.id", deferrable=True, initially="DEFERRED"),
        nullable=nullable,
        index=index,
    )


def code(enum_class: type[LabelledEnum], *, nullable: bool = True, **kwargs: Any) -> Any:
    """An enumeration column stored as its stable code."""
    return mapped_column(EnumCode(enum_class), nullable=nullable, **kwargs)


class SyncedMixin:
    """Columns of every table that syncs: identity, version, tombstone and scope.

    ``row_version`` is assigned by the server; 0 means never accepted by it.
    Wall-clock columns are informational only: no decision depends on them.
    """

    __sync__: ClassVar[bool] = True

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    territory_id: Mapped[str] = mapped_column(String(36), index=True)
    row_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    deleted: Mapped[bool] = mapped_column(default=False, server_default="0")
    deleted_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    updated_by: Mapped[str | None] = mapped_column(String(36))


class SyncedBase(SyncedMixin, Base):
    """Base class of every synced entity."""

    __abstract__ = True
