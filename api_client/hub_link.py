"""A kitchen hub's link to its upstream, as its screens learn it: the `upstream` part of the hub's `GET /health`.

A screen on a hub is served by the hub whatever the state of the internet: its taps reach the other LAN screens at
once either way. What changes when the hub's internet is down is what a cook or a manager must know: orders made
upstream (the website, delivery apps) cannot arrive, and the kitchen's taps wait at the hub to go up. The hub
broadcasts `hub_upstream` on the restaurant's channel when the link changes; a screen then reads `/health`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

HUB_UPSTREAM_EVENT = "hub_upstream"
"""The broadcast a hub sends on the restaurant's channel when its upstream link goes up or down."""


class UpstreamLink(BaseModel):
    """What a screen reads of its hub's upstream link (the hub's `/health` says more; the rest is ignored)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    connection: str
    """The hub's own connection to upstream: `live`, `connecting`, `joining`, `reconnecting` (a blip), or
    `offline` (lost for longer than a blip: what the screens show)."""
    caught_up: bool = False
    down_since: datetime | None = None
    """When the hub last lost upstream (None while live)."""
    taps_waiting: Annotated[int, Field(ge=0)] = 0
    pos_writes_waiting: Annotated[int, Field(ge=0)] = 0

    @property
    def up(self) -> bool:
        return self.connection != "offline"
