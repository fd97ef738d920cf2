"""`/auth/v1`: GoTrue-shaped sign-in, refresh rotation with a reuse interval, and the user endpoint."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator

import httpx
import jwt
import pytest
import sqlalchemy as sa
from fastapi import FastAPI

from api_client.client import KdsApiClient
from api_client.errors import ApiError as ClientApiError
from api_client.models import AuthSession
from kds_backend.app import create_app
from kds_backend.auth.sessions import GOTRUE_REUSE_INTERVAL_S
from kds_backend.auth.tokens import issue_anon_key, verify_token
from kds_backend.db.tables import refresh_tokens
from kds_backend.settings import Settings
from tests.conftest import JWT_SECRET, auth_headers, token_for
from tests.kds_backend.device_accounts import PASSWORD, FakeClock, add_device, anon, refresh, sign_in, use_cheap_scrypt

INVALID_LOGIN = {
    "error": "invalid_grant",
    "error_description": "Invalid login credentials",
    "code": 400,
    "error_code": "invalid_credentials",
    "msg": "Invalid login credentials",
}


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch: pytest.MonkeyPatch) -> None:
    use_cheap_scrypt(monkeypatch)


@pytest.fixture
def clock(app: FastAPI) -> FakeClock:
    fake = FakeClock()
    app.state.auth_clock = fake
    return fake


def intent_body(device_id: str) -> dict:
    intent = {"id": str(uuid.uuid4()), "device_id": device_id, "device_seq": 1, "kind": "start"}
    return {"intents": [{**intent, "order_id": str(uuid.uuid4())}]}


# ---------------------------------------------------------------- sign-in


async def test_sign_in_returns_a_gotrue_session_for_the_device(
    client: httpx.AsyncClient, admin_headers: dict, clock: FakeClock
) -> None:
    device = await add_device(client, admin_headers, email="grill@kitchen.test", stations=["grill", "fry"])
    r = await sign_in(client, "grill@kitchen.test")
    assert r.status_code == 200, r.text
    body = r.json()
    session = AuthSession.model_validate(body)
    assert session.token_type == "bearer"
    assert session.expires_in == 3600 and session.expires_at == int(clock.now) + 3600
    assert session.user.id == device["id"] and session.user.email == "grill@kitchen.test"
    assert session.user.app_metadata.restaurant_id == "r1"
    assert body["user"]["created_at"] == body["user"]["updated_at"]  # what Supabase's own clients require
    assert "password" not in r.text

    claims = verify_token(JWT_SECRET, session.access_token)
    assert claims.role == "authenticated" and claims.aud == "authenticated"
    assert claims.sub == device["id"] and claims.email == "grill@kitchen.test"
    assert claims.exp == session.expires_at and claims.iat == int(clock.now)
    meta = claims.app_metadata
    assert (meta.restaurant_id, meta.device_role, meta.stations) == ("r1", "kds", ["grill", "fry"])


async def test_signed_in_token_is_accepted_by_the_intents_rpc(client: httpx.AsyncClient, admin_headers: dict) -> None:
    device = await add_device(client, admin_headers)
    session = (await sign_in(client, device["email"])).json()
    r = await client.post(
        "/rest/v1/rpc/apply_intents",
        json=intent_body(device["id"]),
        headers=auth_headers(session["access_token"]),
    )
    assert r.status_code == 200, r.text
    assert len(r.json()) == 1


async def test_email_is_matched_case_insensitively(client: httpx.AsyncClient, admin_headers: dict) -> None:
    await add_device(client, admin_headers, email="Expo@Kitchen.test")
    assert (await sign_in(client, "  expo@KITCHEN.test ")).status_code == 200


async def test_wrong_password_and_unknown_email_get_the_same_answer(
    client: httpx.AsyncClient, admin_headers: dict
) -> None:
    device = await add_device(client, admin_headers)
    wrong = await sign_in(client, device["email"], "not-the-password")
    unknown = await sign_in(client, "nobody@kitchen.test")
    assert wrong.status_code == unknown.status_code == 400
    assert wrong.json() == unknown.json() == INVALID_LOGIN


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"email": "a@b.c"},
        {"password": PASSWORD},
        {"email": 5, "password": PASSWORD},
        {"email": "not-an-email", "password": PASSWORD},
        {"email": "a\x00@b.c", "password": PASSWORD},
        {"email": "a\ud800@b.c", "password": PASSWORD},
        {"email": "a@b.c", "password": "x" * 10_000},
    ],
)
async def test_malformed_password_grants_are_invalid_credentials(client: httpx.AsyncClient, body: dict) -> None:
    # json.dumps escapes lone surrogates (\\ud800), as a hostile client may send them; httpx would refuse.
    content = json.dumps(body)
    r = await client.post("/auth/v1/token", params={"grant_type": "password"}, content=content, headers=anon())
    assert r.status_code == 400
    assert r.json() == INVALID_LOGIN


@pytest.mark.parametrize("content", [b"", b"{not json", b"[1, 2]", b"\xff\xfe", b"[" * 5000])
async def test_unparseable_bodies_are_400_bad_json(client: httpx.AsyncClient, content: bytes) -> None:
    r = await client.post("/auth/v1/token?grant_type=password", content=content, headers=anon())
    assert r.status_code == 400
    assert r.json()["error_code"] == "bad_json" and r.json()["error"] == "invalid_request"


@pytest.mark.parametrize("params", [{"grant_type": "client_credentials"}, {"grant_type": ""}, {}])
async def test_unknown_grant_type_is_unsupported(client: httpx.AsyncClient, params: dict) -> None:
    r = await client.post("/auth/v1/token", params=params, json={"email": "a@b.c"}, headers=anon())
    assert r.status_code == 400
    assert r.json()["error"] == "unsupported_grant_type"


async def test_token_endpoint_requires_the_apikey(client: httpx.AsyncClient, admin_headers: dict) -> None:
    device = await add_device(client, admin_headers)
    grant = {"email": device["email"], "password": PASSWORD}
    r = await client.post("/auth/v1/token?grant_type=password", json=grant)
    assert r.status_code == 401 and r.json()["message"] == "No API key found in request"
    forged = issue_anon_key("another-secret-another-secret-another-secret")
    r = await client.post("/auth/v1/token?grant_type=password", json=grant, headers={"apikey": forged})
    assert r.status_code == 401
    # An expired access token riding along must not stop a refresh: only the apikey is checked here.
    stale = {**anon(), "Authorization": f"Bearer {token_for('kds', ttl_s=-60)}"}
    r = await client.post("/auth/v1/token?grant_type=password", json=grant, headers=stale)
    assert r.status_code == 200


# ---------------------------------------------------------------- refresh


async def test_refresh_rotates_the_refresh_token(
    client: httpx.AsyncClient, admin_headers: dict, clock: FakeClock
) -> None:
    device = await add_device(client, admin_headers, role="expo", stations=[])
    first = (await sign_in(client, device["email"])).json()
    clock.advance(1800)
    r = await refresh(client, first["refresh_token"])
    assert r.status_code == 200, r.text
    second = r.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["expires_at"] == int(clock.now) + 3600
    claims = verify_token(JWT_SECRET, second["access_token"], leeway_s=3600)
    assert claims.sub == device["id"] and claims.app_metadata.device_role == "expo"
    third = await refresh(client, second["refresh_token"])
    assert third.status_code == 200
    assert third.json()["refresh_token"] not in (first["refresh_token"], second["refresh_token"])


async def test_reuse_within_the_interval_returns_the_same_successor(
    client: httpx.AsyncClient, admin_headers: dict, clock: FakeClock
) -> None:
    device = await add_device(client, admin_headers)
    original = (await sign_in(client, device["email"])).json()["refresh_token"]
    successor = (await refresh(client, original)).json()["refresh_token"]
    clock.advance(9.5)  # the device crashed before storing `successor` and retries
    again = await refresh(client, original)
    assert again.status_code == 200, again.text
    assert again.json()["refresh_token"] == successor
    assert verify_token(JWT_SECRET, again.json()["access_token"]).sub == device["id"]
    onwards = await refresh(client, successor)
    assert onwards.status_code == 200


async def test_reuse_after_the_interval_is_refused_and_revokes_the_family(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict, clock: FakeClock
) -> None:
    # GoTrue-strict (`KDS_REFRESH_REUSE_WINDOW=10`); the default window is in test_refresh_reuse_window.py.
    app.state.settings = dataclasses.replace(app.state.settings, refresh_reuse_window_s=GOTRUE_REUSE_INTERVAL_S)
    device = await add_device(client, admin_headers)
    original = (await sign_in(client, device["email"])).json()["refresh_token"]
    successor = (await refresh(client, original)).json()["refresh_token"]
    clock.advance(10.5)
    late = await refresh(client, original)
    assert late.status_code == 400
    assert late.json() == {
        "error": "invalid_grant",
        "error_description": "Invalid Refresh Token: Already Used",
        "code": 400,
        "error_code": "refresh_token_already_used",
        "msg": "Invalid Refresh Token: Already Used",
    }
    # As GoTrue: a stale token coming back means it leaked, so its descendants die with it.
    assert (await refresh(client, successor)).status_code == 400
    # The device itself can still sign in again.
    assert (await sign_in(client, device["email"])).status_code == 200


async def test_reuse_after_the_successor_was_used_is_refused(
    client: httpx.AsyncClient, admin_headers: dict, clock: FakeClock
) -> None:
    device = await add_device(client, admin_headers)
    original = (await sign_in(client, device["email"])).json()["refresh_token"]
    successor = (await refresh(client, original)).json()["refresh_token"]
    assert (await refresh(client, successor)).status_code == 200
    clock.advance(2)
    # The device did receive `successor` (it used it), so this is not a crash retry.
    r = await refresh(client, original)
    assert r.status_code == 400 and r.json()["error_code"] == "refresh_token_already_used"


async def test_concurrent_refreshes_of_one_token_get_the_same_successor(
    client: httpx.AsyncClient, admin_headers: dict
) -> None:
    device = await add_device(client, admin_headers)
    original = (await sign_in(client, device["email"])).json()["refresh_token"]
    first, second = await asyncio.gather(refresh(client, original), refresh(client, original))
    assert first.status_code == second.status_code == 200
    assert first.json()["refresh_token"] == second.json()["refresh_token"] != original


async def test_long_used_tokens_are_pruned(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict, clock: FakeClock
) -> None:
    device = await add_device(client, admin_headers)
    original = (await sign_in(client, device["email"])).json()["refresh_token"]
    successor = (await refresh(client, original)).json()["refresh_token"]
    clock.advance(8 * 24 * 3600)  # a week and a day later the screen refreshes again
    assert (await refresh(client, successor)).status_code == 200
    count = sa.select(sa.func.count()).select_from(refresh_tokens).where(refresh_tokens.c.device_id == device["id"])
    assert app.state.db.read(lambda c: c.execute(count).scalar_one()) == 2  # the used successor and its own
    r = await refresh(client, original)
    assert r.status_code == 400 and r.json()["error_code"] == "refresh_token_not_found"


@pytest.mark.parametrize(
    "token", ["", "x", "A" * 43, "é" * 43, "\ud800" * 43, "A" * 10_000, "token with spaces and more than 43 chars"]
)
async def test_unknown_refresh_tokens_are_refused(client: httpx.AsyncClient, token: str) -> None:
    content = json.dumps({"refresh_token": token})
    r = await client.post("/auth/v1/token", params={"grant_type": "refresh_token"}, content=content, headers=anon())
    assert r.status_code == 400
    assert r.json()["error"] in ("invalid_grant", "invalid_request")


async def test_refresh_tokens_of_a_deleted_device_stop_working(client: httpx.AsyncClient, admin_headers: dict) -> None:
    device = await add_device(client, admin_headers)
    session = (await sign_in(client, device["email"])).json()
    assert (await client.delete(f"/api/v1/devices/{device['id']}", headers=admin_headers)).status_code == 204
    r = await refresh(client, session["refresh_token"])
    assert r.status_code == 400 and r.json()["error"] == "invalid_grant"
    assert (await sign_in(client, device["email"])).json() == INVALID_LOGIN
    r = await client.get("/auth/v1/user", headers=auth_headers(session["access_token"]))
    assert r.status_code == 403 and r.json()["error_code"] == "user_not_found"


async def test_refresh_picks_up_a_changed_device(client: httpx.AsyncClient, admin_headers: dict) -> None:
    """Claims come from the device row at refresh time, not from the old token."""
    device = await add_device(client, admin_headers, email="move@kitchen.test")
    session = (await sign_in(client, "move@kitchen.test")).json()
    await client.delete(f"/api/v1/devices/{device['id']}", headers=admin_headers)
    await add_device(client, admin_headers, email="move@kitchen.test", role="expo", stations=[])
    assert (await refresh(client, session["refresh_token"])).status_code == 400
    fresh = (await sign_in(client, "move@kitchen.test")).json()
    assert verify_token(JWT_SECRET, fresh["access_token"]).app_metadata.device_role == "expo"


async def test_the_projects_own_client_signs_in_and_refreshes(
    app: FastAPI, client: httpx.AsyncClient, admin_headers: dict
) -> None:
    """The app's sign-in path, unchanged from Supabase: KdsApiClient against the companion."""
    device = await add_device(client, admin_headers)
    transport = httpx.ASGITransport(app=app)
    async with KdsApiClient("http://companion", issue_anon_key(JWT_SECRET), transport=transport) as api:
        session = await api.sign_in(device["email"], PASSWORD)
        assert verify_token(JWT_SECRET, session.access_token).sub == device["id"]
        rotated = await api.refresh(session.refresh_token)
        assert rotated.refresh_token != session.refresh_token and rotated.user.id == device["id"]
        with pytest.raises(ClientApiError) as caught:
            await api.sign_in(device["email"], "wrong-password")
        assert (caught.value.status, caught.value.code) == (400, "invalid_credentials")


