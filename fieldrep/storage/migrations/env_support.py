"""Helpers shared by the Alembic environment and the migration tooling."""

from __future__ import annotations

from typing import Any, Literal

from sqlalchemy.types import TypeDecorator

# Tables that migrations create by hand and the ORM does not map (full-text
# index, sync bookkeeping): autogenerate must leave them alone.
UNMAPPED_PREFIXES = ("search_", "sync_", "outbox", "_fr_")


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
    return bool(table is not None and str(table.name).startswith(UNMAPPED_PREFIXES))
