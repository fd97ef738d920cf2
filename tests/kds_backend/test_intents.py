"""`POST /rest/v1/rpc/apply_intents`: every scenario of `tests/intent_cases.py`, plus the RPC's own rules.

Runs on SQLite and on PostgreSQL (the `client` fixture). Orders come in through POS intake; what no
intent can do (voiding a line, cancelling an order, flagging a change) is written straight to the
database, as the POS's PATCH would.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import asdict
from itertools import accumulate
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from fastapi import FastAPI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from api_client.models import (
    DeviceRole,
    Intent,
    IntentKind,
    ItemStatus,
    OrderStatus,
    OrderWithItems,
)
from api_client.order_machine import Rejection, apply_intent
from kds_backend.db.tables import menu_availability
from kds_backend.db.writer import Writer
from kds_backend.orders import load_order, save_order
from tests.conftest import auth_headers, token_for
from tests.helpers.intent_checks import RowWatch, batches, check_final, check_result
from tests.intent_cases import (
    APPLIED,
    DUPLICATE,
    REJECTED,
    SCENARIOS,
    Item,
    Scenario,
    Setup,
    Step,
    cases_json,
    intent_for,
    kinds_covered,
)

RPC = "/rest/v1/rpc/apply_intents"
HOME = "r1"
ELSEWHERE = "r2"


# ---------------------------------------------------------------- helpers


def headers_for(role: str, device: str, restaurant: str = HOME) -> dict[str, str]:
    return auth_headers(token_for(role, restaurant=restaurant, device=device))


async def create_order(
    client: httpx.AsyncClient,
    items: list[Item],
    number: str = "A17",
    priority: str = "normal",
    restaurant: str = HOME,
) -> OrderWithItems:
    body = {"number": number, "priority": priority, "items": [asdict(i) for i in items]}
    headers = {**headers_for("pos", f"{restaurant}-pos-1", restaurant), "Idempotency-Key": str(uuid.uuid4())}
    r = await client.post("/api/v1/orders", json=body, headers=headers)
    assert r.status_code == 201, r.text
    return OrderWithItems.model_validate(r.json())


def read_order(app: FastAPI, order_id: uuid.UUID, restaurant: str = HOME) -> OrderWithItems:
    order = app.state.db.read(lambda c: load_order(c, restaurant, order_id))
    assert order is not None
    return order


def apply_setup(app: FastAPI, order_id: uuid.UUID, setup: Setup) -> None:
    """What the POS does outside intents: void lines, flag changes, cancel the order."""
    if not (setup.voided or setup.changed or setup.cancelled):
        return

    def write(w: Writer) -> None:
        before = load_order(w.conn, HOME, order_id)
        assert before is not None
        items = []
        for item in before.order_items:
            update: dict[str, Any] = {}
            if item.name in setup.voided:
                update["status"] = ItemStatus.voided
            if item.name in setup.changed:
                update["changed_after_send"] = True
            items.append(item.model_copy(update=update))
        status = OrderStatus.cancelled if setup.cancelled else before.status
        save_order(w, before, before.model_copy(update={"order_items": items, "status": status}))

    app.state.db.write(write)


def menu_rows(app: FastAPI, restaurant: str = HOME) -> dict[str, dict[str, Any]]:
    def read(conn: sa.Connection) -> dict[str, dict[str, Any]]:
        rows = conn.execute(sa.select(menu_availability).where(menu_availability.c.restaurant_id == restaurant))
        return {row.item_name: dict(row._mapping) for row in rows}

    return app.state.db.read(read)


async def send(client: httpx.AsyncClient, role: str, device: str, intents: list[dict[str, Any]]) -> list[dict]:
    r = await client.post(RPC, json={"intents": intents}, headers=headers_for(role, device))
    assert r.status_code == 200, r.text
    results = r.json()
    assert [res["id"] for res in results] == [i["id"] for i in intents], "one result per intent, in order"
    return results




# ---------------------------------------------------------------- the scenario runner








async def run_scenario(client: httpx.AsyncClient, app: FastAPI, sc: Scenario) -> None:
    for name, seconds in sc.prep_times.items():  # as an admin sets them, before the order comes in
        r = await client.put(
            f"/api/v1/prep-times/{name}", json={"seconds": seconds}, headers=headers_for("admin", "admin-1")
        )
        assert r.status_code == 200, r.text
    created = await create_order(client, sc.items, sc.number, sc.priority)
    apply_setup(app, created.id, sc.setup)
    start = read_order(app, created.id)
    foreign = None
    if any(step.target == "foreign" for step in sc.steps):
        foreign = await create_order(client, sc.items, sc.number, restaurant=ELSEWHERE)
    item_ids = {i.name: i.id for i in start.order_items}
    assert len(item_ids) == len(sc.items), "item names of a scenario are unique"
    targets = {"order": str(start.id), "foreign": str(foreign.id) if foreign else None, "unknown": str(uuid.uuid4())}

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
            if step.resend is not None:
                assert step.resend < index, f"{sc.name}: step {index} re-sends a later step"
                intents.append(sent[step.resend])
            else:
                intents.append(intent_of(step))
            sent.append(intents[-1])
        results = await send(client, first.role, first.device, intents)
        for index, result in zip(group, results, strict=True):
            check_result(sc, index, sc.steps[index], result, start.id)
            if result["order"] is not None:
                watch.see(OrderWithItems.model_validate(result["order"]))

    end = read_order(app, created.id)
    watch.see(end)
    menu = {name: (row["available"], row["version"]) for name, row in menu_rows(app).items()}
    check_final(sc, start, end, menu)
    if foreign is not None:
        untouched = read_order(app, foreign.id, ELSEWHERE)
        assert untouched.model_dump() == foreign.model_dump(), f"{sc.name}: another restaurant's order changed"


@pytest.mark.parametrize("sc", SCENARIOS, ids=[sc.name for sc in SCENARIOS])
async def test_scenario(client: httpx.AsyncClient, app: FastAPI, sc: Scenario) -> None:
    await run_scenario(client, app, sc)


# ---------------------------------------------------------------- the scenario list itself


def test_scenarios_cover_every_kind_and_outcome() -> None:
    assert kinds_covered() == {k.value for k in IntentKind}
    outcomes = {(step.expect.status, step.expect.original_status) for sc in SCENARIOS for step in sc.steps}
    assert {(APPLIED, None), (REJECTED, None), (DUPLICATE, APPLIED), (DUPLICATE, REJECTED)} <= outcomes
    assert {step.target for sc in SCENARIOS for step in sc.steps} == {"order", "none", "foreign", "unknown"}
    assert {step.role for sc in SCENARIOS for step in sc.steps} == {"kds", "expo", "admin"}
    names = [sc.name for sc in SCENARIOS]
    assert len(names) == len(set(names)) and all(n.isidentifier() for n in names)


def test_scenarios_are_plain_json() -> None:
    loaded = json.loads(cases_json())
    assert len(loaded) == len(SCENARIOS)
    assert loaded[0]["steps"][0]["expect"]["status"] in (APPLIED, DUPLICATE, REJECTED)
    for sc in SCENARIOS:
        for index, step in enumerate(sc.steps):
            fields = {"station": step.station, "args": step.args} if step.station else {"args": step.args}
            Intent.model_validate(  # every step is a well-formed intent
                {"id": uuid.uuid4(), "device_id": step.device, "device_seq": step.seq, "kind": step.kind, **fields}
            )
            if step.resend is not None:
                original = sc.steps[step.resend]
                assert (step.kind, step.seq, step.device, step.args) == (
                    original.kind,
                    original.seq,
                    original.device,
                    original.args,
                ), f"{sc.name} step {index}"


def test_batches_group_adjacent_labels_only() -> None:
    def st_(batch: str | None) -> Step:
        return Step(kind="start", expect=SCENARIOS[0].steps[0].expect, batch=batch)

    steps = [st_(None), st_("a"), st_("a"), st_(None), st_("a"), st_("b"), st_("b")]
    assert batches(steps) == [[0], [1, 2], [3], [4], [5, 6]]


# ---------------------------------------------------------------- the RPC's own rules


def intent(device: str, seq: int, kind: str, order_id: uuid.UUID | None = None, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"id": str(uuid.uuid4()), "device_id": device, "device_seq": seq, "kind": kind, **extra}
    if order_id is not None:
        body["order_id"] = str(order_id)
    return body


BURGER_FRIES = [Item("Burger", "grill"), Item("Fries", "fry")]


async def test_batch_order_versions_and_change_seq(client: httpx.AsyncClient, app: FastAPI) -> None:
    order = await create_order(client, BURGER_FRIES)
    burger = next(i for i in order.order_items if i.name == "Burger")
    batch = [
        intent("grill-1", 1, "start", order.id, station="grill"),
        intent("grill-1", 2, "bump_ticket", order.id, station="grill"),
        intent("grill-1", 3, "recall", order.id, station="grill"),
        intent("grill-1", 4, "bump_item", order.id, item_id=str(burger.id)),
    ]
    results = await send(client, "kds", "grill-1", batch)
    assert [r["status"] for r in results] == [APPLIED] * 4
    burgers = [next(i for i in r["order"]["order_items"] if i["name"] == "Burger") for r in results]
    assert [b["status"] for b in burgers] == ["cooking", "done", "cooking", "done"]
    assert [b["version"] for b in burgers] == [2, 3, 4, 5]
    seqs = [b["change_seq"] for b in burgers]
    assert seqs == sorted(seqs) and len(set(seqs)) == 4 and seqs[0] > burger.change_seq
    assert [r["order"]["status"] for r in results] == ["in_progress", "in_progress", "in_progress", "in_progress"]
    assert [r["order"]["version"] for r in results] == [2, 2, 2, 2]
    end = read_order(app, order.id)
    stored = next(i for i in end.order_items if i.name == "Burger")
    assert (stored.status, stored.version, stored.change_seq) == (ItemStatus.done, 5, seqs[-1])


async def test_pos_token_cannot_send_intents(client: httpx.AsyncClient, app: FastAPI) -> None:
    order = await create_order(client, BURGER_FRIES)
    body = {"intents": [intent("r1-pos-1", 1, "start", order.id)]}
    r = await client.post(RPC, json=body, headers=headers_for("pos", "r1-pos-1"))
    assert r.status_code == 403, r.text
    assert set(r.json()) >= {"code", "message", "details", "hint"}
    assert read_order(app, order.id).model_dump() == order.model_dump()


async def test_intents_carrying_another_devices_id_are_forbidden(client: httpx.AsyncClient, app: FastAPI) -> None:
    order = await create_order(client, BURGER_FRIES)
    mine = intent("grill-1", 1, "start", order.id, station="grill")
    theirs = intent("fry-1", 1, "start", order.id, station="fry")
    r = await client.post(RPC, json={"intents": [mine, theirs]}, headers=headers_for("kds", "grill-1"))
    assert r.status_code == 403 and "another device" in r.json()["message"]
    assert read_order(app, order.id).model_dump() == order.model_dump(), "nothing of a refused batch is applied"
    # Nothing was ledgered either: the same intents, each from its own device, apply.
    assert (await send(client, "kds", "grill-1", [mine]))[0]["status"] == APPLIED
    assert (await send(client, "kds", "fry-1", [theirs]))[0]["status"] == APPLIED


async def test_admin_may_send_intents_on_behalf_of_devices(client: httpx.AsyncClient) -> None:
    order = await create_order(client, BURGER_FRIES)
    results = await send(client, "admin", "admin-1", [intent("grill-1", 1, "start", order.id)])
    assert results[0]["status"] == APPLIED
    # ... and the device's cursor moved: its own seq 1 is now a duplicate.
    again = await send(client, "kds", "grill-1", [intent("grill-1", 1, "bump_ticket", order.id)])
    assert again[0]["status"] == DUPLICATE


async def test_other_restaurant_learns_nothing_from_a_reused_intent_id(client: httpx.AsyncClient) -> None:
    order = await create_order(client, BURGER_FRIES)
    first = intent("grill-1", 1, "start", order.id)
    assert (await send(client, "kds", "grill-1", [first]))[0]["status"] == APPLIED
    r = await client.post(RPC, json={"intents": [first]}, headers=headers_for("admin", "r2-admin-1", ELSEWHERE))
    assert r.status_code == 200
    result = r.json()[0]
    assert result["status"] == REJECTED and result["order"] is None
    assert "already used" in result["reason"] and order.number not in result["reason"]


async def test_device_cursors_are_per_restaurant(client: httpx.AsyncClient) -> None:
    """An admin elsewhere sending under a device id of ours must not push our device's cursor ahead."""
    order = await create_order(client, BURGER_FRIES)
    r = await client.post(
        RPC,
        json={"intents": [intent("grill-1", 1000, "start", uuid.uuid4())]},
        headers=headers_for("admin", "r2-admin-1", ELSEWHERE),
    )
    assert r.status_code == 200
    assert (await send(client, "kds", "grill-1", [intent("grill-1", 1, "start", order.id)]))[0]["status"] == APPLIED


