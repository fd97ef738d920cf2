"""End to end: POS commit on the companion → the WHOLE ticket painted on every screen (BRIEF §6, issue 15).

Starts `kds-backend serve` (loopback, SQLite in a temporary data dir, its own process), adds one device account
per screen, and starts N screens, each the real app (`python -m kds_app`: its `App`, the real `SyncEngine`,
`Screen`, grid and delegate) in its own process on the offscreen Qt platform, full screen (`kds --fullscreen`, as
on a kitchen PC) on a 1920x1080 virtual display (`--display`), configured as a cook would: a `config.json` naming the
companion, the device's email and the view (a grill station, or expo with `--expo`), the device password in the
data dir (`kds_app.startup.connect.save_credential`). Once every screen has painted a few warm-up orders, a POS posts
orders of 2-3 items through POS intake (`POST /api/v1/orders`) at a steady rate.

Every process traces its stages (`sync/trace.py`, enabled by `KDS_TRACE_FILE`): frame decoded by the realtime
connection → local store transaction committed → change notified to the app → `Screen.refresh` set the model →
card painted (first time per order, station and item count). Commit time is the order's `updated_at` in the
POS's answer: the companion's write transaction's start (same machine, wall clock), so it includes the write
itself and bounds commit → painted from above, as `bench/realtime_fanout.py` does.

Keeping new tickets on screen: cards are laid out oldest first and only about 15 fit at 1920x1080, so at 50
orders/s a new ticket would soon land past the screenful and never paint. `--rail`:
* `front` (default): the POS dates each order (`created_at`) 10 ms before the one posted before it, so every new
  ticket sorts first, in the top-left card, and the rail moves along by one card (a relayout and repaint of the
  screenful, as a rushed order or a bump of the first ticket causes). The POS cancels the order it posted
  `--keep-open` (100) orders earlier, off screen, so about 100 tickets stay open. Each order is 3-4 inserts and,
  2 s later, one cancel (an order update) for every screen; both are in the CPU figures.
* `painted`: orders are dated now (new tickets at the end, the natural place) and an order is cancelled as soon
  as every screen painted it whole (seen in the traces, written and polled every 20 ms). This keeps the rail short
  only while the screens and the loop keep up; once tickets pile up past the screenful, `model→paint` measures
  the wait for older tickets to be cleared, not the app. On a loaded 2-core machine it tipped over at 50/s.
* `none`: nothing is cleared: tickets past the first screenful never paint (a check of the bench itself).

    .venv/bin/python bench/e2e_paint.py                          # 1 screen, 500 orders at 50/s
    .venv/bin/python bench/e2e_paint.py --screens 4 --json e2e-4.json
    .venv/bin/python bench/e2e_paint.py --expo

Reported per screen: p50/p99/max of commit → whole ticket painted; stage p50s (commit → frame received, frame →
store committed, store → notified, notified → model set, model → painted; each order's stages end at its whole
paint, so they add up to it); tickets whose first paint had fewer items than the order (expo: cards first shown
with 0 items); CPU seconds of every process over the measured window (POS start → last whole paint seen), CPU ms
per order and % of a core; the 1-minute load average at start and end.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import json
import os
import platform
import random
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api_client.models import DeviceRole  # noqa: E402
from bench.raw_http import RawClient  # noqa: E402
from kds_app.startup.connect import save_credential  # noqa: E402
from kds_backend.auth.tokens import issue_anon_key, issue_token  # noqa: E402

SECRET = "bench-secret-bench-secret-bench-secret-0123456789"
RESTAURANT = "r1"
PASSWORD = "bench-password-1"
STATION = "grill"
MENU = {"grill": ["Burger", "Steak", "Chicken", "Lamb chops", "Halloumi"], "fry": ["Fries", "Calamari", "Wings"]}
CLK_TCK = os.sysconf("SC_CLK_TCK")
INF = float("inf")
POLL_S = 0.02  # how often the kitchen reads the traces (the screens write theirs every 20 ms)
STAGES = ("frame", "store", "notify", "model", "paint")
STAGE_NAMES = ("commit→frame", "frame→store", "store→notify", "notify→model", "model→paint")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(value: float) -> str:
    return "never" if value == INF else f"{value:.1f}"


def finite(value: float) -> float | None:
    """JSON has no infinity: an order never painted is null."""
    return None if value == INF or value != value else value


def median(values: list[float]) -> float:
    return percentile(values, 0.5)


def cpu_seconds(pid: int) -> float:
    """utime + stime of `pid` and its live descendants, from /proc."""
    children: dict[int, list[int]] = defaultdict(list)
    times: dict[int, float] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2 :].split()
        children[int(fields[1])].append(int(entry.name))
        times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / CLK_TCK
    total, todo = 0.0, [pid]
    while todo:
        p = todo.pop()
        total += times.get(p, 0.0)
        todo.extend(children.get(p, ()))
    return total


def git_commit() -> str:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True)
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"], cwd=ROOT,
                               capture_output=True, text=True).stdout.strip()
        return out.stdout.strip() + (" (+ uncommitted changes)" if dirty else "")
    except OSError:
        return "?"


# ---------------------------------------------------------------- processes


class Procs:
    """Every process the bench starts; `close()` ends them all (SIGTERM, then SIGKILL after a grace period)."""

    def __init__(self) -> None:
        self.procs: list[tuple[str, subprocess.Popen[bytes]]] = []
        self.logs: list[Any] = []

    def start(self, name: str, cmd: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
        out = log.open("wb")
        self.logs.append(out)
        # Own session: a Ctrl-C in the terminal reaches the bench only, which then stops these in order.
        proc = subprocess.Popen(cmd, env=env, stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, start_new_session=True)
        self.procs.append((name, proc))
        return proc

    def stop(self, procs: list[subprocess.Popen[bytes]], grace_s: float = 20.0) -> None:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + grace_s
        for proc in procs:
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    def close(self) -> None:
        screens = [p for name, p in self.procs if name != "companion"]
        self.stop(screens)
        self.stop([p for name, p in self.procs if name == "companion"])
        for out in self.logs:
            out.close()


def start_companion(procs: Procs, work: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    data = work / "companion"
    data.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("KDS_")}
    env.update(KDS_DATA_DIR=str(data), KDS_JWT_SECRET=SECRET, KDS_RATE_LIMIT="100000", KDS_RATE_BURST="100000",
               KDS_DATABASE_URL=f"sqlite:///{data / 'companion.db'}")
    cmd = [sys.executable, "-m", "kds_backend.cli", "serve", "--port", str(port), "--log-level", "warning"]
    proc = procs.start("companion", cmd, env, work / "companion.log")
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the companion exited ({proc.returncode}); see {work / 'companion.log'}")
        with contextlib.suppress(httpx.TransportError):
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return proc, url
        time.sleep(0.1)
    raise RuntimeError("the companion did not start")


def add_devices(url: str, anon: str, n: int, expo: bool) -> list[str]:
    admin = issue_token(SECRET, restaurant_id=RESTAURANT, device_role=DeviceRole.admin, subject="bench-admin",
                        ttl_s=3600)
    headers = {"apikey": anon, "Authorization": f"Bearer {admin}"}
    emails = []
    with httpx.Client(base_url=url, headers=headers, timeout=30) as http:
        for i in range(n):
            email = f"screen{i}@bench.test"
            body = {"name": f"Screen {i}", "email": email, "password": PASSWORD,
                    "role": "expo" if expo else "kds", "stations": [] if expo else [STATION]}
            r = http.post("/api/v1/devices", json=body)
            if r.status_code != 201:
                raise RuntimeError(f"adding a device failed: {r.status_code} {r.text}")
            emails.append(email)
    return emails


PROFILED_APP = """
import cProfile, json, runpy, signal, sys, time
out = sys.argv.pop(1)
profiler = cProfile.Profile(time.thread_time)
marks = {}
def start(*_):
    marks.update(thread0=time.thread_time(), process0=time.process_time())
    profiler.enable()
