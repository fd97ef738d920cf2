"""Helpers for driving the sans-I/O core: client frames in both serializers, and what came out."""

from __future__ import annotations

import json
from typing import Any

from kds_backend.realtime.auth import make_verifier
from kds_backend.realtime.channel_state import Connection
from kds_backend.realtime.config import RealtimeConfig
from kds_backend.realtime.effects import CloseSocket, Effect, Send
from kds_backend.realtime.protocol import Vsn
from tests.conftest import JWT_SECRET

VERIFY = make_verifier(JWT_SECRET)


def frame(
    vsn: Vsn, topic: str, event: str, payload: dict[str, Any], ref: str | None = None, join_ref: str | None = None
) -> str:
    if vsn is Vsn.V1:
        return json.dumps({"topic": topic, "event": event, "payload": payload, "ref": ref, "join_ref": join_ref})
    return json.dumps([join_ref, ref, topic, event, payload])


def join_payload(token: str | None, bindings: list[dict[str, Any]] | None = None, **config: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "config": {
            "broadcast": {"ack": False, "self": False},
            "presence": {"key": "", "enabled": False},
            "private": False,
            "postgres_changes": bindings or [],
            **config,
        }
    }
    if token is not None:
        body["access_token"] = token
    return body


def sent(effects: list[Effect] | list[Send], vsn: Vsn = Vsn.V1) -> list[dict[str, Any]]:
    """The JSON frames among effects, normalised to V1's object shape."""
    out = []
    for effect in effects:
        if isinstance(effect, Send) and isinstance(effect.frame, str):
            data = json.loads(effect.frame)
            if vsn is Vsn.V2:
                join_ref, ref, topic, event, payload = data
                data = {"topic": topic, "event": event, "payload": payload, "ref": ref, "join_ref": join_ref}
            out.append(data)
    return out


def closes(effects: list[Effect]) -> list[CloseSocket]:
    return [e for e in effects if isinstance(e, CloseSocket)]


def connection(token: str, now: float, vsn: Vsn = Vsn.V1, **config: Any) -> Connection:
    return Connection(vsn, token, VERIFY, now, RealtimeConfig(**config))
