"""version, change_seq and updated_at are the server's: assigned by triggers on every insert and update,
whoever writes, and change_seq follows commit order (what `change_seq=gt.N` catch-up relies on)."""

from __future__ import annotations

import threading
import uuid
from datetime import datetime

import psycopg
import pytest
from psycopg import errors

from .helpers import apply_intents, as_device, create_order, read_order

pytestmark = pytest.mark.postgres

ITEMS = [
    {"name": "Burger", "station": "grill", "quantity": 2, "course": 1, "held": False},
    {"name": "Fries", "station": "fry", "quantity": 1, "course": 1, "held": False},
]


def all_seqs(conn: psycopg.Connection) -> list[int]:
    rows = conn.execute(
        "select change_seq from public.orders union all select change_seq from public.order_items"
        " union all select change_seq from public.menu_availability"
    ).fetchall()
    return [seq for (seq,) in rows]


def test_inserts_start_at_version_1_with_fresh_change_seqs(sb: psycopg.Connection) -> None:
    order = read_order(sb, create_order(sb, ITEMS))
    rows = [order, *order["order_items"]]
    # Each line's INSERT statement sets the order's item_count (a server write: version and change_seq), so the
    # order is at version 3 and holds the last number; the lines start at 1.
    assert [r["version"] for r in rows] == [3, 1, 1] and order["item_count"] == 2
    assert [r["change_seq"] for r in rows] == [5, 2, 4], "one transaction, numbered in write order"
    stamped = {r["updated_at"] for r in rows}
    assert len(stamped) == 1, "updated_at is the transaction's time"
    assert sb.execute("select value from public.change_counter").fetchone() == (5,)


def test_every_update_bumps_version_once_whatever_the_writer_sends(sb: psycopg.Connection) -> None:
    order_id = create_order(sb, ITEMS)
    before = read_order(sb, order_id)
    # Even the table owner cannot set them: the trigger has the last word.
    sb.execute(
        "update public.orders set version = 100, change_seq = 1, updated_at = '2000-01-01Z', notes = 'x' where id = %s",
        [order_id],
    )
    after = read_order(sb, order_id)
    assert after["version"] == before["version"] + 1
    assert after["change_seq"] == max(all_seqs(sb))
    assert datetime.fromisoformat(after["updated_at"]) > datetime.fromisoformat(before["updated_at"])
    # An UPDATE that changes no value is still a new version, as in the companion.
    with as_device(sb, "pos", "r1-pos-1") as c:
        c.execute("update public.orders set notes = 'x' where id = %s", [order_id])
    assert read_order(sb, order_id)["version"] == before["version"] + 2


def test_intents_number_their_rows_in_order(sb: psycopg.Connection) -> None:
    order_id = create_order(sb, ITEMS)
    before = read_order(sb, order_id)
    burger = next(i for i in before["order_items"] if i["name"] == "Burger")
    batch = [
        {"id": str(uuid.uuid4()), "device_id": "grill-1", "device_seq": n, "kind": kind, "order_id": order_id, **extra}
        for n, (kind, extra) in enumerate(
            [
                ("start", {"station": "grill"}),
                ("bump_ticket", {"station": "grill"}),
                ("recall", {"station": "grill"}),
                ("bump_item", {"item_id": burger["id"]}),
            ],
            start=1,
        )
    ]
    results = apply_intents(sb, "kds", "grill-1", batch)
    assert [r["status"] for r in results] == ["applied"] * 4
    burgers = [next(i for i in r["order"]["order_items"] if i["name"] == "Burger") for r in results]
    assert [b["status"] for b in burgers] == ["cooking", "done", "cooking", "done"]
    assert [b["version"] for b in burgers] == [2, 3, 4, 5]
    seqs = [b["change_seq"] for b in burgers]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4 and seqs[0] > burger["change_seq"]
    assert [r["order"]["status"] for r in results] == ["in_progress"] * 4
    assert [r["order"]["version"] for r in results] == [before["version"] + 1] * 4


def test_a_writer_waits_for_the_one_before_it_to_commit(sb: psycopg.Connection, sb_dsn: str) -> None:
    """While one transaction holds numbers it has not committed, nobody else can take a number: so a
    client that has seen change_seq N can never later receive a commit numbered below N."""
    order_id = create_order(sb, ITEMS)
    with psycopg.connect(sb_dsn) as first, psycopg.connect(sb_dsn, autocommit=True) as second:
        first.execute("update public.orders set notes = 'first' where id = %s", [order_id])  # open transaction
        held = first.execute("select change_seq from public.orders where id = %s", [order_id]).fetchone()
        assert held is not None
        with pytest.raises(errors.LockNotAvailable), second.transaction():
            second.execute("set local lock_timeout = '200ms'")
            second.execute("insert into public.orders (restaurant_id, number) values ('r2', 'B1')")
        with pytest.raises(errors.LockNotAvailable), second.transaction():
            second.execute("set local lock_timeout = '200ms'")
            second.execute(
                "insert into public.menu_availability (restaurant_id, item_name, available) values ('r2', 'x', false)"
            )

        # A writer that queues behind the open transaction gets a number above everything it committed.
        done = threading.Event()
        seq_box: list[int] = []

        def write() -> None:
            row = second.execute(
                "insert into public.orders (restaurant_id, number) values ('r2', 'B2') returning change_seq"
            ).fetchone()
            assert row is not None
            seq_box.append(row[0])
            done.set()

        writer = threading.Thread(target=write)
        writer.start()
        first.execute("update public.order_items set notes = 'late' where order_id = %s", [order_id])
        first.commit()
        writer.join(timeout=30)
        assert done.is_set()
    assert seq_box[0] > max(s for s in all_seqs(sb) if s != seq_box[0])
    assert seq_box[0] > held[0]


def test_a_rolled_back_write_leaves_no_gap(sb: psycopg.Connection) -> None:
    create_order(sb, ITEMS)
    top = max(all_seqs(sb))
    with pytest.raises(errors.CheckViolation), as_device(sb, "pos", "r1-pos-1") as c:
        c.execute("insert into public.orders (number) values ('C1')")
        c.execute("insert into public.orders (number, status) values ('C2', 'ready')")
    create_order(sb, ITEMS[:1], number="C3")
    # C3 took top+1 (its insert), top+2 (its line) and top+3 (its item_count), which it holds now.
    assert sorted(all_seqs(sb))[-2:] == [top + 2, top + 3]
    assert sb.execute("select value from public.change_counter").fetchone() == (top + 3,)
