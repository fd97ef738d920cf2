"""transfer: routing new items by load, per restaurant (off unless set)

Revision ID: 20261207001000_load_routing
Revises: 20261207000900_order_item_count
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "20261207001000_load_routing"
down_revision = "20261207000900_order_item_count"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "load_routing",
        sa.Column("restaurant_id", sa.String(64), primary_key=True),
        sa.Column("route_by_load", sa.Boolean(), nullable=False),
        sa.Column("alternates", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("load_routing")
