"""A loopback proxy in front of the companion, one per screen, that misbehaves on command.

Built beside `tests/tcp_proxy.py` (same blackhole semantics), plus:

* `cut()`: close every open connection now (the client sees a reset/EOF); new connections work.
* `blackhole()` / `heal()`: silence every connection, old and new, without closing anything (a pulled cable);
  after `heal()` new connections work and the silenced ones stay dead, as after a real outage.
* `delay(s)`: every chunk in both directions waits `s` seconds (order kept).
* `ws_dup(p)` / `ws_reorder(p)`: after an HTTP `101 Switching Protocols`, server→client bytes are parsed as
  RFC 6455 frames (unmasked from a server); a complete data frame (FIN set, text or binary) is sent twice with
  probability p, or held back and sent after the next such frame with probability p. Frames are forwarded
  whole, so the byte stream is never corrupted; control frames and fragments pass untouched and in order.
* `drop_data()`: server→client websocket frames that carry data (Phoenix `postgres_changes` and `broadcast`
  events: row changes and the server's heartbeat) are swallowed on every connection, old and new; replies
  (`phx_reply`, heartbeats answered), `system` and presence frames and every control frame pass. The socket looks
  perfectly healthy while nothing new arrives: the stuck data path the staleness watchdog is for.
* `lose_reply(n)`: the next n answers to `POST /rest/v1/rpc/apply_intents` are swallowed after the server
  produced them (so it committed) and the connection is closed: the reply the client never gets.
  `lose_reply(n, WRITES)` does the same to PostgREST writes (`POST`/`PATCH /rest/v1/orders|order_items`: what a
  hub forwards for a POS on its LAN).

Randomness comes from a seeded `random.Random`, so the misbehaviour is part of the schedule.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import re
import struct
from dataclasses import dataclass, field

APPLY_INTENTS = b"POST /rest/v1/rpc/apply_intents"
WRITES = (
    b"POST /rest/v1/orders",
    b"POST /rest/v1/order_items",
    b"PATCH /rest/v1/orders",
    b"PATCH /rest/v1/order_items",
)
_EXTENSIONS = re.compile(rb"(?im)^sec-websocket-extensions:[^\r\n]*\r\n")


@dataclass
class Counters:
    connections: int = 0
    cut: int = 0
    ws_frames: int = 0
    ws_duplicated: int = 0
    ws_reordered: int = 0
    ws_late: int = 0
    replies_lost: int = 0
    blackholed: int = 0
    data_dropped: int = 0


@dataclass(eq=False)
class _Conn:
    client: asyncio.StreamWriter
    upstream: asyncio.StreamWriter | None = None
    dead: bool = False  # silenced by a blackhole, for good
    websocket: bool = False
    lose_next_reply: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def abort(self) -> None:
        for writer in (self.client, self.upstream):
            if writer is not None:
                with contextlib.suppress(Exception):
                    writer.transport.abort()


class ChaosProxy:
    def __init__(self, upstream_port: int, seed: int, *, strip_compression: bool = True) -> None:
        self.upstream_port = upstream_port
        # permessage-deflate keeps one compression context across frames: a duplicated or reordered compressed
        # frame is not a repeated message but a corrupt stream (a fault no TCP network makes). So the proxy
        # takes the offer out of the upgrade request, and ws_dup/ws_reorder mean what they say.
        self.strip_compression = strip_compression
        self.rng = random.Random(seed)
        self.silent = False
        self.delay_s = 0.0
        self.dup_p = 0.0
        self.reorder_p = 0.0
        self.replies_to_lose = 0
        self.dropping_data = False
        self.late_table: bytes | None = None
        self.late_s = 0.0
        self.late_every = 1
        self._late_seen = 0
        self.strip_key: bytes | None = None
        self.lose_requests: tuple[bytes, ...] = (APPLY_INTENTS,)
        self.counters = Counters()
        self._server: asyncio.Server | None = None
        self._conns: set[_Conn] = set()

    @property
    def port(self) -> int:
        assert self._server is not None
        return self._server.sockets[0].getsockname()[1]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self, port: int = 0) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", port)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for conn in list(self._conns):
            conn.abort()
            for task in conn.tasks:
                task.cancel()
        for conn in list(self._conns):
            for task in conn.tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task
        if self._server is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._server.wait_closed(), 5)

    # ------------------------------------------------------------ faults

    def cut(self) -> None:
        self.counters.cut += len(self._conns)
        for conn in list(self._conns):
            conn.abort()

    def blackhole(self) -> None:
        self.silent = True
        self.counters.blackholed += 1
        for conn in self._conns:
            conn.dead = True

    def delay(self, seconds: float) -> None:
        self.delay_s = seconds

    def ws_dup(self, p: float) -> None:
        self.dup_p = p

    def ws_reorder(self, p: float) -> None:
        self.reorder_p = p

    def ws_late(self, table: str, seconds: float, every: int = 1) -> None:
        """Every `every`-th data frame of `table` reaches the client `seconds` late while the others pass on time: a
        server preempted between writing two frames of one commit (an order's and its items', or two items')."""
        self.late_table, self.late_s, self.late_every, self._late_seen = table.encode(), seconds, every, 0

    def ws_strip(self, key: str) -> None:
        """Take an integer-valued `key` out of every server text frame: a server without that column."""
        self.strip_key = key.encode()

    def drop_data(self) -> None:
        self.dropping_data = True

    def lose_reply(self, n: int = 1, requests: tuple[bytes, ...] = (APPLY_INTENTS,)) -> None:
        """Swallow the answers to the next `n` requests starting with one of `requests`."""
        self.replies_to_lose += n
        self.lose_requests = requests

    def heal(self) -> None:
        """Everything back to normal for new traffic; blackholed connections stay dead (the client must notice)."""
        self.silent = False
        self.delay_s = 0.0
        self.dup_p = self.reorder_p = 0.0
        self.replies_to_lose = 0
        self.dropping_data = False
        self.late_table = None
        self.strip_key = None

    # ------------------------------------------------------------ plumbing

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        conn = _Conn(writer)
        self._conns.add(conn)
        self.counters.connections += 1
        if self.silent:
            conn.dead = True  # accepted, then never a byte: a connect that hangs halfway
            with contextlib.suppress(Exception):
                await reader.read()  # until the client gives up
            self._conns.discard(conn)
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.upstream_port)
        except OSError:
            self._conns.discard(conn)
            writer.transport.abort()
            return
        conn.upstream = up_writer
        conn.tasks = [
            asyncio.create_task(self._client_to_server(conn, reader, up_writer)),
            asyncio.create_task(self._server_to_client(conn, up_reader, writer)),
        ]
        try:
            await asyncio.gather(*conn.tasks, return_exceptions=True)
        finally:
            # Both pumps have ended, so the connection is over even if it was silenced: close its sockets (a
            # blackholed one left open here was never closed at all, and its ResourceWarning failed a test).
            self._conns.discard(conn)
            conn.abort()

    async def _send(self, conn: _Conn, sink: asyncio.StreamWriter, data: bytes) -> None:
        if self.delay_s:
            await asyncio.sleep(self.delay_s)
        if conn.dead:
            return  # swallowed: the far side never hears of it, and nobody is told
        sink.write(data)
        await sink.drain()

    async def _client_to_server(self, conn: _Conn, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            while data := await source.read(65536):
                if not conn.websocket and self.replies_to_lose > 0 and any(r in data for r in self.lose_requests):
                    self.replies_to_lose -= 1
                    conn.lose_next_reply = True
                if not conn.websocket and self.strip_compression and data.startswith(b"GET "):
                    data = _EXTENSIONS.sub(b"", data)
                await self._send(conn, sink, data)
        except (ConnectionError, OSError):
            pass
        finally:
            if not conn.dead:
                conn.abort()

    async def _server_to_client(self, conn: _Conn, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        try:
            first = True
            while not conn.websocket:
                data = await source.read(65536)
                if not data:
                    return
                if conn.lose_next_reply:
                    # The server answered (so it committed); the client never gets it.
                    self.counters.replies_lost += 1
                    conn.abort()
                    return
                if first and data.startswith(b"HTTP/1.1 101"):
                    while b"\r\n\r\n" not in data:
                        more = await source.read(65536)
                        if not more:
                            return
                        data += more
                    end = data.index(b"\r\n\r\n") + 4
                    conn.websocket = True
                    await self._send(conn, sink, data[:end])
                    source = _Prepended(data[end:], source)  # type: ignore[assignment]
                    break
                first = False
                await self._send(conn, sink, data)
            await self._frames(conn, source, sink)
        except (ConnectionError, OSError, asyncio.IncompleteReadError):
            pass
        finally:
            if not conn.dead:
                conn.abort()

    async def _frames(self, conn: _Conn, source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
        held: bytes | None = None
        while True:
            try:
                frame = await read_frame(source)
            except asyncio.IncompleteReadError:
                if held is not None:
                    await self._send(conn, sink, held)
                return
            self.counters.ws_frames += 1
            if self.strip_key is not None:
                frame = _without_key(frame, self.strip_key)
            first = frame[0]
            whole_data = first & 0x80 and (first & 0x0F) in (1, 2)
            if not whole_data:
                if held is not None:  # never let a data frame jump a control frame or a fragment for long
                    await self._send(conn, sink, held)
                    held = None
                await self._send(conn, sink, frame)
                continue
            if self.late_table is not None and _of_table(frame, self.late_table) and self._late_turn():
                self.counters.ws_late += 1
                conn.tasks.append(asyncio.create_task(self._send_late(conn, sink, frame, self.late_s)))
                continue
            if self.dropping_data and _carries_data(frame):
                self.counters.data_dropped += 1
                continue
            if held is not None:
                self.counters.ws_reordered += 1
                await self._send(conn, sink, frame)
                await self._send(conn, sink, held)
                held = None
                continue
            if self.reorder_p and self.rng.random() < self.reorder_p:
                held = frame
                continue
            await self._send(conn, sink, frame)
            if self.dup_p and self.rng.random() < self.dup_p:
                self.counters.ws_duplicated += 1
                await self._send(conn, sink, frame)

    def _late_turn(self) -> bool:
        self._late_seen += 1
        return self._late_seen % self.late_every == 0

    async def _send_late(self, conn: _Conn, sink: asyncio.StreamWriter, frame: bytes, seconds: float) -> None:
        await asyncio.sleep(seconds)  # the fault itself (a late frame), not a wait for sync
        with contextlib.suppress(ConnectionError, OSError):
            await self._send(conn, sink, frame)


DATA_EVENTS = ("postgres_changes", "broadcast")


def _without_key(frame: bytes, key: bytes) -> bytes:
    """A server's (unmasked) text frame with every `"key": <integer or null>` member taken out, re-framed."""
    if frame[0] & 0x0F != 1 or frame[1] & 0x80:
        return frame
    length, start = frame[1] & 0x7F, 2
    start += 2 if length == 126 else 8 if length == 127 else 0
    payload = re.sub(rb',\s*"' + re.escape(key) + rb'"\s*:\s*(-?\d+|null)', b"", frame[start:])
    n = len(payload)
    size = (
        bytes([n])
        if n < 126
        else bytes([126]) + struct.pack("!H", n)
        if n < 65536
        else bytes([127]) + struct.pack("!Q", n)
    )
    return bytes([frame[0]]) + size + payload


def _of_table(frame: bytes, table: bytes) -> bool:
    """A server's text frame about a row of `table` (the change's `"table"` key; the proxy strips compression)."""
    return frame[0] & 0x0F == 1 and re.search(rb'"table"\s*:\s*"' + re.escape(table) + rb'"', frame) is not None


def _carries_data(frame: bytes) -> bool:
    """A server's text frame (unmasked, uncompressed: the proxy strips the offer) whose Phoenix event carries data."""
    if frame[0] & 0x0F != 1:
        return False
    length, start = frame[1] & 0x7F, 2
    start += 2 if length == 126 else 8 if length == 127 else 0
    try:
        message = json.loads(frame[start:])
    except ValueError:
        return False
    event = message.get("event") if isinstance(message, dict) else message[3] if isinstance(message, list) else None
    return event in DATA_EVENTS


class _Prepended:
    """A StreamReader with some bytes already read put back in front."""

    def __init__(self, prefix: bytes, reader: asyncio.StreamReader) -> None:
        self.prefix, self.reader = prefix, reader

    async def readexactly(self, n: int) -> bytes:
        if not self.prefix:
            return await self.reader.readexactly(n)
        take, self.prefix = self.prefix[:n], self.prefix[n:]
        if len(take) < n:
            take += await self.reader.readexactly(n - len(take))
        return take


async def read_frame(source: asyncio.StreamReader | _Prepended) -> bytes:
    """One whole RFC 6455 frame, header and payload, exactly as it was on the wire."""
    header = await source.readexactly(2)
    length = header[1] & 0x7F
    masked = header[1] & 0x80
    extra = b""
    if length == 126:
        extra = await source.readexactly(2)
        length = struct.unpack("!H", extra)[0]
    elif length == 127:
        extra = await source.readexactly(8)
        length = struct.unpack("!Q", extra)[0]
    mask = await source.readexactly(4) if masked else b""
    payload = await source.readexactly(length) if length else b""
    return header + extra + mask + payload
