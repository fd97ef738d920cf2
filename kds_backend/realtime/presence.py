"""Presence: who is on a topic, as Phoenix.Presence shapes it (`presence_state`, `presence_diff`). Pure state.

Each joined channel may track one entry under its presence key; several channels may share a key (two
screens signed in as the same device), so the state groups metas by key.
"""

from __future__ import annotations

import secrets
from collections.abc import Hashable
from typing import Any

Meta = dict[str, Any]
State = dict[str, dict[str, list[Meta]]]
"""`{key: {"metas": [meta, ...]}}`"""


def new_ref() -> str:
    """A unique `phx_ref`, the tag clients use to tell one tracked entry from another."""
    return secrets.token_urlsafe(12)


class PresenceRegistry:
    def __init__(self) -> None:
        self._topics: dict[Hashable, dict[Hashable, tuple[str, Meta, dict[str, Any]]]] = {}

    def state(self, topic: Hashable) -> State:
        out: State = {}
        for key, meta, _payload in self._topics.get(topic, {}).values():
            out.setdefault(key, {"metas": []})["metas"].append(meta)
        return out

    def track(self, topic: Hashable, owner: Hashable, key: str, payload: dict[str, Any]) -> dict[str, State] | None:
        """Track (or update) `owner`'s entry; the diff to announce, or None if nothing changed."""
        entries = self._topics.setdefault(topic, {})
        previous = entries.get(owner)
        if previous is not None and previous[0] == key and previous[2] == payload:
            return None
        meta: Meta = {**payload, "phx_ref": new_ref()}
        leaves: State = {}
        if previous is not None:
            meta["phx_ref_prev"] = previous[1]["phx_ref"]
            leaves = {previous[0]: {"metas": [previous[1]]}}
        entries[owner] = (key, meta, dict(payload))
        return {"joins": {key: {"metas": [meta]}}, "leaves": leaves}

    def entries(self) -> list[tuple[Hashable, Hashable, dict[str, Any]]]:
        """Every tracked entry as `(topic, owner, payload)`: who is online, for the backup printer
        (kds_backend/printing), which watches whether any screen of a station is."""
        return [
            (topic, owner, payload) for topic, found in self._topics.items() for owner, (_, _, payload) in found.items()
        ]

    def untrack(self, topic: Hashable, owner: Hashable) -> dict[str, State] | None:
        entries = self._topics.get(topic)
        if not entries or owner not in entries:
            return None
        key, meta, _payload = entries.pop(owner)
        if not entries:
            del self._topics[topic]
        return {"joins": {}, "leaves": {key: {"metas": [meta]}}}
