"""Server schema: users, territories, devices, tokens, streams, change log, rows, batches, audit.

Revision ID: 0001
Revises:
Create Date: 2026-11-25 21:10:03.714845
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "audit_entry",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.String(length=32), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=True),
        sa.Column("territory_id", sa.String(length=36), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("change_no", sa.BigInteger(), nullable=False),
        sa.Column("op_id", sa.String(length=36), nullable=True),
        sa.Column(
            "changes",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_entry")),
    )
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entry_row", ["table_name", "row_id"], unique=False)
        batch_op.create_index("ix_audit_entry_territory", ["territory_id", "id"], unique=False)
        batch_op.create_index("ix_audit_entry_user", ["user_id", "id"], unique=False)

    op.create_table(
        "change_log",
        sa.Column("territory_id", sa.String(length=36), nullable=False),
        sa.Column("change_no", sa.BigInteger(), nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("row_id", sa.String(length=36), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("territory_id", "change_no", name=op.f("pk_change_log")),
    )
    op.create_table(
        "push_batch",
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("batch_id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column(
            "response",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=True,
        ),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("device_id", "batch_id", name=op.f("pk_push_batch")),
    )
    op.create_table(
        "server_meta",
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_server_meta")),
    )
    op.create_table(
        "server_row",
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("territory_id", sa.String(length=36), nullable=False),
        sa.Column("row_version", sa.Integer(), nullable=False),
        sa.Column("deleted", sa.Boolean(), nullable=False),
        sa.Column("change_no", sa.BigInteger(), nullable=False),
        sa.Column(
            "values",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("table_name", "id", name=op.f("pk_server_row")),
    )
    with op.batch_alter_table("server_row", schema=None) as batch_op:
        batch_op.create_index(
            "ix_server_row_scan", ["territory_id", "table_name", "id"], unique=False
        )

    op.create_table(
        "server_user",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("username", sa.Text(), nullable=False),
        sa.Column("display_name", sa.Text(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("password_hash", sa.Text(), nullable=False),
        sa.Column("manager_user_id", sa.String(length=36), nullable=True),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_server_user")),
        sa.UniqueConstraint("username", name=op.f("uq_server_user_username")),
    )
    with op.batch_alter_table("server_user", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_server_user_manager_user_id"), ["manager_user_id"], unique=False
        )

    op.create_table(
        "sync_stream",
        sa.Column("territory_id", sa.String(length=36), nullable=False),
        sa.Column("last_change_no", sa.BigInteger(), nullable=False),
        sa.Column("horizon", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("territory_id", name=op.f("pk_sync_stream")),
    )
    op.create_table(
        "territory",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("region", sa.Text(), nullable=True),
        sa.Column("manager_user_id", sa.String(length=36), nullable=True),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_territory")),
        sa.UniqueConstraint("name", name=op.f("uq_territory_name")),
    )
    with op.batch_alter_table("territory", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_territory_manager_user_id"), ["manager_user_id"], unique=False
        )

    op.create_table(
        "device",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("created_at", sa.String(length=32), nullable=False),
        sa.Column("last_seen_at", sa.String(length=32), nullable=True),
        sa.Column("revoked_at", sa.String(length=32), nullable=True),
        sa.Column("token_generation", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"], ["server_user.id"], name=op.f("fk_device_user_id_server_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_device")),
    )
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_device_user_id"), ["user_id"], unique=False)

    op.create_table(
        "territory_assignment",
        sa.Column("user_id", sa.String(length=36), nullable=False),
        sa.Column("territory_id", sa.String(length=36), nullable=False),
        sa.ForeignKeyConstraint(
            ["territory_id"],
            ["territory.id"],
            name=op.f("fk_territory_assignment_territory_id_territory"),
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["server_user.id"],
            name=op.f("fk_territory_assignment_user_id_server_user"),
        ),
        sa.PrimaryKeyConstraint("user_id", "territory_id", name=op.f("pk_territory_assignment")),
    )
    with op.batch_alter_table("territory_assignment", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_territory_assignment_territory_id"), ["territory_id"], unique=False
        )

    op.create_table(
        "refresh_token",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("device_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("issued_at", sa.String(length=32), nullable=False),
        sa.Column("expires_at", sa.String(length=32), nullable=False),
        sa.Column("used_at", sa.String(length=32), nullable=True),
        sa.Column("revoked_at", sa.String(length=32), nullable=True),
        sa.Column("replaced_by", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["device.id"], name=op.f("fk_refresh_token_device_id_device")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_token")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_token_token_hash")),
    )
    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_refresh_token_device_id"), ["device_id"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("refresh_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_token_device_id"))

    op.drop_table("refresh_token")
    with op.batch_alter_table("territory_assignment", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_territory_assignment_territory_id"))

    op.drop_table("territory_assignment")
    with op.batch_alter_table("device", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_device_user_id"))

    op.drop_table("device")
    with op.batch_alter_table("territory", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_territory_manager_user_id"))

    op.drop_table("territory")
    op.drop_table("sync_stream")
    with op.batch_alter_table("server_user", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_server_user_manager_user_id"))

    op.drop_table("server_user")
    with op.batch_alter_table("server_row", schema=None) as batch_op:
        batch_op.drop_index("ix_server_row_scan")

    op.drop_table("server_row")
    op.drop_table("server_meta")
    op.drop_table("push_batch")
    op.drop_table("change_log")
    with op.batch_alter_table("audit_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_user")
        batch_op.drop_index("ix_audit_entry_territory")
        batch_op.drop_index("ix_audit_entry_row")

    op.drop_table("audit_entry")
