"""A minimal HTTP/1.1 keep-alive client for the benchmarks' load generators (POS orders, cancels)."""

from __future__ import annotations

import asyncio
import json

import httpx


class RawClient:
    """A minimal HTTP/1.1 keep-alive client for POSTing JSON: a few tens of microseconds of CPU per request.

    httpx's AsyncClient costs 5-6 ms of CPU per request on the 2-core VM, more than the server's whole work
    for an order, so with it this benchmark measured its own client. The server sees the same requests
    either way (`--client httpx` still uses httpx).
    """

    def __init__(self, url: str, headers: dict[str, str], max_connections: int) -> None:
        parsed = httpx.URL(url)
        self.host, self.port = parsed.host, parsed.port or 80
        self.head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self.idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []
        self.slots = asyncio.Semaphore(max_connections)

    async def post(self, path: str, body: object, headers: dict[str, str]) -> tuple[int, bytes]:
        return await self.send("POST", path, body, headers)

    async def send(self, method: str, path: str, body: object, headers: dict[str, str]) -> tuple[int, bytes]:
        payload = json.dumps(body).encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self.head}{extra}"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
        ).encode() + payload
        async with self.slots:
            conn = self._reuse() or await asyncio.open_connection(self.host, self.port)
            try:
                answer = await self._exchange(conn, request)
            except (ConnectionError, asyncio.IncompleteReadError):
                # The server closed an idle keep-alive connection as we sent: again on a new one (the same
                # Idempotency-Key, so never a second order).
                conn[1].close()
                conn = await asyncio.open_connection(self.host, self.port)
                answer = await self._exchange(conn, request)
            self.idle.append(conn)
            return answer

    def _reuse(self) -> tuple[asyncio.StreamReader, asyncio.StreamWriter] | None:
        """The most recently used idle connection the server has not closed."""
        while self.idle:
            reader, writer = self.idle.pop()
            if not reader.at_eof():
                return reader, writer
            writer.close()
        return None

    @staticmethod
    async def _exchange(conn: tuple[asyncio.StreamReader, asyncio.StreamWriter], request: bytes) -> tuple[int, bytes]:
        reader, writer = conn
        writer.write(request)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = 0
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            if name.strip().lower() == b"content-length":
                length = int(value)
        return status, await reader.readexactly(length)

    async def aclose(self) -> None:
        for _reader, writer in self.idle:
            writer.close()
