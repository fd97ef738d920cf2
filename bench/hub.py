"""The kitchen hub (issue 14): LAN screen → LAN screen latency through the hub, with its upstream link up and cut,
and the hub's forward throughput to upstream once the link is back.

Real processes on loopback, as `tests/kds_backend/hub/tiers.py` wires them:
* **upstream**: `kds-backend serve` (SQLite, WAL, `synchronous=FULL`), where a POS creates the orders;
* **the link**: a TCP proxy between hub and upstream in a process of its own (`tests/tcp_proxy.py`), whose cut is a
  pulled cable: bytes stop both ways, nothing is closed;
* **hub**: `kds-backend serve` with `KDS_UPSTREAM_URL` (the link), `KDS_UPSTREAM_ANON_KEY`, `KDS_UPSTREAM_TOKEN` (an
  admin device of upstream's restaurant) and `KDS_UPSTREAM_HEARTBEAT_S` (`--heartbeat`);
* **LAN screens**: each a real `sync.engine.SyncEngine` on the hub in a process of its own (this script with
  `_screen`), driven over stdin/stdout by this process.

Phases (after `--warmup` s of taps, not reported: first connections and catch-ups):
1. `online`: screen A (a kds screen) taps at `--rate` for `--seconds`: bump_item / unbump_item toggles over its
   orders' items, every `--rush-every`th a rush / normal toggle of an order. Screen B (expo) timestamps, in its
   change notification (`engine.on_changes`, then `engine.shown_orders`), each item status and order priority it
   shows changing. A tap's latency = B shows the tapped state - the moment before A's `submit` (which includes A's
   own durable local write). Wall clocks of one machine.
2. `cut`: the same with the hub's upstream link cut (the LAN must not notice).
3. `backlog`: still cut, `--devices` more LAN screens (their stores on `--backlog-store-dir`, tmpfs by default)
   each submit their share of `--backlog` intents back to back, then their uploaders send them in batches of
   200; timed until the hub has answered them all (every one applied at the hub and queued for upstream in the
   same write). The hub's queue for upstream now holds the cut phase's taps and these.
4. `drain`: the link is restored; screen A keeps tapping at `--rate` (latency while the hub forwards) until
   upstream's ledger holds every queued intent, at least `--drain-seconds` (`--no-drain-taps`: no taps, so the
   forward has the machine to itself and its CPU figures are the forward's alone). Forward throughput = queued intents /
   (last one in upstream's ledger - restore), and from the first forwarded batch to the last (upstream's
   `received_at`, its write transaction's time).
Then every intent sent in every phase is looked up in upstream's and the hub's `intent_ledger`: lost (missing),
not applied, under another device or sequence; and every touched item's version upstream must be 1 + the taps on
it (an intent applied twice would show there); upstream, hub and screen B must show the same final states.

`--plain` is the baseline: the same two screens and taps (warm-up, then one phase) on a companion with no
upstream, as a kitchen on a hub alone has it.

    .venv/bin/python bench/hub.py                        # ~1.5 min: 20 taps/s x 20 s per phase, backlog 2,000
    .venv/bin/python bench/hub.py --plain                # ~30 s: the baseline without an upstream
    .venv/bin/python bench/hub.py --seconds 60 --backlog 10000 --json hub.json
    .venv/bin/python bench/hub.py --heartbeat 25         # the hub's production heartbeat (noticing the restore)

Reported: p50/p99/max and count of tap → shown per phase, taps never shown, state changes B showed that no tap
explains (flicker), the worst latency per 5 s of each phase, the hub's intake rate offline, the forward figures,
CPU seconds of every process per phase, and the 1-minute load average before and after.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import os
import platform
import shutil
import signal
import sqlite3
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
sys.path.insert(0, str(ROOT))

from api_client.models import DeviceRole  # noqa: E402
from kds_backend.auth.tokens import issue_anon_key, issue_token  # noqa: E402

UPSTREAM_SECRET = "bench-upstream-secret-0123456789abcdef-0123456789"
HUB_SECRET = "bench-hub-secret-0123456789abcdef-0123456789abcdef"
RESTAURANT = "r1"
CLK_TCK = os.sysconf("SC_CLK_TCK")
ITEMS = [("Burger", "grill"), ("Fries", "fryer"), ("Caesar", "salad")]


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (Linux /proc)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK


def pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def load1() -> float:
    return os.getloadavg()[0]


def out(message: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(message) + "\n")
    sys.stdout.flush()


async def read_line() -> str:
    return await asyncio.to_thread(sys.stdin.readline)


# ====================================================================== the link (a child process)


async def link_main(port: int) -> None:
    """`_link PORT`: a cuttable TCP proxy to 127.0.0.1:PORT; prints its URL, then obeys `cut` / `restore` lines."""
    from tests.tcp_proxy import TcpProxy

    proxy = TcpProxy("127.0.0.1", port)
    await proxy.start()
    out({"url": proxy.url})
    while line := (await read_line()).strip():
        if line == "cut":
            proxy.blackhole()
        elif line == "restore":
            proxy.restore()
        out({"ok": line})
    await proxy.stop()


# ====================================================================== a LAN screen (a child process)


class Screen:
    """One LAN screen: a real SyncEngine on the hub, tapping or watching on command."""

    def __init__(self, engine: Any) -> None:
        self.engine = engine
        self.state: dict[str, str] = {}  # what this screen's own taps left (it is the only one tapping these)
        self.items: list[tuple[uuid.UUID, uuid.UUID]] = []
        self.orders: list[uuid.UUID] = []
        self.count = self.item_i = self.order_i = 0
        self.watching: frozenset[uuid.UUID] = frozenset()
        self.seen: dict[str, str] = {}
        self.log: list[tuple[float, str, str]] = []

    def shows(self, order_ids: list[uuid.UUID] | frozenset[uuid.UUID]) -> dict[str, str]:
        state: dict[str, str] = {}
        for order_id, order in self.engine.shown_orders(order_ids).items():
            if order is None:
                continue
            state[f"o:{order_id}"] = order.priority.value
            for item in order.order_items:
                state[f"i:{item.id}"] = item.status.value
        return state

    # ---------------------------------------------------------------- commands

    async def wait_orders(self, msg: dict[str, Any]) -> dict[str, Any]:
        ids = [uuid.UUID(i) for i in msg["orders"]]

        def ready() -> bool:
            return all(o is not None for o in self.engine.shown_orders(ids).values())

        async with self.engine.changes() as changes, asyncio.timeout(msg.get("timeout", 60)):
            while not ready():
                await changes.get()
        return {"ok": True}

    async def plan(self, msg: dict[str, Any]) -> dict[str, Any]:
        """The orders this screen taps on (only it taps them, so it knows what each tap leaves)."""
        self.orders = [uuid.UUID(i) for i in msg["orders"]]
        shown = self.engine.shown_orders(self.orders)
        self.items = [(o, i.id) for o in self.orders for i in shown[o].order_items]  # type: ignore[union-attr]
        self.state = self.shows(self.orders)
        return {"items": len(self.items)}

    def _next(self, rush_every: int) -> dict[str, Any]:
        n, self.count = self.count, self.count + 1
        t = time.time()
        start = time.perf_counter()
        if rush_every and n % rush_every == rush_every - 1:
            order_id = self.orders[self.order_i % len(self.orders)]
            self.order_i += 1
            key = f"o:{order_id}"
            value = "normal" if self.state[key] == "rush" else "rush"
            intent = self.engine.submit("rush", order_id, args={"priority": value})
        else:
            order_id, item_id = self.items[self.item_i % len(self.items)]
            self.item_i += 1
            key = f"i:{item_id}"
            if self.state[key] == "done":
                value, intent = "cooking", self.engine.submit("unbump_item", order_id, item_id=item_id)
            else:
                value, intent = "done", self.engine.submit("bump_item", order_id, item_id=item_id)
        self.state[key] = value
        return {
            "t": t,
            "submit_s": time.perf_counter() - start,
            "key": key,
            "value": value,
            "id": str(intent.id),
            "seq": intent.device_seq,
            "device": intent.device_id,
        }

    async def tap(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Open loop: one tap every 1/rate s whatever happens, until `seconds` or `until` is written on stdin."""
        rate, seconds, rush_every = msg["rate"], msg["seconds"], msg.get("rush_every", 0)
        taps = []
        start = time.perf_counter()
        for i in range(int(rate * seconds)):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            taps.append(self._next(rush_every))
        return {"taps": taps}

    async def burst(self, msg: dict[str, Any]) -> dict[str, Any]:
        """`count` taps back to back (each its own durable write, through `SyncEngine.submit`; the loop is not given
        back in between, so the uploader sends them afterwards in full batches, as after a screen's own outage),
        then until the hub has answered every one."""
        taps = [self._next(msg.get("rush_every", 0)) for _ in range(msg["count"])]
        made = time.time()
        await asyncio.wait_for(self.engine.queue_depth.wait_for(0), msg.get("timeout", 300))
        return {"taps": taps, "made": made, "answered": time.time()}

    async def drained(self, msg: dict[str, Any]) -> dict[str, Any]:
        await asyncio.wait_for(self.engine.queue_depth.wait_for(0), msg.get("timeout", 60))
        return {"ok": True, "rejected": len(self.engine.rejected())}

    async def watch(self, msg: dict[str, Any]) -> dict[str, Any]:
        self.watching = frozenset(uuid.UUID(i) for i in msg["orders"])
        self.seen = self.shows(self.watching)
        self.engine.on_changes(self._changed)
        return {"ok": True}

    def _changed(self, ids: frozenset[uuid.UUID]) -> None:
        t = time.time()
        mine = ids & self.watching
        if not mine:
            return
        for key, value in self.shows(mine).items():
            if self.seen.get(key) != value:
                self.seen[key] = value
                self.log.append((t, key, value))

    async def expect(self, msg: dict[str, Any]) -> dict[str, Any]:
        """Until this screen shows every `state` key with its value (or the timeout): how many still differ."""
        want: dict[str, str] = msg["state"]
        orders = sorted({uuid.UUID(i) for i in msg["orders"]})

        def differing() -> int:
            shown = self.shows(orders)
            return sum(1 for k, v in want.items() if shown.get(k) != v)

        with contextlib.suppress(TimeoutError):
            async with self.engine.changes() as changes, asyncio.timeout(msg.get("timeout", 30)):
                while differing():
                    await changes.get()
        return {"differing": differing()}

    async def dump(self, _msg: dict[str, Any]) -> dict[str, Any]:
        log, self.log = self.log, []
        return {"log": log}


