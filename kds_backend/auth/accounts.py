"""Device accounts in the `devices` table: created by an admin (API or CLI), signed in by the device.

Password hashes stay inside this module and `sessions`: everything else gets `DevicePublic`.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from api_client.models import DeviceCreate, DevicePublic, DisplaySettings

from ..db.tables import devices, refresh_tokens


class DuplicateEmail(ValueError):
    """Another device (in any restaurant) already signs in with this email."""


@dataclass(frozen=True)
class DeviceAccount:
    public: DevicePublic
    password_hash: str


def normalise_email(email: str) -> str:
    # GoTrue compares emails case-insensitively; so do we, by storing and looking up lower case.
    return email.strip().lower()


def _public(row: Mapping[str, Any]) -> DevicePublic:
    return DevicePublic(
        id=row["id"],
        restaurant_id=row["restaurant_id"],
        name=row["name"],
        email=row["email"],
        role=row["role"],
        stations=row["stations"],
        display=DisplaySettings.model_validate(row["display"]),
        created_at=row["created_at"],
    )


def create_device(
    conn: sa.Connection, restaurant_id: str, body: DeviceCreate, password_hash: str, now: datetime
) -> DevicePublic:
    email = normalise_email(body.email)
    taken = conn.execute(sa.select(devices.c.id).where(devices.c.email == email)).first()
    if taken is not None:
        raise DuplicateEmail(f"a device with email {email!r} already exists")
    row = {
        "id": str(uuid.uuid4()),
        "restaurant_id": restaurant_id,
        "name": body.name,
        "email": email,
        "password_hash": password_hash,
        "role": body.role.value,
        "stations": list(body.stations),
        "display": body.display.model_dump(mode="json"),
        "created_at": now,
    }
    conn.execute(devices.insert(), row)
    return _public(row)


def list_devices(conn: sa.Connection, restaurant_id: str) -> list[DevicePublic]:
    query = (
        sa.select(devices).where(devices.c.restaurant_id == restaurant_id).order_by(devices.c.created_at, devices.c.id)
    )
    return [_public(row) for row in conn.execute(query).mappings()]


def get_device(conn: sa.Connection, device_id: str) -> DevicePublic | None:
    row = conn.execute(sa.select(devices).where(devices.c.id == device_id)).mappings().first()
    return _public(row) if row is not None else None


def find_account(conn: sa.Connection, email: str) -> DeviceAccount | None:
    row = conn.execute(sa.select(devices).where(devices.c.email == normalise_email(email))).mappings().first()
    return DeviceAccount(_public(row), row["password_hash"]) if row is not None else None


def delete_device(conn: sa.Connection, restaurant_id: str, device_id: str) -> bool:
    """Delete a device of `restaurant_id` and revoke its refresh tokens. False if there is no such device."""
    scoped = sa.and_(devices.c.id == device_id, devices.c.restaurant_id == restaurant_id)
    if conn.execute(sa.select(devices.c.id).where(scoped)).first() is None:
        return False
    # Explicit, not only ON DELETE CASCADE: a database without enforced foreign keys must not keep them.
    conn.execute(refresh_tokens.delete().where(refresh_tokens.c.device_id == device_id))
    conn.execute(devices.delete().where(scoped))
    return True
