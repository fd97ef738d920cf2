"""An async client for the Supabase-dialect API, against the companion or a Supabase project alike.

One long-lived `httpx.AsyncClient` carries every request (connection reuse matters on a kitchen LAN and
for catch-up bursts); tests inject its transport (`httpx.ASGITransport(app=...)`, `httpx.MockTransport`).
Every request sends the project's `apikey` and `Authorization: Bearer <token>` from a token provider;
a 401 makes the provider refresh once and the request is resent once. Failures are raised as the typed
errors of `api_client.errors`, which is how the sync engine decides between retry, wait and give up.

    async with KdsApiClient("http://kitchen-server:8000", anon_key, StaticTokenProvider(token)) as api:
        orders = await api.select_orders_since(change_seq=0, limit=500)
        results = await api.apply_intents(pending)
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from typing import Any, TypeVar
from uuid import UUID

import httpx
from pydantic import BaseModel, TypeAdapter, ValidationError

from .errors import ApiError, AuthError, InvalidResponse, TransportFailure, error_from_response
from .late_rejection import LateRejection
from .models import (
    ApplyIntentsRequest,
    AuthSession,
    Intent,
    IntentResult,
    OrderIntake,
    OrderItemsAddition,
    OrderWithItems,
)
from .token_provider import TokenProvider

__all__ = ["DEFAULT_TIMEOUT", "KdsApiClient", "QueryParams"]

log = logging.getLogger(__name__)

DEFAULT_TIMEOUT = httpx.Timeout(10.0, connect=5.0)
"""Connect fails fast (the offline banner must show within seconds); reads allow a large catch-up page."""

QueryParams = Mapping[str, str | int] | Sequence[tuple[str, str | int]]
"""PostgREST query parameters, passed through as given; a sequence allows repeated keys."""

_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]{0,62}")
_LATE_REJECTIONS = TypeAdapter(list[LateRejection])
_RESULTS = TypeAdapter(list[IntentResult])
_ORDERS = TypeAdapter(list[OrderWithItems])
T = TypeVar("T")
ModelT = TypeVar("ModelT", bound=BaseModel)


class KdsApiClient:
    """The REST, RPC, intake and auth calls the KDS makes. Use as an async context manager or `aclose()`.

    **Parameters:**

    * **base_url** - the companion's URL (`http://host:8000`) or the Supabase project URL.
    * **anon_key** - the project's public API key, sent as `apikey` on every request.
    * **token_provider** - where the bearer token comes from; None sends the API key as the bearer
      (anonymous, as the Supabase clients do before sign-in). Settable later, e.g. after `sign_in`.
    * **timeout** - seconds, or an `httpx.Timeout`.
    * **transport** - an httpx transport to use instead of the network (tests, in-process companion).
    """

    def __init__(
        self,
        base_url: str,
        anon_key: str,
        token_provider: TokenProvider | None = None,
        *,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.anon_key = anon_key
        self.token_provider = token_provider
        self._http = httpx.AsyncClient(
            base_url=base_url.rstrip("/"),
            headers={"apikey": anon_key, "Accept": "application/json"},
            timeout=timeout,
            transport=transport,
        )

    async def __aenter__(self) -> KdsApiClient:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._http.aclose()

    @property
    def base_url(self) -> str:
        """The server every path is relative to, as given (without a trailing slash)."""
        return str(self._http.base_url).rstrip("/")

    # ------------------------------------------------------------ Data API (PostgREST)

    async def select(self, table: str, params: QueryParams | None = None) -> list[dict[str, Any]]:
        """`GET /rest/v1/<table>` with PostgREST filters as given (`{"status": "eq.new", "select": "*"}`)."""
        response = await self._request("GET", f"/rest/v1/{_identifier(table)}", params=params)
        rows = _json(response)
        if not isinstance(rows, list) or not all(isinstance(row, dict) for row in rows):
            raise InvalidResponse(f"expected a JSON array of rows from {table}", status=response.status_code)
        return rows

    async def select_orders_since(self, change_seq: int, limit: int = 500) -> list[OrderWithItems]:
        """Orders (with their items) changed after `change_seq`, oldest change first: one catch-up page."""
        params: dict[str, str | int] = {
            "select": "*,order_items(*)",
            "change_seq": f"gt.{int(change_seq)}",
            "order": "change_seq.asc",
            "limit": int(limit),
        }
        response = await self._request("GET", "/rest/v1/orders", params=params)
        return _adapted(_ORDERS, response)

    async def rpc(self, function: str, args: Mapping[str, Any]) -> Any:
        """`POST /rest/v1/rpc/<function>` with named arguments; the decoded JSON answer."""
        response = await self._request("POST", f"/rest/v1/rpc/{_identifier(function)}", json=args)
        return _json(response)

    async def apply_intents(self, intents: Sequence[Intent]) -> list[IntentResult]:
        """Send intents (in device order) to the idempotent RPC; one result per intent, in the same order."""
        # The full dump keeps `schema_version` on the wire: a newer server must not assume its own default.
        body = ApplyIntentsRequest(intents=list(intents)).model_dump(mode="json")
        response = await self._request("POST", "/rest/v1/rpc/apply_intents", json=body)
        results = _adapted(_RESULTS, response)
        if [r.id for r in results] != [i.id for i in intents]:
            # The outbox pairs results with intents by position; a mismatch must not mark the wrong one done.
            raise InvalidResponse("apply_intents answered for different intents", status=response.status_code)
        return results

    async def late_rejections(self, after: int) -> list[LateRejection]:
        """This device's intents a hub applied and its upstream refused later, after `after` (see
        `api_client.late_rejection`). 404 from a server that has no such function (Supabase)."""
        response = await self._request("POST", "/rest/v1/rpc/late_rejections", json={"after": after})
        return _adapted(_LATE_REJECTIONS, response)

    async def insert_rows(self, table: str, rows: Sequence[Mapping[str, Any]]) -> None:
        """`POST /rest/v1/<table>` (a POS or admin device): all rows or none; 409 (23505) if one's id exists."""
        await self._request("POST", f"/rest/v1/{table}", json=list(rows), headers={"Prefer": "return=minimal"})

    async def update_rows(self, table: str, ids: Sequence[UUID], values: Mapping[str, Any]) -> dict[UUID, int]:
        """`PATCH /rest/v1/<table>?id=in.(...)` with `values` (a POS or admin device). Returns the `change_seq`
        each updated row has now (a row the filter no longer matches is not in it)."""
        params = {"id": f"in.({','.join(str(i) for i in ids)})", "select": "id,change_seq"}
        response = await self._request(
            "PATCH",
            f"/rest/v1/{table}",
            params=params,
            json=dict(values),
            headers={"Prefer": "return=representation"},
        )
        rows = _json(response)
        try:
            return {UUID(str(r["id"])): int(r["change_seq"]) for r in rows}
        except (KeyError, TypeError, ValueError) as exc:
            raise InvalidResponse(
                f"expected the updated rows' id and change_seq from {table}", status=response.status_code
            ) from exc

    # ------------------------------------------------------------ companion extras

    async def create_order(self, intake: OrderIntake, idempotency_key: str) -> OrderWithItems:
        """`POST /api/v1/orders` (companion POS intake). Retries must reuse the same `idempotency_key`."""
        response = await self._request(
            "POST",
            "/api/v1/orders",
            json=intake.model_dump(mode="json"),
            headers={"Idempotency-Key": _idempotency_key(idempotency_key)},
        )
        return _model(OrderWithItems, response)

    async def add_items(self, order_id: UUID, addition: OrderItemsAddition, idempotency_key: str) -> OrderWithItems:
        """`POST /api/v1/orders/{order_id}/items` (companion POS intake): a table orders more after its ticket
        went to the kitchen. Retries must reuse the same `idempotency_key`. 404 for an order this restaurant does
        not have; 409 for one that can take no more (served, or the key was used for something else)."""
        response = await self._request(
            "POST",
            f"/api/v1/orders/{UUID(str(order_id))}/items",
            json=addition.model_dump(mode="json"),
            headers={"Idempotency-Key": _idempotency_key(idempotency_key)},
        )
        return _model(OrderWithItems, response)

    async def health(self) -> dict[str, Any]:
        """`GET /health` on the companion: `{"status": "ok", ...}`; a ServerError (503) when its database is down."""
        response = await self._request("GET", "/health", authenticated=False)
        body = _json(response)
        if not isinstance(body, dict):
            raise InvalidResponse("expected a JSON object from /health", status=response.status_code)
        return body

    # ------------------------------------------------------------ auth (GoTrue's token endpoint)

    async def sign_in(self, email: str, password: str) -> AuthSession:
        """`POST /auth/v1/token?grant_type=password`: a device signs in with its credentials."""
        return await self._token_grant("password", {"email": email, "password": password})

    async def refresh(self, refresh_token: str) -> AuthSession:
        """`POST /auth/v1/token?grant_type=refresh_token`: a new session for a (rotating) refresh token."""
        return await self._token_grant("refresh_token", {"refresh_token": refresh_token})

    async def _token_grant(self, grant_type: str, body: dict[str, str]) -> AuthSession:
        # Token grants authenticate with the API key only; a stale session token must not be sent (or refreshed).
        response = await self._request(
            "POST", "/auth/v1/token", params={"grant_type": grant_type}, json=body, authenticated=False
        )
        return _model(AuthSession, response)

    # ------------------------------------------------------------ plumbing

    async def _request(
        self,
        method: str,
        path: str,
        *,
        params: QueryParams | None = None,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        authenticated: bool = True,
    ) -> httpx.Response:
        provider = self.token_provider if authenticated else None
        token = await _current_token(provider) if provider is not None else None
        response = await self._send(method, path, params, json, headers, token)
        if response.status_code == 401 and provider is not None:
            # A 401 is answered before anything is applied, so resending even a POST cannot apply it twice.
            token = await self._refreshed(provider, token, response)
            response = await self._send(method, path, params, json, headers, token)
        if response.is_error:
            raise error_from_response(response)
        return response

    async def _refreshed(self, provider: TokenProvider, rejected: str | None, response: httpx.Response) -> str:
        refused = error_from_response(response)
        try:
            token = await provider.refresh(rejected)
        except ApiError as exc:
            if exc.retryable:
                raise  # the auth server is down or busy: retry later, the session may still be good
            raise refused from exc  # the refresh token itself was refused: sign in again
        if token is None:
            raise refused
        return token

    async def _send(
        self,
        method: str,
        path: str,
        params: QueryParams | None,
        json: Any,
        headers: Mapping[str, str] | None,
        token: str | None,
    ) -> httpx.Response:
        request_headers = {"Authorization": f"Bearer {token or self.anon_key}", **(headers or {})}
        query = None
        if params is not None:
            query = httpx.QueryParams(params if isinstance(params, Mapping) else list(params))
        try:
            response = await self._http.request(method, path, params=query, json=json, headers=request_headers)
        except httpx.RequestError as exc:  # transport errors, plus a body that cannot be decoded
            raise TransportFailure(f"{method} {path}: {type(exc).__name__}: {exc}", cause=exc) from exc
        log.debug("%s %s -> %d", method, path, response.status_code)
        return response


