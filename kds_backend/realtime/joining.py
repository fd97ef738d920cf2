"""A `phx_join` checked and turned into a channel: the topic, the token (the join's own or the socket's), private
access, the restaurant's joins per second, sockets per device and filter terms, and the `postgres_changes`
bindings. Pure apart from the shared quotas it takes from; `channel_state.Connection` answers with the result."""

from __future__ import annotations

import uuid
from collections.abc import Hashable
from dataclasses import dataclass
from typing import Any

from .auth import TokenProblem, Verifier
from .bindings import Binding, BindingError, binding_id, parse_binding
from .channel import PRIVATE_MARK, TOPIC_PREFIX, Channel, held_terms, may_read_private, restaurant_of, unauthorized
from .config import RealtimeConfig
from .filters import TermBudget, TooManyTerms
from .protocol import Message
from .quotas import Quotas, device_of


class JoinRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Joined:
    channel: Channel
    echoed: list[dict[str, Any]]
    """The join's `postgres_changes`, each with its id: what the reply says it subscribed to."""
    cdc_error: str | None
    """Why its bindings deliver nothing (bad params), for the `system` message after the reply."""


def restaurant_terms_reason(config: RealtimeConfig) -> str:
    limit = config.max_restaurant_filter_terms
    return f"ChannelRateLimitReached: Too many filters: a restaurant's channels hold at most {limit} filter terms"


def open_channel(
    msg: Message,
    now: float,
    *,
    owner: Hashable,
    open_channels: int,
    socket_token: str,
    verify: Verifier,
    limits: RealtimeConfig,
    quotas: Quotas,
) -> Joined:
    """The channel `msg` joins within `limits`, with what it holds of `quotas` taken for `owner` (the socket);
    `JoinRefused` with Supabase's reason otherwise."""
    topic = msg.topic
    if not topic.startswith(TOPIC_PREFIX):
        raise JoinRefused("unmatched topic")
    if topic == TOPIC_PREFIX:
        raise JoinRefused("TopicNameRequired: You must provide a topic name")
    if open_channels >= limits.max_channels:
        raise JoinRefused("ChannelRateLimitReached: Too many channels")
    payload = msg.payload
    config = payload.get("config") or {}
    if not isinstance(config, dict):
        raise JoinRefused("InvalidJoinPayload: config must be an object")
    token = payload.get("access_token") or payload.get("user_token")
    if token is not None and not isinstance(token, str):
        raise JoinRefused("InvalidJoinPayload: access_token must be a string")
    if token is None or token.startswith("sb_"):
        token = socket_token  # Supabase: no token, or an `sb_` API key, means the socket's token
    claims = verify(token, now)
    if isinstance(claims, TokenProblem):
        raise JoinRefused(claims.reason)
    private = config.get("private") is True
    name = topic[len(TOPIC_PREFIX) :]
    if private and not may_read_private(claims, name):
        raise JoinRefused("Unauthorized: " + unauthorized("read from", name))
    if not private and name.startswith(PRIVATE_MARK):
        raise JoinRefused("InvalidJoinPayload: invalid topic name")
    # Supabase's answers to a tenant over its joins per second and concurrent users. The socket stays open:
    # its other channels are not to blame, and the official clients retry these joins after 30 s.
    if not quotas.take_join(restaurant_of(claims), now):
        raise JoinRefused("ClientJoinRateLimitReached: Too many joins per second")
    if not quotas.attach(owner, device_of(claims)):
        raise JoinRefused("ConnectionRateLimitReached: Too many connected users")
    raw_bindings = config.get("postgres_changes") or []
    if not isinstance(raw_bindings, list) or len(raw_bindings) > limits.max_bindings:
        raise JoinRefused(f"InvalidJoinPayload: postgres_changes must be a list of at most {limits.max_bindings}")
    bindings: list[Binding] = []
    echoed: list[dict[str, Any]] = []
    cdc_error: str | None = None
    budget = TermBudget(limits.max_filter_terms)
    for params in raw_bindings:
        try:
            binding = parse_binding(params, budget)
        except TooManyTerms:
            # Refused outright, not subscribed-to-nothing as for bad params: parsing stopped at the budget, so
            # an oversized join costs the shared loop no more than an allowed one (issue 17).
            raise JoinRefused(
                f"InvalidJoinPayload: too many filters: at most {limits.max_filter_terms} filter terms "
                "(conditions plus `in` values, over all postgres_changes bindings) per join"
            ) from None
        except BindingError as exc:
            cdc_error = cdc_error or str(exc)
            echoed.append({**params, "id": binding_id(params)} if isinstance(params, dict) else {"id": 1})
            continue
        bindings.append(binding)
        echoed.append({**params, "id": binding.id})
    if cdc_error:
        options = config.get("postgres_changes_options")
        if isinstance(options, dict) and options.get("wait") is True:
            raise JoinRefused(f"RealtimeDisabledForConfiguration: {cdc_error}")
        bindings = []  # like Supabase, a subscription with bad params delivers nothing
    if not quotas.hold((owner, topic), restaurant_of(claims), held_terms(bindings)):
        raise JoinRefused(restaurant_terms_reason(limits))
    presence = config.get("presence") if isinstance(config.get("presence"), dict) else {}
    broadcast = config.get("broadcast") if isinstance(config.get("broadcast"), dict) else {}
    key = presence.get("key")
    channel = Channel(
        topic=topic,
        join_ref=msg.join_ref,
        token=token,
        claims=claims,
        restaurant_id=restaurant_of(claims),
        bindings=tuple(bindings),
        presence_key=key if isinstance(key, str) and key else str(uuid.uuid4()),
        presence_enabled=presence.get("enabled") is True,
        broadcast_self=broadcast.get("self") is True,
        broadcast_ack=broadcast.get("ack") is True,
        private=private,
    )
    return Joined(channel, echoed, cdc_error)
