"""orders.item_count: how many order_items rows each order has (screens hold a commit until its items are in)

Revision ID: 20261207000900_order_item_count
Revises: 20261207000800_moved_from
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207000900_order_item_count"
down_revision = "20261207000800_moved_from"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.add_column(sa.Column("item_count", sa.Integer(), nullable=False, server_default="0"))
    # The backfill leaves version and change_seq alone: a screen learns the count with the order's next change,
    # and until then holds that order's frames as before (item_count unknown).
    op.execute(
        "UPDATE orders SET item_count = (SELECT count(*) FROM order_items WHERE order_items.order_id = orders.id)"
    )


def downgrade() -> None:
    with op.batch_alter_table("orders") as batch:
        batch.drop_column("item_count")
