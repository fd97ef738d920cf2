"""A screen whose socket looks fine but hears nothing says so (issue 19, item 7), in the page bar's strip where
the offline and sign-in lines go, so no card moves; the order posted meanwhile shows up, and the line goes once
the server's heartbeat is heard again."""

from __future__ import annotations

import asyncio
import dataclasses
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from api_client.models import DeviceRole
from api_client.server_heartbeat import HEARTBEAT_EVERY_S
from kds_app.media.sound import AlertSound
from kds_app.startup.config import AppConfig
from kds_app.startup.connect import Connection
from kds_app.windows.app import Session
from sync.realtime.connection import ConnectionState
from tests.faults.chaos_proxy import ChaosProxy
from tests.helpers.app_screens import on_screen, pos_order
from tests.kds_app.conftest import engine_config, until
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

WATCHDOG_S = 8.0


@pytest.fixture
async def proxy(companion: LiveServer) -> AsyncIterator[ChaosProxy]:
    made = ChaosProxy(companion.port, seed=1)
    await made.start()
    try:
        yield made
    finally:
        await made.stop()


async def test_a_stuck_data_path_shows_in_the_banner_and_the_order_still_comes(
    companion: LiveServer, proxy: ChaosProxy, tmp_path: Path
) -> None:
    config = AppConfig(view="station", stations=("grill",))
    engine = dataclasses.replace(
        engine_config(proxy.url, tmp_path, "r1-kds-grill-1", DeviceRole.kds, ("grill",)),
        watchdog_s=WATCHDOG_S, safety_interval_s=600.0,
    )
    session = Session.create(config, Connection(engine), sound=AlertSound(False))
    await session.start(fullscreen=False)
    session.window.resize(1600, 900)
    window = session.window
    try:
        async with asyncio.timeout(20):
            await session.engine.caught_up.wait_for(True)
            await session.engine.realtime.heartbeats.wait_for(lambda n: n > 0)
        first = await pos_order(companion.url, "401", [("Burger", "grill")])
        await until(session.engine, lambda: on_screen(session, first))
        assert not window.offline_banner.isVisible()
        grid_before = window.grid.geometry()

        proxy.drop_data()  # the socket stays, replies pass, no change nor heartbeat reaches the screen
        second = await pos_order(companion.url, "402", [("Burger", "grill")])
        async with asyncio.timeout(WATCHDOG_S + 3 * HEARTBEAT_EVERY_S):
            await session.engine.stale_since.wait_for(lambda v: v is not None)
        assert session.engine.connection_state.value is not ConnectionState.OFFLINE
        assert window.offline_banner.isVisible()
        text = window.offline_banner.text()
        match = re.fullmatch(r"No new orders heard for (\d+) s — reconnecting", text)
        assert match and int(match.group(1)) >= WATCHDOG_S, text
        assert window.grid.geometry() == grid_before  # the strip took the prep figures' place: no card moved
        await until(session.engine, lambda: on_screen(session, second), 15)

        proxy.heal()
        async with asyncio.timeout(30):
            await session.engine.stale_since.wait_for(None)
        window.update_status()
        assert not window.offline_banner.isVisible()
    finally:
        await session.stop()
