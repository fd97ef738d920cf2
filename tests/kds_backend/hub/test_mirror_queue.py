"""The hub's queue of LAN taps for upstream: committed with the hub's own decision, or not at all.

A tap the hub applied is queued in the hub's database in the same transaction, then moved into the mirror engine's
outbox by the projector. A kill (or a failed commit) between two separate commits once left a tap queued for
upstream yet unknown to the hub's ledger: the screen's resend was then decided afresh at the hub and refused, while
upstream applied the queued copy.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from uuid import uuid4

import pytest
import sqlalchemy as sa

from api_client.models import DeviceRole, Intent, IntentKind, IntentStatus, OrderIntake
from api_client.token_provider import StaticTokenProvider
from kds_backend.db.database import Database
from kds_backend.db.tables import hub_intents, intent_ledger
from kds_backend.db.writer import Writer
from kds_backend.hub.mirror import UpstreamMirror
from kds_backend.hub.settings import UpstreamSettings
from kds_backend.hub.upstream_auth import UpstreamAccount
from kds_backend.intents import apply_intents
from kds_backend.orders import create_order
from tests.conftest import token_for


class Crash(Exception):
    """The hub's write fails after the tap was decided (the process dies, the disk is full)."""


@pytest.fixture
async def mirror(tmp_path: Path, db: Database) -> AsyncIterator[UpstreamMirror]:
    """A hub's mirror that is never started: its engine's store is real, nothing goes upstream."""
    token = token_for(DeviceRole.admin, device="hub-1")
    settings = UpstreamSettings("http://upstream.invalid", "anon", tmp_path / "upstream-mirror.sqlite3", token=token)
    account = UpstreamAccount(StaticTokenProvider(token), "r1", "hub-1")
    made = UpstreamMirror(settings, db, account)
    yield made
    await made.engine.stop()


def bump(db: Database) -> Intent:
    intake = OrderIntake.model_validate({"number": "Q1", "items": [{"name": "Burger", "station": "grill"}]})
    order = db.write(lambda w: create_order(w, "r1", intake, {}))
    return Intent(
        id=uuid4(), device_id="grill-1", device_seq=1, kind=IntentKind.bump_item,
        order_id=order.id, item_id=order.order_items[0].id, station="grill",
    )


def apply_at_hub(mirror: UpstreamMirror, intent: Intent, crash: bool = False):
    def write(w: Writer) -> list[Intent]:
        results = apply_intents(w, "r1", DeviceRole.kds, [intent])
        queued = mirror.forward(w, "r1", [intent], results)
        if crash:
            raise Crash
        return queued

    return mirror.db.write(write)


def ledger(db: Database) -> dict:
    return db.read(lambda c: {r.intent_id: r.status for r in c.execute(sa.select(intent_ledger))})


def waiting_at_hub(db: Database) -> int:
    return db.read(lambda c: c.execute(sa.select(sa.func.count()).select_from(hub_intents)).scalar_one())


async def test_a_tap_whose_hub_write_fails_is_queued_nowhere_and_its_resend_is_applied_once(
    db: Database, mirror: UpstreamMirror
) -> None:
    intent = bump(db)
    with pytest.raises(Crash):
        apply_at_hub(mirror, intent, crash=True)
    assert ledger(db) == {} and waiting_at_hub(db) == 0 and mirror.engine.outbox.depth() == 0

    # The screen never heard back, so it resends: the hub decides it for the first time, and queues it once.
    assert apply_at_hub(mirror, intent) == [intent]
    assert ledger(db) == {intent.id: IntentStatus.applied.value}
    assert waiting_at_hub(db) == 1 and mirror.engine.outbox.depth() == 0

    moved, refused = db.write(lambda w: mirror._project(w, [], False))
    assert moved == [intent] and refused == []
    assert waiting_at_hub(db) == 0 and mirror.engine.outbox.depth() == 1


async def test_a_move_repeated_after_a_kill_queues_each_tap_once(db: Database, mirror: UpstreamMirror) -> None:
    intent = bump(db)
    apply_at_hub(mirror, intent)

    def move_then_die(w: Writer) -> None:
        mirror._project(w, [], False)
        raise Crash  # the outbox has committed the move; the hub's delete of its queue has not

    with pytest.raises(Crash):
        db.write(move_then_die)
    assert waiting_at_hub(db) == 1 and mirror.engine.outbox.depth() == 1
    moved, _ = db.write(lambda w: mirror._project(w, [], False))
    assert moved == [intent]
    assert waiting_at_hub(db) == 0 and mirror.engine.outbox.depth() == 1