async def screen_main(args: argparse.Namespace) -> None:
    from api_client.token_provider import StaticTokenProvider
    from sync.engine.engine import EngineConfig, SyncEngine

    config = EngineConfig(
        url=args.url,
        anon_key=args.anon_key,
        restaurant_id=RESTAURANT,
        device_id=args.device,
        role=DeviceRole(args.role),
        token_provider=StaticTokenProvider(args.token),
        data_path=Path(args.data_dir) / f"{args.device}.sqlite3",
    )
    engine = SyncEngine(config)
    await engine.start()
    try:
        await asyncio.wait_for(engine.caught_up.wait_for(True), 60)
        screen = Screen(engine)
        out({"ready": True, "pid": os.getpid()})
        while line := (await read_line()).strip():
            msg = json.loads(line)
            if msg["cmd"] == "stop":
                break
            out(await getattr(screen, msg["cmd"])(msg))
    finally:
        await engine.stop()


# ====================================================================== the bench (this process)


class Child:
    """A child process of this script, spoken to in JSON lines."""

    def __init__(self, proc: asyncio.subprocess.Process, name: str) -> None:
        self.proc, self.name = proc, name
        self._lock = asyncio.Lock()

    @classmethod
    async def start(cls, name: str, argv: list[str], log: Path) -> tuple[Child, dict[str, Any]]:
        with log.open("ab") as err:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, str(SCRIPT), *argv,
                stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, stderr=err,
                limit=1 << 27, cwd=os.getcwd(),
            )
        child = cls(proc, name)
        return child, await child._read()

    async def _read(self, wait_s: float = 120) -> dict[str, Any]:
        assert self.proc.stdout is not None
        line = await asyncio.wait_for(self.proc.stdout.readline(), wait_s)
        if not line:
            raise RuntimeError(f"{self.name} exited ({await self.proc.wait()}); see its log")
        return json.loads(line)

    async def call(self, msg: dict[str, Any] | str, wait_s: float = 600) -> dict[str, Any]:
        assert self.proc.stdin is not None
        async with self._lock:
            self.proc.stdin.write(((msg if isinstance(msg, str) else json.dumps(msg)) + "\n").encode())
            await self.proc.stdin.drain()
            return await self._read(wait_s)

    @property
    def pid(self) -> int:
        return self.proc.pid

    async def close(self) -> None:
        if self.proc.returncode is None:
            with contextlib.suppress(Exception):
                assert self.proc.stdin is not None
                self.proc.stdin.write(b'{"cmd": "stop"}\n')
                self.proc.stdin.close()
            try:
                await asyncio.wait_for(self.proc.wait(), 20)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()


