"""Restore history: every restore with the backup's epoch, and each stream's mark at it.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26 03:30:00

A restore made before this revision left only the latest marks (0003); it is not
in the history, so a device from before it is answered as one whose epoch the
server does not know (conservatively: nothing taken as shared).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "server_restore",
        sa.Column("restore_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("epoch_before", sa.String(length=64), nullable=True),
        sa.Column("epoch", sa.String(length=64), nullable=False),
        sa.Column("restored_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("restore_no", name=op.f("pk_server_restore")),
    )
    with op.batch_alter_table("server_restore", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_server_restore_epoch_before"), ["epoch_before"], unique=False
        )
    op.create_table(
        "restore_mark",
        sa.Column("restore_no", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("territory_id", sa.String(length=36), nullable=False),
        sa.Column("change_no", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["restore_no"],
            ["server_restore.restore_no"],
            name=op.f("fk_restore_mark_restore_no_server_restore"),
        ),
        sa.PrimaryKeyConstraint("restore_no", "territory_id", name=op.f("pk_restore_mark")),
    )


def downgrade() -> None:
    op.drop_table("restore_mark")
    with op.batch_alter_table("server_restore", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_server_restore_epoch_before"))
    op.drop_table("server_restore")
