"""Carrying out one schedule: real processes on loopback, the faults at their planned offsets, the liveness
phase, the checks. `run_schedule(schedule, workdir)` returns a `Result`; it never leaves a process behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import sqlalchemy as sa

from api_client.models import DeviceRole
from kds_backend.auth.tokens import issue_anon_key, issue_token
from tests.live_server import free_port, wait_healthy

from . import checks
from .chaos_proxy import ChaosProxy
from .schedule import LIVENESS_S, Schedule

RESTAURANT = "faults-kitchen"
PASSWORD = "fault-harness-password"
JWT_SECRET = "fault-harness-secret-" + "x" * 32
SCREEN_PLANTS = ("ignore_deletes", "drop_tombstones", "forget_acked", "stall_outbox")
ENGINE_PLANTS = ("drop_tombstones",)
SERVER_PLANTS = ("skip_ledger",)
HARNESS_PLANTS = ("corrupt_store",)
PLANTS = (*SCREEN_PLANTS, *SERVER_PLANTS, *HARNESS_PLANTS)
ROOT = Path(__file__).resolve().parents[2]


@dataclass
class Result:
    seed: int
    backend: str
    classes: tuple[str, ...]
    violations: dict[str, list[str]]
    workdir: Path
    liveness_s: float | None
    plant: str | None = None
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not any(self.violations.values())

    @property
    def failed_checks(self) -> list[str]:
        return [k for k, v in self.violations.items() if v]

    def replay(self) -> str:
        plant = f" --plant {self.plant}" if self.plant else ""
        return f".venv/bin/python -m tests.faults run --seed {self.seed} --backend {self.backend}{plant}"


def _env(plant: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KDS_PLANTED_BUGS"}
    env.update(extra)
    if plant:
        env["KDS_PLANTED_BUGS"] = plant
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


# ---------------------------------------------------------------- the companion


class Companion:
    def __init__(self, workdir: Path, database_url: str, ttl_s: int, plant: str | None) -> None:
        self.data_dir = workdir / "companion"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.port = free_port()
        self.log_path = workdir / "companion.log"
        self.env = _env(
            plant if plant in SERVER_PLANTS else None,
            KDS_DATA_DIR=str(self.data_dir),
            KDS_DATABASE_URL=database_url,
            KDS_JWT_SECRET=JWT_SECRET,
            KDS_ACCESS_TOKEN_TTL=str(ttl_s),
            KDS_RATE_LIMIT="10000",
            KDS_RATE_BURST="20000",
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = 40.0) -> None:
        with self.log_path.open("ab") as log:
            log.write(f"---- start {time.strftime('%H:%M:%S')}\n".encode())
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "kds_backend.cli", "serve", "--port", str(self.port), "--log-level", "warning"],
                env=self.env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
            )
        wait_healthy(self.proc, self.url, lambda: f"see {self.log_path}", timeout_s)

    def stop(self, how: str = "term") -> None:
        proc, self.proc = self.proc, None
        if proc is None or proc.poll() is not None:
            return
        if how == "kill":
            proc.kill()
        else:
            proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    @property
    def up(self) -> bool:
        return self.proc is not None and self.proc.poll() is None


# ---------------------------------------------------------------- a screen process


class ScreenProc:
    def __init__(self, spec: Any, workdir: Path, url: str, anon: str, email: str, schedule: Schedule,
                 plant: str | None) -> None:
        self.spec = spec
        self.data_dir = workdir / f"screen{spec.index}"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.url, self.anon, self.email = url, anon, email
        self.margin = schedule.refresh_margin_s
        # Plants done by wrapping in the headless driver skip the Qt screen; engine hooks (drop_tombstones) reach it.
        self.plant = plant if plant in SCREEN_PLANTS and (not spec.qt or plant in ENGINE_PLANTS) else None
        self.proc: subprocess.Popen[bytes] | None = None
        self.starts = 0
        self.died: list[int] = []

    def start(self) -> None:
        with contextlib.suppress(FileNotFoundError):
            (self.data_dir / "control.port").unlink()
        cmd = [sys.executable, "-m", "tests.faults.screen_driver", "--data-dir", str(self.data_dir),
               "--url", self.url, "--anon-key", self.anon, "--email", self.email, "--password", PASSWORD,
               "--refresh-margin", str(self.margin)]
        if self.spec.qt:
            cmd.append("--qt")
            if self.spec.role == "expo":
                cmd.append("--expo")
        env = _env(self.plant, QT_QPA_PLATFORM="offscreen", QT_SCALE_FACTOR="1")
        log = (self.data_dir / "screen.log").open("ab")
        log.write(f"---- start {time.strftime('%H:%M:%S')}\n".encode())
        log.flush()
        self.proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
        log.close()
        self.starts += 1

    def kill9(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    @property
    def up(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def check_alive(self) -> None:
        if self.proc is not None and self.proc.poll() is not None:
            self.died.append(self.proc.returncode)
            self.proc = None

    async def call(self, request: dict[str, Any], timeout_s: float = 15.0) -> dict[str, Any] | None:
        """One control request; None if the screen is not there (down, starting, or stuck)."""
        if not self.up:
            return None
        try:
            port = int((self.data_dir / "control.port").read_text())
        except (FileNotFoundError, ValueError):
            return None
        try:
            reader, writer = await asyncio.wait_for(asyncio.open_connection("127.0.0.1", port), 3)
        except (OSError, TimeoutError):
            return None
        try:
            writer.write((json.dumps(request) + "\n").encode())
            await writer.drain()
            line = await asyncio.wait_for(reader.readline(), timeout_s)
            return json.loads(line) if line else None
        except (OSError, TimeoutError, ValueError):
            return None
        finally:
            writer.close()

    async def stop(self, timeout_s: float = 25.0) -> None:
        """Orderly stop (the app's own shutdown); kill -9 if it does not finish in time."""
        if not self.up:
            self.proc = None
            return
        assert self.proc is not None
        await self.call({"op": "stop"}, timeout_s=5)
        with contextlib.suppress(subprocess.TimeoutExpired):
            await asyncio.to_thread(self.proc.wait, timeout_s)
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                await asyncio.to_thread(self.proc.wait, 5)
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None


# ---------------------------------------------------------------- the POS


class Pos:
    """Posts orders and changes through the companion's own routes, retrying (same keys) across restarts."""

    def __init__(self, url: str, anon: str, log: Path) -> None:
        pos = issue_token(JWT_SECRET, restaurant_id=RESTAURANT, device_role=DeviceRole.pos, subject="faults-pos",
                          ttl_s=86400)
        admin = issue_token(JWT_SECRET, restaurant_id=RESTAURANT, device_role=DeviceRole.admin,
                            subject="faults-admin", ttl_s=86400)
        self.headers = {"apikey": anon, "Authorization": f"Bearer {pos}"}
        self.admin = {"apikey": anon, "Authorization": f"Bearer {admin}"}
        self.http = httpx.AsyncClient(base_url=url, timeout=httpx.Timeout(5.0, connect=2.0))
        self.orders: list[dict[str, Any]] = []  # what the POS believes is live: {"id", "items": [ids]}
        self.log = log.open("a")
        self.tasks: set[asyncio.Task[None]] = set()
        self.done = Counter_()

    async def aclose(self) -> None:
        await self.http.aclose()
        self.log.close()

    def spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)

    async def _send(self, what: str, method: str, path: str, *, admin: bool = False,
                           deadline_s: float = 30.0, headers_extra: dict[str, str] | None = None,
                           **kwargs: Any) -> httpx.Response | None:
        deadline = time.monotonic() + deadline_s
        headers = {**(self.admin if admin else self.headers), **(headers_extra or {})}
        while True:
            try:
                r = await self.http.request(method, path, headers=headers, **kwargs)
                if r.status_code < 500 and r.status_code != 429:
                    self.log.write(f"{time.strftime('%H:%M:%S')} {what}: {r.status_code} {r.text[:160]}\n")
                    self.log.flush()
                    self.done[what if r.status_code < 400 else f"{what}_refused"] += 1
                    return r
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                self.log.write(f"{time.strftime('%H:%M:%S')} {what}: gave up\n")
                self.done[f"{what}_gave_up"] += 1
                return None
            await asyncio.sleep(0.3)



    def _pick(self, pick: float) -> dict[str, Any] | None:
        return self.orders[int(pick * len(self.orders))] if self.orders else None

    def order(self, args: dict[str, Any]) -> None:
        rng = random.Random(args["seed"])
        order_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        items = [{**item, "id": str(uuid.UUID(int=rng.getrandbits(128), version=4))} for item in args["items"]]
        entry = {"id": order_id, "items": [i["id"] for i in items]}
        self.orders.append(entry)
        body = {"id": order_id, "number": f"F{args['n']}", "source": "pos", "type": "dine_in", "items": items}
        self.spawn(self._send("order", "POST", "/api/v1/orders", json=body,
                              headers_extra={"Idempotency-Key": f"order-{args['seed']}"}))

    def add_items(self, args: dict[str, Any]) -> None:
        entry = self._pick(args["pick"])
        if entry is None:
            return
        rng = random.Random(json.dumps(args, sort_keys=True))
        items = [{**item, "id": str(uuid.UUID(int=rng.getrandbits(128), version=4))} for item in args["items"]]
        entry["items"].extend(i["id"] for i in items)
        self.spawn(self._send("add_items", "POST", f"/api/v1/orders/{entry['id']}/items", json={"items": items},
                              headers_extra={"Idempotency-Key": f"add-{items[0]['id']}"}))

    def void_item(self, args: dict[str, Any]) -> None:
        entry = self._pick(args["pick"])
        if entry is None or not entry["items"]:
            return
        item = entry["items"][int(args["pick_item"] * len(entry["items"]))]
        self.spawn(self._send("void", "PATCH", f"/rest/v1/order_items?id=eq.{item}", json={"status": "voided"}))

    def cancel(self, args: dict[str, Any]) -> None:
        entry = self._pick(args["pick"])
        if entry is None:
            return
        self.orders.remove(entry)
        self.spawn(self._send("cancel", "PATCH", f"/rest/v1/orders?id=eq.{entry['id']}",
                              json={"status": "cancelled"}))

    def delete(self, args: dict[str, Any]) -> None:
        entry = self._pick(args["pick"])
        if entry is None:
            return
        self.orders.remove(entry)
        self.spawn(self._send("delete", "DELETE", f"/rest/v1/orders?id=eq.{entry['id']}", admin=True))

    async def settle(self, timeout_s: float = 40.0) -> None:
        if self.tasks:
            await asyncio.wait(set(self.tasks), timeout=timeout_s)
        for task in list(self.tasks):
            task.cancel()


