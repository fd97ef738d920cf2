"""Request limits, against a real `kds-backend serve` on loopback, over raw sockets (issue 17, items 1 and 7).

Item 1: bodies and headers are bounded before they are parsed (413/431 in PostgREST's shape), and a route's
token is checked before its body is read. Item 7: half-sent requests and silent connections are timed out, and
connections are capped. Each test waits for the server's answer or close with a timeout, never for a fixed time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from kds_backend.http_protocol import protocol_class, uvicorn_options
from kds_backend.realtime.protocol import MAX_FRAME_BYTES
from kds_backend.settings import RequestLimits, Settings
from tests.conftest import auth_headers, token_for
from tests.kds_backend.realtime.support import TIMEOUT_S
from tests.live_server import LiveServer, serving_sqlite

pytestmark = pytest.mark.slow

MAX_BODY = 100_000
MAX_HEADER = 8192
LIMITS = {
    "KDS_MAX_BODY_BYTES": str(MAX_BODY),
    "KDS_MAX_HEADER_BYTES": str(MAX_HEADER),
    "KDS_HEADER_TIMEOUT": "1",
    "KDS_BODY_TIMEOUT": "1",
    "KDS_KEEP_ALIVE_TIMEOUT": "1",
}
ORDER = json.dumps({"number": "A17", "items": [{"name": "Burger", "category": "grill"}]}).encode()


def start(tmp_path: Path, env: dict[str, str]) -> Iterator[LiveServer]:
    return serving_sqlite(tmp_path, env)


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LiveServer]:
    yield from start(tmp_path, LIMITS)


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes
    closed: bool

    def problem(self) -> dict[str, Any]:
        body = json.loads(self.body)
        assert {"code", "message", "details", "hint"} <= set(body), body
        return body


async def read_answer(reader: asyncio.StreamReader) -> Answer:
    """One response (its Content-Length), then whether the server closed the connection after it."""
    async with asyncio.timeout(TIMEOUT_S):
        head = await reader.readuntil(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        status = int(lines[0].split()[1])
        headers = {k.lower(): v.strip() for k, _, v in (line.partition(":") for line in lines[1:] if line)}
        body = await reader.readexactly(int(headers.get("content-length", "0")))
        closed = headers.get("connection", "").lower() == "close" and await reader.read() == b""
    return Answer(status, headers, body, closed)


class Sockets:
    """Raw client connections, every one closed at the end of the test, whatever happened in it."""

    def __init__(self) -> None:
        self.writers: list[asyncio.StreamWriter] = []

    async def send(self, server: LiveServer, data: bytes) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
        reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
        self.writers.append(writer)
        writer.write(data)
        await writer.drain()
        return reader, writer

    async def close(self) -> None:
        for writer in self.writers:
            writer.close()
        for writer in self.writers:
            with contextlib.suppress(OSError):
                await writer.wait_closed()


@pytest.fixture
async def sockets() -> AsyncIterator[Sockets]:
    opened = Sockets()
    try:
        yield opened
    finally:
        await opened.close()


async def wait_closed_by_server(reader: asyncio.StreamReader) -> bytes:
    """Everything the server sends until it closes the connection (an error if it does not within TIMEOUT_S)."""
    async with asyncio.timeout(TIMEOUT_S):
        try:
            return await reader.read(-1)
        except ConnectionResetError:
            return b""


def request_head(method: str, path: str, headers: dict[str, str]) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: companion", *(f"{k}: {v}" for k, v in headers.items())]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


def pos(**extra: str) -> dict[str, str]:
    return {**auth_headers(token_for("pos")), "Content-Type": "application/json", **extra}


# ---------------------------------------------------------------- item 1: bodies


async def test_a_declared_body_over_the_limit_is_413_before_any_of_it_is_read(
    server: LiveServer, sockets: Sockets
) -> None:
    head = request_head("POST", "/api/v1/orders", pos(**{"Idempotency-Key": "k1", "Content-Length": "24000000"}))
    reader, _ = await sockets.send(server, head)  # the 24 MB never follow: the answer must not wait for them
    answer = await read_answer(reader)
    assert answer.status == 413 and answer.closed
    assert answer.problem()["code"] == "KDS413"


async def test_a_chunked_body_past_the_limit_is_413(server: LiveServer, sockets: Sockets) -> None:
    head = request_head("POST", "/rest/v1/orders", pos(**{"Transfer-Encoding": "chunked"}))
    chunk = b"x" * (MAX_BODY + 1)
    reader, _ = await sockets.send(server, head + b"%x\r\n" % len(chunk) + chunk + b"\r\n")
    answer = await read_answer(reader)
    assert answer.status == 413 and answer.closed
    assert answer.problem()["code"] == "KDS413"


@pytest.mark.parametrize(
    "headers",
    [
        {"Content-Type": "application/json"},
        {**auth_headers("not.a.token"), "Content-Type": "application/json"},
        {**auth_headers(token_for("pos", ttl_s=-10)), "Content-Type": "application/json"},
    ],
    ids=["no-key", "forged", "expired"],
)
@pytest.mark.parametrize("path", ["/api/v1/orders", "/rest/v1/rpc/apply_intents", "/rest/v1/orders"])
async def test_the_token_is_checked_before_the_body_is_read(
    server: LiveServer, sockets: Sockets, headers: dict[str, str], path: str
) -> None:
    head = request_head("POST", path, {**headers, "Idempotency-Key": "k", "Content-Length": "50000"})
    reader, _ = await sockets.send(server, head)  # no body sent: the 401 must come without it
    answer = await read_answer(reader)
    assert answer.status == 401
    # The body that never comes does not hold the connection open.
    assert await wait_closed_by_server(reader) == b""
    assert answer.problem()["code"] == "PGRST301" or answer.problem()["code"] == "PGRST303"


async def test_a_good_request_still_waits_for_its_body_and_keeps_the_connection(
    server: LiveServer, sockets: Sockets
) -> None:
    head = request_head("POST", "/api/v1/orders", pos(**{"Idempotency-Key": "k2", "Content-Length": str(len(ORDER))}))
    reader, writer = await sockets.send(server, head)
    writer.write(ORDER)
    answer = await read_answer(reader)
    assert answer.status == 201 and not answer.closed, answer.body
    writer.write(request_head("GET", "/health", {}))
    assert (await read_answer(reader)).status == 200


# ---------------------------------------------------------------- item 1: headers


async def test_headers_over_the_limit_are_431(server: LiveServer, sockets: Sockets) -> None:
    big = "x" * (MAX_HEADER + 100)
    many = {f"X-Filler-{n}": "y" * 10 for n in range(MAX_HEADER // 20)}
    for head in (
        request_head("GET", "/health", {"X-Big": big}),  # whole head in one read
        request_head("GET", "/health", many),  # many small headers
        request_head("GET", "/health?" + big, {}),  # a long request line
        f"GET /health HTTP/1.1\r\nX-Big: {big}".encode(),  # never finished: refused before its end
    ):
        reader, _ = await sockets.send(server, head)
        answer = await read_answer(reader)
        assert answer.status == 431 and answer.closed
        assert answer.problem()["code"] == "KDS431"


async def test_a_head_within_the_limit_is_served(server: LiveServer, sockets: Sockets) -> None:
    reader, _ = await sockets.send(server, request_head("GET", "/health", {"X-Fine": "x" * (MAX_HEADER // 2)}))
    assert (await read_answer(reader)).status == 200


# ---------------------------------------------------------------- item 7: timeouts


async def test_a_silent_connection_is_closed(server: LiveServer, sockets: Sockets) -> None:
    reader, _ = await sockets.send(server, b"")
    assert await wait_closed_by_server(reader) == b""


async def test_a_half_sent_head_gets_408_and_is_closed(server: LiveServer, sockets: Sockets) -> None:
    reader, _ = await sockets.send(server, b"GET /health HTTP/1.1\r\nHost: companion\r\n")
    answer = await read_answer(reader)
    assert answer.status == 408 and answer.closed
    assert answer.problem()["code"] == "KDS408"


async def test_a_half_sent_body_gets_408_and_is_closed(server: LiveServer, sockets: Sockets) -> None:
    head = request_head("POST", "/api/v1/orders", pos(**{"Idempotency-Key": "k3", "Content-Length": "100"}))
    reader, _ = await sockets.send(server, head + b'{"number": ')
    answer = await read_answer(reader)
    assert answer.status == 408 and answer.closed
    assert answer.problem()["code"] == "KDS408"


async def test_an_idle_kept_alive_connection_is_closed(server: LiveServer, sockets: Sockets) -> None:
    reader, _ = await sockets.send(server, request_head("GET", "/health", {}))
    assert (await read_answer(reader)).status == 200
    assert await wait_closed_by_server(reader) == b""


async def test_hundreds_of_half_open_connections_are_all_closed_and_health_answers_meanwhile(
    server: LiveServer, sockets: Sockets
) -> None:
    head = request_head("POST", "/api/v1/orders", pos(**{"Idempotency-Key": "k4", "Content-Length": "100"}))
    openers = [b"", b"GET /health HTTP/1.1\r\nHost: x\r\n", head + b"{"]
    conns = [await sockets.send(server, opener) for opener in openers for _ in range(100)]
    reader, _ = await sockets.send(server, request_head("GET", "/health", {}))
    assert (await read_answer(reader)).status == 200
    await asyncio.gather(*(wait_closed_by_server(r) for r, _ in conns))


# ---------------------------------------------------------------- item 7: connection cap


@pytest.fixture
def capped(tmp_path: Path) -> Iterator[LiveServer]:
    env = {"KDS_MAX_CONNECTIONS": "20", "KDS_HEADER_TIMEOUT": "60", "KDS_KEEP_ALIVE_TIMEOUT": "60"}
    yield from start(tmp_path, env)


async def test_connections_over_the_cap_get_503_and_a_freed_slot_is_reused(
    capped: LiveServer, sockets: Sockets
) -> None:
    held = []
    for _ in range(20):  # each answered, so the server counts it, and kept alive
        reader, writer = await sockets.send(capped, request_head("GET", "/health", {}))
        assert (await read_answer(reader)).status == 200
        held.append((reader, writer))
    reader, writer = await sockets.send(capped, request_head("GET", "/health", {}))
    answer = await read_answer(reader)
    assert answer.status == 503 and answer.closed and answer.headers["retry-after"] == "1"
    assert answer.problem()["code"] == "KDS503"
    held.pop()[1].close()
    async with asyncio.timeout(TIMEOUT_S):
        while True:  # until the server has seen the close: each try is a real round trip, no sleep needed
            reader, _ = await sockets.send(capped, request_head("GET", "/health", {}))
            status = (await read_answer(reader)).status
            if status == 200:
                break


# ---------------------------------------------------------------- settings


def test_limits_come_from_the_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("KDS_DATA_DIR", str(tmp_path))
    for name, value in {**LIMITS, "KDS_MAX_CONNECTIONS": "50"}.items():
        monkeypatch.setenv(name, value)
    limits = Settings.from_env().limits
    assert limits == RequestLimits(MAX_BODY, MAX_HEADER, 1.0, 1.0, 1.0, 50)
    options = uvicorn_options(limits)
    assert options["timeout_keep_alive"] == 1.0 and options["http"].limits == limits
    assert options["ws_max_size"] == MAX_FRAME_BYTES  # a bigger realtime frame is refused before it is buffered
    assert protocol_class(limits).limits is limits


def test_defaults_without_the_variables() -> None:
    assert RequestLimits.from_env({}) == RequestLimits()
    assert RequestLimits() == RequestLimits(1_048_576, 65_536, 10.0, 30.0, 5.0, 1000)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("KDS_MAX_BODY_BYTES", "1MB", "KDS_MAX_BODY_BYTES must be a whole number of bytes from 1024 to 1073741824"),
        ("KDS_MAX_BODY_BYTES", "0", "KDS_MAX_BODY_BYTES must be a whole number of bytes"),
        ("KDS_MAX_HEADER_BYTES", "99999999999", "KDS_MAX_HEADER_BYTES must be a whole number of bytes"),
        ("KDS_HEADER_TIMEOUT", "soon", "KDS_HEADER_TIMEOUT must be seconds from 0.1 to 3600"),
        ("KDS_BODY_TIMEOUT", "nan", "KDS_BODY_TIMEOUT must be seconds from 0.1 to 3600"),
        ("KDS_KEEP_ALIVE_TIMEOUT", "-1", "KDS_KEEP_ALIVE_TIMEOUT must be seconds"),
        ("KDS_MAX_CONNECTIONS", "lots", "KDS_MAX_CONNECTIONS must be a whole number of connections from 1"),
    ],
)
def test_a_bad_limit_stops_the_server_naming_it(name: str, value: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        RequestLimits.from_env({name: value})
