"""`/api/v1/devices`: an admin manages the device accounts of its own restaurant."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response

from api_client.models import DeviceCreate, DevicePublic, DeviceRole

from ..auth.accounts import DuplicateEmail, create_device, delete_device, list_devices
from ..auth.deps import CurrentCaller, require_roles
from ..auth.passwords import hash_password
from ..errors import ApiError, bad_request

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
