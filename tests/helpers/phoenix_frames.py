"""Phoenix frames for the sans-I/O realtime client's tests: a server frame in either serializer, and the frames
a client's outputs send, read back in V1's object shape."""

from __future__ import annotations

import json
from typing import Any

from sync.realtime.frames import Vsn
from sync.realtime.phoenix import Output, Send

TOPIC = "realtime:orders-feed"


def server(
    vsn: Vsn,
    event: str,
    payload: dict[str, Any],
    ref: str | None = None,
    join_ref: str | None = None,
    topic: str = TOPIC,
) -> str:
    if vsn is Vsn.V1:
        return json.dumps({"topic": topic, "event": event, "payload": payload, "ref": ref})
    return json.dumps([join_ref, ref, topic, event, payload])


def sent(outputs: list[Output], vsn: Vsn = Vsn.V1) -> list[dict[str, Any]]:
    """The frames among outputs, normalised to V1's object shape."""
    frames = []
    for out in outputs:
        if isinstance(out, Send):
            raw = json.loads(out.text)
            if vsn is Vsn.V2:
                assert isinstance(raw, list)
                join_ref, ref, topic, event, payload = raw
                raw = {"topic": topic, "event": event, "payload": payload, "ref": ref, "join_ref": join_ref}
            frames.append(raw)
    return frames