def stop(*_):
    profiler.disable()
    marks.update(thread1=time.thread_time(), process1=time.process_time())
signal.signal(signal.SIGUSR1, start)
signal.signal(signal.SIGUSR2, stop)
try:
    runpy.run_module("kds_app", run_name="__main__", alter_sys=True)
finally:
    profiler.disable()
    profiler.dump_stats(out)
    with open(out + ".json", "w") as f:
        json.dump(marks, f)
"""


def start_screen(procs: Procs, work: Path, i: int, url: str, anon: str, email: str, expo: bool,
                 display: Path, profile: bool = False) -> tuple[subprocess.Popen[bytes], Path]:
    """The real app as a cook configures it: config.json (companion, email, view) and the device password."""
    data = work / f"screen{i}"
    data.mkdir()
    config = {"server": "companion", "url": url, "anon_key": anon, "email": email,
              "view": "expo" if expo else "station", "stations": [] if expo else [STATION], "sound": False}
    (data / "config.json").write_text(json.dumps(config))
    save_credential(data, email, PASSWORD)
    trace = data / "trace.jsonl"
    env = {k: v for k, v in os.environ.items() if not k.startswith("KDS_")}
    env.update(QT_QPA_PLATFORM=f"offscreen:configfile={display}", KDS_TRACE_FILE=str(trace),
               KDS_TRACE_FLUSH_S="0.02", PYTHONPATH=str(ROOT))
    # --profile: the main thread's CPU time (not wall time: a loaded machine and the GIL would dominate) under
    # cProfile over the measured window only (SIGUSR1 at its start, SIGUSR2 at its end: start-up and the warm-up
    # stay out), written at the app's orderly exit (SIGTERM) to screenN/app.prof; screenN/app.prof.json holds the
    # main thread's and the whole process's CPU seconds at the window's ends (what runs off the main thread).
    args = ["--config", str(data / "config.json"), "--data-dir", str(data), "--fullscreen"]
    cmd = [sys.executable, "-c", PROFILED_APP, str(data / "app.prof"), *args] if profile else [
        sys.executable, "-m", "kds_app", *args]
    return procs.start(f"screen{i}", cmd, env, data / "app.log"), trace


# ---------------------------------------------------------------- traces


class Tail:
    """A screen's trace file read as it grows (whole lines only); keeps every record."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.offset = 0
        self.lines: list[bytes] = []
        self.unreadable = 0

    def read(self) -> list[dict[str, Any]]:
        """New paint records; every new line is kept (raw) for the analysis at the end."""
        try:
            with self.path.open("rb") as f:
                f.seek(self.offset)
                chunk = f.read()
        except FileNotFoundError:
            return []
        end = chunk.rfind(b"\n") + 1
        self.offset += end
        lines = chunk[:end].splitlines()
        self.lines.extend(lines)
        return [json.loads(line) for line in lines if line.startswith(b'{"stage":"paint"')]

    @property
    def records(self) -> list[dict[str, Any]]:
        """Every record; a line that does not parse is skipped and counted (`unreadable`), not fatal: one run of
        2,000 orders once ended on a mangled line, and lost the whole run's figures with it."""
        out: list[dict[str, Any]] = []
        self.unreadable = 0
        for line in self.lines:
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except ValueError:
                self.unreadable += 1
        if self.unreadable:
            print(f"# {self.path}: {self.unreadable} unreadable trace line(s) skipped", file=sys.stderr)
        return out