def token(secret: str, role: DeviceRole, device: str) -> str:
    return issue_token(secret, restaurant_id=RESTAURANT, device_role=role, subject=device, stations=[],
                       ttl_s=24 * 3600)


def order_body(n: int) -> dict[str, Any]:
    return {
        "number": f"H{n}",
        "source": "pos",
        "type": "dine_in",
        "table_label": str(n % 40),
        "items": [{"name": name, "category": station} for name, station in ITEMS],
    }


class Processes:
    """Every process of the bench, for CPU per phase."""

    def __init__(self) -> None:
        self.pids: dict[str, int] = {}
        self.bench = "bench (this process)"

    def sample(self) -> dict[str, float]:
        sample = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        sample[self.bench] = time.process_time()
        return sample

    @staticmethod
    def spent(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
        return {name: round(after[name] - before.get(name, 0.0), 2) for name in after}


def latencies(taps: list[dict[str, Any]], log: list[list[Any]]) -> dict[str, Any]:
    """Each tap matched with the first time B showed its key at its value, after the tap and before the next tap
    of the same key; what B showed that no tap explains is counted as flicker."""
    shown: dict[str, list[tuple[float, str]]] = defaultdict(list)
    for t, key, value in log:
        shown[key].append((t, value))
    by_key: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for tap in sorted(taps, key=lambda x: x["t"]):
        by_key[tap["key"]].append(tap)
    used = 0
    for key, key_taps in by_key.items():
        seen = shown.get(key, [])
        for i, tap in enumerate(key_taps):
            end = key_taps[i + 1]["t"] if i + 1 < len(key_taps) else float("inf")
            match = next((t for t, v in seen if v == tap["value"] and tap["t"] <= t < end), None)
            tap["lat"] = None if match is None else match - tap["t"]
            used += match is not None
    keys = set(by_key)
    flicker = sum(len(v) for k, v in shown.items() if k in keys) - used
    return {"flicker": flicker}


def summary(taps: list[dict[str, Any]], start: float) -> dict[str, Any]:
    lat = [t["lat"] * 1000 for t in taps if t.get("lat") is not None]
    windows: dict[int, float] = defaultdict(float)
    for t in taps:
        w = int((t["t"] - start) // 5)
        windows[w] = max(windows[w], 1e9 if t.get("lat") is None else t["lat"] * 1000)  # 1e9: never shown
    submit = [t["submit_s"] * 1000 for t in taps]
    return {
        "taps": len(taps),
        "shown": len(lat),
        "never": len(taps) - len(lat),
        "p50_ms": round(pct(lat, 0.5), 1) if lat else None,
        "p99_ms": round(pct(lat, 0.99), 1) if lat else None,
        "max_ms": round(max(lat), 1) if lat else None,
        "worst_per_5s_ms": [round(windows[w], 0) for w in sorted(windows)],
        "submit_p50_ms": round(pct(submit, 0.5), 2) if submit else None,
    }


def ledger_rows(db_path: Path) -> dict[str, tuple[str, str, int, str | None, float]]:
    """A companion's intent ledger: intent id -> (device, status, device_seq, reason, received_at epoch s)."""
    import sqlalchemy as sa

    from kds_backend.db.engine import make_engine
    from kds_backend.db.tables import intent_ledger

    engine = make_engine(f"sqlite:///{db_path}")
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.select(
                    intent_ledger.c.intent_id, intent_ledger.c.device_id, intent_ledger.c.status,
                    intent_ledger.c.device_seq, intent_ledger.c.reason, intent_ledger.c.received_at,
                )
            )
            return {
                str(r.intent_id): (r.device_id, r.status, r.device_seq, r.reason, _epoch(r.received_at)) for r in rows
            }
    finally:
        engine.dispose()


def _epoch(value: datetime) -> float:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()


def items_on(db_path: Path) -> dict[str, tuple[str, int]]:
    """item id -> (status, version), and order id -> (priority, version) under `o:` / `i:` keys."""
    import sqlalchemy as sa

    from kds_backend.db.engine import make_engine
    from kds_backend.db.tables import order_items, orders

    engine = make_engine(f"sqlite:///{db_path}")
    try:
        with engine.connect() as conn:
            rows = {f"i:{r.id}": (r.status, r.version) for r in conn.execute(
                sa.select(order_items.c.id, order_items.c.status, order_items.c.version))}
            rows |= {f"o:{r.id}": (r.priority, r.version) for r in conn.execute(
                sa.select(orders.c.id, orders.c.priority, orders.c.version))}
            return rows
    finally:
        engine.dispose()


def ledger_count(db_path: Path) -> int:
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)) as conn:
        return conn.execute("SELECT count(*) FROM intent_ledger").fetchone()[0]