class Counter_(dict):
    def __missing__(self, key: str) -> int:
        return 0


# ---------------------------------------------------------------- one schedule




async def _add_devices(url: str, anon: str, schedule: Schedule) -> list[str]:
    admin = issue_token(JWT_SECRET, restaurant_id=RESTAURANT, device_role=DeviceRole.admin, subject="faults-admin",
                        ttl_s=3600)
    headers = {"apikey": anon, "Authorization": f"Bearer {admin}"}
    emails = []
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        for spec in schedule.screens:
            email = f"screen{spec.index}-{schedule.seed}@faults.test"
            body = {"name": f"Screen {spec.index}", "email": email, "password": PASSWORD, "role": spec.role,
                    "stations": list(spec.stations)}
            r = await http.post("/api/v1/devices", json=body, headers=headers)
            if r.status_code != 201:
                raise RuntimeError(f"adding device failed: {r.status_code} {r.text}")
            emails.append(email)
    return emails


def _corrupt(path: Path) -> None:
    """The planted integrity fault: garbage over the second page of a store file."""
    with path.open("r+b") as f:
        page = int.from_bytes(f.read(18)[16:18], "big") or 4096
        page = 65536 if page == 1 else page
        f.seek(page)
        f.write(bytes(random.Random(7).getrandbits(8) for _ in range(page)))