# ---------------------------------------------------------------- expiry and hostile tokens


# ---------------------------------------------------------------- sign-out (GoTrue's /logout)


async def logout(client: httpx.AsyncClient, access_token: str, scope: str | None = None) -> httpx.Response:
    params = {} if scope is None else {"scope": scope}
    headers = {**anon(), "Authorization": f"Bearer {access_token}"}
    return await client.post("/auth/v1/logout", params=params, headers=headers)


async def two_sessions(client: httpx.AsyncClient, admin_headers: dict) -> tuple[dict, dict, dict]:
    """One device signed in twice (a screen and a manager's tablet, say), and another device."""
    device = await add_device(client, admin_headers, email="grill@kitchen.test")
    other = await add_device(client, admin_headers, email="expo@kitchen.test", role="expo", stations=[])
    first, second = (await sign_in(client, device["email"])).json(), (await sign_in(client, device["email"])).json()
    third = (await sign_in(client, other["email"])).json()
    assert verify_token(JWT_SECRET, first["access_token"]).session_id not in (
        None, verify_token(JWT_SECRET, second["access_token"]).session_id
    )
    return first, second, third


async def works(client: httpx.AsyncClient, session: dict) -> bool:
    r = await refresh(client, session["refresh_token"])
    assert r.status_code in (200, 400), r.text
    if r.status_code == 200:
        session["refresh_token"] = r.json()["refresh_token"]  # rotated: the next check uses the successor
    return r.status_code == 200


