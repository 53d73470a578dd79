"""Dealer names in pinyin order: the local sort key dealer.name_sort (owned by
fieldrep.storage.sorting).

Adds the column, fills it for the dealers already there in one UPDATE (the SQL
function computes each key), indexes it with ``deleted`` and with
``abc_class``, and creates the triggers that keep it current on insert and
rename. The key is local derived data: not in the ORM model, not in the
protocol, and the outbox capture triggers of 0004 list their columns, so it is
never synced.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-26
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from fieldrep.storage.sorting import install_name_sort, uninstall_name_sort

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    install_name_sort(op.get_bind())


def downgrade() -> None:
    uninstall_name_sort(op.get_bind())
