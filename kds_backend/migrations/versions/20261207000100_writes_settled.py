"""upstream writes settled: an update upstream took stays over its rows until the hub's copy has it

Revision ID: 20261207000100_writes_settled
Revises: 20261207000000_hub_intents
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "20261207000100_writes_settled"
down_revision = "20261207000000_hub_intents"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("upstream_writes") as batch:
        batch.add_column(sa.Column("settled", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=True))
        batch.add_column(sa.Column("settled_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("upstream_writes") as batch:
        batch.drop_column("settled_at")
        batch.drop_column("settled")
