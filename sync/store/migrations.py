"""The local schema, versioned with `PRAGMA user_version` and upgraded in place, step by step.

A screen may sit on an old build for months with intents still queued, so every step must keep existing rows.
Steps are append-only: never edit a released step, add a new one.
"""

from __future__ import annotations

import sqlalchemy as sa

_V1 = [
    """CREATE TABLE orders (
        id TEXT PRIMARY KEY,
        restaurant_id TEXT NOT NULL,
        status TEXT NOT NULL,
        version INTEGER NOT NULL,
        change_seq INTEGER NOT NULL,
        data TEXT NOT NULL
    )""",
    "CREATE INDEX ix_orders_change_seq ON orders (change_seq)",
    """CREATE TABLE order_items (
        id TEXT PRIMARY KEY,
        order_id TEXT NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
        station TEXT NOT NULL,
        status TEXT NOT NULL,
        version INTEGER NOT NULL,
        change_seq INTEGER NOT NULL,
        data TEXT NOT NULL
    )""",
    "CREATE INDEX ix_order_items_order ON order_items (order_id)",
    """CREATE TABLE menu_availability (
        id TEXT PRIMARY KEY,
        restaurant_id TEXT NOT NULL,
        item_name TEXT NOT NULL,
        version INTEGER NOT NULL,
        change_seq INTEGER NOT NULL,
        data TEXT NOT NULL
    )""",
    """CREATE TABLE outbox (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        intent_id TEXT NOT NULL UNIQUE,
        device_seq INTEGER NOT NULL UNIQUE,
        kind TEXT NOT NULL,
        order_id TEXT,
        payload TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'inflight', 'rejected')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL,
        created_at REAL NOT NULL
    )""",
    "CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
]

_V2 = [
    # Why an entry is not done yet (last transport error) or never will be (the server's rejection reason).
    "ALTER TABLE outbox ADD COLUMN last_error TEXT",
    "ALTER TABLE outbox ADD COLUMN reason TEXT",
    "CREATE INDEX ix_outbox_state_seq ON outbox (state, seq)",
    "CREATE INDEX ix_outbox_order ON outbox (order_id)",
]

_V3 = [
    # The read path's cursor per table (highest change_seq read over REST): resuming there after a restart
    # means a catch-up pages only what changed, instead of a full snapshot.
    "CREATE TABLE sync_cursor (tbl TEXT PRIMARY KEY, seq INTEGER NOT NULL)",
]

_V4 = [
    # A screen lists open orders and its stations on every redraw; months of history must not be scanned.
    "CREATE INDEX ix_orders_status ON orders (status)",
    # (station, order_id), not (station) alone: SQLite would then answer "has this order items at the grill?"
    # by walking every grill item ever made (seconds with months of history) instead of one lookup.
    "CREATE INDEX ix_order_items_station ON order_items (station, order_id)",
]

_V5 = [
    # End-of-day clear: an archived order keeps its open status, so listings must skip it without parsing JSON.
    "ALTER TABLE orders ADD COLUMN cleared INTEGER NOT NULL DEFAULT 0",
    "CREATE INDEX ix_orders_status_cleared ON orders (status, cleared)",
    # Prep-time figures read today's done items (UTC epoch seconds, server time), never the whole history.
    "ALTER TABLE order_items ADD COLUMN done_at REAL",
    "CREATE INDEX ix_order_items_done_at ON order_items (done_at)",
]

_V6 = [
    # Deleted server rows, so that a late push or a replayed answer carrying one never brings it back, even
    # after a restart. `seq`: the delete's change_seq (exact, from the deletion log) or a lower bound of it;
    # `received`: the catch-up's logical time when it arrived; `at`: wall clock, for pruning.
    """CREATE TABLE tombstones (
        tbl TEXT NOT NULL,
        id TEXT NOT NULL,
        seq INTEGER NOT NULL,
        received INTEGER NOT NULL,
        at REAL NOT NULL,
        PRIMARY KEY (tbl, id)
    )""",
    "CREATE INDEX ix_tombstones_at ON tombstones (at)",
    # The deletion log is a fourth catch-up source: a stored three-table cursor is incomplete and the next
    # start takes a snapshot (which also drops whatever was deleted while this build could not tell).
    "DELETE FROM sync_cursor",
]

_V7 = [
    # A hub forwards the intents of every screen on its LAN through one outbox (kds_backend/hub): device sequence
    # numbers are unique per device, not per outbox. The intent id stays unique; the table is rebuilt because
    # SQLite cannot drop a constraint.
    """CREATE TABLE outbox_v7 (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        intent_id TEXT NOT NULL UNIQUE,
        device_seq INTEGER NOT NULL,
        kind TEXT NOT NULL,
        order_id TEXT,
        payload TEXT NOT NULL,
        state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'inflight', 'rejected')),
        attempts INTEGER NOT NULL DEFAULT 0,
        next_attempt_at REAL,
        created_at REAL NOT NULL,
        last_error TEXT,
        reason TEXT
    )""",
    """INSERT INTO outbox_v7 (seq, intent_id, device_seq, kind, order_id, payload, state, attempts, next_attempt_at,
        created_at, last_error, reason)
    SELECT seq, intent_id, device_seq, kind, order_id, payload, state, attempts, next_attempt_at, created_at,
        last_error, reason FROM outbox""",
    # Sequence numbers keep growing from where the old table's AUTOINCREMENT was (confirmed entries are deleted).
    "DELETE FROM sqlite_sequence WHERE name = 'outbox_v7'",
    "INSERT INTO sqlite_sequence (name, seq) SELECT 'outbox_v7', seq FROM sqlite_sequence WHERE name = 'outbox'",
    "DROP TABLE outbox",
    "ALTER TABLE outbox_v7 RENAME TO outbox",
    "CREATE INDEX ix_outbox_state_seq ON outbox (state, seq)",
    "CREATE INDEX ix_outbox_order ON outbox (order_id)",
]

_V8 = [
    # Recipe lines for the all-day panel's ingredient counts (issue 19 item 4): kept here so they count offline.
    "CREATE TABLE recipes (id TEXT PRIMARY KEY, item_name TEXT NOT NULL, data TEXT NOT NULL)",
]

STEPS: list[list[str]] = [_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8]
LATEST = len(STEPS)


def current_version(conn: sa.Connection) -> int:
    return int(conn.exec_driver_sql("PRAGMA user_version").scalar_one())


def migrate(engine: sa.Engine, target: int = LATEST) -> int:
    """Bring the file to `target` (default: latest); returns the version it had. Each step is one transaction."""
    if not 0 <= target <= LATEST:
        raise ValueError(f"no local schema version {target}")
    with engine.connect() as conn:
        found = current_version(conn)
    if found > LATEST:
        # A newer build wrote this file: refuse rather than guess, the queued intents must survive a rollback.
        raise RuntimeError(f"local database schema v{found} is newer than this build (v{LATEST})")
    for version in range(found + 1, target + 1):
        with engine.begin() as conn:
            for statement in STEPS[version - 1]:
                conn.exec_driver_sql(statement)
            # user_version is written inside the step's transaction, so a crash never leaves a half-applied step.
            conn.exec_driver_sql(f"PRAGMA user_version = {version}")
    return found
