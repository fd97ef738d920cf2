"""session ids: each refresh-token chain belongs to one sign-in, so a device can sign out of one or all

Revision ID: 20261207000200_session_ids
Revises: 20261207000100_writes_settled
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207000200_session_ids"
down_revision = "20261207000100_writes_settled"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.add_column(sa.Column("session_id", sa.String(length=36), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("refresh_tokens") as batch:
        batch.drop_column("session_id")
