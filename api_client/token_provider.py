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

from .errors import ApiError, AuthError, ClientError
from .models import AuthSession

__all__ = ["SessionTokenProvider", "StaticTokenProvider", "TokenProvider", "refused"]


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

    **An unanswered refresh** (no connection, a lost reply, a timeout, 5xx, 429, an answer off the dialect)
    changes nothing: the same refresh token is presented again later, and a server that did rotate it hands
    out the same successor (the companion for `KDS_REFRESH_REUSE_WINDOW`, GoTrue for its reuse interval).
    While the access token is still valid it stays in use, and the early refresh is retried after a capped
    backoff (`retry_s`), not on every request.

    **A refused refresh** (GoTrue's 400 `invalid_grant`: already used, revoked, not found) is not the end:
    `reauthenticate` is awaited for a brand-new session without a person (the screen's password grant with
    its stored credential); it returns None when there is nothing to sign in with. The refused refresh
    token is never presented again. If there is no credential, it is refused too, or it signs in as another
    device, the provider is **signed out**: `sign_in_needed` holds the refusal, `on_signed_out` is told once,
    and the provider never asks the server again (no loop on a dead token): it hands out the current access
    token while that is valid, then raises `AuthError` at once. A person must sign in again (the app builds
    a new session from the password typed in its settings).
    """

    def __init__(
        self,
        session: AuthSession,
        refresher: Callable[[str], Awaitable[AuthSession]],
        *,
        refresh_margin_s: float = 60.0,
        on_session: Callable[[AuthSession], None] | None = None,
        clock: Callable[[], float] = time.time,
        reauthenticate: Callable[[], Awaitable[AuthSession | None]] | None = None,
        on_signed_out: Callable[[ApiError], None] | None = None,
        retry_s: tuple[float, float] = (1.0, 60.0),
    ) -> None:
        self.session = session
        self.sign_in_needed: ApiError | None = None
        """The refusal that signed this provider out; None while it can keep the session alive by itself."""
        self._refresher = refresher
        self._margin = refresh_margin_s
        self._on_session = on_session
        self._clock = clock
        self._reauthenticate = reauthenticate
        self._on_signed_out = on_signed_out
        self._retry_min_s, self._retry_max_s = retry_s
        self._retry_delay_s = self._retry_min_s
        self._retry_at = float("-inf")
        self._refused_refresh: ApiError | None = None  # the current refresh token was refused: never again
        self._lock = asyncio.Lock()

    async def get_token(self) -> str | None:
        session = self.session
        current = session.access_token
        now = self._clock()
        if self.sign_in_needed is not None:
            if now < session.expires_at:
                return current  # refused, but this token still works: use it to the end
            raise self._refusal()
        if session.expires_at - self._margin > now:
            return current
        if now < self._retry_at and now < session.expires_at:
            return current  # the last early refresh got no answer: retry after the backoff, not on every request
        # Refresh ahead of expiry, so a token never lapses mid-service and events are not missed.
        try:
            return await self.refresh(current)
        except ClientError as exc:
            usable = self._clock() < session.expires_at and self.session.access_token == current
            if usable and (exc.retryable or self.sign_in_needed is not None):
                return current
            raise

    async def refresh(self, rejected: str | None = None) -> str | None:
        async with self._lock:
            if rejected is not None and rejected != self.session.access_token:
                return self.session.access_token  # another caller refreshed while this one waited
            if self.sign_in_needed is not None:
                raise self._refusal()  # nothing the server could say now would differ: don't ask it
            try:
                new = await self._renewed()
            except ClientError:
                if self.sign_in_needed is None:  # unanswered, not refused: the same grant goes again later
                    self._retry_at = self._clock() + self._retry_delay_s
                    self._retry_delay_s = min(self._retry_delay_s * 2, self._retry_max_s)
                raise
            self.session = new
            self._refused_refresh = None
            self._retry_at = float("-inf")
            self._retry_delay_s = self._retry_min_s
            if self._on_session is not None:
                self._on_session(new)
            return new.access_token

    async def _renewed(self) -> AuthSession:
        refusal = self._refused_refresh
        if refusal is None:
            try:
                return await self._refresher(self.session.refresh_token)
            except ApiError as exc:
                if not refused(exc):
                    raise
                refusal = self._refused_refresh = exc
        # The refresh token is dead (used, revoked, unknown): sign in afresh without a person, if possible.
        if self._reauthenticate is None:
            raise self._signed_out(refusal)
        try:
            new = await self._reauthenticate()
        except ApiError as exc:
            if not refused(exc):
                raise  # the sign-in got no answer: try it again later
            raise self._signed_out(exc) from None
        if new is None:
            raise self._signed_out(refusal)
        if new.user.id != self.session.user.id:
            # The stored credential now names another device (deleted and re-created?): the taps queued here
            # carry this device's id, so a person has to decide.
            who = new.user.email or new.user.id
            changed = AuthError(403, "device_changed", f"the stored sign-in is now another device ({who})")
            raise self._signed_out(changed)
        return new

    def _signed_out(self, refusal: ApiError) -> AuthError:
        if self.sign_in_needed is None:
            self.sign_in_needed = refusal
            if self._on_signed_out is not None:
                self._on_signed_out(refusal)
        return self._refusal()

    def _refusal(self) -> AuthError:
        # A new exception each time: one instance raised over and over would grow its traceback.
        exc = self.sign_in_needed
        assert exc is not None
        return AuthError(exc.status, exc.code, exc.message, exc.details, exc.hint, exc.headers)


REFUSED_STATUSES = frozenset({400, 401, 403, 422})


def refused(exc: ApiError) -> bool:
    """The auth server refused the grant itself (GoTrue: 400 `invalid_grant`/`invalid_credentials`), as opposed
    to not answering it (5xx, 429) or a route that is not GoTrue's (404)."""
    return not exc.retryable and exc.status in REFUSED_STATUSES