@pytest.mark.parametrize(
    "body",
    [
        {"intents": []},
        {},
        {"intents": [{"id": str(uuid.uuid4()), "device_id": "grill-1", "device_seq": 1, "kind": "flambe"}]},
        {"intents": [{"id": str(uuid.uuid4()), "device_id": "grill-1", "device_seq": 0, "kind": "start"}]},
        {"intents": [{"id": str(uuid.uuid4()), "device_id": "grill-1", "device_seq": -3, "kind": "start"}]},
        {"intents": [{"id": "not-a-uuid", "device_id": "grill-1", "device_seq": 1, "kind": "start"}]},
        {"intents": [{"id": str(uuid.uuid4()), "device_id": "grill-1", "device_seq": 1, "kind": "start", "x": 1}]},
        {
            "intents": [
                {
                    "id": str(uuid.uuid4()),
                    "device_id": "grill-1",
                    "device_seq": 1,
                    "kind": "start",
                    "schema_version": 99,
                }
            ]
        },
        {
            "intents": [
                {"id": str(uuid.uuid4()), "device_id": "grill-1", "device_seq": 1, "kind": "start", "station": "Grill!"}
            ]
        },
    ],
    ids=[
        "empty",
        "no-intents",
        "bad-kind",
        "seq-0",
        "seq-negative",
        "bad-id",
        "extra-field",
        "schema-99",
        "bad-station",
    ],
)
async def test_invalid_bodies_are_422(client: httpx.AsyncClient, body: dict[str, Any]) -> None:
    r = await client.post(RPC, json=body, headers=headers_for("kds", "grill-1"))
    assert r.status_code == 422, r.text


