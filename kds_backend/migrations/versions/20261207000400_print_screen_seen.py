"""print_cursors.screen_seen_at: when a companion last saw a screen of the station online, for the others

Revision ID: 20261207000400_print_screen_seen
Revises: 20261207000300_backup_print
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207000400_print_screen_seen"
down_revision = "20261207000300_backup_print"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("print_cursors") as batch:
        batch.add_column(sa.Column("screen_seen_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("print_cursors") as batch:
        batch.drop_column("screen_seen_at")
