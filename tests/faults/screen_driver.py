"""One screen of the fault harness, in its own OS process: the real `SyncEngine`, taps on command.

    python -m tests.faults.screen_driver --data-dir D --url U --anon-key K --email E --password P [--qt]

Headless (default) it runs a `SyncEngine` as `kds-sync --headless` does, with the app's heartbeat. With `--qt`
it runs the real `kds` app (kds_app.windows.app.App, its real window, offscreen) and taps through the app's `Screen`,
the object the window's clicks call; nothing in kds_app is changed for this.

Control: a loopback TCP socket (its port written to `<data dir>/control.port`), one JSON line per request and
per answer: `{"op": "tap", "count": n, "seed": s}`, `{"op": "digest"}`, `{"op": "stop"}`.

Journal: every tap is appended to `<data dir>/journal.jsonl` and fsynced the moment `submit` returned, because
only then was it acknowledged to the cook. A `kill -9` can lose at most the line of a tap being made.

Planted bugs (`KDS_PLANTED_BUGS`, see tests/faults/README.md) live in the engine itself (`api_client.plant.planted`
calls), so they reach the Qt screen as well as the headless ones.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import os
import random
import signal
import sys
import time
from pathlib import Path
from typing import Any

from api_client.client import KdsApiClient
from api_client.errors import ApiError, ClientError
from api_client.models import AuthSession, DeviceRole, Intent, IntentKind, ItemStatus, OrderStatus
from api_client.token_provider import SessionTokenProvider
from sync.engine.engine import EngineConfig, SyncEngine
from sync.store import outbox_rows, server_rows

log = logging.getLogger("faults.screen")

HEARTBEAT_S = 1.5  # the app's (kds_app.windows.app): a silent loss is noticed within 2 heartbeats
OFFLINE_AFTER_S = 1.5
SCREEN_DB = "screen.sqlite3"  # the app's file name too (kds_app.startup.connect.SCREEN_DB)
SESSION = "harness-session.json"


# ---------------------------------------------------------------- journal


class Journal:
    def __init__(self, path: Path) -> None:
        self.fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    def record(self, intent: Intent) -> dict[str, Any]:
        entry = {
            "intent_id": str(intent.id),
            "device_id": intent.device_id,
            "device_seq": intent.device_seq,
            "kind": intent.kind.value,
            "order_id": str(intent.order_id) if intent.order_id else None,
            "item_id": str(intent.item_id) if intent.item_id else None,
            "station": intent.station,
            "t": time.time(),
        }
        os.write(self.fd, (json.dumps(entry) + "\n").encode())
        os.fsync(self.fd)
        return entry

    def close(self) -> None:
        os.close(self.fd)


def read_journal(data_dir: Path) -> list[dict[str, Any]]:
    path = data_dir / "journal.jsonl"
    if not path.exists():
        return []
    out = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(ValueError):  # a torn last line after kill -9: that tap was never acknowledged
            out.append(json.loads(line))
    return out


# ---------------------------------------------------------------- the store as the checks see it


def store_digest(conn: Any) -> dict[str, Any]:
    """Every order the store holds: {order_id: {"status", "version", "priority", "items": {id: [status, version,
    held, changed_after_send]}}}, read with the store's own functions."""
    orders: dict[str, Any] = {}
    for order_id in server_rows.order_ids(conn):
        order = server_rows.load_order(conn, order_id)
        if order is not None:
            orders[str(order_id)] = order_digest(order)
    return orders


def order_digest(order: Any) -> dict[str, Any]:
    return {
        "status": order.status.value,
        "version": order.version,
        "priority": order.priority.value,
        "cleared": order.cleared_at is not None,
        "items": {
            str(i.id): [i.status.value, i.version, i.held, i.changed_after_send] for i in order.order_items
        },
    }


# ---------------------------------------------------------------- sign-in that survives restarts and outages

FIRST_SIGN_IN_S = 90.0
"""A screen that has never signed in keeps trying this long when its server does not answer (a loaded machine, a
server still starting) instead of dying at start: a cook's screen would keep trying too."""


