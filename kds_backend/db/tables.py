"""Tables of the companion's database, in SQLAlchemy Core.

The exposed tables (`orders`, `order_items`, `menu_availability`, `recipes`) use the dialect's column names; the
others are the companion's own bookkeeping (device accounts, intent ledger, idempotency records...).
The Alembic migrations create exactly these; a test checks the two never drift apart.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect


class UtcDateTime(sa.TypeDecorator[datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite stores them naive)."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime reached the database")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


Json: Any = sa.JSON().with_variant(JSONB(), "postgresql")

metadata = sa.MetaData()

change_counter = sa.Table(
    "change_counter",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("value", sa.BigInteger, nullable=False),
)

orders = sa.Table(
    "orders",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("restaurant_id", sa.String(64), nullable=False),
    sa.Column("number", sa.String(40), nullable=False),
    sa.Column("source", sa.String(16), nullable=False),
    sa.Column("type", sa.String(16), nullable=False),
    sa.Column("table_label", sa.String(200)),
    sa.Column("server_name", sa.String(200)),
    sa.Column("guests", sa.Integer),
    sa.Column("customer_name", sa.String(200)),
    sa.Column("notes", sa.String(2000)),
    sa.Column("priority", sa.String(16), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("due_at", UtcDateTime),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("change_seq", sa.BigInteger, nullable=False),
    # Set by the end-of-day clear (day_end.py): archived, off every screen, kept for reports.
    sa.Column("cleared_at", UtcDateTime),
    # How many order_items rows the order has (every status: a void is a status change, not a delete), kept by the
    # write transaction that inserts or deletes them (db/writer.py settle_item_counts): a screen holds a commit's
    # frames until it has that many items, so it never paints a ticket with lines missing (sync/readpath).
    sa.Column("item_count", sa.Integer, nullable=False, default=0, server_default="0"),
    sa.Index("ix_orders_restaurant_change_seq", "restaurant_id", "change_seq"),
    sa.Index("ix_orders_restaurant_status", "restaurant_id", "status"),
    sa.Index("ix_orders_restaurant_created_at", "restaurant_id", "created_at"),
)

order_items = sa.Table(
    "order_items",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("order_id", sa.Uuid, sa.ForeignKey("orders.id", ondelete="CASCADE"), nullable=False),
    sa.Column("restaurant_id", sa.String(64), nullable=False),
    sa.Column("station", sa.String(40), nullable=False),
    sa.Column("name", sa.String(200), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("modifiers", Json, nullable=False),
    sa.Column("notes", sa.String(2000)),
    sa.Column("allergens", Json, nullable=False),
    sa.Column("course", sa.Integer, nullable=False),
    sa.Column("held", sa.Boolean, nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("changed_after_send", sa.Boolean, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("change_seq", sa.BigInteger, nullable=False),
    # Server time the item became done (orders.py save_order); the end of a station's ticket time.
    sa.Column("done_at", UtcDateTime),
    # When the station's backup printer last printed this item as it is (kds_backend/printing); None: never.
    sa.Column("printed_at", UtcDateTime),
    # Fire timing (issue 19 item 1): the item's prep time from `prep_times` when it was sent, and when its course
    # went to the kitchen (sent, or its held course fired; None while held). Screens derive when it fires.
    sa.Column("prep_seconds", sa.Integer),
    sa.Column("fired_at", UtcDateTime),
    # Transfer (issue 19 item 2): the station the item was sent to while a move has it at another; set by the
    # order machine's transfer (api_client/order_machine.moved_from), cleared when it moves back.
    sa.Column("moved_from", sa.String(40)),
    sa.Index("ix_order_items_order", "order_id"),
    sa.Index("ix_order_items_restaurant_change_seq", "restaurant_id", "change_seq"),
)

menu_availability = sa.Table(
    "menu_availability",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("restaurant_id", sa.String(64), nullable=False),
    sa.Column("item_name", sa.String(200), nullable=False),
    sa.Column("available", sa.Boolean, nullable=False),
    sa.Column("reason", sa.String(200)),
    sa.Column("updated_by", sa.String(80)),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("change_seq", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("restaurant_id", "item_name", name="uq_menu_availability_item"),
    sa.Index("ix_menu_availability_restaurant_change_seq", "restaurant_id", "change_seq"),
)

recipes = sa.Table(
    "recipes",
    metadata,
    sa.Column("id", sa.Uuid, primary_key=True),
    sa.Column("restaurant_id", sa.String(64), nullable=False),
    sa.Column("item_name", sa.String(200), nullable=False),
    sa.Column("ingredient", sa.String(200), nullable=False),
    sa.Column("quantity", sa.Integer, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
    sa.Column("version", sa.BigInteger, nullable=False),
    sa.Column("change_seq", sa.BigInteger, nullable=False),
    sa.UniqueConstraint("restaurant_id", "item_name", "ingredient", name="uq_recipes_item_ingredient"),
    sa.Index("ix_recipes_restaurant_change_seq", "restaurant_id", "change_seq"),
)
"""How many of each ingredient go into one of a menu item (kds_backend/recipes.py): the screens' all-day panel
counts ingredients from these. Exposed (read over /rest/v1, published, deletions logged), written by an admin."""

station_routes = sa.Table(
    "station_routes",
    metadata,
    sa.Column("restaurant_id", sa.String(64), primary_key=True),
    sa.Column("category", sa.String(60), primary_key=True),
    sa.Column("station", sa.String(40), nullable=False),
)

prep_times = sa.Table(
    "prep_times",
    metadata,
    sa.Column("restaurant_id", sa.String(64), primary_key=True),
    # Lower-cased: items meet their prep time whatever the POS's case, as recipes and the 86 list do.
    sa.Column("item_key", sa.String(200), primary_key=True),
    sa.Column("item_name", sa.String(200), nullable=False),
    sa.Column("seconds", sa.Integer, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)
"""How long a menu item takes to cook (kds_backend/prep_times.py): copied onto each item as it is sent, so the
kitchen's screens time its fire (issue 19 item 1). Not an exposed table: screens read it from the items."""