def change_counter(db_path: Path) -> int:
    """A companion's row changes so far (every written row takes the next change_seq)."""
    with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)) as conn:
        return conn.execute("SELECT value FROM change_counter WHERE id = 1").fetchone()[0]


def queued_at_hub(store: Path) -> int:
    """Intents in the hub's queue for upstream (its mirror engine's outbox), rejected ones left out."""
    with contextlib.closing(sqlite3.connect(f"file:{store}?mode=ro", uri=True, timeout=5)) as conn:
        return conn.execute("SELECT count(*) FROM outbox WHERE state != 'rejected'").fetchone()[0]


async def post_orders(url: str, secret: str, count: int) -> list[str]:
    from bench.raw_http import RawClient

    pos = token(secret, DeviceRole.pos, "r1-pos")
    client = RawClient(url, {"apikey": issue_anon_key(secret), "Authorization": f"Bearer {pos}"}, 4)
    try:
        ids = []
        for n in range(count):
            status, body = await client.post("/api/v1/orders", order_body(n), {"Idempotency-Key": str(uuid.uuid4())})
            if status != 201:
                raise RuntimeError(f"POS intake upstream failed: {status} {body[:300]!r}")
            ids.append(json.loads(body)["id"])
        return ids
    finally:
        await client.aclose()


