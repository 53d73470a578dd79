"""Helpers shared by the Alembic environment and the migration tooling."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy.types import TypeDecorator

# Tables that migrations create by hand and the ORM does not map (full-text
# index, sync bookkeeping): autogenerate must leave them alone.
UNMAPPED_PREFIXES = ("search_", "sync_", "outbox", "_fr_")
# Local derived columns that migrations add to mapped tables (never synced, so not
# in the models) and their indexes: (table, column) and index names.
UNMAPPED_COLUMNS = frozenset({("dealer", "name_sort")})
UNMAPPED_INDEXES = frozenset({"ix_dealer_live_name_sort", "ix_dealer_class_name_sort"})


def render_item(type_: str, obj: Any, autogen_context: Any) -> str | Literal[False]:
    """Render our TypeDecorators as their plain SQL type, so migrations stay frozen."""
    if type_ == "type" and isinstance(obj, TypeDecorator):
        autogen_context.imports.add("import sqlalchemy as sa")
        return f"sa.{obj.impl_instance!r}"
    return False


def include_object(
    obj: Any, name: str | None, type_: str, reflected: bool, compare_to: Any
) -> bool:
    if type_ == "table" and name is not None and name.startswith(UNMAPPED_PREFIXES):
        return False
    return not (
        type_ in ("index", "column") and reflected and compare_to is None and _on_unmapped(obj)
    )


def _on_unmapped(obj: Any) -> bool:
    table = getattr(obj, "table", None)
    if table is None:
        return False
    table_name = str(table.name)
    if table_name.startswith(UNMAPPED_PREFIXES):
        return True
    name = str(getattr(obj, "name", ""))
    return (table_name, name) in UNMAPPED_COLUMNS or name in UNMAPPED_INDEXES
