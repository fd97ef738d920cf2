"""Watching the hub's upstream link, for a screen served by a kitchen hub (`api_client.hub_link`).

Asked when the screen is live again, when its channel says `hub_upstream`, and every `DOWN_POLL_S` while the
link is down (the count of what waits at the hub changes, and the top bar shows it). A server without an
`upstream` in its `/health` is no hub: the value stays None and it is asked again only when the screen is live
again (it may have been re-configured). A server without `/health` at all (Supabase) is never asked again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any, Protocol

from pydantic import ValidationError

from api_client.errors import ApiError
from api_client.hub_link import UpstreamLink
from sync.realtime.observable import Observable

log = logging.getLogger(__name__)

DOWN_POLL_S = 10.0


class HealthSource(Protocol):
    async def health(self) -> dict[str, Any]: ...


class HubLinkWatch:
    def __init__(self, source: HealthSource, interval_s: float) -> None:
        self.source, self.interval_s = source, interval_s
        self.link: Observable[UpstreamLink | None] = Observable(None)
        """None: not served by a hub (or not known yet)."""
        self.supported = True
        self._want = asyncio.Event()

    def want(self) -> None:
        self._want.set()

    async def run(self) -> None:
        while self.supported:
            timeout = min(self.interval_s, DOWN_POLL_S) if self._polling() else None
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._want.wait(), timeout)
            self._want.clear()
            try:
                self.link.set(await self.fetch())
            except ApiError as exc:
                if 400 <= exc.status < 500:
                    self.supported = False  # no /health here (Supabase): never a hub
                    self.link.set(None)
                    return
                log.info("asking the server about its upstream failed: %s", exc)
            except Exception as exc:
                # Offline or a timeout: the screen's own banner says so; asked again when live again.
                log.info("asking the server about its upstream failed: %s: %s", type(exc).__name__, exc)

    async def fetch(self) -> UpstreamLink | None:
        body = await self.source.health()
        upstream = body.get("upstream")
        if upstream is None:
            return None
        try:
            return UpstreamLink.model_validate(upstream)
        except ValidationError as exc:
            log.warning("the hub's /health has an unreadable upstream part: %s", exc)
            return None

    def _polling(self) -> bool:
        """While the hub's link is down, its figures change: asked at the interval too."""
        link = self.link.value
        return link is not None and not link.up
