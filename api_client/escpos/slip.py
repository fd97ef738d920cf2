"""A ticket for one station as a kitchen printer prints it: a plain-JSON slip (the companion stores it with its print
job, so a retry prints the same paper), its content hash (what makes a ticket "changed"), and its ESC/POS bytes.
The companion's backup printer builds it from its database rows (`build_slip`), a screen's own printer from the
orders it displays (`slip_from_order`); both print the same layout, only the foot says which printed it."""

from __future__ import annotations

import hashlib
import json
import textwrap
from datetime import datetime
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from api_client.models import OrderWithItems

ACTIVE = ("new", "cooking")
"""Item statuses a cook still has to make: on the slip as lines."""
VOIDED = "voided"

WIDTH = 42
"""Characters per line: font A on 80 mm paper holds 48, on 58 mm 32; 42 wraps safely on 80 mm and stays readable."""

_HASHED = ("number", "type", "table_label", "customer_name", "guests", "priority", "notes", "cancelled", "items")
"""What a cook reads. Not the server name or times, not an item's printed mark: changing those prints nothing."""


def build_slip(station: str, order: dict[str, Any], items: list[dict[str, Any]]) -> dict[str, Any]:
    """The slip for `station` from the order's row and the station's item rows (any order)."""
    lines = [
        {
            "id": str(i["id"]),
            "name": i["name"],
            "quantity": i["quantity"],
            "modifiers": list(i["modifiers"] or []),
            "notes": i["notes"],
            "allergens": list(i["allergens"] or []),
            "course": i["course"],
            "held": bool(i["held"]),
            "voided": i["status"] == VOIDED,
        }
        for i in sorted(items, key=lambda i: (i["course"], i["created_at"], str(i["id"])))
        if i["status"] in ACTIVE or i["status"] == VOIDED
    ]
    return {
        "station": station,
        "order_id": str(order["id"]),
        "number": order["number"],
        "type": order["type"],
        "table_label": order["table_label"],
        "server_name": order["server_name"],
        "customer_name": order["customer_name"],
        "guests": order["guests"],
        "priority": order["priority"],
        "notes": order["notes"],
        "cancelled": order["status"] == "cancelled",
        "created_at": order["created_at"].isoformat(),
        "items": lines,
    }


def slip_from_order(station: str, order: OrderWithItems) -> dict[str, Any]:
    """The slip for `station` (a name on the paper: "expo" for a whole order) from an order as a screen displays it,
    its items already the ones the screen shows."""
    row = order.model_dump(include=set(_ORDER_FIELDS))
    row = {**row, "type": order.type.value, "status": order.status.value, "priority": order.priority.value}
    items = [{**i.model_dump(include=set(_ITEM_FIELDS)), "status": i.status.value} for i in order.order_items]
    return build_slip(station, row, items)


_ORDER_FIELDS = (
    "id",
    "number",
    "type",
    "table_label",
    "server_name",
    "customer_name",
    "guests",
    "priority",
    "notes",
    "status",
    "created_at",
)
_ITEM_FIELDS = ("id", "name", "quantity", "modifiers", "notes", "allergens", "course", "held", "status", "created_at")


