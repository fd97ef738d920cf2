"""Helpers for tests of device accounts and GoTrue-shaped sign-in."""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest

from kds_backend.auth import passwords
from kds_backend.auth.tokens import issue_anon_key
from tests.conftest import JWT_SECRET

PASSWORD = "correct-horse-battery"


def use_cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    """Route tests sign in dozens of times; the production cost is covered by test_passwords and test_cli."""
    monkeypatch.setattr(passwords, "DEFAULT_PARAMS", passwords.ScryptParams(n=2**8, r=8, p=1))


class FakeClock:
    """Wall-clock seconds the test moves by hand. Starts in the recent past, so tokens issued after moving
    it forward a little are still not "issued in the future" for the verifier's real clock."""

    def __init__(self, start: float | None = None) -> None:
        self.now = time.time() - 120 if start is None else start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def anon() -> dict[str, str]:
    return {"apikey": issue_anon_key(JWT_SECRET)}


async def add_device(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    *,
    email: str | None = None,
    role: str = "kds",
    stations: list[str] | None = None,
    password: str = PASSWORD,
    name: str = "Grill screen",
) -> dict[str, Any]:
    body = {
        "name": name,
        "email": email or f"screen-{uuid.uuid4().hex[:8]}@kitchen.test",
        "password": password,
        "role": role,
        "stations": ["grill"] if stations is None else stations,
    }
    r = await client.post("/api/v1/devices", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()


async def sign_in(client: httpx.AsyncClient, email: str, password: str = PASSWORD) -> httpx.Response:
    return await client.post(
        "/auth/v1/token", params={"grant_type": "password"}, json={"email": email, "password": password}, headers=anon()
    )


async def refresh(client: httpx.AsyncClient, refresh_token: str) -> httpx.Response:
    return await client.post(
        "/auth/v1/token", params={"grant_type": "refresh_token"}, json={"refresh_token": refresh_token}, headers=anon()
    )
