"""Who is calling: the API key and bearer token of a request, verified, rate-limited and scoped."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from api_client.models import DeviceRole, TokenClaims

from ..errors import ApiError, forbidden, unauthorized
from ..ratelimit import retry_after_header
from .tokens import InvalidToken, device_metadata, verify_token


@dataclass(frozen=True)
class Caller:
    """A verified device: every query and intent is scoped to its restaurant."""

    claims: TokenClaims
    restaurant_id: str
    role: DeviceRole
    device_id: str
    stations: tuple[str, ...]


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization")
    if not header:
        return None
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthorized("Authorization header must be 'Bearer <token>'")
    return token.strip()


def verify_request(request: Request) -> tuple[TokenClaims, str]:
    """The claims of the request's token (bearer, else the API key) and the raw token."""
    secret: str = request.app.state.settings.jwt_secret
    apikey = request.headers.get("apikey") or request.query_params.get("apikey")
    if not apikey:
        raise ApiError(
            401,
            "PGRST301",
            "No API key found in request",
            hint="No `apikey` request header or url param was found.",
        )
    try:
        verify_token(secret, apikey)
    except InvalidToken as exc:
        raise ApiError(401, "PGRST301", "Invalid API key", hint="Double check the apikey.") from exc
    token = _bearer(request) or apikey
    try:
        return verify_token(secret, token), token
    except InvalidToken as exc:
        raise unauthorized(str(exc)) from exc


def _rate_limit(request: Request, key: str) -> None:
    wait = request.app.state.rate_limiter.acquire(key)
    if wait is not None:
        raise ApiError(
            429,
            "PGRST429",
            "Too many requests",
            hint="Slow down and retry after the time given in Retry-After.",
            headers={"Retry-After": retry_after_header(wait)},
        )


PREAUTHENTICATED = "kds.caller"
"""Scope key under which `body_limits` leaves the caller it authenticated before reading the body."""


async def current_caller(request: Request) -> Caller:
    # async: it is quick CPU work, and a sync dependency would cost a thread-pool round trip per request.
    known = request.scope.get(PREAUTHENTICATED)
    if known is not None:
        return known  # verified and rate-limited once already, before the body was read
    claims, token = verify_request(request)
    _rate_limit(request, claims.sub or hashlib.sha256(token.encode()).hexdigest())
    meta = device_metadata(claims)
    if meta is None or meta.restaurant_id is None or meta.device_role is None or not claims.sub:
        raise ApiError(
            401,
            "42501",
            "permission denied: a device token is required",
            hint="Sign in as a device (POST /auth/v1/token) or use `kds-backend token`.",
        )
    return Caller(claims, meta.restaurant_id, meta.device_role, claims.sub, tuple(meta.stations))


CurrentCaller = Annotated[Caller, Depends(current_caller)]


def require_roles(caller: Caller, roles: set[DeviceRole], action: str) -> None:
    if caller.role not in roles:
        allowed = ", ".join(sorted(r.value for r in roles))
        raise forbidden(f"a {caller.role.value} device cannot {action}", hint=f"Allowed roles: {allowed}.")
