"""Routing new items by load (issue 19 item 2) on a real companion (SQLite and PostgreSQL): the shared scenarios of
tests/load_routing_cases.py with orders through POS intake, who may set it, orders arriving together, and the
`kds-backend load-routing` command."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from typing import Any

import httpx
import pytest

from api_client.models import OrderWithItems
from tests.conftest import auth_headers, token_for
from tests.live_server import LiveServer
from tests.load_routing_cases import CASES, Add, Bump, Case, Order, Routing, Void

RPC = "/rest/v1/rpc/apply_intents"


def _headers(role: str, device: str | None = None) -> dict[str, str]:
    return auth_headers(token_for(role, restaurant="r1", device=device or f"r1-{role}-1"))


def _lines(stations: list[str], start: int) -> list[dict[str, Any]]:
    return [{"name": f"Dish {start + n}", "station": s} for n, s in enumerate(stations)]


async def _order(http: httpx.AsyncClient, stations: list[str], number: str) -> OrderWithItems:
    headers = {**_headers("pos"), "Idempotency-Key": str(uuid.uuid4())}
    r = await http.post("/api/v1/orders", json={"number": number, "items": _lines(stations, 0)}, headers=headers)
    assert r.status_code == 201, r.text
    return OrderWithItems.model_validate(r.json())


async def _routing(http: httpx.AsyncClient, on: bool, alternates: dict[str, list[str]]) -> None:
    body = {"route_by_load": on, "alternates": alternates}
    r = await http.put("/api/v1/load-routing", json=body, headers=_headers("admin"))
    assert r.status_code == 200, r.text
    assert r.json() == body


async def run_case(http: httpx.AsyncClient, case: Case) -> None:
    orders: list[OrderWithItems] = []
    seq = 0
    for n, step in enumerate(case.steps):
        where = f"{case.name} step {n}"
        if isinstance(step, Routing):
            await _routing(http, step.on, step.alternates)
        elif isinstance(step, Order):
            order = await _order(http, step.lines, f"{n}")
            assert [i.station for i in order.order_items] == step.want, where
            orders.append(order)
        elif isinstance(step, Add):
            order = orders[step.order]
            headers = {**_headers("pos"), "Idempotency-Key": str(uuid.uuid4())}
            body = {"items": _lines(step.lines, len(order.order_items))}
            r = await http.post(f"/api/v1/orders/{order.id}/items", json=body, headers=headers)
            assert r.status_code == 201, r.text
            added = OrderWithItems.model_validate(r.json()).order_items[len(order.order_items) :]
            assert [i.station for i in added] == step.want, where
        elif isinstance(step, Bump):
            seq += 1
            intent = {"id": str(uuid.uuid4()), "device_id": "r1-expo-1", "device_seq": seq, "kind": "bump_ticket"}
            intent["order_id"] = str(orders[step.order].id)
            r = await http.post(RPC, json={"intents": [intent]}, headers=_headers("expo"))
            assert r.status_code == 200 and r.json()[0]["status"] == "applied", r.text
        else:
            assert isinstance(step, Void)
            item = orders[step.order].order_items[step.line]
            r = await http.patch(
                "/rest/v1/order_items",
                params={"id": f"eq.{item.id}"},
                json={"status": "voided"},
                headers=_headers("pos"),
            )
            assert r.status_code == 204, r.text


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
async def test_case(client: httpx.AsyncClient, case: Case) -> None:
    await run_case(client, case)


async def test_off_until_set_and_only_an_admin_sets_it(client: httpx.AsyncClient) -> None:
    r = await client.get("/api/v1/load-routing", headers=_headers("kds"))
    assert r.status_code == 200 and r.json() == {"route_by_load": False, "alternates": {}}
    body = {"route_by_load": True, "alternates": {"grill": ["flat"]}}
    for role in ("kds", "expo", "pos"):
        assert (await client.put("/api/v1/load-routing", json=body, headers=_headers(role))).status_code == 403
    bad = {"route_by_load": True, "alternates": {"grill": ["Flat Top"]}}
    r = await client.put("/api/v1/load-routing", json=bad, headers=_headers("admin"))
    assert r.status_code == 400 and "'Flat Top' is not a station name" in r.text
    r = await client.put(
        "/api/v1/load-routing", json={"alternates": {"grill": ["flat"] * 11}}, headers=_headers("admin")
    )
    assert r.status_code == 400 and "at most 10" in r.text
    assert (await client.get("/api/v1/load-routing", headers=_headers("kds"))).json()["alternates"] == {}
    await _routing(client, True, {"grill": ["flat"]})
    assert (await client.get("/api/v1/load-routing", headers=_headers("pos"))).json() == body
    other = auth_headers(token_for("kds", restaurant="r2", device="r2-kds-1"))
    assert (await client.get("/api/v1/load-routing", headers=other)).json() == {
        "route_by_load": False,
        "alternates": {},
    }


async def test_orders_arriving_together_count_each_other(client: httpx.AsyncClient) -> None:
    """Orders written in one transaction (the companion groups concurrent intakes) see each other's items: four
    one-burger orders at once, with the grill and the flat-top empty, are two and two."""
    await _routing(client, True, {"grill": ["flat"]})
    orders = await asyncio.gather(*(_order(client, ["grill"], f"T{n}") for n in range(4)))
    assert sorted(o.order_items[0].station for o in orders) == ["flat", "flat", "grill", "grill"]


def _cli(live_server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KDS_DATA_DIR": str(live_server.data_dir)}
    return subprocess.run(
        [sys.executable, "-m", "kds_backend.cli", "load-routing", *args, "--database-url", live_server.database_url],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.slow
async def test_kds_backend_load_routing_turns_it_on_and_off(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        assert (await _order(http, ["grill"], "1")).order_items[0].station == "grill"
        done = _cli(live_server, "set", "--restaurant", "r1", "--on", "--alternates", "grill=flat,plancha")
        assert done.returncode == 0, done.stderr
        assert done.stdout.splitlines() == ["r1: routing by load is on", "grill\tflat, plancha"]
        assert (await _order(http, ["grill"], "2")).order_items[0].station == "flat"  # grill 1, flat 0

        off = _cli(live_server, "set", "--restaurant", "r1", "--off")  # the alternates are kept for next time
        assert off.returncode == 0 and off.stdout.splitlines()[0] == "r1: routing by load is off", off.stderr
        assert (await _order(http, ["grill"], "3")).order_items[0].station == "grill"
    shown = _cli(live_server, "show", "--restaurant", "r1")
    assert shown.stdout.splitlines() == ["r1: routing by load is off", "grill\tflat, plancha"]
    refused = _cli(live_server, "set", "--restaurant", "r1", "--alternates", "grill")
    assert refused.returncode == 2 and "STATION=OTHER" in refused.stderr
    bad = _cli(live_server, "set", "--restaurant", "r1", "--alternates", "grill=Flat Top")
    assert bad.returncode == 2 and "not a station name" in bad.stderr, bad.stderr
