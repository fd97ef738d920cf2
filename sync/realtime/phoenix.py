"""Sans-I/O Phoenix channel client for Supabase Realtime `postgres_changes`.

Frames and the time go in (`on_open`, `receive`, `tick`, `set_token`, `on_close`, each with `now`); a list of
outputs comes back: frames to send, "reconnect the socket", "get me a token", and events for the app
(channel live / down, changes). No socket, loop or clock is touched here, so every failure mode of the official
client (reference/supabase-realtime.md section 3) is a plain unit test:

- a channel is live only after the `system` `postgres_changes` `ok` message, not on the ok `phx_reply`
  (that reply precedes the database subscription: "premature SUBSCRIBED");
- a heartbeat still unanswered at the next tick means the peer is dead: `Reconnect`;
- join errors are retried with backoff (30 s for `*RateLimitReached`), forever;
- `phx_close` and `system` errors (token expiry) rejoin with a fresh token instead of giving up;
- a push reaches only bindings whose id the join reply assigned;
- a frame that cannot be read is dropped but reported (`Unreadable`: catch up), and a run of them reconnects;
- with `presence`, each channel tracks that payload in Realtime presence once live (again after every rejoin), so
  the server knows a screen is online (the companion's backup printer prints a station's tickets while none is).
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from api_client.backoff import Backoff
from api_client.broadcast import as_postgres_change

from .frames import Frame, FrameError, Vsn, decode, encode

PHOENIX_TOPIC = "phoenix"
RATE_LIMIT_MARK = "RateLimitReached"


@dataclass(frozen=True, slots=True)
class Binding:
    """One `postgres_changes` subscription: `event` is INSERT, UPDATE, DELETE or `*`."""

    table: str
    event: str = "*"
    schema: str = "public"
    filter: str | None = None

    def to_wire(self) -> dict[str, str]:
        out = {"event": self.event, "schema": self.schema, "table": self.table}
        if self.filter is not None:
            out["filter"] = self.filter
        return out

    def matches(self, change_type: Any) -> bool:
        return self.event == "*" or self.event == change_type


@dataclass(frozen=True, slots=True)
class ChannelSpec:
    name: str
    bindings: tuple[Binding, ...]
    private: bool = False
    """A private channel (join config `private: true`), authorised by RLS on `realtime.messages`: with no
    bindings, the restaurant's Broadcast from Database topic (api_client/broadcast.py), whose row changes come
    as `broadcast` pushes and are delivered as `Change`s like `postgres_changes` ones."""

    @property
    def topic(self) -> str:
        return f"realtime:{self.name}"


# ---------------------------------------------------------------- outputs


@dataclass(frozen=True, slots=True)
class Send:
    text: str


@dataclass(frozen=True, slots=True)
class Reconnect:
    """Drop this socket and open a new one (after backoff): the peer is dead or unusable."""

    reason: str


@dataclass(frozen=True, slots=True)
class TokenNeeded:
    """Ask the token source. `force`: the server refused the current token, so a cached one will not do."""

    force: bool


@dataclass(frozen=True, slots=True)
class ChannelLive:
    """The channel's database subscription is active. `again`: it was live before, so changes may have been
    missed in between and the caller must catch up over REST now."""

    topic: str
    again: bool


@dataclass(frozen=True, slots=True)
class ChannelDown:
    topic: str
    reason: str


@dataclass(frozen=True, slots=True)
class Change:
    """A `postgres_changes` push for this client: `data` is the server's raw `data` object."""

    topic: str
    data: dict[str, Any]
    bindings: tuple[Binding, ...]


@dataclass(frozen=True, slots=True)
class Hint:
    """A broadcast on a joined channel (`{"type": "broadcast", "event": ..., "payload": {...}}`): news the server
    sends without a row change, such as a hub's `late_rejection`. Like a change, only a reason to ask over REST."""

    topic: str
    event: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Unreadable:
    """A frame could not be read: it may have carried a change, so the app should catch up over REST."""

    reason: str


Output = Send | Reconnect | TokenNeeded | ChannelLive | ChannelDown | Change | Hint | Unreadable

MALFORMED_IN_A_ROW = 3
"""Unreadable frames in a row that mean the stream itself is broken (e.g. a corrupt compression context):
one stray bad frame is dropped, a run of them costs the socket, so the next one starts clean."""