async def _await_convergence(
    screens: list[ScreenProc], db: sa.Engine, bound_s: float
) -> tuple[float | None, list[str]]:
    """Poll until every screen's store equals the server and its outbox is empty; (seconds taken, problems)."""
    start = time.monotonic()
    problems: list[str] = []
    while True:
        server = await asyncio.to_thread(checks.server_digest, db, RESTAURANT)
        problems = []
        for s in screens:
            s.check_alive()
            answer = await s.call({"op": "digest"})
            if answer is None or not answer.get("ready"):
                problems.append(f"screen {s.spec.index}: not answering")
                continue
            if answer["unsettled"]:
                problems.append(f"screen {s.spec.index}: {answer['unsettled']} intents unsettled "
                                f"({answer['connection']}, last error {answer['last_error']})")
            diff = checks.divergence(answer["orders"], server)
            if diff:
                problems.append(f"screen {s.spec.index} ({answer['connection']}, caught_up={answer['caught_up']}): "
                                f"{diff[0]}" + (f" (+{len(diff) - 1} more)" if len(diff) > 1 else ""))
        elapsed = time.monotonic() - start
        if not problems:
            return elapsed, []
        if elapsed > bound_s:
            return None, [f"not converged {bound_s:.0f} s after the heal: {p}" for p in problems]
        await asyncio.sleep(0.25)