@dataclass
class Order:
    id: str
    expected: int  # items the screen's card must show to be whole
    commit_t: float = 0.0
    cancelled: bool = False


@dataclass
class Watch:
    """Which orders every screen has painted whole (from the traces, as they are written)."""

    tails: list[Tail]
    orders: dict[str, Order] = field(default_factory=dict)
    whole: list[set[str]] = field(default_factory=list)
    everywhere: set[str] = field(default_factory=set)
    fresh: list[str] = field(default_factory=list)  # painted whole everywhere since the last `take_fresh`

    def __post_init__(self) -> None:
        self.whole = [set() for _ in self.tails]

    def poll(self) -> None:
        for n, tail in enumerate(self.tails):
            for r in tail.read():
                order = self.orders.get(r["ids"][0])
                if order is not None and r["items"] >= order.expected and order.id not in self.whole[n]:
                    self.whole[n].add(order.id)
                    if all(order.id in w for w in self.whole):
                        self.everywhere.add(order.id)
                        self.fresh.append(order.id)

    def take_fresh(self) -> list[str]:
        fresh, self.fresh = self.fresh, []
        return fresh


# ---------------------------------------------------------------- the POS and the kitchen


def order_body(rng: random.Random, n: int, expo: bool, created: datetime | None) -> tuple[dict[str, Any], int]:
    count = rng.choice((2, 3))
    stations = [STATION] * count if not expo else [rng.choice(("grill", "fry")) for _ in range(count)]
    items = [{"name": rng.choice(MENU[s]), "station": s, "quantity": 1} for s in stations]
    order_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    body = {"id": order_id, "number": f"E{n}", "source": "pos", "type": "dine_in", "items": items}
    if created is not None:
        body["created_at"] = created.isoformat()
    return body, count