async def sign_in_patiently(client: KdsApiClient, email: str, password: str, *, give_up_now: bool) -> AuthSession:
    deadline = time.monotonic() + FIRST_SIGN_IN_S
    while True:
        try:
            return await client.sign_in(email, password)
        except ClientError as exc:
            if give_up_now or not exc.retryable or time.monotonic() > deadline:
                raise
            log.warning("sign-in failed (%s); trying again", exc)
        await asyncio.sleep(1.0)



class Auth:
    """Password sign-in, the session kept in the data dir (the app keeps its own the same way), refresh with a
    fallback to the password when a refresh token was lost to a kill -9 (a rotated one is refused)."""

    def __init__(self, url: str, anon_key: str, email: str, password: str, data_dir: Path) -> None:
        self.client = KdsApiClient(url, anon_key)
        self.email, self.password, self.data_dir = email, password, data_dir

    def save(self, session: AuthSession) -> None:
        tmp = self.data_dir / (SESSION + ".tmp")
        tmp.write_text(session.model_dump_json())
        os.replace(tmp, self.data_dir / SESSION)

    def saved(self) -> AuthSession | None:
        with contextlib.suppress(FileNotFoundError, ValueError):
            return AuthSession.model_validate_json((self.data_dir / SESSION).read_text())
        return None

    async def first_session(self) -> AuthSession:
        try:
            saved = self.saved() is not None
            session = await sign_in_patiently(self.client, self.email, self.password, give_up_now=saved)
        except Exception as exc:
            saved = self.saved()
            if saved is None:
                raise
            log.warning("sign-in failed (%s); starting on the saved session", exc)
            return saved
        self.save(session)
        return session

    async def refresh(self, refresh_token: str) -> AuthSession:
        try:
            session = await self.client.refresh(refresh_token)
        except ApiError as exc:
            if exc.status not in (400, 401, 403):
                raise
            log.warning("refresh refused (%s); signing in again", exc.message)
            session = await self.client.sign_in(self.email, self.password)
        self.save(session)
        return session


# ---------------------------------------------------------------- choosing taps


def choose_tap(rng: random.Random, tickets: list[Any], role: DeviceRole, bumped: list[Any]) -> dict[str, Any] | None:
    """A plausible tap on what the screen shows: (kind, order, item, station, args)."""
    choices: list[dict[str, Any]] = []
    for order, station in tickets:
        for item in order.order_items:
            if item.changed_after_send:
                choices.append({"kind": IntentKind.ack_change, "order": order, "item": item.id, "station": station})
            elif item.status is ItemStatus.done:
                choices.append({"kind": IntentKind.unbump_item, "order": order, "item": item.id, "station": station})
            elif item.status in (ItemStatus.new, ItemStatus.cooking) and not item.held:
                for _ in range(3):  # striking items is what cooks do most
                    choices.append({"kind": IntentKind.bump_item, "order": order, "item": item.id, "station": station})
                if item.status is ItemStatus.new:
                    choices.append({"kind": IntentKind.start, "order": order, "item": item.id, "station": station})
        if station is not None:
            choices.append({"kind": IntentKind.bump_ticket, "order": order, "station": station})
        else:
            if order.status is OrderStatus.ready:
                choices += [{"kind": IntentKind.serve, "order": order}] * 3
            choices.append({"kind": IntentKind.hold, "order": order, "args": {"course": 1}})
            choices.append({"kind": IntentKind.fire, "order": order, "args": {"course": 1}})
        rush = "normal" if order.priority.value == "rush" else "rush"
        choices.append({"kind": IntentKind.rush, "order": order, "args": {"priority": rush}})
    for order, station in bumped:
        choices.append({"kind": IntentKind.recall, "order": order, "station": station})
    if not choices:
        return None
    return rng.choice(choices)


# ---------------------------------------------------------------- the two kinds of screen


