"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

JSON_ = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "change_counter",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    # One row: the server-wide change sequence. Every write transaction locks it first.
    op.execute("INSERT INTO change_counter (id, value) VALUES (1, 0)")
    op.create_table(
        "device_cursors",
        sa.Column("restaurant_id", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=80), nullable=False),
        sa.Column("last_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("restaurant_id", "device_id"),
    )
    op.create_table(
        "devices",
        sa.Column("id", sa.String(length=80), nullable=False),
        sa.Column("restaurant_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=80), nullable=False),
        sa.Column("email", sa.String(length=200), nullable=False),
        sa.Column("password_hash", sa.String(length=300), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("stations", JSON_, nullable=False),
        sa.Column("display", JSON_, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_table(
        "idempotency_keys",
        sa.Column("restaurant_id", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("request_hash", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=False),
        sa.Column("response", JSON_, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("restaurant_id", "key"),
    )
    op.create_table(
        "intent_ledger",
        sa.Column("intent_id", sa.Uuid(), nullable=False),
        sa.Column("restaurant_id", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=80), nullable=False),
        sa.Column("device_seq", sa.BigInteger(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.String(length=500), nullable=True),
        sa.Column("order_id", sa.Uuid(), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("intent_id"),
    )
    with op.batch_alter_table("intent_ledger", schema=None) as batch_op:
        batch_op.create_index("ix_intent_ledger_device_seq", ["device_id", "device_seq"], unique=False)

    op.create_table(
        "menu_availability",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("restaurant_id", sa.String(length=64), nullable=False),
        sa.Column("item_name", sa.String(length=200), nullable=False),
        sa.Column("available", sa.Boolean(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=True),
        sa.Column("updated_by", sa.String(length=80), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("restaurant_id", "item_name", name="uq_menu_availability_item"),
    )
    with op.batch_alter_table("menu_availability", schema=None) as batch_op:
        batch_op.create_index(
            "ix_menu_availability_restaurant_change_seq", ["restaurant_id", "change_seq"], unique=False
        )

    op.create_table(
        "orders",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("restaurant_id", sa.String(length=64), nullable=False),
        sa.Column("number", sa.String(length=40), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("type", sa.String(length=16), nullable=False),
        sa.Column("table_label", sa.String(length=200), nullable=True),
        sa.Column("server_name", sa.String(length=200), nullable=True),
        sa.Column("guests", sa.Integer(), nullable=True),
        sa.Column("customer_name", sa.String(length=200), nullable=True),
        sa.Column("notes", sa.String(length=2000), nullable=True),
        sa.Column("priority", sa.String(length=16), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.create_index("ix_orders_restaurant_change_seq", ["restaurant_id", "change_seq"], unique=False)
        batch_op.create_index("ix_orders_restaurant_status", ["restaurant_id", "status"], unique=False)

    op.create_table(
        "station_routes",
        sa.Column("restaurant_id", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=60), nullable=False),
        sa.Column("station", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("restaurant_id", "category"),
    )
    op.create_table(
        "order_items",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("order_id", sa.Uuid(), nullable=False),
        sa.Column("restaurant_id", sa.String(length=64), nullable=False),
        sa.Column("station", sa.String(length=40), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("modifiers", JSON_, nullable=False),
        sa.Column("notes", sa.String(length=2000), nullable=True),
        sa.Column("allergens", JSON_, nullable=False),
        sa.Column("course", sa.Integer(), nullable=False),
        sa.Column("held", sa.Boolean(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("changed_after_send", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.BigInteger(), nullable=False),
        sa.Column("change_seq", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(["order_id"], ["orders.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.create_index("ix_order_items_order", ["order_id"], unique=False)
        batch_op.create_index("ix_order_items_restaurant_change_seq", ["restaurant_id", "change_seq"], unique=False)

    op.create_table(
        "refresh_tokens",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("device_id", sa.String(length=80), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("successor_hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(["device_id"], ["devices.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash"),
    )


def downgrade() -> None:
    op.drop_table("refresh_tokens")
    with op.batch_alter_table("order_items", schema=None) as batch_op:
        batch_op.drop_index("ix_order_items_restaurant_change_seq")
        batch_op.drop_index("ix_order_items_order")

    op.drop_table("order_items")
    op.drop_table("station_routes")
    with op.batch_alter_table("orders", schema=None) as batch_op:
        batch_op.drop_index("ix_orders_restaurant_status")
        batch_op.drop_index("ix_orders_restaurant_change_seq")

    op.drop_table("orders")
    with op.batch_alter_table("menu_availability", schema=None) as batch_op:
        batch_op.drop_index("ix_menu_availability_restaurant_change_seq")

    op.drop_table("menu_availability")
    with op.batch_alter_table("intent_ledger", schema=None) as batch_op:
        batch_op.drop_index("ix_intent_ledger_device_seq")

    op.drop_table("intent_ledger")
    op.drop_table("idempotency_keys")
    op.drop_table("devices")
    op.drop_table("device_cursors")
    op.drop_table("change_counter")
