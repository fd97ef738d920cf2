"""The screen app's own numbers (BRIEF §6): tap → card repainted, launch → first ticket painted, RSS.

The real `Session` (SyncEngine + TicketModel + TicketDelegate + Screen + MainWindow) on the offscreen Qt
platform, 1920x1080. The local store is filled beforehand as if synced earlier (server rows written straight
into its tables); the engine points at a closed loopback port, so it runs offline, the situation where the UI
must never wait on the network.

    .venv/bin/python bench/app_screen.py tap    [--tickets 300] [--samples 500]
    .venv/bin/python bench/app_screen.py launch [--history 100000] [--open 50] [--runs 3]
    .venv/bin/python bench/app_screen.py rss    [--tickets 500]
    .venv/bin/python bench/app_screen.py all

* tap: wall time from the start of the tap handler (`Screen.item` strike/unstrike, or the two `Screen.action`
  taps of a bump) to the end of a synchronous `grid.repaint_pending()` (the grid's layout, then a repaint of
  what it invalidated: the struck card, or the cards a bump moved); split into `SyncEngine.submit`
  (the durable transaction), `Screen.refresh` (reload + model update) and the repaint.
* launch: a fresh subprocess per run; time from the parent's spawn (`time.time()` passed in the environment)
  and from `main()` entry to the end of the grid's first `paintEvent` with at least one ticket.
* rss: VmRSS from /proc/self/status with N open tickets shown, after painting and 10 ticks.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

MAIN_ENTRY = time.time()  # module import is the first thing the launch subprocess does

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

RESTAURANT = "local"
STATION = "grill"
DEVICE = "bench-screen-1"
SIZE = (1920, 1080)
SPAWNED_ENV = "KDS_BENCH_SPAWNED_AT"


# ---------------------------------------------------------------- filling the local store (not timed)


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rows(
    count: int, *, first_number: int, seq: int, now: datetime, spread_s: float, served: bool, seed: int
) -> tuple[list[dict[str, Any]], list[dict[str, Any]], int]:
    """Order and item rows for `orders` / `order_items` as a sync would have written them. Open orders always
    have at least two grill items (so each is a grill ticket, and striking one item leaves it open)."""
    from kds_app.demo.demo_orders import MENU, service

    grill = [d for d in MENU if d.station == STATION]
    rng = random.Random(seed)
    order_rows: list[dict[str, Any]] = []
    item_rows: list[dict[str, Any]] = []
    for intake in service(count, seed=seed, first_number=first_number, spread_s=spread_s, now=now):
        seq += 1
        order_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
        created = intake.created_at or now
        updated = created + timedelta(minutes=12) if served else created
        items = [i.model_dump(mode="json") for i in intake.items]
        if not served:
            on_grill = sum(1 for i in items if i["station"] == STATION)
            for dish in rng.sample(grill, k=max(0, 2 - on_grill)):
                items.append({"name": dish.name, "station": STATION, "quantity": 1, "modifiers": [], "notes": None,
                              "allergens": list(dish.allergens), "course": dish.course, "held": False})
        order = {
            "id": order_id, "restaurant_id": RESTAURANT, "number": intake.number, "source": intake.source.value,
            "type": intake.type.value, "table_label": intake.table_label, "server_name": intake.server_name,
            "guests": intake.guests, "customer_name": intake.customer_name, "notes": intake.notes,
            "priority": intake.priority.value, "status": "served" if served else "new",
            "created_at": created.isoformat(), "due_at": None, "updated_at": updated.isoformat(),
            "version": 3 if served else 1, "change_seq": seq,
        }
        order_rows.append({"id": order_id, "restaurant_id": RESTAURANT, "status": order["status"],
                           "version": order["version"], "change_seq": seq, "data": json.dumps(order)})
        for n, item in enumerate(items):
            seq += 1
            item_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
            status = "done" if served else "new"
            data = {
                "id": item_id, "order_id": order_id, "restaurant_id": RESTAURANT, "station": item["station"],
                "name": item["name"], "quantity": item["quantity"], "modifiers": item["modifiers"],
                "notes": item["notes"], "allergens": item["allergens"], "course": item["course"],
                "held": item["held"], "status": status, "changed_after_send": False,
                "created_at": (created + timedelta(microseconds=n)).isoformat(), "updated_at": updated.isoformat(),
                "version": 2 if served else 1, "change_seq": seq,
            }
            item_rows.append({"id": item_id, "order_id": order_id, "station": item["station"], "status": status,
                              "version": data["version"], "change_seq": seq, "data": json.dumps(data)})
    return order_rows, item_rows, seq


def populate(path: Path, *, open_tickets: int, history: int) -> dict[str, float]:
    """A screen's store with `history` served orders (items done) and `open_tickets` new ones at the grill."""
    from sync.store import LocalStore
    from sync.store.tables import order_items, orders

    started = time.perf_counter()
    now = datetime.now(UTC)
    store = LocalStore(path, device_id=DEVICE)
    seq = 0
    counts = {"orders": 0.0, "items": 0.0}
    try:
        chunk = 20_000
        for start in range(0, history, chunk):
            n = min(chunk, history - start)
            past = now - timedelta(days=90) + timedelta(seconds=start * 60)
            o, i, seq = _rows(n, first_number=1 + start, seq=seq, now=past, spread_s=n * 60.0, served=True,
                              seed=start + 1)
            with store.transaction() as conn:
                conn.execute(orders.insert(), o)
                conn.execute(order_items.insert(), i)
            counts["orders"] += len(o)
            counts["items"] += len(i)
        o, i, seq = _rows(open_tickets, first_number=history + 1, seq=seq, now=now, spread_s=25 * 60.0,
                          served=False, seed=99)
        with store.transaction() as conn:
            conn.execute(orders.insert(), o)
            conn.execute(order_items.insert(), i)
        counts["orders"] += len(o)
        counts["items"] += len(i)
    finally:
        store.close()
    counts["seconds"] = time.perf_counter() - started
    counts["mb"] = path.stat().st_size / 1e6
    return counts


