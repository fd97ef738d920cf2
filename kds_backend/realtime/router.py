"""Many sockets at once, still sans-I/O: routes each socket's effects to the sockets they concern.

It owns what sockets share: who is on which `(restaurant, channel)` topic, presence, and the index of their
`postgres_changes` bindings (`subscriptions.py`). Every method
returns an outbox of `(socket id, Send | CloseSocket)` in the order the frames must go out; the server
only moves those frames to the sockets' queues.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .channel_state import Connection
from .config import RealtimeConfig
from .effects import (
    Broadcast,
    CloseSocket,
    Effect,
    Send,
    SharedBroadcast,
    Subscribe,
    SyncPresence,
    TopicKey,
    Track,
    Unsubscribe,
    Untrack,
    change_frame,
)
from .payloads import PreparedChange
from .presence import PresenceRegistry
from .quotas import Quotas
from .subscriptions import SubscriptionIndex

Outbox = list[tuple[int, Send | CloseSocket]]


class Router:
    def __init__(self, quotas: Quotas | None = None) -> None:
        self.quotas = quotas if quotas is not None else Quotas(RealtimeConfig())
        """Sockets per device and joins per restaurant, shared by the connections (`Connection(quotas=...)`)."""
        self.connections: dict[int, Connection] = {}
        self.presence = PresenceRegistry()
        self.subscriptions = SubscriptionIndex()
        self._members: dict[TopicKey, dict[tuple[int, str], None]] = {}

    def add(self, conn_id: int, connection: Connection) -> None:
        self.connections[conn_id] = connection

    def remove(self, conn_id: int) -> Outbox:
        """Forget a socket (gone, closed or overflowing); others see its presence leave."""
        connection = self.connections.pop(conn_id, None)
        if connection is None:
            return []
        self.quotas.detach(connection)
        return self._apply(conn_id, connection.teardown())

    def receive(self, conn_id: int, data: str | bytes, now: float) -> Outbox:
        connection = self.connections.get(conn_id)
        return [] if connection is None else self._apply(conn_id, connection.receive(data, now))

    def tick(self, now: float) -> Outbox:
        out: Outbox = []
        for conn_id, connection in list(self.connections.items()):
            out += self._apply(conn_id, connection.tick(now))
        return out

    def publish(self, changes: Sequence[PreparedChange]) -> Outbox:
        """Committed changes, in commit order, to every channel with a matching binding: found through the index,
        so a change costs the bindings it may match, not every socket's (`subscriptions.py`)."""
        out: Outbox = []
        for change in changes:
            frames: dict[tuple[str, str, tuple[int, ...]], Send] = {}  # each distinct frame is encoded once
            for (conn_id, topic), ids in self.subscriptions.matches(change):
                connection = self.connections.get(conn_id)
                if connection is None:
                    continue
                key = (connection.vsn_key, topic, ids)
                send = frames.get(key)
                if send is None:
                    send = frames[key] = Send(change_frame(connection.vsn, topic, ids, change))
                out.append((conn_id, send))
        return out

    def broadcast(
        self, key: TopicKey, event: str, payload: dict[str, Any], meta: dict[str, Any] | None = None
    ) -> Outbox:
        """The server's own broadcast (it has no sender socket): to every socket on the topic, as Supabase's
        Broadcast from Database delivers one (with `meta`: `{"id": <realtime.messages id>}`)."""
        message: dict[str, Any] = {"type": "broadcast", "event": event, "payload": payload}
        if meta is not None:
            message["meta"] = meta
        out: Outbox = []
        shared: SharedBroadcast = {}
        for member_id, member_topic in self.members(key):
            member = self.connections.get(member_id)
            if member is not None:
                out.extend((member_id, s) for s in member.push_broadcast(member_topic, message, shared))
        return out

    def topics(self) -> list[TopicKey]:
        """Every topic with a socket on it."""
        return list(self._members)

    def members(self, key: TopicKey) -> list[tuple[int, str]]:
        return list(self._members.get(key, ()))

    def _apply(self, conn_id: int, effects: Sequence[Effect]) -> Outbox:
        out: Outbox = []
        for effect in effects:
            match effect:
                case Send():
                    out.append((conn_id, effect))
                case CloseSocket():
                    out.append((conn_id, effect))
                    out += self.remove(conn_id)
                case Subscribe(key, topic, bindings):
                    self._members.setdefault(key, {})[(conn_id, topic)] = None
                    self.subscriptions.add((conn_id, topic), key[0], bindings)
                case Unsubscribe(key, topic):
                    self.subscriptions.remove((conn_id, topic))
                    members = self._members.get(key, {})
                    members.pop((conn_id, topic), None)
                    if not members:
                        self._members.pop(key, None)
                case Track(key, topic, presence_key, payload):
                    diff = self.presence.track(key, (conn_id, topic), presence_key, payload)
                    out += self._fan_out_diff(key, diff)
                case Untrack(key, topic):
                    out += self._fan_out_diff(key, self.presence.untrack(key, (conn_id, topic)))
                case SyncPresence(key, topic):
                    connection = self.connections.get(conn_id)
                    if connection is not None:
                        state = self.presence.state(key)
                        out.extend((conn_id, s) for s in connection.push_presence_state(topic, state))
                case Broadcast(key, topic, payload, include_self):
                    shared: SharedBroadcast = {}
                    for member_id, member_topic in self.members(key):
                        if (member_id, member_topic) == (conn_id, topic) and not include_self:
                            continue
                        member = self.connections.get(member_id)
                        if member is not None:
                            out.extend((member_id, s) for s in member.push_broadcast(member_topic, payload, shared))
        return out

    def _fan_out_diff(self, key: TopicKey, diff: dict | None) -> Outbox:
        if diff is None:
            return []
        out: Outbox = []
        for member_id, member_topic in self.members(key):
            member = self.connections.get(member_id)
            if member is not None:
                out.extend((member_id, s) for s in member.push_presence_diff(member_topic, diff))
        return out
