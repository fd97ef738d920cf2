"""The server heartbeat on Supabase (issue 19, item 7): what pg_cron's `kds.heartbeat()` sends, on PostgreSQL.

pg_cron is absent here, so the function the job calls is tested: one `kds_heartbeat` broadcast per restaurant
into both topics a screen may use, readable by that restaurant's devices on the private one, with the event the
screens' watchdog listens for (api_client/server_heartbeat.py).
"""

from __future__ import annotations

import psycopg
import pytest

from api_client.broadcast import as_postgres_change, restaurant_topic
from api_client.server_heartbeat import HEARTBEAT_EVENT

from .helpers import as_role, create_order
from .test_broadcast_from_database import ITEMS, visible

pytestmark = pytest.mark.postgres


def beats(conn: psycopg.Connection) -> list[tuple[str, bool]]:
    rows = conn.execute(
        "select topic, private from realtime.messages where event = %s order by topic, private", [HEARTBEAT_EVENT]
    ).fetchall()
    return [(str(t), bool(p)) for t, p in rows]


def test_every_restaurant_with_orders_gets_a_heartbeat_on_both_topics(sb: psycopg.Connection) -> None:
    assert sb.execute("select kds.heartbeat()").fetchone() == (0,)  # no restaurant yet: nothing to send
    create_order(sb, ITEMS, number="A1", restaurant="r1")
    create_order(sb, ITEMS, number="A2", restaurant="r1")
    create_order(sb, ITEMS, number="B1", restaurant="r2")
    assert sb.execute("select kds.heartbeat()").fetchone() == (2,)
    assert beats(sb) == [("kds-r1", False), ("kds-r2", False), ("kds:r1", True), ("kds:r2", True)]
    payload = sb.execute(
        "select payload from realtime.messages where event = %s and topic = 'kds:r1'", [HEARTBEAT_EVENT]
    ).fetchone()
    assert payload is not None and isinstance(payload[0]["at"], float | int)
    assert as_postgres_change(payload[0]) is None  # a screen takes it for the heartbeat, not for a row change
    assert sb.execute("select kds.heartbeat()").fetchone() == (2,)  # every run beats again
    assert len(beats(sb)) == 8
    # r1's screens may read r1's private heartbeats (the Broadcast from Database policy), not r2's.
    assert visible(sb, "kds", "r1-kds-grill-1", "r1", restaurant_topic("r1")) > 0
    assert visible(sb, "kds", "r1-kds-grill-1", "r1", restaurant_topic("r2")) == 0


def test_devices_cannot_call_it_or_read_its_table(sb: psycopg.Connection) -> None:
    for role in ("anon", "authenticated"):
        with as_role(sb, role, None) as c, pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("select kds.heartbeat()")
        sb.rollback()
