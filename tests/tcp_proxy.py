"""A loopback TCP proxy that can go silent: what a pulled cable or a dead switch looks like to a client.

`blackhole()` stops moving bytes in both directions on every connection, old and new, without closing
anything (no FIN, no RST), so the client only finds out by its own timeouts. `restore()` makes new
connections work again; the silenced ones stay dead, as they would after a real outage.
"""

from __future__ import annotations

import asyncio
import contextlib


class TcpProxy:
    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.silent = False
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._writers: list[asyncio.StreamWriter] = []
        self._dead: set[asyncio.StreamWriter] = set()  # connections silenced by a blackhole, for good

    @property
    def url(self) -> str:
        assert self._server is not None, "start() first"
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)

    def blackhole(self) -> None:
        self.silent = True
        self._dead.update(self._writers)

    def restore(self) -> None:
        self.silent = False

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
        self._writers.append(client_writer)
        if self.silent:
            self._dead.add(client_writer)  # accepted, then never a byte: a connect that hangs halfway
            return
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_writer.close()
            return
        self._writers.append(upstream_writer)
        for source, sink in ((client_reader, upstream_writer), (upstream_reader, client_writer)):
            task = asyncio.create_task(self._pump(source, sink, client_writer))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _pump(self, source: asyncio.StreamReader, sink: asyncio.StreamWriter, client: asyncio.StreamWriter
                    ) -> None:
        try:
            while data := await source.read(65536):
                if client in self._dead:
                    continue  # swallowed: the far side never hears of it, and nobody is told
                sink.write(data)
                await sink.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            if client not in self._dead:
                sink.close()
