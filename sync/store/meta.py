"""Small per-file facts: the device id, the next device sequence number, the last change_seq seen."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert

from .compiled import Compiled
from .tables import meta

DEVICE_ID = "device_id"
NEXT_DEVICE_SEQ = "next_device_seq"
LAST_CHANGE_SEQ = "last_change_seq"
LATE_REJECTION_SEQ = "late_rejection_seq"  # the last of this device's late rejections recorded (a hub's seq)


def get(conn: sa.Connection, key: str) -> str | None:
    return conn.execute(sa.select(meta.c.value).where(meta.c.key == key)).scalar_one_or_none()


def put(conn: sa.Connection, key: str, value: str) -> None:
    stmt = insert(meta).values(key=key, value=value)
    conn.execute(stmt.on_conflict_do_update(index_elements=[meta.c.key], set_={"value": stmt.excluded.value}))


# One statement per tap, compiled once: it is on the path from a cook's tap to the card redrawn.
_TAKE_DEVICE_SEQ = Compiled(
    sa.update(meta)
    .where(meta.c.key == NEXT_DEVICE_SEQ)
    .values(value=sa.cast(sa.cast(meta.c.value, sa.Integer) + 1, sa.String))
    .returning(sa.cast(meta.c.value, sa.Integer) - 1)
)


def take_device_seq(conn: sa.Connection) -> int:
    """The next device sequence number, consumed in the caller's transaction (rolled back with it)."""
    rows = _TAKE_DEVICE_SEQ.rows(conn)
    if not rows:
        raise RuntimeError("local store has no device sequence; it was not initialised")
    return int(rows[0][0])
