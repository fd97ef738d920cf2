"""Where the API client gets its bearer token: a fixed one, or a session it keeps fresh.

The client asks `get_token()` before every request and, on a 401, calls `refresh(rejected)` once with the
token that was refused. Passing the refused token lets a provider tell "my token is bad" from "a request
that was in flight before someone else refreshed": concurrent 401s then cause one refresh, not many.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Protocol, runtime_checkable

from .models import AuthSession

__all__ = ["SessionTokenProvider", "StaticTokenProvider", "TokenProvider"]


@runtime_checkable
class TokenProvider(Protocol):
    async def get_token(self) -> str | None:
        """The access token to send now; None to send only the API key (anonymous)."""
        ...

    async def refresh(self, rejected: str | None = None) -> str | None:
        """A new token after `rejected` was refused (401); None if this provider cannot get one."""
        ...


class StaticTokenProvider:
    """A token minted elsewhere (`kds-backend token`, a service key). It cannot be refreshed."""

    def __init__(self, token: str | None) -> None:
        self._token = token

    async def get_token(self) -> str | None:
        return self._token

    async def refresh(self, rejected: str | None = None) -> str | None:
        return None


class SessionTokenProvider:
    """A signed-in device's session, refreshed before it expires and after a 401.

    `refresher` exchanges a refresh token for a new session (`KdsApiClient.refresh`); `on_session` is told
    about every new session so the caller can persist the (rotated) refresh token.
    """

    def __init__(
        self,
        session: AuthSession,
        refresher: Callable[[str], Awaitable[AuthSession]],
        *,
        refresh_margin_s: float = 60.0,
        on_session: Callable[[AuthSession], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.session = session
        self._refresher = refresher
        self._margin = refresh_margin_s
        self._on_session = on_session
        self._clock = clock
        self._lock = asyncio.Lock()

    async def get_token(self) -> str | None:
        current = self.session.access_token
        if self.session.expires_at - self._margin <= self._clock():
            # Refresh ahead of expiry, so a token never lapses mid-service and events are not missed.
            return await self.refresh(current)
        return current

    async def refresh(self, rejected: str | None = None) -> str | None:
        async with self._lock:
            if rejected is not None and rejected != self.session.access_token:
                return self.session.access_token  # another caller refreshed while this one waited
            new = await self._refresher(self.session.refresh_token)
            self.session = new
            if self._on_session is not None:
                self._on_session(new)
            return new.access_token
