"""What one join may cost (issue 17), on the sans-I/O core: refusals are Phoenix error replies naming the limit."""

from __future__ import annotations

import time

import pytest

from kds_backend.auth.tokens import issue_anon_key
from kds_backend.realtime.channel_state import Connection
from kds_backend.realtime.config import RealtimeConfig
from kds_backend.realtime.protocol import Vsn
from kds_backend.realtime.quotas import Quotas
from kds_backend.realtime.router import Router
from tests.conftest import JWT_SECRET, token_for
from tests.kds_backend.realtime.wire import VERIFY, connection, frame, join_payload, sent

NOW = time.time()


def in_filter(column: str, values: int, width: int = 1) -> str:
    return f"{column}=in.(" + ",".join(f'"{"v" * width}{n}"' for n in range(values)) + ")"


def join(conn, topic: str, bindings: list[dict], ref: str = "1") -> dict:
    effects = conn.receive(frame(Vsn.V1, topic, "phx_join", join_payload(None, bindings), ref, ref), NOW)
    return sent(effects)[0]


def test_a_join_over_the_filter_budget_is_refused_naming_the_limit() -> None:
    conn = connection(token_for("kds"), NOW, max_filter_terms=10)
    at_limit = [{"event": "*", "table": "orders", "filter": in_filter("status", 5)} for _ in range(2)]
    assert join(conn, "realtime:ok", at_limit)["payload"]["status"] == "ok"

    over = [*at_limit, {"event": "*", "table": "orders", "filter": "status=eq.new"}]
    reply = join(conn, "realtime:over", over, "2")
    assert reply["event"] == "phx_reply" and reply["ref"] == "2"
    assert reply["payload"] == {
        "status": "error",
        "response": {
            "reason": "InvalidJoinPayload: too many filters: at most 10 filter terms (conditions plus `in` values, "
            "over all postgres_changes bindings) per join"
        },
    }
    assert list(conn.channels) == ["realtime:ok"]  # the refused join left nothing behind


def test_the_issues_join_of_100_large_filters_is_refused_by_default() -> None:
    """The probe's join: 100 bindings, each an `in` list of 2,000 characters (56-161 ms of the loop before)."""
    conn = connection(token_for("kds"), NOW)
    filters = [in_filter("notes", 100, 15)[:1990].rsplit(",", 1)[0] + ")" for _ in range(100)]
    reply = join(conn, "realtime:heavy", [{"event": "*", "table": "order_items", "filter": f} for f in filters])
    assert reply["payload"]["status"] == "error"
    assert "at most 200 filter terms" in reply["payload"]["response"]["reason"]


def test_too_many_bindings_or_channels_are_refused_naming_the_limit() -> None:
    conn = connection(token_for("kds"), NOW, max_bindings=2, max_channels=1)
    three = [{"event": "*", "table": "orders"}] * 3
    reason = join(conn, "realtime:a", three)["payload"]["response"]["reason"]
    assert reason == "InvalidJoinPayload: postgres_changes must be a list of at most 2"
    assert join(conn, "realtime:a", three[:2])["payload"]["status"] == "ok"
    refused = join(conn, "realtime:b", [], "2")["payload"]
    assert refused == {"status": "error", "response": {"reason": "ChannelRateLimitReached: Too many channels"}}


def test_limits_come_from_kds_variables() -> None:
    env = {
        "KDS_REALTIME_MAX_CHANNELS": "7",
        "KDS_REALTIME_MAX_BINDINGS": "8",
        "KDS_REALTIME_MAX_FILTER_TERMS": "9",
        "KDS_REALTIME_SEND_QUEUE_BYTES": "3000000",
    }
    config = RealtimeConfig.from_env(env)
    assert (config.max_channels, config.max_bindings, config.max_filter_terms) == (7, 8, 9)
    assert config.send_queue_bytes == 3_000_000
    assert RealtimeConfig.from_env({}) == RealtimeConfig(tick_s=1.0)


@pytest.mark.parametrize(
    ("name", "raw"),
    [
        ("KDS_REALTIME_MAX_FILTER_TERMS", "0"),
        ("KDS_REALTIME_MAX_CHANNELS", "many"),
        ("KDS_REALTIME_SEND_QUEUE_BYTES", "1000"),
        ("KDS_REALTIME_MESSAGES_PER_S", "nan"),
    ],
)
def test_a_bad_limit_stops_the_server_naming_it(name: str, raw: str) -> None:
    with pytest.raises(ValueError, match=f"^{name} must be"):
        RealtimeConfig.from_env({name: raw})


