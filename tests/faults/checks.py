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

With the hub tier (`hub_verdict`), the same names, held to both servers: a screen on the hub's LAN is judged as
above against the hub (its ledger, its rows and versions; so a tap refused late is shown refused on the screen that
made it); on top of that every tap the hub applied is in upstream's ledger under the same id, device and sequence
(`acked`: else it was LOST on the way up), upstream's verdict and the hub's agree (a tap upstream refused is
refused in the hub's ledger; one upstream applied is never refused at the hub: `once`; every late rejection the
hub keeps is one upstream refused), the hub's rows equal upstream's in content (statuses, priority, items'
status/held/changed flag; versions are each server's own: `converged`), and nothing waits or was given up in the
hub's queues (`drained`).
"""

from __future__ import annotations

import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

import sqlalchemy as sa

from kds_backend.db.tables import (
    device_cursors,
    hub_intents,
    intent_ledger,
    late_rejections,
    order_items,
    orders,
    upstream_writes,
)
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


# ---------------------------------------------------------------- the hub tier


def content(digest: dict[str, Any]) -> dict[str, Any]:
    """A server digest without what each server stamps itself (versions): what a hub and its upstream share."""
    return {
        oid: {"status": o["status"], "priority": o["priority"], "cleared": o["cleared"],
              "items": {iid: [v[0], v[2], v[3]] for iid, v in o["items"].items()}}
        for oid, o in digest.items()
    }


def hub_divergence(hub: dict[str, Any], upstream: dict[str, Any]) -> list[str]:
    """Why the hub's rows differ from upstream's in content (empty: the same). As for a screen, a finished order
    upstream need not be at the hub (a snapshot brings open orders), but every order the hub holds must match."""
    have_all, want_all = content(hub), content(upstream)
    problems = []
    for order_id, want in want_all.items():
        if want["status"] in OPEN and not want["cleared"] and order_id not in have_all:
            problems.append(f"open upstream order {order_id} ({want['status']}) missing at the hub")
    for order_id, have in have_all.items():
        want = want_all.get(order_id)
        if want is None:
            problems.append(f"order {order_id} ({have['status']}) is at the hub but not upstream")
        elif have != want:
            problems.append(f"order {order_id} differs: hub {_content(have)} upstream {_content(want)}")
    return problems


def _content(order: dict[str, Any]) -> str:
    items = ",".join(f"{k[:8]}={v[0]}{'/held' if v[1] else ''}{'/changed' if v[2] else ''}"
                     for k, v in sorted(order["items"].items()))
    return f"{order['status']}/{order['priority']}[{items}]"


def hub_state(engine: sa.Engine, mirror_store: Path, restaurant_id: str) -> dict[str, Any]:
    """What the hub keeps for upstream: its late rejections, its POS writes queue, its taps queue (the hub's
    `hub_intents`, taps committed at the hub and not yet moved on, and the mirror engine's outbox, read-only with
    sqlite3: the hub may be running). A `rejected` entry in that outbox is upstream's refusal not yet recorded at the
    hub (it is dismissed in the write that records it): until then the hub's ledger still says applied and no screen
    can be told."""
    with engine.connect() as conn:
        moving = int(conn.execute(sa.select(sa.func.count()).select_from(hub_intents)).scalar_one())
        late = [
            {"intent_id": str(r.intent_id), "device_id": r.device_id, "reason": r.reason}
            for r in conn.execute(sa.select(late_rejections).where(late_rejections.c.restaurant_id == restaurant_id))
        ]
        writes = conn.execute(sa.select(upstream_writes).where(upstream_writes.c.restaurant_id == restaurant_id))
        waiting, failed = 0, []
        for w in writes:
            if w.failed is None and w.settled is None:
                waiting += 1
            elif w.failed is not None:  # (a settled update only waits for the hub's copy to show it: neither)
                failed.append(f"#{w.seq} {w.op} {w.table_name}: {w.failed}")
    taps_waiting, verdicts_waiting, errors = -1, -1, []
    if mirror_store.exists():
        db = sqlite3.connect(f"file:{mirror_store}?mode=ro", uri=True, timeout=10)
        try:
            rows = db.execute("SELECT state, last_error FROM outbox WHERE state IN ('pending', 'inflight', 'rejected')"
                              ).fetchall()
        finally:
            db.close()
        taps_waiting = moving + sum(1 for r in rows if r[0] != "rejected")
        verdicts_waiting = sum(1 for r in rows if r[0] == "rejected")
        errors = sorted({r[1] for r in rows if r[1] and r[0] != "rejected"})
    return {"late": late, "writes_waiting": waiting, "writes_failed": failed, "taps_waiting": taps_waiting,
            "verdicts_waiting": verdicts_waiting, "tap_errors": errors}


def hub_pending(state: dict[str, Any], hub: dict[str, Any], upstream: dict[str, Any]) -> list[str]:
    """What the liveness phase waits for at the hub: its queues forwarded, its rows equal to upstream's."""
    problems = []
    if state["taps_waiting"]:
        problems.append(f"hub: {state['taps_waiting']} taps not yet forwarded upstream "
                        f"(last errors {state['tap_errors'][:2]})")
    if state["verdicts_waiting"]:
        problems.append(f"hub: {state['verdicts_waiting']} refusals from upstream not yet recorded at the hub")
    if state["writes_waiting"]:
        problems.append(f"hub: {state['writes_waiting']} POS writes not yet forwarded upstream")
    diff = hub_divergence(hub, upstream)
    if diff:
        problems.append(f"hub vs upstream: {diff[0]}" + (f" (+{len(diff) - 1} more)" if len(diff) > 1 else ""))
    return problems


def hub_verdict(
    screens: dict[int, dict[str, Any]],
    hub: dict[str, Any],
    upstream: dict[str, Any],
    hub_rows: list[dict[str, Any]],
    upstream_rows: list[dict[str, Any]],
    state: dict[str, Any],
) -> dict[str, list[str]]:
    """The checks that tie the hub to upstream (the LAN screens against the hub are `verdict`'s)."""
    v: dict[str, list[str]] = {name: [] for name in CHECKS}
    up = {r["intent_id"]: r for r in upstream_rows}
    late = {r["intent_id"]: r for r in state["late"]}
    for index, s in sorted(screens.items()):
        for j in s["journal"]:
            row = up.get(j["intent_id"])
            if row is not None and (row["device_id"], int(row["device_seq"])) != (j["device_id"], j["device_seq"]):
                v["once"].append(f"screen {index}: tap {j['intent_id']} is upstream as {row['device_id']} "
                                 f"#{row['device_seq']}, made as {j['device_id']} #{j['device_seq']}")
    for h in hub_rows:
        iid = h["intent_id"]
        what = f"tap {iid} ({h['kind']} on {h['order_id']}, device {h['device_id']} #{h['device_seq']})"
        u = up.get(iid)
        if h["status"] == "applied":
            if u is None:
                v["acked"].append(f"{what} applied at the hub is LOST on the way up: not in upstream's ledger")
            elif u["status"] != "applied":
                v["acked"].append(f"{what}: upstream says {u['status']} ({u['reason']!r}) but the hub's ledger "
                                  "still says applied (the screen that made it was never told)")
        elif u is not None and u["status"] == "applied":
            # Refused at the hub: upstream refused it too (a late refusal, or the hub decided it again after a kill
            # between queueing it and committing), or never had it; the screen that made it must show it refused
            # (`verdict` on the hub's ledger). Applied upstream is a tap decided twice.
            v["once"].append(f"{what}: applied upstream but refused at the hub ({h['reason']!r}): decided twice")
    for iid, r in late.items():
        u = up.get(iid)
        if u is None or u["status"] != "rejected":
            v["once"].append(f"late rejection of {iid} for {r['device_id']} ({r['reason']!r}) but upstream's "
                             f"ledger says {u['status'] if u else 'nothing'}")
    if state["taps_waiting"]:
        v["drained"].append(f"hub: {state['taps_waiting']} taps never forwarded upstream "
                            f"(last errors {state['tap_errors'][:3]})")
    if state["verdicts_waiting"]:
        v["drained"].append(f"hub: {state['verdicts_waiting']} refusals from upstream never recorded at the hub")
    if state["writes_waiting"]:
        v["drained"].append(f"hub: {state['writes_waiting']} POS writes never forwarded upstream")
    for line in state["writes_failed"]:
        v["drained"].append(f"hub: a POS write upstream refused for good: {line}")
    v["converged"].extend(f"hub vs upstream: {line}" for line in hub_divergence(hub, upstream))
    return v


def merge(*verdicts: dict[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {name: [] for name in CHECKS}
    for one in verdicts:
        for name, lines in one.items():
            out[name].extend(lines)
    return {k: lines[:MAX_LINES] + ([f"... and {len(lines) - MAX_LINES} more"] if len(lines) > MAX_LINES else [])
            for k, lines in out.items()}


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
