"""Retention: finished orders are dropped from the screen's store once they are old enough.

The server keeps the history (reports, CSV exports); a screen only needs today's finished orders (the recall
drawer, today's prep-time figures) and everything still open. Without this, months of service pile up in
every screen's file and each startup reads past them.

An order is compacted when it is finished (served or cancelled, or cleared at a day's end), its last change
is older than the cutoff, and no intent of this screen about it is still waiting or refused (a refused tap
stays visible with its reason until a cook dismisses it). Its items go with it. The catch-up cursor is
untouched: the server will not send these rows again unless they change, and then they are news.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa

from api_client.models import OrderStatus

from .tables import REJECTED, UNSETTLED, order_items, orders, outbox

FINISHED = (OrderStatus.served.value, OrderStatus.cancelled.value)
BATCH = 500  # rows per transaction: the engine shares its thread with the UI, so no long write locks


def compact_batch(conn: sa.Connection, before: datetime, limit: int = BATCH) -> int:
    """Delete up to `limit` finished orders last changed before `before` (aware); returns how many went."""
    if before.tzinfo is None:
        raise ValueError("before must be timezone-aware")
    waiting = sa.select(outbox.c.order_id).where(
        outbox.c.state.in_((*UNSETTLED, REJECTED)), outbox.c.order_id.is_not(None)
    )
    # The server's updated_at lives in the row's JSON; SQLite's julianday reads ISO 8601 with a zone suffix.
    changed = sa.func.julianday(sa.func.json_extract(orders.c.data, "$.updated_at"))
    doomed = (
        sa.select(orders.c.id)
        .where(
            # Finished, or archived open at the end of a day (abandoned): both are history now.
            sa.or_(orders.c.status.in_(FINISHED), orders.c.cleared.is_(True)),
            changed < sa.func.julianday(before.isoformat()),
            orders.c.id.not_in(waiting),
        )
        .limit(limit)
    )
    ids: list[str] = list(conn.execute(doomed).scalars())
    if not ids:
        return 0
    # Items explicitly as well: the cascade needs foreign keys on, and the store says so, but a file opened
    # by another tool might not have them.
    conn.execute(sa.delete(order_items).where(order_items.c.order_id.in_(ids)))
    conn.execute(sa.delete(orders).where(orders.c.id.in_(ids)))
    return len(ids)