load_routing = sa.Table(
    "load_routing",
    metadata,
    sa.Column("restaurant_id", sa.String(64), primary_key=True),
    sa.Column("route_by_load", sa.Boolean, nullable=False),
    # station -> the stations that can also make its items, in order of preference after it: {"grill": ["flat"]}.
    sa.Column("alternates", Json, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)
"""Routing new items by load (kds_backend/load_routing.py, issue 19 item 2): one row a restaurant, none = off. Not an
exposed table: it decides an item's station as the item is written."""

station_printers = sa.Table(
    "station_printers",
    metadata,
    sa.Column("restaurant_id", sa.String(64), primary_key=True),
    sa.Column("station", sa.String(40), primary_key=True),
    sa.Column("host", sa.String(253), nullable=False),
    sa.Column("port", sa.Integer, nullable=False),
    sa.Column("updated_at", UtcDateTime, nullable=False),
)
"""A station's backup ESC/POS network printer (kds_backend/printing): tickets print there while no screen of the
station is online."""

print_cursors = sa.Table(
    "print_cursors",
    metadata,
    sa.Column("restaurant_id", sa.String(64), primary_key=True),
    sa.Column("station", sa.String(40), primary_key=True),
    # Changes up to this change_seq are on a screen of the station or already queued as print jobs.
    sa.Column("through_seq", sa.BigInteger, nullable=False),
    # When a companion last saw a screen of the station online (written every few seconds while it does): with
    # several companions on one PostgreSQL, each sees only its own sockets' presence, and this is how the others
    # know the station is not dark.
    sa.Column("screen_seen_at", UtcDateTime),
)

print_jobs = sa.Table(
    "print_jobs",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),  # the job number printed on the slip
    sa.Column("restaurant_id", sa.String(64), nullable=False),
    sa.Column("station", sa.String(40), nullable=False),
    sa.Column("order_id", sa.Uuid, nullable=False),
    sa.Column("slip", Json, nullable=False),  # the ticket as queued: a retry prints the same paper
    sa.Column("content_hash", sa.String(64), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False),
    sa.Column("next_attempt_at", UtcDateTime, nullable=False),
    # Set before bytes go to the printer, cleared when they certainly did not: set with no printed_at after a
    # restart, the slip may have printed, so the retry says REPRINT (at-least-once, see printing/worker.py).
    sa.Column("sending_at", UtcDateTime),
    # A sender holds the job until then: another companion on the same database leaves it alone meanwhile.
    sa.Column("lease_until", UtcDateTime),
    sa.Column("printed_at", UtcDateTime),
    sa.Column("last_error", sa.String(500)),
    sa.Index("ix_print_jobs_pending", "restaurant_id", "station", "printed_at", "id"),
    sa.Index("ix_print_jobs_order", "order_id", "station", "id"),
)
"""Tickets to print on a station's backup printer, queued in the transaction that read the changes they show."""

