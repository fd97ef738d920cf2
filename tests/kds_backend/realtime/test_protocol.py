"""Frame codecs for both serializers: text/bytes in, messages out, and back. No sockets."""

from __future__ import annotations

import json

import pytest

from kds_backend.realtime.protocol import (
    MAX_FRAME_BYTES,
    Message,
    ProtocolError,
    UserBroadcast,
    UserBroadcastPush,
    Vsn,
    decode,
    encode,
    encode_user_broadcast,
    negotiate,
    reply,
)

PY_JOIN = (
    '{"event":"phx_join","payload":{"config":{"broadcast":{"ack":false,"self":false},'
    '"presence":{"key":"","enabled":false},"private":false,"postgres_changes":'
    '[{"event":"INSERT","schema":"public","table":"orders"}]},"access_token":"T"},'
    '"topic":"realtime:orders-feed","ref":"1","join_ref":"1"}'
)


def user_broadcast_push(join_ref: str, ref: str, topic: str, event: str, meta: bytes, enc: int, body: bytes) -> bytes:
    """A kind-3 frame exactly as realtime-js's serializer builds it."""
    fields = [join_ref.encode(), ref.encode(), topic.encode(), event.encode(), meta]
    return bytes([3, *(len(f) for f in fields), enc]) + b"".join(fields) + body


def test_vsn_negotiation_follows_phoenix() -> None:
    assert negotiate(None) is Vsn.V1 and negotiate("") is Vsn.V1
    assert negotiate("1.0.0") is Vsn.V1 and negotiate("2.0.0") is Vsn.V2 and negotiate("2.0.3") is Vsn.V2
    assert negotiate("3.0.0") is None and negotiate("1.1.0") is None and negotiate("abc") is None


def test_v1_join_from_the_python_client() -> None:
    msg = decode(PY_JOIN, Vsn.V1)
    assert isinstance(msg, Message)
    assert (msg.topic, msg.event, msg.ref, msg.join_ref) == ("realtime:orders-feed", "phx_join", "1", "1")
    assert msg.payload["config"]["postgres_changes"][0]["table"] == "orders"


def test_v1_heartbeat_with_null_refs() -> None:
    msg = decode('{"event":"heartbeat","payload":{},"topic":"phoenix","ref":null,"join_ref":null}', Vsn.V1)
    assert msg == Message("phoenix", "heartbeat", {}, None, None)


def test_v2_array_frames() -> None:
    msg = decode('["3","4","realtime:x","phx_leave",{}]', Vsn.V2)
    assert msg == Message("realtime:x", "phx_leave", {}, "4", "3")


def test_v1_server_frames_have_no_join_ref_and_v2_are_arrays() -> None:
    v1 = json.loads(reply(Vsn.V1, "realtime:x", "1", "1", "ok", {"postgres_changes": []}))
    assert v1 == {
        "topic": "realtime:x",
        "event": "phx_reply",
        "payload": {"status": "ok", "response": {"postgres_changes": []}},
        "ref": "1",
    }
    v2 = json.loads(encode(Message("realtime:x", "system", {"a": 1}, None, "7"), Vsn.V2))
    assert v2 == ["7", None, "realtime:x", "system", {"a": 1}]


@pytest.mark.parametrize(
    ("frame", "vsn"),
    [
        ("not json", Vsn.V1),
        ("[1,2,3]", Vsn.V1),
        ('{"topic":"t","event":"e"}', Vsn.V1),
        ('{"topic":"t","event":"e","payload":[]}', Vsn.V1),
        ('{"topic":{"a":1},"event":"e","payload":{}}', Vsn.V1),
        ('{"topic":"t","event":"e","payload":{},"ref":[1]}', Vsn.V1),
        ('{"topic":"t","event":"e","payload":{"x":NaN}}', Vsn.V1),
        ('{"topic":"' + "t" * 300 + '","event":"e","payload":{}}', Vsn.V1),
        ("[" * 100_000 + "]" * 100_000, Vsn.V1),
        ('{"a":1}', Vsn.V2),
        ('["1","2","t"]', Vsn.V2),
        (b"", Vsn.V2),
        (b"\x00\x01\x01\x01\x01abcd", Vsn.V2),
        (b"\x03\x05\x00\x00\x00\x00\x01ab", Vsn.V2),
        (b"\xff\xfe", Vsn.V1),
    ],
)
def test_hostile_frames_are_protocol_errors(frame: str | bytes, vsn: Vsn) -> None:
    with pytest.raises(ProtocolError):
        decode(frame, vsn)


def test_oversized_frames_are_refused_before_parsing() -> None:
    with pytest.raises(ProtocolError) as err:
        decode("x" * (MAX_FRAME_BYTES + 1), Vsn.V1)
    assert err.value.close_code == 1009


def test_binary_user_broadcast_push_round_trip() -> None:
    frame = user_broadcast_push("1", "2", "realtime:room", "ping", b"", 1, b'{"n":1}')
    msg = decode(frame, Vsn.V2)
    assert isinstance(msg, UserBroadcastPush)
    assert (msg.topic, msg.ref, msg.join_ref) == ("realtime:room", "2", "1")
    assert msg.broadcast == UserBroadcast("ping", "json", b'{"n":1}', {})

    out = encode_user_broadcast(Vsn.V2, "realtime:room", msg.broadcast)
    assert isinstance(out, bytes)
    assert out[:5] == bytes([4, len("realtime:room"), 4, 0, 1])
    assert out[5:] == b"realtime:roomping" + b'{"n":1}'
    v1 = json.loads(encode_user_broadcast(Vsn.V1, "realtime:room", msg.broadcast) or "")
    assert v1["payload"] == {"type": "broadcast", "event": "ping", "payload": {"n": 1}}


def test_binary_payloads_cannot_reach_v1_sockets() -> None:
    opaque = UserBroadcast("blob", "binary", b"\x00\x01", {})
    assert encode_user_broadcast(Vsn.V1, "realtime:room", opaque) is None
    with pytest.raises(ProtocolError):
        decode(user_broadcast_push("1", "2", "realtime:r", "e", b"", 1, b"{bad"), Vsn.V2)
