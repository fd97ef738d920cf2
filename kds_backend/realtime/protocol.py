"""Phoenix channel frames in both serializers Supabase Realtime speaks. Sans-I/O: bytes or text in, frames out.

- `vsn=1.0.0`: text JSON objects `{"topic","event","payload","ref"[,"join_ref"]}`. Server frames carry no
  `join_ref` (Phoenix's V1 serializer drops it), which is what the official Python client expects.
- `vsn=2.0.0`: text JSON arrays `[join_ref, ref, topic, event, payload]`, plus binary user broadcasts:
  kind 3 (client → server push) and kind 4 (server → client), as Supabase's V2 serializer defines them.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from enum import StrEnum
from functools import partial
from typing import Any, Literal

MAX_FRAME_BYTES = 1_048_576
"""Largest frame accepted from a client; bigger ones close the socket (1009) before any parsing."""

MAX_REF_CHARS = 255
"""Refs, topics and events travel as one-byte-length fields in binary frames; longer ones are hostile."""

KIND_PUSH = 0
KIND_USER_BROADCAST_PUSH = 3
KIND_USER_BROADCAST = 4

CLOSE_INVALID_DATA = 1007
CLOSE_POLICY = 1008
CLOSE_TOO_BIG = 1009

_SURROGATE = re.compile("[\ud800-\udfff]")
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_SURROGATE_ESCAPE_BYTES = re.compile(rb"\\u[dD][89a-fA-F]")
LONE_SURROGATE = (
    "InvalidPayload: the message holds a lone surrogate (\\ud800-\\udfff), which UTF-8 cannot carry; send valid Unicode"
)

# Compact separators keep frames small; NaN and Infinity are not JSON, and a JavaScript client would choke on them.
dumps = partial(json.dumps, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class Vsn(StrEnum):
    V1 = "1.0.0"
    V2 = "2.0.0"


def negotiate(requested: str | None) -> Vsn | None:
    """The serializer for a `vsn` query parameter (Phoenix matches `~> 1.0.0` / `~> 2.0.0`); None if unsupported."""
    if requested is None or requested == "":
        return Vsn.V1
    parts = requested.split(".")
    if len(parts) != 3 or not all(p.isdigit() for p in parts):
        return None
    major, minor = int(parts[0]), int(parts[1])
    if minor != 0:
        return None
    return {1: Vsn.V1, 2: Vsn.V2}.get(major)


class ProtocolError(Exception):
    """A frame that cannot be a Phoenix message. The socket that sent it is closed with `close_code`."""

    def __init__(self, message: str, close_code: int = CLOSE_INVALID_DATA) -> None:
        super().__init__(message)
        self.close_code = close_code


class LoneSurrogate(Exception):
    """A well-formed message holding a lone surrogate (`"\\ud800"` is valid JSON; its Python str cannot be
    UTF-8 encoded, so relayed as it is it would break the send of every socket it reaches). Refused to its
    sender with an error reply; the socket stays open. Topic and refs are given with the surrogates replaced."""

    def __init__(self, topic: str, ref: str | None, join_ref: str | None) -> None:
        super().__init__(LONE_SURROGATE)
        self.topic, self.ref, self.join_ref = _printable(topic), _printable(ref), _printable(join_ref)


def _printable(text: str | None) -> Any:
    return text if text is None else _SURROGATE.sub("\ufffd", text)


def _encodable(value: Any) -> bool:
    try:
        dumps(value).encode()
    except UnicodeEncodeError:
        return False
    return True


@dataclass(frozen=True, slots=True)
class Message:
    """One Phoenix message, either direction. `payload` is a JSON object."""

    topic: str
    event: str
    payload: dict[str, Any]
    ref: str | None = None
    join_ref: str | None = None


@dataclass(frozen=True, slots=True)
class UserBroadcast:
    """A broadcast whose user payload travels as raw bytes (V2 binary frames), JSON-encoded or opaque."""

    user_event: str
    encoding: Literal["json", "binary"]
    data: bytes
    metadata: dict[str, Any] = field(default_factory=dict)

    def json_payload(self) -> dict[str, Any] | None:
        """The broadcast as a V1 (JSON) socket sees it; None for binary data, which V1 cannot carry."""
        if self.encoding != "json":
            return None
        out: dict[str, Any] = {"type": "broadcast", "event": self.user_event, "payload": json.loads(self.data)}
        if self.metadata:
            out["meta"] = self.metadata
        return out


@dataclass(frozen=True, slots=True)
class UserBroadcastPush:
    """A client's binary broadcast (V2 kind 3)."""

    topic: str
    ref: str | None
    join_ref: str | None
    broadcast: UserBroadcast


