"""How every process of ours opens a SQLite connection: the companion's database and each screen's local store.

One place, because the two must agree on what a commit means: WAL (readers never block the writer), `synchronous=
FULL` (a committed tap or order survives a power cut; the store lowers it per transaction only for what the server
can send again), foreign keys on, a 30 s busy timeout, and no implicit transactions from the `sqlite3` module
(SQLAlchemy issues an exact BEGIN). Which BEGIN differs on purpose: the companion reads far more than it writes and
asks for `BEGIN IMMEDIATE` per write transaction; a screen's store mostly writes and asks for a deferred BEGIN only
for its read snapshots.
"""

from __future__ import annotations

from typing import Any

BUSY_TIMEOUT_MS = 30_000


def tune_connection(dbapi_conn: Any) -> None:
    """Apply the settings above to a fresh `sqlite3` connection (a SQLAlchemy `connect` event's argument)."""
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    try:
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA synchronous=FULL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    finally:
        cur.close()
