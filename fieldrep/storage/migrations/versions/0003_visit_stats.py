"""Local derived visit statistics for the cadence planner (owned by fieldrep.storage.cadence).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from fieldrep.storage.cadence import install_visit_stats, uninstall_visit_stats

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # The SQL lives with the rules it implements; a later change to it comes with
    # a new migration that calls install_visit_stats() again.
    install_visit_stats(op.get_bind())


def downgrade() -> None:
    uninstall_visit_stats(op.get_bind())
