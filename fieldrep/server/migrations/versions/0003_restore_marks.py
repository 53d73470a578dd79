"""Restore marks: each stream's change number at the last restore, each row's version then.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 01:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("sync_stream", schema=None) as batch_op:
        batch_op.add_column(sa.Column("restore_change_no", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("server_row", schema=None) as batch_op:
        batch_op.add_column(sa.Column("restore_version", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("server_row", schema=None) as batch_op:
        batch_op.drop_column("restore_version")
    with op.batch_alter_table("sync_stream", schema=None) as batch_op:
        batch_op.drop_column("restore_change_no")
