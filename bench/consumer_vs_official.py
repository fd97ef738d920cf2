"""Our realtime consumer, and the whole `SyncEngine`, against the official `realtime` client on the same stream.

One fresh `kds-backend serve` (SQLite, loopback) per run; one contender per run, in its own process, so its CPU
time is its own; the parent posts orders of `--items` items through POS intake at a steady rate. Contenders:

- official: `realtime.AsyncRealtimeClient` (vsn 1.0.0), one channel with `on_postgres_changes("*")` on
  `orders`, `order_items` and `menu_availability` filtered to `restaurant_id=eq.r1`, as a screen would;
- consumer: `sync.realtime.connection.RealtimeConnection` alone, with the engine's channel spec (the same
  three tables and filter), frames parsed into the shared models;
- engine: the whole `SyncEngine` without Qt (real local SQLite store in a temp dir, a kds device token);
- engine-thread (only when named): the same with `EngineConfig.store_thread=True`, its store writes on the store
  writer's thread (`sync/store/writer.py`) instead of the event loop: whether the thread hand-off pays.

Latency per event = when the contender had it minus the row's `updated_at` (the server's write transaction
time, which the row's `commit_timestamp` equals; same machine, same wall clock). "Had it" is the callback for
the official client and the consumer; for the engine, the `on_changes` notification for the event's order,
i.e. once the row is in the local store. CPU per event = the process's CPU time (all threads,
`time.process_time()`) from subscribed to the last event, divided by the events. Rounds are interleaved
(official, consumer, engine, official, ...), and ratios are taken within a round.

    .venv/bin/python bench/consumer_vs_official.py                        # 3 rounds, 2000 orders x 3 items at 100/s
    .venv/bin/python bench/consumer_vs_official.py --rounds 5 --orders 500
    .venv/bin/python bench/consumer_vs_official.py --rounds 0 --profile-engine /tmp/engine.prof
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import os
import platform
import pstats
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api_client.models import DeviceRole  # noqa: E402
from kds_backend.auth.tokens import issue_anon_key, issue_token  # noqa: E402
from tests.live_server import free_port, wait_healthy  # noqa: E402

SECRET = "bench-secret-bench-secret-bench-secret-0123456789"
RESTAURANT = "r1"
TABLES = ("orders", "order_items", "menu_availability")
CONTENDERS = ("official", "consumer", "engine", "engine-thread")
DEFAULT_CONTENDERS = ("official", "consumer", "engine")
ITEM_NAMES = (("Burger", "grill"), ("Fries", "fryer"), ("Shake", "bar"), ("Salad", "cold"))
IDLE_S = 15.0
"""A contender that has heard nothing for this long after the stream ended stops and reports what it got."""


def token(role: DeviceRole, device: str, stations: list[str] | None = None) -> str:
    return issue_token(
        SECRET, restaurant_id=RESTAURANT, device_role=role, subject=device, stations=stations, ttl_s=7200
    )


def updated_at(record: Any) -> float:
    value = record["updated_at"] if isinstance(record, dict) else record.updated_at
    return (value if isinstance(value, datetime) else datetime.fromisoformat(value)).timestamp()


# ---------------------------------------------------------------- the contenders (child processes)


class Recorder:
    """Latencies and the CPU window of one contender; `done` is set when every expected event is in."""

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.latencies: list[float] = []
        self.done = asyncio.Event()
        self.last = time.monotonic()
        self.cpu0 = self.wall0 = self.cpu1 = self.wall1 = 0.0
        self.profile: cProfile.Profile | None = None

    def start(self, profile: bool) -> None:
        if profile:
            # CPU time, not wall time: the event loop's idle wait in epoll would otherwise top every list.
            self.profile = cProfile.Profile(time.process_time)
            self.profile.enable()
        self.cpu0, self.wall0 = time.process_time(), time.monotonic()
        sys.stdout.write("ready\n")
        sys.stdout.flush()

    def add(self, received: float, written: float) -> None:
        self.latencies.append((received - written) * 1000)
        self.last = time.monotonic()
        if len(self.latencies) >= self.expected and not self.done.is_set():
            self.cpu1, self.wall1 = time.process_time(), time.monotonic()
            if self.profile is not None:
                self.profile.disable()
            self.done.set()

    async def wait(self) -> None:
        while not self.done.is_set():
            try:
                await asyncio.wait_for(self.done.wait(), 1.0)
            except TimeoutError:
                if self.latencies and time.monotonic() - self.last > IDLE_S:
                    self.cpu1, self.wall1 = time.process_time(), self.last
                    if self.profile is not None:
                        self.profile.disable()
                    return

    def report(self, out: Path, profile_out: Path | None) -> None:
        if self.profile is not None and profile_out is not None:
            self.profile.dump_stats(profile_out)
        result = {
            "events": len(self.latencies),
            "expected": self.expected,
            "cpu_s": self.cpu1 - self.cpu0,
            "wall_s": self.wall1 - self.wall0,
            "latencies_ms": self.latencies,
        }
        out.write_text(json.dumps(result))


async def run_official(url: str, rec: Recorder, profile: bool) -> None:
    from realtime import AsyncRealtimeClient

    client = AsyncRealtimeClient(f"{url}/realtime/v1", token(DeviceRole.kds, "kds-official", ["grill"]))
    live = asyncio.Event()

    def on_change(payload: dict[str, Any]) -> None:
        received = time.time()
        data = payload["data"]
        rec.add(received, updated_at(data["record"] if "record" in data else data["old_record"]))

    def on_system(payload: Any) -> None:
        if getattr(payload, "extension", None) == "postgres_changes" and getattr(payload, "status", None) == "ok":
            live.set()

    channel = client.channel(f"kds-{RESTAURANT}")
    for table in TABLES:
        channel.on_postgres_changes(
            "*", on_change, table=table, schema="public", filter=f"restaurant_id=eq.{RESTAURANT}"
        )
    channel.on_system(on_system)
    try:
        await channel.subscribe()
        await asyncio.wait_for(live.wait(), 30)
        rec.start(profile)
        await rec.wait()
    finally:
        await client.close()


async def run_consumer(url: str, rec: Recorder, profile: bool) -> None:
    from api_client.token_provider import StaticTokenProvider
    from sync.realtime.changes import RawChange
    from sync.realtime.connection import ChangeEvent, Event, LiveAgain, RealtimeConnection
    from sync.realtime.phoenix import Binding, ChannelSpec

    # The engine's channel spec (sync/engine/engine.py): its three tables, filtered to its restaurant.
    spec = ChannelSpec(f"kds-{RESTAURANT}", tuple(Binding(t, filter=f"restaurant_id=eq.{RESTAURANT}") for t in TABLES))
    conn = RealtimeConnection(
        url,
        issue_anon_key(SECRET),
        [spec],
        token_provider=StaticTokenProvider(token(DeviceRole.kds, "kds-consumer", ["grill"])),
    )
    live = asyncio.Event()

    def handler(event: Event) -> None:
        if isinstance(event, LiveAgain):
            live.set()
        elif isinstance(event, ChangeEvent) and not isinstance(event.change, RawChange):
            received = time.time()
            change = event.change
            rec.add(received, updated_at(change.record if change.record is not None else change.old_record))

    conn.add_handler(handler)
    async with conn:
        await asyncio.wait_for(live.wait(), 30)
        rec.start(profile)
        await rec.wait()


async def run_engine(url: str, rec: Recorder, profile: bool, data_dir: Path, *, store_thread: bool = False) -> None:
    from api_client.token_provider import StaticTokenProvider
    from sync.engine.engine import EngineConfig, SyncEngine
    from sync.realtime.changes import RawChange
    from sync.realtime.connection import ChangeEvent, ConnectionState, Event

    device = "r1-kds-grill-bench"
    config = EngineConfig(
        url=url,
        anon_key=issue_anon_key(SECRET),
        restaurant_id=RESTAURANT,
        device_id=device,
        role=DeviceRole.kds,
        stations=("grill",),
        token_provider=StaticTokenProvider(token(DeviceRole.kds, device, ["grill"])),
        data_path=data_dir / f"{device}.db",
        # Only named when on: the same script then still runs an engine from before the store writer (an A/B).
        **({"store_thread": True} if store_thread else {}),
    )
    engine = SyncEngine(config)
    pending: dict[UUID, list[float]] = defaultdict(list)

    def heard(event: Event) -> None:
        # Runs right after the engine's own handler queued the frame: remembers the event's order and commit time.
        if isinstance(event, ChangeEvent) and not isinstance(event.change, RawChange):
            record = event.change.record
            if record is not None:
                order_id = getattr(record, "order_id", None) or record.id
                pending[order_id].append(updated_at(record))

    def notified(order_ids: frozenset[UUID]) -> None:
        now = time.time()
        for order_id in order_ids:
            for written in pending.pop(order_id, ()):
                rec.add(now, written)

    engine.on_changes(notified)
    await engine.start()
    try:
        engine.realtime.add_handler(heard)
        await asyncio.wait_for(engine.caught_up.wait_for(True), 60)
        await asyncio.wait_for(engine.connection_state.wait_for(ConnectionState.LIVE), 60)
        rec.start(profile)
        await rec.wait()
    finally:
        await engine.stop()


def child(args: argparse.Namespace) -> None:
    rec = Recorder(args.expected)
    profile = args.profile is not None

    async def go() -> None:
        if args.child == "official":
            await run_official(args.url, rec, profile)
        elif args.child == "consumer":
            await run_consumer(args.url, rec, profile)
        else:
            with tempfile.TemporaryDirectory() as tmp:
                await run_engine(args.url, rec, profile, Path(tmp), store_thread=args.child == "engine-thread")

    asyncio.run(go())
    rec.report(Path(args.out), Path(args.profile) if profile else None)


# ---------------------------------------------------------------- the parent: server, POS, rounds


def start_server(data_dir: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "KDS_DATA_DIR": str(data_dir), "KDS_JWT_SECRET": SECRET}
    env |= {"KDS_RATE_LIMIT": "100000", "KDS_RATE_BURST": "100000"}
    env["KDS_DATABASE_URL"] = f"sqlite:///{data_dir / 'companion.db'}"
    cmd = [sys.executable, "-m", "kds_backend.cli", "serve", "--port", str(port), "--log-level", "warning"]
    log = (data_dir / "server.log").open("wb")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_healthy(proc, url, (data_dir / "server.log").read_text, 120)  # a loaded machine starts it slowly
    except (RuntimeError, TimeoutError):
        proc.kill()
        raise
    return proc, url


async def post_orders(url: str, orders: int, items: int, rate: float) -> None:
    headers = {"apikey": issue_anon_key(SECRET), "Authorization": f"Bearer {token(DeviceRole.pos, 'pos-1')}"}
    lines = [{"name": name, "category": station} for name, station in (ITEM_NAMES * items)[:items]]
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=30) as http:
        start = time.perf_counter()
        for n in range(orders):
            # Paced against the start, so a slow request does not slow the schedule down.
            await asyncio.sleep(max(0.0, start + n / rate - time.perf_counter()))
            body = {"number": f"B{n}", "table_label": "12", "items": lines}
            r = await http.post("/api/v1/orders", json=body, headers={"Idempotency-Key": str(uuid.uuid4())})
            r.raise_for_status()


@dataclass
class Run:
    contender: str
    round: int
    load: float
    events: int
    expected: int
    cpu_us_per_event: float
    p50: float
    p99: float
    max: float


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def one_run(contender: str, rnd: int, args: argparse.Namespace, profile: Path | None = None) -> Run:
    expected = args.orders * (1 + args.items)
    with tempfile.TemporaryDirectory(dir=args.data_dir) as tmp:
        proc, url = start_server(Path(tmp))
        out = Path(tmp) / "result.json"
        cmd = [sys.executable, __file__, "--child", contender, "--url", url, "--expected", str(expected)]
        cmd += ["--out", str(out)] + (["--profile", str(profile)] if profile else [])
        load = os.getloadavg()[0]
        kid = subprocess.Popen(cmd, stdout=subprocess.PIPE, cwd=ROOT)
        try:
            assert kid.stdout is not None
            line = kid.stdout.readline()
            if line.strip() != b"ready":
                raise RuntimeError(f"{contender} did not get ready: {line!r}")
            asyncio.run(post_orders(url, args.orders, args.items, args.rate))
            if kid.wait(120) != 0:
                raise RuntimeError(f"{contender} exited {kid.returncode}")
        finally:
            if kid.poll() is None:
                kid.kill()
            proc.terminate()
            proc.wait(15)
        result = json.loads(out.read_text())
    lat = result["latencies_ms"]
    return Run(
        contender,
        rnd,
        load,
        result["events"],
        expected,
        result["cpu_s"] / max(1, result["events"]) * 1e6,
        statistics.median(lat),
        percentile(lat, 0.99),
        max(lat),
    )


def spread(values: list[float], fmt: str = "{:.2f}") -> str:
    if len(values) == 1:
        return fmt.format(values[0])
    return f"{fmt.format(statistics.median(values))} ({fmt.format(min(values))}-{fmt.format(max(values))})"


def summarize(runs: list[Run], contenders: list[str]) -> str:
    lines = ["", "| contender | CPU µs/event | p50 ms | p99 ms | CPU x official | p50 x official | p99 x official |"]
    lines.append("|---|---:|---:|---:|---:|---:|---:|")
    by_round: dict[int, dict[str, Run]] = defaultdict(dict)
    for r in runs:
        by_round[r.round][r.contender] = r
    for name in contenders:
        mine = [r for r in runs if r.contender == name]
        ratios: dict[str, list[float]] = {"cpu": [], "p50": [], "p99": []}
        for rnd in by_round.values():
            if name in rnd and "official" in rnd:
                o, m = rnd["official"], rnd[name]
                ratios["cpu"].append(m.cpu_us_per_event / o.cpu_us_per_event)
                ratios["p50"].append(m.p50 / o.p50)
                ratios["p99"].append(m.p99 / o.p99)
        cells = [
            spread([r.cpu_us_per_event for r in mine], "{:.0f}"),
            spread([r.p50 for r in mine], "{:.1f}"),
            spread([r.p99 for r in mine], "{:.1f}"),
            *(spread(ratios[k]) + "x" if ratios[k] else "-" for k in ("cpu", "p50", "p99")),
        ]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    lines.append("")
    lines.append("Medians over the rounds, (min-max) in brackets; ratios are taken within each round.")
    return "\n".join(lines) + "\n"


def print_profile(path: Path, top: int = 25) -> None:
    for key in ("cumulative", "tottime"):
        buf = io.StringIO()
        pstats.Stats(str(path), stream=buf).strip_dirs().sort_stats(key).print_stats(top)
        sys.stdout.write(f"\n## engine profile, top {top} by {key}\n")
        text = buf.getvalue()
        sys.stdout.write(text[text.find("   ncalls") :] if "   ncalls" in text else text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--orders", type=int, default=2000)
    parser.add_argument("--items", type=int, default=3, help="items per order (one event each, plus the order's)")
    parser.add_argument("--rate", type=float, default=100.0, help="orders per second")
    parser.add_argument("--contenders", nargs="+", choices=CONTENDERS, default=list(DEFAULT_CONTENDERS))
    parser.add_argument("--data-dir", help="where the companion's SQLite file goes (default: TMPDIR)")
    parser.add_argument("--profile-engine", help="after the rounds, one more engine run under cProfile, saved here")
    parser.add_argument("--child", choices=CONTENDERS, help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--expected", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    parser.add_argument("--profile", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return
    out = sys.stdout
    out.write(
        f"# {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}; {args.orders} orders x "
        f"{args.items} items at {args.rate:g}/s = {args.orders * (1 + args.items)} events per run; "
        f"companion SQLite in {args.data_dir or 'TMPDIR'}; {time.strftime('%Y-%m-%d %H:%M')}\n"
    )
    out.write("| round | contender | load 1m | events | CPU µs/event | p50 ms | p99 ms | max ms |\n")
    out.write("|---:|---|---:|---:|---:|---:|---:|---:|\n")
    runs: list[Run] = []
    for rnd in range(1, args.rounds + 1):
        for name in args.contenders:
            r = one_run(name, rnd, args)
            runs.append(r)
            missing = "" if r.events == r.expected else f" of {r.expected}"
            out.write(
                f"| {rnd} | {name} | {r.load:.2f} | {r.events}{missing} | {r.cpu_us_per_event:.0f} | {r.p50:.1f} | "
                f"{r.p99:.1f} | {r.max:.1f} |\n"
            )
            out.flush()
    if runs:
        out.write(summarize(runs, args.contenders))
    if args.profile_engine:
        path = Path(args.profile_engine).resolve()
        r = one_run("engine", 0, args, profile=path)
        out.write(
            f"\nprofiled engine run (load {r.load:.2f}): CPU {r.cpu_us_per_event:.0f} µs/event under cProfile, "
            f"p50 {r.p50:.1f} ms, p99 {r.p99:.1f} ms; stats in {path}\n"
        )
        print_profile(path)
    out.flush()


if __name__ == "__main__":
    main()