def content_hash(slip: dict[str, Any]) -> str:
    body = json.dumps({k: slip[k] for k in _HASHED}, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(body.encode()).hexdigest()


def worth_printing(slip: dict[str, Any], printed_before: bool) -> bool:
    """A first slip needs something to cook; a later one also goes out to say the ticket was cancelled or a line
    voided. A ticket whose lines were all bumped done elsewhere prints nothing."""
    active = any(not line["voided"] for line in slip["items"])
    if not printed_before:
        return active and not slip["cancelled"]
    return active or slip["cancelled"] or any(line["voided"] for line in slip["items"])


def render(slip: dict[str, Any], job_id: int, *, changed: bool, reprint: bool, at: datetime) -> bytes:
    """ESC/POS bytes for the companion's backup print of a slip (its job number at the foot), ending with a cut."""
    foot = [(f"Backup print, job {job_id}, {at.astimezone().strftime('%H:%M:%S')}", False)]
    if reprint:
        foot.append((f"REPRINT of job {job_id}: may be a duplicate", True))
    return _render(slip, changed=changed, foot=foot)


def render_offline_copy(slip: dict[str, Any], *, at: datetime) -> bytes:
    """ESC/POS bytes for a screen's own copy of a ticket while it reaches no server, marked so at the foot."""
    return _render(slip, changed=False, foot=[(f"OFFLINE COPY, {at.astimezone().strftime('%H:%M:%S')}", True)])


def _render(slip: dict[str, Any], *, changed: bool, foot: list[tuple[str, bool]]) -> bytes:
    """ESC/POS bytes for a slip, made by python-escpos without a device (`Dummy`), ending with a cut; `foot`: the
    last lines, each (text, bold)."""
    # Imported on the first print, not at start-up: python-escpos loads its printer profiles (about a second).
    from escpos.printer import Dummy  # type: ignore[import-untyped]  # python-escpos ships no types

    p = Dummy()
    p.hw("INIT")
    big = {"align": "center", "bold": True, "double_height": True, "double_width": True}
    p.set(**big)
    p.text(f"{slip['station'].upper()}\n")
    p.text(f"#{slip['number']}\n")
    p.set(align="center", bold=True, normal_textsize=True)
    if slip["cancelled"]:
        p.text("*** CANCELLED ***\n")
    elif changed:
        p.text("*** CHANGED ***\n")
    if slip["priority"] == "rush":
        p.text("*** RUSH ***\n")
    p.set(align="left", bold=False, normal_textsize=True)
    p.text(_wrap(" | ".join(_header(slip))))
    p.text("-" * WIDTH + "\n")
    course = None
    for line in slip["items"]:
        if line["course"] != course and len({x["course"] for x in slip["items"]}) > 1:
            course = line["course"]
            p.text(f"-- course {course} --\n")
        p.set(align="left", bold=True, double_height=True, double_width=False)
        flags = " VOID" if line["voided"] else (" HELD" if line["held"] else "")
        p.text(_wrap(f"{line['quantity']} x {line['name']}{flags}"))
        p.set(align="left", bold=False, normal_textsize=True)
        for modifier in line["modifiers"]:
            p.text(_wrap(f"+ {modifier}", indent="    "))
        if line["allergens"]:
            p.set(bold=True, underline=1)
            p.text(_wrap(f"! ALLERGY: {', '.join(line['allergens'])}", indent="    "))
            p.set(bold=False, underline=0)
        if line["notes"]:
            p.text(_wrap(f"Note: {line['notes']}", indent="    "))
    p.text("-" * WIDTH + "\n")
    if slip["notes"]:
        p.text(_wrap(f"Order note: {slip['notes']}"))
    for text, bold in foot:
        if bold:
            p.set(bold=True)
        p.text(_wrap(text))
        if bold:
            p.set(bold=False)
    p.cut()
    return bytes(p.output)


def _header(slip: dict[str, Any]) -> list[str]:
    parts = [slip["type"].replace("_", " ")]
    if slip["table_label"]:
        parts.append(f"table {slip['table_label']}")
    if slip["guests"]:
        parts.append(f"{slip['guests']} guests")
    if slip["customer_name"]:
        parts.append(slip["customer_name"])
    if slip["server_name"]:
        parts.append(f"server {slip['server_name']}")
    return parts


def _wrap(text: str, indent: str = "  ") -> str:
    """`text` in lines of WIDTH; a line under an item (`indent` past two spaces) starts indented too."""
    first, *rest = text.splitlines() or [""]
    lead = indent if len(indent) > 2 else ""
    out = textwrap.wrap(first, WIDTH, initial_indent=lead, subsequent_indent=indent) or [""]
    for more in rest:
        out += textwrap.wrap(more, WIDTH, initial_indent=indent, subsequent_indent=indent) or [""]
    return "".join(f"{line}\n" for line in out)
