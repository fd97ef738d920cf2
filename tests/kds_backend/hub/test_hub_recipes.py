"""Recipes through a kitchen hub (issue 19 item 4): set upstream, they reach a LAN screen through the hub, follow
upstream's changes, stay on the LAN while the hub's internet link is cut, and the hub refuses to set its own."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import httpx
import pytest

from api_client.models import DeviceRole
from tests.conftest import auth_headers, token_for

from .tiers import HUB_KEY, TIMEOUT_S, UPSTREAM_KEY, hub_token, screen, three_tiers

pytestmark = pytest.mark.slow


async def _put(url: str, headers: dict[str, str], item: str, lines: list[dict[str, Any]]) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url) as http:
        return await http.put(f"/api/v1/recipes/{item}", json={"ingredients": lines}, headers=headers)


async def test_upstream_recipes_reach_a_lan_screen_through_the_hub(tmp_path: Path) -> None:
    upstream_admin = auth_headers(token_for("admin", device="r1-admin-1"), apikey=UPSTREAM_KEY)
    async with three_tiers(tmp_path) as tiers:
        r = await _put(tiers.upstream.url, upstream_admin, "Double burger", [{"ingredient": "patty", "quantity": 2}])
        assert r.status_code == 200, r.text
        async with screen(tiers.hub.url, tmp_path, "r1-kds-grill-1") as grill:
            async with asyncio.timeout(TIMEOUT_S):
                await grill.recipes.wait_for({"double burger": (("patty", 2),)})

            r = await _put(tiers.upstream.url, upstream_admin, "Double burger",
                           [{"ingredient": "patty", "quantity": 2}, {"ingredient": "bun", "quantity": 1}])
            assert r.status_code == 200, r.text
            async with asyncio.timeout(TIMEOUT_S):
                await grill.recipes.wait_for(lambda book: sorted(book.get("double burger", ())) == [
                    ("bun", 1), ("patty", 2)])

            # Upstream is where recipes are set: the hub says so rather than keep one upstream would undo.
            hub_admin = auth_headers(hub_token(DeviceRole.admin), apikey=HUB_KEY)
            r = await _put(tiers.hub.url, hub_admin, "Fries", [{"ingredient": "fries"}])
            assert r.status_code == 409 and "kitchen hub" in r.json()["message"], r.text

            tiers.link.blackhole()  # the hub's internet is down: the LAN keeps its recipes
            async with asyncio.timeout(TIMEOUT_S):
                await grill.hub_upstream.wait_for(lambda link: link is not None and not link.up)
            assert sorted(grill.recipes.value["double burger"]) == [("bun", 1), ("patty", 2)]
