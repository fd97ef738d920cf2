"""Checking a shared intent scenario's outcome, on the companion and on the Supabase SQL alike: results step by
step, the final rows, and versions and change_seq only ever going up."""

from __future__ import annotations

import uuid
from dataclasses import asdict
from typing import Any

import pytest

from api_client.models import IntentKind, OrderItemPublic, OrderWithItems
from tests.intent_cases import (
    APPLIED,
    DUPLICATE,
    REJECTED,
    Scenario,
    Step,
)


class RowWatch:
    """Checks, across every result seen, that versions only go up by one per intent and that every
    changed row gets a change_seq above anything seen before (change_seq order is commit order)."""

    def __init__(self, start: OrderWithItems) -> None:
        self.rows: dict[uuid.UUID, tuple[int, int]] = {}
        self.max_seq = 0
        self.see(start, allow_jump=True)

    def see(self, order: OrderWithItems, allow_jump: bool = False) -> None:
        rows = [(order.id, order.version, order.change_seq)]
        rows += [(i.id, i.version, i.change_seq) for i in order.order_items]
        seen_max = self.max_seq
        for row_id, version, seq in rows:
            old = self.rows.get(row_id)
            if old is not None and not allow_jump:
                old_version, old_seq = old
                assert version in (old_version, old_version + 1), f"row {row_id}: version {old_version} -> {version}"
                if version == old_version:
                    assert seq == old_seq, f"row {row_id}: change_seq moved without a new version"
                else:
                    assert seq > seen_max, f"row {row_id}: change_seq {seq} not above {seen_max}"
            self.rows[row_id] = (version, seq)
            self.max_seq = max(self.max_seq, seq)


def batches(steps: list[Step]) -> list[list[int]]:
    """Step indexes grouped into requests: adjacent steps with the same batch label go together."""
    groups: list[list[int]] = []
    for index, step in enumerate(steps):
        if groups and step.batch is not None and steps[groups[-1][-1]].batch == step.batch:
            groups[-1].append(index)
        else:
            groups.append([index])
    return groups


def _fired(item: OrderItemPublic) -> str:
    """When the item's course went to the kitchen, as a scenario names it (ItemState.fired)."""
    if item.fired_at is None:
        return "no"
    return "sent" if item.fired_at == item.created_at else "later"


def check_final(sc: Scenario, start: OrderWithItems, end: OrderWithItems, menu: dict[str, tuple[bool, int]]) -> None:
    """The scenario's expected end state; `menu` maps each 86'd item's name to (available, version)."""
    final = sc.final
    assert end.status.value == final.status, sc.name
    assert end.priority.value == final.priority, sc.name
    assert end.version - start.version == final.order_bumps, f"{sc.name}: order version bumps"
    before = {i.id: i for i in start.order_items}
    got = {
        i.name: {
            "status": i.status.value,
            "held": i.held,
            "changed_after_send": i.changed_after_send,
            "bumps": i.version - before[i.id].version,
            # Checked where the scenario names it (the transfers'); None otherwise.
            "station": i.station if (want := final.items.get(i.name)) is not None and want.station else None,
            "fired": _fired(i) if want is not None and want.fired else None,
            "prep": i.prep_seconds or 0,
            "moved_from": i.moved_from if want is not None and want.station else None,
        }
        for i in end.order_items
    }
    assert got == {name: asdict(state) for name, state in final.items.items()}, sc.name
    assert {name: available for name, (available, _) in menu.items()} == final.menu, sc.name
    assert {name: version for name, (_, version) in menu.items()} == final.menu_versions, sc.name


def check_result(sc: Scenario, index: int, step: Step, result: dict[str, Any], order_id: uuid.UUID) -> None:
    where = f"{sc.name} step {index} ({step.kind}{' re-sent' if step.resend is not None else ''})"
    expect = step.expect
    assert result["status"] == expect.status, f"{where}: {result}"
    if expect.status == REJECTED:
        assert expect.reason, f"{where}: a rejection must name its reason in the scenario"
    if expect.reason is not None:
        assert result["reason"] is not None and expect.reason in result["reason"], f"{where}: {result['reason']!r}"
    if expect.status == DUPLICATE:
        if expect.original_status is not None:
            assert result["original_status"] == expect.original_status, f"{where}: {result}"
    else:
        assert result["original_status"] is None, f"{where}: {result}"
    if expect.order_status is not None:
        assert result["order"] is not None, f"{where}: no order in {result}"
        assert result["order"]["status"] == expect.order_status, f"{where}: {result['order']['status']}"
    if expect.status == APPLIED:
        if step.kind == IntentKind.eighty_six:
            assert result["menu_item"] is not None and result["order"] is None, where
        else:
            assert result["order"]["id"] == str(order_id) and result["menu_item"] is None, where
    if result["order"] is not None and step.target in ("foreign", "unknown"):
        pytest.fail(f"{where}: an order outside this kitchen was returned: {result['order']}")