def code_state() -> str:
    """The commit, and which files of the code under test differ from it (others work in the same tree)."""
    def git(*argv: str) -> str:
        return subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, check=False).stdout.strip()

    dirty = git("status", "--short", "--", "kds_backend", "sync", "api_client").splitlines()
    return f"{git('rev-parse', '--short', 'HEAD')}" + (f" + {len(dirty)} changed files: {dirty}" if dirty else "")


async def run(args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    from tests.live_server import LiveServer

    procs = Processes()
    children: list[Child] = []
    servers: list[Any] = []
    cleanup: list[Path] = []
    result: dict[str, Any] = {
        "command": " ".join(["bench/hub.py", *sys.argv[1:]]),
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}",
        "load_before": round(load1(), 2),
        "started": datetime.now().isoformat(timespec="seconds"),
        "code": code_state(),
    }
    try:
        if args.plain:
            # The baseline: the same LAN screens and taps on a companion with no upstream (what a kitchen on a hub
            # alone has had so far).
            (tmp / "plain").mkdir()
            hub = LiveServer(tmp / "plain", f"sqlite:///{tmp / 'plain' / 'companion.db'}", HUB_SECRET)
            servers.append(hub)
            await asyncio.to_thread(hub.wait_ready)
            procs.pids["companion"] = hub.proc.pid
            orders_url, orders_secret = hub.url, HUB_SECRET
            args.devices = 0
        else:
            (tmp / "upstream").mkdir()
            (tmp / "hub").mkdir()
            upstream = LiveServer(tmp / "upstream", f"sqlite:///{tmp / 'upstream' / 'companion.db'}", UPSTREAM_SECRET)
            servers.append(upstream)
            await asyncio.to_thread(upstream.wait_ready)
            link, hello = await Child.start("link", ["_link", str(upstream.port)], tmp / "link.log")
            children.append(link)
            hub_env = {
                "KDS_UPSTREAM_URL": hello["url"],
                "KDS_UPSTREAM_ANON_KEY": issue_anon_key(UPSTREAM_SECRET),
                "KDS_UPSTREAM_TOKEN": token(UPSTREAM_SECRET, DeviceRole.admin, "r1-hub"),
                "KDS_UPSTREAM_HEARTBEAT_S": str(args.heartbeat),
            }
            hub = LiveServer(tmp / "hub", f"sqlite:///{tmp / 'hub' / 'companion.db'}", HUB_SECRET, env=hub_env)
            servers.append(hub)
            await asyncio.to_thread(hub.wait_ready)
            procs.pids |= {"upstream": upstream.proc.pid, "hub": hub.proc.pid, "link proxy": link.pid}
            orders_url, orders_secret = upstream.url, UPSTREAM_SECRET

        hub_db = Path(hub.database_url.removeprefix("sqlite:///"))
        per_device = 10
        order_ids = await post_orders(orders_url, orders_secret, args.orders + per_device * args.devices)
        tap_orders = order_ids[: args.orders]
        device_orders = [order_ids[args.orders + d * per_device: args.orders + (d + 1) * per_device]
                         for d in range(args.devices)]

        # The backlog devices' own stores: tmpfs by default, so the backlog is made at the hub's pace rather than at
        # the pace of their local fsyncs (a durable tap takes a screen 10-80 ms on the 2-core VM); the hub, upstream
        # and screens A and B keep theirs on disk.
        backlog_dir = Path(tempfile.mkdtemp(prefix="kds-bench-hub-", dir=args.backlog_store_dir or tmp))
        cleanup.append(backlog_dir)

        async def screen(device: str, role: DeviceRole, data_dir: Path = tmp) -> Child:
            argv = ["_screen", "--url", hub.url, "--anon-key", issue_anon_key(HUB_SECRET), "--device", device,
                    "--role", role.value, "--token", token(HUB_SECRET, role, device), "--data-dir", str(data_dir)]
            child, _ = await Child.start(device, argv, tmp / f"{device}.log")
            children.append(child)
            procs.pids[f"screen {device}"] = child.pid
            await child.call({"cmd": "wait_orders", "orders": order_ids, "timeout": 120})
            return child

        tapper, watcher, *devices = await asyncio.gather(
            screen("r1-kds-lan-a", DeviceRole.kds),
            screen("r1-expo-lan-b", DeviceRole.expo),
            *(screen(f"r1-kds-lan-{d + 1}", DeviceRole.kds, backlog_dir) for d in range(args.devices)),
        )
        await tapper.call({"cmd": "plan", "orders": tap_orders})
        for device, orders in zip(devices, device_orders, strict=True):
            await device.call({"cmd": "plan", "orders": orders})
        await watcher.call({"cmd": "watch", "orders": tap_orders})
        result["setup"] = {"orders": len(order_ids), "tap_orders": len(tap_orders), "items_per_order": len(ITEMS)}

        sent: list[dict[str, Any]] = []  # every tap of every device, for the ledger checks
        expected: dict[str, str] = {}  # the state every tap leaves (each key is tapped by one device only)
        on_a: dict[str, str] = {}  # the same for screen A's taps: what screen B must end up showing
        phases: dict[str, Any] = {}
        taps_msg = {"cmd": "tap", "rate": args.rate, "rush_every": args.rush_every}

        async def tap_phase(name: str, seconds: float, until: asyncio.Event | None = None) -> dict[str, Any]:
            """Screen A taps for `seconds`; with `until`, in 1 s rounds until it is set too (at most
            `--drain-timeout` more)."""
            cpu, start, load = procs.sample(), time.time(), load1()
            changes = change_counter(hub_db)
            taps: list[dict[str, Any]] = []
            began = time.monotonic()
            while True:
                left = seconds - (time.monotonic() - began)
                if until is None:
                    taps += (await tapper.call({**taps_msg, "seconds": seconds}))["taps"]
                    break
                if (left <= 0 and until.is_set()) or time.monotonic() - began > seconds + args.drain_timeout:
                    break
                taps += (await tapper.call({**taps_msg, "seconds": 1.0}))["taps"]
            sent.extend(taps)
            expected.update({t["key"]: t["value"] for t in taps})
            on_a.update({t["key"]: t["value"] for t in taps})
            settled = await watcher.call({"cmd": "expect", "orders": tap_orders, "state": on_a, "timeout": 30})
            log = (await watcher.call({"cmd": "dump"}))["log"]
            info = latencies(taps, log)
            phase = {**summary(taps, start), **info, "unsettled_after_30s": settled["differing"],
                     "seconds": round(time.time() - start, 1), "load": [round(load, 2), round(load1(), 2)],
                     # Rows the hub wrote (each pushed to every LAN screen); `--plain` gives the baseline.
                     "hub_rows_per_tap": round((change_counter(hub_db) - changes) / max(1, len(taps)), 2),
                     "cpu_s": procs.spent(cpu, procs.sample())}
            phases[name] = phase
            print(f"{name}: {json.dumps({k: v for k, v in phase.items() if k != 'cpu_s'})}", flush=True)
            return phase

        if args.plain:
            await tap_phase("warmup", args.warmup)
            await tap_phase("plain", args.seconds)
            await tapper.call({"cmd": "drained"})
            result["phases"] = phases
            return result

        upstream_db = tmp / "upstream" / "companion.db"

        async def upstream_has(count: int) -> bool:
            deadline = time.monotonic() + args.drain_timeout
            while ledger_count(upstream_db) < count:
                if time.monotonic() > deadline:
                    return False
                await asyncio.sleep(0.05)
            return True

        # 1. online (after a short warm-up: first connections, first catch-ups)
        await tap_phase("warmup", args.warmup)
        await tap_phase("online", args.seconds)
        await tapper.call({"cmd": "drained"})
        await upstream_has(len(sent))  # the cut starts with nothing of the online phase still to forward

        # 2. the link cut
        await link.call("cut")
        cut_at = time.time()
        await tap_phase("cut", args.seconds)
        await tapper.call({"cmd": "drained"})  # answered by the hub: nothing waits on the internet

        # 3. a backlog at the hub from several LAN devices, offline
        cpu, load = procs.sample(), load1()
        start = time.time()
        share = args.backlog // max(1, args.devices)
        replies = await asyncio.gather(
            *(d.call({"cmd": "burst", "count": share, "rush_every": args.rush_every}) for d in devices)
        )
        made, answered = max(r["made"] for r in replies), max(r["answered"] for r in replies)
        backlog = [t for r in replies for t in r["taps"]]
        sent.extend(backlog)
        expected.update({t["key"]: t["value"] for t in backlog})
        queued = queued_at_hub(tmp / "hub" / "upstream-mirror.sqlite3")
        phases["backlog"] = {
            "intents": len(backlog), "devices": args.devices, "made_s": round(made - start, 2),
            "answered_after_s": round(answered - made, 2),
            # Each device sends its queue in batches of 200, one in flight: the hub's pace from the last tap made
            # (the devices' uploads wait behind their own tap loops, so this bounds the hub's rate from below).
            "hub_intake_per_s": round(len(backlog) / max(1e-3, answered - made)),
            "queued_for_upstream": queued, "load": [round(load, 2), round(load1(), 2)],
            "cpu_s": procs.spent(cpu, procs.sample()),
        }
        print(f"backlog: {json.dumps({k: v for k, v in phases['backlog'].items() if k != 'cpu_s'})}", flush=True)
        queued_ids = {t["id"] for t in sent[-(len(backlog) + phases["cut"]["taps"]):]}  # the cut's taps and these

        # 4. the link restored: the hub forwards its queue while screen A keeps tapping
        cpu, load = procs.sample(), load1()
        before_drain = len(sent)
        await link.call("restore")
        restored = time.time()
        offline_s = restored - cut_at
        forwarded = asyncio.Event()
        tapping = asyncio.create_task(
            tap_phase("drain", args.drain_seconds, until=forwarded) if args.drain_taps else asyncio.sleep(0)
        )
        # The hub's queue is sent oldest first, so the drain phase's taps reach upstream after the queued ones:
        # the count says when to look; the ids say whether every queued one is there.
        await upstream_has(before_drain)
        up = ledger_rows(upstream_db)
        deadline = time.monotonic() + args.drain_timeout
        while not queued_ids <= up.keys() and time.monotonic() < deadline:
            await asyncio.sleep(0.2)
            up = ledger_rows(upstream_db)
        forwarded.set()
        forward_cpu = procs.spent(cpu, procs.sample())
        await tapping
        await asyncio.gather(tapper.call({"cmd": "drained"}), *(d.call({"cmd": "drained"}) for d in devices))
        await upstream_has(len(sent))  # the drain phase's taps too, before the ledgers are read
        up = ledger_rows(upstream_db)
        arrived = sorted(up[i][4] for i in queued_ids if i in up)
        forward: dict[str, Any] = {
            "queued": len(queued_ids), "arrived": len(arrived), "offline_s": round(offline_s, 1),
            "load": [round(load, 2), round(load1(), 2)], "cpu_s": forward_cpu,
        }
        if arrived:
            batches = sorted(set(arrived))
            gaps = [b - a for a, b in itertools.pairwise(batches)]
            forward |= {
                "restore_to_first_s": round(arrived[0] - restored, 2),
                "restore_to_all_s": round(arrived[-1] - restored, 2),
                "per_s_from_restore": round(len(arrived) / max(1e-3, arrived[-1] - restored)),
                "per_s_first_to_last": round((len(arrived) - 1) / max(1e-3, arrived[-1] - arrived[0])),
                "batches": len(batches),
                "batch_gap_p50_s": round(pct(gaps, 0.5), 3) if gaps else None,
                "batch_gap_max_s": round(max(gaps), 3) if gaps else None,
            }
        phases["forward"] = forward
        print(f"forward: {json.dumps({k: v for k, v in forward.items() if k != 'cpu_s'})}", flush=True)

        # Every intent: in upstream's ledger once, applied, under its own device and sequence; items tapped
        # n times are at version 1 + n upstream; upstream, hub and screen B show the same.
        hub_ledger = ledger_rows(tmp / "hub" / "companion.db")
        lost = [t for t in sent if t["id"] not in up]
        not_applied = [t for t in sent if t["id"] in up and up[t["id"]][1] != "applied"]
        wrong_device = [t for t in sent if t["id"] in up and up[t["id"]][:3:2] != (t["device"], t["seq"])]
        hub_not_applied = [t for t in sent if hub_ledger.get(t["id"], ("", ""))[1] != "applied"]
        taps_per_key: dict[str, int] = defaultdict(int)
        for t in sent:
            taps_per_key[t["key"]] += 1
        rows_up = items_on(upstream_db)
        rows_hub = items_on(tmp / "hub" / "companion.db")
        twice = [k for k, n in taps_per_key.items() if k.startswith("i:") and rows_up[k][1] != 1 + n]
        upstream_differs = [k for k, v in expected.items() if rows_up[k][0] != v]
        hub_differs = [k for k, v in expected.items() if rows_hub[k][0] != v]
        on_b = await watcher.call({"cmd": "expect", "orders": tap_orders, "state": on_a, "timeout": 10})
        result["checks"] = {
            "intents_sent": len(sent), "lost": len(lost), "not_applied_upstream": len(not_applied),
            "other_device_or_seq": len(wrong_device), "not_applied_at_hub": len(hub_not_applied),
            "items_off_version_upstream": len(twice), "upstream_differs": len(upstream_differs),
            "hub_differs": len(hub_differs), "screen_b_differs": on_b["differing"],
            "queued_at_hub_after": queued_at_hub(tmp / "hub" / "upstream-mirror.sqlite3"),
        }
        if not_applied:
            result["checks"]["not_applied_examples"] = [up[t["id"]][1:4:2] for t in not_applied[:5]]
        print(f"checks: {json.dumps(result['checks'])}", flush=True)
        result["phases"] = phases
    finally:
        for child in children:
            await child.close()
        for server in reversed(servers):
            server.stop()
        for directory in cleanup:
            shutil.rmtree(directory, ignore_errors=True)
        result["load_after"] = round(load1(), 2)
    return result


