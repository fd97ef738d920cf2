"""Intent scenarios as plain data, shared by every implementation of `apply_intents`.

The companion (`kds_backend/intents.py`) runs them in `tests/kds_backend/test_intents.py`; the SQL/plpgsql
`apply_intents` of a Supabase project is meant to run the very same list. Nothing here knows how an
implementation is reached: a runner turns each scenario into real rows and real intents.

Format (every value is a str, int, bool, None, list or dict; `cases_json()` gives the whole list as JSON):

Scenario
    name            unique, a valid Python identifier (used as the test id)
    doc             one line: what the scenario proves
    number          the order's display number (reasons quote it: "Order A17 was cancelled")
    priority        the order's priority at intake: "normal" | "rush"
    items           the order's lines, created through POS intake (restaurant "r1"); names are unique
                    Item: name, station, quantity, course (1-9), held (bool)
    prep_times      item name -> seconds: restaurant r1's prep times, set before intake (fire timing, issue 19)
    setup           preconditions no intent can reach, written straight to the database after intake
                    (the POS's doing): voided: item names whose status becomes "voided";
                    changed: item names whose changed_after_send becomes true; cancelled: order status
                    becomes "cancelled". Each touched row's version goes up by one (not counted below).
    steps           the intents, in order of sending (see Step)
    final           the state after the last step (see Final)

Step
    kind            the intent kind ("start", "bump_item", ..., "eighty_six")
    item            None, or the name of one of the order's items: the intent's item_id is that item's id.
                    UNKNOWN_ITEM stands for an id that is on no order at all.
    station         the intent's station (None = the whole order)
    args            the intent's args, verbatim
    target          which order_id the intent carries: "order" (the scenario's order), "none" (no
                    order_id), "foreign" (an order of restaurant "r2", created by the runner with the
                    same items), "unknown" (an id that is on no order)
    role            role of the sending device's token: "kds" | "expo" | "admin"
    device          the sending device's id (the token's subject and the intent's device_id, restaurant r1)
    seq             the intent's device_seq
    resend          None, or the index of an earlier step: re-send that step's intent unchanged (same id,
                    same device_seq, same everything). The other fields repeat that step's for reading.
    batch           None (sent alone), or a label: adjacent steps with the same label go in one request.
                    Steps of one batch share device and role.
    expect          Expect: status "applied" | "duplicate" | "rejected"; reason: a substring of the result's
                    reason (None = not checked; every rejection names one); original_status: for a
                    duplicate, the status of the first delivery ("applied" | "rejected"; None = not
                    checked); order_status: the status of the order returned with the result (None = not
                    checked).

Final
    status, priority    the order's
    order_bumps         how many times the order row's version went up during the steps
    items               name -> ItemState(status, held, changed_after_send, bumps, station) for EVERY item of the
                        order; bumps = how many times that row's version went up during the steps; station
                        = where the item is at the end (None = not checked)
                        fired = when its course went to the kitchen ("sent", "later", "no"; None = not checked);
                        prep = its prep_seconds (0 = none)
    menu                item_name -> available, for EVERY menu_availability row of restaurant r1
    menu_versions       item_name -> version of that menu_availability row (a new row starts at 1)

A foreign order (if any) must be untouched at the end: its version and its items' versions unchanged.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field, replace
from typing import Any

UNKNOWN_ITEM = "<not on any order>"

APPLIED = "applied"
DUPLICATE = "duplicate"
REJECTED = "rejected"


@dataclass(frozen=True)
class Item:
    name: str
    station: str
    quantity: int = 1
    course: int = 1
    held: bool = False


@dataclass(frozen=True)
class Setup:
    voided: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    cancelled: bool = False


@dataclass(frozen=True)
class Expect:
    status: str
    reason: str | None = None
    original_status: str | None = None
    order_status: str | None = None


@dataclass(frozen=True)
class Step:
    kind: str
    expect: Expect
    item: str | None = None
    station: str | None = None
    args: dict[str, Any] = field(default_factory=dict)
    target: str = "order"
    role: str = "kds"
    device: str = "grill-1"
    seq: int = 0
    resend: int | None = None
    batch: str | None = None


@dataclass(frozen=True)
class ItemState:
    status: str
    held: bool = False
    changed_after_send: bool = False
    bumps: int = 0
    station: str | None = None
    """The item's station at the end (None: not checked; the transfer scenarios check it)."""
    fired: str | None = None
    """When the item's course went to the kitchen (fired_at): "sent" (as the item was written), "later" (a fire or
    an auto-fire after that), "no" (none: held). None: not checked (the fire-timing scenarios check it)."""
    prep: int = 0
    """The item's prep_seconds, copied from the scenario's prep_times at intake (0: none)."""
    moved_from: str | None = None
    """The station a transfer moved the item away from (its "← GRILL" mark), checked where `station` is."""


@dataclass(frozen=True)
class Final:
    status: str
    order_bumps: int
    items: dict[str, ItemState]
    priority: str = "normal"
    menu: dict[str, bool] = field(default_factory=dict)
    menu_versions: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class Scenario:
    name: str
    doc: str
    items: list[Item]
    steps: list[Step]
    final: Final
    number: str = "A17"
    priority: str = "normal"
    setup: Setup = field(default_factory=Setup)
    prep_times: dict[str, int] = field(default_factory=dict)
    """Item name -> seconds, set for restaurant r1 (by an admin) before the order comes in."""