# ---------------------------------------------------------------- the app, offline


def _session(data_path: Path) -> Any:
    from api_client.models import DeviceRole
    from api_client.token_provider import StaticTokenProvider
    from kds_app.startup.config import AppConfig
    from kds_app.startup.connect import Connection
    from kds_app.windows.app import Session
    from sync.engine.engine import EngineConfig

    engine_config = EngineConfig(
        url=f"http://127.0.0.1:{_closed_port()}", anon_key="x", restaurant_id=RESTAURANT, device_id=DEVICE,
        role=DeviceRole.kds, token_provider=StaticTokenProvider("x"), data_path=data_path, stations=(STATION,),
    )
    session = Session.create(AppConfig(view="station", stations=(STATION,)), Connection(engine_config))
    session.sound.enabled = False
    return session


def _qapp() -> Any:
    from PySide6.QtWidgets import QApplication

    from kds_app.media import theme
    from kds_app.startup.config import AppConfig

    qapp = QApplication.instance() or QApplication(sys.argv)
    assert isinstance(qapp, QApplication)
    qapp.setStyleSheet(theme.style_sheet(AppConfig().font_size))
    return qapp


def _paint(session: Any) -> float:
    """Lay out and repaint the grid synchronously (no processEvents inside a coroutine); returns ms."""
    t0 = time.perf_counter()
    session.window.grid.relayout()
    session.window.grid.viewport().repaint()
    return (time.perf_counter() - t0) * 1000


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered)) - 1))]


class _Timer:
    """Wall time of calls to one bound method, recorded while `active` (the tap window) and outside it."""

    def __init__(self, obj: Any, name: str) -> None:
        self.inside: list[float] = []
        self.outside: list[float] = []
        self.active = False
        original: Callable[..., Any] = getattr(obj, name)

        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                (self.inside if self.active else self.outside).append((time.perf_counter() - t0) * 1000)

        setattr(obj, name, timed)

    def take(self) -> float:
        total = sum(self.inside)
        self.inside.clear()
        return total


@contextmanager
def _window(timers: list[_Timer]) -> Iterator[None]:
    for t in timers:
        t.active = True
    try:
        yield
    finally:
        for t in timers:
            t.active = False


