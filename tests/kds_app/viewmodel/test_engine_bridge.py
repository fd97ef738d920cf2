"""The engine bridge (issue 18): every observable of a real `SyncEngine` the Qt side listens to comes out as a Qt
signal carrying the new value, which the bridge also keeps; `detach()` ends them all. The orders a change batch
touched come from a real engine syncing with a live companion."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from PySide6.QtCore import SignalInstance
from pytestqt.qtbot import QtBot

from api_client.hub_link import UpstreamLink
from api_client.models import DeviceRole
from kds_app.viewmodel.engine_bridge import EngineBridge
from sync import ConnectionState, Observable, SyncEngine
from tests.helpers.engine_live import pos_orders, running, until
from tests.kds_app.conftest import TIMEOUT_S, engine_config
from tests.live_server import LiveServer

Case = tuple[str, Callable[[SyncEngine, Observable[str | None]], Observable[Any]], str, object]

# (signal, the observable behind it, the bridge's attribute, a value the observable does not hold yet)
CASES: list[Case] = [
    ("connection_changed", lambda e, _s: e.connection_state, "connection_state", ConnectionState.OFFLINE),
    ("queue_depth_changed", lambda e, _s: e.queue_depth, "queue_depth", 3),
    ("hub_upstream_changed", lambda e, _s: e.hub_upstream, "hub_upstream", UpstreamLink(connection="offline")),
    ("stale_changed", lambda e, _s: e.stale_since, "stale_since", 12.5),
    ("eighty_sixed_changed", lambda e, _s: e.eighty_sixed, "eighty_sixed", ("calamari",)),
    ("recipes_changed", lambda e, _s: e.recipes, "recipes", {"double burger": (("patty", 2),)}),
    ("caught_up_changed", lambda e, _s: e.caught_up, "caught_up", True),
    ("sign_in_needed_changed", lambda _e, s: s, "sign_in_needed", "the password was changed"),
]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[SyncEngine]:
    # Never started: its observables are set by hand, as the realtime client, outbox and hub link set them.
    made = SyncEngine(engine_config("http://127.0.0.1:9", tmp_path, "r1-kds-grill-1", DeviceRole.kds, ("grill",)))
    yield made
    made.store.close()


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_each_observable_comes_out_as_its_signal_with_the_new_value(
    qtbot: QtBot, engine: SyncEngine, case: Case
) -> None:
    name, observable_of, attribute, value = case
    sign_in: Observable[str | None] = Observable(None)
    bridge = EngineBridge(engine, sign_in)
    observable = observable_of(engine, sign_in)
    assert getattr(bridge, attribute) == observable.value != value  # starts from what the engine holds
    signal: SignalInstance = getattr(bridge, name)
    with qtbot.waitSignal(signal, timeout=1000) as blocker:
        observable.set(value)
    assert blocker.args == [value]
    assert getattr(bridge, attribute) == value  # what a window redrawing later reads


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_after_detach_no_observable_reaches_a_signal(qtbot: QtBot, engine: SyncEngine, case: Case) -> None:
    name, observable_of, attribute, value = case
    sign_in: Observable[str | None] = Observable(None)
    bridge = EngineBridge(engine, sign_in)
    observable = observable_of(engine, sign_in)
    before = getattr(bridge, attribute)
    bridge.detach()
    bridge.detach()  # the session and a closing window may both stop it
    assert not bridge.attached
    with qtbot.assertNotEmitted(getattr(bridge, name)):
        observable.set(value)
    assert observable.value == value and getattr(bridge, attribute) == before


@pytest.mark.slow
async def test_a_change_batch_comes_out_as_the_orders_it_touched_until_detached(
    companion: LiveServer, tmp_path: Path, qtbot: QtBot
) -> None:
    async with running(companion.url, tmp_path, "r1-kds-grill-1") as engine:
        bridge = EngineBridge(engine)
        batches: list[frozenset[UUID]] = []
        bridge.changes.connect(batches.append)
        (first,) = await pos_orders(companion.url, ["701"])
        await until(engine, lambda: any(first in ids for ids in batches), TIMEOUT_S)
        assert all(isinstance(ids, frozenset) for ids in batches)  # the engine's own value, not a converted one

        bridge.detach()
        seen = len(batches)
        async with engine.changes() as reported:  # the engine's own change queue, which the bridge never used
            (second,) = await pos_orders(companion.url, ["702"])
            async with asyncio.timeout(TIMEOUT_S):
                while second not in await reported.get():
                    pass
        assert len(batches) == seen  # the engine reported the order; the bridge said nothing
