"""upstream writes: a hub's POS writes queued for its upstream

Revision ID: 20261206000100_upstream_writes
Revises: 20261206000000_late_rejections
Create Date: 2026-12-06
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "20261206000100_upstream_writes"
down_revision = "20261206000000_late_rejections"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "upstream_writes",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("restaurant_id", sa.String(length=64), nullable=False),
        sa.Column("table_name", sa.String(length=32), nullable=False),
        sa.Column("op", sa.String(length=8), nullable=False),
        sa.Column("body", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("failed", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("seq"),
    )


def downgrade() -> None:
    op.drop_table("upstream_writes")
