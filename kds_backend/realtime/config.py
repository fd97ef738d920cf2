"""Realtime limits and timeouts, from `KDS_REALTIME_*` variables (tests shorten the timeouts through them).

Every limit bounds what one client, device or restaurant can cost the one event loop all restaurants share
(issue 17); the README's limits table lists them. A bad value stops the server at start, naming the variable,
as the request limits do (`kds_backend/env.py` holds every variable's range).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from api_client.server_heartbeat import HEARTBEAT_EVERY_S

from ..env import MIN_SEND_QUEUE_BYTES, read_env

__all__ = ["MIN_SEND_QUEUE_BYTES", "RealtimeConfig"]


@dataclass(frozen=True)
class RealtimeConfig:
    heartbeat_timeout_s: float = 60.0
    """`KDS_REALTIME_HEARTBEAT_TIMEOUT_S`: a socket that sends nothing for this long is closed (Phoenix's default)."""
    send_queue_frames: int = 2000
    """`KDS_REALTIME_SEND_QUEUE`: frames waiting for one socket; one more closes it (1013), it catches up over REST."""
    send_queue_bytes: int = 4 << 20
    """`KDS_REALTIME_SEND_QUEUE_BYTES`: memory held by the frames waiting for one socket. Frames can be up to a MiB
    (broadcasts), so a frame count alone let a socket that never reads hold gigabytes; one over closes it (1013)."""
    max_channels: int = 100
    """`KDS_REALTIME_MAX_CHANNELS`: channels joined on one socket (Supabase's `max_channels_per_client`)."""
    max_bindings: int = 100
    """`KDS_REALTIME_MAX_BINDINGS`: `postgres_changes` bindings in one join."""
    max_filter_terms: int = 200
    """`KDS_REALTIME_MAX_FILTER_TERMS`: filter conditions plus `in` values over all bindings of one join. Each is
    parsed at the join and tested against the restaurant's changes, so this bounds both."""
    max_restaurant_filter_terms: int = 10_000
    """`KDS_REALTIME_MAX_RESTAURANT_FILTER_TERMS`: filter terms held by all of one restaurant's channels (a binding
    counts at least one). Its changes are tested against them, so this bounds what one restaurant's subscriptions
    cost the loop per change, whatever its devices and sockets (a kitchen of 100 screens holds a few hundred)."""
    max_sockets_per_device: int = 10
    """`KDS_REALTIME_MAX_SOCKETS_PER_DEVICE`: sockets open for one device token's subject (a screen uses one; a few
    more cover reconnects the server has not noticed yet)."""
    joins_per_s: float = 100.0
    """`KDS_REALTIME_JOINS_PER_S` / `KDS_REALTIME_JOIN_BURST`: channel joins per restaurant (anon tokens share one
    allowance), so one restaurant's join flood costs the loop a bounded share (Supabase's `max_joins_per_second`)."""
    join_burst: int = 200
    messages_per_s: float = 200.0
    message_burst: int = 400
    bytes_per_s: float = 1_048_576.0
    """`KDS_REALTIME_BYTES_PER_S` / `KDS_REALTIME_BYTES_BURST`: what one restaurant's sockets may cost the loop in
    bytes: the frames they send plus the frames those make the server send (a broadcast once per member, replies,
    presence diffs). Over it, each of its sockets' next frame waits unread, so TCP slows its senders and another
    restaurant's changes are not queued behind its flood (issue 17's soak; Supabase's `max_bytes_per_second`).
    Sockets whose token names no restaurant (anon) each have an allowance of their own."""
    bytes_burst: int = 2 << 20
    max_presence_bytes: int = 65_536
    tick_s: float = 1.0
    """How often heartbeat silence and token expiry are checked."""
    heartbeat_every_s: float = HEARTBEAT_EVERY_S
    """How often the server's data-path heartbeat goes to every restaurant's sync channels (screens call theirs
    stale after 10 s without one: api_client/server_heartbeat.py)."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RealtimeConfig:
        """From the `KDS_REALTIME_*` variables of `env` (default: the process's), checked by `read_env`."""
        values = read_env(env)
        heartbeat = values.realtime_heartbeat_timeout_s
        return cls(
            heartbeat_timeout_s=heartbeat,
            send_queue_frames=values.realtime_send_queue,
            send_queue_bytes=values.realtime_send_queue_bytes,
            max_channels=values.realtime_max_channels,
            max_bindings=values.realtime_max_bindings,
            max_filter_terms=values.realtime_max_filter_terms,
            max_restaurant_filter_terms=values.realtime_max_restaurant_filter_terms,
            max_sockets_per_device=values.realtime_max_sockets_per_device,
            joins_per_s=values.realtime_joins_per_s,
            join_burst=values.realtime_join_burst,
            messages_per_s=values.realtime_messages_per_s,
            message_burst=values.realtime_message_burst,
            bytes_per_s=values.realtime_bytes_per_s,
            bytes_burst=values.realtime_bytes_burst,
            # Ten checks per heartbeat timeout at least, so a short timeout (tests) is noticed on time.
            tick_s=values.realtime_tick_s if values.realtime_tick_s is not None else min(cls.tick_s, heartbeat / 10),
        )
