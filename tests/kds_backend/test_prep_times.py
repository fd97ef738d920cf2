"""Prep times (issue 19 item 1) on a real companion (SQLite and PostgreSQL): an admin sets them over the API or with
`kds-backend prep-time`, items sent afterwards carry them (and when their course went to the kitchen), nobody else
writes them, and `suggest` learns them from the kitchen's done times."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from api_client.models import OrderWithItems
from kds_backend.auth.tokens import issue_anon_key
from kds_backend.db.tables import order_items
from kds_backend.db.writer import Writer
from kds_backend.prep_report import DayRange, prep_rows
from kds_backend.prep_times import suggest
from tests.conftest import JWT_SECRET, token_for
from tests.live_server import LiveServer


def _headers(role: str, restaurant: str = "r1") -> dict[str, str]:
    token = token_for(role, restaurant=restaurant, device=f"{restaurant}-{role}-1")
    return {"apikey": issue_anon_key(JWT_SECRET), "Authorization": f"Bearer {token}"}


async def _order(http: httpx.AsyncClient, number: str, items: list[dict[str, Any]]) -> OrderWithItems:
    headers = {**_headers("pos"), "Idempotency-Key": str(uuid.uuid4())}
    r = await http.post("/api/v1/orders", json={"number": number, "items": items}, headers=headers)
    assert r.status_code == 201, r.text
    return OrderWithItems.model_validate(r.json())


async def test_an_admin_sets_prep_times_and_items_sent_afterwards_carry_them(client: httpx.AsyncClient) -> None:
    admin, kds = _headers("admin"), _headers("kds")
    before = await _order(client, "1", [{"name": "Ribeye", "station": "grill"}])
    r = await client.put("/api/v1/prep-times/Ribeye", json={"seconds": 600}, headers=admin)
    assert r.status_code == 200, r.text
    assert r.json() == {"item_name": "Ribeye", "seconds": 600}
    # Another spelling is the same item: its time is replaced, not doubled.
    assert (await client.put("/api/v1/prep-times/fries", json={"seconds": 120}, headers=admin)).status_code == 200
    assert (await client.put("/api/v1/prep-times/FRIES", json={"seconds": 180}, headers=admin)).status_code == 200
    listed = await client.get("/api/v1/prep-times", headers=kds)
    assert listed.json() == [{"item_name": "FRIES", "seconds": 180}, {"item_name": "Ribeye", "seconds": 600}]
    assert (await client.get("/api/v1/prep-times", headers=_headers("kds", "r2"))).json() == []

    order = await _order(
        client,
        "2",
        [
            {"name": "ribeye", "station": "grill"},
            {"name": "Fries", "station": "fry"},
            {"name": "Soda", "station": "bar"},
            {"name": "Cake", "station": "pastry", "course": 2, "held": True},
        ],
    )
    got = {i.name: (i.prep_seconds, i.fired_at == i.created_at, i.fired_at is None) for i in order.order_items}
    assert got == {
        "ribeye": (600, True, False),
        "Fries": (180, True, False),
        "Soda": (None, True, False),
        "Cake": (None, False, True),  # held: not in the kitchen yet
    }
    # What screens sync has the same; the order sent before the menu had times keeps none.
    rows = (await client.get("/rest/v1/order_items", params={"order_id": f"eq.{order.id}"}, headers=kds)).json()
    assert {row["name"]: row["prep_seconds"] for row in rows} == {
        "ribeye": 600,
        "Fries": 180,
        "Soda": None,
        "Cake": None,
    }
    assert before.order_items[0].prep_seconds is None

    # Removing a time leaves the tickets on the rail as they were sent.
    assert (await client.delete("/api/v1/prep-times/RIBEYE", headers=admin)).status_code == 204
    missing = await client.delete("/api/v1/prep-times/Ribeye", headers=admin)
    assert missing.status_code == 404 and "has no prep time" in missing.json()["message"]
    rows = (await client.get("/rest/v1/order_items", params={"order_id": f"eq.{order.id}"}, headers=kds)).json()
    assert {row["name"]: row["prep_seconds"] for row in rows}["ribeye"] == 600


async def test_only_an_admin_writes_prep_times_and_bad_ones_are_refused(client: httpx.AsyncClient) -> None:
    r = await client.put("/api/v1/prep-times/Ribeye", json={"seconds": 600}, headers=_headers("kds"))
    assert r.status_code == 403
    for body in ({"seconds": 0}, {"seconds": 5 * 3600}, {"seconds": "ten"}, {}):
        r = await client.put("/api/v1/prep-times/Ribeye", json=body, headers=_headers("admin"))
        assert r.status_code == 422, body
    assert (await client.get("/api/v1/prep-times", headers=_headers("admin"))).json() == []


async def test_suggestions_are_the_median_from_fire_to_done(client: httpx.AsyncClient, app: FastAPI) -> None:
    """Three burgers took 5, 6 and 9 minutes from the order; fries waited on each burger (prep 6:00 vs 2:00: they
    fired 4 minutes in) and were done 2:30 after firing. Two salads are too few to suggest anything."""
    admin = _headers("admin")
    await client.put("/api/v1/prep-times/Burger", json={"seconds": 360}, headers=admin)
    await client.put("/api/v1/prep-times/Fries", json={"seconds": 120}, headers=admin)
    orders = []
    for n, items in enumerate(
        [["Burger", "Fries", "Salad"], ["Burger", "Fries", "Salad"], ["Burger", "Fries"]], start=1
    ):
        orders.append(await _order(client, str(n), [{"name": name, "station": "grill"} for name in items]))
    burger_minutes = [5, 6, 9]

    def finish(w: Writer) -> None:
        for order, minutes in zip(orders, burger_minutes, strict=True):
            for item in order.order_items:
                assert item.fired_at is not None
                went = item.fired_at - timedelta(hours=1)  # earlier today: history
                took = {
                    "Burger": timedelta(minutes=minutes),
                    "Fries": timedelta(minutes=4, seconds=150),
                    "Salad": timedelta(minutes=1),
                }[item.name]
                w.conn.execute(
                    sa.update(order_items)
                    .where(order_items.c.id == item.id)
                    .values(status="done", fired_at=went, done_at=went + took)
                )

    app.state.db.write(finish)
    now = datetime.now(UTC)
    found = app.state.db.read(lambda c: suggest(c, "r1", since=now - timedelta(days=1), until=now))
    assert [(s.item_name, s.seconds, s.samples, s.current) for s in found] == [
        ("Burger", 360, 3, 360),
        ("Fries", 150, 3, 120),
    ]
    r = await client.get("/api/v1/prep-times/suggestions", params={"days": 1}, headers=_headers("kds"))
    assert r.status_code == 200, r.text
    assert [(s["item_name"], s["samples"]) for s in r.json()] == [("Burger", 3), ("Fries", 3)]


def _cli(live_server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KDS_DATA_DIR": str(live_server.data_dir), "KDS_JWT_SECRET": JWT_SECRET}
    return subprocess.run(
        [sys.executable, "-m", "kds_backend.cli", "prep-time", *args, "--database-url", live_server.database_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
async def test_kds_backend_prep_time_sets_lists_removes_and_suggests(live_server: LiveServer) -> None:
    done = _cli(live_server, "set", "--restaurant", "r1", "Ribeye", "9:30")
    assert done.returncode == 0, done.stderr
    assert "Ribeye takes 9:30" in done.stdout
    assert _cli(live_server, "set", "--restaurant", "r1", "Fries", "150").returncode == 0
    refused = _cli(live_server, "set", "--restaurant", "r1", "Fries", "two minutes")
    assert refused.returncode == 2 and "minutes:seconds" in refused.stderr, refused.stderr
    listed = _cli(live_server, "list", "--restaurant", "r1")
    assert listed.stdout.splitlines() == ["Fries\t2:30", "Ribeye\t9:30"]
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        order = await _order(http, "7", [{"name": "Ribeye", "station": "grill"}])
    assert order.order_items[0].prep_seconds == 570

    assert _cli(live_server, "remove", "--restaurant", "r1", "fries").returncode == 0
    assert _cli(live_server, "list", "--restaurant", "r1").stdout.splitlines() == ["Ribeye\t9:30"]
    missing = _cli(live_server, "remove", "--restaurant", "r1", "Fries")
    assert missing.returncode == 2 and "has no prep time" in missing.stderr
    quiet = _cli(live_server, "suggest", "--restaurant", "r1")
    assert quiet.returncode == 0 and quiet.stdout == "" and "no item was done 3 times" in quiet.stderr


async def test_fire_timed_items_count_from_their_fire_in_suggestions_and_the_csv(
    client: httpx.AsyncClient, app: FastAPI
) -> None:
    """Ribeye 10:00 (grill) and fries 3:00 (fry): the fries fire 7:00 after the order. Order 1's fries were done at
    10:00 (3:00 of work); orders 2 and 3's were fired early by a cook and done at 4:00, before their planned fire:
    they count from when they went to the kitchen (4:00), never as 0 s. The CSV's fry ticket takes the same start."""
    admin = _headers("admin")
    await client.put("/api/v1/prep-times/Ribeye", json={"seconds": 600}, headers=admin)
    await client.put("/api/v1/prep-times/Fries", json={"seconds": 180}, headers=admin)
    lines = [{"name": "Ribeye", "station": "grill"}, {"name": "Fries", "station": "fry"}]
    orders = [await _order(client, str(n), lines) for n in (1, 2, 3)]
    fries_done = [10, 4, 4]

    def finish(w: Writer) -> None:
        for order, fries_min in zip(orders, fries_done, strict=True):
            for item in order.order_items:
                assert item.fired_at is not None
                took = timedelta(minutes=10 if item.name == "Ribeye" else fries_min)
                w.conn.execute(
                    sa.update(order_items)
                    .where(order_items.c.id == item.id)
                    .values(status="done", done_at=item.fired_at + took)
                )

    app.state.db.write(finish)
    now = datetime.now(UTC) + timedelta(hours=1)
    found = app.state.db.read(lambda c: suggest(c, "r1", since=now - timedelta(days=1), until=now))
    assert [(s.item_name, s.seconds) for s in found] == [("Fries", 240), ("Ribeye", 600)]
    day = now.date()
    rows = app.state.db.read(lambda c: list(prep_rows(c, DayRange(day - timedelta(days=1), day), 0, UTC, "r1")))
    fry = {(row[1], row[2]): row[5] for row in rows}
    assert (fry[("1", "fry")], fry[("2", "fry")], fry[("1", "grill")]) == ("180", "240", "600"), rows
