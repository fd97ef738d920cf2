"""The asyncio pump around `PhoenixClient`: a `websockets` socket, timers, the token source, and reconnects.

It decides nothing about the protocol: it feeds frames and the time into the core and carries out what comes
back. It never gives up (the official client's silent give-up, reference section 3.4), and a failing handler
is logged while the listener carries on (section 3.5).
"""

from __future__ import annotations

import asyncio
import inspect
import logging
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from types import MappingProxyType
from typing import Any

import websockets
from websockets.asyncio.client import ClientConnection, connect

from api_client.backoff import Backoff
from api_client.server_heartbeat import HEARTBEAT_EVENT
from api_client.token_provider import TokenProvider
from sync import trace as _trace
from sync.retry_log import RetryLog

from .changes import ParsedChange, RawChange, parse_change
from .frames import Vsn
from .observable import Observable
from .phoenix import (
    Binding,
    Change,
    ChannelDown,
    ChannelLive,
    ChannelSpec,
    Hint,
    Output,
    PhoenixClient,
    Reconnect,
    Send,
    TokenNeeded,
    Unreadable,
)
from .url import websocket_url
from .watchdog import Watchdog

log = logging.getLogger(__name__)


class ConnectionState(StrEnum):
    CONNECTING = "connecting"  # first attempt, never connected yet
    JOINING = "joining"  # socket open, not every channel live
    LIVE = "live"  # every channel's database subscription is active
    RECONNECTING = "reconnecting"  # lost; retrying with backoff
    OFFLINE = "offline"  # lost for longer than `offline_after_s` (still retrying), or closed


@dataclass(frozen=True, slots=True)
class LiveAgain:
    """A channel became live: catch up over REST now. `again` is False only for the very first time."""

    topic: str
    again: bool


@dataclass(frozen=True, slots=True)
class ChangeEvent:
    topic: str
    change: ParsedChange | RawChange
    bindings: tuple[Binding, ...]


@dataclass(frozen=True, slots=True)
class HintEvent:
    """A server's broadcast on a channel (see `phoenix.Hint`)."""

    topic: str
    event: str
    payload: dict[str, Any]


Event = LiveAgain | ChangeEvent | HintEvent
Handler = Callable[[Event], object]


class EventStream:
    """Every event from the moment it was created; iterate it, or `await next_event(timeout)`."""

    def __init__(self, on_close: Callable[[EventStream], None]) -> None:
        # Unbounded on purpose: realtime is only a hint, but dropping here silently would hide a slow consumer
        # behind "no changes"; the engine drains it promptly.
        self._queue: asyncio.Queue[Event] = asyncio.Queue()
        self._on_close = on_close

    def put(self, event: Event) -> None:
        self._queue.put_nowait(event)

    async def next_event(self, timeout_s: float | None = None) -> Event:
        return await asyncio.wait_for(self._queue.get(), timeout_s)

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        return await self._queue.get()

    def close(self) -> None:
        self._on_close(self)


SCREEN_PRESENCE: Mapping[str, Any] = MappingProxyType({})
"""What a connection tracks in Realtime presence by default: an empty entry, so the server sees the device online
(its token names its stations). None tracks nothing."""