@contextmanager
def _app_gc(pauses: list[float]) -> Iterator[None]:
    """Garbage collection as `App.run` does it (automatic collection off, `MainThreadGC.tick` every 500 ms on
    the UI thread), with every collection's pause recorded in ms."""
    from PySide6.QtCore import QTimer

    from kds_app.startup.main_thread_gc import MainThreadGC

    started: list[float] = []

    def on_gc(phase: str, _info: dict[str, int]) -> None:
        if phase == "start":
            started.append(time.perf_counter())
        elif started:
            pauses.append((time.perf_counter() - started.pop()) * 1000)

    collector = MainThreadGC()
    collector.start()
    pauses.clear()
    timer = QTimer()
    timer.setInterval(500)
    timer.timeout.connect(collector.tick)
    timer.start()
    gc.callbacks.append(on_gc)
    try:
        yield
    finally:
        gc.callbacks.remove(on_gc)
        timer.stop()
        collector.stop()


async def _tap(tickets: int, samples: int, gap_s: float) -> dict[str, Any]:
    gc_pauses: list[float] = []
    with _app_gc(gc_pauses), tempfile.TemporaryDirectory(prefix="kds-bench-app-") as tmp:
        data_path = Path(tmp) / "screen.sqlite3"
        populate(data_path, open_tickets=tickets, history=0)
        session = _session(data_path)
        screen, grid = session.screen, session.window.grid
        submit = _Timer(session.engine, "submit")
        # Screen._submit calls self.refresh(): the instance attribute is what it finds. The engine's coalesced
        # callback was bound at Session.create, so wrap that one too (it shows up as "outside" refreshes).
        original_refresh = screen.refresh
        refresh = _Timer(screen, "refresh")
        session.bridge.changes.disconnect(original_refresh)
        session.bridge.changes.connect(screen.refresh)
        try:
            await session.start(fullscreen=False)
            session.window.resize(*SIZE)
            _paint(session)
            shown = screen.model.rowCount()
            visible = [t for t in screen.model.tickets()[:12]]
            results: dict[str, Any] = {"tickets": shown}

            async def run(kind: str, count: int, warmup: int) -> None:
                totals: list[float] = []
                parts: dict[str, list[float]] = {"submit": [], "refresh": [], "paint": [], "other": []}
                rows_before = screen.model.rowCount()
                for n in range(warmup + count):
                    ticket = visible[n % len(visible)]
                    if kind == "strike":
                        current = screen.ticket(ticket.key)
                        assert current is not None
                        item = current.order.order_items[0]
                    t0 = time.perf_counter()
                    with _window([submit, refresh]):
                        if kind == "strike":
                            screen.item(ticket.key, item.id)
                        else:
                            screen.action(ticket.key)
                            screen.action(ticket.key)
                        t1 = time.perf_counter()
                        # What the grid repaints for the change: the struck card's rectangle; for a bump, the
                        # cards of the page shown that moved (laid out from cached heights first).
                        grid.repaint_pending()
                    t2 = time.perf_counter()
                    s, r = submit.take(), refresh.take()
                    if kind == "bump":
                        # Bring it back (not timed) so the screen keeps `tickets` open tickets.
                        screen.recall(ticket)
                        submit.take()
                        refresh.take()
                    if n >= warmup:
                        total, paint = (t2 - t0) * 1000, (t2 - t1) * 1000
                        totals.append(total)
                        parts["submit"].append(s)
                        parts["refresh"].append(r)
                        parts["paint"].append(paint)
                        parts["other"].append(total - s - r - paint)
                    await asyncio.sleep(gap_s)  # the loop runs between taps: coalesced refresh, uploader, ticks
                assert screen.model.rowCount() == rows_before, "the tapped tickets must stay on screen"
                results[kind] = {"totals": totals, "parts": parts}

            await run("strike", samples, 50)
            await run("bump", max(100, samples // 2), 20)
            results["outside_refresh_ms"] = list(refresh.outside)
            results["gc_pauses_ms"] = list(gc_pauses)
            results["outbox_pending"] = session.engine.queue_depth.value
            # One full relayout of every card (what a scheduled layout costs the UI thread), for reference.
            grid.delegate._cache.clear()
            grid.delegate._sizes.clear()
            t0 = time.perf_counter()
            grid.relayout(remeasure=True)
            results["relayout_cold_ms"] = (time.perf_counter() - t0) * 1000
            t0 = time.perf_counter()
            grid.relayout(remeasure=True)
            results["relayout_warm_ms"] = (time.perf_counter() - t0) * 1000
            t0 = time.perf_counter()
            screen.current_tickets()
            results["open_tickets_ms"] = (time.perf_counter() - t0) * 1000
        finally:
            await session.stop()
    return results


async def _push(tickets: int, samples: int, front: bool) -> dict[str, Any]:
    """A pushed order through the screen's read path without a network: the frames as the engine receives them
    (one order and its items), applied by `SyncEngine._carry_out`'s store code, announced to `Screen.refresh`,
    then laid out and painted. Main-thread CPU time (`time.thread_time`) per stage, per order."""
    from api_client.models import OrderItemPublic, OrderPublic
    from sync.readpath.merge import Upsert
    from sync.store import read_rows

    with _app_gc([]), tempfile.TemporaryDirectory(prefix="kds-bench-app-") as tmp:
        data_path = Path(tmp) / "screen.sqlite3"
        populate(data_path, open_tickets=tickets, history=0)
        session = _session(data_path)
        screen, grid, engine = session.screen, session.window.grid, session.engine
        # The pushes: rows for `samples` more orders, made like the open ones (not timed).
        now = datetime.now(UTC) - (timedelta(hours=2) if front else timedelta(0))
        o_rows, i_rows, _ = _rows(samples, first_number=10_000, seq=10**6, now=now, spread_s=0.0, served=False,
                                  seed=7)
        items_of: dict[str, list[Any]] = {}
        for row in i_rows:
            items_of.setdefault(row["order_id"], []).append(OrderItemPublic.model_validate_json(row["data"]))
        pushes = [[Upsert(OrderPublic.model_validate_json(o["data"])), *(Upsert(i) for i in items_of[o["id"]])]
                  for o in o_rows]
        stages: dict[str, list[float]] = {"store": [], "refresh": [], "layout": [], "paint": [], "total": []}
        try:
            await session.start(fullscreen=False)
            session.window.resize(*SIZE)
            _paint(session)
            for changes in pushes:
                c0 = time.thread_time()
                with engine.store.refetchable() as conn:
                    changed = read_rows.apply_changes(conn, changes)
                c1 = time.thread_time()
                screen.refresh(changed)
                c2 = time.thread_time()
                grid.relayout()  # the pages from the first changed ticket on, from cached card heights
                c3 = time.thread_time()
                grid.repaint_pending()  # only the cards of the page shown that moved or changed
                c4 = time.thread_time()
                for name, value in zip(stages, (c1 - c0, c2 - c1, c3 - c2, c4 - c3, c4 - c0), strict=True):
                    stages[name].append(value * 1000)
                await asyncio.sleep(0)
            return {"tickets": screen.model.rowCount(), "front": front, "stages": stages}
        finally:
            await session.stop()


def _report_push(r: dict[str, Any]) -> None:
    where = "first on the rail (every card moves)" if r["front"] else "last on the rail (nothing on screen moves)"
    print(f"\n## pushed order → painted, main-thread CPU ms per order ({r['tickets']} tickets at the end, "
          f"new {where})\n")
    print("| stage | n | p50 ms | p90 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|")
    for name, values in r["stages"].items():
        print(_row(name, values))
    mean = statistics.mean(r["stages"]["total"])
    print(f"\nmean {mean:.2f} ms CPU per order: at 50 orders/s {mean * 50 / 10:.1f} % of a core")


async def _rss(data_path: Path) -> dict[str, float]:
    with _app_gc([]):
        before = _rss_mb()
        session = _session(data_path)
        try:
            await session.start(fullscreen=False)
            session.window.resize(*SIZE)
            _paint(session)
            for _ in range(10):
                session.window.tick()
                _paint(session)
                await asyncio.sleep(0.01)
            return {"tickets": session.screen.model.rowCount(), "rss_mb": _rss_mb(), "rss_before_app_mb": before}
        finally:
            await session.stop()


async def _launch_child(data_path: Path) -> dict[str, float]:
    """In the launch subprocess: start the app on a prepared store; stop at the first painted ticket."""
    from kds_app.cards.ticket_grid import _Canvas

    painted: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    original = _Canvas.paintEvent

    def paint_event(self: _Canvas, event: Any) -> None:
        original(self, event)
        if not painted.done() and self._grid.ticket_model().rowCount() > 0:
            painted.set_result(time.time())

    _Canvas.paintEvent = paint_event  # type: ignore[method-assign]
    session = _session(data_path)
    session_ready = time.time()
    await session.start(fullscreen=False)
    session.window.resize(*SIZE)
    start_done = time.time()
    at = await asyncio.wait_for(painted, 30)
    rows = session.screen.model.rowCount()
    await session.stop()
    return {"first_paint": at, "session_created": session_ready, "start_done": start_done, "rows": rows}


def _launch_main(data_path: Path) -> None:
    import qasync

    logging.getLogger("sync").setLevel(logging.ERROR)
    entry = MAIN_ENTRY
    _qapp()
    qapp_ready = time.time()
    import api_client.token_provider  # noqa: F401 - timed apart from Session.create
    import kds_app.startup.connect
    import kds_app.windows.app  # noqa: F401

    qt_ready = time.time()
    out = qasync.run(_launch_child(data_path))
    spawned = float(os.environ[SPAWNED_ENV])
    print(json.dumps({
        "from_spawn_ms": (out["first_paint"] - spawned) * 1000,
        "from_main_ms": (out["first_paint"] - entry) * 1000,
        "spawn_to_main_ms": (entry - spawned) * 1000,
        "qt_import_qapp_ms": (qapp_ready - entry) * 1000,
        "app_imports_ms": (qt_ready - qapp_ready) * 1000,
        "session_create_ms": (out["session_created"] - qt_ready) * 1000,
        "start_ms": (out["start_done"] - out["session_created"]) * 1000,
        "to_paint_ms": (out["first_paint"] - out["start_done"]) * 1000,
        "rows": out["rows"],
    }))


def _launch(history: int, open_tickets: int, runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="kds-bench-launch-") as tmp:
        data_path = Path(tmp) / "screen.sqlite3"
        filled = populate(data_path, open_tickets=open_tickets, history=history)
        results = []
        for _ in range(runs):
            env = {**os.environ, SPAWNED_ENV: repr(time.time())}
            proc = subprocess.run(
                [sys.executable, __file__, "_launch-child", str(data_path)],
                env=env, capture_output=True, text=True, check=True, timeout=120,
            )
            results.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        return {"filled": filled, "runs": results}


# ---------------------------------------------------------------- report


def _row(name: str, values: list[float]) -> str:
    return (f"| {name} | {len(values)} | {_pct(values, 50):.2f} | {_pct(values, 90):.2f} | {_pct(values, 99):.2f} "
            f"| {max(values):.2f} |")


def _report_tap(r: dict[str, Any]) -> None:
    print(f"\n## tap → card repainted ({r['tickets']} open tickets at {STATION}, target p99 ≤ 16 ms)\n")
    print("| measure | n | p50 ms | p90 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|---:|")
    for kind, label in (("strike", "item strike/unstrike"), ("bump", "bump (two taps)")):
        data = r[kind]
        print(_row(f"**{label}: total**", data["totals"]))
        for part in ("submit", "refresh", "paint", "other"):
            print(_row(f"  {label}: {part}", data["parts"][part]))
    outside = r["outside_refresh_ms"]
    if outside:
        print(_row("coalesced refresh (engine callback, between taps)", outside))
    if r["gc_pauses_ms"]:
        print(_row("gc pause (MainThreadGC.tick, between taps)", r["gc_pauses_ms"]))
    for kind in ("strike", "bump"):
        p99 = _pct(r[kind]["totals"], 99)
        print(f"\n{kind}: p99 {p99:.2f} ms → {'met' if p99 <= 16 else 'MISSED'}")
    print(f"one `Screen.current_tickets()` (reload) after the run: {r['open_tickets_ms']:.2f} ms; "
          f"outbox pending at the end: {r['outbox_pending']}")
    print(f"full grid relayout: cold cache {r['relayout_cold_ms']:.1f} ms, warm {r['relayout_warm_ms']:.1f} ms")


def _report_launch(r: dict[str, Any], history: int, open_tickets: int) -> None:
    f = r["filled"]
    print(f"\n## launch → first ticket painted ({history} served + {open_tickets} open orders; target ≤ 1.0 s)\n")
    print(f"store filled (not timed): {int(f['orders'])} orders, {int(f['items'])} items, {f['mb']:.0f} MB "
          f"in {f['seconds']:.1f} s\n")
    keys = ["from_spawn_ms", "from_main_ms", "spawn_to_main_ms", "qt_import_qapp_ms", "app_imports_ms",
            "session_create_ms",
            "start_ms", "to_paint_ms"]
    print("| measure | " + " | ".join(f"run {i + 1}" for i in range(len(r["runs"]))) + " | median |")
    print("|---|" + "---:|" * (len(r["runs"]) + 1))
    for key in keys:
        vals = [run[key] for run in r["runs"]]
        print(f"| {key} | " + " | ".join(f"{v:.0f}" for v in vals) + f" | {statistics.median(vals):.0f} |")
    med = statistics.median(run["from_spawn_ms"] for run in r["runs"])
    print(f"\nfrom spawn median {med:.0f} ms → {'met' if med <= 1000 else 'MISSED'}; rows shown {r['runs'][0]['rows']}")


def _report_rss(r: dict[str, float]) -> None:
    ok = "met" if r["rss_mb"] <= 200 else "MISSED"
    print(f"\n## RSS with {int(r['tickets'])} open tickets shown (target ≤ 200 MB)\n")
    print(f"VmRSS {r['rss_mb']:.0f} MB → {ok} (before the session was created: {r['rss_before_app_mb']:.0f} MB)")


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "_launch-child":
        _launch_main(Path(sys.argv[2]))
        return
    if len(sys.argv) == 4 and sys.argv[1] == "_populate":
        populate(Path(sys.argv[2]), open_tickets=int(sys.argv[3]), history=0)
        return
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("tap", "push", "launch", "rss", "all"))
    parser.add_argument("--front", action="store_true", help="push: new orders sort first (every card moves)")
    parser.add_argument("--tickets", type=int, default=None, help="open tickets (tap: 300, rss: 500)")
    parser.add_argument("--history", type=int, default=100_000)
    parser.add_argument("--open", type=int, default=50, help="open tickets at launch")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--samples", type=int, default=500)
    parser.add_argument("--gap", type=float, default=0.01, help="seconds the loop runs between taps")
    args = parser.parse_args()
    logging.getLogger("sync").setLevel(logging.ERROR)  # offline on purpose: no upload-failure warnings
    print(f"machine: {os.cpu_count()} cpus, Python {sys.version.split()[0]}")
    if args.what in ("launch", "all"):
        _report_launch(_launch(args.history, args.open, args.runs), args.history, args.open)
    if args.what in ("tap", "push", "rss", "all"):
        import qasync

        _qapp()
        if args.what in ("tap", "all"):
            _report_tap(qasync.run(_tap(args.tickets or 300, args.samples, args.gap)))
        if args.what == "push":
            _report_push(qasync.run(_push(args.tickets or 100, args.samples, args.front)))
        if args.what in ("rss", "all"):
            if args.what == "all":
                # A fresh process, so the tap run's allocations do not count.
                subprocess.run([sys.executable, __file__, "rss", "--tickets", str(args.tickets or 500)], check=True)
            else:
                with tempfile.TemporaryDirectory(prefix="kds-bench-app-") as tmp:
                    data_path = Path(tmp) / "screen.sqlite3"
                    # Filled by another process, so none of the filling's allocations count here.
                    subprocess.run([sys.executable, __file__, "_populate", str(data_path), str(args.tickets or 500)],
                                   check=True)
                    _report_rss(qasync.run(_rss(data_path)))


if __name__ == "__main__":
    main()
