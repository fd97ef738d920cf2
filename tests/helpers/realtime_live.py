"""A raw websocket to `kds-backend serve`'s realtime endpoint: its URL and JSON frames read with a deadline."""

from __future__ import annotations

import asyncio
import json

import websockets

from tests.kds_backend.realtime.support import TIMEOUT_S
from tests.live_server import LiveServer


def ws_url(server: LiveServer, token: str, vsn: str = "1.0.0") -> str:
    return f"{server.url.replace('http', 'ws')}/realtime/v1/websocket?apikey={token}&vsn={vsn}"


async def recv_json(ws: websockets.ClientConnection) -> dict:
    return json.loads(await asyncio.wait_for(ws.recv(), TIMEOUT_S))
