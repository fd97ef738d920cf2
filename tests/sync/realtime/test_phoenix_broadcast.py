"""The sans-I/O client on a restaurant's private Broadcast from Database topic (issue 17, item 14): the join
asks for a private channel without bindings, it is live on the ok reply (no database subscription follows), and
`broadcast_changes` pushes become `Change`s shaped like `postgres_changes` data; other broadcasts stay hints."""

from __future__ import annotations

import pytest

from api_client.broadcast import restaurant_topic
from sync.realtime.channels import sync_channel
from sync.realtime.frames import Vsn
from sync.realtime.phoenix import Change, ChannelLive, Hint, PhoenixClient
from tests.helpers.phoenix_frames import sent, server

SPEC = sync_channel("r1", ("orders", "order_items", "menu_availability"), "broadcast")
TOPIC = f"realtime:{restaurant_topic('r1')}"
ROW = {
    "id": "o-1",
    "restaurant_id": "r1",
    "number": "A1",
    "status": "in_progress",
    "updated_at": "2026-12-07T06:00:00Z",
}


@pytest.mark.parametrize("vsn", list(Vsn))
def test_a_private_channel_is_live_on_the_reply_and_turns_row_broadcasts_into_changes(vsn: Vsn) -> None:
    c = PhoenixClient([SPEC], "TOKEN-A", vsn=vsn)
    (join,) = sent(c.on_open(0.0), vsn)
    assert join["topic"] == TOPIC
    assert join["payload"]["config"]["private"] is True and join["payload"]["config"]["postgres_changes"] == []
    ref = join["ref"]
    ok = {"status": "ok", "response": {"postgres_changes": []}}
    assert c.receive(server(vsn, "phx_reply", ok, ref, ref, TOPIC), 0.0) == [ChannelLive(TOPIC, again=False)]

    payload = {
        "operation": "UPDATE",
        "schema": "public",
        "table": "orders",
        "record": ROW,
        "old_record": {**ROW, "status": "new"},
        "id": "m-1",
    }
    push = {"type": "broadcast", "event": "UPDATE", "payload": payload, "meta": {"id": "m-1"}}
    (out,) = c.receive(server(vsn, "broadcast", push, join_ref=ref, topic=TOPIC), 1.0)
    assert isinstance(out, Change) and out.topic == TOPIC
    assert out.data["type"] == "UPDATE" and out.data["table"] == "orders" and out.data["record"] == ROW
    assert out.data["old_record"]["status"] == "new"
    assert out.data["commit_timestamp"] == ROW["updated_at"]  # a commit's rows share it: grouped as one

    other = {"type": "broadcast", "event": "late_rejection", "payload": {"order": "A1"}}
    assert c.receive(server(vsn, "broadcast", other, join_ref=ref, topic=TOPIC), 1.0) == [
        Hint(TOPIC, "late_rejection", {"order": "A1"})
    ]


def test_the_default_stays_postgres_changes_and_a_bad_mode_is_refused() -> None:
    spec = sync_channel("r1", ("orders",), "postgres_changes")
    assert not spec.private and [b.table for b in spec.bindings] == ["orders"]
    with pytest.raises(ValueError, match="realtime must be one of postgres_changes, broadcast"):
        sync_channel("r1", ("orders",), "websocket")  # type: ignore[arg-type]
