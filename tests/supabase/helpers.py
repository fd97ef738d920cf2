"""Talking to the Supabase migrations on a real PostgreSQL as Supabase's Data API would.

PostgREST runs each request as one transaction: `SET LOCAL ROLE authenticated` (or `anon`) and the
verified token's claims in `request.jwt.claims`. `as_device()` does exactly that on a psycopg connection.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "supabase" / "migrations"
STAND_IN = Path(__file__).with_name("stand_in.sql")


def migration_files() -> list[Path]:
    return sorted(MIGRATIONS.glob("*.sql"))


def apply_migrations(dsn: str) -> None:
    """Every migration, in file-name order, each in its own transaction (as `supabase db push` does)."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        for path in migration_files():
            with conn.transaction():
                conn.execute(path.read_text())


def apply_stand_in(dsn: str) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(STAND_IN.read_text())


def claims(role: str, device: str, restaurant: str = "r1", stations: list[str] | None = None) -> dict[str, Any]:
    """A device token's claims, shaped as Supabase issues them for a user with this app_metadata."""
    return {
        "sub": device,
        "role": "authenticated",
        "aud": "authenticated",
        "app_metadata": {"restaurant_id": restaurant, "device_role": role, "stations": stations or []},
        "user_metadata": {},
    }


@contextmanager
def as_role(conn: psycopg.Connection, db_role: str, jwt: dict[str, Any] | None) -> Iterator[psycopg.Connection]:
    """One transaction as `db_role` with these JWT claims; commits on normal exit, rolls back on error."""
    with conn.transaction():
        conn.execute("select set_config('request.jwt.claims', %s, true)", [json.dumps(jwt) if jwt else ""])
        conn.execute(f"set local role {db_role}")
        yield conn


@contextmanager
def as_device(conn: psycopg.Connection, role: str, device: str, restaurant: str = "r1") -> Iterator[psycopg.Connection]:
    with as_role(conn, "authenticated", claims(role, device, restaurant)) as c:
        yield c


def apply_intents(
    conn: psycopg.Connection, role: str, device: str, intents: list[dict[str, Any]], restaurant: str = "r1"
) -> list[dict[str, Any]]:
    with as_device(conn, role, device, restaurant) as c:
        row = c.execute("select public.apply_intents(%s::jsonb)", [Jsonb(intents)]).fetchone()
    assert row is not None
    return row[0]


def create_order(
    conn: psycopg.Connection,
    items: list[dict[str, Any]],
    number: str = "A17",
    priority: str = "normal",
    restaurant: str = "r1",
) -> str:
    """An order and its lines, inserted by the restaurant's POS through RLS (as `POST /rest/v1/...`)."""
    with as_device(conn, "pos", f"{restaurant}-pos-1", restaurant) as c:
        row = c.execute(
            "insert into public.orders (number, priority) values (%s, %s) returning id", [number, priority]
        ).fetchone()
        assert row is not None
        order_id = row[0]
        for item in items:
            c.execute(
                "insert into public.order_items (order_id, station, name, quantity, course, held)"
                " values (%s, %s, %s, %s, %s, %s)",
                [order_id, item["station"], item["name"], item["quantity"], item["course"], item["held"]],
            )
    return str(order_id)


def read_order(conn: psycopg.Connection, order_id: str) -> dict[str, Any]:
    """The order with its items, read as the table owner (no RLS), in the shape the RPC returns."""
    with conn.cursor(row_factory=dict_row) as cur:
        order = cur.execute("select to_jsonb(o) as o from public.orders o where id = %s", [order_id]).fetchone()
        assert order is not None
        items = cur.execute(
            "select to_jsonb(i) as i from public.order_items i where order_id = %s order by created_at, change_seq",
            [order_id],
        ).fetchall()
    return {**order["o"], "order_items": [row["i"] for row in items]}