async def test_sign_out_revokes_every_session_of_the_device_and_nothing_else(
    client: httpx.AsyncClient, admin_headers: dict
) -> None:
    first, second, other = await two_sessions(client, admin_headers)
    assert await works(client, first)  # a session refreshed before: its successor is revoked too
    r = await logout(client, first["access_token"])  # supabase-js and supabase-py default to `global`
    assert r.status_code == 204 and r.content == b""
    refused = await refresh(client, first["refresh_token"])
    assert refused.status_code == 400 and refused.json()["error_code"] == "refresh_token_not_found"
    assert not await works(client, second)
    assert await works(client, other)
    # As on Supabase, an access token already issued stays valid until it expires.
    r = await client.get("/auth/v1/user", headers={**anon(), "Authorization": f"Bearer {first['access_token']}"})
    assert r.status_code == 200


async def test_sign_out_of_this_session_or_of_the_others(client: httpx.AsyncClient, admin_headers: dict) -> None:
    first, second, _ = await two_sessions(client, admin_headers)
    assert await works(client, second)
    assert (await logout(client, first["access_token"], "local")).status_code == 204
    assert not await works(client, first)
    assert await works(client, second)  # its chain is another sign-in, refreshed since

    third = (await sign_in(client, "grill@kitchen.test")).json()
    assert (await logout(client, third["access_token"], "others")).status_code == 204
    assert not await works(client, second)
    assert await works(client, third)


