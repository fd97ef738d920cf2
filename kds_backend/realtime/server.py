"""The realtime websocket endpoint and its pumps: socket frames into the router, the router's frames out.

Each socket has a queue bounded in frames and in bytes, and one sender task, so fan-out never waits on a socket:
a socket whose queue overflows (a stuck or slow subscriber) is closed and will catch up over REST, its queued
frames dropped and the memory handed back, while the writer and every other subscriber carry on. Changes come
from this process's ChangeHub on SQLite, and from the database's change log (`pg_listener`) on PostgreSQL,
where other companion instances commit too.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import logging
import sys
import time
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from fastapi import APIRouter, FastAPI, WebSocket
from fastapi.responses import JSONResponse

from api_client.broadcast import restaurant_topic
from api_client.server_heartbeat import HEARTBEAT_EVENT

from ..changes import ChangeHub
from ..db.writer import RowChange
from ..token_bucket import TokenBucket
from ..ws_protocol import abort_of
from .auth import TokenProblem, check_token, make_verifier
from .broadcast_changes import broadcast_payload, topic_key
from .channel import PRIVATE_MARK
from .channel import restaurant_of as token_restaurant
from .channel_state import Connection
from .config import RealtimeConfig
from .effects import CloseSocket, Send
from .memory import FreedMemory, pin_mmap_threshold
from .payloads import prepare, restaurant_of
from .pg_listener import PgChangeListener
from .protocol import negotiate
from .quotas import Quotas, device_of
from .router import Outbox, Router

log = logging.getLogger(__name__)

router = APIRouter(tags=["Realtime"])

CLOSE_OVERFLOW = 1013
"""Try again later: the socket fell too far behind. Clients reconnect and catch up over REST."""
CLOSE_TIMEOUT_S = 5.0


@dataclass(eq=False)
class Peer:
    conn_id: int
    websocket: WebSocket
    queue: asyncio.Queue[str | bytes | CloseSocket]
    sender: asyncio.Task[None] | None = None
    closing: bool = False
    queued_bytes: int = 0
    """Memory held by the frames in `queue` (`sys.getsizeof`: frames are str or bytes, shared or not)."""
    restaurant_id: str | None = None
    """The restaurant of the handshake's token, whose byte allowance this socket spends (`_spend`)."""
    own_bytes: TokenBucket | None = None
    """The allowance of a socket whose tokens name no restaurant (anon): each such socket has its own."""


