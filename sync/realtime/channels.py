"""Which Realtime channel a screen subscribes to: a configuration choice, the same catch-up either way.

- `postgres_changes` (the default): a public channel with one binding per synced table, filtered to the
  restaurant; what the companion and every Supabase project serve without more set-up.
- `broadcast`: the restaurant's private Broadcast from Database topic (api_client/broadcast.py), authorised by
  RLS on `realtime.messages`. The documented choice on Supabase past a few thousand subscribers, where
  `postgres_changes` is checked for every subscriber on one thread; it needs the migration that adds the trigger.
"""

from __future__ import annotations

from typing import Literal

from api_client.broadcast import restaurant_topic

from .phoenix import Binding, ChannelSpec

RealtimeMode = Literal["postgres_changes", "broadcast"]
REALTIME_MODES: tuple[RealtimeMode, ...] = ("postgres_changes", "broadcast")


def sync_channel(restaurant_id: str, tables: tuple[str, ...], mode: RealtimeMode) -> ChannelSpec:
    """The channel that brings a restaurant's row changes of `tables` in `mode`."""
    if mode == "broadcast":
        return ChannelSpec(restaurant_topic(restaurant_id), (), private=True)
    if mode == "postgres_changes":
        return ChannelSpec(
            f"kds-{restaurant_id}", tuple(Binding(t, filter=f"restaurant_id=eq.{restaurant_id}") for t in tables)
        )
    raise ValueError(f"realtime must be one of {', '.join(REALTIME_MODES)}, not {mode!r}")
