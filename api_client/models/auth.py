"""Devices and auth: a device's role and account, its token's claims, and GoTrue's grants and session."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from .base import RestaurantId, Station, _Published, _Wire


class DeviceRole(StrEnum):
    kds = "kds"
    expo = "expo"
    pos = "pos"
    admin = "admin"


class AppMetadata(_Wire):
    """What a token says about the device, under `app_metadata` as Supabase puts it."""

    model_config = ConfigDict(extra="allow")
    restaurant_id: RestaurantId | None = None
    device_role: DeviceRole | None = None
    stations: list[Station] = []


class TokenClaims(BaseModel):
    """The claims of an access token (HS256), shaped like Supabase's."""

    model_config = ConfigDict(extra="allow")
    role: str
    exp: int
    iat: int | None = None
    sub: str | None = None
    aud: str | None = None
    iss: str | None = None
    email: str | None = None
    session_id: str | None = None
    """The sign-in this token belongs to (GoTrue's session); None for a token made without one (`kds-backend
    token`)."""
    app_metadata: AppMetadata = AppMetadata()
    user_metadata: dict[str, Any] = {}


class DisplaySettings(_Wire):
    yellow_after_s: Annotated[int, Field(ge=0, le=86400)] = 300
    red_after_s: Annotated[int, Field(ge=0, le=86400)] = 480
    font_scale: Annotated[float, Field(ge=0.5, le=3.0)] = 1.0
    sound: bool = True


class DeviceCreate(_Wire):
    name: Annotated[str, Field(min_length=1, max_length=80)]
    email: Annotated[str, Field(min_length=3, max_length=200, pattern=r"^[^@\s]+@[^@\s]+$")]
    password: Annotated[str, Field(min_length=8, max_length=200)]
    role: DeviceRole
    stations: list[Station] = []
    display: DisplaySettings = DisplaySettings()


class DevicePublic(_Published):
    id: str
    restaurant_id: RestaurantId
    name: str
    email: str
    role: DeviceRole
    stations: list[Station]
    display: DisplaySettings
    created_at: datetime


class PasswordGrant(BaseModel):
    email: str
    password: str


class RefreshGrant(BaseModel):
    refresh_token: str


class AuthUser(BaseModel):
    """GoTrue's user object, reduced to what a device needs."""

    id: str
    aud: str = "authenticated"
    role: str = "authenticated"
    email: str | None = None
    app_metadata: AppMetadata
    user_metadata: dict[str, Any] = {}


class AuthSession(BaseModel):
    """GoTrue's token response (`POST /auth/v1/token`)."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"
    expires_in: int
    expires_at: int
    refresh_token: str
    user: AuthUser
