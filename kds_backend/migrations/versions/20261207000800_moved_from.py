"""transfer: the station a moved item was sent to (its card marks "← GRILL")

Revision ID: 20261207000800_moved_from
Revises: 20261207000700_fire_timing
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207000800_moved_from"
down_revision = "20261207000700_fire_timing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("order_items") as batch:
        batch.add_column(sa.Column("moved_from", sa.String(40), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("order_items") as batch:
        batch.drop_column("moved_from")
