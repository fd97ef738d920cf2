"""change log for realtime fan-out across companion instances (PostgreSQL writes it)

Revision ID: 0002_change_log
Revises: 0001
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_ = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0002_change_log"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_log",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("table_name", sa.String(length=64), nullable=False),
        sa.Column("type", sa.String(length=8), nullable=False),
        sa.Column("restaurant_id", sa.String(length=64), nullable=True),
        sa.Column("record", JSON_, nullable=True),
        sa.Column("old_record", JSON_, nullable=True),
        sa.Column("commit_timestamp", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.create_index("ix_change_log_commit_timestamp", ["commit_timestamp"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("change_log", schema=None) as batch_op:
        batch_op.drop_index("ix_change_log_commit_timestamp")
    op.drop_table("change_log")