class RealtimeConnection:
    def __init__(
        self,
        base_url: str,
        apikey: str,
        channels: Iterable[ChannelSpec],
        *,
        token_provider: TokenProvider | None = None,
        vsn: Vsn = Vsn.V1,
        heartbeat_s: float = 25.0,
        join_timeout_s: float = 15.0,
        rate_limited_delay_s: float = 30.0,
        reconnect_backoff: Backoff | None = None,
        rejoin_backoff: Callable[[], Backoff] | None = None,
        offline_after_s: float = 5.0,
        open_timeout_s: float = 10.0,
        close_timeout_s: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
        presence: Mapping[str, Any] | None = SCREEN_PRESENCE,
        watchdog_s: float = 10.0,
    ) -> None:
        self.url = websocket_url(base_url, apikey, vsn)
        self._core = PhoenixClient(
            channels,
            None,
            vsn=vsn,
            heartbeat_s=heartbeat_s,
            join_timeout_s=join_timeout_s,
            rate_limited_delay_s=rate_limited_delay_s,
            rejoin_backoff=rejoin_backoff or (lambda: Backoff(1.0, 10.0)),
            presence=presence,
        )
        self._tokens = token_provider
        # Capped at 10 s like realtime-js ([1, 2, 5, 10] s): a kitchen's hub that restarts is back in seconds, and
        # a screen must not wait half a minute after it is; full jitter still spreads a few screens apart.
        self._backoff = reconnect_backoff or Backoff(0.5, 10.0)
        self._offline_after_s = offline_after_s
        self._open_timeout_s = open_timeout_s
        self._close_timeout_s = close_timeout_s
        self._clock = clock
        self.state: Observable[ConnectionState] = Observable(ConnectionState.CONNECTING)
        # The data path's watchdog (watchdog.py): the server's heartbeat broadcasts, not the socket's replies.
        self.watchdog = Watchdog(watchdog_s)
        self.stale_since: Observable[float | None] = Observable(None)
        """While no server heartbeat has been heard for `watchdog_s` on a live socket: when the last one was (this
        connection's clock); None when fine. The screen says so; a catch-up and a reconnect are already under way."""
        self.heartbeats: Observable[int] = Observable(0)
        """Server heartbeats heard since start (0: an old server, or none yet; the watchdog is not armed)."""
        self._handlers: list[Handler] = []
        self._streams: list[EventStream] = []
        self._ws: ClientConnection | None = None
        self._main: asyncio.Task[None] | None = None
        self._side_tasks: set[asyncio.Task[object]] = set()
        self._offline_timer: asyncio.TimerHandle | None = None
        self._wake = asyncio.Event()
        self._token_fetch: asyncio.Task[object] | None = None
        self._force_token_again = False
        self.connections_opened = 0
        # The log: every state change with why (one line each), and reconnect attempts summarised.
        self._why: str | None = None
        self._logged_state = self.state.value
        self._state_since = clock()
        self.attempts = RetryLog(log, "realtime connection", "connection_retry")
        self.state.subscribe(self._state_changed)

    # ------------------------------------------------------------ public API

    def add_handler(self, handler: Handler) -> Callable[[], None]:
        """`handler(event)` for every LiveAgain and ChangeEvent; exceptions are logged, never propagated.
        An async handler is run as a task. Returns the function that removes it."""
        self._handlers.append(handler)
        return lambda: self._handlers.remove(handler) if handler in self._handlers else None

    def events(self) -> EventStream:
        stream = EventStream(self._streams.remove)
        self._streams.append(stream)
        return stream

    def silent_for(self) -> float | None:
        """Seconds since the last server heartbeat while stale (see `stale_since`); None when fine."""
        since = self.stale_since.value
        return None if since is None else self._clock() - since

    def channel_phase(self, name: str) -> str:
        return self._core.phase(f"realtime:{name}").value

    async def start(self) -> None:
        if self._main is None:
            self._main = asyncio.create_task(self._run(), name="realtime-connection")

    async def close(self) -> None:
        """Stop for good: cancels every task this connection started and waits for them."""
        tasks = [t for t in (self._main, *self._side_tasks) if t is not None]
        self._main = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._side_tasks.clear()
        self._cancel_offline_timer()
        self._why = "closed by this screen"
        self.state.set(ConnectionState.OFFLINE)

    async def __aenter__(self) -> RealtimeConnection:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    # ------------------------------------------------------------ the reconnect loop

    async def _run(self) -> None:
        while True:
            try:
                await self._refresh_token(force=False)
                async with connect(
                    self.url,
                    open_timeout=self._open_timeout_s,
                    close_timeout=self._close_timeout_s,
                    # Liveness is the Phoenix heartbeat with reply tracking, in the core; one mechanism, tested.
                    ping_interval=None,
                    max_size=2**24,
                ) as ws:
                    await self._session(ws)
            except asyncio.CancelledError:
                raise
            except (OSError, TimeoutError, websockets.exceptions.WebSocketException) as exc:
                self._why = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
                self.attempts.failed(self._why, url=self.url.split("?")[0])
            except Exception as exc:
                # Whatever went wrong, the next attempt may work: never stop trying (no silent give-up).
                log.exception("realtime connection failed unexpectedly")
                self._why = f"{type(exc).__name__}: {exc}"
                self.attempts.failed(self._why, url=self.url.split("?")[0])
            finally:
                self._ws = None
                self._emit(self._core.on_close(self._clock()))
            if self.state.value in (ConnectionState.JOINING, ConnectionState.LIVE):
                self.state.set(ConnectionState.RECONNECTING)
            if self._offline_timer is None and self.state.value is not ConnectionState.OFFLINE:
                # Counted from the first failure, not restarted by each retry: the banner must show within 5 s.
                self._start_offline_timer()
            await asyncio.sleep(self._backoff.next_delay())

    async def _session(self, ws: ClientConnection) -> None:
        self._ws = ws
        self.connections_opened += 1
        self._cancel_offline_timer()
        self.attempts.succeeded()
        self._why = "socket open"
        self.state.set(ConnectionState.JOINING)
        timers = asyncio.create_task(self._timers(ws), name="realtime-timers")
        try:
            await self._apply(ws, self._core.on_open(self._clock()))
            async for data in ws:
                await self._apply(ws, self._core.receive(data, self._clock()))
            if self._why in (None, "socket open", "channels live"):
                self._why = f"the socket closed ({ws.close_code} {ws.close_reason})".replace(" )", ")")
        finally:
            timers.cancel()
            await asyncio.wait([timers])

    async def _timers(self, ws: ClientConnection) -> None:
        try:
            while True:
                self._wake.clear()
                deadlines = [d for d in (self._core.next_deadline(), self.watchdog.next_deadline()) if d is not None]
                timeout = None if not deadlines else max(0.0, min(deadlines) - self._clock())
                try:
                    await asyncio.wait_for(self._wake.wait(), timeout)
                    continue  # something changed the schedule: recompute it
                except TimeoutError:
                    pass
                outputs = self._core.tick(self._clock())
                await self._apply(ws, outputs)
                if any(isinstance(out, Reconnect) for out in outputs):
                    return  # the socket is closed: the session ends with the reader (even if this task's
                    # cancellation was lost while it closed the socket, as asyncio.timeout can in 3.11)
                if self.watchdog.tick(self._clock()):
                    await self._stale(ws)
                    return
        except asyncio.CancelledError:
            raise
        except websockets.exceptions.ConnectionClosed:
            pass  # the reader sees the close too and ends the session
        except Exception:
            log.exception("realtime timers failed; dropping the socket to start clean")
            await ws.close(1011, "client error")

    async def _stale(self, ws: ClientConnection) -> None:
        """No heartbeat for the watchdog's wait on a live socket: say so, catch up over REST, reconnect."""
        since = self.watchdog.stale_since
        silent = self._clock() - since if since is not None else self.watchdog.limit_s
        self._why = f"no server heartbeat for {silent:.0f} s while the socket looked fine"
        log.warning("realtime: %s; catching up and reconnecting", self._why,
                    extra={"event": "stale", "silent_s": round(silent, 1), "trips": self.watchdog.trips})
        self.stale_since.set(since)
        # Changes may have stopped with the heartbeats: the REST catch-up is the authority (as for an Unreadable).
        self._deliver(ChangeEvent("", RawChange({}, self._why), ()))
        await ws.close(1000, "no server heartbeat")

    # ------------------------------------------------------------ outputs

    async def _apply(self, ws: ClientConnection | None, outputs: list[Output]) -> None:
        before = self._core.next_deadline()
        for out in outputs:
            if isinstance(out, Send):
                if ws is not None:
                    await ws.send(out.text)
            elif isinstance(out, Reconnect):
                log.warning("realtime: %s; reconnecting", out.reason)
                self._why = out.reason
                if ws is not None:
                    await ws.close(1000, out.reason)
            elif isinstance(out, TokenNeeded):
                self._request_token(out.force)
            else:
                self._emit([out])
        if self._core.next_deadline() != before:
            self._wake.set()

    def _emit(self, outputs: list[Output]) -> None:
        for out in outputs:
            if isinstance(out, ChannelLive):
                if self._core.all_live:
                    self._backoff.reset()
                    self._why = "channels live"
                    self.watchdog.live(self._clock())
                    self._wake.set()
                    self.state.set(ConnectionState.LIVE)
                self._deliver(LiveAgain(out.topic, out.again))
            elif isinstance(out, ChannelDown):
                log.info("realtime channel %s down: %s", out.topic, out.reason)
                self.watchdog.down()
                self._why = f"channel {out.topic} down: {out.reason}"
                if self._core.connected:
                    self.state.set(ConnectionState.JOINING)
            elif isinstance(out, Change):
                if _trace.on:
                    _trace.frame(out.data)
                self._deliver(ChangeEvent(out.topic, parse_change(out.data), out.bindings))
            elif isinstance(out, Hint) and out.event == HEARTBEAT_EVENT:
                self.watchdog.beat(self._clock())  # the data path works; not an event for the app
                self.heartbeats.set(self.heartbeats.value + 1)
                self.stale_since.set(None)
                self._wake.set()
            elif isinstance(out, Hint):
                self._deliver(HintEvent(out.topic, out.event, out.payload))
            elif isinstance(out, Unreadable):
                # Realtime is a hint: what we could not read, the REST catch-up will tell.
                log.warning("realtime: %s; catching up", out.reason)
                self._deliver(ChangeEvent("", RawChange({}, out.reason), ()))

    def _deliver(self, event: Event) -> None:
        for stream in list(self._streams):
            stream.put(event)
        for handler in list(self._handlers):
            try:
                result = handler(event)
                if result is not None and inspect.isawaitable(result):
                    self._spawn(result, f"realtime handler {handler!r}")
            except Exception:
                log.exception("realtime handler %r failed on %r; carrying on", handler, type(event).__name__)

    # ------------------------------------------------------------ tokens

    def _request_token(self, force: bool) -> None:
        if self._token_fetch is not None and not self._token_fetch.done():
            self._force_token_again |= force
            return
        self._token_fetch = self._spawn(self._token_then_apply(force), "realtime token")

    async def _token_then_apply(self, force: bool) -> None:
        while True:
            await self._refresh_token(force)
            if not self._force_token_again:
                return
            self._force_token_again, force = False, True

    async def _refresh_token(self, force: bool) -> None:
        token = self._core.token
        if self._tokens is not None:
            try:
                fresh = await self._tokens.refresh(token) if force else None
                token = fresh if fresh is not None else await self._tokens.get_token()
            except Exception:
                # Keep the old token: the channel rejoins with it and backs off if it is refused again.
                log.exception("realtime: the token source failed")
        await self._apply(self._ws, self._core.set_token(token, self._clock()))

    # ------------------------------------------------------------ helpers

    def _spawn(self, awaitable: Awaitable[object], what: str) -> asyncio.Task[object]:
        # ensure_future, not a wrapper coroutine: a task cancelled before it starts closes the coroutine it was
        # given, whereas a wrapper would leave it un-awaited (a RuntimeWarning at close()).
        task: asyncio.Future[object] = asyncio.ensure_future(awaitable)
        assert isinstance(task, asyncio.Task)

        def done(t: asyncio.Task[object]) -> None:
            self._side_tasks.discard(t)
            if not t.cancelled() and t.exception() is not None:
                log.error("%s failed", what, exc_info=t.exception())

        self._side_tasks.add(task)
        task.add_done_callback(done)
        return task

    def _start_offline_timer(self) -> None:
        self._cancel_offline_timer()

        def go_offline() -> None:
            self._offline_timer = None
            if self.state.value in (ConnectionState.RECONNECTING, ConnectionState.CONNECTING):
                self._why = f"not connected for {self._offline_after_s:g} s ({self._why or 'no answer'})"
                self.state.set(ConnectionState.OFFLINE)

        self._offline_timer = asyncio.get_running_loop().call_later(self._offline_after_s, go_offline)

    def _state_changed(self, state: ConnectionState) -> None:
        """One line per change of state, with why and how long the previous one lasted."""
        previous, self._logged_state = self._logged_state, state
        now = self._clock()
        lasted, self._state_since = now - self._state_since, now
        bad = state in (ConnectionState.RECONNECTING, ConnectionState.OFFLINE) and self._why != "closed by this screen"
        log.log(
            logging.WARNING if bad else logging.INFO,
            "connection %s → %s: %s", previous.value, state.value, self._why or "-",
            extra={"event": "connection", "state": state.value, "previous": previous.value,
                   "reason": self._why, "previous_s": round(lasted, 1), "url": self.url.split("?")[0]},
        )

    def _cancel_offline_timer(self) -> None:
        if self._offline_timer is not None:
            self._offline_timer.cancel()
            self._offline_timer = None
