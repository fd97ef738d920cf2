"""The test companion's JWT secret and the tokens signed with it (a device's access token, its request headers)."""

from __future__ import annotations

from api_client.models import DeviceRole
from kds_backend.auth.tokens import issue_anon_key, issue_token

JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"


def token_for(
    role: DeviceRole | str,
    restaurant: str = "r1",
    device: str | None = None,
    stations: list[str] | None = None,
    ttl_s: int = 3600,
    secret: str = JWT_SECRET,
    now: float | None = None,
) -> str:
    """`now`: the issue time, for tests that drive a clock of their own (default: the real time)."""
    role = DeviceRole(role)
    return issue_token(
        secret,
        restaurant_id=restaurant,
        device_role=role,
        subject=device or f"{restaurant}-{role.value}-1",
        stations=stations,
        ttl_s=ttl_s,
        now=now,
    )


def auth_headers(token: str, apikey: str | None = None) -> dict[str, str]:
    return {"apikey": apikey or issue_anon_key(JWT_SECRET), "Authorization": f"Bearer {token}"}
