"""Broadcast from Database (issue 17, item 14) on a real PostgreSQL with the migrations applied.

Every change of a synced table writes one `realtime.messages` row on its restaurant's topic, `kds:<restaurant>`,
with `realtime.broadcast_changes`'s payload; Realtime authorises a private channel's join by selecting from
`realtime.messages` as the joining device with `realtime.topic` set to the channel's topic, so what the policy
lets each device read there is what it may subscribe to.
"""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from api_client.broadcast import as_postgres_change, restaurant_topic

from .helpers import apply_intents, as_device, as_role, create_order

pytestmark = pytest.mark.postgres

ITEMS = [{"name": "Burger", "station": "grill", "quantity": 1, "course": 1, "held": False}]


def messages(conn: psycopg.Connection) -> list[tuple[str, str, str, bool, dict[str, Any]]]:
    """Every message, read as the owner (no RLS), in insertion order."""
    rows = conn.execute(
        "select topic, extension, event, private, payload from realtime.messages order by inserted_at, payload->>'id'"
    ).fetchall()
    return [tuple(r) for r in rows]  # type: ignore[misc]


def visible(conn: psycopg.Connection, role: str, device: str, restaurant: str, topic: str) -> int:
    """What a device may read on a topic: Realtime's join check, as that device with `realtime.topic` set."""
    with as_device(conn, role, device, restaurant) as c:
        c.execute("select set_config('realtime.topic', %s, true)", [topic])
        row = c.execute("select count(*) from realtime.messages where topic = %s", [topic]).fetchone()
    assert row is not None
    return int(row[0])


def test_an_order_and_its_changes_are_broadcast_on_its_restaurants_topic(sb: psycopg.Connection) -> None:
    order_id = create_order(sb, ITEMS, number="A1")
    inserted = messages(sb)
    # The order, its line, and the order again with its item_count (the lines' statement trigger, same transaction).
    assert sorted((t, x, e, p) for t, x, e, p, _ in inserted) == [("kds:r1", "broadcast", "INSERT", True)] * 2 + [
        ("kds:r1", "broadcast", "UPDATE", True)
    ]
    by_table = {m[4]["table"]: m[4] for m in inserted if m[2] == "INSERT"}
    order = by_table["orders"]
    assert order["operation"] == "INSERT" and order["schema"] == "public" and order["old_record"] is None
    assert order["record"]["id"] == order_id and order["record"]["number"] == "A1"
    assert order["record"]["restaurant_id"] == "r1"
    assert isinstance(order["id"], str)  # realtime.send's message id, also the push's meta.id
    assert by_table["order_items"]["record"]["order_id"] == order_id

    # A screen's tap (through apply_intents) updates the order: the whole previous row comes along.
    result = apply_intents(
        sb,
        "expo",
        "r1-expo-1",
        [
            {
                "id": "6f1c9d2e-0000-4000-8000-000000000001",
                "device_id": "r1-expo-1",
                "device_seq": 1,
                "kind": "start",
                "order_id": order_id,
            }
        ],
    )
    assert result[0]["status"] == "applied"
    updates = [m[4] for m in messages(sb)[3:] if m[4]["table"] == "orders"]
    assert updates and all(u["operation"] == "UPDATE" for u in updates)
    assert updates[-1]["old_record"]["status"] == "new" and updates[-1]["record"]["status"] != "new"
    assert updates[-1]["old_record"]["id"] == updates[-1]["record"]["id"] == order_id

    # What a screen makes of it is what it makes of a postgres_changes push.
    data = as_postgres_change(updates[-1])
    assert data is not None and data["type"] == "UPDATE" and data["table"] == "orders"
    assert data["record"] == updates[-1]["record"] and data["old_record"] == updates[-1]["old_record"]

    # A delete (the owner's end-of-day clean-up) carries the deleted row as old_record and no record.
    sb.execute("delete from public.order_items where order_id = %s", [order_id])
    deleted = [m[4] for m in messages(sb) if m[2] == "DELETE"]
    assert [(d["table"], d["record"], d["old_record"]["order_id"]) for d in deleted] == [
        ("order_items", None, order_id)
    ]


def test_86_goes_to_the_restaurant_topic_too(sb: psycopg.Connection) -> None:
    intent = {
        "id": "6f1c9d2e-0000-4000-8000-000000000002",
        "device_id": "grill-1",
        "device_seq": 1,
        "kind": "eighty_six",
        "args": {"item_name": "Fries"},
    }
    assert apply_intents(sb, "kds", "grill-1", [intent])[0]["status"] == "applied"
    ((topic, _, event, _, payload),) = messages(sb)
    assert (topic, event, payload["table"], payload["record"]["item_name"]) == (
        "kds:r1",
        "INSERT",
        "menu_availability",
        "Fries",
    )


@pytest.mark.parametrize("role", ["kds", "expo", "pos", "admin"])
def test_exactly_the_restaurants_devices_may_read_its_topic(sb: psycopg.Connection, role: str) -> None:
    create_order(sb, ITEMS, number="A1")
    create_order(sb, ITEMS, number="B1", restaurant="r2")
    r1, r2 = restaurant_topic("r1"), restaurant_topic("r2")
    assert visible(sb, role, "r1-device", "r1", r1) == 3, "the order, its line, the order with its count"
    assert visible(sb, role, "r2-device", "r2", r1) == 0, "another restaurant's device reads nothing of r1's"
    assert visible(sb, role, "r2-device", "r2", r2) == 3
    # Its own topic set while reading another's rows does not help either.
    with as_device(sb, role, "r2-device", "r2") as c:
        c.execute("select set_config('realtime.topic', %s, true)", [r2])
        assert c.execute("select count(*) from realtime.messages where topic = %s", [r1]).fetchone() == (0,)


def test_tokens_without_a_device_read_nothing(sb: psycopg.Connection) -> None:
    create_order(sb, ITEMS, number="A1")
    topic = restaurant_topic("r1")
    no_role = {"sub": "u", "role": "authenticated", "app_metadata": {"restaurant_id": "r1"}, "user_metadata": {}}
    for db_role, jwt in [("anon", {"role": "anon"}), ("authenticated", no_role)]:
        with as_role(sb, db_role, jwt) as c:
            c.execute("select set_config('realtime.topic', %s, true)", [topic])
            assert c.execute("select count(*) from realtime.messages").fetchone() == (0,), db_role


def test_no_device_may_broadcast_on_the_topic_itself(sb: psycopg.Connection) -> None:
    """Only the database writes there: a screen cannot hand the others a made-up row change."""
    topic = restaurant_topic("r1")
    with pytest.raises(psycopg.errors.InsufficientPrivilege), as_device(sb, "admin", "r1-admin", "r1") as c:
        c.execute("select set_config('realtime.topic', %s, true)", [topic])
        c.execute(
            "insert into realtime.messages (topic, extension, event, payload, private)"
            " values (%s, 'broadcast', 'INSERT', '{}', true)",
            [topic],
        )
    # Presence (a screen saying it is online) is allowed on its own topic.
    with as_device(sb, "kds", "r1-grill", "r1") as c:
        c.execute("select set_config('realtime.topic', %s, true)", [topic])
        c.execute("insert into realtime.messages (topic, extension, private) values (%s, 'presence', true)", [topic])
