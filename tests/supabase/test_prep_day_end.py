"""Prep times and end of day on the Supabase migrations: done_at is the server's, set and cleared by the
item's status; clear_day archives open orders through the usual triggers; intents on a cleared order are
refused with the companion's reason; only an admin may call the clear_day RPC."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest
from psycopg import errors

from api_client.business_day import day_start

from .helpers import apply_intents, as_device, create_order, read_order

pytestmark = pytest.mark.postgres

ITEMS = [
    {"name": "Burger", "station": "grill", "quantity": 1, "course": 1, "held": False},
    {"name": "Fries", "station": "fry", "quantity": 1, "course": 1, "held": False},
]


def intent(kind: str, order_id: str, device: str = "grill-1", seq: int = 1, **extra: object) -> dict[str, object]:
    return {
        "id": str(uuid.uuid4()),
        "device_id": device,
        "device_seq": seq,
        "kind": kind,
        "order_id": order_id,
        "schema_version": 1,
        **extra,
    }


def items_by_name(conn: psycopg.Connection, order_id: str) -> dict[str, dict[str, object]]:
    return {i["name"]: i for i in read_order(conn, order_id)["order_items"]}


def test_done_at_is_set_by_the_server_kept_while_done_and_cleared_on_recall(sb: psycopg.Connection) -> None:
    order_id = create_order(sb, ITEMS)
    assert all(i["done_at"] is None for i in items_by_name(sb, order_id).values())
    [result] = apply_intents(sb, "kds", "grill-1", [intent("bump_ticket", order_id, station="grill")])
    assert result["status"] == "applied"
    burger = items_by_name(sb, order_id)["Burger"]
    assert burger["done_at"] is not None and items_by_name(sb, order_id)["Fries"]["done_at"] is None
    assert burger["done_at"] == burger["updated_at"], "the time the server applied the intent"
    # A later change to a done item (the expo acknowledges a change) keeps the bump's time.
    sb.execute("update public.order_items set changed_after_send = true where order_id = %s", [order_id])
    apply_intents(sb, "expo", "expo-1", [intent("ack_change", order_id, device="expo-1", station="grill")])
    assert items_by_name(sb, order_id)["Burger"]["done_at"] == burger["done_at"]
    # A client cannot write it (no column grant), even to its own restaurant's rows.
    with pytest.raises(errors.InsufficientPrivilege), as_device(sb, "pos", "r1-pos-1") as c:
        c.execute("update public.order_items set done_at = now() where order_id = %s", [order_id])
    apply_intents(sb, "kds", "grill-1", [intent("recall", order_id, seq=2, station="grill")])
    assert items_by_name(sb, order_id)["Burger"]["done_at"] is None


def test_clear_day_archives_open_orders_through_the_change_feed(sb: psycopg.Connection) -> None:
    old_open = create_order(sb, ITEMS, "OLD")
    served = create_order(sb, ITEMS, "SERVED")
    other_kitchen = create_order(sb, ITEMS, "ELSEWHERE", restaurant="r2")
    sb.execute("update public.orders set created_at = now() - interval '1 day' where id in (%s, %s, %s)",
               [old_open, served, other_kitchen])
    apply_intents(sb, "kds", "k-1", [intent("bump_ticket", served, device="k-1")])
    apply_intents(sb, "expo", "expo-1", [intent("serve", served, device="expo-1")])
    fresh = create_order(sb, ITEMS, "NEW")  # created after the boundary: stays
    before = read_order(sb, old_open)
    boundary = datetime.now(UTC) - timedelta(hours=1)

    with as_device(sb, "admin", "r1-admin") as c:
        row = c.execute("select public.clear_day(%s)", [boundary]).fetchone()
    assert row is not None and row[0]["cleared"] == 1

    after = read_order(sb, old_open)
    assert after["cleared_at"] is not None and after["status"] == before["status"], "status is kept"
    assert after["version"] == before["version"] + 1 and after["change_seq"] > before["change_seq"]
    assert len(after["order_items"]) == 2, "archived, not deleted"
    assert read_order(sb, served)["cleared_at"] is None, "a served order is finished, not abandoned"
    assert read_order(sb, fresh)["cleared_at"] is None
    assert read_order(sb, other_kitchen)["cleared_at"] is None, "the admin's own restaurant only"
    # Again: nothing left to clear.
    with as_device(sb, "admin", "r1-admin") as c:
        assert c.execute("select public.clear_day(%s)", [boundary]).fetchone()[0]["cleared"] == 0  # type: ignore[index]
    # The pg_cron form: every restaurant, up to the last 04:00 in a named zone.
    assert sb.execute("select kds.clear_day(now())").fetchone() == (2,)  # ELSEWHERE and NEW
    assert read_order(sb, other_kitchen)["cleared_at"] is not None


def test_intents_on_a_cleared_order_are_rejected_with_a_reason(sb: psycopg.Connection) -> None:
    order_id = create_order(sb, ITEMS, "C9")
    sb.execute("select kds.clear_day(now())")
    before = read_order(sb, order_id)
    [result] = apply_intents(sb, "kds", "grill-1", [intent("bump_ticket", order_id, station="grill")])
    assert result["status"] == "rejected"
    assert result["reason"] == "Order C9 was cleared at the end of the day"
    assert read_order(sb, order_id) == before


def test_only_an_admin_may_clear_the_day(sb: psycopg.Connection) -> None:
    create_order(sb, ITEMS)
    for role in ("kds", "expo", "pos"):
        with pytest.raises(errors.InsufficientPrivilege, match="only an admin"), as_device(sb, role, f"{role}-1") as c:
            c.execute("select public.clear_day()")


@pytest.mark.parametrize(
    ("now", "hour", "expected"),
    [
        ("2026-11-22 10:00+01", 4, "2026-11-22 04:00+01"),
        ("2026-11-22 03:59+01", 4, "2026-11-21 04:00+01"),
        ("2026-11-22 04:00+01", 4, "2026-11-22 04:00+01"),
        # The night DST ends in Paris (2026-10-25): the boundary is still 04:00 local, now UTC+1.
        ("2026-10-25 12:00+01", 4, "2026-10-25 04:00+01"),
    ],
)
def test_day_start_matches_the_python_rule(sb: psycopg.Connection, now: str, hour: int, expected: str) -> None:
    got = sb.execute("select kds.day_start(%s::timestamptz, %s, 'Europe/Paris')", [now, hour]).fetchone()[0]  # type: ignore[index]
    want = datetime.fromisoformat(expected.replace(" ", "T") + ":00")
    assert got == want
    assert day_start(datetime.fromisoformat(now.replace(" ", "T") + ":00"), hour, ZoneInfo("Europe/Paris")) == want
