"""The Supabase twin of the companion's station printers (supabase/migrations/20261207000300_backup_printers.sql):
an admin device names its restaurant's printers, every device reads them, nobody else writes them or sees another
restaurant's; order_items.printed_at exists and no client may write it."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors

from .helpers import as_device, create_order

pytestmark = pytest.mark.postgres

ITEMS = [{"name": "Burger", "station": "grill", "quantity": 1, "course": 1, "held": False}]


def test_an_admin_names_a_station_printer_every_device_reads_it_and_no_one_else_writes_it(
    sb: psycopg.Connection,
) -> None:
    with as_device(sb, "admin", "r1-admin") as c:
        c.execute("insert into public.station_printers (station, host) values ('grill', '192.168.1.50')")
        c.execute("update public.station_printers set port = 9101 where station = 'grill'")
    for role in ("kds", "expo", "pos"):
        with as_device(sb, role, f"r1-{role}") as c:
            rows = c.execute("select restaurant_id, station, host, port from public.station_printers").fetchall()
            assert rows == [("r1", "grill", "192.168.1.50", 9101)]
            assert c.execute("update public.station_printers set host = 'x'").rowcount == 0
            assert c.execute("delete from public.station_printers").rowcount == 0
        with pytest.raises(errors.InsufficientPrivilege), as_device(sb, role, f"r1-{role}") as c:
            c.execute("insert into public.station_printers (station, host) values ('fry', '10.0.0.1')")
    with as_device(sb, "admin", "r2-admin", "r2") as c:
        assert c.execute("select count(*) from public.station_printers").fetchone() == (0,)
        assert c.execute("delete from public.station_printers").rowcount == 0
    with pytest.raises(errors.CheckViolation), as_device(sb, "admin", "r1-admin") as c:
        c.execute("insert into public.station_printers (station, host, port) values ('fry', '10.0.0.1', 70000)")
    with as_device(sb, "admin", "r1-admin") as c:
        assert c.execute("delete from public.station_printers where station = 'grill'").rowcount == 1


def test_printed_at_is_on_every_item_and_no_client_writes_it(sb: psycopg.Connection) -> None:
    order_id = create_order(sb, ITEMS)
    row = sb.execute("select printed_at from public.order_items where order_id = %s", [order_id]).fetchone()
    assert row == (None,)
    with pytest.raises(errors.InsufficientPrivilege), as_device(sb, "admin", "r1-admin") as c:
        c.execute("update public.order_items set printed_at = now() where order_id = %s", [order_id])
