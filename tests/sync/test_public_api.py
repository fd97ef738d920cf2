"""The engine's public API is what `sync/__init__.py` exports: pinned here, so a change to it is a decision."""

from __future__ import annotations

import sync

PUBLIC = {
    "Backoff",
    "ChangeEvent",
    "ConnectionState",
    "EngineConfig",
    "MenuLine",
    "OPEN_STATUSES",
    "Observable",
    "OutboxEntry",
    "STATION_OPEN_ITEMS",
    "SetAside",
    "SyncEngine",
    "claim",
    "station_on_hold",
}


def test_the_public_api_is_exactly_the_pinned_names_and_each_resolves() -> None:
    assert set(sync.__all__) == PUBLIC
    assert all(getattr(sync, name) is not None for name in PUBLIC)
    # The engine, its config and what a screen shows of the link are the heart of it: the real classes.
    assert sync.SyncEngine.__module__ == "sync.engine.engine"
    assert sync.ConnectionState.LIVE.name == "LIVE"
