"""fire timing: prep times per menu item, and each item's prep time and fire time

Revision ID: 20261207000700_fire_timing
Revises: 20261207000600_recipes
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207000700_fire_timing"
down_revision = "20261207000600_recipes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "prep_times",
        sa.Column("restaurant_id", sa.String(64), primary_key=True),
        sa.Column("item_key", sa.String(200), primary_key=True),
        sa.Column("item_name", sa.String(200), nullable=False),
        sa.Column("seconds", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    with op.batch_alter_table("order_items") as batch:
        batch.add_column(sa.Column("prep_seconds", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("fired_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_items") as batch:
        batch.drop_column("fired_at")
        batch.drop_column("prep_seconds")
    op.drop_table("prep_times")
