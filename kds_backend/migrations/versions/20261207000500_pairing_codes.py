"""pairing_codes: one-time codes a screen exchanges for its URL, anon key and device sign-in (kds-backend pair)

Revision ID: 20261207000500_pairing_codes
Revises: 20261207000400_print_screen_seen
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "20261207000500_pairing_codes"
down_revision = "20261207000400_print_screen_seen"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "pairing_codes",
        sa.Column("code_hash", sa.String(64), primary_key=True),
        sa.Column("restaurant_id", sa.String(64), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("stations", sa.JSON().with_variant(JSONB(), "postgresql"), nullable=False),
        sa.Column("name", sa.String(80), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True)),
    )


def downgrade() -> None:
    op.drop_table("pairing_codes")