devices = sa.Table(
    "devices",
    metadata,
    sa.Column("id", sa.String(80), primary_key=True),
    sa.Column("restaurant_id", sa.String(64), nullable=False),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("email", sa.String(200), nullable=False, unique=True),
    sa.Column("password_hash", sa.String(300), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("stations", Json, nullable=False),
    sa.Column("display", Json, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

pairing_codes = sa.Table(
    "pairing_codes",
    metadata,
    sa.Column("code_hash", sa.String(64), primary_key=True),
    sa.Column("restaurant_id", sa.String(64), nullable=False),
    sa.Column("role", sa.String(16), nullable=False),
    sa.Column("stations", Json, nullable=False),
    sa.Column("name", sa.String(80), nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("expires_at", UtcDateTime, nullable=False),
    sa.Column("used_at", UtcDateTime),
)
"""One-time pairing codes (hashed) and the device account each one makes when it is exchanged."""

refresh_tokens = sa.Table(
    "refresh_tokens",
    metadata,
    sa.Column("token_hash", sa.String(64), primary_key=True),
    sa.Column("device_id", sa.String(80), sa.ForeignKey("devices.id", ondelete="CASCADE"), nullable=False),
    sa.Column("issued_at", UtcDateTime, nullable=False),
    sa.Column("used_at", UtcDateTime),
    sa.Column("successor_hash", sa.String(64)),
    # The sign-in this token's chain started with (GoTrue's session), carried by each successor and by the access
    # tokens it yields (`session_id` claim): signing out of one session revokes its chain only. None: issued
    # before sessions had ids (a global sign-out still revokes it).
    sa.Column("session_id", sa.String(36)),
)

intent_ledger = sa.Table(
    "intent_ledger",
    metadata,
    sa.Column("intent_id", sa.Uuid, primary_key=True),
    sa.Column("restaurant_id", sa.String(64), nullable=False),
    sa.Column("device_id", sa.String(80), nullable=False),
    sa.Column("device_seq", sa.BigInteger, nullable=False),
    sa.Column("kind", sa.String(20), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("reason", sa.String(500)),
    sa.Column("order_id", sa.Uuid),
    sa.Column("received_at", UtcDateTime, nullable=False),
    sa.Index("ix_intent_ledger_device_seq", "device_id", "device_seq"),
)

device_cursors = sa.Table(
    "device_cursors",
    metadata,
    sa.Column("restaurant_id", sa.String(64), primary_key=True),
    sa.Column("device_id", sa.String(80), primary_key=True),
    sa.Column("last_seq", sa.BigInteger, nullable=False),
)

idempotency_keys = sa.Table(
    "idempotency_keys",
    metadata,
    sa.Column("restaurant_id", sa.String(64), primary_key=True),
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("request_hash", sa.String(64), nullable=False),
    sa.Column("status_code", sa.Integer, nullable=False),
    sa.Column("response", Json, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
)

change_log = sa.Table(
    "change_log",
    metadata,
    sa.Column("seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("table_name", sa.String(64), nullable=False),
    sa.Column("type", sa.String(8), nullable=False),
    sa.Column("restaurant_id", sa.String(64)),
    sa.Column("record", Json),
    sa.Column("old_record", Json),
    sa.Column("commit_timestamp", UtcDateTime, nullable=False),
    sa.Index("ix_change_log_commit_timestamp", "commit_timestamp"),
)
"""Committed row changes by change_seq, kept briefly; PostgreSQL only (see `db/change_log.py`)."""

deleted_rows = sa.Table(
    "deleted_rows",
    metadata,
    # The delete's own change_seq (Writer.delete): unique, server-wide, in commit order.
    sa.Column("change_seq", sa.BigInteger, primary_key=True, autoincrement=False),
    sa.Column("restaurant_id", sa.String(64), nullable=False),
    sa.Column("table_name", sa.String(32), nullable=False),
    sa.Column("row_id", sa.Uuid, nullable=False),
    # For an item its order, for an order its own id, None for a menu row. Not a foreign key: the order is gone.
    sa.Column("order_id", sa.Uuid),
    sa.Column("deleted_at", UtcDateTime, nullable=False),
    sa.Index("ix_deleted_rows_restaurant_change_seq", "restaurant_id", "change_seq"),
)
"""One row per deleted row of an exposed table, written in the deleting transaction (Writer.delete).

Read-only over `/rest/v1/deleted_rows`: screens page it with `change_seq=gt.N` like the other tables, so a
screen that was off when a row was deleted still drops it. Rows are kept, never pruned: deletes are rare
admin actions, and pruning would need a horizon screens can see (one that was off longer would miss
deletions without knowing); that is left for later.
"""

late_rejections = sa.Table(
    "late_rejections",
    metadata,
    sa.Column("intent_id", sa.Uuid, primary_key=True),
    sa.Column("restaurant_id", sa.String(64), nullable=False),
    sa.Column("device_id", sa.String(80), nullable=False),
    # Taken from the change counter in the recording transaction: a device pages its own with `after`.
    sa.Column("seq", sa.BigInteger, nullable=False),
    sa.Column("intent", Json, nullable=False),
    sa.Column("reason", sa.String(500), nullable=False),
    sa.Column("rejected_at", UtcDateTime, nullable=False),
    sa.Index("ix_late_rejections_device_seq", "restaurant_id", "device_id", "seq"),
)
"""Intents a hub applied and its upstream refused afterwards (kds_backend/hub): the device that made one learns
of it from `GET /rest/v1/rpc/late_rejections`, prompted by a `late_rejection` broadcast on its channel."""

upstream_writes = sa.Table(
    "upstream_writes",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("restaurant_id", sa.String(64), nullable=False),
    sa.Column("table_name", sa.String(32), nullable=False),
    sa.Column("op", sa.String(8), nullable=False),  # INSERT (rows with their ids) or UPDATE (values, by ids)
    sa.Column("body", Json, nullable=False),
    sa.Column("created_at", UtcDateTime, nullable=False),
    sa.Column("failed", sa.String(500)),  # upstream refused it for good (a 4xx): kept for a person, never resent
    # An update upstream has taken: {row id: its change_seq there}. Still laid over upstream's rows until the hub's
    # copy of upstream has caught up with it, so the LAN never sees the update undone for a moment.
    sa.Column("settled", Json),
    sa.Column("settled_at", UtcDateTime),
)
"""A hub's POS writes (intake, PostgREST inserts and updates), queued in the transaction that applied them at the
hub, forwarded upstream in order and before any intent queued after them (kds_backend/hub/forward_writes.py)."""

hub_intents = sa.Table(
    "hub_intents",
    metadata,
    sa.Column("seq", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("intent", Json, nullable=False),
)
"""A hub's LAN taps on their way to the mirror's outbox: queued in the transaction that applied them at the hub, so
the hub's ledger and the queue for upstream never disagree after a kill; the projector moves them into the
mirror's outbox at the start of its next write (kds_backend/hub/mirror.py)."""

EXPOSED_TABLES: dict[str, sa.Table] = {
    "orders": orders,
    "order_items": order_items,
    "menu_availability": menu_availability,
    "recipes": recipes,
}
"""The tables rows live in: read and written over `/rest/v1`, published by realtime, logged when deleted."""

REST_TABLES: dict[str, sa.Table] = {**EXPOSED_TABLES, "deleted_rows": deleted_rows}
"""Everything `/rest/v1` can read: the exposed tables and the (read-only, unpublished) deletion log."""
