"""Bytes per second per restaurant (issue 17's soak): a restaurant flooding large broadcasts and joins had the one
event loop decode, encode and fan out its frames as fast as it sent them, so another restaurant's changes waited
behind them (p99 commit -> event 20x its quiet figure in `bench/realtime_limits.py --soak`). Each restaurant's
sockets now spend an allowance of bytes (their frames plus what those make the server send); over it, their next
frames stay unread, while other restaurants' sockets are served at once.
"""

from __future__ import annotations

import asyncio
import json
import time

from kds_backend.auth.tokens import issue_anon_key
from kds_backend.realtime.config import RealtimeConfig
from kds_backend.realtime.quotas import Quotas
from kds_backend.realtime.server import RealtimeService
from kds_backend.token_bucket import TokenBucket
from tests.helpers.realtime_pump import FakeWebSocket
from tests.helpers.tokens import JWT_SECRET, token_for
from tests.kds_backend.realtime.support import TIMEOUT_S


def test_spending_past_the_allowance_says_how_long_to_wait() -> None:
    bucket = TokenBucket(rate=1000, burst=2000, now=0.0)
    assert bucket.spend(1500, now=0.0) == 0.0  # within the burst
    assert bucket.spend(1500, now=0.0) == 1.0  # 1,000 bytes over at 1,000 per second
    assert bucket.spend(0, now=1.0) == 0.0  # a second later it is back to empty, not over
    assert bucket.spend(500, now=1.5) == 0.0  # and refills at its rate


def test_each_restaurant_has_its_own_allowance() -> None:
    quotas = Quotas(RealtimeConfig(bytes_per_s=1000, bytes_burst=1000))
    assert quotas.spend_bytes("r2", 3000, now=0.0) == 2.0
    assert quotas.spend_bytes("r1", 1000, now=0.0) == 0.0  # r2's flood costs r1 nothing
    assert quotas.spend_bytes("r2", 1, now=0.0) > 2.0  # r2's next frame waits behind what it already owes


def _heartbeat(ws: FakeWebSocket, ref: str) -> None:
    frame = {"topic": "phoenix", "event": "heartbeat", "payload": {}, "ref": ref}
    ws.inbound.put_nowait({"type": "websocket.receive", "text": json.dumps(frame)})


async def test_a_flooding_restaurant_waits_for_its_allowance_and_another_is_answered_meanwhile() -> None:
    service = RealtimeService(JWT_SECRET, RealtimeConfig(bytes_per_s=200_000, bytes_burst=100_000))
    r1 = FakeWebSocket(token_for("kds", device="r1-screen"))
    r2_sender = FakeWebSocket(token_for("kds", restaurant="r2", device="r2-sender"))
    r2_member = FakeWebSocket(token_for("kds", restaurant="r2", device="r2-member"))
    sockets = (r1, r2_sender, r2_member)
    tasks = [asyncio.create_task(service.serve(ws)) for ws in sockets]
    try:
        for ws in sockets:
            ws.send_client("phx_join", {"config": {"broadcast": {"ack": True}}})
            assert (await ws.next_frame())["payload"]["status"] == "ok"
        # 300 KB to the topic's other member: 600 KB of r2's 100 KB allowance (200 KB/s), so its sockets' next
        # frames wait about 2.5 s. Its heartbeat goes in first; r1's, sent after it, is answered before it.
        message = {"type": "broadcast", "event": "big", "payload": {"blob": "x" * 300_000}}
        r2_sender.send_client("broadcast", message, ref="2")
        assert (await r2_sender.next_frame())["payload"]["status"] == "ok"  # the ack: this frame is served
        assert (await r2_member.next_frame())["event"] == "broadcast"
        _heartbeat(r2_sender, "hb-r2")
        _heartbeat(r1, "hb-r1")
        assert (await r1.next_frame())["ref"] == "hb-r1"
        assert r2_sender.frames.empty(), "r2's heartbeat was read although r2 is over its allowance"
        assert not r2_sender.inbound.empty()  # still unread
        # Not refused, only paced: it is answered once r2's allowance has refilled.
        answer = await asyncio.wait_for(r2_sender.frames.get(), TIMEOUT_S + 10)
        assert answer["ref"] == "hb-r2" and answer["payload"]["status"] == "ok"
    finally:
        for ws in sockets:
            ws.inbound.put_nowait({"type": "websocket.disconnect"})
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), TIMEOUT_S + 10)


async def test_an_anon_socket_spends_the_allowance_of_the_restaurant_it_joins_as() -> None:
    """The official clients connect with the anon key and join with the device's token: such a socket's bytes
    are its channels' restaurant's, so opening sockets with the public anon key does not multiply a restaurant's
    allowance. Before it joins, it spends an allowance of its own, not other anon sockets'."""
    service = RealtimeService(JWT_SECRET, RealtimeConfig(bytes_per_s=100_000, bytes_burst=100_000))
    anon, other_anon = FakeWebSocket(issue_anon_key(JWT_SECRET)), FakeWebSocket(issue_anon_key(JWT_SECRET))
    tasks = [asyncio.create_task(service.serve(ws)) for ws in (anon, other_anon)]
    try:
        join = {"config": {"broadcast": {"ack": True}}, "access_token": token_for("kds", restaurant="r2")}
        anon.send_client("phx_join", join)
        assert (await anon.next_frame())["payload"]["status"] == "ok"
        message = {"type": "broadcast", "event": "big", "payload": {"blob": "x" * 300_000}}
        anon.send_client("broadcast", message, ref="2")
        assert (await anon.next_frame())["payload"]["status"] == "ok"
        assert service.router.quotas.spend_bytes("r2", 0, time.monotonic()) > 0  # r2 owes for it
        _heartbeat(other_anon, "hb")  # another anon socket is not behind it
        assert (await other_anon.next_frame())["ref"] == "hb"
    finally:
        for ws in (anon, other_anon):
            ws.inbound.put_nowait({"type": "websocket.disconnect"})
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), TIMEOUT_S + 10)
