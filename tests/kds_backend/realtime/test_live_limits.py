"""Realtime resource limits on a real `kds-backend serve` over loopback websockets (issue 17, items 2 and 3).

Each refusal must be what a Supabase client understands (a Phoenix error reply, or the handshake's HTTP error
with `{"error": ...}`), and must leave every other socket, device and restaurant served. Waits are for events
with timeouts, never for a fixed time.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
import websockets

from tests.conftest import JWT_SECRET, token_for
from tests.kds_backend.realtime.test_live_robustness import recv_json, ws_url
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path, f"sqlite:///{tmp_path / 'companion.db'}", JWT_SECRET)
    try:
        live.wait_ready()
        yield live
    finally:
        live.stop()


def join(topic: str, bindings: list[dict], ref: str) -> str:
    payload = {"config": {"postgres_changes": bindings}}
    return json.dumps({"topic": topic, "event": "phx_join", "payload": payload, "ref": ref, "join_ref": ref})


async def test_a_join_with_too_many_filters_is_refused_and_the_socket_goes_on(server: LiveServer) -> None:
    heavy = "notes=in.(" + ",".join(f'"{"v" * 15}{n}"' for n in range(100)) + ")"
    bindings = [{"event": "*", "schema": "public", "table": "order_items", "filter": heavy[:1990]}] * 100
    async with websockets.connect(ws_url(server, token_for("kds")), max_size=None) as ws:
        await ws.send(join("realtime:heavy", bindings, "1"))
        reply = await recv_json(ws)
        assert reply["event"] == "phx_reply" and reply["ref"] == "1"
        assert reply["payload"]["status"] == "error"
        assert reply["payload"]["response"]["reason"].startswith(
            "InvalidJoinPayload: too many filters: at most 200 filter terms"
        )
        await ws.send(join("realtime:light", [{"event": "*", "table": "orders", "filter": "status=eq.new"}], "2"))
        assert (await recv_json(ws))["payload"]["status"] == "ok"