class Pos:
    def __init__(self, url: str, anon: str, watch: Watch, clear: bool) -> None:
        pos = issue_token(SECRET, restaurant_id=RESTAURANT, device_role=DeviceRole.pos, subject="bench-pos",
                          ttl_s=3600)
        # Not httpx: its 5-6 ms of CPU per request (bench/raw_http.py) took a third of a core from the screens.
        self.http = RawClient(url, {"apikey": anon, "Authorization": f"Bearer {pos}"}, max_connections=32)
        self.watch = watch
        self.clear = clear
        self.tasks: set[asyncio.Task[None]] = set()
        self.failures: list[str] = []
        self.cancels = 0

    def spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def post(self, body: dict[str, Any], order: Order) -> None:
        try:
            status, answer = await self.http.post("/api/v1/orders", body, {"Idempotency-Key": str(uuid.uuid4())})
            if status != 201:
                raise RuntimeError(f"HTTP {status}: {answer[:200]!r}")
            order.commit_t = datetime.fromisoformat(json.loads(answer)["updated_at"]).timestamp()
        except Exception as exc:
            self.failures.append(f"order {order.id}: {exc!r}")

    async def cancel(self, order: Order) -> None:
        try:
            status, answer = await self.http.send("PATCH", f"/rest/v1/orders?id=eq.{order.id}",
                                                  {"status": "cancelled"}, {})
            if status >= 300:
                raise RuntimeError(f"HTTP {status}: {answer[:200]!r}")
            self.cancels += 1
        except Exception as exc:
            self.failures.append(f"cancel {order.id}: {exc!r}")

    def clear_painted(self) -> None:
        """The kitchen clears its rail: every order painted whole on every screen is cancelled."""
        self.watch.poll()
        if not self.clear:
            return
        for order_id in self.watch.take_fresh():
            order = self.watch.orders[order_id]
            if not order.cancelled and order.commit_t:
                order.cancelled = True
                self.spawn(self.cancel(order))

    async def settle(self) -> None:
        while self.tasks:
            await asyncio.wait(set(self.tasks))

    async def aclose(self) -> None:
        await self.settle()
        await self.http.aclose()


async def wait_painted(pos: Pos, ids: set[str], timeout_s: float, procs: list[subprocess.Popen[bytes]]) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pos.clear_painted()
        if ids <= pos.watch.everywhere:
            return True
        for proc in procs:
            if proc.poll() is not None:
                raise RuntimeError(f"a screen exited ({proc.returncode})")
        await asyncio.sleep(POLL_S)
    return False


