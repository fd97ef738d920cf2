"""The sans-I/O core: server frames and the time in, frames and events out. No socket, no loop, no clock."""

from __future__ import annotations

import random
from typing import Any

import pytest

from api_client.backoff import Backoff
from sync.realtime.frames import Vsn
from sync.realtime.phoenix import (
    MALFORMED_IN_A_ROW,
    Binding,
    Change,
    ChannelDown,
    ChannelLive,
    ChannelSpec,
    Hint,
    Output,
    Phase,
    PhoenixClient,
    Reconnect,
    Send,
    TokenNeeded,
    Unreadable,
)
from tests.helpers.phoenix_frames import TOPIC, sent, server

ORDERS = Binding("orders", "*", filter="restaurant_id=eq.r1")
ITEMS = Binding("order_items", "INSERT", filter="restaurant_id=eq.r1")
SPEC = ChannelSpec("orders-feed", (ORDERS, ITEMS))
SUBSCRIBED = {"extension": "postgres_changes", "status": "ok", "message": "Subscribed to PostgreSQL", "channel": "x"}


def others(outputs: list[Output]) -> list[Output]:
    return [o for o in outputs if not isinstance(o, Send)]


def client(vsn: Vsn = Vsn.V1, token: str | None = "TOKEN-A", **kw: Any) -> PhoenixClient:
    kw.setdefault("rejoin_backoff", lambda: Backoff(1.0, 10.0, rng=random.Random(1)))
    return PhoenixClient([SPEC], token, vsn=vsn, heartbeat_s=25.0, **kw)


def join_reply(ref: str, ids: tuple[int, ...] = (11, 22), vsn: Vsn = Vsn.V1) -> str:
    echoed = [{"id": i, **b.to_wire()} for i, b in zip(ids, SPEC.bindings, strict=True)]
    return server(vsn, "phx_reply", {"status": "ok", "response": {"postgres_changes": echoed}}, ref, ref)


def go_live(c: PhoenixClient, now: float = 0.0, vsn: Vsn = Vsn.V1) -> str:
    join = sent(c.on_open(now), vsn)[0]
    c.receive(join_reply(join["ref"], vsn=vsn), now)
    out = c.receive(server(vsn, "system", SUBSCRIBED, join_ref=join["ref"]), now)
    assert ChannelLive(TOPIC, again=False) in out
    return join["ref"]


def change(ids: list[int], table: str = "orders", type_: str = "INSERT") -> dict[str, Any]:
    data = {"schema": "public", "table": table, "type": type_, "commit_timestamp": "t", "columns": [], "record": {}}
    return {"ids": ids, "data": data}


@pytest.mark.parametrize("vsn", list(Vsn))
def test_join_frame_carries_bindings_token_and_refs(vsn: Vsn) -> None:
    c = client(vsn)
    [join] = sent(c.on_open(0.0), vsn)
    assert join["topic"] == TOPIC and join["event"] == "phx_join"
    assert join["ref"] == join["join_ref"]
    assert join["payload"]["access_token"] == "TOKEN-A"
    assert join["payload"]["config"]["postgres_changes"] == [
        {"event": "*", "schema": "public", "table": "orders", "filter": "restaurant_id=eq.r1"},
        {"event": "INSERT", "schema": "public", "table": "order_items", "filter": "restaurant_id=eq.r1"},
    ]
    assert c.phase(TOPIC) is Phase.JOINING


@pytest.mark.parametrize("vsn", list(Vsn))
def test_live_only_after_the_system_subscribed_message(vsn: Vsn) -> None:
    c = client(vsn)
    [join] = sent(c.on_open(0.0), vsn)
    # The premature SUBSCRIBED: an ok reply, but the database subscription is not active yet.
    assert c.receive(join_reply(join["ref"], vsn=vsn), 0.1) == []
    assert c.phase(TOPIC) is Phase.SUBSCRIBING and not c.all_live
    out = c.receive(server(vsn, "system", SUBSCRIBED, join_ref=join["ref"]), 2.0)
    assert out == [ChannelLive(TOPIC, again=False)]
    assert c.all_live


