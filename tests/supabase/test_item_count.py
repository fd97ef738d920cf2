"""orders.item_count on Supabase (20261207008000_order_item_count.sql): the order's number of item rows, set by a
statement trigger in the transaction that inserts or deletes them, so a screen can hold a commit until it has
them all (sync/readpath/whole_tickets.py). The companion keeps it in kds_backend/db/writer.py."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

from .helpers import MIGRATIONS, as_device, as_role, create_order, read_order

pytestmark = pytest.mark.postgres

ITEMS = [
    {"name": "Burger", "station": "grill", "quantity": 1, "course": 1, "held": False},
    {"name": "Fries", "station": "fry", "quantity": 1, "course": 1, "held": False},
]
MIGRATION = MIGRATIONS / "20261207008000_order_item_count.sql"


def count(conn: psycopg.Connection, order_id: str) -> int:
    return int(read_order(conn, order_id)["item_count"])


def test_a_pos_order_counts_its_lines_in_the_same_transaction(sb: psycopg.Connection) -> None:
    order_id = create_order(sb, ITEMS)
    order = read_order(sb, order_id)
    assert order["item_count"] == 2
    assert order["change_seq"] > max(i["change_seq"] for i in order["order_items"]), "written after its lines"


def test_one_statement_of_many_lines_moves_the_order_once(sb: psycopg.Connection) -> None:
    """PostgREST inserts a POST's array in one statement: one new version of the order, not one per line."""
    order_id = create_order(sb, [])
    assert count(sb, order_id) == 0
    before = read_order(sb, order_id)["version"]
    with as_device(sb, "pos", "r1-pos-1") as c:
        c.execute(
            "insert into public.order_items (order_id, station, name) values (%s, 'grill', 'A'), (%s, 'fry', 'B'),"
            " (%s, 'fry', 'C')",
            [order_id] * 3,
        )
    after = read_order(sb, order_id)
    assert after["item_count"] == 3 and after["version"] == before + 1


def test_a_void_still_counts_and_a_deleted_line_does_not(sb: psycopg.Connection) -> None:
    order_id = create_order(sb, ITEMS)
    fries = next(i for i in read_order(sb, order_id)["order_items"] if i["name"] == "Fries")
    with as_device(sb, "pos", "r1-pos-1") as c:
        c.execute("update public.order_items set status = 'voided' where id = %s", [fries["id"]])
    assert count(sb, order_id) == 2, "a void is a status, the line is still on the ticket"
    with as_role(sb, "service_role", None) as c:
        c.execute("delete from public.order_items where id = %s", [fries["id"]])
    assert count(sb, order_id) == 1


def test_a_pos_may_not_write_the_count(sb: psycopg.Connection) -> None:
    order_id = create_order(sb, ITEMS)
    with pytest.raises(errors.InsufficientPrivilege), as_device(sb, "pos", "r1-pos-1") as c:
        c.execute("update public.orders set item_count = 9 where id = %s", [order_id])
    with pytest.raises(errors.InsufficientPrivilege), as_device(sb, "pos", "r1-pos-1") as c:
        c.execute("insert into public.orders (number, item_count) values ('X1', 9)")
    assert count(sb, order_id) == 2


def test_the_migration_backfills_wrong_counts_and_a_reapply_writes_nothing(sb: psycopg.Connection) -> None:
    order_id = create_order(sb, ITEMS)
    sb.execute("update public.orders set item_count = 0 where id = %s", [order_id])  # as before the column
    sb.commit()
    sb.execute(MIGRATION.read_text())
    sb.commit()
    fixed = read_order(sb, order_id)
    assert fixed["item_count"] == 2
    sb.execute(MIGRATION.read_text())
    sb.commit()
    assert read_order(sb, order_id) == fixed, "re-applied: no write, not even a version"
