"""The Supabase twin of routing new items by load (supabase/migrations/20261207009000_load_routing.sql): the shared
scenarios of tests/load_routing_cases.py with a POS inserting orders and lines through RLS; only an admin device sets
the restaurant's routing, every device reads it, a malformed list of alternates is refused."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest
from psycopg import errors
from psycopg.types.json import Jsonb

from tests.load_routing_cases import CASES, Add, Bump, Case, Order, Routing, Void

from .helpers import apply_intents, as_device

pytestmark = pytest.mark.postgres


def _insert_lines(c: psycopg.Connection, order_id: str, stations: list[str], start: int) -> list[tuple[str, str]]:
    """Inserts one line a station, as the POS does (one row a statement), and returns (id, station) as stored."""
    stored = []
    for n, station in enumerate(stations):
        row = c.execute(
            "insert into public.order_items (order_id, station, name, quantity, course, held)"
            " values (%s, %s, %s, 1, 1, false) returning id, station",
            [order_id, station, f"Dish {start + n}"],
        ).fetchone()
        assert row is not None
        stored.append((str(row[0]), row[1]))
    return stored


def _set_routing(sb: psycopg.Connection, on: bool, alternates: dict[str, list[str]]) -> None:
    with as_device(sb, "admin", "r1-admin") as c:
        c.execute(
            "insert into public.load_routing (route_by_load, alternates) values (%s, %s)"
            " on conflict (restaurant_id) do update set route_by_load = excluded.route_by_load,"
            " alternates = excluded.alternates",
            [on, Jsonb(alternates)],
        )


def run_case(sb: psycopg.Connection, case: Case) -> None:
    orders: list[tuple[str, list[tuple[str, str]]]] = []
    seq = 0
    for n, step in enumerate(case.steps):
        where = f"{case.name} step {n}"
        if isinstance(step, Routing):
            _set_routing(sb, step.on, step.alternates)
        elif isinstance(step, Order):
            with as_device(sb, "pos", "r1-pos-1") as c:
                row = c.execute("insert into public.orders (number) values (%s) returning id", [str(n)]).fetchone()
                assert row is not None
                lines = _insert_lines(c, str(row[0]), step.lines, 0)
            assert [station for _id, station in lines] == step.want, where
            orders.append((str(row[0]), lines))
        elif isinstance(step, Add):
            order_id, lines = orders[step.order]
            with as_device(sb, "pos", "r1-pos-1") as c:
                added = _insert_lines(c, order_id, step.lines, len(lines))
            assert [station for _id, station in added] == step.want, where
        elif isinstance(step, Bump):
            seq += 1
            intent: dict[str, Any] = {"id": str(uuid.uuid4()), "device_id": "r1-expo-1", "device_seq": seq}
            intent |= {"kind": "bump_ticket", "order_id": orders[step.order][0]}
            (result,) = apply_intents(sb, "expo", "r1-expo-1", [intent])
            assert result["status"] == "applied", result
        else:
            assert isinstance(step, Void)
            item_id = orders[step.order][1][step.line][0]
            with as_device(sb, "pos", "r1-pos-1") as c:
                assert c.execute("update public.order_items set status = 'voided' where id = %s", [item_id]).rowcount


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_case(sb: psycopg.Connection, case: Case) -> None:
    run_case(sb, case)


def test_an_admin_sets_it_every_device_reads_it_and_bad_alternates_are_refused(sb: psycopg.Connection) -> None:
    _set_routing(sb, True, {"grill": ["flat"]})
    for role in ("kds", "expo", "pos"):
        with as_device(sb, role, f"r1-{role}") as c:
            row = c.execute("select restaurant_id, route_by_load, alternates from public.load_routing").fetchall()
            assert row == [("r1", True, {"grill": ["flat"]})]
            assert c.execute("update public.load_routing set route_by_load = false").rowcount == 0
            assert c.execute("delete from public.load_routing").rowcount == 0
    with as_device(sb, "admin", "r2-admin", "r2") as c:
        assert c.execute("select count(*) from public.load_routing").fetchone() == (0,)
    for bad in ({"grill": ["Flat Top"]}, {"Grill": ["flat"]}, {"grill": "flat"}, {"grill": ["flat"] * 11}, ["grill"]):
        with pytest.raises(errors.CheckViolation), as_device(sb, "admin", "r1-admin") as c:
            c.execute("update public.load_routing set alternates = %s", [Jsonb(bad)])
