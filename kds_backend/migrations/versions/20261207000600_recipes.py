"""recipes: how many of each ingredient go into one of a menu item (the all-day panel's ingredient counts)

Revision ID: 20261207000600_recipes
Revises: 20261207000500_pairing_codes
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "20261207000600_recipes"
down_revision = "20261207000500_pairing_codes"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recipes",
        sa.Column("id", sa.Uuid(), primary_key=True),
        sa.Column("restaurant_id", sa.String(64), nullable=False),
        sa.Column("item_name", sa.String(200), nullable=False),
        sa.Column("ingredient", sa.String(200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.UniqueConstraint("restaurant_id", "item_name", "ingredient", name="uq_recipes_item_ingredient"),
    )
    op.create_index("ix_recipes_restaurant_change_seq", "recipes", ["restaurant_id", "change_seq"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_recipes_restaurant_change_seq", table_name="recipes")
    op.drop_table("recipes")
