"""Access tokens: HS256 JWTs with Supabase-shaped claims, verified with the secret they were issued with
(`api_client.token_minting`, re-exported here: the companion issues them too)."""

from __future__ import annotations

import time
from typing import Any

import jwt
from pydantic import ValidationError

from api_client.models import AppMetadata, TokenClaims
from api_client.token_minting import ALGORITHM, ANON_TTL_S, ISSUER, issue_anon_key, issue_token

__all__ = [
    "ALGORITHM",
    "ANON_TTL_S",
    "ISSUER",
    "InvalidToken",
    "device_metadata",
    "issue_anon_key",
    "issue_token",
    "verify_token",
]


class InvalidToken(Exception):
    """The token is missing, malformed, forged or expired. The message is safe to show."""


_VERIFIED: dict[tuple[str, str, int], tuple[TokenClaims, int, int | None, int | None]] = {}
"""Tokens already verified, with their exp, nbf and iat: a device sends the same two tokens (API key and
bearer) with every request, and checking the signature and claims again each time was a tenth of the
companion's CPU per order. Only the clock can change a verified token's answer, and it is checked again."""
_VERIFIED_MAX = 4096


def verify_token(secret: str, token: str, *, leeway_s: int = 0) -> TokenClaims:
    """The claims of a valid token; `InvalidToken` for anything else. The claims are shared: do not modify."""
    key = (secret, token, leeway_s)
    known = _VERIFIED.get(key)
    if known is not None:
        claims, exp, nbf, iat = known
        now = time.time()
        # The checks PyJWT makes against the clock; anything else about the token cannot have changed.
        if exp > now - leeway_s and (nbf is None or nbf <= now + leeway_s) and (iat is None or iat <= now + leeway_s):
            return claims
    claims, raw = _verify(secret, token, leeway_s)
    if len(_VERIFIED) >= _VERIFIED_MAX:
        del _VERIFIED[next(iter(_VERIFIED))]  # the oldest entry
    _VERIFIED[key] = (claims, int(raw["exp"]), _int_or_none(raw.get("nbf")), _int_or_none(raw.get("iat")))
    return claims


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _verify(secret: str, token: str, leeway_s: int) -> tuple[TokenClaims, dict[str, Any]]:
    try:
        raw = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "role"], "verify_aud": False},
            leeway=leeway_s,
        )
    except jwt.ExpiredSignatureError as exc:
        raise InvalidToken("JWT expired") from exc
    except jwt.MissingRequiredClaimError as exc:
        raise InvalidToken(f"JWT is missing the required claim {exc.claim!r}") from exc
    except jwt.InvalidTokenError as exc:
        raise InvalidToken("JWT could not be verified") from exc
    try:
        return TokenClaims.model_validate(raw), raw
    except ValidationError as exc:
        raise InvalidToken("JWT claims are not in the expected shape") from exc


def device_metadata(claims: TokenClaims) -> AppMetadata | None:
    """The device part of the claims, or None for a token that is not a device's (anon, service)."""
    meta = claims.app_metadata
    if claims.role != "authenticated" or meta.restaurant_id is None or meta.device_role is None:
        return None
    return meta