class HeadlessScreen:
    def __init__(self, engine: SyncEngine, journal: Journal) -> None:
        self.engine, self.journal = engine, journal
        self.stations: tuple[str | None, ...] = engine.config.stations or (None,)
        if engine.config.role is DeviceRole.expo:
            self.stations = (None,)

    def tap(self, rng: random.Random) -> dict[str, Any] | None:
        tickets = [(o, s) for s in self.stations for o in self.engine.open_tickets(s)]
        bumped = [(o, s) for s in self.stations for o, _ in self.engine.recently_bumped(s)]
        choice = choose_tap(rng, tickets, self.engine.config.role, bumped)
        if choice is None:
            return None
        intent = self.engine.submit(
            choice["kind"], choice["order"].id, item_id=choice.get("item"), station=choice.get("station"),
            args=choice.get("args"),
        )
        return self.journal.record(intent)  # submit returned: durable, acknowledged to the cook


class QtScreen:
    """Taps through the app's `Screen` (what a click on a card calls); the journal hears `intent_submitted`."""

    def __init__(self, app: Any, journal: Journal) -> None:
        self.app, self.journal = app, journal
        self.entries: list[dict[str, Any]] = []
        self._connected: Any = None

    @property
    def engine(self) -> SyncEngine:
        return self.app.session.engine

    def _hook(self) -> None:
        screen = self.app.session.screen
        if self._connected is not screen:
            screen.intent_submitted.connect(lambda intent: self.entries.append(self.journal.record(intent)))
            self._connected = screen

    def tap(self, rng: random.Random) -> dict[str, Any] | None:
        from kds_app.viewmodel.card_rules import RUSH

        if self.app.session is None:
            return None
        self._hook()
        screen = self.app.session.screen
        screen.refresh()
        tickets = [(t.order, t.station) for t in screen.model.tickets()]
        bumped = [(t.order, t.station) for t, _ in screen.recently_bumped()]
        role = DeviceRole.expo if screen.expo else DeviceRole.kds
        choice = choose_tap(rng, tickets, role, bumped)
        if choice is None:
            return None
        before = len(self.entries)
        order, station = choice["order"], choice.get("station")
        from kds_app.viewmodel.ticket_model import ticket_key

        key = ticket_key(order.id, station)
        kind = choice["kind"]
        if kind in (IntentKind.bump_item, IntentKind.unbump_item, IntentKind.ack_change):
            screen.item(key, choice["item"])
        elif kind in (IntentKind.bump_ticket, IntentKind.serve):
            screen.action(key)
            screen.action(key)  # two taps: the first arms the zone
        elif kind is IntentKind.rush:
            screen.control(key, RUSH)
            screen.control(key, RUSH)
        elif kind is IntentKind.recall:
            ticket = next((t for t, _ in screen.recently_bumped() if t.key == key), None)
            if ticket is not None:
                screen.recall(ticket)
        else:
            return None  # start/hold/fire have no plain tap on this screen
        return self.entries[before] if len(self.entries) > before else None


# ---------------------------------------------------------------- control socket


async def serve_control(data_dir: Path, screen: Any, get_engine: Any, stop: asyncio.Event) -> asyncio.Server:
    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await reader.readline()
            request = json.loads(line)
            answer = await asyncio.wait_for(answer_for(request), 20)
            writer.write((json.dumps(answer) + "\n").encode())
            await writer.drain()
        except Exception as exc:
            with contextlib.suppress(Exception):
                writer.write((json.dumps({"error": f"{type(exc).__name__}: {exc}"}) + "\n").encode())
                await writer.drain()
        finally:
            writer.close()

    async def answer_for(request: dict[str, Any]) -> dict[str, Any]:
        op = request.get("op")
        if op == "tap":
            rng = random.Random(request["seed"])
            taps = [t for t in (screen.tap(rng) for _ in range(int(request.get("count", 1)))) if t is not None]
            return {"taps": taps}
        if op == "digest":
            engine = get_engine()
            if engine is None:
                return {"ready": False}
            with engine.store.snapshot() as conn:
                orders = store_digest(conn)
                unsettled = len(outbox_rows.unsettled(conn))
                rejected = [str(e.intent.id) for e in outbox_rows.rejected(conn)]
            return {
                "ready": True,
                "device_id": engine.config.device_id,
                "orders": orders,
                "unsettled": unsettled,
                "rejected": rejected,  # refusals kept on this screen (a hub's late ones are awaited by the harness)
                "connection": engine.connection_state.value.value,
                "caught_up": engine.caught_up.value,
                "last_error": engine.last_error.value,
            }
        if op == "stop":
            stop.set()
            return {"stopping": True}
        return {"error": f"unknown op {op!r}"}

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    tmp = data_dir / "control.port.tmp"
    tmp.write_text(str(port))
    os.replace(tmp, data_dir / "control.port")
    return server


