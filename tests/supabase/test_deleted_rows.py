"""The deletion log on a Supabase project (supabase/migrations/20261123000000_deleted_rows.sql): every row
deleted from the three tables, cascades included, is logged under its own change_seq from the shared counter
(commit order), readable by the restaurant's devices only, and written by nobody but the trigger."""

from __future__ import annotations

import threading
import time
import uuid
from typing import Any

import psycopg
import pytest
from psycopg import errors
from psycopg.rows import dict_row

from tests.helpers.timeouts import scaled

from .helpers import apply_intents, as_device, as_role, create_order, read_order

pytestmark = pytest.mark.postgres

ITEMS = [
    {"name": "Burger", "station": "grill", "quantity": 2, "course": 1, "held": False},
    {"name": "Fries", "station": "fry", "quantity": 1, "course": 1, "held": False},
]
ROLES = ("kds", "expo", "pos", "admin")
CATCH_UP = (
    "select change_seq, restaurant_id, table_name, row_id::text, order_id::text, deleted_at"
    " from public.deleted_rows where change_seq > %s order by change_seq limit 500"
)


def all_seqs(conn: psycopg.Connection) -> list[int]:
    rows = conn.execute(
        "select change_seq from public.orders union all select change_seq from public.order_items"
        " union all select change_seq from public.menu_availability"
    ).fetchall()
    return [seq for (seq,) in rows]


def log(conn: psycopg.Connection, after: int = 0) -> list[dict[str, Any]]:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(CATCH_UP, [after]).fetchall()


def counter(conn: psycopg.Connection) -> int:
    row = conn.execute("select value from public.change_counter").fetchone()
    assert row is not None
    return row[0]


def eighty_six(conn: psycopg.Connection, name: str, restaurant: str = "r1") -> str:
    device = f"{restaurant}-kds-1"
    intent = {"id": str(uuid.uuid4()), "device_id": device, "device_seq": 1, "kind": "eighty_six"}
    results = apply_intents(conn, "kds", device, [{**intent, "args": {"item_name": name}}], restaurant)
    assert results[0]["status"] == "applied", results
    row = conn.execute("select id::text from public.menu_availability where item_name = %s", [name]).fetchone()
    assert row is not None
    return row[0]


def test_deleting_an_order_logs_it_and_its_cascaded_items_after_every_earlier_change(sb: psycopg.Connection) -> None:
    order_id = create_order(sb, ITEMS)
    other = create_order(sb, ITEMS[:1], number="A18")
    item_ids = {i["id"] for i in read_order(sb, order_id)["order_items"]}
    top = max(all_seqs(sb))

    # As the service role (what an admin tool or the dashboard uses); the cascade removes the items.
    with as_role(sb, "service_role", None) as c:
        assert c.execute("delete from public.orders where id = %s", [order_id]).rowcount == 1

    rows = log(sb)
    assert [r["change_seq"] for r in rows] == [top + 1, top + 2, top + 3], "fresh numbers from the shared counter"
    assert counter(sb) == top + 3
    assert {(r["table_name"], r["row_id"]) for r in rows} == {("orders", order_id)} | {
        ("order_items", i) for i in item_ids
    }
    assert all(r["order_id"] == order_id and r["restaurant_id"] == "r1" for r in rows)
    assert len({r["deleted_at"] for r in rows}) == 1, "the transaction's time"
    assert read_order(sb, other)["order_items"], "the other order is untouched"
    assert sb.execute("select count(*) from public.order_items where order_id = %s", [order_id]).fetchone() == (0,)

    # The next change of any kind numbers after the deletes: catch-up `change_seq=gt.N` sees all in order.
    create_order(sb, ITEMS[:1], number="A19")
    # top+4 is the order's insert, top+5 its line; the order now holds top+6, its item_count's update.
    assert min(s for s in all_seqs(sb) if s > top) == top + 5


def test_deleting_an_item_or_a_menu_row_logs_it(sb: psycopg.Connection) -> None:
    order_id = create_order(sb, ITEMS)
    menu_id = eighty_six(sb, "Fries")
    item_id = read_order(sb, order_id)["order_items"][0]["id"]
    sb.execute("delete from public.order_items where id = %s", [item_id])  # as the owner
    sb.execute("delete from public.menu_availability where id = %s", [menu_id])
    rows = log(sb)
    assert [(r["table_name"], r["row_id"], r["order_id"]) for r in rows] == [
        ("order_items", item_id, order_id),
        ("menu_availability", menu_id, None),
    ]
    assert rows[0]["change_seq"] < rows[1]["change_seq"] == counter(sb)
    assert [r["change_seq"] for r in log(sb, rows[0]["change_seq"])] == [rows[1]["change_seq"]]


def test_a_rolled_back_delete_logs_nothing_and_leaves_no_gap(sb: psycopg.Connection) -> None:
    order_id = create_order(sb, ITEMS)
    top = counter(sb)
    with pytest.raises(RuntimeError), sb.transaction():
        sb.execute("delete from public.orders where id = %s", [order_id])
        raise RuntimeError("roll back")
    assert log(sb) == [] and counter(sb) == top


