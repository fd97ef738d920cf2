"""uvicorn's websocket protocol with one addition: an ASGI extension that aborts the connection.

ASGI can only ask for a close, and a close cannot reach a peer that stopped reading: uvicorn waits for its write
buffer to drain before it writes the close frame, and `transport.close()` waits for the buffer to flush. So a
subscriber that never reads kept its TCP connection and everything buffered for it for as long as its machine
kept acknowledging (issue 17, item 3). Realtime calls `scope["extensions"][ABORT_EXTENSION]["abort"]()` once a
close has not gone through in time; the connection is reset and what was buffered for it is freed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

ABORT_EXTENSION = "kds.websocket.abort"


class AbortableWebSocketProtocol(WebSocketsSansIOProtocol):
    """`ws=` for uvicorn: its sans-I/O websockets protocol, plus `ABORT_EXTENSION` in each connection's scope."""

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # absent when the handshake was refused
        if scope is not None:
            scope["extensions"][ABORT_EXTENSION] = {"abort": self.transport.abort}


def abort_of(scope: Mapping[str, Any]) -> Callable[[], None] | None:
    """The connection's abort, or None under a server without the extension (then a close is all there is)."""
    extension = (scope.get("extensions") or {}).get(ABORT_EXTENSION)
    return None if extension is None else extension.get("abort")
