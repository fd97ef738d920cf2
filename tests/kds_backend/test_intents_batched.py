"""Set-based `apply_intents` decides exactly as one intent at a time would (SQLite and PostgreSQL).

A batch is read once (ledger, cursors, orders) and written at its end; these tests run random batches both
ways in one transaction each, rolled back between, and compare every result, every published change and
every row the two leave behind. The batches mix every intent kind, the same id twice in a batch, ids from
earlier batches and from another kitchen, reused device sequences, unknown and missing orders, and 86s.
"""

from __future__ import annotations

import itertools
import random
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine

from api_client.models import DeviceRole, Intent, IntentKind, IntentResult, OrderIntake
from kds_backend import intents as intents_module
from kds_backend.db.engine import make_engine, migrate
from kds_backend.db.tables import device_cursors, intent_ledger, menu_availability, order_items, orders
from kds_backend.db.writer import Writer, write_transaction
from kds_backend.intake import intake_order
from kds_backend.intents import apply_intents

HOME, ELSEWHERE = "r1", "r2"
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
STATIONS = ["grill", "fryer", "salad"]


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    eng = make_engine(database_url)
    migrate(eng)
    yield eng
    eng.dispose()


def _make_orders(engine: Engine, rng: random.Random) -> list[dict[str, Any]]:
    made = []
    with write_transaction(engine) as w:
        for n in range(4):
            items = [
                {
                    "name": f"item{n}-{k}",
                    "station": rng.choice(STATIONS),
                    "course": rng.choice([1, 1, 2, 3]),
                    "held": rng.random() < 0.3,
                }
                for k in range(rng.randint(1, 4))
            ]
            body = OrderIntake.model_validate({"number": f"A{n}", "items": items})
            made.append(intake_order(w, HOME, str(uuid.uuid4()), body, "/api/v1/orders").body)
        foreign = OrderIntake.model_validate({"number": "F1", "items": [{"name": "x", "station": "grill"}]})
        made.append(intake_order(w, ELSEWHERE, str(uuid.uuid4()), foreign, "/api/v1/orders").body)
    return made


def _random_intents(rng: random.Random, made: list[dict[str, Any]], used: list[Intent], n: int) -> list[Intent]:
    """`n` intents, sometimes re-sending one of `used` (earlier ones and this batch's own)."""
    seqs = {"d1": 1_000 + len(used), "d2": 2_000 + len(used)}
    out: list[Intent] = []
    for _ in range(n):
        pool = used + out
        if pool and rng.random() < 0.15:
            out.append(rng.choice(pool))  # the same intent again: a duplicate
            continue
        device = rng.choice(["d1", "d2"])
        seqs[device] += 1 if rng.random() > 0.1 else -3  # now and then a used sequence number
        kind = rng.choice(list(IntentKind))
        order = rng.choice(made)
        target = rng.random()
        order_id: Any = order["id"] if target > 0.1 else (None if target > 0.05 else str(uuid.uuid4()))
        item_id = rng.choice(order["order_items"])["id"] if rng.random() < 0.7 else None
        args: dict[str, Any] = {}
        if kind is IntentKind.eighty_six:
            args = {"item_name": rng.choice(["Soup", "Pie"]), "available": rng.random() < 0.5}
        elif kind is IntentKind.rush:
            args = {"priority": rng.choice(["rush", "normal"])}
        elif rng.random() < 0.2:
            args = {"course": rng.choice([1, 2, 3])}
        out.append(
            Intent.model_validate(
                {
                    "id": str(uuid.uuid4()),
                    "device_id": device,
                    "device_seq": max(1, seqs[device]),
                    "kind": kind.value,
                    "order_id": order_id,
                    "item_id": item_id,
                    "station": rng.choice([None, *STATIONS]) if item_id is None else None,
                    "args": args,
                }
            )
        )
    return out


def _deterministic_ids(monkeypatch: pytest.MonkeyPatch) -> Callable[[int], None]:
    """New rows of an 86 get ids from a counter, reset before each run, so both runs make the same rows."""
    counter = itertools.count(1)

    def reset(start: int) -> None:
        nonlocal counter
        counter = itertools.count(start)

    monkeypatch.setattr(intents_module, "uuid4", lambda: uuid.UUID(int=next(counter) + 1))
    return reset


def _run(engine: Engine, role: DeviceRole, batch: list[Intent], one_by_one: bool) -> dict[str, Any]:
    """Apply `batch`, note everything it did, and roll it back."""
    tables = [orders, order_items, intent_ledger, device_cursors, menu_availability]
    with engine.connect() as conn:
        tx = conn.begin()
        w = Writer(conn, NOW)
        w._lock()
        if one_by_one:
            results: list[IntentResult] = [r for i in batch for r in apply_intents(w, HOME, role, [i])]
        else:
            results = apply_intents(w, HOME, role, batch)
        w.flush()
        rows = {
            t.name: sorted((dict(r._mapping) for r in conn.execute(sa.select(t))), key=lambda r: str(sorted(r.items())))
            for t in tables
        }
        tx.rollback()
    return {
        "results": [r.model_dump(mode="json") for r in results],
        "changes": [(c.table, c.type, c.record, c.old_record, c.seq) for c in w.changes],
        "rows": rows,
    }


@pytest.mark.parametrize("seed", range(6))
def test_a_batch_comes_out_as_one_intent_at_a_time(engine: Engine, seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(seed)
    reset_ids = _deterministic_ids(monkeypatch)
    made = _make_orders(engine, rng)
    # Earlier batches, committed: some of their ids come back as duplicates, one from another kitchen.
    earlier = _random_intents(rng, made, [], 30)
    with write_transaction(engine) as w:
        apply_intents(w, HOME, DeviceRole.expo, earlier)
        stranger = earlier[0].model_copy(update={"id": uuid.uuid4(), "device_id": "x9", "device_seq": 1})
        apply_intents(w, ELSEWHERE, DeviceRole.expo, [stranger])
    for round_ in range(3):
        role = rng.choice([DeviceRole.kds, DeviceRole.expo])
        batch = _random_intents(rng, made, [*earlier, stranger], 120)
        reset_ids(1_000 * (round_ + 1))
        together = _run(engine, role, batch, one_by_one=False)
        reset_ids(1_000 * (round_ + 1))
        alone = _run(engine, role, batch, one_by_one=True)
        assert together["results"] == alone["results"], f"round {round_}"
        assert together["changes"] == alone["changes"], f"round {round_}"
        assert together["rows"] == alone["rows"], f"round {round_}"
        statuses = {r["status"] for r in together["results"]}
        assert statuses == {"applied", "duplicate", "rejected"}, "the batch exercised every outcome"
