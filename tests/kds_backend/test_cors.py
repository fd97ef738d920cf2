"""CORS preflights and answers over plain HTTP (the browser itself: tests/kds_backend/browser).

Closed by default; `KDS_CORS_ORIGINS` opens the companion to the pages of the origins it names, for the
headers supabase-js sends and with the response headers it reads.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI

from kds_backend.app import create_app
from kds_backend.settings import Settings
from tests.conftest import JWT_SECRET, auth_headers, token_for

DASHBOARD = "https://dashboard.bistro.example"
SUPABASE_JS_HEADERS = (
    "apikey, authorization, x-client-info, content-type, prefer, range, accept-profile, content-profile, "
    "x-supabase-api-version, x-retry-count, idempotency-key"
)


def preflight(origin: str, method: str = "PATCH", headers: str = SUPABASE_JS_HEADERS) -> dict[str, str]:
    return {"Origin": origin, "Access-Control-Request-Method": method, "Access-Control-Request-Headers": headers}


@pytest.fixture
async def open_to_dashboard(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(replace(settings, cors_origins=[DASHBOARD]))
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://companion") as client:
            yield client


async def test_by_default_no_page_of_another_origin_may_call(client: httpx.AsyncClient) -> None:
    r = await client.options("/rest/v1/orders", headers=preflight(DASHBOARD))
    assert r.status_code == 400 and "access-control-allow-origin" not in r.headers
    r = await client.get("/rest/v1/orders", headers={**auth_headers(token_for("expo")), "Origin": DASHBOARD})
    assert r.status_code == 200 and "access-control-allow-origin" not in r.headers


async def test_an_allowed_origin_may_send_what_supabase_js_sends(open_to_dashboard: httpx.AsyncClient) -> None:
    for path, method in [("/rest/v1/orders", "PATCH"), ("/auth/v1/token", "POST"), ("/rest/v1/orders", "DELETE")]:
        r = await open_to_dashboard.options(path, headers=preflight(DASHBOARD, method))
        assert r.status_code == 200, r.text
        assert r.headers["access-control-allow-origin"] == DASHBOARD
        assert method in r.headers["access-control-allow-methods"]
        allowed = {h.strip().lower() for h in r.headers["access-control-allow-headers"].split(",")}
        assert {h.strip() for h in SUPABASE_JS_HEADERS.split(",")} <= allowed
        assert "access-control-allow-credentials" not in r.headers  # tokens travel in headers, never cookies

    headers = {**auth_headers(token_for("expo")), "Origin": DASHBOARD, "Prefer": "count=exact"}
    r = await open_to_dashboard.get("/rest/v1/orders", headers=headers)
    assert r.status_code == 200 and r.headers["access-control-allow-origin"] == DASHBOARD
    exposed = {h.strip().lower() for h in r.headers["access-control-expose-headers"].split(",")}
    assert {"content-range", "retry-after", "x-supabase-api-version"} <= exposed  # postgrest-js reads the count

    # A refusal is readable by the page too, so supabase-js can show why.
    r = await open_to_dashboard.get("/rest/v1/orders", headers={"Origin": DASHBOARD})
    assert r.status_code == 401 and r.headers["access-control-allow-origin"] == DASHBOARD


async def test_another_origin_is_refused_even_when_one_is_allowed(open_to_dashboard: httpx.AsyncClient) -> None:
    for origin in ["https://evil.example", "http://dashboard.bistro.example", "https://dashboard.bistro.example:8443"]:
        r = await open_to_dashboard.options("/rest/v1/orders", headers=preflight(origin))
        assert r.status_code == 400 and "access-control-allow-origin" not in r.headers, origin
        r = await open_to_dashboard.get(
            "/rest/v1/orders", headers={**auth_headers(token_for("expo")), "Origin": origin}
        )
        assert "access-control-allow-origin" not in r.headers, origin


def from_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, origins: str) -> Settings:
    monkeypatch.setenv("KDS_DATA_DIR", str(tmp_path))
    monkeypatch.setenv("KDS_JWT_SECRET", JWT_SECRET)
    monkeypatch.setenv("KDS_CORS_ORIGINS", origins)
    return Settings.from_env()


def test_the_origins_come_from_kds_cors_origins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    settings = from_env(monkeypatch, tmp_path, " https://Dashboard.bistro.example, http://127.0.0.1:5173 ")
    assert settings.cors_origins == ["https://dashboard.bistro.example", "http://127.0.0.1:5173"]
    assert from_env(monkeypatch, tmp_path, "*").cors_origins == ["*"]
    assert from_env(monkeypatch, tmp_path, "").cors_origins == []


@pytest.mark.parametrize(
    "bad",
    ["dashboard.bistro.example", "https://dashboard.bistro.example/", "https://a.example/app", "*, https://a.example"],
)
def test_an_origin_a_browser_never_sends_stops_the_server(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, bad: str
) -> None:
    with pytest.raises(ValueError, match="KDS_CORS_ORIGINS"):
        from_env(monkeypatch, tmp_path, bad)