def test_premature_reply_without_system_times_out_and_rejoins() -> None:
    c = client(join_timeout_s=15.0)
    [join] = sent(c.on_open(0.0))
    c.receive(join_reply(join["ref"]), 0.1)
    assert not any(isinstance(o, ChannelLive) for o in c.tick(14.9))
    out = c.tick(15.0)
    frames = sent(out)
    assert frames[0]["event"] == "phx_leave" and frames[0]["join_ref"] == join["ref"]
    assert ChannelDown(TOPIC, "join timed out") in out
    assert c.phase(TOPIC) is Phase.WAITING
    rejoin = sent(c.tick(c.next_deadline() or 0.0))
    assert [f["event"] for f in rejoin] == ["phx_join"] and rejoin[0]["ref"] != join["ref"]


def test_changes_reach_only_bindings_whose_id_is_listed() -> None:
    c = client()
    go_live(c)
    assert c.receive(server(Vsn.V1, "postgres_changes", change([999])), 1.0) == []
    [out] = c.receive(server(Vsn.V1, "postgres_changes", change([11])), 1.0)
    assert isinstance(out, Change) and out.bindings == (ORDERS,) and out.data["table"] == "orders"
    # Binding 22 listens for INSERT only: an UPDATE listing its id is not for it.
    assert c.receive(server(Vsn.V1, "postgres_changes", change([22], "order_items", "UPDATE")), 1.0) == []
    [out] = c.receive(server(Vsn.V1, "postgres_changes", change([11, 22], "order_items", "INSERT")), 1.0)
    assert isinstance(out, Change) and out.bindings == (ORDERS, ITEMS)


def test_reply_that_does_not_echo_every_binding_is_a_join_failure() -> None:
    c = client()
    [join] = sent(c.on_open(0.0))
    bad = server(Vsn.V1, "phx_reply", {"status": "ok", "response": {"postgres_changes": [{"id": 1}]}}, join["ref"])
    [down] = c.receive(bad, 0.0)
    assert isinstance(down, ChannelDown) and c.phase(TOPIC) is Phase.WAITING


def test_heartbeat_every_interval_and_unanswered_one_means_reconnect() -> None:
    c = client()
    go_live(c)
    assert c.next_deadline() == 25.0
    out = c.tick(25.0)
    [hb] = sent(out)
    assert hb["topic"] == "phoenix" and hb["event"] == "heartbeat" and hb["ref"] is not None
    assert TokenNeeded(force=False) in out
    # Answered: the next tick sends another one.
    c.receive(server(Vsn.V1, "phx_reply", {"status": "ok", "response": {}}, hb["ref"], topic="phoenix"), 25.1)
    [hb2] = sent(c.tick(50.0))
    assert hb2["event"] == "heartbeat"
    # Unanswered by the next tick: the connection is dead.
    assert c.tick(75.0) == [Reconnect("heartbeat timeout")]


def test_a_dead_connection_is_given_up_once_and_nothing_more_is_asked_of_it() -> None:
    # Found by `kds --screenshots` under load: the timer pump outlived its socket (a cancellation lost while it was
    # closing it) and asked the core again and again: four million "heartbeat timeout" reconnects in 15 minutes.
    c = client()
    go_live(c)
    sent(c.tick(25.0))
    assert c.tick(50.0) == [Reconnect("heartbeat timeout")]
    assert c.next_deadline() is None  # nothing left to do on that socket
    assert c.tick(75.0) == [] and c.tick(1000.0) == []
    c.on_close(1001.0)
    [join] = sent(c.on_open(1002.0))  # a new socket: joins, with its own deadlines again
    deadline = c.next_deadline()
    assert join["event"] == "phx_join" and deadline is not None and 1002.0 < deadline <= 1027.0


