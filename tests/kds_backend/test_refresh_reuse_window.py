"""A lost answer to a refresh never locks a screen out of the companion (issue 13, defect 2).

The screen's refresh reaches the companion, which rotates the token and commits, but the answer is lost;
the screen then stays off the network far longer than GoTrue's 10 s reuse interval. Presenting the used
token again must give the same, still unused successor back (idempotent) within
`KDS_REFRESH_REUSE_WINDOW` (default 24 h). Once that successor was used, the old token coming back is real
reuse: refused in GoTrue's words, and the family revoked, as before.
"""

from __future__ import annotations

import dataclasses

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from kds_backend.auth.sessions import GOTRUE_REUSE_INTERVAL_S, token_hash
from kds_backend.auth.tokens import verify_token
from kds_backend.db.tables import refresh_tokens
from kds_backend.settings import Settings
from tests.conftest import JWT_SECRET
from tests.kds_backend.device_accounts import FakeClock, add_device, refresh, sign_in, use_cheap_scrypt

ALREADY_USED = {
    "error": "invalid_grant",
    "error_description": "Invalid Refresh Token: Already Used",
    "code": 400,
    "error_code": "refresh_token_already_used",
    "msg": "Invalid Refresh Token: Already Used",
}
HOUR = 3600.0


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    use_cheap_scrypt(monkeypatch)


@pytest.fixture
def clock(app: FastAPI) -> FakeClock:
    # Far enough in the past that tokens issued hours later are still not "issued in the future".
    fake = FakeClock(start=FakeClock().now - 30 * HOUR)
    app.state.auth_clock = fake
    return fake


def _used_at(app: FastAPI, token: str) -> object:
    query = sa.select(refresh_tokens.c.used_at).where(refresh_tokens.c.token_hash == token_hash(token))
    return app.state.db.read(lambda c: c.execute(query).scalar_one_or_none())


async def test_a_parent_whose_answer_was_lost_gets_the_same_child_hours_later(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict, clock: FakeClock
) -> None:
    assert app.state.settings.refresh_reuse_window_s == 24 * HOUR  # the default
    device = await add_device(client, admin_headers)
    parent = (await sign_in(client, device["email"])).json()["refresh_token"]

    lost = await refresh(client, parent)  # the screen never reads this answer
    assert lost.status_code == 200
    child = lost.json()["refresh_token"]
    assert _used_at(app, parent) is not None  # the server acted: the rotation is committed

    clock.advance(6 * HOUR)  # the screen was off the network all afternoon: far past GoTrue's 10 s
    again = await refresh(client, parent)
    assert again.status_code == 200, again.text
    assert again.json()["refresh_token"] == child  # the same child, not a new family
    claims = verify_token(JWT_SECRET, again.json()["access_token"], leeway_s=int(31 * HOUR))
    assert claims.sub == device["id"]
    # As often as the answer keeps getting lost: still the same child, and nothing revoked.
    assert (await refresh(client, parent)).json()["refresh_token"] == child

    onwards = await refresh(client, child)  # the child works
    assert onwards.status_code == 200, onwards.text
    grandchild = onwards.json()["refresh_token"]
    assert verify_token(JWT_SECRET, onwards.json()["access_token"], leeway_s=int(31 * HOUR)).sub == device["id"]

    # The child was used, so the screen did receive it: the parent coming back now is real reuse.
    clock.advance(60)
    reused = await refresh(client, parent)
    assert reused.status_code == 400 and reused.json() == ALREADY_USED
    revoked = await refresh(client, grandchild)  # the family is revoked, as GoTrue does
    assert revoked.status_code == 400 and revoked.json()["error"] == "invalid_grant"
    assert (await sign_in(client, device["email"])).status_code == 200  # the password still signs in


async def test_after_the_window_the_parent_is_refused_and_the_family_revoked(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict, clock: FakeClock
) -> None:
    device = await add_device(client, admin_headers)
    parent = (await sign_in(client, device["email"])).json()["refresh_token"]
    child = (await refresh(client, parent)).json()["refresh_token"]
    clock.advance(24 * HOUR + 1)
    late = await refresh(client, parent)
    assert late.status_code == 400 and late.json() == ALREADY_USED
    assert (await refresh(client, child)).status_code == 400


async def test_gotrue_strict_window_refuses_the_lost_answers_parent_after_ten_seconds(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict, clock: FakeClock
) -> None:
    """`KDS_REFRESH_REUSE_WINDOW=10` behaves as a Supabase project does (what the screen's own recovery,
    signing in again with its stored password, is tested against in tests/kds_app/windows/test_sign_in_recovery.py)."""
    app.state.settings = dataclasses.replace(app.state.settings, refresh_reuse_window_s=GOTRUE_REUSE_INTERVAL_S)
    device = await add_device(client, admin_headers)
    parent = (await sign_in(client, device["email"])).json()["refresh_token"]
    child = (await refresh(client, parent)).json()["refresh_token"]
    clock.advance(9)
    assert (await refresh(client, parent)).json()["refresh_token"] == child
    clock.advance(2)  # 11 s after the rotation
    late = await refresh(client, parent)
    assert late.status_code == 400 and late.json() == ALREADY_USED
    assert (await refresh(client, child)).status_code == 400


def test_the_window_is_a_setting(monkeypatch: pytest.MonkeyPatch, tmp_path: object) -> None:
    monkeypatch.setenv("KDS_JWT_SECRET", JWT_SECRET)
    monkeypatch.setenv("KDS_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("KDS_REFRESH_REUSE_WINDOW", raising=False)
    assert Settings.from_env("sqlite://").refresh_reuse_window_s == 24 * HOUR
    monkeypatch.setenv("KDS_REFRESH_REUSE_WINDOW", "10")
    assert Settings.from_env("sqlite://").refresh_reuse_window_s == 10.0
    for bad in ("ten", "-1", "nan", "9999999"):
        monkeypatch.setenv("KDS_REFRESH_REUSE_WINDOW", bad)
        with pytest.raises(ValueError, match="KDS_REFRESH_REUSE_WINDOW must be seconds"):
            Settings.from_env("sqlite://")