async def test_sign_out_needs_a_known_scope_the_apikey_and_a_device_token(
    client: httpx.AsyncClient, admin_headers: dict
) -> None:
    first, _, _ = await two_sessions(client, admin_headers)
    r = await logout(client, first["access_token"], "everyone")
    assert r.status_code == 400 and r.json()["error_code"] == "validation_failed", r.text
    r = await client.post("/auth/v1/logout", headers={"Authorization": f"Bearer {first['access_token']}"})
    assert r.status_code == 401
    r = await client.post("/auth/v1/logout", headers=anon())
    assert r.status_code == 401 and r.json()["error_code"] == "no_authorization"
    r = await logout(client, issue_anon_key(JWT_SECRET))
    assert r.status_code == 401
    assert await works(client, first)  # none of those signed anyone out


async def test_expired_access_token_is_401_and_refresh_recovers(
    client: httpx.AsyncClient, admin_headers: dict, clock: FakeClock
) -> None:
    device = await add_device(client, admin_headers)
    real_now = clock.now
    clock.now = real_now - 2 * 3600  # signed in two hours ago: the access token has expired
    stale = (await sign_in(client, device["email"])).json()
    r = await client.post(
        "/rest/v1/rpc/apply_intents", json=intent_body(device["id"]), headers=auth_headers(stale["access_token"])
    )
    assert r.status_code == 401 and "expired" in r.json()["message"]
    clock.now = real_now
    fresh = (await refresh(client, stale["refresh_token"])).json()
    r = await client.post(
        "/rest/v1/rpc/apply_intents", json=intent_body(device["id"]), headers=auth_headers(fresh["access_token"])
    )
    assert r.status_code == 200, r.text


