"""backup printing: a station's ESC/POS printer, its print jobs and cursor, and when an item was printed

Revision ID: 20261207000300_backup_print
Revises: 20261207000200_session_ids
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "20261207000300_backup_print"
down_revision = "20261207000200_session_ids"
branch_labels = None
depends_on = None

Json = sa.JSON().with_variant(JSONB(), "postgresql")


def upgrade() -> None:
    with op.batch_alter_table("order_items") as batch:
        batch.add_column(sa.Column("printed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "station_printers",
        sa.Column("restaurant_id", sa.String(64), primary_key=True),
        sa.Column("station", sa.String(40), primary_key=True),
        sa.Column("host", sa.String(253), nullable=False),
        sa.Column("port", sa.Integer, nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "print_cursors",
        sa.Column("restaurant_id", sa.String(64), primary_key=True),
        sa.Column("station", sa.String(40), primary_key=True),
        sa.Column("through_seq", sa.BigInteger, nullable=False),
    )
    op.create_table(
        "print_jobs",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("restaurant_id", sa.String(64), nullable=False),
        sa.Column("station", sa.String(40), nullable=False),
        sa.Column("order_id", sa.Uuid, nullable=False),
        sa.Column("slip", Json, nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sending_at", sa.DateTime(timezone=True)),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("printed_at", sa.DateTime(timezone=True)),
        sa.Column("last_error", sa.String(500)),
    )
    op.create_index("ix_print_jobs_pending", "print_jobs", ["restaurant_id", "station", "printed_at", "id"])
    op.create_index("ix_print_jobs_order", "print_jobs", ["order_id", "station", "id"])


def downgrade() -> None:
    op.drop_index("ix_print_jobs_order", "print_jobs")
    op.drop_index("ix_print_jobs_pending", "print_jobs")
    op.drop_table("print_jobs")
    op.drop_table("print_cursors")
    op.drop_table("station_printers")
    with op.batch_alter_table("order_items") as batch:
        batch.drop_column("printed_at")
