"""hub intents: a hub's LAN taps queued for the mirror's outbox in the hub's own transaction

Revision ID: 20261207000000_hub_intents
Revises: 20261206000100_upstream_writes
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "20261207000000_hub_intents"
down_revision = "20261206000100_upstream_writes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "hub_intents",
        sa.Column("seq", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("intent", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )


def downgrade() -> None:
    op.drop_table("hub_intents")