Inbound = Message | UserBroadcastPush


# ---------------------------------------------------------------- decoding


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def _loads(text: str | bytes) -> Any:
    try:
        if isinstance(text, bytes):
            # UTF-8 only (JSON between systems is UTF-8, RFC 8259). `json.loads` would take UTF-16 and -32 too, with
            # lone surrogates let through (`surrogatepass`) where the `\\udXXX` check below cannot see them.
            text = text.decode()
        return json.loads(text, parse_constant=_reject_constant)
    except (ValueError, RecursionError, UnicodeDecodeError) as exc:
        # RecursionError: `[[[[...` nested deeper than the interpreter allows is a cheap attack, not a crash.
        raise ProtocolError(f"frame is not valid JSON: {type(exc).__name__}") from None


def _text_field(value: Any, name: str, *, optional: bool = False) -> str | None:
    if value is None and optional:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise ProtocolError(f"`{name}` must be a string")
    text = str(value)
    if len(text) > MAX_REF_CHARS:
        raise ProtocolError(f"`{name}` is longer than {MAX_REF_CHARS} characters")
    return text


def _message(topic: Any, event: Any, payload: Any, ref: Any, join_ref: Any) -> Message:
    if not isinstance(payload, dict):
        raise ProtocolError("`payload` must be a JSON object")
    return Message(
        topic=_text_field(topic, "topic") or "",
        event=_text_field(event, "event") or "",
        payload=payload,
        ref=_text_field(ref, "ref", optional=True),
        join_ref=_text_field(join_ref, "join_ref", optional=True),
    )


def decode(data: str | bytes, vsn: Vsn) -> Inbound:
    """The message in one websocket frame; `ProtocolError` for anything that is not one."""
    if len(data) > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame larger than {MAX_FRAME_BYTES} bytes", CLOSE_TOO_BIG)
    if vsn is Vsn.V2 and isinstance(data, bytes):
        return _decode_binary(data)
    raw = _loads(data)
    if vsn is Vsn.V1:
        if not isinstance(raw, dict):
            raise ProtocolError("vsn 1.0.0 frames are JSON objects")
        missing = {"topic", "event", "payload"} - raw.keys()
        if missing:
            raise ProtocolError(f"frame lacks {', '.join(sorted(missing))}")
        return _checked(_message(raw["topic"], raw["event"], raw["payload"], raw.get("ref"), raw.get("join_ref")), data)
    if not isinstance(raw, list) or len(raw) < 5:
        raise ProtocolError("vsn 2.0.0 frames are arrays [join_ref, ref, topic, event, payload]")
    join_ref, ref, topic, event, payload = raw[:5]
    return _checked(_message(topic, event, payload, ref, join_ref), data)


def _checked(msg: Message, data: str | bytes) -> Message:
    """`msg`, unless it holds a lone surrogate (`LoneSurrogate`). Valid UTF-8 frames can only smuggle one in as
    a `\\udXXX` escape, so frames without one cost a regex scan, no more."""
    if isinstance(data, str):
        suspect = _SURROGATE_ESCAPE.search(data) is not None
    else:
        suspect = _SURROGATE_ESCAPE_BYTES.search(data) is not None
    if suspect and not _encodable([msg.topic, msg.event, msg.ref, msg.join_ref, msg.payload]):
        raise LoneSurrogate(msg.topic, msg.ref, msg.join_ref)
    return msg


