"""Tokens on the realtime socket, checked as the REST API checks them, failing with Supabase Realtime's words.

The same secret, algorithm and required claims as `auth.tokens.verify_token`; expiry is judged against the
`now` the caller passes, so the channel state machine stays testable without a clock.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jwt
from pydantic import ValidationError

from api_client.models import TokenClaims

from ..auth.tokens import ALGORITHM


@dataclass(frozen=True, slots=True)
class TokenProblem:
    """Why a token was refused: `code` prefixes join errors (`"Code: message"`), `message` stands alone elsewhere."""

    code: str
    message: str
    http_message: str
    """The shorter text of an HTTP 401 at the websocket handshake, as Supabase's socket answers it."""

    @property
    def reason(self) -> str:
        return f"{self.code}: {self.message}"


Verifier = Callable[[str, float], TokenClaims | TokenProblem]

MALFORMED = TokenProblem(
    "MalformedJWT", "The token provided is not a valid JWT", "The token provided is not a valid JWT"
)
MISSING_CLAIMS = TokenProblem(
    "InvalidJWTToken",
    "Fields `role` and `exp` are required in JWT",
    "Fields `role` and `exp` are required in JWT",
)
BAD_SIGNATURE = TokenProblem(
    "JwtSignatureError", "Failed to validate JWT signature", "The token provided is not a valid JWT"
)


def expired(seconds_ago: int) -> TokenProblem:
    return TokenProblem("InvalidJWTToken", f"Token has expired {seconds_ago} seconds ago", "Token has expired")


def make_verifier(secret: str) -> Verifier:
    def verify(token: str, now: float) -> TokenClaims | TokenProblem:
        return check_token(secret, token, now)

    return verify


def check_token(secret: str, token: str, now: float) -> TokenClaims | TokenProblem:
    """The claims of a valid token at time `now`, or the problem with it."""
    try:
        raw = jwt.decode(
            token,
            secret,
            algorithms=[ALGORITHM],
            options={"require": ["exp", "role"], "verify_aud": False, "verify_exp": False, "verify_iat": False},
        )
    except jwt.MissingRequiredClaimError:
        return MISSING_CLAIMS
    except jwt.InvalidSignatureError:
        return BAD_SIGNATURE
    except jwt.InvalidTokenError:
        return MALFORMED
    try:
        claims = TokenClaims.model_validate(raw)
    except ValidationError:
        return MALFORMED
    if claims.exp <= now:
        return expired(int(now - claims.exp))
    return claims
