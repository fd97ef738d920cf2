"""Small per-file facts: the device id, the next device sequence number, the last change_seq seen."""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.dialects.sqlite import insert

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


def take_device_seq(conn: sa.Connection) -> int:
    """The next device sequence number, consumed in the caller's transaction (rolled back with it)."""
    value = get(conn, NEXT_DEVICE_SEQ)
    if value is None:
        raise RuntimeError("local store has no device sequence; it was not initialised")
    seq = int(value)
    put(conn, NEXT_DEVICE_SEQ, str(seq + 1))
    return seq
