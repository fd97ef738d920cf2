"""uvicorn's websocket protocol with one addition: an ASGI extension that aborts the connection.

ASGI can only ask for a close, and a close cannot reach a peer that stopped reading: uvicorn waits for its write
buffer to drain before it writes the close frame, and `transport.close()` waits for the buffer to flush. So a
subscriber that never reads kept its TCP connection and everything buffered for it for as long as its machine
kept acknowledging (issue 17, item 3). Realtime calls `scope["extensions"][ABORT_EXTENSION]["abort"]()` once a
close has not gone through in time; the connection is reset and what was buffered for it is freed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from typing import Any

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.http11 import Request

ABORT_EXTENSION = "kds.websocket.abort"
CLOSE_INVALID_DATA = 1007

log = logging.getLogger(__name__)


class AbortableWebSocketProtocol(WebSocketsSansIOProtocol):
    """`ws=` for uvicorn: its sans-I/O websockets protocol, plus `ABORT_EXTENSION` in each connection's scope."""

    def handle_connect(self, event: Request) -> None:
        super().handle_connect(event)
        scope = getattr(self, "scope", None)  # absent when the handshake was refused
        if scope is not None:
            scope["extensions"][ABORT_EXTENSION] = {"abort": self.transport.abort}

    def send_receive_event_to_app(self) -> None:
        # uvicorn logs a whole traceback at ERROR for every text frame that is not UTF-8, so any client could fill
        # the server's log by opening sockets and sending one each (found by tests/kds_backend/hostile/
        # test_fuzz_websocket.py). Refused here the same way (close 1007), with one line.
        if self.curr_msg_data_type == "text" and not self.close_sent:
            try:
                b"".join(self.frames).decode()
            except UnicodeDecodeError:
                self.frames = []
                log.info("websocket: a text frame that is not UTF-8 from %s; closed (1007)", self.client)
                self.conn.send_close(CLOSE_INVALID_DATA)
                self.handle_parser_exception()
                return
        super().send_receive_event_to_app()


def abort_of(scope: Mapping[str, Any]) -> Callable[[], None] | None:
    """The connection's abort, or None under a server without the extension (then a close is all there is)."""
    extension = (scope.get("extensions") or {}).get(ABORT_EXTENSION)
    return None if extension is None else extension.get("abort")