async def drive(args: argparse.Namespace, url: str, anon: str, watch: Watch, pids: dict[str, int],
                screens: list[subprocess.Popen[bytes]]) -> dict[str, Any]:
    rng = random.Random(args.seed)
    pos = Pos(url, anon, watch, clear=args.rail == "painted")
    base = datetime.now(UTC)
    # rail=front: each order is dated 10 ms before the one posted before it, so it sorts first (oldest first).
    created = (lambda n: base - timedelta(seconds=0.01 * n)) if args.rail == "front" else (lambda n: None)
    try:
        # Warm-up: every screen has signed in, caught up and paints; then those orders leave the rail.
        warm = []
        for n in range(3):
            body, count = order_body(rng, n, args.expo, None)
            order = Order(body["id"], count)
            watch.orders[order.id] = order
            warm.append(order.id)
            await pos.post(body, order)
        if pos.failures:
            raise RuntimeError(f"warm-up orders failed: {pos.failures[:3]}")
        if not await wait_painted(pos, set(warm), args.start_timeout, screens):
            raise RuntimeError("the screens did not paint the warm-up orders; see the app.log files")
        if args.rail != "painted":
            for order_id in warm:
                watch.orders[order_id].cancelled = True
                pos.spawn(pos.cancel(watch.orders[order_id]))
        await pos.settle()
        await asyncio.sleep(1.0)
        watch.poll()

        # The measured window.
        if args.profile:
            for proc in screens:
                proc.send_signal(signal.SIGUSR1)
        load_start = os.getloadavg()[0]
        cpu0 = {name: cpu_seconds(pid) for name, pid in pids.items()}
        self0 = os.times()
        t0 = time.monotonic()
        measured: list[Order] = []
        max_open, cancels0 = 0, pos.cancels
        for n in range(args.orders):
            body, count = order_body(rng, 100 + n, args.expo, created(n))
            order = Order(body["id"], count)
            watch.orders[order.id] = order
            measured.append(order)
            # Paced against the start, so a slow answer does not slow the schedule down.
            while (delay := t0 + n / args.rate - time.monotonic()) > 0:
                pos.clear_painted()
                await asyncio.sleep(min(delay, POLL_S))
            pos.spawn(pos.post(body, order))
            if args.rail == "front" and n >= args.keep_open:
                old = measured[n - args.keep_open]
                old.cancelled = True
                pos.spawn(pos.cancel(old))
            max_open = max(max_open, n + 1 - (pos.cancels - cancels0))
        posted_s = time.monotonic() - t0
        ids = {o.id for o in measured}
        drained = await wait_painted(pos, ids, args.drain_timeout, screens)
        t1 = time.monotonic()
        cpu1 = {name: cpu_seconds(pid) for name, pid in pids.items()}
        self1 = os.times()
        if args.profile:
            for proc in screens:
                proc.send_signal(signal.SIGUSR2)
        load_end = os.getloadavg()[0]
        await pos.settle()
        # Let the last cancels reach the screens (their CPU is not in the window any more), then stop.
        await asyncio.sleep(0.5)
        return {
            "measured": measured,
            "window_s": t1 - t0,
            "posting_s": posted_s,
            "all_painted": drained,
            "cpu_s": {name: cpu1[name] - cpu0[name] for name in pids},
            "bench_cpu_s": (self1.user + self1.system) - (self0.user + self0.system),
            "load_start": load_start,
            "load_end": load_end,
            "failures": pos.failures,
            "cancels": pos.cancels,
            "max_open": max_open,
        }
    finally:
        await pos.aclose()


# ---------------------------------------------------------------- analysis


def _first_at_or_after(times: list[float], t: float) -> float | None:
    i = bisect.bisect_left(times, t)
    return times[i] if i < len(times) else None


def analyse_screen(records: list[dict[str, Any]], measured: list[Order], expo: bool) -> dict[str, Any]:
    frames: dict[str, float] = {}
    marks: dict[str, dict[str, list[float]]] = {s: defaultdict(list) for s in ("store", "notify", "model")}
    paints: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for r in records:
        stage = r["stage"]
        if stage == "frame":
            if r.get("type") == "INSERT" and r["ids"]:
                oid = r["ids"][0]
                frames[oid] = max(frames.get(oid, 0.0), r["t"])
        elif stage in marks:
            for oid in r["ids"]:
                marks[stage][oid].append(r["t"])
        elif stage == "paint":
            paints[r["ids"][0]].append((r["t"], r["items"]))
    for per in marks.values():
        for times in per.values():
            times.sort()
    latencies: list[float] = []
    stages: dict[str, list[float]] = {name: [] for name in STAGE_NAMES}
    partial = zero = never = no_frame = 0
    for order in measured:
        shown = sorted(paints.get(order.id, []))
        whole = next((t for t, items in shown if items >= order.expected), None)
        if not shown or whole is None or not order.commit_t:
            never += 1
            continue
        if shown[0][1] < order.expected:
            partial += 1
        if shown[0][1] == 0:
            zero += 1
        latencies.append((whole - order.commit_t) * 1000)
        frame = frames.get(order.id)
        if frame is None:
            no_frame += 1  # reached the store by a REST catch-up, not a push
            continue
        chain = [order.commit_t, frame]
        for stage in ("store", "notify", "model"):
            t = _first_at_or_after(marks[stage].get(order.id, []), chain[-1])
            if t is None or t > whole:
                break
            chain.append(t)
        else:
            chain.append(whole)
            for name, a, b in zip(STAGE_NAMES, chain, chain[1:], strict=False):
                stages[name].append((b - a) * 1000)
    painted = len(latencies)
    # An order never painted whole counts as infinitely late: percentiles over the painted ones alone would hide
    # a screen that skips tickets.
    ranked = latencies + [INF] * never
    return {
        "orders": len(measured),
        "painted_whole": painted,
        "never_painted_whole": never,
        "p50_ms": median(ranked),
        "p99_ms": percentile(ranked, 0.99),
        "max_ms": max(ranked) if ranked else float("nan"),
        "stages_p50_ms": {name: median(v) for name, v in stages.items()},
        "stages_n": len(stages["commit→frame"]),
        "partial_first_paint": partial,
        "partial_pct": 100.0 * partial / painted if painted else float("nan"),
        "expo_zero_items_first": zero if expo else None,
        "expo_zero_pct": (100.0 * zero / painted if painted else float("nan")) if expo else None,
        "via_catchup": no_frame,
        "latencies_ms": ranked,
    }


