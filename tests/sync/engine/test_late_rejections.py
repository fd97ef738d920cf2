"""Refusals a hub's upstream sends after the hub had answered: recorded once each, kept across restarts."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from api_client.errors import ApiError
from api_client.late_rejection import LateRejection
from api_client.models import DeviceRole, Intent, IntentKind
from sync.engine.late_rejections import LateRejections
from sync.engine.outbox import Outbox
from sync.store import LocalStore
from tests.helpers.timeouts import scaled

TIMEOUT_S = scaled(10.0)


def bump(seq: int) -> Intent:
    return Intent(
        id=uuid.uuid4(), device_id="r1-kds-1", device_seq=seq, kind=IntentKind.bump_item,
        order_id=uuid.uuid4(), item_id=uuid.uuid4(),
    )


class Hub:
    """The hub's side: refusals by seq, answered after a mark, a page at a time; or 404 (no hub)."""

    def __init__(self, rejections: list[LateRejection] | None = None, *, missing: bool = False) -> None:
        self.rejections = rejections or []
        self.missing = missing
        self.asked: list[int] = []

    async def late_rejections(self, after: int) -> list[LateRejection]:
        self.asked.append(after)
        if self.missing:
            raise ApiError(404, "PGRST202", "Could not find the function")
        return [r for r in self.rejections if r.seq > after][:500]


def refused(intent: Intent, seq: int, at: datetime | None = None) -> LateRejection:
    return LateRejection(seq=seq, intent=intent, reason="Burger was voided", rejected_at=at or datetime.now(UTC))


def poller(store: LocalStore, hub: Hub, seen: list[list[Intent]]) -> LateRejections:
    return LateRejections(store, hub, 3600.0, seen.append)


async def test_each_refusal_is_recorded_once_even_across_a_restart(tmp_path: Path) -> None:
    first, second = bump(1), bump(2)
    hub = Hub([refused(first, 10)])
    seen: list[list[Intent]] = []
    with LocalStore(tmp_path / "s.db", device_id="r1-kds-1") as store:
        late = poller(store, hub, seen)
        assert await late.fetch() == [first]
        assert await late.fetch() == []
        shown = [(e.intent, e.reason) for e in Outbox(store, DeviceRole.kds).rejected()]
        assert shown == [(first, "Burger was voided")]
    hub.rejections.append(refused(second, 12))
    with LocalStore(tmp_path / "s.db", device_id="r1-kds-1") as store:
        late = poller(store, hub, seen)
        assert await late.fetch() == [second]
        assert [e.intent for e in Outbox(store, DeviceRole.kds).rejected()] == [first, second]
    assert hub.asked == [0, 10, 10] and seen == [[first], [second]] and late.recorded == 1


async def test_a_new_store_shows_only_recent_refusals_and_a_dismissed_one_never_comes_back(tmp_path: Path) -> None:
    old, recent = bump(1), bump(2)
    hub = Hub([refused(old, 3, datetime.now(UTC) - timedelta(hours=3)), refused(recent, 4)])
    with LocalStore(tmp_path / "s.db", device_id="r1-kds-1") as store:
        late = poller(store, hub, [])
        assert await late.fetch() == [recent]
        outbox = Outbox(store, DeviceRole.kds)
        assert outbox.dismiss(recent.id)
        assert await late.fetch() == [] and outbox.rejected() == []


async def test_a_tap_still_queued_is_left_for_its_resend_to_settle(tmp_path: Path) -> None:
    with LocalStore(tmp_path / "s.db", device_id="r1-kds-1") as store:
        outbox = Outbox(store, DeviceRole.kds)
        queued = outbox.submit("bump_item", uuid.uuid4(), item_id=uuid.uuid4())
        await poller(store, Hub([refused(queued, 5)]), []).fetch()
        assert outbox.rejected() == [] and outbox.depth() == 1


async def test_a_server_without_late_rejections_is_asked_once(tmp_path: Path) -> None:
    hub = Hub(missing=True)
    with LocalStore(tmp_path / "s.db", device_id="r1-kds-1") as store:
        late = poller(store, hub, [])
        late.want()
        await asyncio.wait_for(late.run(), TIMEOUT_S)  # returns: never asks again
    assert hub.asked == [0] and not late.supported


async def test_a_failed_ask_is_tried_again_when_wanted(tmp_path: Path) -> None:
    intent = bump(1)
    hub = Hub([refused(intent, 1)])
    failed, recorded = asyncio.Event(), asyncio.Event()
    real = hub.late_rejections

    async def offline_once(after: int) -> list[LateRejection]:
        if not failed.is_set():
            failed.set()
            raise ConnectionError("offline")
        return await real(after)

    hub.late_rejections = offline_once  # type: ignore[method-assign]
    seen: list[list[Intent]] = []
    with LocalStore(tmp_path / "s.db", device_id="r1-kds-1") as store:
        late = LateRejections(store, hub, 3600.0, lambda intents: (seen.append(intents), recorded.set()))
        task = asyncio.create_task(late.run())
        try:
            late.want()
            await asyncio.wait_for(failed.wait(), TIMEOUT_S)
            late.want()  # e.g. live again
            await asyncio.wait_for(recorded.wait(), TIMEOUT_S)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task
    assert seen == [[intent]]
