"""Companion realtime fan-out: commit → `postgres_changes` frame received, on N subscribers at once.

Starts `kds-backend serve` (SQLite by default) on loopback, opens N websocket subscribers (vsn 1.0.0, the
Phoenix frames the official Python client speaks; `websockets` with its default permessage-deflate), each
joined to INSERTs on `orders`, then posts orders through POS intake at a steady rate. For every event on
every subscriber, latency = time the frame was received and parsed minus the order row's `updated_at`
(the write transaction's start on the server's clock; same machine, so the same clock). That includes
the write itself, so it bounds commit → received from above.

    .venv/bin/python bench/realtime_fanout.py                    # N = 1, 10, 100; 200 orders at 20/s each
    .venv/bin/python bench/realtime_fanout.py --subscribers 8 --orders 500 --rate 50
    .venv/bin/python bench/realtime_fanout.py --database-url postgresql://user@127.0.0.1:5432/kds
    .venv/bin/python bench/realtime_fanout.py --subscribers 100 --profile-server /tmp/fanout.prof   # cProfile
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime
from pathlib import Path

import httpx
import websockets

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api_client.models import DeviceRole  # noqa: E402
from kds_backend.auth.tokens import issue_anon_key, issue_token  # noqa: E402

SECRET = "bench-secret-bench-secret-bench-secret-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def token(role: DeviceRole, device: str) -> str:
    return issue_token(SECRET, restaurant_id="r1", device_role=role, subject=device, ttl_s=3600)


def start_server(
    data_dir: Path, database_url: str | None, profile: Path | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "KDS_DATA_DIR": str(data_dir), "KDS_JWT_SECRET": SECRET, "KDS_RATE_LIMIT": "100000"}
    env["KDS_RATE_BURST"] = "100000"
    env["KDS_DATABASE_URL"] = database_url or f"sqlite:///{data_dir / 'companion.db'}"
    cmd = [sys.executable, "-m", "kds_backend.cli", "serve", "--port", str(port), "--log-level", "warning"]
    if profile is not None:
        # uvicorn restores the SIGTERM handler it found, then raises the signal again: that handler saves the stats.
        code = (
            "import cProfile, signal, sys\n"
            "p = cProfile.Profile()\n"
            f"def stop(*_):\n    p.disable(); p.dump_stats({str(profile)!r}); sys.exit(0)\n"
            "signal.signal(signal.SIGTERM, stop)\n"
            "sys.argv = ['kds-backend', *sys.argv[1:]]\n"
            "from kds_backend.cli import main\n"
            "p.enable(); main(); stop()\n"
        )
        cmd = [sys.executable, "-c", code, *cmd[3:]]
    log = (data_dir / "server.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start")


async def subscriber(
    url: str, n: int, latencies: list[float], ready: asyncio.Event, expected: int, deflate: bool
) -> None:
    ws_url = f"{url.replace('http', 'ws')}/realtime/v1/websocket?apikey={token(DeviceRole.kds, f'kds-{n}')}&vsn=1.0.0"
    compression = "deflate" if deflate else None
    async with websockets.connect(ws_url, max_queue=None, compression=compression) as ws:
        config = {"postgres_changes": [{"event": "INSERT", "schema": "public", "table": "orders"}]}
        join = {"topic": "realtime:bench", "event": "phx_join", "payload": {"config": config}, "ref": "1"}
        await ws.send(json.dumps(join))
        seen = 0
        while seen < expected:
            raw = await ws.recv()
            received = time.time()
            msg = json.loads(raw)
            if msg["event"] == "system":
                ready.set()
            elif msg["event"] == "postgres_changes":
                written = datetime.fromisoformat(msg["payload"]["data"]["record"]["updated_at"]).timestamp()
                latencies.append((received - written) * 1000)
                seen += 1


async def run(url: str, subscribers: int, orders: int, rate: float, deflate: bool) -> list[float]:
    latencies: list[float] = []
    readies = [asyncio.Event() for _ in range(subscribers)]
    tasks = [
        asyncio.create_task(subscriber(url, n, latencies, readies[n], orders, deflate)) for n in range(subscribers)
    ]
    await asyncio.wait_for(asyncio.gather(*(r.wait() for r in readies)), 60)
    headers = {"apikey": issue_anon_key(SECRET), "Authorization": f"Bearer {token(DeviceRole.pos, 'pos-1')}"}
    body = {"number": "B", "items": [{"name": "Burger", "category": "grill"}]}
    async with httpx.AsyncClient(base_url=url, headers=headers) as http:
        start = time.perf_counter()
        for n in range(orders):
            # Paced against the start, so a slow request does not slow the schedule down.
            await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
            r = await http.post(
                "/api/v1/orders", json={**body, "number": f"B{n}"}, headers={"Idempotency-Key": str(uuid.uuid4())}
            )
            r.raise_for_status()
    await asyncio.wait_for(asyncio.gather(*tasks), 120)
    return latencies


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--subscribers", type=int, nargs="+", default=[1, 10, 100])
    parser.add_argument("--orders", type=int, default=200)
    parser.add_argument("--rate", type=float, default=20.0, help="orders per second")
    parser.add_argument("--database-url", help="default: a fresh SQLite file in --data-dir")
    parser.add_argument("--data-dir", help="where the SQLite file goes (e.g. /dev/shm to leave out fsync)")
    parser.add_argument("--no-deflate", action="store_true", help="subscribers refuse permessage-deflate")
    parser.add_argument("--profile-server", help="run the companion under cProfile; stats go to PATH.<subscribers>")
    args = parser.parse_args()
    out = sys.stdout
    out.write(
        f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; "
        f"{args.orders} orders at {args.rate:g}/s; database in {args.database_url or args.data_dir or 'TMPDIR'}; "
        f"deflate {'off' if args.no_deflate else 'on'}\n"
    )
    out.write("| subscribers | events | p50 ms | p99 ms | max ms |\n|---:|---:|---:|---:|---:|\n")
    for n in args.subscribers:
        with tempfile.TemporaryDirectory(dir=args.data_dir) as tmp:
            profile = Path(f"{args.profile_server}.{n}").resolve() if args.profile_server else None
            proc, url = start_server(Path(tmp), args.database_url, profile)
            try:
                lat = asyncio.run(run(url, n, args.orders, args.rate, not args.no_deflate))
            finally:
                proc.terminate()
                proc.wait(15)
        p50, p99 = statistics.median(lat), percentile(lat, 0.99)
        out.write(f"| {n} | {len(lat)} | {p50:.1f} | {p99:.1f} | {max(lat):.1f} |\n")
        out.flush()


if __name__ == "__main__":
    main()
