"""What a screen lists: open orders as displayed, i.e. server rows with this screen's pending intents on top."""

from __future__ import annotations

from uuid import UUID

import sqlalchemy as sa

from api_client.models import DeviceRole, OrderStatus, OrderWithItems
from sync.store import outbox_rows, server_rows
from sync.store.overlay import overlay
from sync.store.tables import orders

OPEN = frozenset({OrderStatus.new, OrderStatus.in_progress, OrderStatus.ready})


def open_tickets(conn: sa.Connection, role: DeviceRole, station: str | None) -> list[OrderWithItems]:
    # Candidates by the server's status; the displayed status (after a pending bump) decides in the end.
    ids = conn.execute(sa.select(orders.c.id).where(orders.c.status.in_([s.value for s in OPEN]))).scalars()
    shown: list[OrderWithItems] = []
    for raw in ids:
        order = server_rows.load_order(conn, UUID(raw))
        if order is None:
            continue
        displayed = overlay(order, outbox_rows.unsettled_for_order(conn, order.id), role).order
        if displayed.status not in OPEN:
            continue
        if station is not None:
            items = [i for i in displayed.order_items if i.station == station]
            if not items:
                continue
            displayed = displayed.model_copy(update={"order_items": items})
        shown.append(displayed)
    shown.sort(key=lambda o: (o.created_at, str(o.id)))
    return shown
