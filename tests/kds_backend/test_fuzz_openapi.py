"""Schema-driven fuzzing of the companion's REST surface (BRIEF section 7: malformed REST input).

Every operation in the OpenAPI document is called with generated valid and invalid input, on SQLite:

- as a caller with a real token of a role that may use it: no 5xx ever, every status and response body
  is one the document promises for that operation (so clients can rely on the spec);
- with generated headers on top (issue 17): PostgREST's Prefer, Range, Accept, Content-Type and profiles,
  apikey and Authorization of every shape, huge and odd values: still no 5xx, and a documented status;
- with a forged token: nothing but 400/401 from any protected operation;
- with the rate limit exhausted: the 429s are documented too.

The websocket's fuzz is `tests/kds_backend/hostile/test_fuzz_websocket.py`.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from kds_backend.app import create_app
from kds_backend.openapi_export import openapi_document
from kds_backend.settings import Settings
from tests.conftest import JWT_SECRET, auth_headers, token_for

# Bounded for CI (the whole module stays well under a minute); raise it locally for a deeper run:
# KDS_FUZZ_EXAMPLES=500 pytest tests/kds_backend/test_fuzz_openapi.py
MAX_EXAMPLES = int(os.environ.get("KDS_FUZZ_EXAMPLES", "30"))
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large],
)
# Refusals are cheap to generate and all alike; a few per operation are enough.
REFUSAL_SETTINGS = settings(FUZZ_SETTINGS, max_examples=max(5, MAX_EXAMPLES // 5))
ALL_CHECKS = [not_a_server_error, status_code_conformance, response_schema_conformance, content_type_conformance]
SPEC_CHECKS = [not_a_server_error, status_code_conformance]
PUBLIC = {("GET", "/health"), ("POST", "/auth/v1/token")}
FORGED = token_for("admin", secret="a-different-secret-that-is-long-enough-0123456789")

# The document the app serves, built without starting it (no database at collection time). The lazy
# `schemathesis.pytest.from_fixture` loader is not used: schemathesis 4.32 sets `Function._nodeid`, which
# pytest 9 no longer has.
schema = schemathesis.openapi.from_dict(openapi_document())


def _companion(directory: Path, rate_per_s: float, burst: int) -> FastAPI:
    settings = Settings(
        database_url=f"sqlite:///{directory / 'companion.db'}",
        jwt_secret=JWT_SECRET,
        rate_limit_per_s=rate_per_s,
        rate_limit_burst=burst,
    )
    return create_app(settings)


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    # The rate limit is not under test here; a 429 would hide what a request does.
    yield _companion(tmp_path_factory.mktemp("fuzz"), rate_per_s=1_000_000, burst=1_000_000)
    # schemathesis starts an app's lifespan on first use and keeps it for the process; end it here.
    asgi.shutdown_lifespans()


@pytest.fixture(scope="module")
def throttled_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FastAPI]:
    # One request per caller, then nothing for the rest of the run: every later call is a 429.
    yield _companion(tmp_path_factory.mktemp("throttled"), rate_per_s=1e-6, burst=1)
    asgi.shutdown_lifespans()


def headers_for(path: str, method: str) -> dict[str, str]:
    """A token of a role that may call the operation, so the fuzz reaches past the role check."""
    if path.startswith("/api/v1/orders"):
        role = "pos"
    elif path.startswith("/rest/v1/") and method in ("GET", "HEAD"):
        role = "kds"
    else:
        role = "admin"  # intents (admin may act for any device), routing, devices, table writes
    return auth_headers(token_for(role, stations=["grill"]))


@pytest.mark.slow
@schema.parametrize()
@FUZZ_SETTINGS
def test_every_operation_answers_as_documented(case: schemathesis.Case, fuzz_app: FastAPI) -> None:
    case.call_and_validate(app=fuzz_app, headers=headers_for(case.operation.path, case.method), checks=ALL_CHECKS)


@pytest.mark.slow
@schema.parametrize()
@REFUSAL_SETTINGS
def test_a_forged_token_gets_nothing(case: schemathesis.Case, fuzz_app: FastAPI) -> None:
    response = case.call_and_validate(app=fuzz_app, headers=auth_headers(FORGED), checks=SPEC_CHECKS)
    operation = (case.operation.method.upper(), case.operation.path)
    # schemathesis also probes methods the path does not have (405, checked above); those are not calls.
    if case.method.upper() == operation[0] and operation not in PUBLIC:
        # A body that is not JSON at all is refused before anyone is asked who is calling (400, or FastAPI's
        # 422 `json_invalid`); anything else must stop at the token.
        if response.status_code == 422:
            assert {d["type"] for d in response.json()["detail"]} == {"json_invalid"}, response.text
        else:
            assert response.status_code in (400, 401), response.text


@pytest.mark.slow
@schema.parametrize()
@REFUSAL_SETTINGS
def test_rate_limited_answers_are_documented(case: schemathesis.Case, throttled_app: FastAPI) -> None:
    case.call_and_validate(app=throttled_app, headers=headers_for(case.operation.path, case.method), checks=SPEC_CHECKS)


# Header values as a client or a proxy could send them: printable Latin-1 (what HTTP carries), no CR/LF/NUL.
_VALUE_TEXT = st.text(
    st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"), max_size=40
).map(str.lstrip)  # what `requests` sends: no leading whitespace
_HUGE = st.integers(1_000, 64_000).map(lambda n: "x" * n)
_JWTISH = st.tuples(*[st.text("ABCDEFabcdef0123456789-_=.", max_size=30)] * 3).map(".".join)
_TOKENS = st.one_of(
    st.just(token_for("kds", stations=["grill"])),
    st.just(token_for("admin")),
    st.just(FORGED),
    st.just(token_for("admin").rsplit(".", 1)[0] + "."),  # no signature
    _JWTISH,
    _VALUE_TEXT,
    _HUGE,
)
HEADER_VALUES: dict[str, st.SearchStrategy[str]] = {
    "Prefer": st.one_of(
        st.lists(
            st.sampled_from(
                [
                    "return=representation",
                    "return=minimal",
                    "return=headers-only",
                    "count=exact",
                    "count=planned",
                    "count=estimated",
                    "resolution=merge-duplicates",
                    "resolution=ignore-duplicates",
                    "missing=default",
                    "tx=rollback",
                    "handling=strict",
                    "max-affected=1",
                    "return=",
                    "count=",
                    "=",
                ]
            ),
            max_size=5,
        ).map(", ".join),
        _VALUE_TEXT,
        _HUGE,
    ),
    "Range": st.one_of(
        st.tuples(st.integers(-(2**70), 2**70), st.integers(-(2**70), 2**70)).map(lambda r: f"{r[0]}-{r[1]}"),
        st.integers(-(2**70), 2**70).map(lambda n: f"{n}-"),
        st.sampled_from(["-5", "-", "0-0", "items=0-9", "bytes=0-1", "a-b", "0-9,10-19"]),
        _VALUE_TEXT,
    ),
    "Range-Unit": st.sampled_from(["items", "bytes", "", "x" * 300]),
    "Accept": st.one_of(
        st.lists(
            st.sampled_from(
                [
                    "application/json",
                    "application/vnd.pgrst.object+json",
                    "application/vnd.pgrst.object+json;nulls=stripped",
                    "application/vnd.pgrst.plan+json",
                    "text/csv",
                    "application/geo+json",
                    "application/octet-stream",
                    "text/plain",
                    "*/*",
                    "*/*;q=0",
                    "application/json;q=abc",
                    "application/*",
                    "",
                ]
            ),
            max_size=4,
        ).map(", ".join),
        _VALUE_TEXT,
        _HUGE,
    ),
    "Content-Type": st.one_of(
        st.sampled_from(
            [
                "application/json",
                "application/json; charset=utf-16",
                "application/json; charset=nonsense",
                "application/vnd.pgrst.object+json",
                "application/x-www-form-urlencoded",
                "multipart/form-data; boundary=",
                "text/csv",
                "text/plain",
                "application/octet-stream",
                "",
                ";",
            ]
        ),
        _VALUE_TEXT,
    ),
    "Accept-Profile": st.one_of(st.sampled_from(["public", "kds", "auth", "pg_catalog", ""]), _VALUE_TEXT),
    "Content-Profile": st.one_of(st.sampled_from(["public", "kds", "auth", ""]), _VALUE_TEXT),
    "apikey": _TOKENS,
    "Authorization": st.one_of(
        _TOKENS.map(lambda t: f"Bearer {t}"),
        _TOKENS.map(lambda t: f"bearer  {t}"),
        st.sampled_from(["Bearer", "Bearer ", "Basic dXNlcjpwYXNz", "Token abc", "", "Bearer a b c"]),
        _VALUE_TEXT,
        _HUGE.map(lambda t: f"Bearer {t}"),
    ),
    "Idempotency-Key": st.one_of(st.uuids().map(str), _VALUE_TEXT, _HUGE),
    "X-Client-Info": st.one_of(st.just("supabase-py/2.0.0"), _VALUE_TEXT),
    "Origin": st.one_of(st.just("https://evil.example"), _VALUE_TEXT),
    "Content-Length": st.sampled_from(["0", "-1", "abc", "99999999999999999999"]),
}
FUZZED_HEADERS = st.fixed_dictionaries({}, optional=HEADER_VALUES)
"""Any subset of the headers the companion reads (and a few it must ignore), each with generated values."""


@pytest.mark.slow
@schema.parametrize()
@schema.given(fuzzed=FUZZED_HEADERS)
@REFUSAL_SETTINGS
def test_generated_headers_never_break_an_operation(
    case: schemathesis.Case, fuzzed: dict[str, str], fuzz_app: FastAPI
) -> None:
    # The role's token first (so the fuzz reaches past the role check when it leaves Authorization alone), then
    # the generated headers over it and over the case's own.
    headers = {**headers_for(case.operation.path, case.method), **fuzzed}
    # Content-Length is the transport's: a value of ours would be a different request than the body it frames.
    headers.pop("Content-Length", None)
    response = case.call(app=fuzz_app, headers=headers)
    assert response.status_code < 500, (response.status_code, headers, response.text[:500])
    if response.status_code >= 400 and response.content:
        # Refusals keep their shape: a JSON object a client can read, never an HTML page or a traceback.
        assert isinstance(response.json(), dict), response.text[:500]


# ---------------------------------------------------------------- what the fuzz found, pinned (both databases)


async def test_a_device_sequence_beyond_bigint_is_refused_not_a_500(client: httpx.AsyncClient) -> None:
    # Found by the fuzz: a device_seq past BIGINT reached the database and failed there (SQLite OverflowError,
    # PostgreSQL NumericValueOutOfRange: a 500). The contract must bound it (`le=2**63 - 1` on Intent.device_seq).
    intent = {"id": str(uuid.uuid4()), "device_id": "screen-1", "device_seq": 2**63, "kind": "fire"}
    r = await client.post(
        "/rest/v1/rpc/apply_intents", json={"intents": [intent]}, headers=auth_headers(token_for("admin"))
    )
    assert r.status_code == 422, r.text


async def test_a_body_that_is_not_json_is_a_documented_400(client: httpx.AsyncClient) -> None:
    r = await client.post(
        "/rest/v1/rpc/apply_intents",
        content=b"P\xffYj",
        headers={**auth_headers(token_for("admin")), "Content-Type": "application/json"},
    )
    assert r.status_code == 400
    assert "400" in openapi_document()["paths"]["/rest/v1/rpc/apply_intents"]["post"]["responses"]
