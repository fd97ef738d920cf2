"""Device tokens and the anon key minted from the project's JWT secret: HS256 JWTs with Supabase-shaped claims.

The claims are the contract every side reads (`models.TokenClaims`), so minting lives beside them: the companion
issues tokens with it (`kds_backend.auth.tokens`, which also verifies them), and whoever holds the secret without
running a companion (a screen's embedded companion, `kds-pos-sim --jwt-secret`) mints its own through
`MintingTokenProvider`, with no import of the backend.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import jwt

from .models import DeviceRole

__all__ = [
    "ALGORITHM",
    "ANON_TTL_S",
    "ISSUER",
    "MINTED_TTL_S",
    "MintingTokenProvider",
    "issue_anon_key",
    "issue_token",
]

ALGORITHM = "HS256"
ISSUER = "kds-companion"
ANON_TTL_S = 10 * 365 * 24 * 3600
MINTED_TTL_S = 15 * 60


def issue_token(
    secret: str,
    *,
    restaurant_id: str,
    device_role: DeviceRole,
    subject: str,
    stations: list[str] | None = None,
    ttl_s: int = 3600,
    email: str | None = None,
    now: float | None = None,
    session_id: str | None = None,
) -> str:
    """A device's access token, as Supabase's GoTrue would shape it for an `authenticated` user."""
    issued = int(now if now is not None else time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": "authenticated",
        "role": "authenticated",
        "sub": subject,
        "iat": issued,
        "exp": issued + ttl_s,
        "app_metadata": {
            "restaurant_id": restaurant_id,
            "device_role": device_role.value,
            "stations": stations or [],
        },
        "user_metadata": {},
    }
    if email:
        claims["email"] = email
    if session_id:
        claims["session_id"] = session_id  # as GoTrue: which sign-in this token belongs to
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def issue_anon_key(secret: str, *, now: float | None = None) -> str:
    """The project's public API key: a long-lived JWT with role `anon`, like Supabase's."""
    issued = int(now if now is not None else time.time())
    claims = {"iss": ISSUER, "role": "anon", "iat": issued, "exp": issued + ANON_TTL_S}
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


class MintingTokenProvider:
    """A `TokenProvider` that holds the secret, so it mints short-lived device tokens itself: a fresh one
    before the current one expires and after a 401."""

    def __init__(
        self,
        secret: str,
        *,
        restaurant_id: str,
        role: DeviceRole,
        device_id: str,
        stations: Sequence[str] = (),
        ttl_s: int = MINTED_TTL_S,
        refresh_margin_s: float = 60.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if ttl_s <= refresh_margin_s:
            raise ValueError("ttl_s must be longer than refresh_margin_s")
        self._secret = secret
        self.restaurant_id, self.role, self.device_id = restaurant_id, role, device_id
        self.stations = list(stations)
        self._ttl_s, self._margin, self._clock = ttl_s, refresh_margin_s, clock
        self._token: str | None = None
        self._expires_at = 0.0

    async def get_token(self) -> str | None:
        if self._token is None or self._expires_at - self._margin <= self._clock():
            return self._mint()
        return self._token

    async def refresh(self, rejected: str | None = None) -> str | None:
        if rejected is not None and self._token is not None and rejected != self._token:
            return self._token  # someone already got a newer one
        return self._mint()

    def _mint(self) -> str:
        now = self._clock()
        self._token = issue_token(
            self._secret,
            restaurant_id=self.restaurant_id,
            device_role=self.role,
            subject=self.device_id,
            stations=self.stations,
            ttl_s=self._ttl_s,
            now=now,
        )
        self._expires_at = now + self._ttl_s
        return self._token