class RealtimeService:
    def __init__(self, jwt_secret: str, config: RealtimeConfig | None = None) -> None:
        self.secret = jwt_secret
        self.config = config or RealtimeConfig()
        self.router = Router(Quotas(self.config))
        self.peers: dict[int, Peer] = {}
        self._ids = itertools.count(1)
        self._verify = make_verifier(jwt_secret)
        self._background: set[asyncio.Task[None]] = set()
        self.freed = FreedMemory()

    # ------------------------------------------------------------ fan-out

    def publish(self, batch: list[RowChange]) -> None:
        """A committed transaction's changes (ChangeHub or the PostgreSQL listener), on the event loop.

        Only a change some channel of its restaurant is subscribed to for its table is prepared at all: with
        nobody listening, a change costs a lookup, not its JSON (a fifth of the companion's CPU in an intent drain)."""
        watched = self.router.subscriptions.watches
        prepared = [p for c in batch if watched(restaurant_of(c), c.table) and (p := prepare(c)) is not None]
        if prepared:
            self.dispatch(self.router.publish(prepared))
        for change in batch:  # Broadcast from Database, to the restaurant's private topic if anyone joined it
            key = topic_key(change)
            if key is not None and self.router.members(key):
                payload, meta = broadcast_payload(change)
                self.dispatch(self.router.broadcast(key, change.type, payload, meta))

    def broadcast(self, restaurant_id: str, channel: str, event: str, payload: dict[str, Any]) -> None:
        """Send a broadcast from the server to every socket on `realtime:<channel>` of a restaurant (on the loop)."""
        self.dispatch(self.router.broadcast((restaurant_id, channel), event, payload))

    def heartbeat(self) -> None:
        """The data path's heartbeat (api_client/server_heartbeat.py) to every restaurant's sync channels with a
        socket on them: a broadcast through the fan-out and per-socket queues changes take, so a screen whose
        changes stopped coming (a stuck queue, a proxy that only lets the socket's own replies through) hears
        no heartbeat either. Like Supabase's `realtime.send`, into the `postgres_changes` channel `kds-<id>` and
        the private topic `kds:<id>` alike."""
        payload = {"at": time.time()}
        for key in self.router.topics():
            restaurant, topic = key
            if restaurant is not None and topic in (f"kds-{restaurant}", PRIVATE_MARK + restaurant_topic(restaurant)):
                self.dispatch(self.router.broadcast(key, HEARTBEAT_EVENT, payload))

    def dispatch(self, outbox: Outbox) -> None:
        for conn_id, item in outbox:
            peer = self.peers.get(conn_id)
            if peer is None or peer.closing:
                continue
            if isinstance(item, Send):
                size = sys.getsizeof(item.frame)
                if peer.queued_bytes + size > self.config.send_queue_bytes:
                    self._overflow(peer, f"{peer.queued_bytes + size} bytes")
                    continue
                try:
                    peer.queue.put_nowait(item.frame)
                except asyncio.QueueFull:
                    self._overflow(peer, f"{peer.queue.maxsize} frames")
                    continue
                peer.queued_bytes += size
            else:
                peer.closing = True
                try:
                    peer.queue.put_nowait(item)  # after the frames already queued, e.g. a system error
                except asyncio.QueueFull:
                    self._abort(peer, item.code, item.reason)

    def _overflow(self, peer: Peer, behind: str) -> None:
        log.warning(
            "realtime socket %s fell %s behind; closing it and dropping the %d bytes queued for it",
            peer.conn_id,
            behind,
            peer.queued_bytes,
        )
        self._abort(peer, CLOSE_OVERFLOW, "send queue overflow")
        self.dispatch(self.router.remove(peer.conn_id))

    def _abort(self, peer: Peer, code: int, reason: str) -> None:
        """Close now, dropping what is queued; never waits here, so one stuck socket delays nobody."""
        peer.closing = True
        if peer.sender is not None:
            peer.sender.cancel()
        while not peer.queue.empty():
            peer.queue.get_nowait()
        self.freed.add(peer.queued_bytes)
        peer.queued_bytes = 0
        self._spawn(self._close(peer.websocket, code, reason))

    async def _close(self, websocket: WebSocket, code: int, reason: str) -> None:
        with contextlib.suppress(Exception):
            async with asyncio.timeout(CLOSE_TIMEOUT_S):
                await websocket.close(code, reason)
                return
        # A peer that stopped reading never lets the close through, and the server would keep its connection and
        # its write buffer: reset it (kds_backend/ws_protocol.py), which also ends this socket's `serve`.
        abort = abort_of(websocket.scope)
        if abort is not None:
            log.info("realtime: a socket did not take its close in %s s; resetting its connection", CLOSE_TIMEOUT_S)
            abort()

    def _spend(self, peer: Peer, connection: Connection, received: int, outbox: Outbox) -> float:
        """Charge a frame and what it made the server send to its restaurant's bytes per second: the seconds this
        socket's next frame must wait. The restaurant is the handshake token's, else its channels' (the official
        clients connect with the anon key and join with the device's token); a socket with neither pays alone."""
        sent = sum(len(item.frame) for _conn_id, item in outbox if isinstance(item, Send))
        now = time.monotonic()
        restaurant = peer.restaurant_id or next(
            (c.restaurant_id for c in connection.channels.values() if c.restaurant_id is not None), None
        )
        if restaurant is not None:
            return self.router.quotas.spend_bytes(restaurant, received + sent, now)
        if peer.own_bytes is None:
            peer.own_bytes = self.router.quotas.byte_bucket(now)
        return peer.own_bytes.spend(received + sent, now)

    def _spawn(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    # ------------------------------------------------------------ one socket

    async def serve(self, websocket: WebSocket) -> None:
        vsn = negotiate(websocket.query_params.get("vsn"))
        if vsn is None:
            await _deny(websocket, 400, f"Unsupported serializer version: {websocket.query_params.get('vsn')}")
            return
        apikey = (
            websocket.query_params.get("apikey")
            or websocket.headers.get("apikey")
            or websocket.headers.get("x-api-key")
        )
        if not apikey:
            await _deny(websocket, 401, "API key is missing")
            return
        checked = check_token(self.secret, apikey, time.time())
        if isinstance(checked, TokenProblem):
            await _deny(websocket, 401, checked.http_message)
            return
        connection = Connection(vsn, apikey, self._verify, time.time(), self.config, self.router.quotas)
        if not self.router.quotas.attach(connection, device_of(checked)):
            # Supabase's answer to a tenant over its concurrent users, here per device (quotas.py).
            await _deny(websocket, 429, "Too many connected users")
            return
        try:
            await websocket.accept()
        except BaseException:
            self.router.quotas.detach(connection)
            raise
        conn_id = next(self._ids)
        peer = Peer(
            conn_id, websocket, asyncio.Queue(self.config.send_queue_frames), restaurant_id=token_restaurant(checked)
        )
        self.peers[conn_id] = peer
        self.router.add(conn_id, connection)
        peer.sender = asyncio.create_task(self._send_loop(peer))
        try:
            while not peer.closing:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                data = message.get("text")
                if data is None:
                    data = message.get("bytes") or b""
                outbox = self.router.receive(conn_id, data, time.time())
                self.dispatch(outbox)
                wait = self._spend(peer, connection, len(data), outbox)
                if wait > 0:
                    # Its restaurant is over its bytes per second: the next frame stays unread (uvicorn holds one
                    # and stops reading the connection), so TCP slows the senders and the loop stays free for the
                    # other restaurants. Only this restaurant's sockets wait; deliveries to them go on meanwhile.
                    await asyncio.sleep(wait)
        except Exception:  # a socket dying mid-read is routine; the others must not notice
            log.debug("realtime socket %s read failed", conn_id, exc_info=True)
        finally:
            self.dispatch(self.router.remove(conn_id))
            self.peers.pop(conn_id, None)
            self.freed.add(peer.queued_bytes)  # a socket that went away with frames still queued
            sender = peer.sender
            if sender is not None:
                if peer.closing and not sender.done():
                    # A sender delivering its final frames and close gets a moment; one stuck on a dead socket does not.
                    await asyncio.wait({sender}, timeout=CLOSE_TIMEOUT_S)
                sender.cancel()

    async def _send_loop(self, peer: Peer) -> None:
        websocket = peer.websocket
        try:
            while True:
                item = await peer.queue.get()
                if not isinstance(item, CloseSocket):
                    peer.queued_bytes -= sys.getsizeof(item)
                if isinstance(item, CloseSocket):
                    await websocket.close(item.code, item.reason)
                    return
                if isinstance(item, str):
                    try:
                        await websocket.send_text(item)
                    except UnicodeEncodeError:
                        # Never stop a socket's delivery over one frame: decode refuses lone surrogates on the way
                        # in, so this is a bug somewhere, not a client's doing. Nothing of the frame was written.
                        log.warning("realtime socket %s: dropped a frame UTF-8 cannot encode", peer.conn_id)
                else:
                    await websocket.send_bytes(item)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.debug("realtime socket %s send failed", peer.conn_id, exc_info=True)

    # ------------------------------------------------------------ lifetime

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.heartbeat_every_s)
            try:
                self.heartbeat()
            except Exception:
                log.exception("realtime heartbeat failed")

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(self.config.tick_s)
            try:
                self.dispatch(self.router.tick(time.time()))
            except Exception:
                log.exception("realtime tick failed")
            self.freed.release()

    @asynccontextmanager
    async def running(self, hub: ChangeHub, database_url: str) -> AsyncIterator[None]:
        """Feed changes in and enforce timeouts while the app runs; close every socket on the way out."""
        pin_mmap_threshold()
        tasks = [asyncio.create_task(self._tick_loop()), asyncio.create_task(self._heartbeat_loop())]
        unsubscribe: Callable[[], None] | None = None
        listener: PgChangeListener | None = None
        if sa.make_url(database_url).get_backend_name() == "postgresql":
            listener = PgChangeListener(database_url, self.publish)
            tasks.append(asyncio.create_task(listener.run()))
            if not await listener.wait_ready(10.0):
                log.warning("realtime: the PostgreSQL change listener is not connected yet; it keeps trying")
        else:
            unsubscribe = hub.subscribe(self.publish)
        try:
            yield
        finally:
            if unsubscribe is not None:
                unsubscribe()
            if listener is not None:
                listener.close()
            for task in tasks:
                task.cancel()
            for peer in list(self.peers.values()):
                self._abort(peer, 1001, "server shutting down")
            # Bounded: a shutdown never hangs on a socket or a database connection that will not let go.
            pending = {*tasks, *self._background}
            if pending:
                _done, stuck = await asyncio.wait(pending, timeout=CLOSE_TIMEOUT_S)
                if stuck:
                    log.warning("realtime: %d task(s) did not stop in time", len(stuck))


async def _deny(websocket: WebSocket, status: int, message: str) -> None:
    """An HTTP error instead of the upgrade, with Supabase's `{"error": ...}` body."""
    await websocket.send_denial_response(JSONResponse({"error": message}, status_code=status))


@router.websocket("/realtime/v1/websocket")
async def realtime_websocket(websocket: WebSocket) -> None:
    """Supabase Realtime (Phoenix channels, `vsn` 1.0.0 or 2.0.0): postgres_changes, presence, broadcast."""
    service: RealtimeService = websocket.app.state.realtime
    await service.serve(websocket)


@asynccontextmanager
async def realtime_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Run realtime for the app's lifespan; needs `app.state.db` and `app.state.settings`."""
    settings = app.state.settings
    service = RealtimeService(settings.jwt_secret, RealtimeConfig.from_env())
    app.state.realtime = service
    async with service.running(app.state.db.hub, settings.database_url):
        yield
