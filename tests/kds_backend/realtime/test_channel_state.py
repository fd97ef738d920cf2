"""One socket's state machine: frames in, effects out, no socket and no clock."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from api_client.models import OrderChange
from kds_backend.auth.tokens import issue_anon_key
from kds_backend.db.writer import RowChange
from kds_backend.realtime.effects import Subscribe, SyncPresence, Track, Unsubscribe, Untrack
from kds_backend.realtime.payloads import jsonable_row, prepare
from kds_backend.realtime.protocol import Vsn
from kds_backend.realtime.router import Router
from tests.conftest import JWT_SECRET, token_for
from tests.kds_backend.realtime.wire import closes, connection, frame, join_payload, sent

NOW = time.time()
TOPIC = "realtime:orders-feed"
ORDERS_R1 = {"event": "*", "schema": "public", "table": "orders", "filter": "restaurant_id=eq.r1"}


def order_row(restaurant: str, status: str = "new") -> dict:
    at = datetime.now(UTC)
    return {
        "id": uuid4(),
        "restaurant_id": restaurant,
        "number": "A1",
        "source": "pos",
        "type": "dine_in",
        "table_label": None,
        "server_name": None,
        "guests": 2,
        "customer_name": None,
        "notes": None,
        "priority": "normal",
        "status": status,
        "created_at": at,
        "due_at": None,
        "cleared_at": None,
        "updated_at": at,
        "version": 1,
        "change_seq": 1,
        "item_count": 0,
    }


def joined(vsn: Vsn = Vsn.V1, token: str | None = None, bindings: list | None = None, **config):
    conn = connection(token or token_for("kds"), NOW, vsn)
    effects = conn.receive(frame(vsn, TOPIC, "phx_join", join_payload(None, bindings, **config), "1", "1"), NOW)
    return conn, effects


@pytest.mark.parametrize("vsn", [Vsn.V1, Vsn.V2])
def test_join_echoes_bindings_with_ids_then_reports_the_subscription(vsn: Vsn) -> None:
    bindings = [ORDERS_R1, {"event": "INSERT", "schema": "public", "table": "order_items"}]
    _conn, effects = joined(vsn, bindings=bindings)
    reply, system = sent(effects, vsn)
    assert reply["event"] == "phx_reply" and reply["ref"] == "1"
    assert reply["payload"]["status"] == "ok"
    echoed = reply["payload"]["response"]["postgres_changes"]
    assert [{k: v for k, v in b.items() if k != "id"} for b in echoed] == bindings
    assert all(isinstance(b["id"], int) and b["id"] > 0 for b in echoed)
    assert system["event"] == "system" and system["ref"] is None
    assert system["payload"] == {
        "extension": "postgres_changes",
        "status": "ok",
        "message": "Subscribed to PostgreSQL",
        "channel": "orders-feed",
    }
    subscribe = next(e for e in effects if isinstance(e, Subscribe))
    assert (subscribe.key, subscribe.topic) == (("r1", "orders-feed"), TOPIC)
    assert [b.id for b in subscribe.bindings] == [b["id"] for b in echoed]
    # Same params, same id: a rejoin keeps its ids.
    again = sent(joined(vsn, bindings=bindings)[1], vsn)[0]["payload"]["response"]["postgres_changes"]
    assert again == echoed


def routed(token: str | None = None, bindings: list | None = None) -> tuple[Router, list]:
    """One socket joined through a router, which fans changes out (`Router.publish`)."""
    router = Router()
    router.add(1, connection(token or token_for("kds"), NOW))
    out = router.receive(1, frame(Vsn.V1, TOPIC, "phx_join", join_payload(None, bindings), "1", "1"), NOW)
    return router, [item for _conn_id, item in out]


def published(router: Router, *rows: tuple[str, dict]) -> list[dict]:
    changes = [
        prepare(RowChange(table, "INSERT", row, None, row["created_at"], n)) for n, (table, row) in enumerate(rows)
    ]
    return sent([item for _conn_id, item in router.publish([c for c in changes if c is not None])])


def test_changes_reach_matching_bindings_only_and_never_another_restaurant() -> None:
    router, effects = routed(bindings=[ORDERS_R1, {"event": "DELETE", "schema": "public", "table": "orders"}])
    ids = [b["id"] for b in sent(effects)[0]["payload"]["response"]["postgres_changes"]]
    pushes = published(router, ("orders", order_row("r2")), ("orders", order_row("r1")))
    assert len(pushes) == 1
    push = pushes[0]
    assert push["event"] == "postgres_changes" and push["ref"] is None and push["topic"] == TOPIC
    assert push["payload"]["ids"] == [ids[0]]
    data = OrderChange.model_validate(push["payload"]["data"])
    assert data.type == "INSERT" and data.record is not None and data.record.restaurant_id == "r1"
    assert "old_record" not in push["payload"]["data"]


def test_a_filter_naming_another_restaurant_still_sees_only_its_own() -> None:
    router, _ = routed(
        bindings=[{"event": "*", "schema": "public", "table": "orders", "filter": "restaurant_id=eq.r2"}]
    )
    assert published(router, ("orders", order_row("r2"))) == []


def test_anon_token_joins_but_sees_nothing_and_cannot_track() -> None:
    router, effects = routed(token=issue_anon_key(JWT_SECRET), bindings=[{"event": "*", "schema": "public"}])
    assert sent(effects)[0]["payload"]["status"] == "ok"
    assert published(router, ("orders", order_row("r1"))) == []
    track = router.connections[1].receive(
        frame(Vsn.V1, TOPIC, "presence", {"event": "track", "payload": {}}, "2", "1"), NOW
    )
    assert sent(track)[0]["payload"]["status"] == "error"


@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (token_for("kds", ttl_s=-30), "InvalidJWTToken: Token has expired"),
        (token_for("kds", secret="another-secret-another-secret-another-secret"), "JwtSignatureError"),
        ("not-a-jwt", "MalformedJWT: The token provided is not a valid JWT"),
    ],
)
def test_join_errors_name_the_token_problem(token: str, reason: str) -> None:
    conn = connection(token_for("kds"), NOW)
    effects = conn.receive(frame(Vsn.V1, TOPIC, "phx_join", join_payload(token), "1", "1"), NOW)
    [reply] = sent(effects)
    assert reply["payload"]["status"] == "error"
    assert reply["payload"]["response"]["reason"].startswith(reason)
    assert TOPIC not in conn.channels


def test_bad_bindings_join_then_report_an_error_or_refuse_with_wait() -> None:
    bad = [{"event": "*", "schema": "public", "table": "orders", "filter": "nope=eq.1"}]
    _conn, effects = joined(bindings=bad)
    reply, system = sent(effects)
    assert reply["payload"]["status"] == "ok"
    assert system["payload"]["status"] == "error" and "nope" in system["payload"]["message"]
    _, refused = joined(bindings=bad, postgres_changes_options={"wait": True})
    reason = sent(refused)[0]["payload"]["response"]["reason"]
    assert reason.startswith("RealtimeDisabledForConfiguration: ")


def test_topic_rules() -> None:
    conn = connection(token_for("kds"), NOW)
    bare = sent(conn.receive(frame(Vsn.V1, "realtime:", "phx_join", join_payload(None), "1", "1"), NOW))
    assert bare[0]["payload"]["response"]["reason"] == "TopicNameRequired: You must provide a topic name"
    other = sent(conn.receive(frame(Vsn.V1, "room:1", "phx_join", join_payload(None), "2", "2"), NOW))
    assert other[0]["payload"]["response"] == {"reason": "unmatched topic"}
    stray = sent(conn.receive(frame(Vsn.V1, "realtime:nope", "broadcast", {}, "3", None), NOW))
    assert stray[0]["payload"] == {"status": "error", "response": {"reason": "unmatched topic"}}


def test_heartbeat_is_answered_and_silence_closes_the_socket() -> None:
    conn = connection(token_for("kds"), NOW, heartbeat_timeout_s=60)
    [hb] = sent(conn.receive(frame(Vsn.V1, "phoenix", "heartbeat", {}, "5"), NOW + 30))
    assert hb == {"topic": "phoenix", "event": "phx_reply", "payload": {"status": "ok", "response": {}}, "ref": "5"}
    assert conn.tick(NOW + 89) == []
    [close] = closes(conn.tick(NOW + 91))
    assert close.code == 1000


def test_leave_replies_then_closes_the_channel() -> None:
    conn, _ = joined(bindings=[ORDERS_R1])
    effects = conn.receive(frame(Vsn.V1, TOPIC, "phx_leave", {}, "2", "1"), NOW)
    reply, close = sent(effects)
    assert reply["payload"] == {"status": "ok", "response": {}} and reply["ref"] == "2"
    assert close["event"] == "phx_close" and close["ref"] == "1"
    assert Unsubscribe(("r1", "orders-feed"), TOPIC) in effects
    assert conn.channels == {}


def test_token_expiry_during_service_is_a_system_error_then_phx_close() -> None:
    conn, _ = joined(token=token_for("kds", ttl_s=60, now=NOW), bindings=[ORDERS_R1])
    assert conn.tick(NOW + 30) == []
    conn.receive(frame(Vsn.V1, "phoenix", "heartbeat", {}, "9"), NOW + 70)  # the socket itself stays alive
    system, close = sent(conn.tick(NOW + 75))
    assert system["event"] == "system"
    assert system["payload"]["extension"] == "system" and system["payload"]["status"] == "error"
    assert system["payload"]["message"].startswith("Token has expired ")
    assert system["payload"]["message"].endswith(" seconds ago")
    assert close["event"] == "phx_close"
    assert conn.channels == {}


def test_access_token_refresh_extends_the_channel_and_a_bad_one_ends_it() -> None:
    conn, _ = joined(token=token_for("kds", ttl_s=60, now=NOW), bindings=[ORDERS_R1])
    fresh = token_for("kds", ttl_s=3600, now=NOW)
    assert conn.receive(frame(Vsn.V1, TOPIC, "access_token", {"access_token": fresh}, "2", "1"), NOW) == []
    conn.receive(frame(Vsn.V1, "phoenix", "heartbeat", {}, "9"), NOW + 100)
    assert conn.tick(NOW + 120) == []
    other = token_for("kds", restaurant="r2")
    system, close = sent(conn.receive(frame(Vsn.V1, TOPIC, "access_token", {"access_token": other}, "3", "1"), NOW))
    assert "no longer have permission" in system["payload"]["message"] and close["event"] == "phx_close"


def test_presence_track_untrack_effects() -> None:
    conn, effects = joined(presence={"key": "grill-1", "enabled": True})
    assert SyncPresence(("r1", "orders-feed"), TOPIC) in effects
    effects = conn.receive(frame(Vsn.V1, TOPIC, "presence", {"event": "track", "payload": {"s": 1}}, "2", "1"), NOW)
    assert sent(effects)[0]["payload"]["status"] == "ok"
    assert Track(("r1", "orders-feed"), TOPIC, "grill-1", {"s": 1}) in effects
    effects = conn.receive(frame(Vsn.V1, TOPIC, "presence", {"event": "untrack"}, "3", "1"), NOW)
    assert Untrack(("r1", "orders-feed"), TOPIC) in effects


def test_malformed_frames_close_only_this_socket() -> None:
    conn = connection(token_for("kds"), NOW)
    [close] = closes(conn.receive("{not json", NOW))
    assert close.code == 1007
    assert conn.receive(frame(Vsn.V1, "phoenix", "heartbeat", {}, "1"), NOW) == []


def test_a_flood_closes_the_socket() -> None:
    conn = connection(token_for("kds"), NOW, messages_per_s=10, message_burst=20)
    hb = frame(Vsn.V1, "phoenix", "heartbeat", {}, "1")
    effects = [e for _ in range(25) for e in conn.receive(hb, NOW)]
    assert len(sent(effects)) == 20
    assert closes(effects)[0].code == 1008


def test_a_failing_handler_crashes_only_its_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    conn, _ = joined(bindings=[ORDERS_R1])

    def boom(*_args: object) -> list:
        raise RuntimeError("boom")

    monkeypatch.setattr(conn, "_presence", boom)
    effects = conn.receive(frame(Vsn.V1, TOPIC, "presence", {"event": "track"}, "2", "1"), NOW)
    assert sent(effects)[-1]["event"] == "phx_error"
    assert conn.channels == {}
    [hb] = sent(conn.receive(frame(Vsn.V1, "phoenix", "heartbeat", {}, "3"), NOW))
    assert hb["payload"]["status"] == "ok"


def test_an_update_carries_the_whole_previous_row_and_a_delete_only_its_key() -> None:
    """As Supabase with replica identity full (our migration sets it): an UPDATE's `old_record` is the previous
    row, every column, in the record's JSON form; RLS is on, so a DELETE's is the primary key only."""
    router, _ = routed(bindings=[ORDERS_R1])
    before = order_row("r1")
    after = {**before, "status": "in_progress", "version": 2, "change_seq": 2}
    changes = [
        prepare(RowChange("orders", "UPDATE", after, before, after["updated_at"], 2)),
        prepare(RowChange("orders", "DELETE", None, after, after["updated_at"], 3)),
    ]
    update, delete = sent([item for _conn_id, item in router.publish([c for c in changes if c is not None])])
    data = update["payload"]["data"]
    assert data["old_record"] == jsonable_row(before)
    assert data["old_record"]["status"] == "new" and data["record"]["status"] == "in_progress"
    assert {c["name"] for c in data["columns"]} == set(data["old_record"])
    assert delete["payload"]["data"]["old_record"] == {"id": str(before["id"])}
    assert "record" not in delete["payload"]["data"]


def test_the_anon_key_pushed_on_sign_out_keeps_the_channel_and_a_new_sign_in_delivers_again() -> None:
    """The official clients push the anon key as the channel's token when the user signs out. Supabase keeps the
    channel (a valid token; RLS now lets it see nothing) and re-evaluates with the next user's token."""
    router, _ = routed(bindings=[ORDERS_R1])
    conn = router.connections[1]
    track = frame(Vsn.V1, TOPIC, "presence", {"event": "track", "payload": {"screen": "grill"}}, "2", "1")
    sent_out = [item for _conn_id, item in router.receive(1, track, NOW)]
    assert sent(sent_out)[0]["payload"]["status"] == "ok"
    signed_out = frame(Vsn.V1, TOPIC, "access_token", {"access_token": issue_anon_key(JWT_SECRET)}, "3", "1")
    answer = sent([item for _conn_id, item in router.receive(1, signed_out, NOW)])
    assert {f["event"] for f in answer} <= {"presence_diff"}  # no system error, no phx_close
    assert TOPIC in conn.channels
    assert published(router, ("orders", order_row("r1"))) == []  # signed out: nothing of the restaurant
    assert router.presence.state(("r1", "orders-feed")) == {}  # and its presence left with it

    signed_in = frame(Vsn.V1, TOPIC, "access_token", {"access_token": token_for("kds")}, "4", "1")
    router.receive(1, signed_in, NOW)
    [push] = published(router, ("orders", order_row("r1")))
    assert push["event"] == "postgres_changes" and push["payload"]["data"]["record"]["restaurant_id"] == "r1"