def _prepare(workdir: Path, schedule: Schedule) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "schedule.json").write_text(json.dumps(schedule.to_json(), indent=1))


async def execute(schedule: Schedule, workdir: Path, database_url: str, plant: str | None = None) -> Result:
    """Run `schedule` with its data under `workdir` on the companion database `database_url`."""
    _prepare(workdir, schedule)
    companion = Companion(workdir, database_url, schedule.token_ttl_s, plant)
    proxies: list[ChaosProxy] = []
    screens: list[ScreenProc] = []
    pos: Pos | None = None
    db = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    liveness_s: float | None = None
    live_problems: list[str] = []
    stats: dict[str, Any] = {}
    server_lane: asyncio.Queue[tuple[str, str]] = asyncio.Queue()

    async def run_server_lane() -> None:
        while True:
            what, how = await server_lane.get()
            try:
                if what == "stop":
                    await asyncio.to_thread(companion.stop, how)
                else:
                    await asyncio.to_thread(companion.start)
                    companion.restarts += 1
            finally:
                server_lane.task_done()

    lane = asyncio.create_task(run_server_lane())
    try:
        await asyncio.to_thread(companion.start)
        anon = issue_anon_key(JWT_SECRET)
        emails = await _add_devices(companion.url, anon, schedule)
        for spec in schedule.screens:
            proxy = ChaosProxy(companion.port, seed=schedule.seed * 100 + spec.index)
            await proxy.start()
            proxies.append(proxy)
            screens.append(ScreenProc(spec, workdir, proxy.url, anon, emails[spec.index], schedule, plant))
        for s in screens:
            s.start()
        pos = Pos(companion.url, anon, workdir / "pos.log")
        # Every screen up (control socket answering) before the clock starts.
        deadline = time.monotonic() + 60
        while not all([await s.call({"op": "digest"}) for s in screens]):
            for s in screens:
                s.check_alive()
                if s.died:
                    raise RuntimeError(f"screen {s.spec.index} exited at start; see {s.data_dir / 'screen.log'}")
            if time.monotonic() > deadline:
                raise TimeoutError("screens did not start")
            await asyncio.sleep(0.2)

        # ---------------- chaos
        taps = Counter_()
        t0 = time.monotonic()
        for step in schedule.steps:
            delay = t0 + step.at - time.monotonic()
            if delay > 0:
                await asyncio.sleep(delay)
            for s in screens:
                s.check_alive()
            await _do_step(step, screens, proxies, pos, server_lane, taps)
        stats["taps"] = dict(taps)

        # ---------------- liveness: heal everything, restart what is down, await convergence
        for proxy in proxies:
            proxy.heal()
        await server_lane.join()
        if not companion.up:
            await asyncio.to_thread(companion.start)
        for s in screens:
            s.check_alive()
            if not s.up:
                s.start()
        await pos.settle()
        heal_at = time.monotonic()
        liveness_s, live_problems = await _await_convergence(screens, db, LIVENESS_S)
        stats["pos"] = dict(pos.done)
        stats["proxies"] = [vars(p.counters) for p in proxies]
        stats["heal_to_converged_s"] = None if liveness_s is None else round(time.monotonic() - heal_at, 2)
        for s in screens:
            s.check_alive()
            if s.died:
                live_problems.append(f"screen {s.spec.index} exited by itself (codes {s.died}); "
                                     f"see {s.data_dir / 'screen.log'}")
    finally:
        # ---------------- stop everything, always
        await asyncio.gather(*(s.stop() for s in screens), return_exceptions=True)
        if pos is not None:
            for task in list(pos.tasks):
                task.cancel()
            await pos.aclose()
        for proxy in proxies:
            await proxy.stop()
        lane.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await lane
        await asyncio.to_thread(companion.stop, "term")

    # ---------------- the checks, on what the processes left
    if plant == "corrupt_store":
        _corrupt(screens[-1].data_dir / "screen.sqlite3")
    integrity = {f"screen {s.spec.index}": checks.integrity(s.data_dir / "screen.sqlite3") for s in screens}
    if database_url.startswith("sqlite"):
        integrity["companion"] = checks.integrity(Path(database_url.removeprefix("sqlite:///")))
    screen_data: dict[int, dict[str, Any]] = {}
    for s in screens:
        try:
            screen_data[s.spec.index] = checks.read_screen(s.data_dir)
        except Exception as exc:  # a corrupt store cannot be read: that is the integrity check's to report
            screen_data[s.spec.index] = {"journal": [], "orders": {}, "unsettled": [], "rejected": {},
                                         "unreadable": f"{type(exc).__name__}: {exc}"}
            integrity[f"screen {s.spec.index} (read)"] = f"unreadable: {exc}"
    server = checks.server_digest(db, RESTAURANT)
    rows, cursors = checks.ledger(db, RESTAURANT)
    db.dispose()
    unreadable = {i for i, d in screen_data.items() if "unreadable" in d}
    violations = checks.verdict({i: d for i, d in screen_data.items() if i not in unreadable}, server, rows,
                                cursors, integrity, live_problems)
    stats["journaled"] = sum(len(d["journal"]) for d in screen_data.values())
    stats["ledger_rows"] = len(rows)
    stats["orders"] = len(server)
    stats["rejected_kept"] = sum(len(d["rejected"]) for d in screen_data.values())
    stats["screen_restarts"] = sum(s.starts - 1 for s in screens)
    stats["server_restarts"] = companion.restarts
    result = Result(schedule.seed, schedule.backend, schedule.classes, violations, workdir, liveness_s, plant, stats)
    (workdir / "result.json").write_text(json.dumps(
        {"seed": result.seed, "backend": result.backend, "classes": result.classes, "violations": violations,
         "liveness_s": liveness_s, "plant": plant, "stats": stats}, indent=1, default=str))
    return result


