"""A joined channel, and who may read which: its restaurant comes from its token, a private channel is read as
RLS on `realtime.messages` would let it be. Data and pure rules."""

from __future__ import annotations

from dataclasses import dataclass

from api_client.broadcast import restaurant_topic
from api_client.models import TokenClaims

from ..auth.tokens import device_metadata
from .bindings import Binding
from .effects import TopicKey

TOPIC_PREFIX = "realtime:"
PRIVATE_MARK = "\x00private\x00"
"""Before a private channel's name in its TopicKey: a private and a public channel of one name are different
topics (on Supabase too), so nothing sent on the public one reaches the private one's members. No public join
may take a name starting with it."""


@dataclass
class Channel:
    topic: str
    join_ref: str | None
    token: str
    claims: TokenClaims
    restaurant_id: str | None
    bindings: tuple[Binding, ...]
    presence_key: str
    presence_enabled: bool
    broadcast_self: bool
    broadcast_ack: bool
    tracked: bool = False
    private: bool = False
    """Joined with `config.private: true`: authorised like RLS on `realtime.messages` (`may_read_private`)."""

    @property
    def name(self) -> str:
        return self.topic[len(TOPIC_PREFIX) :]

    @property
    def key(self) -> TopicKey | None:
        if self.restaurant_id is None:
            return None
        return (self.restaurant_id, PRIVATE_MARK + self.name if self.private else self.name)


def held_terms(bindings: tuple[Binding, ...] | list[Binding]) -> int:
    """What a channel's bindings count against its restaurant's filter allowance: each is tested on its
    restaurant's changes of its tables even with no filter, so each counts at least one."""
    return sum(max(1, b.filter.terms) for b in bindings)


def restaurant_of(claims: TokenClaims) -> str | None:
    meta = device_metadata(claims)
    return None if meta is None else meta.restaurant_id


def may_read_private(claims: TokenClaims, name: str) -> bool:
    """The companion's RLS on `realtime.messages`, as the migration's policy has it on Supabase: a device reads
    exactly its own restaurant's Broadcast from Database topic (`kds:<restaurant_id>` from its app_metadata)."""
    restaurant = restaurant_of(claims)
    return restaurant is not None and name == restaurant_topic(restaurant)


def unauthorized(verb: str, name: str) -> str:
    return f"You do not have permissions to {verb} this Channel topic: {name}"


def no_longer(verb: str, name: str) -> str:
    return f"You no longer have permission to {verb} this Channel topic: {name}"
