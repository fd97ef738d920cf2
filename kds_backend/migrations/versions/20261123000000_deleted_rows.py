"""deletion log: deleted_rows, read by screens catching up on deletes

Revision ID: 20261123000000_deleted_rows
Revises: 20261122000500_prep_day_end
Create Date: 2026-11-23
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261123000000_deleted_rows"
down_revision = "20261122000500_prep_day_end"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Rows deleted before this migration are not in it: nothing recorded them.
    op.create_table(
        "deleted_rows",
        sa.Column("change_seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("restaurant_id", sa.String(length=64), nullable=False),
        sa.Column("table_name", sa.String(length=32), nullable=False),
        sa.Column("row_id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("deleted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("change_seq"),
    )
    # The catch-up query: `restaurant_id=eq.R & change_seq=gt.N & order=change_seq`.
    op.create_index(
        "ix_deleted_rows_restaurant_change_seq", "deleted_rows", ["restaurant_id", "change_seq"], unique=False
    )


def downgrade() -> None:
    op.drop_index("ix_deleted_rows_restaurant_change_seq", table_name="deleted_rows")
    op.drop_table("deleted_rows")