async def test_missing_token_is_401(client: httpx.AsyncClient) -> None:
    r = await client.post(RPC, json={"intents": [intent("grill-1", 1, "start")]})
    assert r.status_code == 401


# ---------------------------------------------------------------- exactly once, whatever the re-sends

PROPERTY_ITEMS = [Item("Burger", "grill"), Item("Fries", "fry"), Item("Cake", "pastry", course=2, held=True)]
OPS: list[tuple[str, str | None, str | None, dict[str, Any]]] = [
    ("start", None, None, {}),
    ("start", None, "grill", {}),
    ("start", "Fries", None, {}),
    ("bump_item", "Burger", None, {}),
    ("bump_item", "Fries", None, {}),
    ("bump_item", "Cake", None, {}),
    ("unbump_item", "Burger", None, {}),
    ("unbump_item", "Cake", None, {}),
    ("bump_ticket", None, None, {}),
    ("bump_ticket", None, "fry", {}),
    ("recall", None, None, {}),
    ("recall", None, "grill", {}),
    ("serve", None, None, {}),
    ("rush", None, None, {}),
    ("rush", None, None, {"priority": "normal"}),
    ("hold", "Fries", None, {}),
    ("hold", None, None, {"course": 1}),
    ("fire", "Cake", None, {}),
    ("fire", None, None, {"course": 2}),
    ("ack_change", None, None, {}),
    ("ack_change", None, "fry", {}),
]


