"""The checks run after each schedule, on the files the processes left (screens stopped first).

Each check returns a list of violations (human-readable lines); empty means it held. Named checks:

* `acked`: every tap a screen acknowledged (its journal) is in the server's ledger, or kept on that screen as
  refused with its reason; a refusal the server ledgered is still shown on the screen.
* `once`: nothing decided or applied twice: one ledger row per (device, device_seq); each device's cursor is
  its highest ledgered sequence; no screen holds as refused a tap the server's ledger says was applied.
* `converged`: every screen's store equals the server for its restaurant: each open server order is on every
  screen with the same status, priority, version and items (status, version, held, changed flag); every
  order a screen holds exists on the server (deleted orders gone) and matches it.
* `drained`: no screen's outbox has a pending or in-flight entry left.
* `integrity`: `PRAGMA integrity_check` is ok on every screen store and on the SQLite companion database.
* `liveness`: after the heal, all of the above that can be watched live (convergence and drained queues)
  happened within the bound, and no screen process died by itself.
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from kds_backend.db.tables import device_cursors, intent_ledger, order_items, orders
from sync.store import LocalStore, outbox_rows

from .screen_driver import SCREEN_DB, read_journal, store_digest

CHECKS = ("acked", "once", "converged", "drained", "integrity", "liveness")
OPEN = ("new", "in_progress", "ready")
MAX_LINES = 8


# ---------------------------------------------------------------- the server's side


def server_digest(engine: sa.Engine, restaurant_id: str) -> dict[str, Any]:
    with engine.connect() as conn:
        rows = conn.execute(sa.select(orders).where(orders.c.restaurant_id == restaurant_id)).mappings().all()
        items = conn.execute(
            sa.select(order_items).where(order_items.c.restaurant_id == restaurant_id)
        ).mappings().all()
    out: dict[str, Any] = {
        str(r["id"]): {
            "status": r["status"],
            "version": r["version"],
            "priority": r["priority"],
            "cleared": r["cleared_at"] is not None,
            "items": {},
        }
        for r in rows
    }
    for i in items:
        order = out.get(str(i["order_id"]))
        if order is not None:
            order["items"][str(i["id"])] = [i["status"], i["version"], bool(i["held"]), bool(i["changed_after_send"])]
    return out


def ledger(engine: sa.Engine, restaurant_id: str) -> tuple[list[dict[str, Any]], dict[str, int]]:
    with engine.connect() as conn:
        rows = [
            {**r, "intent_id": str(r["intent_id"])}
            for r in conn.execute(
                sa.select(intent_ledger).where(intent_ledger.c.restaurant_id == restaurant_id)
            ).mappings()
        ]
        cursors = {
            r.device_id: int(r.last_seq)
            for r in conn.execute(sa.select(device_cursors).where(device_cursors.c.restaurant_id == restaurant_id))
        }
    return rows, cursors


# ---------------------------------------------------------------- comparing a screen with the server


def divergence(screen: dict[str, Any], server: dict[str, Any]) -> list[str]:
    """Why a screen's orders differ from the server's (empty: converged)."""
    problems = []
    for order_id, want in server.items():
        if want["status"] in OPEN and not want["cleared"] and order_id not in screen:
            problems.append(f"open order {order_id} ({want['status']}) missing on the screen")
    for order_id, have in screen.items():
        want = server.get(order_id)
        if want is None:
            problems.append(f"order {order_id} ({have['status']}) is on the screen but deleted on the server")
        elif have != want:
            problems.append(f"order {order_id} differs: screen {_short(have)} server {_short(want)}")
    return problems


def _short(order: dict[str, Any]) -> str:
    items = ",".join(f"{k[:8]}={v[0]}/v{v[1]}" for k, v in sorted(order["items"].items()))
    return f"{order['status']}/v{order['version']}/{order['priority']}[{items}]"


# ---------------------------------------------------------------- the whole verdict


def read_screen(data_dir: Path) -> dict[str, Any]:
    """Journal, outbox and orders of a stopped screen, read through sync.store."""
    path = data_dir / SCREEN_DB
    result: dict[str, Any] = {"journal": read_journal(data_dir), "orders": {}, "unsettled": [], "rejected": {}}
    if not path.exists():
        result["missing"] = True
        return result
    store = LocalStore(path)
    try:
        with store.snapshot() as conn:
            result["orders"] = store_digest(conn)
            result["unsettled"] = [
                {"intent_id": str(e.intent.id), "state": e.state, "attempts": e.attempts, "last_error": e.last_error}
                for e in outbox_rows.unsettled(conn)
            ]
            result["rejected"] = {str(e.intent.id): e.reason for e in outbox_rows.rejected(conn)}
    finally:
        store.close()
    return result


def integrity(path: Path) -> str:
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            return "; ".join(str(r[0]) for r in conn.execute("PRAGMA integrity_check"))
        finally:
            conn.close()
    except sqlite3.DatabaseError as exc:
        return f"cannot open: {exc}"


def verdict(
    screens: dict[int, dict[str, Any]],
    server: dict[str, Any],
    ledger_rows: list[dict[str, Any]],
    cursors: dict[str, int],
    integrity_results: dict[str, str],
    liveness_problems: list[str],
) -> dict[str, list[str]]:
    v: dict[str, list[str]] = {name: [] for name in CHECKS}
    by_id = {r["intent_id"]: r for r in ledger_rows}
    journaled: set[str] = set()
    for index, s in sorted(screens.items()):
        unsettled = {e["intent_id"] for e in s["unsettled"]}
        for j in s["journal"]:
            iid = j["intent_id"]
            journaled.add(iid)
            row = by_id.get(iid)
            refused_here = iid in s["rejected"]
            if row is None:
                if not refused_here and iid not in unsettled:
                    v["acked"].append(f"screen {index}: tap {iid} ({j['kind']} on {j['order_id']}) is LOST: "
                                      "not in the server ledger, not kept on the screen")
                continue
            if row["device_id"] != j["device_id"]:
                v["once"].append(f"screen {index}: ledger row {iid} belongs to {row['device_id']}")
            if row["status"] == "applied" and refused_here:
                v["once"].append(f"screen {index}: tap {iid} ({j['kind']}) applied by the server but shown as "
                                 f"refused ({s['rejected'][iid]!r}): decided twice")
            if row["status"] == "rejected" and not refused_here and iid not in unsettled:
                v["acked"].append(f"screen {index}: tap {iid} ({j['kind']}) refused by the server "
                                  f"({row['reason']!r}) but the refusal is not kept on the screen")
        if s["unsettled"]:
            states = Counter(e["state"] for e in s["unsettled"])
            errors = {e["last_error"] for e in s["unsettled"] if e["last_error"]}
            v["drained"].append(f"screen {index}: {len(s['unsettled'])} entries stuck ({dict(states)}); "
                                f"last errors: {sorted(errors)[:3]}")
        for line in divergence(s["orders"], server):
            v["converged"].append(f"screen {index}: {line}")
        if s.get("missing"):
            v["converged"].append(f"screen {index}: no store file")
    seqs = Counter((r["device_id"], r["device_seq"]) for r in ledger_rows)
    for (device, seq), n in seqs.items():
        if n > 1:
            v["once"].append(f"device {device} sequence {seq} is in the ledger {n} times: applied twice")
    highest: dict[str, int] = {}
    for r in ledger_rows:
        highest[r["device_id"]] = max(highest.get(r["device_id"], 0), int(r["device_seq"]))
    for device, last in cursors.items():
        if device in highest and last != highest[device]:
            v["once"].append(f"device {device}: cursor {last} but highest ledgered sequence {highest[device]}")
    for name, result in sorted(integrity_results.items()):
        if result != "ok":
            v["integrity"].append(f"{name}: {result[:300]}")
    v["liveness"].extend(liveness_problems)
    return {k: lines[:MAX_LINES] + ([f"... and {len(lines) - MAX_LINES} more"] if len(lines) > MAX_LINES else [])
            for k, lines in v.items()}
