"""`/auth/v1`: the part of GoTrue (Supabase Auth) a kitchen screen uses, for device accounts.

`POST /auth/v1/token?grant_type=password|refresh_token`, `GET /auth/v1/user` and `POST /auth/v1/logout`, with GoTrue's
request and response shapes and both generations of its error body (`error`/`error_description` and
`code`/`error_code`/`msg`), so a client written against Supabase signs in and refreshes unchanged.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Annotated, Any, NamedTuple

from fastapi import APIRouter, FastAPI, Query, Request
from fastapi.responses import JSONResponse, Response

from api_client.models import AppMetadata, AuthSession, AuthUser, DevicePublic, PasswordGrant, RefreshGrant

from ..auth import sessions
from ..auth.accounts import get_device, normalise_email
from ..auth.hashing import HashingBusy
from ..auth.tokens import InvalidToken, device_metadata, verify_token
from ..errors import ApiError
from ..ratelimit import RateLimiter, retry_after_header

router = APIRouter(prefix="/auth/v1", tags=["auth"])

Clock = Callable[[], float]
SIGN_IN_RATE_PER_S = 1 / 12
SIGN_IN_BURST = 10
"""Per IP and email: a device signs in rarely, so ten tries then one every 12 s only slows a guesser."""
SIGN_IN_IP_RATE_PER_S = 1 / 2
SIGN_IN_IP_BURST = 30
"""Per IP, whatever the email: a kitchen's screens behind one address sign in now and then; spraying one
password across many emails gets thirty tries, then one every 2 s."""
MAX_BODY_BYTES = 16 * 1024

ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    400: {"description": "Refused grant: `{error, error_description, code, error_code, msg}` as GoTrue sends"},
    401: {"description": "Missing or invalid `apikey`"},
    429: {"description": "Too many sign-in attempts; see Retry-After"},
}
TOKEN_BODY = {
    "required": True,
    "content": {
        "application/json": {"schema": {"oneOf": [PasswordGrant.model_json_schema(), RefreshGrant.model_json_schema()]}}
    },
}


def clock(app: FastAPI) -> Clock:
    """Wall-clock seconds for token times, the reuse interval and sign-in limits (`app.state.auth_clock`)."""
    return getattr(app.state, "auth_clock", time.time)


def _sign_in_limiter(app: FastAPI) -> RateLimiter:
    limiter: RateLimiter | None = getattr(app.state, "sign_in_limiter", None)
    if limiter is None:
        settings = app.state.settings
        # Never laxer than the general limit, so a deployment that tightens that tightens this too.
        limiter = RateLimiter(
            min(SIGN_IN_RATE_PER_S, settings.rate_limit_per_s),
            min(SIGN_IN_BURST, settings.rate_limit_burst),
            clock=lambda: clock(app)(),
        )
        app.state.sign_in_limiter = limiter
    return limiter


def _sign_in_ip_limiter(app: FastAPI) -> RateLimiter:
    limiter: RateLimiter | None = getattr(app.state, "sign_in_ip_limiter", None)
    if limiter is None:
        rate = min(SIGN_IN_IP_RATE_PER_S, app.state.settings.rate_limit_per_s)
        limiter = RateLimiter(rate, SIGN_IN_IP_BURST, clock=lambda: clock(app)())
        app.state.sign_in_ip_limiter = limiter
    return limiter


def gotrue_error(
    status: int, error_code: str, message: str, oauth_error: str | None = None, headers: dict[str, str] | None = None
) -> ApiError:
    """An error in GoTrue's body: newer clients read `error_code`/`msg`, older ones `error`/`error_description`."""
    exc = ApiError(status, error_code, message, headers=headers)
    body: dict[str, Any] = {"code": status, "error_code": error_code, "msg": message}
    if oauth_error is not None:
        body |= {"error": oauth_error, "error_description": message}
    exc.body = body
    return exc


def _from_failure(failure: sessions.AuthFailure) -> ApiError:
    return gotrue_error(400, failure.error_code, failure.message, oauth_error=failure.error)


def require_apikey(request: Request) -> None:
    """The project's API key, as Supabase's gateway demands it before any auth endpoint."""
    apikey = request.headers.get("apikey") or request.query_params.get("apikey")
    if not apikey:
        raise ApiError(401, "PGRST301", "No API key found in request", hint="Send the anon key as `apikey`.")
    try:
        verify_token(request.app.state.settings.jwt_secret, apikey)
    except InvalidToken as exc:
        raise ApiError(401, "PGRST301", "Invalid API key", hint="Double check the apikey.") from exc


def _client_ip(request: Request) -> str:
    # The socket peer, not X-Forwarded-For: a guesser could put anything in that header.
    return request.client.host if request.client else "unknown"


def _too_many(wait_s: float) -> ApiError:
    headers = {"Retry-After": retry_after_header(wait_s)}
    return gotrue_error(429, "over_request_rate_limit", "Request rate limit reached", headers=headers)


async def _json_object(request: Request) -> dict[str, Any]:
    raw = await request.body()
    try:
        if len(raw) > MAX_BODY_BYTES:
            raise ValueError("body too large")
        body = json.loads(raw)
    except (ValueError, RecursionError) as exc:
        raise gotrue_error(
            400, "bad_json", "Could not parse request body as JSON", oauth_error="invalid_request"
        ) from exc
    if not isinstance(body, dict):
        raise gotrue_error(400, "bad_json", "Request body must be a JSON object", oauth_error="invalid_request")
    return body