def report(args: argparse.Namespace, run: dict[str, Any], screens: list[dict[str, Any]]) -> dict[str, Any]:
    out = sys.stdout
    window = run["window_s"]
    n = len(run["measured"])
    out.write(
        f"# e2e commit → whole ticket painted · {platform.machine()}, {os.cpu_count()} cores, Python "
        f"{platform.python_version()} · commit {git_commit()}\n"
        f"# {args.screens} {'expo' if args.expo else 'station'} screen(s), {n} orders at {args.rate:g}/s "
        f"(posted in {run['posting_s']:.1f} s; window {window:.1f} s), rail={args.rail}, "
        f"load average (1 min) {run['load_start']:.2f} → {run['load_end']:.2f}\n"
    )
    if not run["all_painted"]:
        out.write("# NOT every order was painted whole on every screen within the drain timeout\n")
    if run["failures"]:
        out.write(f"# {len(run['failures'])} POS request(s) failed, first: {run['failures'][0]}\n")
    kind = "expo cards first shown with 0 items" if args.expo else "first paint partial"
    out.write(
        "\n| screen | painted whole | p50 ms | p99 ms | max ms | " + " | ".join(f"{s} p50" for s in STAGE_NAMES)
        + f" | {kind} | CPU s | CPU ms/order | % of a core |\n|" + "---:|" * (9 + len(STAGE_NAMES)) + "\n"
    )
    for i, s in enumerate(screens):
        cpu = run["cpu_s"][f"screen{i}"]
        flag = (s["expo_zero_items_first"], s["expo_zero_pct"]) if args.expo else (
            s["partial_first_paint"], s["partial_pct"])
        out.write(
            f"| {i} | {s['painted_whole']}/{s['orders']} | {ms(s['p50_ms'])} | {ms(s['p99_ms'])} | {ms(s['max_ms'])} | "
            + " | ".join(f"{v:.1f}" for v in s["stages_p50_ms"].values())
            + f" | {flag[0]} ({flag[1]:.1f} %) | {cpu:.2f} | {1000 * cpu / n:.2f} | {100 * cpu / window:.1f} |\n"
        )
    all_lat = [x for s in screens for x in s["latencies_ms"]]
    comp = run["cpu_s"]["companion"]
    out.write(
        f"\nall screens: p50 {ms(median(all_lat))}, p99 {ms(percentile(all_lat, 0.99))}, max "
        f"{ms(max(all_lat) if all_lat else float('nan'))} over {len(all_lat)} tickets (never painted whole counts as "
        "never)\n"
        f"companion: CPU {comp:.2f} s ({1000 * comp / n:.2f} ms/order, {100 * comp / window:.1f} % of a core); "
        f"bench (POS + trace reading): {run['bench_cpu_s']:.2f} s; cancels sent {run['cancels']}; "
        f"most orders open at once while posting: {run['max_open']}\n"
    )
    summary = {
        "commit": git_commit(),
        "screens": args.screens,
        "expo": args.expo,
        "orders": n,
        "rate": args.rate,
        "rail": args.rail,
        "keep_open": args.keep_open,
        "window_s": window,
        "posting_s": run["posting_s"],
        "all_painted": run["all_painted"],
        "load_start": run["load_start"],
        "load_end": run["load_end"],
        "cpu_s": run["cpu_s"],
        "bench_cpu_s": run["bench_cpu_s"],
        "cancels": run["cancels"],
        "max_open": run["max_open"],
        "failures": run["failures"],
        "all_screens": {"p50_ms": finite(median(all_lat)), "p99_ms": finite(percentile(all_lat, 0.99)),
                        "max_ms": finite(max(all_lat)) if all_lat else None, "tickets": len(all_lat)},
        "per_screen": [
            {**{k: finite(v) if isinstance(v, float) else v for k, v in s.items() if k != "latencies_ms"},
             "cpu_s": run["cpu_s"][f"screen{i}"],
             "cpu_ms_per_order": 1000 * run["cpu_s"][f"screen{i}"] / n,
             "core_pct": 100 * run["cpu_s"][f"screen{i}"] / window}
            for i, s in enumerate(screens)
        ],
    }
    return summary


