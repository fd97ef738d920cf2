"""Private channels, sans I/O (issue 17, item 14): who may join a restaurant's Broadcast from Database topic, and
that the router keeps it apart from a public channel of the same name."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from uuid import uuid4

from kds_backend.db.writer import RowChange
from kds_backend.realtime.broadcast_changes import broadcast_payload, topic_key
from kds_backend.realtime.channel import PRIVATE_MARK
from kds_backend.realtime.effects import Subscribe
from kds_backend.realtime.router import Router
from tests.conftest import token_for
from tests.kds_backend.realtime.wire import connection, frame, join_payload, sent

NOW = time.time()
TOPIC = "realtime:kds:r1"


def join(token: str, private: bool, topic: str = TOPIC) -> tuple[str, list]:
    conn = connection(token, NOW)
    effects = conn.receive(frame(conn.vsn, topic, "phx_join", join_payload(None, private=private), "1", "1"), NOW)
    reply = sent(effects)[0]["payload"]
    return reply["status"] + ":" + str(reply["response"].get("reason", "")), effects


def test_a_device_joins_its_own_restaurants_topic_and_no_other() -> None:
    status, effects = join(token_for("kds", stations=["grill"]), private=True)
    assert status == "ok:"
    assert [e.key for e in effects if isinstance(e, Subscribe)] == [("r1", PRIVATE_MARK + "kds:r1")]
    refused = "error:Unauthorized: You do not have permissions to read from this Channel topic: kds:r1"
    assert join(token_for("kds", restaurant="r2"), private=True)[0] == refused
    assert join(token_for("admin"), private=True, topic="realtime:kds:r2")[0].startswith("error:Unauthorized")
    assert join(token_for("kds"), private=True, topic="realtime:orders-feed")[0].startswith("error:Unauthorized")
    # No public channel may pass for the private one in the router.
    assert join(token_for("kds"), private=False, topic=f"realtime:{PRIVATE_MARK}kds:r1")[0].startswith("error:")


def test_a_device_may_not_broadcast_on_it() -> None:
    conn = connection(token_for("admin"), NOW)
    conn.receive(frame(conn.vsn, TOPIC, "phx_join", join_payload(None, private=True), "1", "1"), NOW)
    push = {"type": "broadcast", "event": "INSERT", "payload": {"operation": "INSERT", "table": "orders"}}
    effects = conn.receive(frame(conn.vsn, TOPIC, "broadcast", push, "2", "1"), NOW)
    (reply,) = sent(effects)
    assert (
        reply["payload"]["status"] == "error"
        and "write to this Channel topic" in reply["payload"]["response"]["reason"]
    )
    assert len(effects) == 1, "nothing is passed on"


def test_a_change_reaches_the_private_members_only() -> None:
    router = Router()
    private, public = connection(token_for("kds"), NOW), connection(token_for("kds"), NOW)
    router.add(1, private)
    router.add(2, public)
    router.receive(1, frame(private.vsn, TOPIC, "phx_join", join_payload(None, private=True), "1", "1"), NOW)
    router.receive(2, frame(public.vsn, TOPIC, "phx_join", join_payload(None, private=False), "1", "1"), NOW)
    at = datetime.now(UTC)
    row = {
        "id": uuid4(),
        "restaurant_id": "r1",
        "item_name": "Fries",
        "available": False,
        "reason": None,
        "updated_by": "grill-1",
        "updated_at": at,
        "version": 1,
        "change_seq": 1,
    }
    change = RowChange("menu_availability", "INSERT", row, None, at)
    key = topic_key(change)
    assert key == ("r1", PRIVATE_MARK + "kds:r1")
    payload, meta = broadcast_payload(change)
    out = router.broadcast(key, "INSERT", payload, meta)
    assert [conn_id for conn_id, _ in out] == [1]
    (pushed,) = sent([send for _, send in out])
    assert pushed["event"] == "broadcast" and pushed["topic"] == TOPIC
    body = pushed["payload"]
    assert body["event"] == "INSERT" and body["meta"] == {"id": payload["id"]}
    assert body["payload"]["record"]["item_name"] == "Fries" and body["payload"]["old_record"] is None
    assert topic_key(RowChange("intent_ledger", "INSERT", row, None, at)) is None  # not a synced table
