"""Carrying out one schedule: real processes on loopback, the faults at their planned offsets, the liveness
phase, the checks. `execute(schedule, workdir, database_url)` returns a `Result`; it never leaves a process behind.

With the hub tier (`schedule.hub`) a second `kds-backend serve` runs as a kitchen hub (`KDS_UPSTREAM_URL`) on its
own SQLite, data dir and JWT secret, in front of the companion (its upstream), reaching it through a chaos proxy of
its own (the hub's internet link); the screens of the hub's LAN sign in to device accounts made on the hub, and a
LAN POS writes at the hub.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import signal
import socket
import sqlite3
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
from tests.live_server import wait_healthy

from . import checks
from .chaos_proxy import APPLY_INTENTS, WRITES, ChaosProxy
from .schedule import LIVENESS_S, Schedule

RESTAURANT = "faults-kitchen"
PASSWORD = "fault-harness-password"
JWT_SECRET = "fault-harness-secret-" + "x" * 32
HUB_SECRET = "fault-harness-hub-secret-" + "y" * 32
HUB_HEARTBEAT_S = 1.0
"""`KDS_UPSTREAM_HEARTBEAT_S` of the hub: a silently dead link is noticed within 2 s."""
SCREEN_PLANTS = ("ignore_deletes", "drop_tombstones", "forget_acked", "stall_outbox")
ENGINE_PLANTS = ("drop_tombstones",)
SERVER_PLANTS = ("skip_ledger",)
HUB_PLANTS = {"hub_stall_forward": "stall_outbox"}
"""Plants switched on in the hub process only, under the engine's name: the hub's forwarding engine never retries
after one failed upload."""
HARNESS_PLANTS = ("corrupt_store", "hub_drop_queue")
"""`hub_drop_queue`: whenever the hub is stopped, its queue of taps for upstream (the mirror's outbox) is emptied
before it starts again, as a hub that kept that queue without fsync would lose it in a power cut."""
PLANTS = (*SCREEN_PLANTS, *SERVER_PLANTS, *HUB_PLANTS, *HARNESS_PLANTS)
MIRROR_STORE = "upstream-mirror.sqlite3"
START_S = 120.0
"""How long a server may take to answer /health after a (re)start: a Python process importing FastAPI, SQLAlchemy
and (for a hub) the sync engine takes seconds, and tens of seconds on a loaded 2-core machine."""
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
    replay_flags: str = ""
    """Flags a replay needs besides seed, backend and plant (`--hub`, `--chaos-s 10` for a CI run)."""

    @property
    def ok(self) -> bool:
        return not any(self.violations.values())

    @property
    def failed_checks(self) -> list[str]:
        return [k for k, v in self.violations.items() if v]

    def replay(self) -> str:
        plant = f" --plant {self.plant}" if self.plant else ""
        flags = f" {self.replay_flags}" if self.replay_flags else ""
        return f".venv/bin/python -m tests.faults run --seed {self.seed} --backend {self.backend}{plant}{flags}"


def _env(plant: str | None, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "KDS_PLANTED_BUGS"}
    env.update(extra)
    if plant:
        env["KDS_PLANTED_BUGS"] = plant
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    return env


# ---------------------------------------------------------------- the companion


def server_port() -> int:
    """A port for a server the schedule stops and starts again on it (proxies and the POS keep its address): the
    kernel's choice from its ephemeral range, which `tests.live_server.free_port` never hands out (it cycles
    through ports below that range, from a point fixed per process, so the two processes of a forked `--jobs 2`
    pool would hand out the same ports in the same order: one schedule's server then took a port another's was
    down from, and its screens talked to a stranger)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Companion:
    """`kds-backend serve`: the companion, or (name "hub", `extra_env` naming its upstream) the kitchen hub."""

    def __init__(self, workdir: Path, database_url: str, ttl_s: int, plant: str | None, *, name: str = "companion",
                 secret: str = JWT_SECRET, extra_env: dict[str, str] | None = None) -> None:
        self.name = name
        self.data_dir = workdir / name
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.database_url = database_url
        self.port = server_port()
        self.log_path = workdir / f"{name}.log"
        self.env = _env(
            plant,
            KDS_DATA_DIR=str(self.data_dir),
            KDS_DATABASE_URL=database_url,
            KDS_JWT_SECRET=secret,
            KDS_ACCESS_TOKEN_TTL=str(ttl_s),
            KDS_RATE_LIMIT="10000",
            KDS_RATE_BURST="20000",
            **(extra_env or {}),
        )
        self.proc: subprocess.Popen[bytes] | None = None
        self.restarts = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout_s: float = START_S) -> None:
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
    """Posts orders and changes through the companion's own routes, retrying (same keys) across restarts. A LAN
    POS is one of these on the hub (`secret` the hub's): what it writes there is forwarded upstream."""

    def __init__(self, url: str, anon: str, log: Path, secret: str = JWT_SECRET, prefix: str = "F") -> None:
        self.prefix = prefix  # of order numbers: F at the companion, L on the LAN
        pos = issue_token(secret, restaurant_id=RESTAURANT, device_role=DeviceRole.pos, subject="faults-pos",
                          ttl_s=86400)
        admin = issue_token(secret, restaurant_id=RESTAURANT, device_role=DeviceRole.admin,
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
        body = {"id": order_id, "number": f"{self.prefix}{args['n']}", "source": "pos", "type": "dine_in",
                "items": items}
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




async def _add_devices(url: str, anon: str, schedule: Schedule, specs: list[Any],
                       secret: str = JWT_SECRET) -> dict[int, str]:
    """A device account per screen in `specs` on the server at `url` (the companion, or the hub for its LAN)."""
    admin = issue_token(secret, restaurant_id=RESTAURANT, device_role=DeviceRole.admin, subject="faults-admin",
                        ttl_s=3600)
    headers = {"apikey": anon, "Authorization": f"Bearer {admin}"}
    emails: dict[int, str] = {}
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        for spec in specs:
            email = f"screen{spec.index}-{schedule.seed}@faults.test"
            body = {"name": f"Screen {spec.index}", "email": email, "password": PASSWORD, "role": spec.role,
                    "stations": list(spec.stations)}
            r = await http.post("/api/v1/devices", json=body, headers=headers)
            if r.status_code != 201:
                raise RuntimeError(f"adding device failed: {r.status_code} {r.text}")
            emails[spec.index] = email
    return emails


def _corrupt(path: Path) -> None:
    """The planted integrity fault: garbage over the second page of a store file."""
    with path.open("r+b") as f:
        page = int.from_bytes(f.read(18)[16:18], "big") or 4096
        page = 65536 if page == 1 else page
        f.seek(page)
        f.write(bytes(random.Random(7).getrandbits(8) for _ in range(page)))


class HubTier:
    """The kitchen hub of a schedule: its `kds-backend serve --upstream` process, its internet link (a chaos proxy
    in front of the companion), the file database the checks read, and its LAN POS."""

    def __init__(self, workdir: Path, upstream: Companion, schedule: Schedule, plant: str | None) -> None:
        self.link = ChaosProxy(upstream.port, seed=schedule.seed * 100 + 99)
        self.workdir, self.schedule, self.plant = workdir, schedule, plant
        self.anon = issue_anon_key(HUB_SECRET)
        self.database_url = f"sqlite:///{workdir / 'hub' / 'companion.db'}"
        self.proc: Companion | None = None
        self.db = sa.create_engine(self.database_url, poolclass=sa.pool.NullPool)
        self.pos: Pos | None = None

    @property
    def mirror_store(self) -> Path:
        assert self.proc is not None
        return self.proc.data_dir / MIRROR_STORE

    async def start(self) -> None:
        await self.link.start()
        token = issue_token(JWT_SECRET, restaurant_id=RESTAURANT, device_role=DeviceRole.admin, subject="faults-hub",
                            ttl_s=7 * 86400)
        self.proc = Companion(
            self.workdir, self.database_url, self.schedule.token_ttl_s, HUB_PLANTS.get(self.plant or ""),
            name="hub", secret=HUB_SECRET,
            extra_env={
                "KDS_UPSTREAM_URL": self.link.url,
                "KDS_UPSTREAM_ANON_KEY": issue_anon_key(JWT_SECRET),
                "KDS_UPSTREAM_TOKEN": token,  # an admin device token of upstream's restaurant
                "KDS_UPSTREAM_HEARTBEAT_S": str(HUB_HEARTBEAT_S),
            },
        )
        await asyncio.to_thread(self.proc.start)
        self.pos = Pos(self.proc.url, self.anon, self.workdir / "lan-pos.log", secret=HUB_SECRET, prefix="L")

    def stopped(self, how: str) -> None:
        """After a stop (in the lane's thread): the planted `hub_drop_queue` empties the queue for upstream."""
        if self.plant == "hub_drop_queue" and self.mirror_store.exists():
            with contextlib.closing(sqlite3.connect(self.mirror_store, timeout=10)) as conn, conn:
                conn.execute("DELETE FROM outbox WHERE state IN ('pending', 'inflight')")
            with self.db.begin() as hub:  # and the taps committed at the hub but not yet moved into that outbox
                hub.execute(sa.text("DELETE FROM hub_intents"))

    async def close(self) -> None:
        if self.pos is not None:
            for task in list(self.pos.tasks):
                task.cancel()
            await self.pos.aclose()
        await self.link.stop()
        if self.proc is not None:
            await asyncio.to_thread(self.proc.stop, "term")

    def state(self, upstream_db: sa.Engine) -> dict[str, Any]:
        """Everything the checks compare, read now (the hub may be running)."""
        return {
            "digest": checks.server_digest(self.db, RESTAURANT),
            "upstream": checks.server_digest(upstream_db, RESTAURANT),
            "queues": checks.hub_state(self.db, self.mirror_store, RESTAURANT),
        }


async def _await_convergence(
    screens: list[ScreenProc], db: sa.Engine, bound_s: float, hub: HubTier | None = None,
    waited: list[str] | None = None,
) -> tuple[float | None, list[str]]:
    """Poll until every screen's store equals its server (the hub for a screen on its LAN) and its outbox is empty;
    with a hub, until its queues are forwarded, its rows equal upstream's in content, and each refusal upstream
    sent back after the hub had applied a tap is kept on the screen that made it. (seconds taken, problems)."""
    start = time.monotonic()
    problems: list[str] = []
    while True:
        problems = []
        if hub is None:
            server = await asyncio.to_thread(checks.server_digest, db, RESTAURANT)
            at_hub: dict[str, Any] = {}
            late: dict[str, set[str]] = {}
        else:
            state = await asyncio.to_thread(hub.state, db)
            server, at_hub = state["upstream"], state["digest"]
            problems += checks.hub_pending(state["queues"], at_hub, server)
            late = {}
            for r in state["queues"]["late"]:
                late.setdefault(r["device_id"], set()).add(r["intent_id"])
        for s in screens:
            s.check_alive()
            answer = await s.call({"op": "digest"})
            if answer is None or not answer.get("ready"):
                problems.append(f"screen {s.spec.index}: not answering")
                continue
            if answer["unsettled"]:
                problems.append(f"screen {s.spec.index}: {answer['unsettled']} intents unsettled "
                                f"({answer['connection']}, last error {answer['last_error']})")
            missing = late.get(answer.get("device_id", ""), set()) - set(answer.get("rejected", ()))
            if s.spec.hub and missing:
                problems.append(f"screen {s.spec.index}: {len(missing)} refusals upstream sent back through the hub "
                                f"not yet shown ({answer['connection']})")
            diff = checks.divergence(answer["orders"], at_hub if s.spec.hub else server)
            if diff:
                problems.append(f"screen {s.spec.index}{' (hub)' if s.spec.hub else ''} ({answer['connection']}, "
                                f"caught_up={answer['caught_up']}): "
                                f"{diff[0]}" + (f" (+{len(diff) - 1} more)" if len(diff) > 1 else ""))
        elapsed = time.monotonic() - start
        if not problems:
            return elapsed, []
        if waited is not None:  # the last thing still awaited (result.json: why a convergence took long)
            waited[:] = [f"{elapsed:.1f} s: {p}" for p in problems[:3]]
        if elapsed > bound_s:
            return None, [f"not converged {bound_s:.0f} s after the heal: {p}" for p in problems]
        await asyncio.sleep(0.25)


def _prepare(workdir: Path, schedule: Schedule) -> None:
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "schedule.json").write_text(json.dumps(schedule.to_json(), indent=1))


