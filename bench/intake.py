"""Companion order intake on SQLite: throughput, and latency at a steady 200 orders/s.

Starts a real `kds-backend serve` (one process, SQLite, WAL, synchronous=FULL) on loopback in a temp
directory and sends POS orders over HTTP. Bounded: a fixed number of orders, then it stops.

    .venv/bin/python bench/intake.py [--orders 4000] [--concurrency 32] [--rate 200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api_client.models import DeviceRole
from kds_backend.auth.tokens import issue_anon_key, issue_token
from tests.live_server import LiveServer

SECRET = "bench-secret-bench-secret-bench-secret-0123456789"


def order_body(n: int) -> dict:
    return {
        "number": f"B{n}",
        "source": "pos",
        "type": "dine_in",
        "table_label": str(n % 40),
        "server_name": "Sam",
        "guests": 2,
        "items": [
            {"name": "Burger", "quantity": 2, "category": "grill", "modifiers": ["no onions"], "allergens": ["gluten"]},
            {"name": "Fries", "quantity": 1, "category": "fryer"},
            {"name": "Caesar", "quantity": 1, "category": "salad", "notes": "dressing on the side"},
        ],
    }


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


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

    async def post(self, path: str, body: dict, headers: dict[str, str]) -> tuple[int, bytes]:
        payload = json.dumps(body).encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        request = (
            f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self.head}{extra}"
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


Client = RawClient | httpx.AsyncClient


async def post(client: Client, n: int) -> float:
    headers = {"Idempotency-Key": str(uuid.uuid4())}
    start = time.perf_counter()
    if isinstance(client, RawClient):
        status, text = await client.post("/api/v1/orders", order_body(n), headers)
    else:
        r = await client.post("/api/v1/orders", json=order_body(n), headers=headers)
        status, text = r.status_code, r.content
    elapsed = time.perf_counter() - start
    if status != 201:
        raise RuntimeError(f"intake failed: {status} {text[:300]!r}")
    return elapsed


async def throughput(client: Client, orders: int, concurrency: int) -> tuple[float, list[float]]:
    counter = iter(range(orders))
    latencies: list[float] = []

    async def worker() -> None:
        for n in counter:
            latencies.append(await post(client, n))

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return orders / (time.perf_counter() - start), latencies


async def steady(client: Client, rate: float, seconds: float, offset: int) -> list[float]:
    total = int(rate * seconds)
    start = time.perf_counter()
    tasks = []
    for i in range(total):
        # Open loop: send on schedule whatever the server's pace, so queueing shows up in the latency.
        delay = start + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(post(client, offset + i)))
    return list(await asyncio.gather(*tasks))


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--orders", type=int, default=4000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--rate", type=float, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--client", choices=["raw", "httpx"], default="raw", help="load generator (see RawClient)")
    args = parser.parse_args()

    # One POS token sends everything here; lift the per-token limit that protects a real kitchen.
    os.environ["KDS_RATE_LIMIT"] = os.environ["KDS_RATE_BURST"] = "1000000"
    with tempfile.TemporaryDirectory(prefix="kds-bench-") as tmp:
        server = LiveServer(Path(tmp), f"sqlite:///{tmp}/companion.db", SECRET)
        try:
            server.wait_ready()
            token = issue_token(
                SECRET, restaurant_id="bench", device_role=DeviceRole.pos, subject="pos-bench", ttl_s=3600
            )
            headers = {"apikey": issue_anon_key(SECRET), "Authorization": f"Bearer {token}"}
            limits = httpx.Limits(max_connections=args.concurrency, max_keepalive_connections=args.concurrency)
            client: Client
            if args.client == "raw":
                client = RawClient(server.url, headers, args.concurrency)
            else:
                client = httpx.AsyncClient(base_url=server.url, headers=headers, limits=limits, timeout=30)
            try:
                await throughput(client, 200, 8)  # warm up
                pid = server.proc.pid
                server_cpu, client_cpu = cpu_seconds(pid), time.process_time()
                rate, lat = await throughput(client, args.orders, args.concurrency)
                server_cpu, client_cpu = cpu_seconds(pid) - server_cpu, time.process_time() - client_cpu
                steady_cpu = cpu_seconds(pid)
                steady_lat = await steady(client, args.rate, args.seconds, offset=10_000_000)
                steady_cpu = cpu_seconds(pid) - steady_cpu
            finally:
                await client.aclose()
        finally:
            server.stop()

    ms = 1000.0
    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}")
    print(
        f"throughput: {rate:.0f} orders/s ({args.orders} orders, {args.concurrency} concurrent, {args.client} client; "
        f"p50 {statistics.median(lat) * ms:.1f} ms, p99 {pct(lat, 0.99) * ms:.1f} ms)"
    )
    print(
        f"  CPU per order: server {server_cpu / args.orders * ms:.2f} ms, "
        f"this client {client_cpu / args.orders * ms:.2f} ms"
    )
    print(
        f"steady {args.rate:.0f}/s for {args.seconds:.0f} s: p50 {statistics.median(steady_lat) * ms:.1f} ms, "
        f"p99 {pct(steady_lat, 0.99) * ms:.1f} ms, max {max(steady_lat) * ms:.1f} ms; "
        f"server CPU {steady_cpu / len(steady_lat) * ms:.2f} ms per order"
    )


if __name__ == "__main__":
    asyncio.run(main())