# ---------------------------------------------------------------- building blocks (the data stays explicit)

BURGER = Item("Burger", "grill", quantity=2)
FRIES = Item("Fries", "fry")
TWO_ITEMS = [BURGER, FRIES]

GRILL = {"role": "kds", "device": "grill-1"}
FRY = {"role": "kds", "device": "fry-1"}
EXPO = {"role": "expo", "device": "expo-1"}
ADMIN = {"role": "admin", "device": "admin-1"}


def ok(order_status: str | None = None) -> Expect:
    return Expect(APPLIED, order_status=order_status)


def no(reason: str, order_status: str | None = None) -> Expect:
    return Expect(REJECTED, reason=reason, order_status=order_status)


def dup(original_status: str | None = None, reason: str | None = None) -> Expect:
    return Expect(DUPLICATE, reason=reason, original_status=original_status)


def s(kind: str, expect: Expect, by: dict[str, str] = GRILL, **fields: Any) -> Step:
    return Step(kind=kind, expect=expect, **by, **fields)


def again(index: int, expect: Expect, batch: str | None = None) -> Step:
    """A re-send of step `index`; `_numbered` copies that step's fields in."""
    return Step(kind="", expect=expect, resend=index, batch=batch)


def _numbered(steps: list[Step]) -> list[Step]:
    """Give every step without an explicit seq the next device_seq of its device; copy re-sent steps."""
    out: list[Step] = []
    last: dict[str, int] = {}
    for step in steps:
        if step.resend is not None:
            original = out[step.resend]
            out.append(replace(original, expect=step.expect, resend=step.resend, batch=step.batch))
            continue
        seq = step.seq or last.get(step.device, 0) + 1
        last[step.device] = max(last.get(step.device, 0), seq)
        out.append(replace(step, seq=seq))
    return out


def scenario(
    name: str,
    doc: str,
    steps: list[Step],
    final: Final,
    items: list[Item] = TWO_ITEMS,
    **extra: Any,
) -> Scenario:
    return Scenario(name=name, doc=doc, items=list(items), steps=_numbered(steps), final=final, **extra)


LONG_STATION_ITEMS = [Item(f"Dish {n}", f"station-{n:02d}-{'x' * 29}") for n in range(1, 15)]
"""Fourteen items at fourteen stations with 40-character names: "waiting on ..." runs past 500 characters."""

NEW = ItemState("new")
BUMPED_ONCE_DONE = ItemState("done", bumps=1)

# ---------------------------------------------------------------- the scenarios