async def _lane(companion: Companion, queue: asyncio.Queue[tuple[str, str]],
                after_stop: Any = None) -> None:
    """One life at a time for one server: stops and starts carried out in order, off the event loop."""
    while True:
        what, how = await queue.get()
        try:
            if what == "stop":
                await asyncio.to_thread(companion.stop, how)
                if after_stop is not None:
                    await asyncio.to_thread(after_stop, how)
            else:
                await asyncio.to_thread(companion.start)
                companion.restarts += 1
        finally:
            queue.task_done()


async def execute(schedule: Schedule, workdir: Path, database_url: str, plant: str | None = None) -> Result:
    """Run `schedule` with its data under `workdir` on the companion database `database_url`."""
    _prepare(workdir, schedule)
    companion = Companion(workdir, database_url, schedule.token_ttl_s, plant if plant in SERVER_PLANTS else None)
    proxies: list[ChaosProxy] = []
    screens: list[ScreenProc] = []
    pos: Pos | None = None
    hub: HubTier | None = None
    db = sa.create_engine(database_url, poolclass=sa.pool.NullPool)
    liveness_s: float | None = None
    live_problems: list[str] = []
    stats: dict[str, Any] = {}
    server_lane: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    hub_lane: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
    lanes = [asyncio.create_task(_lane(companion, server_lane))]
    try:
        await asyncio.to_thread(companion.start)
        anon = issue_anon_key(JWT_SECRET)
        emails = await _add_devices(companion.url, anon, schedule, [s for s in schedule.screens if not s.hub])
        if schedule.hub:
            hub = HubTier(workdir, companion, schedule, plant)
            await hub.start()
            assert hub.proc is not None
            lanes.append(asyncio.create_task(_lane(hub.proc, hub_lane, hub.stopped)))
            emails |= await _add_devices(hub.proc.url, hub.anon, schedule, [s for s in schedule.screens if s.hub],
                                         HUB_SECRET)
        for spec in schedule.screens:
            server = hub.proc if spec.hub and hub is not None and hub.proc is not None else companion
            proxy = ChaosProxy(server.port, seed=schedule.seed * 100 + spec.index)
            await proxy.start()
            proxies.append(proxy)
            key = hub.anon if spec.hub and hub is not None else anon
            screens.append(ScreenProc(spec, workdir, proxy.url, key, emails[spec.index], schedule, plant))
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
            await _do_step(step, screens, proxies, pos, server_lane, taps, hub, hub_lane)
        stats["taps"] = dict(taps)

        # ---------------- liveness: heal everything, restart what is down, await convergence
        for proxy in proxies:
            proxy.heal()
        if hub is not None:
            hub.link.heal()
        await server_lane.join()
        await hub_lane.join()
        if not companion.up:
            await asyncio.to_thread(companion.start)
        if hub is not None and hub.proc is not None and not hub.proc.up:
            await asyncio.to_thread(hub.proc.start)
        for s in screens:
            s.check_alive()
            if not s.up:
                s.start()
        await pos.settle()
        if hub is not None and hub.pos is not None:
            await hub.pos.settle()
        heal_at = time.monotonic()
        waited: list[str] = []
        liveness_s, live_problems = await _await_convergence(screens, db, LIVENESS_S, hub, waited)
        stats["last_awaited"] = waited
        stats["pos"] = dict(pos.done)
        stats["proxies"] = [vars(p.counters) for p in proxies]
        if hub is not None:
            stats["lan_pos"] = dict(hub.pos.done) if hub.pos is not None else {}
            stats["hub_link"] = vars(hub.link.counters)
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
        for lane in lanes:
            lane.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await lane
        if hub is not None:
            await hub.close()
        await asyncio.to_thread(companion.stop, "term")

    # ---------------- the checks, on what the processes left
    if plant == "corrupt_store":
        _corrupt(screens[-1].data_dir / "screen.sqlite3")
    integrity = {f"screen {s.spec.index}": checks.integrity(s.data_dir / "screen.sqlite3") for s in screens}
    if database_url.startswith("sqlite"):
        integrity["companion"] = checks.integrity(Path(database_url.removeprefix("sqlite:///")))
    if hub is not None:
        integrity["hub"] = checks.integrity(Path(hub.database_url.removeprefix("sqlite:///")))
        integrity["hub mirror"] = checks.integrity(hub.mirror_store)
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
    readable = {i: d for i, d in screen_data.items() if i not in unreadable}
    on_hub = {s.index for s in schedule.screens if s.hub}
    violations = checks.verdict({i: d for i, d in readable.items() if i not in on_hub}, server, rows, cursors,
                                integrity, live_problems)
    if hub is not None:
        at_hub = checks.server_digest(hub.db, RESTAURANT)
        hub_rows, hub_cursors = checks.ledger(hub.db, RESTAURANT)
        queues = checks.hub_state(hub.db, hub.mirror_store, RESTAURANT)
        hub.db.dispose()
        lan = {i: d for i, d in readable.items() if i in on_hub}
        against_hub = checks.verdict(lan, at_hub, hub_rows, hub_cursors, {}, [])
        against_hub = {k: [f"(hub) {line}" for line in lines] for k, lines in against_hub.items()}
        violations = checks.merge(violations, against_hub,
                                  checks.hub_verdict(lan, at_hub, server, hub_rows, rows, queues))
        stats["hub_ledger_rows"] = len(hub_rows)
        stats["late_rejections"] = len(queues["late"])
        stats["hub_restarts"] = hub.proc.restarts if hub.proc is not None else 0
        stats["lan_orders"] = len(at_hub)
    stats["journaled"] = sum(len(d["journal"]) for d in screen_data.values())
    stats["ledger_rows"] = len(rows)
    stats["orders"] = len(server)
    stats["rejected_kept"] = sum(len(d["rejected"]) for d in screen_data.values())
    stats["screen_restarts"] = sum(s.starts - 1 for s in screens)
    stats["server_restarts"] = companion.restarts
    result = Result(schedule.seed, schedule.backend, schedule.classes, violations, workdir, liveness_s, plant, stats)
    (workdir / "result.json").write_text(json.dumps(
        {"seed": result.seed, "backend": result.backend, "classes": result.classes, "violations": violations,
         "liveness_s": liveness_s, "plant": plant, "hub": schedule.hub, "stats": stats}, indent=1, default=str))
    return result


