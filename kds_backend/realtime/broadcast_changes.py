"""Broadcast from Database in the companion: what Supabase's `realtime.broadcast_changes` trigger sends.

Every committed change of a synced table goes, as one `broadcast` push, to the members of its restaurant's private
topic (`kds:<restaurant_id>`, api_client/broadcast.py): event the operation, payload `{operation, schema, table,
record, old_record, id}` and `meta.id` as Realtime sends a `realtime.messages` row (the same uuid as the payload's
`id`, which `realtime.send` adds). `record` is the new row (null for DELETE), `old_record` the whole previous row
(null for INSERT): a trigger has both, whatever the replica identity. Nothing is built while nobody is joined.
"""

from __future__ import annotations

import uuid
from typing import Any

from api_client.broadcast import BROADCAST_TABLES, restaurant_topic

from ..db.writer import RowChange
from .channel import PRIVATE_MARK
from .effects import TopicKey
from .payloads import SCHEMA, columns_of, jsonable_row, restaurant_of


def topic_key(change: RowChange) -> TopicKey | None:
    """The router key of the private topic a change goes to; None for tables and rows that go nowhere."""
    restaurant = restaurant_of(change)
    if change.table not in BROADCAST_TABLES or restaurant is None:
        return None
    return (restaurant, PRIVATE_MARK + restaurant_topic(restaurant))


def broadcast_payload(change: RowChange) -> tuple[dict[str, Any], dict[str, Any]]:
    """`(payload, meta)` of the change's push, as `realtime.broadcast_changes` and Realtime build them."""
    names, _ = columns_of(change.table)

    def row(raw: dict[str, Any] | None) -> dict[str, Any] | None:
        if raw is None:
            return None
        full = jsonable_row(raw)
        return {name: full.get(name) for name in names}

    message_id = str(uuid.uuid4())
    payload = {
        "old_record": None if change.type == "INSERT" else row(change.old_record),
        "record": None if change.type == "DELETE" else row(change.record),
        "operation": change.type,
        "table": change.table,
        "schema": SCHEMA,
        "id": message_id,
    }
    return payload, {"id": message_id}