def _decode_binary(data: bytes) -> UserBroadcastPush:
    if not data:
        raise ProtocolError("empty binary frame")
    kind = data[0]
    if kind != KIND_USER_BROADCAST_PUSH:
        # Kind 0 (binary push) carries no user event; nothing Supabase's clients send uses it.
        raise ProtocolError(f"unsupported binary frame kind {kind}", 1003)
    if len(data) < 7:
        raise ProtocolError("truncated binary frame header")
    sizes = data[1:6]
    encoding = data[6]
    offset = 7
    fields: list[bytes] = []
    for size in sizes:
        chunk = data[offset : offset + size]
        if len(chunk) != size:
            raise ProtocolError("binary frame shorter than its header says")
        fields.append(chunk)
        offset += size
    try:
        join_ref, ref, topic, user_event, metadata_raw = (f.decode() for f in fields)
    except UnicodeDecodeError:
        raise ProtocolError("binary frame header fields must be UTF-8") from None
    body = data[offset:]
    metadata = _loads(metadata_raw) if metadata_raw else {}
    if not isinstance(metadata, dict):
        raise ProtocolError("binary frame metadata must be a JSON object")
    if _SURROGATE_ESCAPE.search(metadata_raw) and not _encodable(metadata):
        raise LoneSurrogate(topic, ref or None, join_ref or None)
    if encoding == 1:
        # Validated now, so no receiving socket ever gets invalid JSON, nor (V1 sockets get it re-encoded as
        # text) a lone surrogate.
        parsed = _loads(body)
        if _SURROGATE_ESCAPE_BYTES.search(body) and not _encodable(parsed):
            raise LoneSurrogate(topic, ref or None, join_ref or None)
    elif encoding != 0:
        raise ProtocolError(f"unknown payload encoding {encoding}")
    broadcast = UserBroadcast(user_event, "json" if encoding == 1 else "binary", bytes(body), metadata)
    return UserBroadcastPush(topic, ref or None, join_ref or None, broadcast)


# ---------------------------------------------------------------- encoding


def encode_raw(vsn: Vsn, join_ref: str | None, ref: str | None, topic: str, event: str, payload_json: str) -> str:
    """A text frame around an already JSON-encoded payload, so a payload shared by many sockets is encoded once."""
    if vsn is Vsn.V1:
        return f'{{"topic":{dumps(topic)},"event":{dumps(event)},"payload":{payload_json},"ref":{dumps(ref)}}}'
    return f"[{dumps(join_ref)},{dumps(ref)},{dumps(topic)},{dumps(event)},{payload_json}]"


def encode(msg: Message, vsn: Vsn) -> str:
    return encode_raw(vsn, msg.join_ref, msg.ref, msg.topic, msg.event, dumps(msg.payload))


def reply(vsn: Vsn, topic: str, ref: str | None, join_ref: str | None, status: str, response: dict[str, Any]) -> str:
    """A `phx_reply` frame answering the message with `ref`."""
    return encode(Message(topic, "phx_reply", {"status": status, "response": response}, ref, join_ref), vsn)


def encode_user_broadcast(vsn: Vsn, topic: str, broadcast: UserBroadcast) -> str | bytes | None:
    """A user broadcast for one socket: binary kind 4 on V2, JSON on V1, None if V1 cannot carry it."""
    if vsn is Vsn.V1:
        payload = broadcast.json_payload()
        return None if payload is None else encode(Message(topic, "broadcast", payload), vsn)
    topic_b = topic.encode()
    event_b = broadcast.user_event.encode()
    meta_b = dumps(broadcast.metadata).encode() if broadcast.metadata else b""
    header = bytes(
        [
            KIND_USER_BROADCAST,
            len(topic_b),
            len(event_b),
            len(meta_b),
            1 if broadcast.encoding == "json" else 0,
        ]
    )
    return header + topic_b + event_b + meta_b + broadcast.data