def test_unreadable_frames_give_the_socket_up_once_too() -> None:
    c = client()
    go_live(c)
    outs = [out for _ in range(MALFORMED_IN_A_ROW) for out in c.receive("not json", 1.0)]
    assert outs.count(Reconnect(f"{MALFORMED_IN_A_ROW} unreadable frames in a row")) == 1
    assert c.next_deadline() is None and c.tick(30.0) == []


def test_a_reply_to_some_other_ref_does_not_count_as_the_heartbeat_answer() -> None:
    c = client()
    go_live(c)
    assert len(sent(c.tick(25.0))) == 1
    c.receive(server(Vsn.V1, "phx_reply", {"status": "ok", "response": {}}, "nope", topic="phoenix"), 26.0)
    assert c.tick(50.0) == [Reconnect("heartbeat timeout")]


def test_reconnect_rejoins_every_channel_and_reports_live_again() -> None:
    c = client()
    first = go_live(c)
    assert c.on_close(30.0) == [ChannelDown(TOPIC, "socket closed")]
    assert c.phase(TOPIC) is Phase.IDLE and c.next_deadline() is None
    [join] = sent(c.on_open(31.0))
    assert join["event"] == "phx_join" and join["ref"] != first
    c.receive(join_reply(join["ref"], ids=(33, 44)), 31.0)
    assert c.receive(server(Vsn.V1, "system", SUBSCRIBED), 31.0) == [ChannelLive(TOPIC, again=True)]
    # New ids from the new join reply; the old ones are gone.
    assert c.receive(server(Vsn.V1, "postgres_changes", change([11])), 32.0) == []
    assert len(c.receive(server(Vsn.V1, "postgres_changes", change([33])), 32.0)) == 1


def test_join_error_rejoins_after_backoff() -> None:
    c = client()
    [join] = sent(c.on_open(0.0))
    error = {"status": "error", "response": {"reason": "Unknown Error on Channel"}}
    out = c.receive(server(Vsn.V1, "phx_reply", error, join["ref"]), 0.0)
    assert out == [ChannelDown(TOPIC, "Unknown Error on Channel")]
    retry_at = c.next_deadline()
    assert retry_at is not None and 0.0 <= retry_at <= 1.0
    assert sent(c.tick(retry_at - 0.001)) == [] or retry_at == 0.0
    [rejoin] = sent(c.tick(retry_at))
    assert rejoin["event"] == "phx_join"


def test_rate_limited_join_waits_much_longer() -> None:
    c = client(rate_limited_delay_s=30.0)
    [join] = sent(c.on_open(0.0))
    error = {"status": "error", "response": {"reason": "ClientJoinRateLimitReached: Too many joins per second"}}
    c.receive(server(Vsn.V1, "phx_reply", error, join["ref"]), 0.0)
    assert c.next_deadline() == 25.0  # the heartbeat comes first: the rejoin is at least 30 s away
    assert [f["event"] for f in sent(c.tick(25.0))] == ["heartbeat"]
    assert [f["event"] for f in sent(c.tick(30.0))] == ["phx_join"]


def test_backoff_grows_across_consecutive_failures_and_resets_when_live() -> None:
    c = client(rejoin_backoff=lambda: Backoff(1.0, 10.0, floor_s=1.0, rng=random.Random(1)))
    now = 0.0
    [join] = sent(c.on_open(now))
    ceilings = []
    for _ in range(4):
        c.receive(server(Vsn.V1, "phx_reply", {"status": "error", "response": {"reason": "x"}}, join["ref"]), now)
        ceilings.append(c.channels[TOPIC].backoff.ceiling())
        now = c.channels[TOPIC].retry_at
        [join] = sent(c.tick(now))
    assert ceilings == [2.0, 4.0, 8.0, 10.0]
    c.receive(join_reply(join["ref"]), now)
    c.receive(server(Vsn.V1, "system", SUBSCRIBED), now)
    assert c.channels[TOPIC].backoff.ceiling() == 1.0


