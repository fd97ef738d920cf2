"""Phoenix frames as a client sees them, in both serializers. Sans-I/O: text or bytes in, `Frame` out.

- `vsn=1.0.0` (the default, what the official Python client speaks): JSON objects
  `{"topic","event","payload","ref","join_ref"}`; server frames usually omit `join_ref`.
- `vsn=2.0.0`: JSON arrays `[join_ref, ref, topic, event, payload]`; binary frames carry user broadcasts,
  which this client does not subscribe to, so `decode` rejects them like any other frame it cannot use.

The companion's server codec (kds_backend.realtime.protocol) is the same wire format; it stays separate because
the server also validates hostile input sizes and builds binary broadcasts, none of which a client needs.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum
from functools import partial
from typing import Any

# Compact separators keep frames small; NaN/Infinity are not JSON and a server would reject them.
_dumps = partial(json.dumps, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


class Vsn(StrEnum):
    V1 = "1.0.0"
    V2 = "2.0.0"


class FrameError(ValueError):
    """A frame that is not a Phoenix message."""


@dataclass(frozen=True, slots=True)
class Frame:
    topic: str
    event: str
    payload: dict[str, Any]
    ref: str | None = None
    join_ref: str | None = None


def encode(frame: Frame, vsn: Vsn) -> str:
    if vsn is Vsn.V1:
        return _dumps(
            {
                "topic": frame.topic,
                "event": frame.event,
                "payload": frame.payload,
                "ref": frame.ref,
                "join_ref": frame.join_ref,
            }
        )
    return _dumps([frame.join_ref, frame.ref, frame.topic, frame.event, frame.payload])


def _ref(value: Any) -> str | None:
    # Phoenix refs are strings, but some servers echo integers; normalise so comparisons work.
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int):
        raise FrameError("ref must be a string")
    return str(value)


def decode(data: str | bytes, vsn: Vsn) -> Frame:
    if isinstance(data, bytes) and vsn is Vsn.V2:
        raise FrameError("binary frames (user broadcasts) are not used by this client")
    try:
        raw = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise FrameError(f"not JSON: {type(exc).__name__}") from None
    if vsn is Vsn.V1:
        if not isinstance(raw, dict):
            raise FrameError("vsn 1.0.0 frames are JSON objects")
        topic, event, payload = raw.get("topic"), raw.get("event"), raw.get("payload")
        ref, join_ref = raw.get("ref"), raw.get("join_ref")
    else:
        if not isinstance(raw, list) or len(raw) != 5:
            raise FrameError("vsn 2.0.0 frames are arrays [join_ref, ref, topic, event, payload]")
        join_ref, ref, topic, event, payload = raw
    if not isinstance(topic, str) or not isinstance(event, str) or not isinstance(payload, dict):
        raise FrameError("frame needs a string topic and event and an object payload")
    return Frame(topic, event, payload, _ref(ref), _ref(join_ref))