async def _current_token(provider: TokenProvider) -> str | None:
    try:
        return await provider.get_token()
    except ApiError as exc:
        if exc.retryable:
            raise
        # A refresh ahead of expiry was refused (revoked or reused refresh token): the device must sign in again.
        raise AuthError(exc.status, exc.code, exc.message, exc.details, exc.hint, exc.headers) from exc


def _idempotency_key(key: str) -> str:
    if not key.strip():
        raise ValueError("idempotency_key must not be empty")
    return key


def _identifier(name: str) -> str:
    # Table and function names go into the URL path; refuse anything that could change the path.
    if not _IDENTIFIER.fullmatch(name):
        raise ValueError(f"not a table or function name: {name!r}")
    return name


def _json(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError are both ValueErrors
        raise InvalidResponse(
            f"expected JSON, got {response.headers.get('content-type', 'no content type')}",
            status=response.status_code,
        ) from exc


def _model(model: type[ModelT], response: httpx.Response) -> ModelT:
    data = _json(response)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _off_contract(exc, response) from exc


def _adapted(adapter: TypeAdapter[T], response: httpx.Response) -> T:
    data = _json(response)
    try:
        return adapter.validate_python(data)
    except ValidationError as exc:
        raise _off_contract(exc, response) from exc


def _off_contract(exc: ValidationError, response: httpx.Response) -> InvalidResponse:
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return InvalidResponse(
        f"response does not match the contract ({exc.error_count()} error(s); {where}: {first['msg']})",
        status=response.status_code,
    )