@pytest.mark.parametrize("vsn", list(Vsn))
def test_token_expiry_close_rejoins_with_a_fresh_token(vsn: Vsn) -> None:
    c = client(vsn)
    join_ref = go_live(c, vsn=vsn)
    expired = {"extension": "system", "status": "error", "message": "Token has expired 3 seconds ago", "channel": "x"}
    out = c.receive(server(vsn, "system", expired, join_ref=join_ref), 10.0)
    assert out == [ChannelDown(TOPIC, "Token has expired 3 seconds ago"), TokenNeeded(force=True)]
    # The phx_close that always follows changes nothing more.
    assert c.receive(server(vsn, "phx_close", {}, join_ref, join_ref), 10.0) == []
    # No rejoin with the old token, however long the token source takes.
    assert c.next_deadline() == 25.0  # only the heartbeat is scheduled
    assert sent(c.tick(24.0), vsn) == []
    [rejoin] = sent(c.set_token("TOKEN-B", 24.5), vsn)
    assert rejoin["event"] == "phx_join" and rejoin["payload"]["access_token"] == "TOKEN-B"


def test_bare_phx_close_also_asks_for_a_fresh_token() -> None:
    c = client()
    join_ref = go_live(c)
    out = c.receive(server(Vsn.V1, "phx_close", {}, join_ref), 5.0)
    assert TokenNeeded(force=True) in out and c.phase(TOPIC) is Phase.WAITING


def test_a_fresh_token_arriving_early_still_waits_for_the_backoff() -> None:
    c = client(rejoin_backoff=lambda: Backoff(1.0, 10.0, floor_s=1.0, rng=random.Random(1)))
    join_ref = go_live(c)
    c.receive(server(Vsn.V1, "phx_close", {}, join_ref), 5.0)
    retry_at = c.channels[TOPIC].retry_at
    assert retry_at >= 6.0
    assert sent(c.set_token("TOKEN-B", 5.0)) == []
    [rejoin] = sent(c.tick(retry_at))
    assert rejoin["payload"]["access_token"] == "TOKEN-B"


def test_stale_close_for_an_earlier_join_is_ignored() -> None:
    c = client()
    go_live(c)
    assert c.receive(server(Vsn.V1, "phx_close", {}, "old-join"), 5.0) == []
    assert c.phase(TOPIC) is Phase.LIVE


def test_refreshed_token_is_pushed_to_live_channels() -> None:
    c = client()
    join_ref = go_live(c)
    assert c.set_token("TOKEN-A", 10.0) == []  # unchanged: nothing to push
    [push] = sent(c.set_token("TOKEN-B", 10.0))
    assert push == {
        "topic": TOPIC,
        "event": "access_token",
        "payload": {"access_token": "TOKEN-B"},
        "ref": push["ref"],
        "join_ref": join_ref,
    }


def test_postgres_changes_error_is_not_fatal() -> None:
    c = client()
    [join] = sent(c.on_open(0.0))
    c.receive(join_reply(join["ref"]), 0.0)
    err = {"extension": "postgres_changes", "status": "error", "message": "retrying", "channel": "x"}
    assert c.receive(server(Vsn.V1, "system", err), 1.0) == []
    assert c.receive(server(Vsn.V1, "system", SUBSCRIBED), 6.0) == [ChannelLive(TOPIC, again=False)]


def test_phx_error_rejoins_without_asking_for_a_token() -> None:
    c = client()
    join_ref = go_live(c)
    out = c.receive(server(Vsn.V1, "phx_error", {}, join_ref), 1.0)
    assert out == [ChannelDown(TOPIC, "channel crashed on the server")]


@pytest.mark.parametrize(
    "frame",
    [b"\x04garbage", "not json", "[1,2,3]", '{"topic":"t"}', '{"topic":1,"event":"e","payload":{}}', "[[[[[[[["],
)
def test_malformed_frames_are_dropped_not_fatal_but_reported(frame: str | bytes) -> None:
    c = client()
    go_live(c)
    assert c.receive(frame, 1.0) == [Unreadable("a realtime frame could not be read")]
    assert c.all_live and c.malformed_frames == 1