def sockets(router: Router, *tokens: str) -> list[int]:
    ids = []
    for token in tokens:
        conn_id = len(router.connections) + 1 + len(ids)
        router.add(conn_id, Connection(Vsn.V1, token, VERIFY, NOW, router.quotas.config, router.quotas))
        ids.append(conn_id)
    return ids


def routed_join(router: Router, conn_id: int, token: str | None, now: float = NOW, topic: str = "realtime:k") -> dict:
    out = router.receive(conn_id, frame(Vsn.V1, topic, "phx_join", join_payload(token), "1", "1"), now)
    return sent([item for _c, item in out])[0]["payload"]


def test_a_device_may_hold_so_many_sockets_counted_by_the_token_it_joins_with() -> None:
    """Official clients connect with the anon key and join with the device's token: that join counts the socket."""
    router = Router(Quotas(RealtimeConfig(max_sockets_per_device=2)))
    anon = issue_anon_key(JWT_SECRET)
    grill, other = token_for("kds", device="grill-1"), token_for("kds", device="grill-2")
    a, b, c, d = sockets(router, anon, anon, anon, anon)
    assert routed_join(router, a, grill)["status"] == "ok"
    assert routed_join(router, b, grill)["status"] == "ok"
    assert routed_join(router, b, grill, topic="realtime:second")["status"] == "ok"  # the same socket again
    assert routed_join(router, c, grill) == {
        "status": "error",
        "response": {"reason": "ConnectionRateLimitReached: Too many connected users"},
    }
    assert routed_join(router, d, other)["status"] == "ok"  # another device is not affected
    router.remove(a)
    assert routed_join(router, c, grill)["status"] == "ok"  # a socket gone frees its place


def test_a_restaurants_joins_per_second_are_bounded_and_another_restaurants_are_not() -> None:
    router = Router(Quotas(RealtimeConfig(joins_per_s=2, join_burst=3)))
    flooder, neighbour = sockets(router, token_for("kds", restaurant="r2"), token_for("kds", restaurant="r1"))
    for n in range(3):
        assert routed_join(router, flooder, None, topic=f"realtime:t{n}")["status"] == "ok"
    assert routed_join(router, flooder, None, topic="realtime:t3") == {
        "status": "error",
        "response": {"reason": "ClientJoinRateLimitReached: Too many joins per second"},
    }
    assert routed_join(router, neighbour, None)["status"] == "ok"
    assert routed_join(router, flooder, None, NOW + 0.5, topic="realtime:t3")["status"] == "ok"  # refilled


def test_a_restaurants_channels_hold_so_many_filter_terms_and_leaving_frees_them() -> None:
    """Each change of a restaurant is tested against its subscriptions: their total is bounded per restaurant,
    however many devices and sockets it spreads them over."""
    router = Router(Quotas(RealtimeConfig(max_restaurant_filter_terms=10)))
    four = [{"event": "*", "table": "orders", "filter": "status=in.(a,b,c),guests=gt.1"}]
    a, b, neighbour = sockets(
        router,
        token_for("kds", restaurant="r2", device="d1"),
        token_for("kds", restaurant="r2", device="d2"),
        token_for("kds", restaurant="r1", device="d3"),
    )

    def join_four(conn_id: int, topic: str) -> dict:
        payload = join_payload(None, four)
        out = router.receive(conn_id, frame(Vsn.V1, topic, "phx_join", payload, "1", "1"), NOW)
        return sent([item for _c, item in out])[0]["payload"]

    assert join_four(a, "realtime:x")["status"] == "ok"
    assert join_four(b, "realtime:y")["status"] == "ok"
    assert join_four(b, "realtime:z") == {
        "status": "error",
        "response": {
            "reason": "ChannelRateLimitReached: Too many filters: a restaurant's channels hold at most 10 filter terms"
        },
    }
    assert join_four(neighbour, "realtime:x")["status"] == "ok"  # another restaurant's allowance is its own
    bare = sockets(router, *(token_for("kds", restaurant="r3", device=f"b{n}") for n in range(2)))
    for conn_id in bare:  # channels with no bindings hold nothing, and leaving frees nothing
        assert routed_join(router, conn_id, None)["status"] == "ok"
    for conn_id in bare:
        out = router.receive(conn_id, frame(Vsn.V1, "realtime:k", "phx_leave", {}, "3", "1"), NOW)
        assert [f["event"] for f in sent([item for _c, item in out])] == ["phx_reply", "phx_close"]
    assert router.quotas.terms("r3") == 0
    leave = frame(Vsn.V1, "realtime:x", "phx_leave", {}, "2", "1")
    router.receive(a, leave, NOW)
    assert join_four(b, "realtime:z")["status"] == "ok"
    router.remove(b)
    assert router.quotas.terms("r2") == 0  # a socket gone holds nothing
