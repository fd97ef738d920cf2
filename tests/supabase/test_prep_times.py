"""The Supabase twin of the companion's prep times (supabase/migrations/20261207006000_fire_timing.sql): an admin
device sets its restaurant's prep times, every device reads them, nobody else writes them or sees another
restaurant's; items take the menu's time as they are inserted (whatever the case) and no client writes it or the
fire time."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

from .helpers import as_device, create_order

pytestmark = pytest.mark.postgres

ITEMS = [
    {"name": "RIBEYE", "station": "grill", "quantity": 1, "course": 1, "held": False},
    {"name": "Cake", "station": "pastry", "quantity": 1, "course": 2, "held": True},
]


def test_an_admin_sets_prep_times_every_device_reads_them_and_no_one_else_writes_them(sb: psycopg.Connection) -> None:
    with as_device(sb, "admin", "r1-admin") as c:
        c.execute("insert into public.prep_times (item_name, seconds) values ('Ribeye', 540), ('Cake', 240)")
        c.execute("update public.prep_times set seconds = 600 where item_name = 'Ribeye'")
    for role in ("kds", "expo", "pos"):
        with as_device(sb, role, f"r1-{role}") as c:
            rows = c.execute("select restaurant_id, item_name, seconds from public.prep_times order by 2").fetchall()
            assert rows == [("r1", "Cake", 240), ("r1", "Ribeye", 600)]
            assert c.execute("update public.prep_times set seconds = 1").rowcount == 0
            assert c.execute("delete from public.prep_times").rowcount == 0
        with pytest.raises(errors.InsufficientPrivilege), as_device(sb, role, f"r1-{role}") as c:
            c.execute("insert into public.prep_times (item_name, seconds) values ('Fries', 120)")
    with as_device(sb, "admin", "r2-admin", "r2") as c:
        assert c.execute("select count(*) from public.prep_times").fetchone() == (0,)
    with pytest.raises(errors.UniqueViolation), as_device(sb, "admin", "r1-admin") as c:
        c.execute("insert into public.prep_times (item_name, seconds) values ('RIBEYE', 60)")
    with pytest.raises(errors.CheckViolation), as_device(sb, "admin", "r1-admin") as c:
        c.execute("insert into public.prep_times (item_name, seconds) values ('Fries', 0)")

    order_id = create_order(sb, ITEMS)
    rows = sb.execute(
        "select name, prep_seconds, fired_at = created_at, fired_at is null from public.order_items"
        " where order_id = %s order by name",
        [order_id],
    ).fetchall()
    assert rows == [("Cake", 240, None, True), ("RIBEYE", 600, True, False)]
    for column, value in (("prep_seconds", "1"), ("fired_at", "now()")):
        with pytest.raises(errors.InsufficientPrivilege), as_device(sb, "pos", "r1-pos-1") as c:
            c.execute(f"update public.order_items set {column} = {value} where order_id = %s", [order_id])
