"""A realtime stream that turns unreadable must not pass for a live one (found by the fault harness, seed 100006).

A server that compresses websocket frames (permessage-deflate, one context for the whole connection: the
companion with KDS_WS_COMPRESSION=1, or a proxy in between that negotiates it) breaks this way: if one compressed
frame is repeated, every later frame inflates to garbage. The screen used to drop each as malformed and stay
"live", caught up, missing every order for as long as the heartbeat replies still decoded, up to the minute of
the safety catch-up. Now an unreadable frame starts a catch-up at once, and a run of them reconnects.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.engine.engine import SyncEngine
from tests.conftest import JWT_SECRET
from tests.faults.chaos_proxy import ChaosProxy
from tests.helpers.engine_live import config, pos_orders, shown, until
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

# Well under the default heartbeat (25 s: a dead socket is noticed after two), so only reading the stream counts.
RECOVERY_S = 10.0


@pytest.fixture
def compressing_server(tmp_path: Path, database_url: str) -> Iterator[LiveServer]:
    server = LiveServer(tmp_path, database_url, JWT_SECRET, env={"KDS_WS_COMPRESSION": "1"})
    try:
        server.wait_ready()
        yield server
    finally:
        server.stop()


async def test_orders_after_a_corrupted_stream_still_reach_the_screen(
    compressing_server: LiveServer, tmp_path: Path
) -> None:
    live_server = compressing_server
    proxy = ChaosProxy(int(live_server.url.rsplit(":", 1)[1]), seed=1, strip_compression=False)
    await proxy.start()
    engine = SyncEngine(dataclasses.replace(config(proxy.url, tmp_path, "r1-kds-grill-1"), safety_interval_s=600.0))
    await engine.start()
    try:
        await asyncio.wait_for(engine.caught_up.wait_for(True), RECOVERY_S)
        (first,) = await pos_orders(live_server.url, ["C1"])
        await until(engine, lambda: shown(engine, first) is not None, RECOVERY_S)
        proxy.ws_dup(1.0)  # every compressed frame from here on is sent twice: the stream is corrupt
        (second,) = await pos_orders(live_server.url, ["C2"])
        await until(engine, lambda: proxy.counters.ws_duplicated > 0 or shown(engine, second) is not None)
        proxy.heal()
        later = await pos_orders(live_server.url, ["C3", "C4"])
        await until(engine, lambda: all(shown(engine, o) is not None for o in [second, *later]), RECOVERY_S)
        assert engine.realtime._core.malformed_frames > 0, "the stream was never corrupt: the test proves nothing"
    finally:
        await engine.stop()
        await proxy.stop()