SCENARIOS: list[Scenario] = [
    # ------------------------------------------------------------ start
    scenario(
        "start_whole_order",
        "start without a station starts every new item and moves the order to in progress",
        [s("start", ok("in_progress"))],
        Final("in_progress", 1, {"Burger": ItemState("cooking", bumps=1), "Fries": ItemState("cooking", bumps=1)}),
    ),
    scenario(
        "start_station_then_nothing_left",
        "start at a station touches only that station; starting it again is rejected",
        [
            s("start", ok("in_progress"), station="grill"),
            s("start", no("Nothing new to start at grill on order A17"), station="grill"),
        ],
        Final("in_progress", 1, {"Burger": ItemState("cooking", bumps=1), "Fries": NEW}),
    ),
    scenario(
        "start_skips_held_items",
        "start leaves held items alone; they count as outstanding",
        [s("start", ok("in_progress"))],
        Final("in_progress", 1, {"Burger": ItemState("cooking", bumps=1), "Cake": ItemState("new", held=True)}),
        items=[BURGER, Item("Cake", "pastry", course=2, held=True)],
    ),
    # ------------------------------------------------------------ bump_item / unbump_item
    scenario(
        "bump_items_until_ready",
        "bumping every item makes the order ready; bumping a done item is rejected",
        [
            s("bump_item", ok("in_progress"), item="Burger"),
            s("bump_item", no("Burger is already done"), item="Burger"),
            s("bump_item", ok("ready"), by=FRY, item="Fries"),
        ],
        Final("ready", 2, {"Burger": BUMPED_ONCE_DONE, "Fries": BUMPED_ONCE_DONE}),
    ),
    scenario(
        "unbump_item_reopens_the_order",
        "unbumping a done item puts it back to cooking and the order back in progress; an open item cannot be unbumped",
        [
            s("bump_ticket", ok("ready")),
            s("unbump_item", ok("in_progress"), item="Burger"),
            s("unbump_item", no("Burger is not done"), item="Burger"),
        ],
        Final("in_progress", 2, {"Burger": ItemState("cooking", bumps=2), "Fries": BUMPED_ONCE_DONE}),
    ),
    # ------------------------------------------------------------ bump_ticket
    scenario(
        "bump_ticket_station",
        "bumping a station's ticket finishes that station's items only; a second bump is rejected",
        [
            s("bump_ticket", ok("in_progress"), station="grill"),
            s("bump_ticket", no("Nothing left to bump at grill"), station="grill"),
        ],
        Final("in_progress", 1, {"Burger": BUMPED_ONCE_DONE, "Fries": NEW}),
    ),
    scenario(
        "bump_ticket_all_stations",
        "bumping the whole ticket (no station) finishes cooking and new items alike",
        [
            s("start", ok("in_progress"), station="grill"),
            s("bump_ticket", ok("ready"), by=EXPO),
            s("bump_ticket", no("Nothing left to bump on order A17"), by=EXPO),
        ],
        Final("ready", 2, {"Burger": ItemState("done", bumps=2), "Fries": BUMPED_ONCE_DONE}),
    ),
    scenario(
        "bump_ticket_leaves_held_items",
        "a held item is not bumped with its ticket and keeps the order from being ready (its course fires)",
        [
            s("bump_ticket", ok("in_progress")),
            s("serve", no("Order A17 is not ready: waiting on pastry"), by=EXPO),
        ],
        Final("in_progress", 1, {"Burger": BUMPED_ONCE_DONE, "Cake": ItemState("new", bumps=1)}),
        items=[BURGER, Item("Cake", "pastry", course=2, held=True)],
    ),
    scenario(
        "bump_ticket_acknowledges_the_station_changes",
        "bumping a station's ticket acknowledges every change on it (added, voided, held) in the same write, and "
        "no other station's",
        [
            s("bump_ticket", ok("in_progress"), station="grill"),
            s("ack_change", no("No changes to acknowledge at grill on order A17"), station="grill"),
        ],
        Final("in_progress", 1, {
            "Burger": BUMPED_ONCE_DONE,
            "Steak": BUMPED_ONCE_DONE,
            "Salad": ItemState("voided", bumps=1),
            "Ribs": ItemState("new", held=True, bumps=1),
            "Fries": ItemState("new", changed_after_send=True),
        }),
        items=[BURGER, Item("Steak", "grill"), Item("Salad", "grill"), Item("Ribs", "grill", course=2, held=True),
               FRIES],
        setup=Setup(voided=["Salad"], changed=["Steak", "Salad", "Ribs", "Fries"]),
    ),
    scenario(
        "bump_ticket_with_only_changes_is_rejected",
        "a ticket with only a change on it has nothing to bump: the bump is rejected and changes nothing, "
        "acknowledging clears it",
        [
            s("bump_ticket", no("Nothing left to bump at fry on order A17"), by=FRY, station="fry"),
            s("ack_change", ok("new"), by=FRY, station="fry"),
        ],
        Final("new", 0, {"Burger": NEW, "Fries": ItemState("voided", bumps=1)}),
        setup=Setup(voided=["Fries"], changed=["Fries"]),
    ),
    # ------------------------------------------------------------ recall
    scenario(
        "recall_station",
        "recalling a station reopens its done items; nothing left to recall is rejected",
        [
            s("bump_ticket", ok("ready")),
            s("recall", ok("in_progress"), station="grill"),
            s("recall", no("Nothing to recall at grill on order A17"), station="grill"),
        ],
        Final("in_progress", 2, {"Burger": ItemState("cooking", bumps=2), "Fries": BUMPED_ONCE_DONE}),
    ),
    scenario(
        "recall_nothing_done",
        "recall on an order with nothing done is rejected",
        [s("recall", no("Nothing to recall on order A17"))],
        Final("new", 0, {"Burger": NEW, "Fries": NEW}),
    ),
    scenario(
        "recall_served_order_by_expo",
        "expo recalls a served order from the pass: it is ready again, items stay done",
        [
            s("bump_ticket", ok("ready")),
            s("serve", ok("served"), by=EXPO),
            s("recall", ok("ready"), by=EXPO),
        ],
        Final("ready", 3, {"Burger": BUMPED_ONCE_DONE, "Fries": BUMPED_ONCE_DONE}),
    ),
    scenario(
        "recall_served_order_at_station",
        "a station recalls a served order: its items cook again and the order is back in progress",
        [
            s("bump_ticket", ok("ready")),
            s("serve", ok("served"), by=EXPO),
            s("recall", ok("in_progress"), station="grill"),
        ],
        Final("in_progress", 3, {"Burger": ItemState("cooking", bumps=2), "Fries": BUMPED_ONCE_DONE}),
    ),
    scenario(
        "recall_keeps_struck_items",
        "a recall undoes the last bump only: the item struck before it stays done, the one the bump finished cooks "
        "again",
        [
            s("bump_item", ok("in_progress"), item="Steak"),
            s("bump_ticket", ok("in_progress"), station="grill"),
            s("recall", ok("in_progress"), station="grill"),
        ],
        Final("in_progress", 1, {"Burger": ItemState("cooking", bumps=2), "Steak": BUMPED_ONCE_DONE, "Fries": NEW}),
        items=[BURGER, Item("Steak", "grill"), FRIES],
    ),
    scenario(
        "recall_keeps_items_struck_in_the_bumps_batch",
        "a strike and the bump after it in one batch (a screen back online): the recall still reopens only what "
        "the bump finished",
        [
            s("bump_item", ok("in_progress"), item="Steak", batch="b1"),
            s("bump_ticket", ok("in_progress"), station="grill", batch="b1"),
            s("recall", ok("in_progress"), station="grill"),
        ],
        Final("in_progress", 1, {"Burger": ItemState("cooking", bumps=2), "Steak": BUMPED_ONCE_DONE, "Fries": NEW}),
        items=[BURGER, Item("Steak", "grill"), FRIES],
    ),
    scenario(
        "recall_served_order_keeps_struck_items",
        "a station recalls a served order: what its bump finished cooks again, what it struck before stays done",
        [
            s("bump_item", ok("in_progress"), item="Steak"),
            s("bump_ticket", ok("in_progress"), station="grill"),
            s("bump_ticket", ok("ready"), by=FRY, station="fry"),
            s("serve", ok("served"), by=EXPO),
            s("recall", ok("in_progress"), station="grill"),
        ],
        Final(
            "in_progress",
            4,
            {"Burger": ItemState("cooking", bumps=2), "Steak": BUMPED_ONCE_DONE, "Fries": BUMPED_ONCE_DONE},
        ),
        items=[BURGER, Item("Steak", "grill"), FRIES],
    ),
    # ------------------------------------------------------------ serve
    scenario(
        "serve_by_expo_then_final",
        "expo serves a ready order; a served order rejects further work",
        [
            s("bump_ticket", ok("ready")),
            s("serve", ok("served"), by=EXPO),
            s("serve", no("Order A17 was already served"), by=EXPO),
            s("unbump_item", no("Order A17 was already served"), item="Burger"),
            s("rush", no("Order A17 was already served"), by=EXPO),
        ],
        Final("served", 2, {"Burger": BUMPED_ONCE_DONE, "Fries": BUMPED_ONCE_DONE}),
    ),
    scenario(
        "serve_by_admin",
        "an admin device may serve too",
        [s("bump_ticket", ok("ready")), s("serve", ok("served"), by=ADMIN)],
        Final("served", 2, {"Burger": BUMPED_ONCE_DONE, "Fries": BUMPED_ONCE_DONE}),
    ),
    scenario(
        "serve_by_kds_is_rejected",
        "only expo serves: a station screen cannot",
        [s("bump_ticket", ok("ready")), s("serve", no("Only expo can serve an order", order_status="ready"))],
        Final("ready", 1, {"Burger": BUMPED_ONCE_DONE, "Fries": BUMPED_ONCE_DONE}),
    ),
    scenario(
        "serve_not_ready_names_waiting_stations",
        "serving an order that is not ready names the stations still working, sorted",
        [
            s("start", ok("in_progress"), station="grill"),
            s("serve", no("Order A17 is not ready: waiting on fry, grill"), by=EXPO),
            s("bump_item", ok("in_progress"), item="Burger"),
            s("serve", no("waiting on fry"), by=EXPO),
        ],
        Final("in_progress", 1, {"Burger": ItemState("done", bumps=2), "Fries": NEW}),
    ),
    scenario(
        "serve_waiting_on_many_stations",
        "a very long reason (many waiting stations) is still a rejection, ledgered and re-sent as a duplicate",
        [
            s("serve", no("Order A17 is not ready: waiting on station-01-"), by=EXPO),
            again(0, dup(REJECTED, reason="Order A17 is not ready: waiting on station-01-")),
        ],
        Final("new", 0, {item.name: NEW for item in LONG_STATION_ITEMS}),
        items=LONG_STATION_ITEMS,
    ),
    # ------------------------------------------------------------ rush
    scenario(
        "rush_and_back_to_normal",
        "expo rushes an order once; rushing again is rejected; priority normal takes it back",
        [
            s("rush", ok(), by=EXPO),
            s("rush", no("Order A17 is already rushed"), by=EXPO),
            s("rush", ok(), by=EXPO, args={"priority": "normal"}),
            s("rush", no("Order A17 is already at normal priority"), by=EXPO, args={"priority": "normal"}),
            s("rush", no("Unknown priority 'urgent'"), by=EXPO, args={"priority": "urgent"}),
        ],
        Final("new", 2, {"Burger": NEW, "Fries": NEW}),
    ),
    scenario(
        "rush_order_that_came_rushed",
        "an order the POS sent as rush is already rushed",
        [s("rush", no("already rushed"), by=EXPO)],
        Final("new", 0, {"Burger": NEW, "Fries": NEW}, priority="rush"),
        priority="rush",
    ),
    scenario(
        "rush_with_huge_priority_is_a_short_rejection",
        "a malformed priority is rejected with a short reason (it is ledgered), never a server error",
        [
            s("rush", no("Unknown priority"), by=EXPO, args={"priority": "x" * 5000}),
            again(0, dup(REJECTED, reason="Unknown priority"), batch=None),
            s("rush", ok(), by=EXPO),
        ],
        Final("new", 1, {"Burger": NEW, "Fries": NEW}, priority="rush"),
    ),
    # ------------------------------------------------------------ hold / fire
    scenario(
        "hold_and_fire_one_item",
        "a held item cannot be bumped until it is fired",
        [
            s("hold", ok("new"), item="Burger"),
            s("bump_item", no("Burger is on hold: fire it first"), item="Burger"),
            s("hold", no("Nothing to hold on order A17"), item="Burger"),
            s("fire", ok(), item="Burger"),
            s("fire", no("Nothing on hold on order A17"), item="Burger"),
            s("bump_item", ok("in_progress"), item="Burger"),
        ],
        Final("in_progress", 1, {"Burger": ItemState("done", bumps=3), "Fries": NEW}),
    ),
    scenario(
        "hold_and_fire_by_course",
        "hold and fire by args.course touch exactly that course",
        [
            s("hold", ok(), by=EXPO, args={"course": 2}),
            s("hold", no("Nothing to hold on order A17"), by=EXPO, args={"course": 2}),
            s("fire", ok(), by=EXPO, args={"course": 3}),
            s("fire", ok(), by=EXPO, args={"course": 2}),
            s("fire", no("Nothing on hold on order A17"), by=EXPO, args={"course": 2}),
            s("hold", ok(), by=EXPO, args={"course": 1}),
        ],
        Final(
            "new",
            0,
            {
                "Soup": ItemState("new", held=True, bumps=1),
                "Steak": ItemState("new", bumps=2),
                "Cake": ItemState("new", bumps=1),
            },
        ),
        items=[
            Item("Soup", "saute", course=1),
            Item("Steak", "grill", course=2),
            Item("Cake", "pastry", course=3, held=True),
        ],
    ),
    scenario(
        "bumping_the_last_of_a_course_fires_the_next",
        "the bump that finishes a course fires the next held course, across stations, one course at a time",
        [
            s("bump_item", ok("in_progress"), item="Soup"),
            s("bump_ticket", ok("in_progress"), station="grill"),
            s("bump_item", ok("in_progress"), item="Steak"),
            s("bump_item", ok("in_progress"), by=EXPO, item="Fish"),
            s("fire", no("Nothing on hold on order A17"), by=EXPO, args={"course": 3}),
        ],
        Final(
            "in_progress",
            1,
            {
                "Soup": BUMPED_ONCE_DONE,
                "Salad": BUMPED_ONCE_DONE,
                "Steak": ItemState("done", bumps=2),
                "Fish": ItemState("done", bumps=2),
                "Cake": ItemState("new", bumps=1),
            },
        ),
        items=[
            Item("Soup", "saute", course=1),
            Item("Salad", "grill", course=1),
            Item("Steak", "grill", course=2, held=True),
            Item("Fish", "saute", course=2, held=True),
            Item("Cake", "pastry", course=3, held=True),
        ],
    ),
    scenario(
        "a_course_held_again_after_its_previous_course_waits_for_fire",
        "only the bump that finishes the previous course fires: a course held afterwards waits for expo's fire",
        [
            s("bump_item", ok("in_progress"), item="Soup"),
            s("hold", ok(), by=EXPO, args={"course": 2}),
            s("bump_item", ok("in_progress"), item="Bread"),
            s("fire", ok(), by=EXPO, args={"course": 2}),
        ],
        Final(
            "in_progress",
            1,
            {"Soup": BUMPED_ONCE_DONE, "Steak": ItemState("new", bumps=2), "Bread": BUMPED_ONCE_DONE},
        ),
        items=[Item("Soup", "saute", course=1), Item("Steak", "grill", course=2), Item("Bread", "grill", course=3)],
    ),
    scenario(
        "hold_course_at_a_station",
        "a station holds its own items of a course only",
        [s("hold", ok(), station="grill", args={"course": 2})],
        Final("new", 0, {"Steak": ItemState("new", held=True, bumps=1), "Tart": NEW, "Ribs": NEW}),
        items=[Item("Steak", "grill", course=2), Item("Tart", "pastry", course=2), Item("Ribs", "grill", course=1)],
    ),
    scenario(
        "hold_with_a_malformed_course_holds_nothing",
        "args.course that is not a course number is rejected instead of widening to every course",
        [
            s("hold", no("args.course must be a course number"), by=EXPO, args={"course": "2"}),
            s("hold", no("args.course must be a course number"), by=EXPO, args={"course": 0}),
            s("fire", no("args.course must be a course number"), by=EXPO, args={"course": True}),
        ],
        Final("new", 0, {"Steak": NEW, "Ribs": NEW}),
        items=[Item("Steak", "grill", course=2), Item("Ribs", "grill", course=1)],
    ),
    # ------------------------------------------------------------ ack_change
    scenario(
        "ack_change_at_station",
        "acknowledging a change clears the highlight at that station; nothing left to acknowledge is rejected",
        [
            s("ack_change", no("No changes to acknowledge at grill"), station="grill"),
            s("ack_change", ok("new"), by=FRY, station="fry"),
            s("ack_change", no("No changes to acknowledge at fry on order A17"), by=FRY, station="fry"),
        ],
        Final("new", 0, {"Burger": NEW, "Fries": ItemState("new", bumps=1)}),
        setup=Setup(changed=["Fries"]),
    ),
    scenario(
        "ack_change_on_cancelled_order",
        "a cancelled order still lets cooks acknowledge its changes, and nothing else",
        [
            s("start", no("Order A17 was cancelled")),
            s("ack_change", ok("cancelled")),
            s("bump_ticket", no("Order A17 was cancelled"), by=EXPO),
        ],
        Final("cancelled", 0, {"Burger": ItemState("new", bumps=1), "Fries": ItemState("new", bumps=1)}),
        setup=Setup(changed=["Burger", "Fries"], cancelled=True),
    ),
    # ------------------------------------------------------------ eighty_six
    scenario(
        "eighty_six_and_back",
        "86 an item, 86 it twice (rejected), bring it back, bring it back twice (rejected)",
        [
            s("eighty_six", ok(), target="none", args={"item_name": "Fries", "reason": "out of potatoes"}),
            s("eighty_six", no("Fries is already 86d"), target="none", args={"item_name": "fries"}),
            s("eighty_six", ok(), by=EXPO, target="none", args={"item_name": "Fries", "available": True}),
            s(
                "eighty_six",
                no("Fries is already available"),
                target="none",
                args={"item_name": "Fries", "available": True},
            ),
            s("eighty_six", ok(), by=FRY, target="none", args={"item_name": "Fries", "available": False}),
        ],
        Final("new", 0, {"Burger": NEW, "Fries": NEW}, menu={"Fries": False}, menu_versions={"Fries": 3}),
    ),
    scenario(
        "eighty_six_rejections",
        "86 needs a name, a boolean availability, and an item to bring back",
        [
            s("eighty_six", no("args.item_name"), target="none"),
            s("eighty_six", no("args.item_name"), target="none", args={"item_name": "   "}),
            s(
                "eighty_six",
                no("args.available must be true or false"),
                target="none",
                args={"item_name": "Fries", "available": "no"},
            ),
            s("eighty_six", no("Soup is not 86'd"), target="none", args={"item_name": "Soup", "available": True}),
            s("eighty_six", ok(), target="order", args={"item_name": "Soup"}),
        ],
        Final("new", 0, {"Burger": NEW, "Fries": NEW}, menu={"Soup": False}, menu_versions={"Soup": 1}),
    ),
    # ------------------------------------------------------------ rejections by the order's state
    scenario(
        "cancelled_order_rejects_work",
        "a cancelled order takes no kitchen work",
        [
            s("start", no("Order A17 was cancelled")),
            s("bump_item", no("Order A17 was cancelled"), item="Burger"),
            s("serve", no("Order A17 was cancelled"), by=EXPO),
            s("recall", no("Order A17 was cancelled"), by=EXPO),
            s("rush", no("Order A17 was cancelled"), by=EXPO),
        ],
        Final("cancelled", 0, {"Burger": NEW, "Fries": NEW}),
        setup=Setup(cancelled=True),
    ),
    scenario(
        "voided_item",
        "a voided item cannot be bumped, and does not hold the order back",
        [
            s("bump_item", no("Fries was voided"), item="Fries"),
            s("bump_ticket", ok("ready")),
            s("unbump_item", no("Fries is not done"), item="Fries"),
            s("serve", ok("served"), by=EXPO),
        ],
        Final("served", 2, {"Burger": BUMPED_ONCE_DONE, "Fries": ItemState("voided")}),
        setup=Setup(voided=["Fries"]),
    ),
    scenario(
        "unknown_item",
        "an item id that is on no order is rejected, readable",
        [
            s("bump_item", no("That item is no longer on order A17"), item=UNKNOWN_ITEM),
            s("unbump_item", no("That item is no longer on order A17"), item=UNKNOWN_ITEM),
            s("bump_item", no("bump_item needs an item")),
        ],
        Final("new", 0, {"Burger": NEW, "Fries": NEW}),
    ),
    scenario(
        "order_of_another_restaurant",
        "an order of another restaurant is not in this kitchen, and stays untouched",
        [
            s("bump_ticket", no("That order is not in this kitchen"), target="foreign"),
            s("serve", no("That order is not in this kitchen"), by=ADMIN, target="foreign"),
            again(0, dup(REJECTED, reason="not in this kitchen")),
        ],
        Final("new", 0, {"Burger": NEW, "Fries": NEW}),
    ),
    scenario(
        "unknown_order",
        "an order id that does not exist is not in this kitchen",
        [s("start", no("That order is not in this kitchen"), target="unknown")],
        Final("new", 0, {"Burger": NEW, "Fries": NEW}),
    ),
    scenario(
        "missing_order_id",
        "an order intent without an order_id is rejected",
        [
            s("start", no("start needs an order"), target="none"),
            s("serve", no("serve needs an order"), by=EXPO, target="none"),
        ],
        Final("new", 0, {"Burger": NEW, "Fries": NEW}),
    ),
    # ------------------------------------------------------------ duplicates
    scenario(
        "resend_in_the_same_batch",
        "the same intent twice in one batch is applied once",
        [
            s("start", ok("in_progress"), batch="b1"),
            again(0, dup(APPLIED), batch="b1"),
        ],
        Final("in_progress", 1, {"Burger": ItemState("cooking", bumps=1), "Fries": ItemState("cooking", bumps=1)}),
    ),
    scenario(
        "resend_in_a_later_batch",
        "an intent re-sent after other intents is a duplicate and changes nothing",
        [
            s("bump_item", ok("in_progress"), item="Burger"),
            s("unbump_item", ok("in_progress"), item="Burger"),
            again(0, dup(APPLIED)),
            again(1, dup(APPLIED)),
        ],
        Final("in_progress", 1, {"Burger": ItemState("cooking", bumps=2), "Fries": NEW}),
    ),
    scenario(
        "resend_of_a_rejected_intent",
        "rejected intents are ledgered too: a re-send is a duplicate of a rejection, with its reason",
        [
            s("serve", no("Only expo can serve an order")),
            s("bump_ticket", ok("ready")),
            again(0, dup(REJECTED, reason="Only expo can serve an order")),
        ],
        Final("ready", 1, {"Burger": BUMPED_ONCE_DONE, "Fries": BUMPED_ONCE_DONE}),
    ),
    scenario(
        "rejection_is_not_retried_into_success",
        "a rejected intent stays rejected when re-sent after the order changed so it would now apply",
        [
            s("bump_item", no("Burger is on hold: fire it first"), item="Burger"),
            s("fire", ok(), by=EXPO, item="Burger"),
            again(0, dup(REJECTED)),
        ],
        Final("new", 0, {"Burger": ItemState("new", bumps=1), "Fries": NEW}),
        items=[Item("Burger", "grill", held=True), FRIES],
    ),
    scenario(
        "new_id_at_or_below_the_cursor",
        "a new intent id with a device_seq at or below the device's cursor is a duplicate and changes nothing",
        [
            s("start", ok("in_progress"), seq=1),
            s("bump_ticket", dup(), seq=1),
            s("bump_item", ok("in_progress"), item="Burger", seq=2),
            s("bump_ticket", dup(), seq=1),
            s("bump_ticket", dup(), seq=2),
        ],
        Final("in_progress", 1, {"Burger": ItemState("done", bumps=2), "Fries": ItemState("cooking", bumps=1)}),
    ),
    scenario(
        "gaps_in_device_seq_are_accepted",
        "device_seq may skip numbers; a skipped number sent later is below the cursor",
        [
            s("start", ok("in_progress"), seq=1),
            s("bump_item", ok("in_progress"), item="Burger", seq=5),
            s("bump_item", dup(), item="Fries", seq=3),
            s("bump_item", ok("ready"), item="Fries", seq=9),
        ],
        Final("ready", 2, {"Burger": ItemState("done", bumps=2), "Fries": ItemState("done", bumps=2)}),
    ),
    scenario(
        "cursors_are_per_device",
        "two devices each start at device_seq 1",
        [
            s("bump_item", ok("in_progress"), item="Burger", seq=1),
            s("bump_item", ok("ready"), by=FRY, item="Fries", seq=1),
        ],
        Final("ready", 2, {"Burger": BUMPED_ONCE_DONE, "Fries": BUMPED_ONCE_DONE}),
    ),
    # ------------------------------------------------------------ batches
    scenario(
        "batch_sees_earlier_effects",
        "within one batch each intent sees the effects of the ones before it",
        [
            s("bump_item", ok("in_progress"), by=EXPO, item="Burger", batch="b1"),
            s("bump_item", no("Burger is already done"), by=EXPO, item="Burger", batch="b1"),
            s("bump_item", ok("ready"), by=EXPO, item="Fries", batch="b1"),
            s("serve", ok("served"), by=EXPO, batch="b1"),
            s("recall", ok("ready"), by=EXPO, batch="b1"),
            s("rush", ok(), by=EXPO, batch="b1"),
            s("serve", ok("served"), by=EXPO, batch="b1"),
            again(3, dup(APPLIED), batch="b1"),
        ],
        Final("served", 6, {"Burger": BUMPED_ONCE_DONE, "Fries": BUMPED_ONCE_DONE}, priority="rush"),
    ),
    scenario(
        "batch_with_rejections_in_the_middle",
        "a rejection in a batch does not stop the intents after it",
        [
            s("bump_item", no("no longer on order"), item=UNKNOWN_ITEM, batch="b1"),
            s("start", ok("in_progress"), station="grill", batch="b1"),
            s("serve", no("Only expo"), batch="b1"),
            s("bump_ticket", ok("in_progress"), station="grill", batch="b1"),
        ],
        Final("in_progress", 1, {"Burger": ItemState("done", bumps=2), "Fries": NEW}),
    ),
    # ------------------------------------------------------------ transfer (issue 19, item 2)
    scenario(
        "transfer_item_and_back",
        "an item moves to another station and back (the recall of a transfer); moving it where it is is rejected",
        [
            s("transfer", ok("new"), item="Burger", args={"to": "fry"}),
            s("transfer", no("Burger is already at fry"), by=FRY, item="Burger", args={"to": "fry"}),
            s("transfer", ok("new"), by=FRY, item="Burger", args={"to": "grill"}),
        ],
        Final(
            "new", 0, {"Burger": ItemState("new", bumps=2, station="grill"), "Fries": ItemState("new", station="fry")}
        ),
    ),
    scenario(
        "transfer_keeps_its_origin",
        "a moved item is marked with the station it was sent to, kept through a second move; a ticket move marks each",
        [
            s("transfer", ok("new"), item="Burger", args={"to": "fry"}),
            s("transfer", ok("new"), by=FRY, item="Burger", args={"to": "cold"}),
            s("transfer", ok("new"), by=FRY, station="fry", args={"to": "grill"}),
        ],
        Final(
            "new",
            0,
            {
                "Burger": ItemState("new", bumps=2, station="cold", moved_from="grill"),
                "Fries": ItemState("new", bumps=1, station="grill", moved_from="fry"),
                "Salad": ItemState("new", station="cold"),
            },
        ),
        items=[BURGER, FRIES, Item("Salad", "cold")],
    ),
    scenario(
        "transfer_station_ticket",
        "a station's ticket moves its open items only (a done item stays where it was made); then nothing is left",
        [
            s("bump_item", ok("in_progress"), item="Steak"),
            s("transfer", ok("in_progress"), station="grill", args={"to": "fry"}),
            s("transfer", no("Nothing to transfer at grill on order A17"), station="grill", args={"to": "fry"}),
            s("transfer", no("Order A17 is already at fry"), by=FRY, station="fry", args={"to": "fry"}),
        ],
        Final(
            "in_progress",
            1,
            {
                "Burger": ItemState("new", bumps=1, station="fry", moved_from="grill"),
                "Steak": ItemState("done", bumps=1, station="grill"),
                "Fries": ItemState("new", station="fry"),
            },
        ),
        items=[BURGER, Item("Steak", "grill"), FRIES],
    ),
    scenario(
        "transfer_whole_order_by_expo",
        "expo moves the whole order's open items; a held item keeps its hold; a re-send changes nothing",
        [
            s("transfer", ok("new"), by=EXPO, args={"to": "fry"}),
            again(0, dup(APPLIED)),
            s("transfer", no("Nothing to transfer on order A17"), by=EXPO, args={"to": "fry"}),
        ],
        Final(
            "new",
            0,
            {
                "Burger": ItemState("new", bumps=1, station="fry", moved_from="grill"),
                "Cake": ItemState("new", held=True, bumps=1, station="fry", moved_from="grill"),
                "Fries": ItemState("new", station="fry"),
            },
        ),
        items=[BURGER, Item("Cake", "grill", course=2, held=True), FRIES],
    ),
    scenario(
        "transfer_refusals",
        "a transfer needs a known station in args.to and an item still to cook; a refusal moves nothing",
        [
            s("transfer", no("transfer needs args.to"), item="Burger"),
            s("transfer", no("args.to must be a station name"), item="Burger", args={"to": "Flat Top"}),
            s("transfer", no("args.to must be a station name"), item="Burger", args={"to": 5}),
            s("transfer", no("There is no station moon in this kitchen"), item="Burger", args={"to": "moon"}),
            s("transfer", no("There is no station moon in this kitchen"), by=EXPO, args={"to": "moon"}),
            s("transfer", no("Soup was voided"), item="Soup", args={"to": "fry"}),
            s("transfer", no("no longer on order"), item=UNKNOWN_ITEM, args={"to": "fry"}),
            s("bump_item", ok("in_progress"), by=FRY, item="Fries"),
            s("transfer", no("Fries is already done"), by=FRY, item="Fries", args={"to": "grill"}),
        ],
        Final(
            "in_progress",
            1,
            {
                "Burger": ItemState("new", station="grill"),
                "Fries": ItemState("done", bumps=1, station="fry"),
                "Soup": ItemState("voided", station="grill"),
            },
        ),
        items=[BURGER, FRIES, Item("Soup", "grill")],
        setup=Setup(voided=["Soup"]),
    ),
    # ------------------------------------------------------------ fire timing (issue 19, item 1)
    scenario(
        "fire_timing_prep_times_and_fire_now",
        "items carry their prep time from the menu (any case) and go to the kitchen as sent, a held course when it "
        "fires and again after a hold; a cook fires a waiting item now by starting it",
        [
            s("start", ok("in_progress"), by=FRY, item="Fries"),
            s("fire", ok("in_progress"), by=EXPO, args={"course": 2}),
            s("hold", ok("in_progress"), by=EXPO, item="Cake"),
            s("fire", ok("in_progress"), by=EXPO, item="Cake"),
        ],
        Final(
            "in_progress",
            1,
            {
                "Ribeye": ItemState("new", fired="sent", prep=600),
                "Fries": ItemState("cooking", bumps=1, fired="sent", prep=180),
                "Soda": ItemState("new", fired="sent"),
                "Cake": ItemState("new", bumps=3, fired="later", prep=300),
            },
        ),
        items=[Item("Ribeye", "grill"), FRIES, Item("Soda", "bar"), Item("Cake", "pastry", course=2, held=True)],
        prep_times={"ribeye": 600, "FRIES": 180, "Cake": 300},
    ),
    scenario(
        "fire_timing_auto_fire_stamps_the_course",
        "the bump that finishes a course fires the next: its items go to the kitchen then; a course still held has "
        "no fire time",
        [
            s("bump_ticket", ok("in_progress"), station="grill"),
            s("bump_ticket", ok("in_progress"), by=FRY, station="fry"),
        ],
        Final(
            "in_progress",
            1,
            {
                "Burger": ItemState("done", bumps=1, fired="sent", prep=480),
                "Fries": ItemState("done", bumps=1, fired="sent"),
                "Cake": ItemState("new", bumps=1, fired="later", prep=240),
                "Pie": ItemState("new", held=True, fired="no"),
            },
        ),
        items=[BURGER, FRIES, Item("Cake", "grill", course=2, held=True), Item("Pie", "pastry", course=3, held=True)],
        prep_times={"Burger": 480, "Cake": 240},
    ),
]


def cases_json() -> str:
    """Every scenario as JSON, for runners outside Python."""
    return json.dumps([asdict(sc) for sc in SCENARIOS], indent=1, sort_keys=True)


def kinds_covered() -> set[str]:
    return {step.kind for sc in SCENARIOS for step in sc.steps}


def intent_for(step: Step, targets: dict[str, Any], item_ids: dict[str, Any], scenario: str) -> dict[str, Any]:
    """The wire intent a step sends: `targets` maps a step's target to an order id, `item_ids` item names to ids."""
    intent: dict[str, Any] = {
        "id": str(uuid.uuid4()),
        "device_id": step.device,
        "device_seq": step.seq,
        "kind": step.kind,
        "args": step.args,
    }
    if step.target != "none":
        intent["order_id"] = None if targets[step.target] is None else str(targets[step.target])
    if step.item is not None:
        assert step.item in item_ids or step.item == UNKNOWN_ITEM, f"{scenario}: no item {step.item!r}"
        intent["item_id"] = str(item_ids.get(step.item) or uuid.uuid4())
    if step.station is not None:
        intent["station"] = step.station
    return intent
