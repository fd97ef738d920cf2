"""A kitchen hub in front of a Supabase project: what the hub forwards, sent the way PostgREST and the RPC run it,
under the project's grants and row-level security, as the hub's admin device account.

The rows are the ones the hub's own code queues (`kds_backend.hub.forward_writes.queue_writes`) for an order a
POS made at the hub, and PostgREST's insert is reproduced as it executes it (`json_populate_recordset` over the
request body, only the columns sent): proof that a hub's forwarded writes and taps are accepted by the SQL path,
that a resend is recognised, and that another restaurant's hub cannot write into this one.
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import errors, sql
from psycopg.types.json import Jsonb

from api_client.models import OrderIntake
from kds_backend.db.engine import make_engine, migrate
from kds_backend.db.tables import upstream_writes
from kds_backend.db.writer import write_transaction
from kds_backend.hub.forward_writes import queue_writes
from kds_backend.orders import create_order

from .helpers import apply_intents, as_device, read_order

pytestmark = pytest.mark.postgres


def hub_queue(tmp_path: Path) -> tuple[str, list[tuple[str, str, dict[str, Any]]]]:
    """An order a POS made at a hub (its own SQLite companion), and what the hub queued for upstream."""
    engine = make_engine(f"sqlite:///{tmp_path / 'hub.db'}")
    migrate(engine)
    intake = OrderIntake.model_validate(
        {"number": "H7", "table_label": "4", "items": [{"name": "Burger", "station": "grill"}, {"name": "Fries"}]}
    )
    try:
        with write_transaction(engine) as w:
            order = create_order(w, "r1", intake, {"": "fry"})
            queue_writes(w, "r1", w.changes)
        with engine.connect() as conn:
            rows = conn.execute(sa.select(upstream_writes).order_by(upstream_writes.c.seq)).all()
    finally:
        engine.dispose()
    return str(order.id), [(r.op, r.table_name, r.body) for r in rows]


def postgrest_insert(conn: psycopg.Connection, table: str, rows: list[dict[str, Any]]) -> None:
    """`POST /rest/v1/<table>` as PostgREST runs it: the columns of the body, from json_populate_recordset."""
    columns = sql.SQL(", ").join(sql.Identifier(c) for c in rows[0])
    conn.execute(
        sql.SQL("insert into public.{t} ({c}) select {c} from json_populate_recordset(null::public.{t}, %s::json)")
        .format(t=sql.Identifier(table), c=columns),
        [Jsonb(rows)],
    )


def forward(conn: psycopg.Connection, queued: list[tuple[str, str, dict[str, Any]]], restaurant: str = "r1") -> None:
    with as_device(conn, "admin", f"{restaurant}-hub", restaurant) as c:
        for op, table, body in queued:
            assert op == "INSERT"
            postgrest_insert(c, table, body["rows"])


def test_a_hubs_pos_order_and_the_lan_taps_on_it_are_taken_by_the_sql_path_once(
    sb: psycopg.Connection, tmp_path: Path
) -> None:
    order_id, queued = hub_queue(tmp_path)
    assert [(op, table) for op, table, _ in queued] == [("INSERT", "orders"), ("INSERT", "order_items")]
    forward(sb, queued)
    with pytest.raises(errors.UniqueViolation):  # the resend after a lost answer: 409 23505, which the hub settles
        forward(sb, queued[:1])

    order = read_order(sb, order_id)
    assert order["number"] == "H7" and [i["name"] for i in order["order_items"]] == ["Burger", "Fries"]
    burger, fries = (i["id"] for i in order["order_items"])
    # Two LAN screens' taps, forwarded in one batch by the hub's admin account under their own device ids.
    taps = [
        {"id": str(uuid.uuid4()), "device_id": "r1-kds-grill-1", "device_seq": 7, "kind": "bump_item",
         "order_id": order_id, "item_id": burger, "station": "grill"},
        {"id": str(uuid.uuid4()), "device_id": "r1-kds-fry-1", "device_seq": 7, "kind": "bump_item",
         "order_id": order_id, "item_id": fries, "station": "fry"},
    ]
    assert [r["status"] for r in apply_intents(sb, "admin", "r1-hub", taps)] == ["applied", "applied"]
    again = apply_intents(sb, "admin", "r1-hub", taps)  # the batch resent after the hub was killed
    assert [(r["status"], r["original_status"]) for r in again] == [("duplicate", "applied")] * 2
    ledger = sb.execute("select device_id, device_seq, status from public.intent_ledger order by device_id").fetchall()
    assert ledger == [("r1-kds-fry-1", 7, "applied"), ("r1-kds-grill-1", 7, "applied")]
    assert read_order(sb, order_id)["status"] == "ready"


def test_another_restaurants_hub_can_neither_write_nor_tap_here(sb: psycopg.Connection, tmp_path: Path) -> None:
    order_id, queued = hub_queue(tmp_path)
    with pytest.raises(errors.InsufficientPrivilege):  # RLS: the rows say r1, the account is r2's
        forward(sb, queued[:1], restaurant="r2")
    forward(sb, queued)
    tap = {"id": str(uuid.uuid4()), "device_id": "r2-kds-1", "device_seq": 1, "kind": "start", "order_id": order_id}
    [result] = apply_intents(sb, "admin", "r2-hub", [tap], "r2")
    assert result["status"] == "rejected" and "not in this kitchen" in result["reason"]
