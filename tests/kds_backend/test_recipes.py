"""Recipes (issue 19 item 4) on a real `kds-backend serve` (SQLite and PostgreSQL): an admin sets them over the API
or with `kds-backend recipe`, every device of the restaurant reads them (the API and `/rest/v1/recipes`, what
screens sync), nobody else writes them, and a line that goes is in the deletion log."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import httpx
import pytest

from kds_backend.auth.tokens import issue_anon_key
from tests.conftest import JWT_SECRET, token_for
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow


def _headers(role: str, restaurant: str = "r1") -> dict[str, str]:
    token = token_for(role, restaurant=restaurant, device=f"{restaurant}-{role}-1")
    return {"apikey": issue_anon_key(JWT_SECRET), "Authorization": f"Bearer {token}"}


def _lines(rows: list[dict[str, Any]]) -> set[tuple[str, str, int]]:
    return {(r["item_name"], r["ingredient"], r["quantity"]) for r in rows}


async def test_an_admin_sets_recipes_and_every_screen_of_the_restaurant_reads_them(live_server: LiveServer) -> None:
    admin, kds, other = _headers("admin"), _headers("kds"), _headers("admin", "r2")
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        body = {"ingredients": [{"ingredient": "patty", "quantity": 2}, {"ingredient": "bun"}]}
        r = await http.put("/api/v1/recipes/Double burger", json=body, headers=admin)
        assert r.status_code == 200, r.text
        assert r.json() == {
            "item_name": "Double burger",
            "ingredients": [{"ingredient": "patty", "quantity": 2}, {"ingredient": "bun", "quantity": 1}],
        }
        r = await http.get("/rest/v1/recipes", params={"restaurant_id": "eq.r1"}, headers=kds)
        assert r.status_code == 200, r.text
        assert _lines(r.json()) == {("Double burger", "patty", 2), ("Double burger", "bun", 1)}
        top = max(row["change_seq"] for row in r.json())

        # Another spelling of the same item replaces its recipe: patty changed, bun gone, cheese new.
        body = {"ingredients": [{"ingredient": "Patty", "quantity": 3}, {"ingredient": "cheese", "quantity": 2}]}
        r = await http.put("/api/v1/recipes/double burger", json=body, headers=admin)
        assert r.status_code == 200, r.text
        r = await http.get("/rest/v1/recipes", params={"order": "change_seq.asc"}, headers=kds)
        assert _lines(r.json()) == {("double burger", "Patty", 3), ("double burger", "cheese", 2)}
        gone = await http.get(
            "/rest/v1/deleted_rows", params={"table_name": "eq.recipes", "change_seq": f"gt.{top}"}, headers=kds
        )
        assert gone.status_code == 200, gone.text
        assert len(gone.json()) == 1 and gone.json()[0]["order_id"] is None

        listed = await http.get("/api/v1/recipes", headers=kds)
        assert listed.json() == [
            {
                "item_name": "double burger",
                "ingredients": [{"ingredient": "Patty", "quantity": 3}, {"ingredient": "cheese", "quantity": 2}],
            }
        ]
        # Another restaurant sees none of it.
        assert (await http.get("/rest/v1/recipes", headers=other)).json() == []
        assert (await http.get("/api/v1/recipes", headers=other)).json() == []

        r = await http.delete("/api/v1/recipes/DOUBLE BURGER", headers=admin)
        assert r.status_code == 204, r.text
        assert (await http.get("/rest/v1/recipes", headers=kds)).json() == []
        r = await http.delete("/api/v1/recipes/Double burger", headers=admin)
        assert r.status_code == 404 and "has no recipe" in r.json()["message"]


async def test_only_an_admin_writes_recipes_and_bad_ones_are_refused_in_words(live_server: LiveServer) -> None:
    admin, kds = _headers("admin"), _headers("kds")
    good = {"ingredients": [{"ingredient": "patty", "quantity": 2}]}
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        r = await http.put("/api/v1/recipes/Burger", json=good, headers=kds)
        assert r.status_code == 403, r.text
        for bad in (
            {"ingredients": []},
            {"ingredients": [{"ingredient": "patty", "quantity": 0}]},
            {"ingredients": [{"ingredient": "patty", "quantity": 1.5}]},
            {"ingredients": [{"ingredient": "patty"}, {"ingredient": " PATTY ", "quantity": 2}]},
            {"ingredients": [{"ingredient": "   "}]},
            {"ingredients": [{"ingredient": "pat\u0000ty"}]},
        ):
            r = await http.put("/api/v1/recipes/Burger", json=bad, headers=admin)
            assert r.status_code == 422, (bad, r.text)
        # Screens read recipes over PostgREST, but nobody writes them there: the hint says where.
        r = await http.post(
            "/rest/v1/recipes",
            json={"restaurant_id": "r1", "item_name": "Burger", "ingredient": "patty", "quantity": 1},
            headers=admin,
        )
        assert r.status_code == 403 and "/api/v1/recipes" in r.json()["hint"]
        # Nothing of the refused writes was stored.
        assert (await http.get("/rest/v1/recipes", headers=kds)).json() == []


def _cli(live_server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "KDS_DATA_DIR": str(live_server.data_dir), "KDS_JWT_SECRET": JWT_SECRET}
    return subprocess.run(
        [sys.executable, "-m", "kds_backend.cli", "recipe", *args, "--database-url", live_server.database_url],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )


async def test_kds_backend_recipe_sets_lists_and_removes(live_server: LiveServer) -> None:
    done = _cli(live_server, "set", "--restaurant", "r1", "Double burger", "patty=2", "bun")
    assert done.returncode == 0, done.stderr
    assert "one Double burger takes patty 2, bun 1" in done.stdout
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        r = await http.get("/rest/v1/recipes", headers=_headers("kds"))
    assert _lines(r.json()) == {("Double burger", "patty", 2), ("Double burger", "bun", 1)}

    listed = _cli(live_server, "list", "--restaurant", "r1")
    assert listed.stdout.splitlines() == ["Double burger\tpatty=2, bun=1"]

    for bad, said in (
        (["patty=0"], "'patty=0'"),
        (["patty=two"], "whole number"),
        (["patty=1", "Patty=2"], "named twice"),
    ):
        refused = _cli(live_server, "set", "--restaurant", "r1", "Double burger", *bad)
        assert refused.returncode == 2 and said in refused.stderr, refused.stderr
    assert _cli(live_server, "list", "--restaurant", "r1").stdout == listed.stdout  # nothing changed

    assert _cli(live_server, "remove", "--restaurant", "r1", "double BURGER").returncode == 0
    assert _cli(live_server, "list", "--restaurant", "r1").stdout == ""
    missing = _cli(live_server, "remove", "--restaurant", "r1", "Double burger")
    assert missing.returncode == 2 and "has no recipe" in missing.stderr