async def _do_step(step: Any, screens: list[ScreenProc], proxies: list[ChaosProxy], pos: Pos,
                   server_lane: asyncio.Queue[tuple[str, str]], taps: Counter_, hub: HubTier | None = None,
                   hub_lane: asyncio.Queue[tuple[str, str]] | None = None) -> None:
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
    elif kind.startswith("lan_"):
        assert hub is not None and hub.pos is not None
        {"lan_order": hub.pos.order, "lan_add_items": hub.pos.add_items, "lan_void_item": hub.pos.void_item,
         "lan_cancel": hub.pos.cancel}[kind](args)
    elif kind == "tap":
        screen = screens[step.target]

        async def tap() -> None:
            answer = await screen.call({"op": "tap", "count": args["count"], "seed": args["seed"]})
            if answer is None:
                taps["unanswered"] += 1
            else:
                taps["made"] += len(answer.get("taps", []))

        pos.spawn(tap())
    elif kind in ("proxy", "hub_proxy"):
        if kind == "hub_proxy":
            assert hub is not None
            proxy = hub.link
        else:
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
            proxy.lose_reply(args["n"], WRITES if args.get("what") == "writes" else (APPLY_INTENTS,))
    elif kind == "server_stop":
        server_lane.put_nowait(("stop", args["signal"]))
    elif kind == "server_start":
        server_lane.put_nowait(("start", ""))
    elif kind in ("hub_stop", "hub_start"):
        assert hub_lane is not None
        hub_lane.put_nowait(("stop", args["signal"]) if kind == "hub_stop" else ("start", ""))
    elif kind == "screen_kill":
        screens[step.target].kill9()
    elif kind == "screen_start":
        screens[step.target].start()
