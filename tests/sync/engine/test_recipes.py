"""Recipes reach a screen's local store through the engine (issue 19 item 4): read at the first catch-up, replaced
live when an admin changes one (a realtime push, both realtime modes), and still there with the server away
(the store keeps them, a screen started offline has them)."""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path
from typing import Any

import httpx
import pytest

from sync.engine.engine import SyncEngine
from sync.engine.recipes import load_recipes
from sync.realtime.channels import RealtimeMode
from sync.realtime.connection import ConnectionState
from sync.store import LocalStore
from tests.conftest import token_for
from tests.helpers.engine_live import APIKEY, TIMEOUT_S, config
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow


async def _put(url: str, item: str, lines: list[dict[str, Any]]) -> None:
    headers = {"apikey": APIKEY, "Authorization": f"Bearer {token_for('admin', device='r1-admin-1')}"}
    async with httpx.AsyncClient(base_url=url) as http:
        r = await http.put(f"/api/v1/recipes/{item}", json={"ingredients": lines}, headers=headers)
    assert r.status_code == 200, r.text


def _stored(path: Path) -> dict[str, tuple[tuple[str, int], ...]]:
    store = LocalStore(path, device_id=None)  # the screen's own file, read beside it
    try:
        with store.snapshot() as conn:
            return load_recipes(conn)
    finally:
        store.close()


@pytest.mark.parametrize("mode", ["postgres_changes", "broadcast"])
async def test_recipes_reach_the_store_update_live_and_hold_offline(
    live_server: LiveServer, tmp_path: Path, mode: RealtimeMode
) -> None:
    await _put(live_server.url, "Double burger", [{"ingredient": "patty", "quantity": 2}, {"ingredient": "bun"}])
    cfg = dataclasses.replace(
        config(live_server.url, tmp_path, "r1-kds-grill-1"), realtime=mode, safety_interval_s=3600
    )
    engine = SyncEngine(cfg)
    await engine.start()
    try:
        first = {"double burger": (("patty", 2), ("bun", 1))}
        async with asyncio.timeout(TIMEOUT_S):
            await engine.recipes.wait_for(first)  # read with the first catch-up
        assert _stored(cfg.data_path) == first

        # Changed while the screen is live: a push, not the hourly safety read, brings it.
        await _put(live_server.url, "double burger", [{"ingredient": "patty", "quantity": 3}])
        await _put(live_server.url, "Fries", [{"ingredient": "fries portion", "quantity": 1}])
        changed = {"double burger": (("patty", 3),), "fries": (("fries portion", 1),)}
        async with asyncio.timeout(TIMEOUT_S):
            await engine.recipes.wait_for(changed)
        assert _stored(cfg.data_path) == changed

        live_server.kill()
        async with asyncio.timeout(TIMEOUT_S):
            await engine.connection_state.wait_for(lambda s: s is not ConnectionState.LIVE)
        assert engine.recipes.value == changed  # the server is away: nothing is forgotten
    finally:
        await engine.stop()

    # A screen started while the server is still away counts from its store.
    again = SyncEngine(cfg)
    try:
        assert again.recipes.value == changed
    finally:
        again.store.close()