def _claims_like(session: dict) -> dict:
    return jwt.decode(session["access_token"], options={"verify_signature": False})


async def test_forged_and_unsigned_tokens_are_401(client: httpx.AsyncClient, admin_headers: dict) -> None:
    device = await add_device(client, admin_headers)
    claims = _claims_like((await sign_in(client, device["email"])).json())
    forged = jwt.encode(claims, "another-secret-another-secret-another-secret", algorithm="HS256")
    unsigned = jwt.encode(claims, None, algorithm="none")
    for bad in (forged, unsigned):
        r = await client.post("/rest/v1/rpc/apply_intents", json=intent_body(device["id"]), headers=auth_headers(bad))
        assert r.status_code == 401
        r = await client.get("/auth/v1/user", headers=auth_headers(bad))
        assert r.status_code == 401 and r.json()["error_code"] == "bad_jwt"


# ---------------------------------------------------------------- GET /auth/v1/user


async def test_user_endpoint_returns_the_signed_in_device(client: httpx.AsyncClient, admin_headers: dict) -> None:
    device = await add_device(client, admin_headers, role="expo", stations=[])
    session = (await sign_in(client, device["email"])).json()
    r = await client.get("/auth/v1/user", headers=auth_headers(session["access_token"]))
    assert r.status_code == 200, r.text
    user = r.json()
    assert user["id"] == device["id"] and user["email"] == device["email"]
    assert user["aud"] == user["role"] == "authenticated"
    assert user["app_metadata"] == {"restaurant_id": "r1", "device_role": "expo", "stations": []}
    assert user == session["user"]


async def test_user_endpoint_needs_a_device_token(client: httpx.AsyncClient) -> None:
    r = await client.get("/auth/v1/user", headers=anon())
    assert r.status_code == 401 and r.json()["error_code"] == "no_authorization"
    anon_as_bearer = {**anon(), "Authorization": f"Bearer {anon()['apikey']}"}
    assert (await client.get("/auth/v1/user", headers=anon_as_bearer)).status_code == 401
    r = await client.get("/auth/v1/user", headers={"Authorization": f"Bearer {token_for('kds')}"})
    assert r.status_code == 401  # no apikey
    # A hand-issued token for a device id with no account is not a user.
    r = await client.get("/auth/v1/user", headers=auth_headers(token_for("kds")))
    assert r.status_code == 403


# ---------------------------------------------------------------- rate limiting


@pytest.fixture
async def tight_client(settings: Settings) -> AsyncIterator[tuple[httpx.AsyncClient, FakeClock]]:
    """An app whose limits are tiny, with the auth clock frozen so refills happen only when the test says."""
    application = create_app(dataclasses.replace(settings, rate_limit_per_s=1, rate_limit_burst=2))
    fake = FakeClock()
    application.state.auth_clock = fake
    async with application.router.lifespan_context(application):
        transport = httpx.ASGITransport(app=application)
        async with httpx.AsyncClient(transport=transport, base_url="http://companion") as c:
            yield c, fake


async def test_sign_in_attempts_are_rate_limited_per_ip_and_email(
    tight_client: tuple[httpx.AsyncClient, FakeClock],
) -> None:
    client, clock = tight_client
    device = await add_device(client, auth_headers(token_for("admin")))
    for _ in range(2):
        assert (await sign_in(client, device["email"], "guess-guess")).status_code == 400
    r = await sign_in(client, device["email"])  # even the right password waits: the limit comes first
    assert r.status_code == 429
    assert r.json()["error_code"] == "over_request_rate_limit"
    retry_after = int(r.headers["Retry-After"])
    assert retry_after >= 1
    # Another account from the same address has its own budget.
    assert (await sign_in(client, "someone-else@kitchen.test")).status_code == 400
    clock.advance(retry_after / 2)
    assert (await sign_in(client, device["email"])).status_code == 429
    clock.advance(retry_after / 2 + 0.001)  # Retry-After is enough (the 1 ms absorbs float rounding)
    assert (await sign_in(client, device["email"])).status_code == 200