def report(result: dict[str, Any]) -> None:
    print(f"\n{result['machine']}; code {result['code']}")
    print(f"load 1 min {result['load_before']} -> {result['load_after']}")
    print("LAN tap (screen A) -> shown on screen B" + (" (no upstream):" if "plain" in result["phases"] else
                                                       ", through the hub:"))
    for name in ("plain", "online", "cut", "drain"):
        p = result["phases"].get(name)
        if p is None:
            continue
        print(
            f"  {name:7} {p['shown']}/{p['taps']} shown: p50 {p['p50_ms']} ms, p99 {p['p99_ms']} ms, "
            f"max {p['max_ms']} ms; never {p['never']}, flicker {p['flicker']}; A's submit p50 "
            f"{p['submit_p50_ms']} ms; load {p['load'][0]} -> {p['load'][1]}; worst per 5 s {p['worst_per_5s_ms']}"
        )
        print(f"          CPU s: {p['cpu_s']}")
    if "backlog" not in result["phases"]:
        return
    b = result["phases"]["backlog"]
    print(
        f"backlog offline: {b['intents']} intents made on {b['devices']} LAN devices in {b['made_s']} s, all answered "
        f"by the hub {b['answered_after_s']} s later ({b['hub_intake_per_s']}/s); queued for upstream: "
        f"{b['queued_for_upstream']}; "
        f"load {b['load'][0]} -> {b['load'][1]}\n          CPU s: {b['cpu_s']}"
    )
    f = result["phases"]["forward"]
    print(
        f"forward after {f['offline_s']} s offline: {f['arrived']}/{f['queued']} in upstream's ledger; restore -> "
        f"first {f.get('restore_to_first_s')} s, -> all {f.get('restore_to_all_s')} s; "
        f"{f.get('per_s_from_restore')}/s from restore, {f.get('per_s_first_to_last')}/s first to last batch "
        f"({f.get('batches')} batches); load {f['load'][0]} -> {f['load'][1]}\n          CPU s: {f['cpu_s']}"
    )
    print(f"checks: {result['checks']}")


