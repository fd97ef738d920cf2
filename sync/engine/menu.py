"""The 86 list as a screen shows it: the server's `menu_availability` rows with this screen's unanswered
`eighty_six` intents on top, so an item 86'd offline is on the list at once.

Names compare case-insensitively (the server matches them that way too); the shown spelling is the latest one
the kitchen used. Two small queries: the menu rows (a handful per restaurant) and the outbox entries without an
order (only `eighty_six` has none), so a long offline queue of ticket taps is never parsed here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import sqlalchemy as sa

from api_client.menu_rules import menu_key, parse_eighty_six
from api_client.models import Intent, IntentKind, MenuAvailabilityPublic
from sync.readpath.merge import Change, Delete, table_of
from sync.store.tables import UNSETTLED, menu_availability, outbox


@dataclass(frozen=True, slots=True)
class EightySixed:
    names: tuple[str, ...]
    """The items now unavailable, in name order (case-insensitive)."""
    pending: bool
    """Whether an unanswered 86 / un-86 of this screen is part of the picture."""


def eighty_sixed(conn: sa.Connection) -> EightySixed:
    state: dict[str, tuple[str, bool]] = {}  # lower-case name -> (shown name, available)
    rows: list[str] = list(conn.execute(sa.select(menu_availability.c.data)).scalars())
    for data in rows:
        row = MenuAvailabilityPublic.model_validate_json(data)
        state[menu_key(row.item_name)] = (row.item_name, row.available)
    query = (
        sa.select(outbox.c.payload)
        .where(outbox.c.state.in_(UNSETTLED), outbox.c.order_id.is_(None), outbox.c.kind == IntentKind.eighty_six)
        .order_by(outbox.c.seq)
    )
    pending = False
    payloads: list[str] = list(conn.execute(query).scalars())
    for payload in payloads:
        wanted = parse_eighty_six(Intent.model_validate_json(payload).args)
        if isinstance(wanted, str):
            continue  # the server will refuse it; it changes nothing meanwhile
        pending = True
        state[menu_key(wanted.item_name)] = (wanted.item_name, wanted.available)
    names = sorted((shown for shown, available in state.values() if not available), key=str.lower)
    return EightySixed(tuple(names), pending)


@dataclass(frozen=True, slots=True)
class MenuLine:
    """One menu item's availability as displayed: the server's row, or this store's unanswered 86 over it."""

    item_name: str
    available: bool
    reason: str | None
    updated_by: str | None


def shown_menu(conn: sa.Connection) -> list[MenuLine]:
    """Every menu row as displayed (server rows with the unanswered 86s on top), by name (case-insensitive)."""
    lines: dict[str, MenuLine] = {}
    rows: list[str] = list(conn.execute(sa.select(menu_availability.c.data)).scalars())
    for data in rows:
        row = MenuAvailabilityPublic.model_validate_json(data)
        lines[menu_key(row.item_name)] = MenuLine(row.item_name, row.available, row.reason, row.updated_by)
    query = (
        sa.select(outbox.c.payload)
        .where(outbox.c.state.in_(UNSETTLED), outbox.c.order_id.is_(None), outbox.c.kind == IntentKind.eighty_six)
        .order_by(outbox.c.seq)
    )
    payloads: list[str] = list(conn.execute(query).scalars())
    for payload in payloads:
        intent = Intent.model_validate_json(payload)
        wanted = parse_eighty_six(intent.args)
        if isinstance(wanted, str):
            continue
        line = MenuLine(wanted.item_name, wanted.available, wanted.reason, intent.device_id)
        lines[menu_key(wanted.item_name)] = line
    return sorted(lines.values(), key=lambda line: line.item_name.lower())


def touches_menu(changes: Iterable[Change], *, reset: bool) -> bool:
    """Whether applying `changes` may change the 86 list (a snapshot always may)."""
    if reset:
        return True
    return any(
        (c.table if isinstance(c, Delete) else table_of(c.row)) == "menu_availability" for c in changes
    )
