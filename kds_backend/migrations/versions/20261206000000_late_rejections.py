"""late rejections: intents a hub applied and its upstream refused, for the device that made them

Revision ID: 20261206000000_late_rejections
Revises: 20261123000000_deleted_rows
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "20261206000000_late_rejections"
down_revision = "20261123000000_deleted_rows"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "late_rejections",
        sa.Column("intent_id", sa.Uuid(), nullable=False),
        sa.Column("restaurant_id", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=80), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("intent", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=False),
        sa.Column("rejected_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("intent_id"),
    )
    op.create_index(
        "ix_late_rejections_device_seq", "late_rejections", ["restaurant_id", "device_id", "seq"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_late_rejections_device_seq", table_name="late_rejections")
    op.drop_table("late_rejections")