async def _do_step(step: Any, screens: list[ScreenProc], proxies: list[ChaosProxy], pos: Pos,
                   server_lane: asyncio.Queue[tuple[str, str]], taps: Counter_) -> None:
    kind, args = step.kind, step.args
    if kind == "pos_order":
        pos.order(args)
    elif kind == "pos_add_items":
        pos.add_items(args)
    elif kind == "pos_void_item":
        pos.void_item(args)
    elif kind == "pos_cancel":
        pos.cancel(args)
    elif kind == "admin_delete":
        pos.delete(args)
    elif kind == "tap":
        screen = screens[step.target]

        async def tap() -> None:
            answer = await screen.call({"op": "tap", "count": args["count"], "seed": args["seed"]})
            if answer is None:
                taps["unanswered"] += 1
            else:
                taps["made"] += len(answer.get("taps", []))

        pos.spawn(tap())
    elif kind == "proxy":
        proxy = proxies[step.target]
        mode = args["mode"]
        if mode == "cut":
            proxy.cut()
        elif mode == "blackhole":
            proxy.blackhole()
        elif mode == "heal":
            proxy.heal()
        elif mode == "delay":
            proxy.delay(args["s"])
        elif mode == "ws_dup":
            proxy.ws_dup(args["p"])
        elif mode == "ws_reorder":
            proxy.ws_reorder(args["p"])
        elif mode == "lost_reply":
            proxy.lose_reply(args["n"])
    elif kind == "server_stop":
        server_lane.put_nowait(("stop", args["signal"]))
    elif kind == "server_start":
        server_lane.put_nowait(("start", ""))
    elif kind == "screen_kill":
        screens[step.target].kill9()
    elif kind == "screen_start":
        screens[step.target].start()
