"""A data path that goes quiet behind a healthy-looking socket is noticed (issue 19, item 7).

The proxy keeps the socket and lets every reply through (Phoenix heartbeats answered, joins, `system`), but drops
every frame that carries data: row changes and the server's heartbeat. Square's screens and ElectricSQL's
clients looked exactly like this. Without the watchdog the order posted meanwhile waits for the safety catch-up
(10 minutes here); with it the screen is marked stale while its connection still says live, catches up and
reconnects, and the order is on the rail within a bound. Both realtime modes carry the heartbeat.
"""

from __future__ import annotations

import asyncio
import dataclasses
from pathlib import Path

import pytest

from api_client.server_heartbeat import HEARTBEAT_EVERY_S
from sync.engine.engine import SyncEngine
from sync.realtime.channels import REALTIME_MODES, RealtimeMode
from sync.realtime.connection import ConnectionState
from tests.faults.chaos_proxy import ChaosProxy
from tests.helpers.engine_live import config, pos_orders, shown, until
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

WATCHDOG_S = 8.0
# The heartbeat that arms it, the watchdog's wait, then a reconnect and a catch-up on loopback (a loaded 2-core VM).
ARMED_S = 3 * HEARTBEAT_EVERY_S
TRIP_S = WATCHDOG_S + 10.0
CAUGHT_UP_S = 10.0


@pytest.mark.parametrize("mode", REALTIME_MODES)
async def test_an_order_behind_a_stuck_data_path_shows_up_after_the_watchdog_fires(
    live_server: LiveServer, tmp_path: Path, mode: RealtimeMode
) -> None:
    proxy = ChaosProxy(int(live_server.url.rsplit(":", 1)[1]), seed=1)
    await proxy.start()
    engine = SyncEngine(dataclasses.replace(
        config(proxy.url, tmp_path, "r1-kds-grill-1"), safety_interval_s=600.0, watchdog_s=WATCHDOG_S, realtime=mode
    ))
    seen: list[tuple[ConnectionState, bool]] = []
    await engine.start()
    try:
        await asyncio.wait_for(engine.caught_up.wait_for(True), CAUGHT_UP_S)
        await asyncio.wait_for(engine.realtime.heartbeats.wait_for(lambda n: n > 0), ARMED_S)
        proxy.drop_data()
        (order,) = await pos_orders(live_server.url, ["S1"])
        opened = engine.realtime.connections_opened
        engine.stale_since.subscribe(
            lambda since: seen.append((engine.connection_state.value, shown(engine, order) is not None))
            if since is not None else None
        )
        await asyncio.wait_for(engine.stale_since.wait_for(lambda v: v is not None), TRIP_S)
        # Noticed while the socket still looked fine, and before the order could have come any other way.
        assert seen[0] == (ConnectionState.LIVE, False)
        assert proxy.counters.data_dropped > 0  # the order's frames (and heartbeats) never reached the screen
        silent = engine.realtime.silent_for()
        assert silent is not None and silent >= WATCHDOG_S
        await until(engine, lambda: shown(engine, order) is not None, CAUGHT_UP_S)
        # And it reconnects: the catch-up can finish before the new socket opens (a loaded machine), so awaited.
        async with asyncio.timeout(TRIP_S):
            while engine.realtime.connections_opened <= opened:  # noqa: ASYNC110 (a count with no event of its own)
                await asyncio.sleep(0.05)
        proxy.heal()  # the data path works again: the next connection's heartbeat ends the alarm
        await asyncio.wait_for(engine.stale_since.wait_for(None), TRIP_S + ARMED_S)
    finally:
        await engine.stop()
        await proxy.stop()
