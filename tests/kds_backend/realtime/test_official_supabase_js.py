"""The official `@supabase/supabase-js` (pinned in js/package.json, default options, under Node) through a
screen's whole session against a real `kds-backend serve`, on SQLite and on PostgreSQL.

Node runs `js/supabase_flow.mjs`, which answers one command per line: sign in with a password, select orders
with their items embedded, apply an intent by RPC, subscribe to `postgres_changes`, refresh the token while
subscribed, sign out (the client pushes the anon key as the channel's token) and sign in again. The same
channel must deliver the restaurant's changes again, and none of them while signed out.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from kds_backend.auth.tokens import issue_anon_key
from tests.conftest import JWT_SECRET, auth_headers, token_for
from tests.kds_backend.device_accounts import PASSWORD, add_device
from tests.kds_backend.realtime.support import (
    TIMEOUT_S,
    NodeSubscriber,
    create_order,
    past_the_second_of,
    start_intent,
)
from tests.live_server import LiveServer
from tests.npm_packages import npm_installed

pytestmark = pytest.mark.slow

JS_DIR = Path(__file__).parent / "js"


class Flow:
    def __init__(self, node: NodeSubscriber) -> None:
        self.node = node

    async def do(self, cmd: str, **args: Any) -> dict[str, Any]:
        """Run one command of supabase_flow.mjs and return its answer."""
        await self.node.send(json.dumps({"cmd": cmd, **args}))
        answer = await self.node.next(cmd)
        assert "thrown" not in answer, answer
        return answer

    async def auth_event(self) -> str:
        """The next auth event after the one supabase-js reports on subscribing (INITIAL_SESSION, no session)."""
        event = str((await self.node.next("auth"))["event"])
        return str((await self.node.next("auth"))["event"]) if event == "INITIAL_SESSION" else event

    async def change(self) -> dict[str, Any]:
        """The next `postgres_changes` payload, as supabase-js hands it over (`eventType`, `new`, `old`)."""
        return dict((await self.node.next("change"))["payload"])


@pytest.fixture
async def flow(live_server: LiveServer) -> AsyncIterator[Flow]:
    node = npm_installed(JS_DIR)
    proc = await asyncio.create_subprocess_exec(
        str(node),
        "supabase_flow.mjs",
        live_server.url,
        issue_anon_key(JWT_SECRET),
        cwd=JS_DIR,
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
    )
    node_process = NodeSubscriber(proc)
    try:
        yield Flow(node_process)
    finally:
        node_process.reader.cancel()
        if proc.returncode is None:
            proc.kill()
        await proc.wait()


async def test_sign_in_select_rpc_subscribe_refresh_sign_out_and_in_again(flow: Flow, live_server: LiveServer) -> None:
    async with httpx.AsyncClient(base_url=live_server.url) as http:
        device = await add_device(http, auth_headers(token_for("admin")), role="expo", name="Expo screen")
        credentials = {"email": device["email"], "password": PASSWORD}

        signed_in = await flow.do("signIn", **credentials)
        signed_in_at = time.time()
        assert signed_in["error"] is None and signed_in["user"]["id"] == device["id"]
        assert signed_in["user"]["app_metadata"]["restaurant_id"] == "r1"
        assert await flow.auth_event() == "SIGNED_IN"

        await create_order(http, "r2", "B1")  # another restaurant's: never seen
        order = await create_order(http, "r1", "A1")
        selected = await flow.do("select")
        assert selected["error"] is None
        assert [(o["id"], o["number"], o["status"]) for o in selected["data"]] == [(order["id"], "A1", "new")]
        assert sorted(i["name"] for i in selected["data"][0]["order_items"]) == ["Burger", "Fries"]

        await flow.do("subscribe")
        assert (await flow.node.next("status"))["status"] == "SUBSCRIBED"
        assert (await flow.node.next("system"))["payload"]["message"] == "Subscribed to PostgreSQL"

        intent = start_intent(device["id"], order["id"])
        applied = await flow.do("rpc", intents=[intent])
        assert applied["error"] is None and applied["data"][0]["status"] == "applied"
        started = await flow.change()
        assert started["eventType"] == "UPDATE" and started["new"]["status"] == "in_progress"
        assert started["old"]["status"] == "new"  # the whole previous row (replica identity full)

        # Token refresh while subscribed: the client pushes the new token to the channel, which keeps delivering.
        await past_the_second_of(signed_in_at)
        refreshed = await flow.do("refresh")
        assert refreshed["error"] is None and refreshed["changed"]
        assert await flow.auth_event() == "TOKEN_REFRESHED"
        await flow.do("settled")
        second = await create_order(http, "r1", "A2")
        inserted = await flow.change()
        assert (inserted["eventType"], inserted["new"]["id"]) == ("INSERT", second["id"])

        # Sign out: the client pushes the anon key as the channel's token. The channel stays joined and sees
        # nothing of the restaurant, as on Supabase where RLS hides every row from anon.
        assert (await flow.do("signOut"))["error"] is None
        assert await flow.auth_event() == "SIGNED_OUT"
        assert (await flow.do("settled"))["joined"] == "joined"
        unseen = await create_order(http, "r1", "A3")
        refused = await flow.do("select")  # anon may not read orders (the migration grants it nothing)
        assert refused["data"] is None and refused["error"]["code"] == "42501"

        await flow.do("signIn", **credentials)
        assert await flow.auth_event() == "SIGNED_IN"
        assert (await flow.do("settled"))["joined"] == "joined"
        third = await create_order(http, "r1", "A4")
        # The next change on the channel is A4's: A3's, written while signed out, never came.
        after = await flow.change()
        assert (after["eventType"], after["new"]["id"]) == ("INSERT", third["id"]) != ("INSERT", unseen["id"])
        assert flow.node.queues["status"].empty()  # never errored, closed or rejoined
        await flow.do("signOut")
        await flow.node.send(json.dumps({"cmd": "quit"}))
        assert await asyncio.wait_for(flow.node.proc.wait(), TIMEOUT_S) == 0
