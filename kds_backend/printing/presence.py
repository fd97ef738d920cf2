"""Which stations have a screen online, from Realtime presence: a screen tracks presence on its channel, and its
device's stations (or the `stations` its presence payload names) count as online while the entry lasts. An entry
leaves when the screen untracks, closes its socket, or goes silent past the heartbeat timeout."""

from __future__ import annotations

from typing import Any

from ..realtime.server import RealtimeService
from .jobs import StationKey


def stations_online(service: RealtimeService) -> set[StationKey]:
    online: set[StationKey] = set()
    router = service.router
    for topic_key, owner, payload in router.presence.entries():
        restaurant = topic_key[0] if isinstance(topic_key, tuple) else None
        conn_id, topic = owner if isinstance(owner, tuple) else (None, None)
        connection = router.connections.get(conn_id) if isinstance(conn_id, int) else None
        channel = connection.channels.get(topic) if connection is not None and isinstance(topic, str) else None
        if not isinstance(restaurant, str) or channel is None:
            continue
        for station in _stations(payload, list(channel.claims.app_metadata.stations)):
            online.add((restaurant, station))
    return online


def _stations(payload: dict[str, Any], claimed: list[str]) -> list[str]:
    """The payload's `stations` (a screen showing some of its device's stations says which), else the device's."""
    named = payload.get("stations")
    if isinstance(named, list) and all(isinstance(s, str) for s in named):
        return named
    return claimed