class Phase(StrEnum):
    IDLE = "idle"  # no socket
    JOINING = "joining"  # phx_join sent, no reply yet
    SUBSCRIBING = "subscribing"  # ok reply, waiting for the database subscription (system ok)
    LIVE = "live"
    WAITING = "waiting"  # failed; rejoins at retry_at (and once a fresh token arrived, if asked for)


class _Channel:
    def __init__(self, spec: ChannelSpec, backoff: Backoff) -> None:
        self.spec = spec
        self.backoff = backoff
        self.phase = Phase.IDLE
        self.join_ref: str | None = None
        self.binding_ids: dict[int, Binding] = {}
        self.deadline: float | None = None  # JOINING/SUBSCRIBING must reach LIVE by then
        self.retry_at = 0.0
        self.needs_token = False
        self.been_live = False

    @property
    def up(self) -> bool:
        return self.phase in (Phase.JOINING, Phase.SUBSCRIBING, Phase.LIVE)


class PhoenixClient:
    def __init__(
        self,
        channels: Iterable[ChannelSpec],
        token: str | None,
        *,
        vsn: Vsn = Vsn.V1,
        heartbeat_s: float = 25.0,
        join_timeout_s: float = 15.0,
        rate_limited_delay_s: float = 30.0,
        rejoin_backoff: Callable[[], Backoff] = lambda: Backoff(1.0, 10.0),
        presence: Mapping[str, Any] | None = None,
    ) -> None:
        self.vsn = vsn
        self.presence = None if presence is None else dict(presence)
        self.token = token
        self.heartbeat_s = heartbeat_s
        # Supabase's test waits up to 8 s between the ok reply and "Subscribed to PostgreSQL".
        self.join_timeout_s = join_timeout_s
        self.rate_limited_delay_s = rate_limited_delay_s
        self.channels: dict[str, _Channel] = {}
        for spec in channels:
            if spec.topic in self.channels:
                raise ValueError(f"channel {spec.name!r} given twice")
            self.channels[spec.topic] = _Channel(spec, rejoin_backoff())
        self.connected = False
        self.malformed_frames = 0
        self._malformed_in_a_row = 0
        self._refs = itertools.count(1)
        self._pending_heartbeat: str | None = None
        self._next_heartbeat = 0.0
        # A Reconnect was asked for: the socket is being dropped, and nothing more is scheduled on it (asked again
        # by a pump that outlived its socket, the core would otherwise answer Reconnect at every tick).
        self._dropping = False

    # ------------------------------------------------------------ queries

    @property
    def all_live(self) -> bool:
        return self.connected and all(ch.phase is Phase.LIVE for ch in self.channels.values())

    def phase(self, topic: str) -> Phase:
        return self.channels[topic].phase

    def next_deadline(self) -> float | None:
        """When `tick` next has something to do; None if nothing is scheduled."""
        times: list[float] = []
        if self.connected and not self._dropping:
            times.append(self._next_heartbeat)
            for ch in self.channels.values():
                if ch.up and ch.deadline is not None:
                    times.append(ch.deadline)
                elif ch.phase is Phase.WAITING and not ch.needs_token:
                    times.append(ch.retry_at)
        return min(times, default=None)

    # ------------------------------------------------------------ inputs

    def on_open(self, now: float) -> list[Output]:
        """The socket is open: join every channel not held back by a backoff."""
        self.connected = True
        self._dropping = False
        self._pending_heartbeat = None
        self._next_heartbeat = now + self.heartbeat_s
        out: list[Output] = []
        for ch in self.channels.values():
            if ch.phase is Phase.IDLE or (ch.phase is Phase.WAITING and ch.retry_at <= now and not ch.needs_token):
                out.append(self._join(ch, now))
        return out

    def on_close(self, now: float) -> list[Output]:
        """The socket is gone: every channel is down; the next `on_open` rejoins them."""
        self.connected = False
        self._dropping = False
        self._pending_heartbeat = None
        out: list[Output] = []
        for ch in self.channels.values():
            if ch.up:
                out.append(ChannelDown(ch.spec.topic, "socket closed"))
                ch.phase = Phase.IDLE
                ch.join_ref = None
                ch.deadline = None
        return out

    def receive(self, data: str | bytes, now: float) -> list[Output]:
        try:
            frame = decode(data, self.vsn)
        except FrameError:
            # A frame we cannot read is dropped, not fatal: one bad frame must not cost the subscription. But it
            # may have been a change, so the app catches up; and a run of them means the stream is broken.
            return self._malformed("a realtime frame could not be read")
        self._malformed_in_a_row = 0
        if frame.topic == PHOENIX_TOPIC:
            if frame.event == "phx_reply" and frame.ref is not None and frame.ref == self._pending_heartbeat:
                self._pending_heartbeat = None
            return []
        ch = self.channels.get(frame.topic)
        if ch is None or not ch.up or self._stale(ch, frame):
            return []
        handler: Callable[[_Channel, Frame, float], list[Output]] | None = {
            "phx_reply": self._on_reply,
            "system": self._on_system,
            "postgres_changes": self._on_change,
            "broadcast": self._on_broadcast,
            "phx_close": lambda c, f, n: self._fail(c, n, "closed by the server", fresh_token=True),
            "phx_error": lambda c, f, n: self._fail(c, n, "channel crashed on the server", fresh_token=False),
        }.get(frame.event)
        return handler(ch, frame, now) if handler else []

    def tick(self, now: float) -> list[Output]:
        if not self.connected or self._dropping:
            return []
        out: list[Output] = []
        if now >= self._next_heartbeat:
            if self._pending_heartbeat is not None:
                # realtime-js's rule: the previous heartbeat is still unanswered a whole interval later.
                self._dropping = True
                return [Reconnect("heartbeat timeout")]
            ref = self._ref()
            self._pending_heartbeat = ref
            self._next_heartbeat = now + self.heartbeat_s
            out.append(self._send(Frame(PHOENIX_TOPIC, "heartbeat", {}, ref)))
            # Like realtime-js, re-check the token every heartbeat so a refresh is pushed before expiry.
            out.append(TokenNeeded(force=False))
        for ch in self.channels.values():
            if ch.up and ch.deadline is not None and now >= ch.deadline:
                # Leave first: a V1 server's phx_close for the old join would be indistinguishable from ours.
                out.append(self._send(Frame(ch.spec.topic, "phx_leave", {}, self._ref(), ch.join_ref)))
                out += self._fail(ch, now, "join timed out", fresh_token=False)
            elif ch.phase is Phase.WAITING and not ch.needs_token and now >= ch.retry_at:
                out.append(self._join(ch, now))
        return out

    def set_token(self, token: str | None, now: float) -> list[Output]:
        """The token source's answer: pushed to subscribed channels if new; releases channels waiting for one."""
        changed = token != self.token
        self.token = token
        out: list[Output] = []
        for ch in self.channels.values():
            if ch.needs_token:
                ch.needs_token = False
                if self.connected and now >= ch.retry_at:
                    out.append(self._join(ch, now))
            elif changed and token is not None and self.connected and ch.phase in (Phase.SUBSCRIBING, Phase.LIVE):
                payload = {"access_token": token}
                out.append(self._send(Frame(ch.spec.topic, "access_token", payload, self._ref(), ch.join_ref)))
        return out

    # ------------------------------------------------------------ channel events

    def _on_reply(self, ch: _Channel, frame: Frame, now: float) -> list[Output]:
        if ch.phase is not Phase.JOINING or frame.ref != ch.join_ref:
            return []  # replies to leaves and stale joins
        status = frame.payload.get("status")
        response = frame.payload.get("response")
        response = response if isinstance(response, dict) else {}
        if status != "ok":
            reason = response.get("reason")
            return self._fail(ch, now, str(reason) if reason is not None else f"join {status}", fresh_token=False)
        echoed = response.get("postgres_changes") or []
        bindings = ch.spec.bindings
        ids = [b.get("id") if isinstance(b, dict) else None for b in echoed] if isinstance(echoed, list) else []
        numbers = [i for i in ids if isinstance(i, int) and not isinstance(i, bool)]
        if len(numbers) != len(ids) or len(ids) != len(bindings):
            # The reply lists the bindings in request order; anything else would route changes to the wrong place.
            return self._fail(ch, now, "join reply does not match the requested bindings", fresh_token=False)
        ch.binding_ids = dict(zip(numbers, bindings, strict=True))
        if not bindings:
            return self._live(ch)  # no database subscription is coming, so no system message either
        ch.phase = Phase.SUBSCRIBING
        return []

    def _on_system(self, ch: _Channel, frame: Frame, now: float) -> list[Output]:
        extension, status = frame.payload.get("extension"), frame.payload.get("status")
        message = str(frame.payload.get("message", ""))
        if extension == "postgres_changes" and status == "ok" and ch.phase is Phase.SUBSCRIBING:
            return self._live(ch)
        if extension == "system" and status == "error":
            # Always followed by phx_close: token expired, permission lost, rate limit. A fresh token may cure it.
            return self._fail(ch, now, message or "system error", fresh_token=True)
        # postgres_changes errors are retried by the server; the join deadline catches one that never recovers.
        return []

    def _on_change(self, ch: _Channel, frame: Frame, now: float) -> list[Output]:
        data, ids = frame.payload.get("data"), frame.payload.get("ids")
        if not isinstance(data, dict) or not isinstance(ids, list):
            return self._malformed("a realtime change could not be read")
        change_type = data.get("type")
        found = (ch.binding_ids.get(i) for i in ids if isinstance(i, int))
        matched = tuple(b for b in found if b is not None and b.matches(change_type))
        return [Change(ch.spec.topic, data, matched)] if matched else []

    def _on_broadcast(self, ch: _Channel, frame: Frame, now: float) -> list[Output]:
        event, payload = frame.payload.get("event"), frame.payload.get("payload")
        if ch.phase is not Phase.LIVE or not isinstance(event, str) or not isinstance(payload, dict):
            return []  # a hint is never worth a catch-up: what it announces is also asked for when live again
        if ch.spec.private and (data := as_postgres_change(payload)) is not None:
            return [Change(ch.spec.topic, data, ())]  # Broadcast from Database: a row change
        return [Hint(ch.spec.topic, event, payload)]

    # ------------------------------------------------------------ transitions

    def _join(self, ch: _Channel, now: float) -> Send:
        ref = self._ref()
        ch.phase, ch.join_ref, ch.deadline, ch.binding_ids = Phase.JOINING, ref, now + self.join_timeout_s, {}
        config = {
            "broadcast": {"ack": False, "self": False},
            "presence": {"key": "", "enabled": False},
            "private": ch.spec.private,
            "postgres_changes": [b.to_wire() for b in ch.spec.bindings],
        }
        payload: dict[str, Any] = {"config": config}
        if self.token is not None:
            payload["access_token"] = self.token
        return self._send(Frame(ch.spec.topic, "phx_join", payload, ref, ref))

    def _live(self, ch: _Channel) -> list[Output]:
        ch.phase, ch.deadline = Phase.LIVE, None
        ch.backoff.reset()
        again, ch.been_live = ch.been_live, True
        out: list[Output] = [ChannelLive(ch.spec.topic, again)]
        if self.presence is not None:
            # The reply is not waited for: presence is a hint to the server, and the heartbeat watches the socket.
            track = {"type": "presence", "event": "track", "payload": self.presence}
            out.append(self._send(Frame(ch.spec.topic, "presence", track, self._ref(), ch.join_ref)))
        return out

    def _fail(self, ch: _Channel, now: float, reason: str, *, fresh_token: bool) -> list[Output]:
        ch.phase, ch.join_ref, ch.deadline, ch.binding_ids = Phase.WAITING, None, None, {}
        delay = ch.backoff.next_delay()
        if RATE_LIMIT_MARK in reason:
            # The server is shedding joins: retrying early only deepens the storm (Python client waits 30 s too).
            delay = max(delay, self.rate_limited_delay_s)
        ch.retry_at = now + delay
        ch.needs_token = fresh_token
        out: list[Output] = [ChannelDown(ch.spec.topic, reason)]
        if fresh_token:
            out.append(TokenNeeded(force=True))
        return out

    # ------------------------------------------------------------ helpers

    def _malformed(self, reason: str) -> list[Output]:
        self.malformed_frames += 1
        self._malformed_in_a_row += 1
        out: list[Output] = [Unreadable(reason)]
        if self._malformed_in_a_row >= MALFORMED_IN_A_ROW:
            self._malformed_in_a_row = 0
            if not self._dropping:
                self._dropping = True
                out.append(Reconnect(f"{MALFORMED_IN_A_ROW} unreadable frames in a row"))
        return out

    def _stale(self, ch: _Channel, frame: Frame) -> bool:
        """A frame for an earlier join of this topic (V2 carries join_ref; V1 closes carry it as ref)."""
        ref = frame.join_ref
        if ref is None and frame.event in ("phx_close", "phx_error"):
            ref = frame.ref
        return ref is not None and ref != ch.join_ref

    def _ref(self) -> str:
        return str(next(self._refs))

    def _send(self, frame: Frame) -> Send:
        return Send(encode(frame, self.vsn))