def test_a_run_of_unreadable_frames_reconnects() -> None:
    """A broken stream (e.g. a corrupt compression context) must not pass for a live one that delivers nothing."""
    c = client()
    join_ref = go_live(c)
    good = server(Vsn.V1, "system", {"extension": "postgres_changes", "status": "ok"}, None, join_ref)
    assert c.receive("not json", 1.0) == [Unreadable("a realtime frame could not be read")]
    assert c.receive(good, 1.0) == []  # a good frame in between: the run starts over
    assert c.receive("not json", 1.0) == [Unreadable("a realtime frame could not be read")]
    assert c.receive("not json", 1.0) == [Unreadable("a realtime frame could not be read")]
    out = c.receive("not json", 1.0)
    assert out[-1] == Reconnect(f"{MALFORMED_IN_A_ROW} unreadable frames in a row")


def test_vsn2_binary_frames_are_dropped() -> None:
    c = client(Vsn.V2)
    go_live(c, vsn=Vsn.V2)
    assert c.receive(b"\x04\x01\x01\x00\x01tex{}", 1.0) == [Unreadable("a realtime frame could not be read")]
    assert c.malformed_frames == 1


def test_vsn2_uses_join_ref_to_drop_frames_of_an_earlier_join() -> None:
    c = client(Vsn.V2)
    join_ref = go_live(c, vsn=Vsn.V2)
    stale = server(Vsn.V2, "postgres_changes", change([11]), None, "old")
    assert c.receive(stale, 1.0) == []
    assert len(c.receive(server(Vsn.V2, "postgres_changes", change([11]), None, join_ref), 1.0)) == 1


def test_channel_without_bindings_is_live_on_the_reply() -> None:
    c = PhoenixClient([ChannelSpec("plain", ())], None)
    [join] = sent(c.on_open(0.0))
    assert "access_token" not in join["payload"]
    reply = server(
        Vsn.V1, "phx_reply", {"status": "ok", "response": {"postgres_changes": []}}, join["ref"], topic="realtime:plain"
    )
    assert c.receive(reply, 0.0) == [ChannelLive("realtime:plain", again=False)]


def test_not_connected_means_no_ticks() -> None:
    c = client()
    assert c.tick(1000.0) == [] and c.next_deadline() is None
    assert sent(c.set_token("B", 0.0)) == []


def test_duplicate_channel_names_are_refused() -> None:
    with pytest.raises(ValueError):
        PhoenixClient([SPEC, SPEC], None)


def test_others_helper_is_honest() -> None:
    # Sanity check of this module's helper: non-frame outputs are kept in order.
    assert others([Send("x"), Reconnect("r"), TokenNeeded(True)]) == [Reconnect("r"), TokenNeeded(True)]


@pytest.mark.parametrize("vsn", list(Vsn))
def test_a_servers_broadcast_on_a_live_channel_is_a_hint(vsn: Vsn) -> None:
    c = client(vsn)
    join = sent(c.on_open(0.0), vsn)[0]["ref"]
    note = {"type": "broadcast", "event": "late_rejection", "payload": {"device_id": "r1-kds-1"}}
    c.receive(join_reply(join, vsn=vsn), 0.0)
    assert c.receive(server(vsn, "broadcast", note, join_ref=join), 0.5) == []  # not live yet: nothing promised
    c.receive(server(vsn, "system", SUBSCRIBED, join_ref=join), 1.0)
    assert c.receive(server(vsn, "broadcast", note, join_ref=join), 1.0) == [
        Hint(TOPIC, "late_rejection", {"device_id": "r1-kds-1"})
    ]
    bad = {"type": "broadcast", "event": "late_rejection", "payload": "not an object"}
    assert c.receive(server(vsn, "broadcast", bad, join_ref=join), 1.0) == []
