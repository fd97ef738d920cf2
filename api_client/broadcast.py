"""Broadcast from Database: the private Realtime topic a restaurant's row changes go to, and their payload.

On Supabase a trigger (supabase/migrations/..._broadcast_from_database.sql) calls `realtime.broadcast_changes`
for every row change of the synced tables, into one private topic per restaurant; the companion sends the same
topics and payloads (kds_backend/realtime), and a screen may subscribe to them instead of `postgres_changes`
(sync/realtime). Supabase's figures are why: `postgres_changes` is checked against RLS for every subscriber on
one thread, Broadcast is authorised once per join (RLS on `realtime.messages`) and fans out without the database.

A broadcast's `payload` is what `realtime.broadcast_changes` builds: `{"operation": "INSERT" | "UPDATE" | "DELETE",
"schema": "public", "table": ..., "record": <new row> | null, "old_record": <previous row> | null, "id": <message
uuid>}`; its `event` is the operation.
"""

from __future__ import annotations

from typing import Any

TOPIC_PREFIX = "kds:"
BROADCAST_TABLES = ("orders", "order_items", "menu_availability", "recipes")
"""The tables whose changes go to the restaurant's topic: what a screen syncs."""
OPERATIONS = ("INSERT", "UPDATE", "DELETE")


def restaurant_topic(restaurant_id: str) -> str:
    """`kds:<restaurant_id>`: the private topic (without Realtime's `realtime:` prefix) of a restaurant."""
    return TOPIC_PREFIX + restaurant_id


def as_postgres_change(payload: dict[str, Any]) -> dict[str, Any] | None:
    """A `broadcast_changes` payload in the shape of a `postgres_changes` push's `data`, so one parser serves
    both; None if it is not one (another broadcast on the topic)."""
    operation, table = payload.get("operation"), payload.get("table")
    if operation not in OPERATIONS or not isinstance(table, str):
        return None
    record, old = payload.get("record"), payload.get("old_record")
    row = record if isinstance(record, dict) else old if isinstance(old, dict) else {}
    # No commit timestamp in this shape. A transaction's rows share `updated_at` (PostgreSQL's now() is the
    # transaction's start; the companion stamps a write's rows alike), which is what a commit is grouped by.
    stamp = row.get("updated_at")
    data: dict[str, Any] = {
        "schema": payload.get("schema", "public"),
        "table": table,
        "type": operation,
        "commit_timestamp": stamp if isinstance(stamp, str) else "",
        "columns": [],
        "errors": None,
    }
    if isinstance(record, dict):
        data["record"] = record
    if isinstance(old, dict):
        data["old_record"] = old
    return data