# ---------------------------------------------------------------- main


async def run_headless(args: argparse.Namespace) -> int:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    auth = Auth(args.url, args.anon_key, args.email, args.password, args.data_dir)
    session = await auth.first_session()
    meta = session.user.app_metadata
    provider = SessionTokenProvider(session, auth.refresh, refresh_margin_s=args.refresh_margin)
    config = EngineConfig(
        url=args.url,
        anon_key=args.anon_key,
        restaurant_id=meta.restaurant_id,
        device_id=session.user.id,
        role=meta.device_role,
        stations=tuple(meta.stations),
        token_provider=provider,
        data_path=args.data_dir / SCREEN_DB,
        heartbeat_s=HEARTBEAT_S,
        offline_after_s=OFFLINE_AFTER_S,
    )
    engine = SyncEngine(config)
    journal = Journal(args.data_dir / "journal.jsonl")
    screen = HeadlessScreen(engine, journal)
    await engine.start()
    server = await serve_control(args.data_dir, screen, lambda: engine, stop)
    try:
        await stop.wait()
    finally:
        server.close()
        await engine.stop()
        await auth.client.aclose()
        journal.close()
    return 0


def run_qt(args: argparse.Namespace) -> int:
    """The real app: its config names the companion (through this screen's proxy) and the device's email; the
    driver signs in first and leaves the refresh token where the app looks for it, as a cook's sign-in would."""
    import qasync
    from PySide6.QtWidgets import QApplication

    from kds_app.startup import connect
    from kds_app.startup.config import AppConfig
    from kds_app.windows.app import App

    async def prepare() -> None:
        auth = Auth(args.url, args.anon_key, args.email, args.password, args.data_dir)
        try:
            saved = (args.data_dir / connect.SESSION_FILE).exists()
            session = await sign_in_patiently(auth.client, args.email, args.password, give_up_now=saved)
            connect.save_refresh_token(args.data_dir, session.refresh_token)
            (args.data_dir / connect.SESSION_FILE).write_text(session.model_dump_json())
        except Exception as exc:  # the server is down: the app starts offline on its saved session
            log.warning("sign-in before start failed: %s", exc)
        finally:
            await auth.client.aclose()

    config = AppConfig(
        server="companion", url=args.url, anon_key=args.anon_key, email=args.email,
        view="expo" if args.expo else "station", sound=False,
    )
    qapp = QApplication.instance() or QApplication(sys.argv)
    app = App(config, config_file=args.data_dir / "config.json", data_dir=args.data_dir)
    journal = Journal(args.data_dir / "journal.jsonl")
    screen = QtScreen(app, journal)

    async def main() -> int:
        await prepare()
        stop = asyncio.Event()
        stop_task = asyncio.ensure_future(stop.wait())
        stop_task.add_done_callback(lambda _: app.request_stop())
        get_engine = lambda: app.session.engine if app.session is not None else None  # noqa: E731
        server = await serve_control(args.data_dir, screen, get_engine, stop)
        try:
            return await app.run()
        finally:
            server.close()
            journal.close()

    with contextlib.suppress(asyncio.CancelledError):
        return qasync.run(main())
    del qapp
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="faults-screen")
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--url", required=True)
    parser.add_argument("--anon-key", required=True)
    parser.add_argument("--email", required=True)
    parser.add_argument("--password", required=True)
    parser.add_argument("--refresh-margin", type=float, default=60.0)
    parser.add_argument("--qt", action="store_true")
    parser.add_argument("--expo", action="store_true")
    args = parser.parse_args(argv)
    args.data_dir.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(
        level=logging.WARNING, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    if args.qt:
        return run_qt(args)
    return asyncio.run(run_headless(args))


if __name__ == "__main__":
    raise SystemExit(main())