def main(args: argparse.Namespace) -> None:
    with tempfile.TemporaryDirectory(prefix="kds-bench-hub-", dir=args.data_dir) as tmp:
        try:
            result = asyncio.run(run(args, Path(tmp)))
        except BaseException:
            if args.keep_logs:
                keep = Path(tempfile.mkdtemp(prefix="kds-bench-hub-logs-"))
                for log in Path(tmp).rglob("*.log"):
                    (keep / f"{log.parent.name}-{log.name}").write_bytes(log.read_bytes())
                print(f"logs kept in {keep}", file=sys.stderr)
            raise
    report(result)
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=1))


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=20, help="screen A's taps per second")
    parser.add_argument("--seconds", type=float, default=20, help="length of the online and the cut phase")
    parser.add_argument("--warmup", type=float, default=2, help="seconds of taps before the first phase (unreported)")
    parser.add_argument("--drain-seconds", type=float, default=10, help="screen A's taps after the restore")
    parser.add_argument("--no-drain-taps", dest="drain_taps", action="store_false",
                        help="screen A does not tap while the hub forwards its queue")
    parser.add_argument("--drain-timeout", type=float, default=120)
    parser.add_argument("--rush-every", type=int, default=5, help="every Nth tap is a rush toggle (0: none)")
    parser.add_argument("--orders", type=int, default=40, help="orders screen A taps on (3 items each)")
    parser.add_argument("--backlog", type=int, default=2000, help="intents queued offline by the other devices")
    parser.add_argument("--devices", type=int, default=3, help="LAN devices making the backlog (10 orders each)")
    parser.add_argument("--plain", action="store_true",
                        help="the baseline: the same taps through a companion with no upstream (one phase)")
    parser.add_argument("--heartbeat", type=float, default=1.0, help="KDS_UPSTREAM_HEARTBEAT_S of the hub")
    parser.add_argument("--data-dir", default=None, help="where the temporary directory goes (default: /tmp)")
    shm = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    parser.add_argument("--backlog-store-dir", default=shm,
                        help="where the backlog devices keep their stores (default /dev/shm; '' for --data-dir)")
    parser.add_argument("--json", help="write every figure to this file")
    parser.add_argument("--keep-logs", action="store_true", help="on failure, keep the processes' logs")
    return parser.parse_args()


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "_link":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        asyncio.run(link_main(int(sys.argv[2])))
    elif len(sys.argv) > 1 and sys.argv[1] == "_screen":
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        child = argparse.ArgumentParser()
        for flag in ("--url", "--anon-key", "--device", "--role", "--token", "--data-dir"):
            child.add_argument(flag, required=True)
        asyncio.run(screen_main(child.parse_args(sys.argv[2:])))
    else:
        main(parse_args())
