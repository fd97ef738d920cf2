"""The official `supabase` client (PyPI, the async client, default options) through a screen's whole session
against a real `kds-backend serve`, on SQLite and on PostgreSQL.

Sign in with a password, select orders with their items embedded, apply an intent by RPC, subscribe to
`postgres_changes`, refresh the token while subscribed, sign out (the client pushes the anon key as the
channel's token) and sign in again: the same channel must be delivering the restaurant's changes again,
and nothing of them while signed out.
"""

from __future__ import annotations

import time
import uuid
from typing import Any

import httpx
import pytest
from postgrest import APIError
from realtime import RealtimeSubscribeStates
from supabase import AsyncClient, acreate_client

from kds_backend.auth.tokens import issue_anon_key
from tests.conftest import JWT_SECRET, auth_headers, token_for
from tests.kds_backend.device_accounts import PASSWORD, add_device
from tests.kds_backend.realtime.support import Inbox, create_order, past_the_second_of, start_intent
from tests.live_server import LiveServer

pytestmark = [
    pytest.mark.slow,
    # supabase 2.34.1 hands its own postgrest client arguments (timeout, verify, proxy) that postgrest 2.34 deprecates.
    pytest.mark.filterwarnings("ignore:The '(timeout|verify|proxy)' parameter is deprecated:DeprecationWarning"),
]


async def server_has_read_our_frames(sb: AsyncClient) -> None:
    """Wait until the server has handled every frame this client sent so far.

    supabase-py pushes a new token to its channels from a task it starts on each auth event; once those tasks
    are done, a new channel's join reply can only come after the server handled the pushes (a socket's frames
    are handled in order). Without this, a write right after signing in could race the token push."""
    for task in list(sb._background_tasks):  # the auth events' `realtime.set_auth` tasks
        await task
    probe = sb.channel(f"probe-{uuid.uuid4().hex[:8]}")
    states = Inbox()
    await probe.subscribe(states)
    assert (await states.next())[0] is RealtimeSubscribeStates.SUBSCRIBED
    await sb.remove_channel(probe)


async def test_sign_in_select_rpc_subscribe_refresh_sign_out_and_in_again(live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        device = await add_device(http, auth_headers(token_for("admin")), role="expo", name="Expo screen")
        sb = await acreate_client(live_server.url, issue_anon_key(JWT_SECRET))
        auth_events = Inbox()
        sb.auth.on_auth_state_change(auth_events)
        rest_clients: list[Any] = []
        try:
            await _session(sb, http, device, auth_events, rest_clients)
        finally:
            await sb.realtime.close()
            # supabase 2.34.1 drops its REST client on every auth event without closing it: close each one used.
            for rest in rest_clients:
                await rest.aclose()
            await sb.auth.close()


async def _session(
    sb: AsyncClient, http: httpx.AsyncClient, device: dict[str, Any], auth_events: Inbox, rest_clients: list[Any]
) -> None:
    def rest(sb: AsyncClient) -> AsyncClient:
        rest_clients.append(sb.postgrest)
        return sb

    signed_in = await sb.auth.sign_in_with_password({"email": device["email"], "password": PASSWORD})
    signed_in_at = time.time()
    assert signed_in.user is not None and signed_in.user.id == device["id"]
    assert signed_in.user.app_metadata["restaurant_id"] == "r1"
    assert (await auth_events.next())[0] == "SIGNED_IN"

    await create_order(http, "r2", "B1")  # another restaurant's: never seen
    order = await create_order(http, "r1", "A1")
    selected = await rest(sb).table("orders").select("id, number, status, order_items(name, status)").execute()
    assert [(o["id"], o["number"], o["status"]) for o in selected.data] == [(order["id"], "A1", "new")]
    assert sorted(i["name"] for i in selected.data[0]["order_items"]) == ["Burger", "Fries"]

    changes, system, states = Inbox(), Inbox(), Inbox()
    channel = sb.channel("orders-feed")
    channel.on_postgres_changes("*", changes, table="orders", schema="public")
    channel.on_system(system)
    await channel.subscribe(states)
    assert (await states.next())[0] is RealtimeSubscribeStates.SUBSCRIBED
    assert (await system.next()).message == "Subscribed to PostgreSQL"

    intent = start_intent(device["id"], order["id"])
    applied = await rest(sb).rpc("apply_intents", {"intents": [intent]}).execute()
    assert applied.data[0]["status"] == "applied"
    started = (await changes.next())["data"]
    assert started["type"] == "UPDATE" and started["record"]["status"] == "in_progress"
    assert started["old_record"]["status"] == "new"  # the whole previous row (replica identity full)

    # Token refresh while subscribed: the client pushes the new token to the channel, which keeps delivering.
    old_token = signed_in.session.access_token if signed_in.session else None
    await past_the_second_of(signed_in_at)
    refreshed = await sb.auth.refresh_session()
    assert refreshed.session is not None and refreshed.session.access_token != old_token
    assert (await auth_events.next())[0] == "TOKEN_REFRESHED"
    await server_has_read_our_frames(sb)
    second = await create_order(http, "r1", "A2")
    inserted = (await changes.next())["data"]
    assert (inserted["type"], inserted["record"]["id"]) == ("INSERT", second["id"])

    # Sign out: the client pushes the anon key as the channel's token. The channel stays (no error, no close)
    # and sees nothing of the restaurant, as on Supabase where RLS hides every row from anon.
    await sb.auth.sign_out()
    assert (await auth_events.next())[0] == "SIGNED_OUT"
    await server_has_read_our_frames(sb)
    unseen = await create_order(http, "r1", "A3")
    with pytest.raises(APIError) as refused:  # anon may not read orders (the migration grants it nothing)
        await rest(sb).table("orders").select("id").execute()
    assert refused.value.code == "42501"

    await sb.auth.sign_in_with_password({"email": device["email"], "password": PASSWORD})
    assert (await auth_events.next())[0] == "SIGNED_IN"
    await server_has_read_our_frames(sb)
    third = await create_order(http, "r1", "A4")
    # The next change on the channel is A4's: A3's, written while signed out, never came.
    after = (await changes.next())["data"]
    assert (after["type"], after["record"]["id"]) == ("INSERT", third["id"]) != ("INSERT", unseen["id"])
    assert states.queue.empty() and channel.is_joined  # never errored, closed or rejoined
    await sb.auth.sign_out()