@pytest.mark.parametrize("role", ROLES)
def test_each_restaurant_reads_only_its_own_deletions(sb: psycopg.Connection, role: str) -> None:
    r1_order = create_order(sb, ITEMS)
    r2_order = create_order(sb, ITEMS[:1], number="B1", restaurant="r2")
    sb.execute("delete from public.orders where id = any(%s)", [[r1_order, r2_order]])
    assert len(log(sb)) == 5
    with as_device(sb, role, f"r1-{role}", "r1") as c:
        seen = log(c)
        # Even asking for the other restaurant by name finds nothing (RLS, not the client's filter).
        foreign = c.execute("select count(*) from public.deleted_rows where restaurant_id = 'r2'").fetchone()
    assert {r["restaurant_id"] for r in seen} == {"r1"} and len(seen) == 3
    assert {r["order_id"] for r in seen} == {r1_order}
    assert foreign == (0,)
    with as_device(sb, role, f"r2-{role}", "r2") as c:
        assert {(r["table_name"], r["order_id"]) for r in log(c)} == {("orders", r2_order), ("order_items", r2_order)}
    with as_device(sb, role, f"r3-{role}", "r3") as c:
        assert log(c) == []


def test_a_token_without_a_device_role_reads_nothing_and_anon_may_not_read(sb: psycopg.Connection) -> None:
    sb.execute("delete from public.orders where id = %s", [create_order(sb, ITEMS)])
    jwt = {"sub": "u1", "role": "authenticated", "app_metadata": {"restaurant_id": "r1"}, "user_metadata": {}}
    with as_role(sb, "authenticated", jwt) as c:
        assert log(c) == []
    with pytest.raises(errors.InsufficientPrivilege), as_role(sb, "anon", None) as c:
        log(c)


@pytest.mark.parametrize("role", ROLES)
def test_devices_cannot_write_the_log(sb: psycopg.Connection, role: str) -> None:
    sb.execute("delete from public.orders where id = %s", [create_order(sb, ITEMS)])
    before = log(sb)
    statements = [
        "insert into public.deleted_rows (change_seq, restaurant_id, table_name, row_id)"
        " values (9999, 'r1', 'orders', gen_random_uuid())",
        "update public.deleted_rows set change_seq = change_seq + 1000",
        "delete from public.deleted_rows",
    ]
    for statement in statements:
        with pytest.raises(errors.InsufficientPrivilege), as_device(sb, role, f"r1-{role}") as c:
            c.execute(statement)
    for statement in statements:
        with pytest.raises(errors.InsufficientPrivilege), as_role(sb, "service_role", None) as c:
            c.execute(statement)
    assert log(sb) == before


def test_a_delete_takes_the_counter_before_any_row_and_holds_it_to_commit(sb: psycopg.Connection, sb_dsn: str) -> None:
    """Lock order counter-then-rows (no deadlock with apply_intents), and commit order: a writer queued
    behind an open delete numbers after it."""
    order_id = create_order(sb, ITEMS)
    with psycopg.connect(sb_dsn) as first, psycopg.connect(sb_dsn, autocommit=True) as second:
        first.execute("delete from public.orders where false")  # no row at all, and yet the counter is held
        with pytest.raises(errors.LockNotAvailable), second.transaction():
            second.execute("set local lock_timeout = '200ms'")
            second.execute("select 1 from public.change_counter where id = 1 for update")
        first.rollback()

        first.execute("delete from public.orders where id = %s", [order_id])  # open transaction
        done = threading.Event()
        seq_box: list[int] = []

        def write() -> None:
            row = second.execute(
                "insert into public.orders (restaurant_id, number) values ('r1', 'B2') returning change_seq"
            ).fetchone()
            assert row is not None
            seq_box.append(row[0])
            done.set()

        writer = threading.Thread(target=write)
        writer.start()
        # The server says who the insert waits on: polled (it announces nothing), under a deadline.
        deadline = time.monotonic() + scaled(10)
        blockers: list[int] = []
        while first.info.backend_pid not in blockers and not done.is_set() and time.monotonic() < deadline:
            time.sleep(0.01)
            [(blockers,)] = sb.execute("select pg_blocking_pids(%s)", [second.info.backend_pid]).fetchall()
        assert not done.is_set() and first.info.backend_pid in blockers, "the insert waits for the delete to commit"
        first.commit()
        writer.join(timeout=30)
        assert done.is_set()
    assert seq_box[0] > max(r["change_seq"] for r in log(sb))


def test_the_log_has_a_catch_up_index_no_foreign_keys_and_is_not_published(sb: psycopg.Connection) -> None:
    defs = [d for (d,) in sb.execute("select indexdef from pg_indexes where tablename = 'deleted_rows'").fetchall()]
    assert any("ON public.deleted_rows USING btree (restaurant_id, change_seq)" in d for d in defs), defs
    fks = sb.execute(
        "select count(*) from pg_constraint where contype = 'f'"
        " and (conrelid = 'public.deleted_rows'::regclass or confrelid = 'public.deleted_rows'::regclass)"
    ).fetchone()
    assert fks == (0,), "PostgREST embeds through foreign keys; the log embeds nothing and nothing embeds it"
    published = sb.execute(
        "select count(*) from pg_publication_tables where pubname = 'supabase_realtime' and tablename = 'deleted_rows'"
    ).fetchone()
    assert published == (0,)
    grants = sb.execute(
        "select grantee, privilege_type from information_schema.role_table_grants"
        " where table_schema = 'public' and table_name = 'deleted_rows' and grantee <> current_user order by 1, 2"
    ).fetchall()
    assert grants == [("authenticated", "SELECT"), ("service_role", "SELECT")]
