"""What one socket's state machine asks for (`channel_state.Connection`) and what the router sends to sockets:
frames and closes for the socket itself, topic membership, presence and broadcast for the router. Data only."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .bindings import Binding
from .payloads import PreparedChange
from .protocol import UserBroadcast, Vsn, dumps, encode_raw

TopicKey = tuple[str, str]
"""`(restaurant_id, channel name)`: what presence and broadcast are shared within."""


@dataclass(frozen=True, slots=True)
class Send:
    frame: str | bytes


@dataclass(frozen=True, slots=True)
class CloseSocket:
    code: int
    reason: str


@dataclass(frozen=True, slots=True)
class Subscribe:
    """Join the restaurant's topic (presence, broadcast) and, with bindings, its `postgres_changes`."""

    key: TopicKey
    topic: str
    bindings: tuple[Binding, ...] = ()


@dataclass(frozen=True, slots=True)
class Unsubscribe:
    key: TopicKey
    topic: str


@dataclass(frozen=True, slots=True)
class Track:
    key: TopicKey
    topic: str
    presence_key: str
    payload: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Untrack:
    key: TopicKey
    topic: str


@dataclass(frozen=True, slots=True)
class SyncPresence:
    key: TopicKey
    topic: str


@dataclass(frozen=True, slots=True)
class Broadcast:
    key: TopicKey
    topic: str
    payload: dict[str, Any] | UserBroadcast
    include_self: bool


Effect = Send | CloseSocket | Subscribe | Unsubscribe | Track | Untrack | SyncPresence | Broadcast


SharedBroadcast = dict[tuple[str, str], list[Send]]
"""One broadcast's frames by (serializer, topic)."""


def change_frame(vsn: Vsn, topic: str, ids: tuple[int, ...], change: PreparedChange) -> str:
    """The `postgres_changes` frame of a change for a channel whose bindings `ids` matched it."""
    return encode_raw(
        vsn, None, None, topic, "postgres_changes", f'{{"ids":{dumps(list(ids))},"data":{change.data_json}}}'
    )