# ---------------------------------------------------------------- main


def run(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    display = work / "offscreen.json"
    width, height = (int(v) for v in args.display.split("x"))
    display.write_text(json.dumps({"screens": [{"name": "bench", "x": 0, "y": 0, "width": width, "height": height,
                                                "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    procs = Procs()
    try:
        companion, url = start_companion(procs, work)
        anon = issue_anon_key(SECRET)
        emails = add_devices(url, anon, args.screens, args.expo)
        screens, tails = [], []
        for i, email in enumerate(emails):
            proc, trace = start_screen(procs, work, i, url, anon, email, args.expo, display, args.profile)
            screens.append(proc)
            tails.append(Tail(trace))
        pids = {"companion": companion.pid, **{f"screen{i}": p.pid for i, p in enumerate(screens)}}
        watch = Watch(tails)
        result = asyncio.run(drive(args, url, anon, watch, pids, screens))
        procs.stop(screens)  # the traces' last lines are written at exit
        for tail in tails:
            tail.read()
    except BaseException:
        for name, _proc in procs.procs:
            log = work / ("companion.log" if name == "companion" else f"{name}/app.log")
            if log.exists():
                tail_text = log.read_text(errors="replace")[-1500:]
                if tail_text.strip():
                    sys.stderr.write(f"---- {name} ({log}), last lines:\n{tail_text}\n")
        raise
    finally:
        procs.close()
    per_screen = [analyse_screen(t.records, result["measured"], args.expo) for t in tails]
    return report(args, result, per_screen)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--screens", type=int, default=1)
    parser.add_argument("--expo", action="store_true", help="expo screens (whole orders, grill and fry items)")
    parser.add_argument("--rate", type=float, default=50.0, help="orders per second")
    parser.add_argument("--orders", type=int, default=500)
    parser.add_argument("--rail", choices=("front", "painted", "none"), default="front",
                        help="how new tickets stay on screen (see above; default front)")
    parser.add_argument("--keep-open", type=int, default=100, help="rail=front: orders left open")
    parser.add_argument("--display", default="1920x1080", help="the virtual display; screens run --fullscreen")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--start-timeout", type=float, default=120.0, help="s for every screen to paint warm-up")
    parser.add_argument("--drain-timeout", type=float, default=30.0, help="s after posting for the last paint")
    parser.add_argument("--json", type=Path, help="write the summary here")
    parser.add_argument("--profile", action="store_true", help="screens under cProfile, the window only (see --keep)")
    parser.add_argument("--keep", type=Path, help="work in this (new) directory and keep it: logs, traces")
    args = parser.parse_args()
    if args.keep is not None:
        args.keep.mkdir(parents=True)
        summary = run(args, args.keep)
    else:
        with tempfile.TemporaryDirectory(prefix="kds-e2e-") as tmp:
            summary = run(args, Path(tmp))
    if args.json is not None:
        args.json.write_text(json.dumps(summary, indent=2, ensure_ascii=False) + "\n")


if __name__ == "__main__":
    main()
