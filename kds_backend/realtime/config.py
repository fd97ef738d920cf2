"""Realtime limits and timeouts, from `KDS_REALTIME_*` variables (tests shorten the timeouts through them)."""

from __future__ import annotations

import os
from dataclasses import dataclass


@dataclass(frozen=True)
class RealtimeConfig:
    heartbeat_timeout_s: float = 60.0
    """A socket that sends nothing for this long is closed (Phoenix's default websocket timeout)."""
    send_queue_frames: int = 2000
    """Frames waiting for one socket; a socket that falls this far behind is closed and catches up over REST."""
    max_channels: int = 100
    max_bindings: int = 100
    messages_per_s: float = 200.0
    message_burst: int = 400
    max_presence_bytes: int = 65_536
    tick_s: float = 1.0
    """How often heartbeat silence and token expiry are checked."""

    @classmethod
    def from_env(cls) -> RealtimeConfig:
        env = os.environ
        heartbeat = float(env.get("KDS_REALTIME_HEARTBEAT_TIMEOUT_S", cls.heartbeat_timeout_s))
        return cls(
            heartbeat_timeout_s=heartbeat,
            send_queue_frames=int(env.get("KDS_REALTIME_SEND_QUEUE", cls.send_queue_frames)),
            messages_per_s=float(env.get("KDS_REALTIME_MESSAGES_PER_S", cls.messages_per_s)),
            message_burst=int(env.get("KDS_REALTIME_MESSAGE_BURST", cls.message_burst)),
            tick_s=float(env.get("KDS_REALTIME_TICK_S", min(cls.tick_s, heartbeat / 10))),
        )