@st.composite
def delivery_plans(draw: Callable[..., Any]) -> tuple[list[int], list[int], list[int], list[bool]]:
    """Distinct intents (indexes into OPS) with device_seqs (gaps allowed), the order in which they and their
    re-sends are delivered (a re-send of i only after i's first delivery), and where batches are cut."""
    ops = draw(st.lists(st.integers(0, len(OPS) - 1), min_size=1, max_size=10))
    seqs = list(accumulate(draw(st.lists(st.integers(1, 3), min_size=len(ops), max_size=len(ops)))))
    deliveries: list[int] = []
    for i in range(len(ops)):
        deliveries.append(i)
        deliveries.extend(draw(st.lists(st.integers(0, i), max_size=2)))
    cuts = draw(st.lists(st.booleans(), min_size=len(deliveries) - 1, max_size=len(deliveries) - 1))
    return ops, seqs, deliveries, cuts


def _row_versions(before: OrderWithItems, after: OrderWithItems) -> dict[uuid.UUID, int]:
    """Which rows a state-machine step changed (1) or not (0), as save_order would bump them."""
    watched = ("status", "held", "changed_after_send", "priority")
    bumps = {after.id: int(any(getattr(before, f, None) != getattr(after, f, None) for f in watched))}
    olds = {i.id: i for i in before.order_items}
    for item in after.order_items:
        old = olds[item.id]
        bumps[item.id] = int(any(getattr(old, f) != getattr(item, f) for f in watched[:3]))
    return bumps


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(plan=delivery_plans())
async def test_exactly_once_under_resends_and_batch_splits(
    client: httpx.AsyncClient, app: FastAPI, plan: tuple[list[int], list[int], list[int], list[bool]]
) -> None:
    ops, seqs, deliveries, cuts = plan
    created = await create_order(client, PROPERTY_ITEMS, number="P1")
    apply_setup(app, created.id, Setup(changed=["Fries"]))
    start = read_order(app, created.id)
    ids = {i.name: i.id for i in start.order_items}
    device = f"expo-{uuid.uuid4().hex[:12]}"
    intents = []
    for op, seq in zip(ops, seqs, strict=True):
        kind, item, station, args = OPS[op]
        body = intent(device, seq, kind, start.id, args=args)
        if item is not None:
            body["item_id"] = str(ids[item])
        if station is not None:
            body["station"] = station
        intents.append(body)

    # The oracle: each distinct intent once, in order, through the pure state machine.
    model = start
    expected_status: list[str] = []
    versions = {start.id: start.version, **{i.id: i.version for i in start.order_items}}
    for body in intents:
        outcome = apply_intent(model, Intent.model_validate(body), DeviceRole.expo)
        if isinstance(outcome, Rejection):
            expected_status.append(REJECTED)
            continue
        expected_status.append(APPLIED)
        for row_id, bumped in _row_versions(model, outcome).items():
            versions[row_id] += bumped
        model = outcome

    groups: list[list[int]] = [[deliveries[0]]]
    for cut, index in zip(cuts, deliveries[1:], strict=True):
        if cut:
            groups.append([index])
        else:
            groups[-1].append(index)
    delivered: set[int] = set()
    for group in groups:
        results = await send(client, "expo", device, [intents[i] for i in group])
        for index, result in zip(group, results, strict=True):
            if index in delivered:
                assert result["status"] == DUPLICATE, (index, result)
                assert result["original_status"] == expected_status[index], (index, result)
            else:
                assert result["status"] == expected_status[index], (index, OPS[ops[index]], result)
                delivered.add(index)

    end = read_order(app, created.id)

    def state(order: OrderWithItems) -> dict[str, Any]:
        return {
            "status": order.status,
            "priority": order.priority,
            "items": {i.name: (i.status, i.held, i.changed_after_send) for i in order.order_items},
        }

    assert state(end) == state(model)
    assert {end.id: end.version, **{i.id: i.version for i in end.order_items}} == versions
