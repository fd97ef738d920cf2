"""A server that goes silent (no closed socket: a pulled cable, a dead switch) still brings up the offline
banner, the cook keeps bumping, and the bump syncs once the network is back."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from api_client.models import DeviceRole
from kds_app.media.sound import AlertSound
from kds_app.startup.config import AppConfig
from kds_app.startup.connect import Connection
from kds_app.windows.app import Session
from sync.realtime.connection import ConnectionState
from tests.helpers.app_screens import item_statuses, on_screen, pos_order, server_order, tap_action
from tests.kds_app.conftest import engine_config, until
from tests.live_server import LiveServer
from tests.tcp_proxy import TcpProxy

pytestmark = pytest.mark.slow

# Nominally 2 * HEARTBEAT_S + OFFLINE_AFTER_S = 4.5 s; the slack is for a loaded CI machine. The default
# Supabase heartbeat (25 s) would take close to a minute and fail here.
SILENT_LOSS_TIMEOUT_S = 12.0


@pytest.fixture
async def proxy(companion: LiveServer) -> AsyncIterator[TcpProxy]:
    made = TcpProxy("127.0.0.1", companion.port)
    await made.start()
    try:
        yield made
    finally:
        await made.stop()


async def test_a_silent_network_loss_shows_the_banner_and_the_offline_bump_syncs_after(
    companion: LiveServer, proxy: TcpProxy, tmp_path: Path
) -> None:
    config = AppConfig(view="station", stations=("grill",))
    connection = Connection(engine_config(proxy.url, tmp_path, "r1-kds-grill-1", DeviceRole.kds, ("grill",)))
    session = Session.create(config, connection, sound=AlertSound(False))
    await session.start(fullscreen=False)
    session.window.resize(1600, 900)
    try:
        async with asyncio.timeout(20):
            await session.engine.caught_up.wait_for(True)
        made = await pos_order(companion.url, "301", [("Burger", "grill")])
        await until(session.engine, lambda: on_screen(session, made))
        assert not session.window.offline_banner.isVisible()

        proxy.blackhole()
        async with asyncio.timeout(SILENT_LOSS_TIMEOUT_S):
            await session.engine.connection_state.wait_for(ConnectionState.OFFLINE)
        assert session.window.offline_banner.isVisible()
        await tap_action(session, made)
        await tap_action(session, made)
        assert not on_screen(session, made)  # bumped here and now, whatever the network does
        assert "1 change waiting to sync" in session.window.offline_banner.text()

        proxy.restore()
        async with asyncio.timeout(30):
            await session.engine.connection_state.wait_for(ConnectionState.LIVE)
            await session.engine.queue_depth.wait_for(0)
        assert not session.window.offline_banner.isVisible()
        assert item_statuses(await server_order(companion.url, made)) == {"Burger": "done"}
    finally:
        await session.stop()
