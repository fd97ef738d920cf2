"""How a tap is named in the log: its kind, and the ticket number and item a cook sees, beside the ids.

A support person asked "why didn't my bump on 42 reach the expo?" looks for `order_number` 42; the ids tie the
tap, its answer and the server's ledger together. Looked up in the store only when a line is written.
"""

from __future__ import annotations

import logging
from typing import Any

import sqlalchemy as sa

from api_client.models import Intent, OrderWithItems
from sync.store import LocalStore, server_rows
from sync.store.tables import order_items, orders


def intent_fields(
    intent: Intent, order: OrderWithItems | None, *, number: str | None = None, item: str | None = None
) -> dict[str, Any]:
    """The structured fields of a line about `intent`; `order` (as the store or the server has it), or its `number`
    and the `item`'s name, name it."""
    if order is not None:
        number = order.number
        if intent.item_id is not None:
            item = next((i.name for i in order.order_items if i.id == intent.item_id), None)
    fields: dict[str, Any] = {
        "intent_id": str(intent.id),
        "kind": intent.kind.value,
        "order_id": str(intent.order_id) if intent.order_id is not None else None,
        "order_number": number,
        "item_id": str(intent.item_id) if intent.item_id is not None else None,
        "item": item,
        "tap_station": intent.station,
        "device_seq": intent.device_seq,
        "tapped_at": intent.created_at.astimezone().isoformat(timespec="seconds") if intent.created_at else None,
    }
    if intent.args.get("item_name"):
        fields["item"] = intent.args["item_name"]  # an 86: the menu item
    return {k: v for k, v in fields.items() if v is not None}


def what(fields: dict[str, Any]) -> str:
    """`bump_item on #A7 Burger` — the readable part of a message."""
    parts = [str(fields["kind"])]
    if "order_number" in fields:
        parts.append(f"on #{fields['order_number']}")
    elif "order_id" in fields:
        parts.append(f"on order {fields['order_id']}")
    if "item" in fields:
        parts.append(str(fields["item"]))
    return " ".join(parts)


def load_order(conn: sa.Connection, intent: Intent) -> OrderWithItems | None:
    return server_rows.load_order(conn, intent.order_id) if intent.order_id is not None else None


def labels(conn: sa.Connection, intent: Intent) -> tuple[str | None, str | None]:
    """The order's number and the item's name, read straight from the stored JSON (a tap is not the place to
    parse a whole order)."""
    number = item = None
    if intent.order_id is not None:
        query = sa.select(sa.func.json_extract(orders.c.data, "$.number")).where(orders.c.id == str(intent.order_id))
        number = conn.execute(query).scalar_one_or_none()
    if intent.item_id is not None:
        query = sa.select(sa.func.json_extract(order_items.c.data, "$.name")).where(
            order_items.c.id == str(intent.item_id)
        )
        item = conn.execute(query).scalar_one_or_none()
    return (str(number) if number is not None else None), (str(item) if item is not None else None)


def log_tap(log: logging.Logger, conn: sa.Connection, intent: Intent) -> None:
    """The tap was queued (INFO): when the cook made it, and on what."""
    if not log.isEnabledFor(logging.INFO):
        return
    number, item = labels(conn, intent)
    fields = intent_fields(intent, None, number=number, item=item)
    log.info("tap queued: %s (seq %d)", what(fields), intent.device_seq, extra={"event": "tap", **fields})


def log_rejection(
    log: logging.Logger,
    store: LocalStore,
    intent: Intent,
    reason: str,
    order: OrderWithItems | None = None,
    *,
    late: bool = False,
) -> None:
    """The server refused `intent` (WARNING), with its reason; `late`: refused upstream after a hub applied it."""
    if order is None or (intent.item_id is not None and all(i.id != intent.item_id for i in order.order_items)):
        try:
            with store.snapshot() as conn:
                order = load_order(conn, intent) or order
        except Exception:  # the log line must not fail the answer it describes
            log.debug("could not look up the order of a rejected intent", exc_info=True)
    fields = intent_fields(intent, order)
    log.warning(
        "refused%s: %s: %s", " upstream after the hub applied it" if late else "", what(fields), reason,
        extra={"event": "rejected", "reason": reason, "late": late, **fields},
    )
