"""SQLAlchemy Core views of the local tables at the latest schema version (see `migrations`)."""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("restaurant_id", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("change_seq", sa.Integer, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("cleared", sa.Boolean, nullable=False, default=False),
)

order_items = sa.Table(
    "order_items",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("order_id", sa.String, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    sa.Column("station", sa.String, nullable=False),
    sa.Column("status", sa.String, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("change_seq", sa.Integer, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
    sa.Column("done_at", sa.Float),
)

menu_availability = sa.Table(
    "menu_availability",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("restaurant_id", sa.String, nullable=False),
    sa.Column("item_name", sa.String, nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("change_seq", sa.Integer, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
)

recipes = sa.Table(
    "recipes",
    metadata,
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("item_name", sa.String, nullable=False),
    sa.Column("data", sa.Text, nullable=False),
)
"""The server's recipe lines (RecipePublic JSON), replaced whole at each read (sync/engine/recipes.py)."""

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("intent_id", sa.String, nullable=False, unique=True),
    sa.Column("device_seq", sa.Integer, nullable=False),
    sa.Column("kind", sa.String, nullable=False),
    sa.Column("order_id", sa.String),
    sa.Column("payload", sa.Text, nullable=False),
    sa.Column("state", sa.String, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", sa.Float),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("last_error", sa.Text),
    sa.Column("reason", sa.Text),
)

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("key", sa.String, primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)

PENDING = "pending"
INFLIGHT = "inflight"
REJECTED = "rejected"
UNSETTLED = (PENDING, INFLIGHT)
"""States of an entry the server has not answered for yet: it still counts in the queue and in the overlay."""

sync_cursor = sa.Table(
    "sync_cursor",
    metadata,
    sa.Column("tbl", sa.String, primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
)

tombstones = sa.Table(
    "tombstones",
    metadata,
    sa.Column("tbl", sa.String, primary_key=True),
    sa.Column("id", sa.String, primary_key=True),
    sa.Column("seq", sa.Integer, nullable=False),
    sa.Column("received", sa.Integer, nullable=False),
    sa.Column("at", sa.Float, nullable=False),
)
"""Deleted server rows (see `sync.readpath.merge`): kept so a stale copy is buried, not resurrected."""
