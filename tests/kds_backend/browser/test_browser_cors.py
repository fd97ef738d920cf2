"""A manager's dashboard in a real browser: headless Chromium loads a page that uses supabase-js (the pinned
npm bundle, served from a loopback origin of its own) against `kds-backend serve` with `KDS_CORS_ORIGINS`.

A page of the allowed origin signs in, selects orders with their items and receives a realtime change; the same
page served from another origin gets nothing: Chromium blocks its requests once the preflight is refused.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import AsyncIterator, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest

from kds_backend.auth.tokens import issue_anon_key
from tests.conftest import JWT_SECRET, auth_headers, token_for
from tests.kds_backend.browser.chromium import Chromium, Page, find_chromium
from tests.kds_backend.device_accounts import PASSWORD, add_device
from tests.kds_backend.realtime.support import create_order
from tests.live_server import LiveServer, serving_sqlite
from tests.npm_packages import npm_installed

pytestmark = pytest.mark.slow

JS_DIR = Path(__file__).parents[1] / "realtime" / "js"
"""supabase-js is pinned there beside realtime-js (one install for every JavaScript client test)."""
PAGE = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>KDS dashboard</title><script src="/supabase.js"></script></head>
<body><p>dashboard</p></body></html>
"""


@pytest.fixture(scope="session")
def supabase_js() -> Path:
    """The browser bundle of the pinned @supabase/supabase-js."""
    npm_installed(JS_DIR)
    return JS_DIR / "node_modules" / "@supabase" / "supabase-js" / "dist" / "umd" / "supabase.js"


@pytest.fixture(scope="session")
def chromium_binary() -> str:
    binary = find_chromium()
    if binary is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is required on CI (./scripts/setup installs Debian's package)")
        pytest.skip("Chromium is not installed (apt-get install chromium, or set KDS_CHROMIUM to its binary)")
    return binary


def serve_page(bundle: Path) -> Iterator[str]:
    """The dashboard page and the supabase-js bundle on a loopback port of their own: an origin."""
    script = bundle.read_bytes()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body, kind = {"/": (PAGE, "text/html"), "/supabase.js": (script, "text/javascript")}.get(
                self.path, (b"not found", "text/plain")
            )
            self.send_response(200 if body != b"not found" else 404)
            self.send_header("Content-Type", f"{kind}; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def allowed_origin(supabase_js: Path) -> Iterator[str]:
    yield from serve_page(supabase_js)


@pytest.fixture
def other_origin(supabase_js: Path) -> Iterator[str]:
    yield from serve_page(supabase_js)


@pytest.fixture
def companion(tmp_path: Path, allowed_origin: str) -> Iterator[LiveServer]:
    """SQLite only: CORS is the HTTP layer's, whatever the database."""
    yield from serving_sqlite(tmp_path, {"KDS_CORS_ORIGINS": allowed_origin})


@pytest.fixture
async def browser(chromium_binary: str, tmp_path: Path) -> AsyncIterator[Chromium]:
    async with Chromium.start(chromium_binary, tmp_path / "chromium-profile") as chromium:
        yield chromium


def call(function: str, *args: Any) -> str:
    """A JS expression: the async function applied to JSON arguments."""
    return f"({function})(...{json.dumps(list(args))})"


SIGN_IN = """async (url, anonKey, email, password) => {
    window.sb = supabase.createClient(url, anonKey);
    const { data, error } = await window.sb.auth.signInWithPassword({ email, password });
    return { user: data.user && data.user.email, error: error && `${error.name}: ${error.message}` };
}"""

# postgrest-js retries a failed read three times with back-off (18 s); once is enough to see it blocked.
ANON_CLIENT = (
    """async (url, anonKey) => { window.sb = supabase.createClient(url, anonKey, { db: { retry: false } }); }"""
)

SELECT = """async () => {
    const { data, error } = await window.sb.from("orders").select("number, order_items(name)").order("number");
    return { data, error: error && error.message };
}"""

SUBSCRIBE = """async () => {
    window.changes = [];
    window.changeArrived = null;
    const live = await new Promise((resolve) => {
        let subscribed = false, cdc = false;
        window.sb.channel("dashboard")
            .on("postgres_changes", { event: "INSERT", schema: "public", table: "orders" }, (change) => {
                window.changes.push({ eventType: change.eventType, number: change.new.number });
                if (window.changeArrived) window.changeArrived();
            })
            .on("system", {}, (p) => {
                if (p.message === "Subscribed to PostgreSQL") cdc = true;
                if (subscribed && cdc) resolve("live");
            })
            .subscribe((status, err) => {
                if (status === "SUBSCRIBED") { subscribed = true; if (cdc) resolve("live"); }
                else resolve(`${status}: ${err && err.message}`);
            });
    });
    return live;
}"""

NEXT_CHANGE = """async () => {
    if (window.changes.length === 0) await new Promise((resolve) => { window.changeArrived = resolve; });
    return window.changes.shift();
}"""


async def open_dashboard(browser: Chromium, origin: str) -> Page:
    page = await browser.new_page()
    await page.goto(f"{origin}/")
    assert await page.evaluate("typeof supabase.createClient") == "function"
    return page


async def test_a_page_of_the_allowed_origin_uses_the_companion_and_another_origin_is_blocked(
    browser: Chromium, companion: LiveServer, allowed_origin: str, other_origin: str
) -> None:
    anon_key = issue_anon_key(JWT_SECRET)
    email = f"manager-{uuid.uuid4().hex[:8]}@kitchen.test"
    async with httpx.AsyncClient(base_url=companion.url, timeout=30) as http:
        await add_device(http, auth_headers(token_for("admin")), email=email, role="expo", stations=[], name="Office")
        await create_order(http, "r1", "A1")

        dashboard = await open_dashboard(browser, allowed_origin)
        signed_in = await dashboard.evaluate(call(SIGN_IN, companion.url, anon_key, email, PASSWORD))
        assert signed_in == {"user": email, "error": None}
        selected = await dashboard.evaluate(call(SELECT))
        assert selected == {
            "data": [{"number": "A1", "order_items": [{"name": "Burger"}, {"name": "Fries"}]}],
            "error": None,
        }
        assert await dashboard.evaluate(call(SUBSCRIBE)) == "live"
        await create_order(http, "r1", "A2")
        assert await dashboard.evaluate(call(NEXT_CHANGE)) == {"eventType": "INSERT", "number": "A2"}

        # The same page from an origin the companion was not told about: the browser lets it read nothing.
        elsewhere = await open_dashboard(browser, other_origin)
        refused = await elsewhere.evaluate(call(SIGN_IN, companion.url, anon_key, email, PASSWORD))
        assert refused["user"] is None and "Failed to fetch" in refused["error"], refused
        await elsewhere.evaluate(call(ANON_CLIENT, companion.url, anon_key))
        blocked = await elsewhere.evaluate(call(SELECT))
        assert blocked["data"] is None and "Failed to fetch" in blocked["error"], blocked
        blocked_by_cors = [line for line in elsewhere.console if "blocked by CORS policy" in line]
        assert blocked_by_cors and all(other_origin in line for line in blocked_by_cors), elsewhere.console
        assert not [line for line in dashboard.console if "CORS" in line], dashboard.console
