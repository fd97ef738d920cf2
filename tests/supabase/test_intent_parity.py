"""Every scenario of `tests/intent_cases.py`, unchanged, against the SQL `apply_intents` of the Supabase
migrations: the same per-step results and the same final state as the companion.

The per-step checks and the version/change_seq watch are the companion runner's own
(`tests/kds_backend/test_intents.py`); only the way rows and requests reach the server differs: orders
come in as the POS's inserts through RLS, what no intent can do (voiding, cancelling, flagging a change)
is written by the table owner, and intents go through `select apply_intents(...)` as the device.
"""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

import psycopg
import pytest

from api_client.models import IntentResult, OrderWithItems
from tests.helpers.intent_checks import RowWatch, batches, check_final, check_result
from tests.intent_cases import SCENARIOS, Scenario, Setup, Step, intent_for

from .helpers import apply_intents, as_device, create_order, read_order

pytestmark = pytest.mark.postgres

HOME = "r1"
ELSEWHERE = "r2"


def apply_setup(conn: psycopg.Connection, order_id: str, setup: Setup) -> None:
    """What the POS does outside intents; each touched row's version goes up by one."""
    for name in dict.fromkeys([*setup.voided, *setup.changed]):
        conn.execute(
            "update public.order_items set status = case when %(void)s then 'voided' else status end,"
            " changed_after_send = changed_after_send or %(changed)s where order_id = %(order)s and name = %(name)s",
            {"void": name in setup.voided, "changed": name in setup.changed, "order": order_id, "name": name},
        )
    if setup.cancelled:
        conn.execute("update public.orders set status = 'cancelled' where id = %s", [order_id])


def menu_rows(conn: psycopg.Connection, restaurant: str = HOME) -> dict[str, tuple[bool, int]]:
    rows = conn.execute(
        "select item_name, available, version from public.menu_availability where restaurant_id = %s", [restaurant]
    ).fetchall()
    return {name: (available, version) for name, available, version in rows}


def run_scenario(conn: psycopg.Connection, sc: Scenario) -> None:
    items = [asdict(i) for i in sc.items]
    for name, seconds in sc.prep_times.items():  # as an admin device writes them (supabase-js), before intake
        with as_device(conn, "admin", "admin-1", HOME) as c:
            c.execute("insert into public.prep_times (item_name, seconds) values (%s, %s)", [name, seconds])
    order_id = create_order(conn, items, sc.number, sc.priority)
    apply_setup(conn, order_id, sc.setup)
    start = OrderWithItems.model_validate(read_order(conn, order_id))
    foreign_id = foreign_before = None
    if any(step.target == "foreign" for step in sc.steps):
        foreign_id = create_order(conn, items, sc.number, restaurant=ELSEWHERE)
        foreign_before = read_order(conn, foreign_id)
    item_ids = {i.name: i.id for i in start.order_items}
    assert len(item_ids) == len(sc.items), "item names of a scenario are unique"
    targets = {"order": order_id, "foreign": foreign_id, "unknown": str(uuid.uuid4())}

    def intent_of(step: Step) -> dict[str, Any]:
        return intent_for(step, targets, item_ids, sc.name)

    watch = RowWatch(start)
    sent: list[dict[str, Any]] = []
    for group in batches(sc.steps):
        first = sc.steps[group[0]]
        assert all((sc.steps[i].role, sc.steps[i].device) == (first.role, first.device) for i in group), sc.name
        intents = []
        for index in group:
            step = sc.steps[index]
            intents.append(sent[step.resend] if step.resend is not None else intent_of(step))
            sent.append(intents[-1])
        results = apply_intents(conn, first.role, first.device, intents)
        assert [r["id"] for r in results] == [i["id"] for i in intents], "one result per intent, in order"
        for index, result in zip(group, results, strict=True):
            IntentResult.model_validate(result)  # the wire shape, as the sync engine reads it
            check_result(sc, index, sc.steps[index], result, start.id)
            if result["order"] is not None:
                watch.see(OrderWithItems.model_validate(result["order"]))

    end = OrderWithItems.model_validate(read_order(conn, order_id))
    watch.see(end)
    check_final(sc, start, end, menu_rows(conn))
    if foreign_id is not None:
        assert read_order(conn, foreign_id) == foreign_before, f"{sc.name}: another restaurant's order changed"


@pytest.mark.parametrize("sc", SCENARIOS, ids=[sc.name for sc in SCENARIOS])
def test_scenario(sb: psycopg.Connection, sc: Scenario) -> None:
    run_scenario(sb, sc)
