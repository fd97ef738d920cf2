"""The engine's display cache never shows an order other than a fresh read would: through the real store, taps,
answers and server changes in random order, each listing compared with one made without the cache."""

from __future__ import annotations

import random
from collections.abc import Iterator
from pathlib import Path

import pytest

from api_client.models import DeviceRole, OrderWithItems
from api_client.order_machine import Rejection, apply_intent
from sync.engine import display_cache
from sync.engine.display_cache import DisplayCache
from sync.engine.outbox import Outbox
from sync.engine.tickets import open_tickets, recently_bumped
from sync.store import LocalStore, outbox_rows, read_rows
from tests.sync.store.support import NOW, order


@pytest.fixture
def store(tmp_path: Path) -> Iterator[LocalStore]:
    s = LocalStore(tmp_path / "screen.db", device_id="r1-kds-1")
    yield s
    s.close()


def listings(store: LocalStore, cache: DisplayCache | None) -> tuple[list[OrderWithItems], ...]:
    with store.snapshot() as conn:
        return (
            open_tickets(conn, DeviceRole.kds, "grill", cache=cache),
            open_tickets(conn, DeviceRole.kds, None, cache=cache),
            [o for o, _ in recently_bumped(conn, DeviceRole.kds, "grill", NOW.replace(year=2000), cache=cache)],
        )


@pytest.mark.parametrize("seed", range(6))
def test_cached_listings_equal_fresh_ones_through_taps_answers_and_server_changes(store: LocalStore, seed: int) -> None:
    rng = random.Random(seed)
    outbox = Outbox(store, DeviceRole.kds)
    server = {o.id: o for o in (order(f"A{n}", items=2) for n in range(4))}
    with store.transaction() as conn:
        for o in server.values():
            read_rows.save_order(conn, o)
    cache = DisplayCache(DeviceRole.kds)
    for step in range(60):
        what = rng.random()
        target = rng.choice(list(server.values()))
        if what < 0.55:  # a cook's tap
            kind = rng.choice(["bump_item", "unbump_item", "bump_ticket", "recall", "start", "rush"])
            item = rng.choice(target.order_items)
            item_id = item.id if kind.endswith("_item") else None
            outbox.submit(kind, target.id, item_id=item_id, station="grill")
        elif what < 0.85:  # the server answers the oldest intent: applied (its row changes) or refused
            with store.transaction() as conn:
                pending = outbox_rows.unsettled(conn, 1)
                if not pending:
                    continue
                intent = pending[0].intent
                assert intent.order_id is not None
                outcome = apply_intent(server[intent.order_id], intent, DeviceRole.kds)
                if not isinstance(outcome, Rejection):
                    new = outcome.model_copy(update={"version": outcome.version + 1, "change_seq": 100 + step})
                    server[new.id] = new
                    read_rows.save_order(conn, new)
                outbox_rows.confirm(conn, [intent.id])
        else:  # a change made elsewhere: the server's row moves on under the pending taps
            new = target.model_copy(
                update={"notes": f"note {step}", "version": target.version + 1, "change_seq": 100 + step}
            )
            server[new.id] = new
            with store.transaction() as conn:
                read_rows.save_order(conn, new)
        assert listings(store, cache) == listings(store, None), f"step {step}"
    assert len(cache) > 0


def test_an_unchanged_order_is_not_parsed_again_and_a_tap_folds_only_itself(
    store: LocalStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    shown = order("B1", items=2)
    with store.transaction() as conn:
        read_rows.save_order(conn, shown)
    cache = DisplayCache(DeviceRole.kds)
    parsed: list[str] = []
    folded: list[int] = []
    real_parse, real_fold = display_cache.parse_order, display_cache._folded
    monkeypatch.setattr(
        display_cache, "parse_order", lambda data, items: parsed.append(data) or real_parse(data, items)
    )
    monkeypatch.setattr(
        display_cache, "_folded", lambda o, payloads, role: folded.append(len(payloads)) or real_fold(o, payloads, role)
    )
    outbox = Outbox(store, DeviceRole.kds)
    listings(store, cache)
    assert len(parsed) == 1
    for tap in range(3):
        outbox.submit(
            "bump_item" if tap % 2 == 0 else "unbump_item", shown.id, item_id=shown.order_items[0].id, station="grill"
        )
        listings(store, cache)
    assert len(parsed) == 1, "the order's rows did not change: parsed once"
    assert [n for n in folded if n] == [1, 1, 1], "each listing after a tap folds that tap alone"