async def _password_grant(request: Request, body: dict[str, Any]) -> sessions.Granted:
    email, password = body.get("email"), body.get("password")
    if not isinstance(email, str) or not isinstance(password, str):
        raise _from_failure(sessions.invalid_credentials())
    ip = _client_ip(request)
    # Per address first (a spray across emails), then per address and email (guessing one account's password).
    wait = _sign_in_ip_limiter(request.app).acquire(f"sign-in:{ip}")
    if wait is None:
        wait = _sign_in_limiter(request.app).acquire(f"sign-in:{ip}:{normalise_email(email)}")
    if wait is not None:
        raise _too_many(wait)
    app = request.app
    try:
        return await sessions.sign_in(app.state.db, app.state.settings, email, password, clock(app)())
    except HashingBusy:
        raise _too_many(1.0) from None


async def _refresh_grant(request: Request, body: dict[str, Any]) -> sessions.Granted:
    token = body.get("refresh_token")
    if not isinstance(token, str) or not token:
        raise gotrue_error(400, "validation_failed", "refresh_token required", oauth_error="invalid_request")
    wait = request.app.state.rate_limiter.acquire(f"refresh:{_client_ip(request)}")
    if wait is not None:
        raise _too_many(wait)
    app = request.app
    return await sessions.refresh(app.state.db, app.state.settings, token, clock(app)())


@router.post(
    "/token",
    response_model=AuthSession,
    responses=ERROR_RESPONSES,
    openapi_extra={"requestBody": TOKEN_BODY},
)
async def token(
    request: Request,
    grant_type: Annotated[str | None, Query(description="`password` or `refresh_token`")] = None,
) -> JSONResponse:
    """Sign a device in (`{email, password}`) or refresh its session (`{refresh_token}`)."""
    require_apikey(request)
    grants = {"password": _password_grant, "refresh_token": _refresh_grant}
    grant = grants.get(grant_type or "")
    if grant is None:
        raise gotrue_error(400, "validation_failed", "unsupported_grant_type", oauth_error="unsupported_grant_type")
    body = await _json_object(request)
    try:
        granted = await grant(request, body)
    except sessions.AuthFailure as failure:
        raise _from_failure(failure) from None
    return JSONResponse({**granted.session.model_dump(mode="json"), "user": user_json(granted.device)})


def user_json(device: DevicePublic) -> dict[str, Any]:
    """GoTrue's user object. Supabase's own clients require `created_at`, which AuthUser leaves out."""
    stamp = device.created_at.isoformat()
    return {**sessions.auth_user(device).model_dump(mode="json"), "created_at": stamp, "updated_at": stamp}


def _bearer(request: Request) -> str:
    scheme, _, value = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise gotrue_error(401, "no_authorization", "This endpoint requires a valid Bearer token")
    return value.strip()


@router.get(
    "/user",
    response_model=AuthUser,
    responses={
        401: {"description": "Missing apikey, or a missing, expired or forged bearer token"},
        403: {"description": "The token's device no longer exists"},
        429: {"description": "Rate limited; see Retry-After"},
    },
)
async def user(request: Request) -> JSONResponse:
    """The signed-in device, read afresh: a deleted device is no longer a user."""
    require_apikey(request)
    caller = _device_token(request)
    wait = request.app.state.rate_limiter.acquire(caller.id)
    if wait is not None:
        raise _too_many(wait)
    device = await request.app.state.db.aread(lambda c: get_device(c, caller.id))
    if device is None or device.restaurant_id != caller.meta.restaurant_id:
        raise gotrue_error(403, "user_not_found", "User from sub claim in JWT does not exist")
    return JSONResponse(user_json(device))


class _DeviceToken(NamedTuple):
    id: str
    meta: AppMetadata
    session_id: str | None


def _device_token(request: Request) -> _DeviceToken:
    """The device whose access token the request bears (GoTrue's errors for anything else)."""
    try:
        claims = verify_token(request.app.state.settings.jwt_secret, _bearer(request))
    except InvalidToken as exc:
        raise gotrue_error(401, "bad_jwt", f"invalid JWT: {exc}", headers={"WWW-Authenticate": "Bearer"}) from exc
    meta = device_metadata(claims)
    if meta is None or not claims.sub:
        raise gotrue_error(401, "no_authorization", "This endpoint requires a device's access token")
    return _DeviceToken(claims.sub, meta, claims.session_id)


@router.post(
    "/logout",
    status_code=204,
    response_class=Response,
    responses={
        400: {"description": "Unsupported `scope`"},
        401: {"description": "Missing apikey, or a missing, expired or forged bearer token"},
        429: {"description": "Rate limited; see Retry-After"},
    },
)
async def logout(
    request: Request,
    scope: Annotated[str, Query(description="`global` (every session), `local` (this one) or `others`")] = "global",
) -> Response:
    """Sign the device out as GoTrue does: its refresh tokens of the sessions in `scope` stop working at once;
    access tokens already issued stay valid until they expire."""
    require_apikey(request)
    if scope not in sessions.LOGOUT_SCOPES:
        raise gotrue_error(400, "validation_failed", f"Unsupported logout scope {scope!r}")
    caller = _device_token(request)
    wait = request.app.state.rate_limiter.acquire(caller.id)
    if wait is not None:
        raise _too_many(wait)
    await sessions.sign_out(request.app.state.db, caller.id, caller.session_id, scope)
    return Response(status_code=204)
