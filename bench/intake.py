"""Companion order intake on SQLite: throughput, and latency at a steady 200 orders/s.

Starts a real `kds-backend serve` (one process, SQLite, WAL, synchronous=FULL) on loopback in a temp
directory and sends POS orders over HTTP. Bounded: a fixed number of orders, then it stops.

    .venv/bin/python bench/intake.py [--orders 4000] [--concurrency 32] [--rate 200] [--seconds 10]
"""

from __future__ import annotations

import argparse
import asyncio
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
from bench.raw_http import RawClient
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
