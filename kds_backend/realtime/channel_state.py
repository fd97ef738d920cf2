"""One realtime socket as a state machine: frames in, effects out. No sockets, no loop, no clock.

`Connection.receive(frame, now)` answers heartbeats, joins, leaves, token refreshes, presence and broadcast;
`tick(now)` enforces heartbeat silence and token expiry; `push_*` builds what the router fans out to it.
Effects (`effects.py`) are `Send`/`CloseSocket` for this socket, and `Subscribe`/`Track`/`Broadcast`... for the
router, which owns what sockets share (topic membership and presence). What a join must pass is `joining.py`;
what a channel is and who may read it, `channel.py`.

Scoping: a channel's token decides its restaurant. Presence and broadcast topics are `(restaurant, name)`
and changes are delivered only for that restaurant, whatever the filter says; a token that is not a
device's (anon) joins but sees nothing and may not track or broadcast.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from ..token_bucket import TokenBucket
from .auth import TokenProblem, Verifier, expired
from .channel import Channel, held_terms, may_read_private, no_longer, restaurant_of, unauthorized
from .config import RealtimeConfig
from .effects import (
    Broadcast,
    CloseSocket,
    Effect,
    Send,
    SharedBroadcast,
    Subscribe,
    SyncPresence,
    Track,
    Unsubscribe,
    Untrack,
)
from .joining import JoinRefused, open_channel, restaurant_terms_reason
from .protocol import (
    CLOSE_POLICY,
    LoneSurrogate,
    Message,
    ProtocolError,
    UserBroadcast,
    UserBroadcastPush,
    Vsn,
    decode,
    dumps,
    encode,
    encode_user_broadcast,
    reply,
)
from .quotas import Quotas

log = logging.getLogger(__name__)


class Connection:
    def __init__(
        self,
        vsn: Vsn,
        socket_token: str,
        verify: Verifier,
        now: float,
        config: RealtimeConfig | None = None,
        quotas: Quotas | None = None,
    ) -> None:
        self.vsn = vsn
        self.vsn_key = str(vsn)  # a plain str hashes in C; the enum's hash is Python code, on the fan-out path
        self.socket_token = socket_token
        self.config = config or RealtimeConfig()
        self.channels: dict[str, Channel] = {}
        self.last_received = now
        self.closed = False
        self._verify = verify
        self._bucket = TokenBucket(self.config.messages_per_s, self.config.message_burst, now)
        self.quotas = quotas if quotas is not None else Quotas(self.config)
        """Shared by every socket of the router (sockets per device, joins per restaurant); its own in tests."""

    # ------------------------------------------------------------ inputs

    def receive(self, data: str | bytes, now: float) -> list[Effect]:
        if self.closed:
            return []
        self.last_received = now
        if not self._bucket.take(now):
            return self._close(CLOSE_POLICY, "Too many messages per second")
        try:
            msg = decode(data, self.vsn)
        except LoneSurrogate as exc:
            # Refused to its sender only: relayed, it would break delivery to every socket on the topic.
            return [Send(reply(self.vsn, exc.topic, exc.ref, exc.join_ref, "error", {"reason": str(exc)}))]
        except ProtocolError as exc:
            return self._close(exc.close_code, str(exc))
        if isinstance(msg, UserBroadcastPush):
            channel = self.channels.get(msg.topic)
            if channel is None:
                return [Send(reply(self.vsn, msg.topic, msg.ref, msg.join_ref, "error", {"reason": "unmatched topic"}))]
            return self._guarded(channel, lambda: self._user_broadcast(channel, msg))
        return self._dispatch(msg, now)

    def tick(self, now: float) -> list[Effect]:
        """Close a silent socket; stop channels whose token expired, as Supabase does."""
        if self.closed:
            return []
        if now - self.last_received > self.config.heartbeat_timeout_s:
            return self._close(1000, "heartbeat timeout")
        effects: list[Effect] = []
        for channel in list(self.channels.values()):
            if channel.claims.exp <= now:
                effects += self._shutdown(channel, expired(int(now - channel.claims.exp)).message)
        return effects

    def teardown(self) -> list[Effect]:
        """What the router must undo when this socket goes away."""
        self.closed = True
        effects: list[Effect] = []
        for channel in list(self.channels.values()):
            effects += self._drop(channel)
        return effects

    # ------------------------------------------------------------ what the router fans out

    def push_presence_state(self, topic: str, state: dict[str, Any]) -> list[Send]:
        channel = self.channels.get(topic)
        if channel is None:
            return []
        return [Send(encode(Message(topic, "presence_state", state, None, channel.join_ref), self.vsn))]

    def push_presence_diff(self, topic: str, diff: dict[str, Any]) -> list[Send]:
        channel = self.channels.get(topic)
        if channel is None or not channel.presence_enabled:
            return []
        return [Send(encode(Message(topic, "presence_diff", diff), self.vsn))]

    def push_broadcast(
        self, topic: str, payload: dict[str, Any] | UserBroadcast, shared: SharedBroadcast | None = None
    ) -> list[Send]:
        """`shared`: one dict for every socket one broadcast goes to, so its frame is encoded once per serializer
        and topic, and every queue holding it holds the same object (a MiB broadcast to 50 sockets is one MiB)."""
        if topic not in self.channels:
            return []
        key = (self.vsn_key, topic)
        if shared is not None and key in shared:
            return shared[key]
        if isinstance(payload, UserBroadcast):
            frame = encode_user_broadcast(self.vsn, topic, payload)
            sends = [] if frame is None else [Send(frame)]
        else:
            sends = [Send(encode(Message(topic, "broadcast", payload), self.vsn))]
        if shared is not None:
            shared[key] = sends
        return sends

    # ------------------------------------------------------------ message handling

    def _dispatch(self, msg: Message, now: float) -> list[Effect]:
        if msg.topic == "phoenix":
            status, response = ("ok", {}) if msg.event == "heartbeat" else ("error", {"reason": "unmatched topic"})
            return [self._reply(msg, status, response)]
        if msg.event == "phx_join":
            return self._join(msg, now)
        channel = self.channels.get(msg.topic)
        if channel is None:
            # Phoenix: leaving a channel that is gone is fine; anything else on it is an unmatched topic.
            if msg.event == "phx_leave":
                return [self._reply(msg, "ok", {})]
            return [self._reply(msg, "error", {"reason": "unmatched topic"})]
        handlers: dict[str, Callable[[], list[Effect]]] = {
            "phx_leave": lambda: [self._reply(msg, "ok", {}), *self._drop(channel), self._close_frame(channel)],
            "access_token": lambda: self._refresh(channel, msg, now),
            "presence": lambda: self._presence(channel, msg),
            "broadcast": lambda: self._broadcast(channel, msg),
        }
        handler = handlers.get(msg.event)
        # Unknown events are ignored, as Supabase's channel does.
        return self._guarded(channel, handler) if handler else []

    def _guarded(self, channel: Channel, handler: Callable[[], list[Effect]]) -> list[Effect]:
        """A handler that fails crashes only its channel (`phx_error`), as a Phoenix channel process would."""
        try:
            return handler()
        except Exception:
            log.exception("realtime channel %s failed", channel.topic)
            frame = encode(Message(channel.topic, "phx_error", {}, channel.join_ref, channel.join_ref), self.vsn)
            return [*self._drop(channel), Send(frame)]

    def _join(self, msg: Message, now: float) -> list[Effect]:
        effects: list[Effect] = []
        old = self.channels.get(msg.topic)
        if old is not None:
            # A second join of a joined topic replaces the first, which is closed (Phoenix's duplicate join).
            effects += [*self._drop(old), self._close_frame(old)]
        try:
            joined = open_channel(
                msg,
                now,
                owner=self,
                open_channels=len(self.channels),
                socket_token=self.socket_token,
                verify=self._verify,
                limits=self.config,
                quotas=self.quotas,
            )
        except JoinRefused as refused:
            return [*effects, self._reply(msg, "error", {"reason": refused.reason})]
        channel, echoed, cdc_error = joined.channel, joined.echoed, joined.cdc_error
        self.channels[msg.topic] = channel
        effects.append(self._reply(msg, "ok", {"postgres_changes": echoed}))
        if channel.key is not None:
            effects.append(Subscribe(channel.key, channel.topic, channel.bindings))
        if channel.presence_enabled:
            effects.append(self._sync_presence(channel))
        if echoed:
            status, text = ("error", cdc_error) if cdc_error else ("ok", "Subscribed to PostgreSQL")
            effects.append(self._system(channel, "postgres_changes", status, text))
        return effects

    def _refresh(self, channel: Channel, msg: Message, now: float) -> list[Effect]:
        token = msg.payload.get("access_token")
        # Ignored as Supabase ignores them: null, `sb_` API keys, and the token already in use.
        if not isinstance(token, str) or token.startswith("sb_") or token == channel.token:
            return []
        claims = self._verify(token, now)
        if isinstance(claims, TokenProblem):
            return self._shutdown(channel, claims.message)
        restaurant = restaurant_of(claims)
        effects: list[Effect] = []
        if channel.private and not may_read_private(claims, channel.name):
            # Supabase re-checks a private channel's RLS with the new token; one that may no longer read it
            # (another restaurant's, or the anon key pushed on sign-out) ends the channel.
            return self._shutdown(channel, no_longer("read from", channel.name))
        if channel.restaurant_id is not None and restaurant is not None and restaurant != channel.restaurant_id:
            return self._shutdown(channel, no_longer("read from", channel.name))
        if channel.restaurant_id is not None and restaurant is None:
            # A valid token without a device: the anon key the official clients push on sign-out. Supabase keeps
            # the channel and RLS lets it see nothing, until the next sign-in's token (below) lets it see again.
            self.quotas.release((self, channel.topic))
            effects += self._unshare(channel)
            channel.restaurant_id, channel.tracked = None, False
        elif channel.restaurant_id is None and restaurant is not None:
            if not self.quotas.hold((self, channel.topic), restaurant, held_terms(channel.bindings)):
                return self._shutdown(channel, restaurant_terms_reason(self.config))
            channel.restaurant_id = restaurant
            effects.append(Subscribe((restaurant, channel.name), channel.topic, channel.bindings))
            if channel.presence_enabled:
                effects.append(self._sync_presence(channel))
        channel.token, channel.claims = token, claims
        return effects

    def _presence(self, channel: Channel, msg: Message) -> list[Effect]:
        event = msg.payload.get("event")
        if not isinstance(event, str):
            return [self._reply(msg, "ok", {})]
        if channel.key is None:
            return [self._reply(msg, "error", {"reason": "Unauthorized: presence needs a device token"})]
        key = channel.key
        if event.lower() == "untrack":
            channel.tracked = False
            return [self._reply(msg, "ok", {}), Untrack(key, channel.topic)]
        if event.lower() != "track":
            return [self._reply(msg, "error", {})]
        payload = msg.payload.get("payload", {})
        if not isinstance(payload, dict):
            return [self._reply(msg, "error", {"reason": "Presence track payload must be a map"})]
        if len(dumps(payload)) > self.config.max_presence_bytes:
            return self._shutdown(channel, "Track message size exceeded")
        channel.tracked = True
        effects: list[Effect] = [self._reply(msg, "ok", {}), Track(key, channel.topic, channel.presence_key, payload)]
        if not channel.presence_enabled:
            # Tracking enables presence; this channel never got a presence_state, so it gets one now.
            channel.presence_enabled = True
            effects.append(self._sync_presence(channel))
        return effects

    def _broadcast(self, channel: Channel, msg: Message) -> list[Effect]:
        if channel.private:
            # No write policy on `realtime.messages` lets a device broadcast on its restaurant's topic: only the
            # database does, so no screen can pass a made-up row change to the others.
            return [self._reply(msg, "error", {"reason": "Unauthorized: " + unauthorized("write to", channel.name)})]
        if channel.key is None or not isinstance(msg.payload.get("event"), str):
            return [self._reply(msg, "error", {"reason": "Unauthorized: broadcast needs a device token"})]
        effects: list[Effect] = [Broadcast(channel.key, channel.topic, msg.payload, channel.broadcast_self)]
        if channel.broadcast_ack:
            effects.append(self._reply(msg, "ok", {}))
        return effects

    def _user_broadcast(self, channel: Channel, push: UserBroadcastPush) -> list[Effect]:
        effects: list[Effect] = []
        if channel.key is not None and not channel.private:  # private: written by the database only
            effects.append(Broadcast(channel.key, channel.topic, push.broadcast, channel.broadcast_self))
        if channel.broadcast_ack:
            status = "ok" if channel.key is not None and not channel.private else "error"
            effects.append(Send(reply(self.vsn, channel.topic, push.ref, push.join_ref, status, {})))
        return effects

    # ------------------------------------------------------------ helpers

    def _reply(self, msg: Message, status: str, response: dict[str, Any]) -> Send:
        return Send(reply(self.vsn, msg.topic, msg.ref, msg.join_ref, status, response))

    def _system(self, channel: Channel, extension: str, status: str, message: str) -> Send:
        payload = {"extension": extension, "status": status, "message": message, "channel": channel.name}
        return Send(encode(Message(channel.topic, "system", payload, None, channel.join_ref), self.vsn))

    def _close_frame(self, channel: Channel) -> Send:
        return Send(encode(Message(channel.topic, "phx_close", {}, channel.join_ref, channel.join_ref), self.vsn))

    def _sync_presence(self, channel: Channel) -> Effect:
        if channel.key is None:
            return Send(encode(Message(channel.topic, "presence_state", {}, None, channel.join_ref), self.vsn))
        return SyncPresence(channel.key, channel.topic)

    def _drop(self, channel: Channel) -> list[Effect]:
        """Forget a channel and what it shares with others."""
        if self.channels.get(channel.topic) is channel:
            del self.channels[channel.topic]
            self.quotas.release((self, channel.topic))
        return self._unshare(channel)

    def _unshare(self, channel: Channel) -> list[Effect]:
        """Leave what a channel shares with its restaurant's others: presence and the topic's changes."""
        key = channel.key
        if key is None:
            return []
        effects: list[Effect] = []
        if channel.tracked:
            effects.append(Untrack(key, channel.topic))
        effects.append(Unsubscribe(key, channel.topic))
        return effects

    def _shutdown(self, channel: Channel, message: str) -> list[Effect]:
        """Supabase's `shutdown_response`: a `system` error, then `phx_close`."""
        return [self._system(channel, "system", "error", message), *self._drop(channel), self._close_frame(channel)]

    def _close(self, code: int, reason: str) -> list[Effect]:
        self.closed = True
        return [CloseSocket(code, reason)]
