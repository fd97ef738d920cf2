"""The official supabase-js in a real browser through a whole session (issue 17's Done-when, the Chromium leg of
what test_official_supabase_js.py does under Node): headless Chromium loads a page of an allowed origin using the
pinned bundle with its default options (the browser's own WebSocket and fetch), and it signs in, selects orders
with their items embedded, applies an intent by RPC, subscribes to `postgres_changes`, refreshes its token while
subscribed, signs out (the client pushes the anon key as the channel's token) and signs in again, with the same
channel delivering the restaurant's changes again and none of those written while signed out.
"""

from __future__ import annotations

import time

import httpx
import pytest

from kds_backend.auth.tokens import issue_anon_key
from tests.helpers.tokens import JWT_SECRET, auth_headers, token_for
from tests.kds_backend.browser import test_browser_cors as cors
from tests.kds_backend.browser.chromium import Chromium
from tests.kds_backend.device_accounts import PASSWORD, add_device
from tests.kds_backend.realtime.support import create_order, past_the_second_of, start_intent
from tests.live_server import LiveServer

pytestmark = pytest.mark.slow

# The bundle, the browser, the page's origin and the companion allowing it, as the CORS test has them.
supabase_js = cors.supabase_js
chromium_binary = cors.chromium_binary
browser = cors.browser
allowed_origin = cors.allowed_origin
companion = cors.companion


SESSION = """async (url, anonKey) => {
    // Every auth event, channel status and change, in order, for the test to take one at a time.
    window.events = { auth: [], status: [], change: [] };
    window.waiters = { auth: [], status: [], change: [] };
    window.emit = (kind, value) => {
        const waiter = window.waiters[kind].shift();
        if (waiter) waiter(value); else window.events[kind].push(value);
    };
    window.next = (kind) => window.events[kind].length
        ? Promise.resolve(window.events[kind].shift())
        : new Promise((resolve) => window.waiters[kind].push(resolve));
    window.sb = supabase.createClient(url, anonKey);
    window.sb.auth.onAuthStateChange((event) => { if (event !== "INITIAL_SESSION") window.emit("auth", event); });
    window.probes = 0;
    // Resolves once the server has handled every frame sent on the socket so far (a new channel's join reply
    // comes after them); setAuth() first sends the session's token if the client has not yet.
    window.settled = async () => {
        await window.sb.realtime.setAuth();
        const probe = window.sb.channel(`probe-${++window.probes}`);
        await new Promise((resolve, reject) => probe.subscribe(
            (status, err) => status === "SUBSCRIBED" ? resolve() : reject(err || new Error(status))));
        await window.sb.removeChannel(probe);
        return window.channel.state;
    };
}"""

SIGN_IN = """async (email, password) => {
    const { data, error } = await window.sb.auth.signInWithPassword({ email, password });
    return { id: data.user && data.user.id, restaurant: data.user && data.user.app_metadata.restaurant_id,
             error: error && error.message, event: await window.next("auth") };
}"""

SELECT = """async () => {
    const { data, error } = await window.sb.from("orders").select("id, number, status, order_items(name)");
    return { data, error: error && { code: error.code, message: error.message } };
}"""

RPC = """async (intents) => {
    const { data, error } = await window.sb.rpc("apply_intents", { intents });
    return { data, error: error && error.message };
}"""

SUBSCRIBE = """async () => {
    window.channel = window.sb.channel("orders-feed")
        .on("postgres_changes", { event: "*", schema: "public", table: "orders" }, (p) => window.emit("change", {
            eventType: p.eventType, id: p.new && p.new.id, status: p.new && p.new.status,
            oldStatus: p.old && p.old.status }))
        .on("system", {}, (p) => { if (p.message === "Subscribed to PostgreSQL") window.emit("status", "CDC"); })
        .subscribe((status) => window.emit("status", status));
    return [await window.next("status"), await window.next("status")];
}"""

REFRESH = """async () => {
    const before = (await window.sb.auth.getSession()).data.session.access_token;
    const { data, error } = await window.sb.auth.refreshSession();
    return { changed: Boolean(data.session) && data.session.access_token !== before, error: error && error.message,
             event: await window.next("auth"), joined: await window.settled() };
}"""

SIGN_OUT = """async () => {
    const { error } = await window.sb.auth.signOut();
    return { error: error && error.message, event: await window.next("auth"), joined: await window.settled() };
}"""


async def test_sign_in_select_rpc_subscribe_refresh_sign_out_and_in_again_in_chromium(
    browser: Chromium, companion: LiveServer, allowed_origin: str
) -> None:
    call = cors.call
    async with httpx.AsyncClient(base_url=companion.url, timeout=30) as http:
        device = await add_device(http, auth_headers(token_for("admin")), role="expo", name="Pass screen")
        await create_order(http, "r2", "B1")  # another restaurant's: never seen
        order = await create_order(http, "r1", "A1")

        page = await cors.open_dashboard(browser, allowed_origin)
        await page.evaluate(call(SESSION, companion.url, issue_anon_key(JWT_SECRET)))
        signed_in = await page.evaluate(call(SIGN_IN, device["email"], PASSWORD))
        assert signed_in == {"id": device["id"], "restaurant": "r1", "error": None, "event": "SIGNED_IN"}
        signed_in_at = time.time()

        selected = await page.evaluate(call(SELECT))
        assert selected["error"] is None
        assert [(o["id"], o["number"], o["status"]) for o in selected["data"]] == [(order["id"], "A1", "new")]
        assert sorted(i["name"] for i in selected["data"][0]["order_items"]) == ["Burger", "Fries"]

        assert await page.evaluate(call(SUBSCRIBE)) == ["SUBSCRIBED", "CDC"]
        applied = await page.evaluate(call(RPC, [start_intent(device["id"], order["id"])]))
        assert applied["error"] is None and applied["data"][0]["status"] == "applied"
        started = await page.evaluate("window.next('change')")
        assert started == {"eventType": "UPDATE", "id": order["id"], "status": "in_progress", "oldStatus": "new"}

        # Token refresh while subscribed: the client pushes the new token to the channel, which keeps delivering.
        await past_the_second_of(signed_in_at)
        refreshed = await page.evaluate(call(REFRESH))
        assert refreshed == {"changed": True, "error": None, "event": "TOKEN_REFRESHED", "joined": "joined"}
        second = await create_order(http, "r1", "A2")
        inserted = await page.evaluate("window.next('change')")
        assert (inserted["eventType"], inserted["id"]) == ("INSERT", second["id"])

        # Sign out: the anon key becomes the channel's token; it stays joined and sees nothing of the restaurant.
        assert await page.evaluate(call(SIGN_OUT)) == {"error": None, "event": "SIGNED_OUT", "joined": "joined"}
        unseen = await create_order(http, "r1", "A3")
        refused = await page.evaluate(call(SELECT))  # anon may not read orders
        assert refused["data"] is None and refused["error"]["code"] == "42501", refused

        again = await page.evaluate(call(SIGN_IN, device["email"], PASSWORD))
        assert again["error"] is None and again["event"] == "SIGNED_IN"
        assert await page.evaluate("window.settled()") == "joined"
        third = await create_order(http, "r1", "A4")
        # The next change on the channel is A4's: A3's, written while signed out, never came.
        after = await page.evaluate("window.next('change')")
        assert (after["eventType"], after["id"]) == ("INSERT", third["id"]) != ("INSERT", unseen["id"])
        assert await page.evaluate("window.events.status") == []  # never errored, closed or rejoined
