"""Realtime limits and timeouts, from `KDS_REALTIME_*` variables (tests shorten the timeouts through them).

Every limit bounds what one client, device or restaurant can cost the one event loop all restaurants share
(issue 17); the README's limits table lists them. A bad value stops the server at start, naming the variable,
as the request limits in `kds_backend/settings.py` do.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from ..settings import _seconds, _whole
from .protocol import MAX_FRAME_BYTES

MIN_SEND_QUEUE_BYTES = 2 * MAX_FRAME_BYTES + 65_536
"""Room for two of the largest frames a client may send (a broadcast is relayed about as large), so one broadcast
never closes every receiver."""


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
    max_presence_bytes: int = 65_536
    tick_s: float = 1.0
    """How often heartbeat silence and token expiry are checked."""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> RealtimeConfig:
        env = os.environ if env is None else env
        heartbeat = _seconds(env, "KDS_REALTIME_HEARTBEAT_TIMEOUT_S", cls.heartbeat_timeout_s)
        return cls(
            heartbeat_timeout_s=heartbeat,
            send_queue_frames=_whole(env, "KDS_REALTIME_SEND_QUEUE", cls.send_queue_frames, 10, 1_000_000, "frames"),
            # At least two of the largest frames a client may send, or one broadcast would close every receiver.
            send_queue_bytes=_whole(
                env,
                "KDS_REALTIME_SEND_QUEUE_BYTES",
                cls.send_queue_bytes,
                2 * MAX_FRAME_BYTES + 65_536,
                1 << 30,
                "bytes",
            ),
            max_channels=_whole(env, "KDS_REALTIME_MAX_CHANNELS", cls.max_channels, 1, 10_000, "channels"),
            max_bindings=_whole(env, "KDS_REALTIME_MAX_BINDINGS", cls.max_bindings, 1, 10_000, "bindings"),
            max_filter_terms=_whole(env, "KDS_REALTIME_MAX_FILTER_TERMS", cls.max_filter_terms, 1, 100_000, "terms"),
            max_restaurant_filter_terms=_whole(
                env, "KDS_REALTIME_MAX_RESTAURANT_FILTER_TERMS", cls.max_restaurant_filter_terms, 1, 10_000_000, "terms"
            ),
            max_sockets_per_device=_whole(
                env, "KDS_REALTIME_MAX_SOCKETS_PER_DEVICE", cls.max_sockets_per_device, 1, 100_000, "sockets"
            ),
            joins_per_s=_rate(env, "KDS_REALTIME_JOINS_PER_S", cls.joins_per_s),
            join_burst=_whole(env, "KDS_REALTIME_JOIN_BURST", cls.join_burst, 1, 1_000_000, "joins"),
            messages_per_s=_rate(env, "KDS_REALTIME_MESSAGES_PER_S", cls.messages_per_s),
            message_burst=_whole(env, "KDS_REALTIME_MESSAGE_BURST", cls.message_burst, 1, 1_000_000, "messages"),
            tick_s=_seconds(env, "KDS_REALTIME_TICK_S", min(cls.tick_s, heartbeat / 10)),
        )


def _rate(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = -1.0
    if not 0.01 <= value <= 1_000_000:  # NaN fails this too
        raise ValueError(f"{name} must be a number per second from 0.01 to 1000000, not {raw!r}")
    return value
