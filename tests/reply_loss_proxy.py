"""A loopback HTTP proxy that loses the reply to a chosen request *after the server acted on it*.

What a Wi-Fi blip at the wrong second looks like to a client: the request reached the server, the server did
the work and committed it, and the answer never arrived (the connection dies without a byte of it). Every
other byte, websockets included, passes through unchanged.

    proxy = ReplyLossProxy("127.0.0.1", server_port, lose=lambda line: b"grant_type=refresh_token" in line)
    await proxy.start()   # point the client at proxy.url

`lose(request_line)` decides per request (called with e.g. `b"POST /auth/v1/token?grant_type=refresh_token
HTTP/1.1"`); the whole reply the server sent is kept in `lost_replies` (for the test to compare with what the
client got later), `on_lost(reply)` runs when it is dropped, and `requests` lists every request line seen.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import Callable

_REQUEST_LINE = re.compile(rb"(GET|POST|PUT|PATCH|DELETE|HEAD|OPTIONS) \S+ HTTP/1\.[01]")
_CONTENT_LENGTH = re.compile(rb"\r\ncontent-length:\s*(\d+)", re.IGNORECASE)


class ReplyLossProxy:
    def __init__(
        self,
        upstream_host: str,
        upstream_port: int,
        *,
        lose: Callable[[bytes], bool] = lambda _line: False,
        on_lost: Callable[[bytes], object] = lambda _reply: None,
    ) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.lose = lose
        self.on_lost = on_lost
        self.requests: list[bytes] = []
        self.lost_replies: list[bytes] = []
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        return f"http://127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    def seen(self, fragment: bytes) -> int:
        """How many requests so far had `fragment` in their request line."""
        return sum(fragment in line for line in self.requests)

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in self._writers:
            writer.close()
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, OSError):
                await task
        if self._server is not None:
            await self._server.wait_closed()

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        self._writers += [client_writer, upstream_writer]
        doomed = asyncio.Event()  # set when a request whose reply must be lost went upstream on this connection
        pumps = (
            self._requests(client_reader, upstream_writer, doomed),
            self._replies(upstream_reader, client_writer, upstream_writer, doomed),
        )
        for pump in pumps:
            task = asyncio.create_task(pump)
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _requests(
        self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, doomed: asyncio.Event
    ) -> None:
        try:
            while data := await source.read(65536):
                line = _REQUEST_LINE.match(data)
                if line is not None:
                    self.requests.append(line.group(0))
                    if self.lose(line.group(0)):
                        doomed.set()
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            sink.close()

    async def _replies(
        self,
        source: asyncio.StreamReader,
        client: asyncio.StreamWriter,
        upstream: asyncio.StreamWriter,
        doomed: asyncio.Event,
    ) -> None:
        held = b""
        try:
            while data := await source.read(65536):
                if not doomed.is_set():
                    client.write(data)
                    await client.drain()
                    continue
                held += data  # the server answered: it acted. Keep the whole reply, send the client nothing.
                head, blank, body = held.partition(b"\r\n\r\n")
                length = _CONTENT_LENGTH.search(head)
                if blank and length is not None and len(body) >= int(length.group(1)):
                    self.lost_replies.append(held)
                    self.on_lost(held)
                    break  # then the connection dies, as it does when the Wi-Fi drops
        except (ConnectionError, OSError):
            pass
        finally:
            client.close()
            upstream.close()
