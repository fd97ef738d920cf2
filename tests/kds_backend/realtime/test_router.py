"""Several sockets through the router, still without sockets: presence, broadcast, fan-out and scoping."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from kds_backend.db.writer import RowChange
from kds_backend.realtime.bindings import Binding
from kds_backend.realtime.effects import CloseSocket, Send
from kds_backend.realtime.payloads import prepare
from kds_backend.realtime.protocol import Vsn
from kds_backend.realtime.router import Outbox, Router
from tests.conftest import token_for
from tests.kds_backend.realtime.wire import connection, frame, join_payload

NOW = time.time()
TOPIC = "realtime:screens"


def frames_for(outbox: Outbox, conn_id: int) -> list[dict]:
    out = []
    for cid, item in outbox:
        if cid == conn_id and isinstance(item, Send) and isinstance(item.frame, str):
            data = json.loads(item.frame)
            if isinstance(data, list):
                data = dict(zip(["join_ref", "ref", "topic", "event", "payload"], data, strict=True))
            out.append(data)
    return out


def setup(*specs: tuple[str, Vsn]) -> tuple[Router, list[int]]:
    router = Router()
    ids = []
    for n, (restaurant, vsn) in enumerate(specs, start=1):
        router.add(n, connection(token_for("kds", restaurant=restaurant, device=f"d{n}"), NOW, vsn))
        ids.append(n)
    return router, ids


def join(router: Router, conn_id: int, vsn: Vsn, **config) -> Outbox:
    payload = join_payload(None, **config)
    return router.receive(conn_id, frame(vsn, TOPIC, "phx_join", payload, "1", "1"), NOW)


def test_presence_is_shared_within_a_restaurant_only() -> None:
    router, (a, b, c) = setup(("r1", Vsn.V1), ("r1", Vsn.V2), ("r2", Vsn.V1))
    for conn_id, vsn in ((a, Vsn.V1), (b, Vsn.V2), (c, Vsn.V1)):
        out = join(router, conn_id, vsn, presence={"key": f"screen-{conn_id}", "enabled": True})
        assert frames_for(out, conn_id)[-1]["event"] == "presence_state"
    track = frame(Vsn.V1, TOPIC, "presence", {"event": "track", "payload": {"station": "grill"}}, "2", "1")
    out = router.receive(a, track, NOW)
    diffs = {cid: f for cid in (a, b, c) for f in frames_for(out, cid) if f["event"] == "presence_diff"}
    assert set(diffs) == {a, b}
    joins = diffs[b]["payload"]["joins"]
    assert list(joins) == ["screen-1"] and joins["screen-1"]["metas"][0]["station"] == "grill"
    assert joins["screen-1"]["metas"][0]["phx_ref"]

    # A late joiner gets the current state; a socket that goes away leaves.
    router.add(4, connection(token_for("expo", device="d4"), NOW))
    state = frames_for(join(router, 4, Vsn.V1, presence={"key": "expo", "enabled": True}), 4)[-1]
    assert list(state["payload"]) == ["screen-1"]
    out = router.remove(a)
    leaves = [f for f in frames_for(out, 4) if f["event"] == "presence_diff"]
    assert list(leaves[0]["payload"]["leaves"]) == ["screen-1"]


def test_broadcast_self_and_ack() -> None:
    router, (a, b, c) = setup(("r1", Vsn.V1), ("r1", Vsn.V1), ("r2", Vsn.V1))
    join(router, a, Vsn.V1, broadcast={"self": True, "ack": True})
    join(router, b, Vsn.V1)
    join(router, c, Vsn.V1)
    msg = {"type": "broadcast", "event": "bump", "payload": {"n": 1}}
    out = router.receive(a, frame(Vsn.V1, TOPIC, "broadcast", msg, "2", "1"), NOW)
    assert [f["event"] for f in frames_for(out, a)] == ["broadcast", "phx_reply"]
    assert frames_for(out, b)[0]["payload"] == msg
    assert frames_for(out, c) == []
    out = router.receive(b, frame(Vsn.V1, TOPIC, "broadcast", msg, "2", "1"), NOW)
    assert frames_for(out, b) == []  # no self, no ack
    assert len(frames_for(out, a)) == 1


def test_changes_fan_out_per_restaurant_and_a_closed_socket_is_forgotten() -> None:
    router, (a, b) = setup(("r1", Vsn.V1), ("r2", Vsn.V2))
    everything = [{"event": "*", "schema": "public"}]
    join(router, a, Vsn.V1, postgres_changes=everything)
    join(router, b, Vsn.V2, postgres_changes=everything)
    at = datetime.now(UTC)
    row = {"id": uuid4(), "restaurant_id": "r2", "item_name": "Fries", "available": False, "reason": None}
    row |= {"updated_by": "d2", "updated_at": at, "version": 1, "change_seq": 7}
    out = router.publish([prepare(RowChange("menu_availability", "INSERT", row, None, at, 7))])
    assert frames_for(out, a) == []
    [push] = frames_for(out, b)
    assert push["event"] == "postgres_changes" and push["join_ref"] is None
    assert push["payload"]["data"]["record"]["item_name"] == "Fries"

    out = router.receive(b, "garbage", NOW)
    assert any(cid == b and isinstance(item, CloseSocket) for cid, item in out)
    assert router.publish([prepare(RowChange("menu_availability", "UPDATE", row, {"id": row["id"]}, at, 8))]) == []
    assert router.receive(a, frame(Vsn.V1, "phoenix", "heartbeat", {}, "5"), NOW)  # the other socket carries on


def test_a_change_is_encoded_once_per_serializer_topic_and_bindings() -> None:
    router, ids = setup(("r1", Vsn.V1), ("r1", Vsn.V1), ("r1", Vsn.V2), ("r1", Vsn.V1), ("r1", Vsn.V1))
    same, twin, v2, other_filter, other_topic = ids
    screens = [{"event": "*", "schema": "public", "table": "menu_availability", "filter": "restaurant_id=eq.r1"}]
    for conn_id, vsn in ((same, Vsn.V1), (twin, Vsn.V1), (v2, Vsn.V2)):
        join(router, conn_id, vsn, postgres_changes=screens)
    join(router, other_filter, Vsn.V1, postgres_changes=[{"event": "INSERT", "schema": "public"}, *screens])
    payload = join_payload(None, postgres_changes=screens)
    router.receive(other_topic, frame(Vsn.V1, "realtime:expo", "phx_join", payload, "1", "1"), NOW)
    at = datetime.now(UTC)
    rows = [
        {"id": uuid4(), "restaurant_id": "r1", "item_name": name, "available": False, "reason": None}
        | {"updated_by": "d1", "updated_at": at, "version": 1, "change_seq": seq}
        for seq, name in ((7, "Fries"), (8, "Shake"))
    ]
    changes = [prepare(RowChange("menu_availability", "INSERT", r, None, at, r["change_seq"])) for r in rows]
    out = router.publish(changes)
    sends = {cid: [item for c, item in out if c == cid] for cid in ids}
    # Sockets with the same serializer, topic and bindings share each frame object: encoded once for all.
    assert all(s is t for s, t in zip(sends[same], sends[twin], strict=True))
    for cid in (v2, other_filter, other_topic):
        assert all(s is not t for s, t in zip(sends[same], sends[cid], strict=True))
    # ...and every socket still gets its own dialect: its topic, its serializer, its binding ids, in commit order.
    for cid in ids:
        pushes = frames_for(out, cid)
        assert [p["payload"]["data"]["record"]["item_name"] for p in pushes] == ["Fries", "Shake"]
        assert {p["topic"] for p in pushes} == {"realtime:expo" if cid == other_topic else TOPIC}
    assert len(frames_for(out, other_filter)[0]["payload"]["ids"]) == 2
    assert frames_for(out, same)[0]["payload"]["ids"] == frames_for(out, v2)[0]["payload"]["ids"]
    assert isinstance(json.loads(sends[v2][0].frame), list) and isinstance(json.loads(sends[same][0].frame), dict)


def test_a_change_is_tested_against_the_bindings_it_may_match_not_every_sockets(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Issue 17: every change was tested against every channel of every socket. 300 screens each following
    one order (`id=eq.`): a change of one order tests one binding and reaches one screen."""
    router = Router()
    order_ids = [str(uuid4()) for _ in range(300)]
    for n, order_id in enumerate(order_ids, start=1):
        router.add(n, connection(token_for("kds", device=f"d{n}"), NOW))
        bindings = [{"event": "*", "schema": "public", "table": "orders", "filter": f"id=eq.{order_id}"}]
        join(router, n, Vsn.V1, postgres_changes=bindings)
    tested: list[Binding] = []
    original = Binding.matches
    monkeypatch.setattr(Binding, "matches", lambda self, change: tested.append(self) or original(self, change))
    at = datetime.now(UTC)
    row = {"id": order_ids[99], "restaurant_id": "r1", "number": "A1", "source": "pos", "type": "dine_in"}
    row |= {"guests": 2, "priority": "normal", "status": "new", "created_at": at, "updated_at": at}
    row |= {"version": 1, "change_seq": 1}
    out = router.publish([prepare(RowChange("orders", "INSERT", row, None, at, 1))])
    assert [conn_id for conn_id, _send in out] == [100]
    assert len(tested) == 1
