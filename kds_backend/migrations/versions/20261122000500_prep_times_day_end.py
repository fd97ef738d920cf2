"""prep times and end of day: order_items.done_at, orders.cleared_at

Revision ID: 20261122000500_prep_day_end
Revises: 0002_change_log
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261122000500_prep_day_end"
down_revision = "0002_change_log"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ADD COLUMN, never a batch table rebuild: on SQLite rebuilding `orders` would cascade-delete items.
    op.add_column("order_items", sa.Column("done_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("orders", sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True))
    # Reports and the day-end clear select by restaurant and creation time.
    op.create_index("ix_orders_restaurant_created_at", "orders", ["restaurant_id", "created_at"], unique=False)
    # Items already done before this column existed: their last update is the best known done time.
    op.execute("UPDATE order_items SET done_at = updated_at WHERE status = 'done' AND done_at IS NULL")


def downgrade() -> None:
    op.drop_index("ix_orders_restaurant_created_at", table_name="orders")
    op.drop_column("orders", "cleared_at")
    op.drop_column("order_items", "done_at")
