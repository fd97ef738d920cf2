"""Deleted orders leave every screen, however the screen learned of the delete (issue 13, defect 1).

A screen that was off, or cut off, while an admin deleted an order must drop it at its next catch-up (the
server's deletion log), and a late or replayed copy of the deleted row must never bring it back, even after
the screen restarts (tombstones are kept in the screen's SQLite file, not in memory).
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx
import pytest

from api_client.errors import ApiError
from sync.engine.engine import SyncEngine
from sync.readpath.merge import Upsert, flatten
from sync.store import LocalStore, read_rows, server_rows
from tests.helpers.engine_live import TIMEOUT_S, config, pos_orders, running, shown, until
from tests.kds_backend.realtime.support import delete_order
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow


async def test_an_order_deleted_while_the_screen_was_off_leaves_it_at_restart(
    live_server: LiveServer, tmp_path: Path
) -> None:
    device = "r1-kds-grill-1"
    async with running(live_server.url, tmp_path, device) as engine:
        await asyncio.wait_for(engine.caught_up.wait_for(True), TIMEOUT_S)
        kept, doomed = await pos_orders(live_server.url, ["D1", "D2"])
        await until(engine, lambda: shown(engine, kept) is not None and shown(engine, doomed) is not None)
        with engine.store.snapshot() as conn:
            stale = server_rows.load_order(conn, doomed)
    assert stale is not None
    # The screen is off: the admin deletes the order; its realtime DELETE goes to nobody.
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        await delete_order(http, "r1", str(doomed))
    async with running(live_server.url, tmp_path, device) as engine:
        await until(engine, lambda: shown(engine, doomed) is None)
        await asyncio.wait_for(engine.caught_up.wait_for(True), TIMEOUT_S)
        assert shown(engine, kept) is not None
    # A replayed push (or a late RPC answer) carrying the deleted row, written after a restart: buried.
    with LocalStore(tmp_path / f"{device}.db", device_id=device) as store:
        with store.transaction() as conn:
            assert read_rows.apply_changes(conn, [Upsert(r) for r in flatten([stale])]) == set()
        with store.snapshot() as conn:
            assert server_rows.load_order(conn, doomed) is None


async def test_a_server_without_the_deletion_log_still_serves_the_screen(
    live_server: LiveServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A Supabase project that has not applied the deletion-log migration answers 404 for `deleted_rows`: the
    screen keeps catching up and showing orders (it would otherwise retry that page for ever, buffering every
    push), and says which migration to apply."""
    engine = SyncEngine(config(live_server.url, tmp_path, "r1-kds-grill-1"))
    select = engine.api.select

    async def without_log(table: str, params: dict[str, object] | None = None) -> list[dict[str, object]]:
        if table == "deleted_rows":
            raise ApiError(404, "PGRST205", "Could not find the table 'public.deleted_rows' in the schema cache")
        return await select(table, params)

    engine.api.select = without_log  # type: ignore[method-assign]
    async with engine:
        await asyncio.wait_for(engine.caught_up.wait_for(True), TIMEOUT_S)
        (made,) = await pos_orders(live_server.url, ["N1"])
        await until(engine, lambda: shown(engine, made) is not None)
    assert "apply supabase/migrations/20261123000000_deleted_rows.sql" in caplog.text
