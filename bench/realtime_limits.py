"""Realtime resource limits (issue 17, items 2 and 3): what a hostile restaurant's realtime use costs the others.

Starts `kds-backend serve` (SQLite in a temporary directory, loopback) from `--root` (default: this tree; point
it at a checkout of an older commit to compare), then runs three scenarios:

- `health`: one socket of restaurant r2 sends 20 joins of 100 bindings with 2,000-character filters back to back,
  while `/health` is asked every 10 ms: its latency (max, p50) and how long the joins took to be answered.
- `neighbour`: r2 opens 5 sockets of 100 channels, each joined with 100 bindings of `status=not.in.(100 values)`,
  or where that is refused with the heaviest join the limits allow (two bindings of 99 values), then r1 and r2
  each post an order every 200 ms; r1's screen measures commit -> event received (the row's `updated_at`, same
  clock). Also without r2 ("quiet").
- `slow`: three sockets that stop reading, a fourth that reads, 60 broadcasts of 700 KB: the server's RSS over
  its baseline with the stuck sockets connected, and after they are gone.
- `--soak SECONDS` (issue 17's soak): r1's screen measures commit -> event for orders posted every 200 ms, first
  quiet, then for SECONDS while restaurant r2's tokens flood (from another process, so the flood's client work is
  not in r1's figures): join/leave churn with heavy filters, 900 KB broadcasts and 1.2 MB frames (closed 1009)
  from senders, and slow consumers that join the broadcast topic and never read, reopened as they go; then
  quiet again. The server's RSS is sampled throughout: before, peak during, and after the flood ends.

    .venv/bin/python bench/realtime_limits.py
    .venv/bin/python bench/realtime_limits.py --root /tmp/base-checkout --scenario neighbour
    .venv/bin/python bench/realtime_limits.py --soak 60
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
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
NOT_IN = "status=not.in.(" + ",".join(f'"{"v" * 13}{n}"' for n in range(100)) + ")"
"""100 values in under 2,000 characters: the largest filter either server parses (a longer one subscribes nothing)."""


def token(restaurant: str, role: DeviceRole, device: str) -> str:
    return issue_token(SECRET, restaurant_id=restaurant, device_role=role, subject=device, ttl_s=3600)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(
    root: Path, data_dir: Path, extra: dict[str, str] | None = None
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "KDS_DATA_DIR": str(data_dir), "KDS_JWT_SECRET": SECRET, "PYTHONPATH": str(root)}
    env |= extra or {}
    env |= {"KDS_RATE_LIMIT": "100000", "KDS_RATE_BURST": "100000"}
    env["KDS_DATABASE_URL"] = f"sqlite:///{data_dir / 'companion.db'}"
    cmd = [sys.executable, "-m", "kds_backend.cli", "serve", "--port", str(port), "--log-level", "warning"]
    log = (data_dir / "server.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=root)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    proc.kill()
    raise RuntimeError("server did not start")


def ws_url(url: str, apikey: str) -> str:
    return f"{url.replace('http', 'ws')}/realtime/v1/websocket?apikey={apikey}&vsn=1.0.0"


def join_frame(topic: str, bindings: list[dict], ref: str) -> str:
    payload = {"config": {"postgres_changes": bindings}}
    return json.dumps({"topic": topic, "event": "phx_join", "payload": payload, "ref": ref, "join_ref": ref})


async def replies(ws: websockets.ClientConnection, n: int) -> list[dict]:
    out = []
    while len(out) < n:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 120))
        if msg["event"] == "phx_reply":
            out.append(msg)
    return out


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


# ---------------------------------------------------------------- scenarios


async def health(url: str) -> str:
    heavy = "notes=in.(" + ",".join(f'"{"v" * 15}{n}"' for n in range(100)) + ")"
    heavy = heavy[:1990].rsplit(",", 1)[0] + ")"
    bindings = [{"event": "*", "schema": "public", "table": "order_items", "filter": heavy}] * 100
    latencies: list[float] = []
    done = asyncio.Event()

    async def poll() -> None:
        async with httpx.AsyncClient(base_url=url) as http:
            while not done.is_set():
                start = time.perf_counter()
                (await http.get("/health")).raise_for_status()
                latencies.append((time.perf_counter() - start) * 1000)
                await asyncio.sleep(0.01)  # the poll interval, not a wait for the server

    poller = asyncio.create_task(poll())
    async with websockets.connect(ws_url(url, token("r2", DeviceRole.kds, "r2-kds-1")), max_size=None) as ws:
        await asyncio.sleep(0.3)  # quiet /health figures first
        quiet = len(latencies)
        start = time.perf_counter()
        for n in range(20):
            await ws.send(join_frame(f"realtime:heavy-{n}", bindings, str(n)))
        answers = await replies(ws, 20)
        joins_ms = (time.perf_counter() - start) * 1000
        await asyncio.sleep(0.3)
    done.set()
    await poller
    during = latencies[quiet:]
    statuses = sorted({a["payload"]["status"] for a in answers})
    return (
        f"health: 20 heavy joins answered in {joins_ms:.0f} ms ({'/'.join(statuses)}); /health during: "
        f"max {max(during):.0f} ms, p50 {statistics.median(during):.1f} ms over {len(during)} requests "
        f"(quiet p50 {statistics.median(latencies[:quiet]):.1f} ms)"
    )


async def neighbour(url: str, orders: int, hostile: bool) -> str:
    pos = {"r1": token("r1", DeviceRole.pos, "r1-pos"), "r2": token("r2", DeviceRole.pos, "r2-pos")}
    anon = issue_anon_key(SECRET)
    held: list[websockets.ClientConnection] = []
    accepted = lighter = 0
    if hostile:
        for s in range(5):
            ws = await websockets.connect(ws_url(url, token("r2", DeviceRole.kds, f"r2-kds-{s}")), max_size=None)
            held.append(ws)
            for c in range(100):
                # Distinct filters per channel, so nothing is shared between them.
                filt = NOT_IN.replace('"v', f'"{s}{c}', 1)
                await ws.send(
                    join_frame(f"realtime:h{c}", [{"event": "*", "table": "orders", "filter": filt}] * 100, "1")
                )
                if (await replies(ws, 1))[0]["payload"]["status"] == "ok":  # read as it comes: echoes are big
                    accepted += 1
                    continue
                # Refused: the heaviest join the limits let through instead (two bindings of 99 values).
                light = filt.rsplit(",", 1)[0] + ")"
                await ws.send(
                    join_frame(f"realtime:h{c}", [{"event": "*", "table": "orders", "filter": light}] * 2, "2")
                )
                lighter += (await replies(ws, 1))[0]["payload"]["status"] == "ok"
    latencies: list[float] = []
    async with websockets.connect(ws_url(url, token("r1", DeviceRole.kds, "r1-kds-1"))) as screen:
        await screen.send(
            join_frame("realtime:orders", [{"event": "INSERT", "schema": "public", "table": "orders"}], "1")
        )
        await replies(screen, 1)

        async def listen() -> None:
            while len(latencies) < orders:
                msg = json.loads(await asyncio.wait_for(screen.recv(), 300))
                received = time.time()
                if msg["event"] == "postgres_changes":
                    written = datetime.fromisoformat(msg["payload"]["data"]["record"]["updated_at"]).timestamp()
                    latencies.append((received - written) * 1000)

        listener = asyncio.create_task(listen())
        async with httpx.AsyncClient(base_url=url, headers={"apikey": anon}, timeout=120) as http:

            async def post(restaurant: str, n: int) -> None:
                body = {"number": f"{restaurant}-{n}", "items": [{"name": "Burger", "category": "grill"}]}
                headers = {"Authorization": f"Bearer {pos[restaurant]}", "Idempotency-Key": str(uuid.uuid4())}
                (await http.post("/api/v1/orders", json=body, headers=headers)).raise_for_status()

            start = time.perf_counter()
            posts = []
            for n in range(orders):
                await asyncio.sleep(max(0.0, start + n * 0.2 - time.perf_counter()))
                posts.append(asyncio.create_task(post("r1", n)))
                if hostile:
                    posts.append(asyncio.create_task(post("r2", n)))
            await asyncio.gather(*posts)
        await asyncio.wait_for(listener, 300)
    for ws in held:
        await ws.close()
    label = "quiet"
    if hostile:
        label = f"hostile r2 (of 500 channels: {accepted} heavy accepted, then {lighter} within the limits)"
    return (
        f"neighbour, {label}: r1 commit -> event p50 {statistics.median(latencies):.1f} ms, "
        f"p99 {pct(latencies, 0.99):.1f} ms, max {max(latencies):.1f} ms over {len(latencies)} events"
    )


def rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


async def slow(url: str, pid: int) -> str:
    def dev(name: str) -> str:
        return ws_url(url, token("r1", DeviceRole.kds, name))

    async with (
        websockets.connect(dev("reader"), max_size=None) as reader,
        websockets.connect(dev("sender")) as sender,
    ):
        for ws in (reader, sender):
            await ws.send(join_frame("realtime:menu", [], "1"))
            await replies(ws, 1)
        stuck = []
        for n in range(3):
            ws = await websockets.connect(dev(f"stuck-{n}"), max_queue=1, compression=None, max_size=None)
            await ws.send(join_frame("realtime:menu", [], "1"))
            stuck.append(ws)
        base = rss(pid)
        blob = "x" * 700_000
        for n in range(60):
            message = {"type": "broadcast", "event": "big", "payload": {"n": n, "blob": blob}}
            await sender.send(json.dumps({"topic": "realtime:menu", "event": "broadcast", "payload": message}))
            while json.loads(await asyncio.wait_for(reader.recv(), 60))["event"] != "broadcast":
                pass
        during = rss(pid) - base
        for ws in stuck:
            ws.transport.abort()  # the clients go away without reading
        await asyncio.sleep(2)  # the server notices and its 1 s tick trims
        after = rss(pid) - base
    return f"slow: RSS over baseline {during / 2**20:.0f} MiB with 3 stuck sockets, {after / 2**20:.0f} MiB after"


# ---------------------------------------------------------------- soak


FLOODS = ("joins", "big", "slow")


async def _flood(url: str, seconds: float, kinds: tuple[str, ...] = FLOODS) -> dict[str, int]:
    """Restaurant r2 at its worst for `seconds`; what it managed, counted."""
    counts = dict.fromkeys(
        ["joins_ok", "joins_refused", "big_sent", "big_acked", "huge_sent", "reconnects", "slow_opened"], 0
    )
    stop = time.monotonic() + seconds
    heavy = [{"event": "*", "table": "orders", "filter": NOT_IN}] * 100  # over the per-join term budget
    light = [{"event": "*", "table": "orders", "filter": NOT_IN.rsplit(",", 1)[0] + ")"}] * 2  # within it

    def dev(name: str) -> str:
        return ws_url(url, token("r2", DeviceRole.kds, name))

    async def joiner(n: int) -> None:
        while time.monotonic() < stop:
            try:
                async with websockets.connect(dev(f"r2-join-{n}"), max_size=None) as ws:
                    c = 0
                    while time.monotonic() < stop:
                        # Ten joins at once (heavy ones refused at the term budget, light ones accepted until the
                        # restaurant's joins per second are spent), then ten leaves: pipelined, not one at a time.
                        topics = [f"realtime:j{n}-{c + k}" for k in range(10)]
                        for k, topic in enumerate(topics):
                            await ws.send(join_frame(topic, heavy if k % 2 else light, str(c + k)))
                        for answer in await replies(ws, 10):
                            counts["joins_ok" if answer["payload"]["status"] == "ok" else "joins_refused"] += 1
                        for topic in topics:
                            await ws.send(json.dumps({"topic": topic, "event": "phx_leave", "payload": {}, "ref": "l"}))
                        await replies(ws, 10)
                        c = (c + 10) % 100
            except (websockets.ConnectionClosed, OSError, TimeoutError):
                counts["reconnects"] += 1

    async def sender(n: int) -> None:
        big = "x" * 900_000
        huge = "y" * 1_200_000
        c = 0
        while time.monotonic() < stop:
            try:
                async with websockets.connect(dev(f"r2-send-{n}"), max_size=None) as ws:
                    await ws.send(
                        json.dumps(
                            {
                                "topic": "realtime:big",
                                "event": "phx_join",
                                "ref": "1",
                                "payload": {"config": {"broadcast": {"ack": True}}},
                            }
                        )
                    )
                    await replies(ws, 1)
                    while time.monotonic() < stop:
                        c += 1
                        if c % 20 == 0:  # over the frame limit: the server closes this socket (1009)
                            counts["huge_sent"] += 1
                            message = {"type": "broadcast", "event": "huge", "payload": {"blob": huge}}
                            await ws.send(
                                json.dumps(
                                    {"topic": "realtime:big", "event": "broadcast", "payload": message, "ref": str(c)}
                                )
                            )
                            await asyncio.wait_for(ws.wait_closed(), 30)
                            break
                        message = {"type": "broadcast", "event": "big", "payload": {"n": c, "blob": big}}
                        await ws.send(
                            json.dumps(
                                {"topic": "realtime:big", "event": "broadcast", "payload": message, "ref": str(c)}
                            )
                        )
                        counts["big_sent"] += 1
                        await replies(ws, 1)  # the ack: as fast as the server takes them
                        counts["big_acked"] += 1
            except (websockets.ConnectionClosed, OSError, TimeoutError):
                pass
            counts["reconnects"] += 1

    async def reader() -> None:
        with contextlib.suppress(websockets.ConnectionClosed, OSError, TimeoutError):
            async with websockets.connect(dev("r2-reader"), max_size=None) as ws:
                await ws.send(join_frame("realtime:big", [], "1"))
                while time.monotonic() < stop:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(ws.recv(), 1)

    async def slow_consumer(n: int) -> None:
        while time.monotonic() < stop:
            with contextlib.suppress(websockets.ConnectionClosed, OSError, TimeoutError):
                ws = await websockets.connect(dev(f"r2-slow-{n}"), max_queue=1, compression=None, max_size=None)
                counts["slow_opened"] += 1
                await ws.send(join_frame("realtime:big", [], "1"))
                await asyncio.sleep(min(5.0, max(0.0, stop - time.monotonic())))  # stuck: reads nothing
                ws.transport.abort()  # and goes away without a close, as a dead tablet does

    tasks = [joiner(n) for n in range(3)] if "joins" in kinds else []
    if "big" in kinds:
        tasks += [sender(n) for n in range(2)] + [reader()]
    if "slow" in kinds:
        tasks += [slow_consumer(n) for n in range(4)]
    await asyncio.gather(*tasks)
    return counts


def _flood_process(url: str, seconds: float, kinds: tuple[str, ...], results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    results.put(asyncio.run(_flood(url, seconds, kinds)))


async def soak(url: str, pid: int, seconds: float, quiet_s: float, kinds: tuple[str, ...] = FLOODS) -> list[str]:
    anon = issue_anon_key(SECRET)
    pos = token("r1", DeviceRole.pos, "r1-pos")
    samples: list[tuple[float, int]] = []  # (epoch seconds, RSS)
    latencies: list[tuple[float, float]] = []  # (committed, epoch seconds; ms to r1's screen)
    lines: list[str] = []
    expected = {"n": 1 << 30}  # orders posted, known once they all are
    all_in = asyncio.Event()

    async def sample_rss(until: asyncio.Event) -> None:
        while not until.is_set():
            samples.append((time.time(), rss(pid)))
            await asyncio.sleep(0.25)  # the sampling interval

    async with websockets.connect(ws_url(url, token("r1", DeviceRole.kds, "r1-kds-1"))) as screen:
        await screen.send(
            join_frame("realtime:orders", [{"event": "INSERT", "schema": "public", "table": "orders"}], "1")
        )
        await replies(screen, 1)

        async def listen() -> None:
            while True:
                msg = json.loads(await screen.recv())
                received = time.time()
                if msg["event"] == "postgres_changes":
                    written = datetime.fromisoformat(msg["payload"]["data"]["record"]["updated_at"]).timestamp()
                    latencies.append((written, (received - written) * 1000))
                    if len(latencies) >= expected["n"]:
                        all_in.set()

        async def heartbeat() -> None:
            while True:
                await asyncio.sleep(20)  # well within the server's 60 s heartbeat timeout
                await screen.send(json.dumps({"topic": "phoenix", "event": "heartbeat", "payload": {}, "ref": "hb"}))

        listener = asyncio.create_task(listen())
        beat = asyncio.create_task(heartbeat())
        stop_sampling = asyncio.Event()
        sampler = asyncio.create_task(sample_rss(stop_sampling))
        async with httpx.AsyncClient(base_url=url, headers={"apikey": anon}, timeout=120) as http:

            async def post(n: int) -> None:
                body = {"number": f"r1-{n}", "items": [{"name": "Burger", "category": "grill"}]}
                headers = {"Authorization": f"Bearer {pos}", "Idempotency-Key": str(uuid.uuid4())}
                (await http.post("/api/v1/orders", json=body, headers=headers)).raise_for_status()

            async def orders_for(duration: float, first: int) -> int:
                start = time.perf_counter()
                posts = []
                n = 0
                while time.perf_counter() - start < duration:
                    await asyncio.sleep(max(0.0, start + n * 0.2 - time.perf_counter()))
                    posts.append(asyncio.create_task(post(first + n)))
                    n += 1
                await asyncio.gather(*posts)
                return n

            t0 = time.time()
            sent = await orders_for(quiet_s, 0)
            t1 = time.time()
            before = rss(pid)
            load_before = os.getloadavg()[0]
            results: multiprocessing.Queue = multiprocessing.get_context("spawn").Queue()  # type: ignore[type-arg]
            flood = multiprocessing.get_context("spawn").Process(
                target=_flood_process, args=(url, seconds, kinds, results)
            )
            flood.start()
            sent += await orders_for(seconds, sent)
            counts = await asyncio.to_thread(results.get, True, 120)
            await asyncio.to_thread(flood.join, 30)
            t2 = time.time()
            load_during = os.getloadavg()[0]
            sent += await orders_for(quiet_s, sent)
            t3 = time.time()
        expected["n"] = sent
        if len(latencies) < sent:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(all_in.wait(), 60)  # the last events on their way
        stop_sampling.set()
        await sampler
        for task in (listener, beat):
            task.cancel()
        await asyncio.gather(listener, beat, return_exceptions=True)
    after = rss(pid)

    def figures(label: str, start: float, end: float) -> str:
        window = [ms for at, ms in latencies if start <= at < end]
        return (
            f"{label}: r1 commit -> event p50 {statistics.median(window):.1f} ms, p99 {pct(window, 0.99):.1f} ms, "
            f"max {max(window):.1f} ms over {len(window)} events"
        )

    quiet = [ms for at, ms in latencies if t0 <= at < t1]
    flooded = [ms for at, ms in latencies if t1 <= at < t2]
    peak = max(r for at, r in samples if t1 <= at <= t2)
    settled = [r for at, r in samples if at >= t2 + 3]
    lines.append(f"soak: load (1 min) {load_before:.1f} at the flood's start, {load_during:.1f} at its end")
    lines.append(figures(f"quiet {quiet_s:.0f} s", t0, t1))
    lines.append(figures(f"flood {seconds:.0f} s", t1, t2))
    lines.append(figures(f"quiet again {quiet_s:.0f} s", t2, t3))
    lines.append(f"p99 flood / quiet: {pct(flooded, 0.99) / pct(quiet, 0.99):.2f}; events {len(latencies)} of {sent}")
    lines.append(f"r2 flood ({'+'.join(kinds)}): {counts}")
    lines.append(
        f"server RSS: {before / 2**20:.0f} MiB before the flood, peak {peak / 2**20:.0f} MiB during, "
        f"{(min(settled) if settled else after) / 2**20:.0f} MiB from 3 s after it, {after / 2**20:.0f} MiB at the end"
    )
    return lines


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--root", type=Path, default=ROOT, help="the tree whose kds_backend is served")
    parser.add_argument("--scenario", choices=["health", "neighbour", "slow", "all"], default="all")
    parser.add_argument("--orders", type=int, default=50)
    parser.add_argument("--soak", type=float, metavar="SECONDS", help="the soak instead of the scenarios")
    parser.add_argument("--quiet", type=float, default=20.0, help="the soak's quiet phases, seconds")
    parser.add_argument("--flood", default=",".join(FLOODS), help="the soak's flood: some of joins,big,slow")
    parser.add_argument(
        "--rounds", type=int, default=1, help="soaks one after another on the same server (does its RSS plateau?)"
    )
    args = parser.parse_args()
    print(f"root {args.root}; load {os.getloadavg()}")
    if args.soak:
        with tempfile.TemporaryDirectory() as tmp:
            proc, url = start_server(args.root, Path(tmp))
            try:
                kinds = tuple(k for k in args.flood.split(",") if k in FLOODS)
                for round_ in range(1, args.rounds + 1):
                    print(f"round {round_} of {args.rounds}; server RSS {rss(proc.pid) / 2**20:.0f} MiB", flush=True)
                    for line in await soak(url, proc.pid, args.soak, args.quiet, kinds):
                        print(line, flush=True)
            finally:
                proc.terminate()
                proc.wait(30)
        return
    for scenario in ["health", "neighbour", "slow"] if args.scenario == "all" else [args.scenario]:
        with tempfile.TemporaryDirectory() as tmp:
            # `slow` measures memory, not the bytes per second a restaurant may send (which would pace its sender).
            unpaced = {"KDS_REALTIME_BYTES_PER_S": str(1 << 30)} if scenario == "slow" else {}
            proc, url = start_server(args.root, Path(tmp), unpaced)
            try:
                if scenario == "health":
                    print(await health(url))
                elif scenario == "neighbour":
                    print(await neighbour(url, args.orders, hostile=False))
                    print(await neighbour(url, args.orders, hostile=True))
                else:
                    print(await slow(url, proc.pid))
            finally:
                proc.terminate()
                proc.wait(30)


if __name__ == "__main__":
    asyncio.run(main())
