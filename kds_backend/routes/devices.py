"""`/api/v1/devices`: an admin manages the device accounts of its own restaurant. `/api/v1/pair`: a screen
exchanges a one-time pairing code for its connection and a device account (`kds_backend.auth.pairing`);
`/api/v1/stations`: the stations a screen may show."""

from __future__ import annotations

import asyncio
import secrets
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, Path, Request, Response
from pydantic import BaseModel, Field

from api_client.models import DeviceCreate, DevicePublic, DeviceRole

from ..auth.accounts import DuplicateEmail, create_device, delete_device, list_devices
from ..auth.deps import CurrentCaller, require_roles
from ..auth.pairing import PairingRefused, PendingPairing, check_code, known_stations, redeem_code
from ..auth.passwords import hash_password
from ..auth.tokens import issue_anon_key
from ..db.writer import Writer
from ..errors import ApiError, bad_request
from ..ratelimit import RateLimiter, retry_after_header
from .auth import clock

router = APIRouter(prefix="/api/v1", tags=["devices"])

ADMIN = {DeviceRole.admin}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, expired or forged token"},
    403: {"description": "Only an admin device manages devices"},
    429: {"description": "Rate limited; see Retry-After"},
}
DeviceId = Annotated[str, Path(min_length=1, max_length=80)]


@router.post(
    "/devices",
    status_code=201,
    response_model=DevicePublic,
    responses={
        **ERROR_RESPONSES,
        400: {"description": "Name or email with control characters"},
        409: {"description": "A device already signs in with this email"},
        422: {"description": "Invalid body, with field-level detail"},
    },
)
async def add_device(body: DeviceCreate, request: Request, caller: CurrentCaller) -> DevicePublic:
    """Create a device account in the caller's restaurant; it signs in with `email` and `password`."""
    require_roles(caller, ADMIN, "manage devices")
    for field, value in (("name", body.name), ("email", body.email)):
        if not value.isprintable():  # a NUL byte would be a database error, not a name
            raise bad_request("KDS400", f"{field} must be printable text")
    # scrypt is slow on purpose: hash off the event loop and before taking the write lock.
    password_hash = await asyncio.to_thread(hash_password, body.password)
    db = request.app.state.db
    try:
        return await db.awrite(lambda w: create_device(w.conn, caller.restaurant_id, body, password_hash, w.now))
    except DuplicateEmail as exc:
        raise ApiError(
            409, "23505", "a device with this email already exists", hint="Each device signs in with its own email."
        ) from exc


@router.get("/devices", response_model=list[DevicePublic], responses=ERROR_RESPONSES)
async def get_devices(request: Request, caller: CurrentCaller) -> list[DevicePublic]:
    """The caller's restaurant's devices (never their password hashes)."""
    require_roles(caller, ADMIN, "list devices")
    return await request.app.state.db.aread(lambda c: list_devices(c, caller.restaurant_id))


@router.delete(
    "/devices/{device_id}",
    status_code=204,
    response_class=Response,
    responses={**ERROR_RESPONSES, 404: {"description": "No such device in this restaurant"}},
)
async def remove_device(device_id: DeviceId, request: Request, caller: CurrentCaller) -> Response:
    """Delete a device and revoke its refresh tokens; access tokens it holds lapse at their expiry."""
    require_roles(caller, ADMIN, "manage devices")
    if not device_id.isprintable():  # cannot name a device, and a NUL byte would be a database error
        raise ApiError(404, "KDS404", "device not found")
    deleted = await request.app.state.db.awrite(lambda w: delete_device(w.conn, caller.restaurant_id, device_id))
    if not deleted:
        raise ApiError(404, "KDS404", "device not found", details=f"No device {device_id!r} in this restaurant.")
    return Response(status_code=204)


# ---------------------------------------------------------------- pairing a screen with a short code

PAIR_RATE_PER_S = 5 / 60  # per address: 5 guesses a minute, after a burst of 5 (a typo or two is fine)
PAIR_BURST = 5


class PairRequest(BaseModel):
    code: Annotated[str, Field(min_length=1, max_length=40)]


class PairResult(BaseModel):
    """What a paired screen needs to connect: where, the public key, and its own device sign-in."""

    url: str
    anon_key: str
    email: str
    password: str
    restaurant_id: str
    role: DeviceRole
    stations: list[str]
    known_stations: list[str]


def _pair_limiter(app: FastAPI) -> RateLimiter:
    limiter: RateLimiter | None = getattr(app.state, "pair_limiter", None)
    if limiter is None:
        limiter = RateLimiter(PAIR_RATE_PER_S, PAIR_BURST, clock=lambda: clock(app)())
        app.state.pair_limiter = limiter
    return limiter


@router.post(
    "/pair",
    response_model=PairResult,
    responses={
        400: {"description": "Not a pairing code (8 letters and digits)"},
        404: {"description": "No such pairing code"},
        410: {"description": "The code was already used, or has expired"},
        429: {"description": "Too many tries from this address; see Retry-After"},
    },
)
async def pair(body: PairRequest, request: Request) -> PairResult:
    """Exchange a one-time pairing code (`kds-backend pair`) for the URL, the anon key and a new device account's
    sign-in. No key is needed: the code is the credential, once, within its few minutes."""
    app = request.app
    peer = request.client.host if request.client else "unknown"  # the socket peer: a header could say anything
    wait = _pair_limiter(app).acquire(f"pair:{peer}")
    if wait is not None:
        raise ApiError(
            429, "KDS429", "Too many pairing tries: wait a minute", headers={"Retry-After": retry_after_header(wait)}
        )
    now = datetime.fromtimestamp(clock(app)(), UTC)
    db = app.state.db
    try:
        await db.aread(lambda c: check_code(c, body.code, now))  # cheap refusals before the slow hash
    except PairingRefused as exc:
        raise ApiError(exc.status, f"KDS{exc.status}", exc.message) from None
    password = secrets.token_urlsafe(24)
    password_hash = await asyncio.to_thread(hash_password, password)

    def write(w: Writer) -> tuple[PendingPairing, DevicePublic, list[str]]:
        pending = redeem_code(w.conn, body.code, now)
        label = "-".join(pending.stations) or pending.role
        account = DeviceCreate(
            name=pending.name,
            email=f"{label}-{secrets.token_hex(4)}@{pending.restaurant_id}.paired",
            password=password,
            role=DeviceRole(pending.role),
            stations=pending.stations,
        )
        device = create_device(w.conn, pending.restaurant_id, account, password_hash, w.now)
        return pending, device, known_stations(w.conn, pending.restaurant_id)

    try:
        pending, device, stations = await db.awrite(write)
    except PairingRefused as exc:  # spent by another exchange between the check and the write
        raise ApiError(exc.status, f"KDS{exc.status}", exc.message) from None
    return PairResult(
        url=str(request.base_url).rstrip("/"),
        anon_key=issue_anon_key(app.state.settings.jwt_secret),
        email=device.email,
        password=password,
        restaurant_id=pending.restaurant_id,
        role=device.role,
        stations=device.stations,
        known_stations=stations,
    )


@router.get("/stations", responses={401: ERROR_RESPONSES[401]})
async def get_stations(request: Request, caller: CurrentCaller) -> dict[str, list[str]]:
    """The stations the caller's restaurant knows (its routes, the default routes, its devices' stations), and
    the caller's own: what a screen's settings offer to choose from."""
    known = await request.app.state.db.aread(lambda c: known_stations(c, caller.restaurant_id))
    return {"stations": known, "mine": list(caller.stations)}
