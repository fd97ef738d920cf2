"""The API client: the real companion in-process for the happy paths, MockTransport for failures."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from api_client.client import KdsApiClient
from api_client.errors import (
    ApiError,
    AuthError,
    ClientError,
    InvalidResponse,
    RateLimited,
    ServerError,
    TransportFailure,
    parse_retry_after,
)
from api_client.models import (
    AppMetadata,
    AuthSession,
    AuthUser,
    DeviceRole,
    Intent,
    IntentKind,
    IntentStatus,
    OrderIntake,
    OrderItemIntake,
    OrderItemsAddition,
    OrderWithItems,
)
from api_client.token_provider import SessionTokenProvider, StaticTokenProvider, TokenProvider
from kds_backend.auth.tokens import issue_anon_key
from tests.conftest import JWT_SECRET, token_for

ANON = issue_anon_key(JWT_SECRET)
BASE = "http://companion"

# ---------------------------------------------------------------- against the real companion


@pytest.fixture
async def companion(app: FastAPI) -> AsyncIterator[Callable[[str], KdsApiClient]]:
    clients: list[KdsApiClient] = []

    def make(token: str) -> KdsApiClient:
        api = KdsApiClient(BASE, ANON, StaticTokenProvider(token), transport=httpx.ASGITransport(app=app))
        clients.append(api)
        return api

    yield make
    for api in clients:
        await api.aclose()


def _intake(number: str = "A1") -> OrderIntake:
    return OrderIntake(
        number=number,
        table_label="4",
        items=[OrderItemIntake(name="Burger", category="grill"), OrderItemIntake(name="Fries", category="fryer")],
    )


async def test_health(companion: Callable[[str], KdsApiClient]) -> None:
    health = await companion(token_for("kds")).health()
    assert health["status"] == "ok" and health["schema_version"] == 1


async def test_create_order_is_idempotent(companion: Callable[[str], KdsApiClient]) -> None:
    api = companion(token_for("pos"))
    key = str(uuid.uuid4())
    order = await api.create_order(_intake(), key)
    assert isinstance(order, OrderWithItems)
    assert order.number == "A1" and order.restaurant_id == "r1" and len(order.order_items) == 2
    again = await api.create_order(_intake(), key)
    assert again == order


async def test_create_order_errors_are_typed(companion: Callable[[str], KdsApiClient]) -> None:
    key = str(uuid.uuid4())
    with pytest.raises(ApiError) as refused:
        await companion(token_for("kds")).create_order(_intake(), key)
    assert refused.value.status == 403 and refused.value.code == "42501" and not refused.value.retryable
    api = companion(token_for("pos"))
    await api.create_order(_intake("A1"), key)
    with pytest.raises(ApiError) as conflict:
        await api.create_order(_intake("A2"), key)  # same key, different order
    assert conflict.value.status == 409
    with pytest.raises(AuthError) as forged:
        await companion(token_for("pos", secret="another-secret-that-is-long-enough-0123456789")).create_order(
            _intake(), str(uuid.uuid4())
        )
    assert forged.value.status == 401 and forged.value.code == "PGRST301"


async def test_add_items_to_an_order_the_kitchen_has(companion: Callable[[str], KdsApiClient]) -> None:
    api = companion(token_for("pos"))
    order = await api.create_order(_intake(), str(uuid.uuid4()))
    more = OrderItemsAddition(items=[OrderItemIntake(name="Shake", category="cold")])
    key = str(uuid.uuid4())
    added = await api.add_items(order.id, more, key)
    assert added.id == order.id and [i.name for i in added.order_items] == ["Burger", "Fries", "Shake"]
    assert await api.add_items(order.id, more, key) == added  # a retry with the same key adds nothing
    assert len((await api.select_orders_since(0))[0].order_items) == 3
    with pytest.raises(ApiError) as unknown:
        await api.add_items(uuid.uuid4(), more, str(uuid.uuid4()))
    assert unknown.value.status == 404 and not unknown.value.retryable
    with pytest.raises(ApiError) as refused:
        await companion(token_for("kds")).add_items(order.id, more, str(uuid.uuid4()))
    assert refused.value.status == 403
    with pytest.raises(ValueError, match="idempotency_key"):
        await api.add_items(order.id, more, "")
    assert api.base_url == BASE


async def test_apply_intents_applied_then_duplicate(companion: Callable[[str], KdsApiClient]) -> None:
    order = await companion(token_for("pos")).create_order(_intake(), str(uuid.uuid4()))
    api = companion(token_for("kds", device="screen-1", stations=["grill"]))
    intent = Intent(id=uuid.uuid4(), device_id="screen-1", device_seq=1, kind=IntentKind.start, order_id=order.id)
    [first] = await api.apply_intents([intent])
    assert first.status is IntentStatus.applied and first.id == intent.id
    assert first.order is not None and first.order.version > order.version
    [again] = await api.apply_intents([intent])
    assert again.status is IntentStatus.duplicate and again.original_status is IntentStatus.applied


async def test_select_and_catch_up(app: FastAPI, companion: Callable[[str], KdsApiClient]) -> None:
    pos = companion(token_for("pos"))
    first = await pos.create_order(_intake("A1"), str(uuid.uuid4()))
    second = await pos.create_order(_intake("A2"), str(uuid.uuid4()))
    api = companion(token_for("expo"))
    rows = await api.select("orders", {"number": "eq.A2", "select": "id,number"})
    assert rows == [{"id": str(second.id), "number": "A2"}]
    caught_up = await api.select_orders_since(0)
    assert [o.id for o in caught_up] == [first.id, second.id]
    assert all(len(o.order_items) == 2 for o in caught_up)
    assert [o.id for o in await api.select_orders_since(first.change_seq, limit=1)] == [second.id]
    with pytest.raises(ApiError) as unknown:
        await api.select("no_such_table")
    assert unknown.value.status == 404


# ---------------------------------------------------------------- MockTransport: requests and failures

Handler = Callable[[httpx.Request], httpx.Response]


class Recorder:
    """A MockTransport handler answering from a script, keeping every request it saw."""

    def __init__(self, *answers: httpx.Response | Exception | Handler) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        if callable(answer):
            return answer(request)
        return answer


class CountingProvider:
    """A refresh-capable provider whose refresh hands out `fresh-<n>`."""

    def __init__(self, token: str = "stale", refresh_to: str | None = "fresh") -> None:
        self.token = token
        self.refresh_to = refresh_to
        self.refreshed_after: list[str | None] = []

    async def get_token(self) -> str | None:
        return self.token

    async def refresh(self, rejected: str | None = None) -> str | None:
        self.refreshed_after.append(rejected)
        if self.refresh_to is not None:
            self.token = self.refresh_to
        return self.refresh_to


def mock_client(handler: Recorder, provider: TokenProvider | None = None, **kwargs: Any) -> KdsApiClient:
    return KdsApiClient(
        BASE + "/", "anon-key", provider or StaticTokenProvider("tok"), transport=httpx.MockTransport(handler), **kwargs
    )


def pgrst(status: int, code: str, message: str, headers: dict[str, str] | None = None, **extra: Any) -> httpx.Response:
    body = {"code": code, "message": message, "details": None, "hint": None, **extra}
    return httpx.Response(status, json=body, headers=headers)


def _result(intent_id: uuid.UUID) -> dict[str, Any]:
    return {"id": str(intent_id), "status": "applied"}


def _intent(seq: int = 1) -> Intent:
    return Intent(id=uuid.uuid4(), device_id="screen-1", device_seq=seq, kind=IntentKind.bump_ticket)


async def test_headers_and_query_are_sent_as_supabase_expects() -> None:
    handler = Recorder(httpx.Response(200, json=[]))
    async with mock_client(handler) as api:
        assert await api.select("orders", [("change_seq", "gt.5"), ("change_seq", "lte.9"), ("select", "*")]) == []
        await api.select_orders_since(41, limit=200)
    first, catch_up = handler.requests
    assert first.headers["apikey"] == "anon-key"
    assert first.headers["authorization"] == "Bearer tok"
    assert first.headers["accept"] == "application/json"
    assert first.url.path == "/rest/v1/orders"
    assert first.url.params.get_list("change_seq") == ["gt.5", "lte.9"]
    assert dict(catch_up.url.params) == {
        "select": "*,order_items(*)",
        "change_seq": "gt.41",
        "order": "change_seq.asc",
        "limit": "200",
    }


async def test_without_a_token_the_api_key_is_the_bearer() -> None:
    handler = Recorder(httpx.Response(200, json=[]))
    async with KdsApiClient(BASE, "anon-key", transport=httpx.MockTransport(handler)) as api:
        await api.select("orders")
    assert handler.requests[0].headers["authorization"] == "Bearer anon-key"


async def test_apply_intents_and_create_order_bodies() -> None:
    intent = _intent()
    order = {
        "id": str(uuid.uuid4()),
        "number": "A1",
        "table_label": "4",
        "restaurant_id": "r1",
        "source": "pos",
        "type": "dine_in",
        "server_name": None,
        "guests": None,
        "customer_name": None,
        "notes": None,
        "priority": "normal",
        "status": "new",
        "created_at": "2026-11-21T18:00:00Z",
        "due_at": None,
        "updated_at": "2026-11-21T18:00:00Z",
        "version": 1,
        "change_seq": 3,
        "order_items": [],
    }
    handler = Recorder(httpx.Response(200, json=[_result(intent.id)]), httpx.Response(201, json=order))
    async with mock_client(handler) as api:
        [result] = await api.apply_intents([intent])
        created = await api.create_order(_intake(), "key-1")
    assert result.status is IntentStatus.applied
    rpc, intake = handler.requests
    assert rpc.method == "POST" and rpc.url.path == "/rest/v1/rpc/apply_intents"
    sent = json.loads(rpc.content)["intents"][0]
    assert sent["id"] == str(intent.id) and sent["schema_version"] == 1
    assert intake.url.path == "/api/v1/orders" and intake.headers["idempotency-key"] == "key-1"
    assert json.loads(intake.content)["items"][0]["name"] == "Burger"
    assert created.change_seq == 3


async def test_401_refreshes_once_and_resends_the_same_request() -> None:
    intent = _intent()
    handler = Recorder(pgrst(401, "PGRST303", "JWT expired"), httpx.Response(200, json=[_result(intent.id)]))
    provider = CountingProvider()
    async with mock_client(handler, provider) as api:
        [result] = await api.apply_intents([intent])
    assert result.status is IntentStatus.applied
    assert provider.refreshed_after == ["stale"]
    refused, resent = handler.requests
    assert refused.headers["authorization"] == "Bearer stale"
    assert resent.headers["authorization"] == "Bearer fresh"
    assert resent.content == refused.content and resent.url == refused.url


async def test_401_again_after_refresh_is_an_auth_error() -> None:
    handler = Recorder(pgrst(401, "PGRST301", "JWT could not be verified"))
    provider = CountingProvider()
    async with mock_client(handler, provider) as api:
        with pytest.raises(AuthError) as caught:
            await api.select("orders")
    assert caught.value.status == 401 and caught.value.code == "PGRST301" and not caught.value.retryable
    assert len(handler.requests) == 2 and provider.refreshed_after == ["stale"]


async def test_401_with_a_static_token_is_not_retried() -> None:
    handler = Recorder(pgrst(401, "PGRST303", "JWT expired"))
    async with mock_client(handler) as api:
        with pytest.raises(AuthError):
            await api.select("orders")
    assert len(handler.requests) == 1


async def test_a_refused_refresh_token_means_sign_in_again() -> None:
    class Revoked(CountingProvider):
        async def refresh(self, rejected: str | None = None) -> str | None:
            raise ApiError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")

    handler = Recorder(pgrst(401, "PGRST303", "JWT expired"))
    async with mock_client(handler, Revoked()) as api:
        with pytest.raises(AuthError) as caught:
            await api.select("orders")
    assert isinstance(caught.value.__cause__, ApiError) and caught.value.__cause__.code == "refresh_token_not_found"


async def test_an_unreachable_auth_server_during_refresh_stays_retryable() -> None:
    class Offline(CountingProvider):
        async def refresh(self, rejected: str | None = None) -> str | None:
            raise TransportFailure("down", cause=httpx.ConnectError("refused"))

    handler = Recorder(pgrst(401, "PGRST303", "JWT expired"))
    async with mock_client(handler, Offline()) as api:
        with pytest.raises(TransportFailure) as caught:
            await api.select("orders")
    assert caught.value.retryable


async def test_429_carries_retry_after() -> None:
    handler = Recorder(pgrst(429, "PGRST429", "Too many requests", headers={"Retry-After": "7"}))
    async with mock_client(handler) as api:
        with pytest.raises(RateLimited) as caught:
            await api.apply_intents([_intent()])
    assert caught.value.retry_after == 7.0 and caught.value.code == "PGRST429" and caught.value.retryable
    assert caught.value.headers["retry-after"] == "7"


def test_retry_after_parsing() -> None:
    now = time.time()
    in_30s = format_datetime(datetime.fromtimestamp(now, UTC) + timedelta(seconds=30), usegmt=True)
    assert parse_retry_after(in_30s, now=now) == pytest.approx(30, abs=1)
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT", now=now) == 0.0  # in the past: go now
    assert parse_retry_after(" 2 ") == 2.0 and parse_retry_after("0.5") == 0.5
    assert parse_retry_after("-3") == 0.0
    for junk in (None, "", "soon", "nan", "inf"):
        assert parse_retry_after(junk) is None


async def test_429_without_retry_after() -> None:
    handler = Recorder(httpx.Response(429, text="slow down"))
    async with mock_client(handler) as api:
        with pytest.raises(RateLimited) as caught:
            await api.select("orders")
    assert caught.value.retry_after is None and caught.value.message == "slow down"


async def test_503_is_a_retryable_server_error() -> None:
    handler = Recorder(
        pgrst(503, "08006", "database unavailable", headers={"Retry-After": "1"}, hint="Retry later."),
    )
    async with mock_client(handler) as api:
        with pytest.raises(ServerError) as caught:
            await api.health()
    error = caught.value
    assert error.status == 503 and error.retryable and error.retry_after == 1.0
    assert (error.code, error.message, error.hint) == ("08006", "database unavailable", "Retry later.")
    assert "authorization" in handler.requests[0].headers  # health sends the API key as bearer, no token


async def test_a_proxy_error_page_is_a_server_error() -> None:
    handler = Recorder(httpx.Response(502, text="<html><body>Bad gateway</body></html>"))
    async with mock_client(handler) as api:
        with pytest.raises(ServerError) as caught:
            await api.select("orders")
    assert caught.value.code == "HTTP502" and "Bad gateway" in caught.value.message


async def test_4xx_is_a_permanent_api_error_with_postgrest_fields() -> None:
    body = pgrst(409, "23505", "duplicate key", details="Key (id)=(42) already exists.", hint="Use another id.")
    handler = Recorder(body)
    async with mock_client(handler) as api:
        with pytest.raises(ApiError) as caught:
            await api.select("orders")
    error = caught.value
    assert type(error) is ApiError and not error.retryable
    assert (error.status, error.code, error.hint) == (409, "23505", "Use another id.")
    assert error.details == "Key (id)=(42) already exists."


@pytest.mark.parametrize(
    ("failure", "timed_out"),
    [
        (httpx.ConnectError("connection refused"), False),
        (httpx.ReadTimeout("read timed out"), True),
        (httpx.ConnectTimeout("connect timed out"), True),
        (httpx.RemoteProtocolError("peer closed connection"), False),
    ],
)
async def test_transport_failures_are_wrapped(failure: httpx.TransportError, timed_out: bool) -> None:
    handler = Recorder(failure)
    async with mock_client(handler) as api:
        with pytest.raises(TransportFailure) as caught:
            await api.apply_intents([_intent()])
    assert caught.value.cause is failure and caught.value.timed_out is timed_out and caught.value.retryable
    assert isinstance(caught.value, ClientError)


async def test_timeouts_are_configurable() -> None:
    handler = Recorder(httpx.Response(200, json=[]))
    async with mock_client(handler, timeout=httpx.Timeout(2.5, connect=1.0)) as api:
        await api.select("orders")
    assert handler.requests[0].extensions["timeout"] == {"connect": 1.0, "read": 2.5, "write": 2.5, "pool": 2.5}


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, text="<html>Sign in to the hotel Wi-Fi</html>"),
        httpx.Response(200, json={"not": "a list"}),
        httpx.Response(200, json=[{"id": "not-a-uuid", "status": "applied"}]),
        httpx.Response(200, json=[]),  # a result missing
    ],
)
async def test_answers_outside_the_contract_are_invalid_responses(response: httpx.Response) -> None:
    async with mock_client(Recorder(response)) as api:
        with pytest.raises(InvalidResponse) as caught:
            await api.apply_intents([_intent()])
    assert caught.value.retryable and caught.value.status == 200


async def test_names_that_would_change_the_path_are_refused() -> None:
    handler = Recorder(httpx.Response(200, json=[]))
    async with mock_client(handler) as api:
        for name in ("orders/../auth", "orders?x=1", "", "Orders"):
            with pytest.raises(ValueError, match="not a table"):
                await api.select(name)
        with pytest.raises(ValueError, match="idempotency_key"):
            await api.create_order(_intake(), " ")
    assert handler.requests == []


# ---------------------------------------------------------------- sign-in and refresh (GoTrue's token endpoint)


def _session(access: str = "access-1", refresh: str = "refresh-1", expires_at: int | None = None) -> dict[str, Any]:
    return {
        "access_token": access,
        "token_type": "bearer",
        "expires_in": 3600,
        "expires_at": expires_at if expires_at is not None else int(time.time()) + 3600,
        "refresh_token": refresh,
        "user": {"id": "screen-1", "email": "grill@r1.example", "app_metadata": {"restaurant_id": "r1"}},
    }


async def test_sign_in_posts_the_password_grant_without_the_device_token() -> None:
    handler = Recorder(httpx.Response(200, json=_session()))
    async with mock_client(handler, CountingProvider("old-device-token")) as api:
        session = await api.sign_in("grill@r1.example", "correct horse")
    assert isinstance(session, AuthSession) and session.access_token == "access-1"
    [request] = handler.requests
    assert request.method == "POST" and request.url.path == "/auth/v1/token"
    assert dict(request.url.params) == {"grant_type": "password"}
    assert json.loads(request.content) == {"email": "grill@r1.example", "password": "correct horse"}
    assert request.headers["apikey"] == "anon-key" and request.headers["authorization"] == "Bearer anon-key"


async def test_refresh_posts_the_refresh_grant() -> None:
    handler = Recorder(httpx.Response(200, json=_session("access-2", "refresh-2")))
    async with mock_client(handler) as api:
        session = await api.refresh("refresh-1")
    assert session.refresh_token == "refresh-2"
    [request] = handler.requests
    assert dict(request.url.params) == {"grant_type": "refresh_token"}
    assert json.loads(request.content) == {"refresh_token": "refresh-1"}


async def test_gotrue_errors_are_parsed() -> None:
    body = {"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"}
    refused = Recorder(httpx.Response(400, json={**body, "error": "invalid_grant", "error_description": "x"}))
    async with mock_client(refused, CountingProvider()) as api:
        with pytest.raises(ApiError) as caught:
            await api.sign_in("grill@r1.example", "wrong password")
    assert (caught.value.code, caught.value.message) == ("invalid_credentials", "Invalid login credentials")
    assert len(refused.requests) == 1  # a refused grant is not a 401 to refresh around
    legacy = Recorder(httpx.Response(400, json={"error": "invalid_grant", "error_description": "Bad token"}))
    async with mock_client(legacy) as api:
        with pytest.raises(ApiError) as caught:
            await api.refresh("gone")
    assert (caught.value.code, caught.value.message) == ("invalid_grant", "Bad token")


# ---------------------------------------------------------------- the session provider


def _auth_session(access: str, refresh: str, expires_at: int) -> AuthSession:
    user = AuthUser(id="screen-1", app_metadata=AppMetadata(restaurant_id="r1", device_role=DeviceRole.kds))
    return AuthSession(access_token=access, expires_in=3600, expires_at=expires_at, refresh_token=refresh, user=user)


async def test_session_provider_refreshes_ahead_of_expiry_and_reports_new_sessions() -> None:
    now = 1_000_000.0
    seen: list[AuthSession] = []
    refreshed_with: list[str] = []

    async def refresher(refresh_token: str) -> AuthSession:
        refreshed_with.append(refresh_token)
        return _auth_session("access-2", "refresh-2", int(now) + 3600)

    provider = SessionTokenProvider(
        _auth_session("access-1", "refresh-1", int(now) + 120),
        refresher,
        refresh_margin_s=60,
        on_session=seen.append,
        clock=lambda: now,
    )
    assert await provider.get_token() == "access-1"  # two minutes left: fine
    now += 61
    assert await provider.get_token() == "access-2"  # inside the margin: refreshed before it lapses
    assert refreshed_with == ["refresh-1"] and [s.refresh_token for s in seen] == ["refresh-2"]


async def test_concurrent_401s_cause_one_refresh() -> None:
    two_refused = asyncio.Event()
    refused: list[str] = []
    refreshes: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        token = request.headers["authorization"].removeprefix("Bearer ")
        if token == "access-1":
            refused.append(token)
            if len(refused) == 2:
                two_refused.set()
            return pgrst(401, "PGRST303", "JWT expired")
        return httpx.Response(200, json=[])

    async def refresher(refresh_token: str) -> AuthSession:
        # Hold the refresh until both requests were refused, so the second one must wait for this refresh.
        await two_refused.wait()
        refreshes.append(refresh_token)
        return _auth_session("access-2", "refresh-2", int(time.time()) + 3600)

    provider = SessionTokenProvider(_auth_session("access-1", "refresh-1", int(time.time()) + 3600), refresher)
    async with KdsApiClient(BASE, "anon-key", provider, transport=httpx.MockTransport(handler)) as api:
        assert await asyncio.gather(api.select("orders"), api.select("order_items")) == [[], []]
    assert refreshes == ["refresh-1"] and refused == ["access-1", "access-1"]


async def test_a_refused_refresh_ahead_of_expiry_is_an_auth_error_once_the_token_lapses() -> None:
    now = time.time()

    async def refresher(refresh_token: str) -> AuthSession:
        raise ApiError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used")

    expiring = _auth_session("access-1", "refresh-1", int(now) + 10)
    handler = Recorder(httpx.Response(200, json=[]))
    provider = SessionTokenProvider(expiring, refresher, clock=lambda: now)
    async with mock_client(handler, provider) as api:
        await api.select("orders")  # refused, but the token still works for ten seconds: it is used
        assert provider.sign_in_needed is not None
        now += 11
        with pytest.raises(AuthError) as caught:
            await api.select("orders")
    assert caught.value.code == "refresh_token_already_used" and not caught.value.retryable
    assert len(handler.requests) == 1  # nothing was sent with the lapsed token
