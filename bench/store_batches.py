"""The screen's store on the read path, without a network or Qt: CPU per batch of frames and per ticket listing.

`write`: 400 orders (an order row and two items each, as one push batch) applied one batch per transaction, the way
the engine's driver does it, by each way there is: `session` (a pooled `LocalStore.refetchable()` transaction per
batch, as the engine did up to issue 15's store writer and as `bench/app_screen.py push` still does), `inline`
(`StoreWriter` on the caller's thread: one connection kept open) and `thread` (`StoreWriter` on its own thread:
`EngineConfig.store_thread`). CPU is the process's (`time.process_time`, every thread) per batch, and the calling
thread's (`time.thread_time`): what the loop that reads the socket and paints spends.

`listing`: 300 open orders in the store, then `open_tickets(station, among={one order})` per order, as
`Screen.refresh` asks after a push: the calling thread's CPU per listing.

    .venv/bin/python bench/store_batches.py write
    .venv/bin/python bench/store_batches.py listing
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from api_client.models import DeviceRole  # noqa: E402
from sync.engine.tickets import open_tickets  # noqa: E402
from sync.readpath.merge import Change, Upsert, flatten  # noqa: E402
from sync.store import LocalStore, read_rows  # noqa: E402
from tests.sync.store.support import order  # noqa: E402


def _batches(count: int) -> list[list[Change]]:
    made = []
    for n in range(count):
        ticket = order(f"B{n}", items=2).model_copy(update={"change_seq": 10 + 3 * n})
        made.append([Upsert(r) for r in flatten([ticket])])
    return made


def _write(how: str, count: int) -> tuple[list[float], list[float]]:
    process: list[float] = []
    caller: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(Path(tmp) / "screen.db", device_id="bench")
        batches = _batches(count)

        async def go() -> None:
            from sync.store.writer import StoreWriter  # here: `listing` also runs on a tree from before it

            writer = StoreWriter(store, inline=how == "inline")
            for batch in batches:
                p0, t0 = time.process_time(), time.thread_time()
                if how == "session":
                    with store.refetchable() as conn:
                        read_rows.apply_changes(conn, batch)
                else:
                    await writer.write(lambda conn, b=batch: read_rows.apply_changes(conn, b))
                process.append((time.process_time() - p0) * 1000)
                caller.append((time.thread_time() - t0) * 1000)
            await writer.aclose()

        asyncio.run(go())
        store.close()
    return process, caller


def _listing(count: int) -> list[float]:
    spent: list[float] = []
    with tempfile.TemporaryDirectory() as tmp:
        store = LocalStore(Path(tmp) / "screen.db", device_id="bench")
        ids = []
        with store.refetchable() as conn:
            for batch in _batches(count):
                read_rows.apply_changes(conn, batch)
                ids.append(batch[0].row.id)  # type: ignore[union-attr]
        for warm, order_id in enumerate(ids * 2):
            t0 = time.thread_time()
            with store.snapshot() as conn:
                open_tickets(conn, DeviceRole.kds, "grill", {order_id})
            if warm >= len(ids):
                spent.append((time.thread_time() - t0) * 1000)
        store.close()
    return spent


def _line(name: str, values: list[float]) -> str:
    ordered = sorted(values)
    p99 = ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]
    return f"| {name} | {statistics.median(values):.3f} | {statistics.mean(values):.3f} | {p99:.3f} |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("what", choices=("write", "listing"))
    parser.add_argument("--count", type=int, default=0, help="orders (default: 400 for write, 300 for listing)")
    parser.add_argument("--rounds", type=int, default=2, help="write: each way this many times, interleaved")
    args = parser.parse_args()
    print(f"# {args.what}, load 1m {os.getloadavg()[0]:.2f}, {time.strftime('%Y-%m-%d %H:%M')}")
    print("| what | median ms | mean ms | p99 ms |\n|---|---:|---:|---:|")
    if args.what == "listing":
        print(_line("listing of one touched order (calling thread CPU)", _listing(args.count or 300)))
        return
    for _ in range(args.rounds):
        for how in ("session", "inline", "thread"):
            process, caller = _write(how, args.count or 400)
            print(_line(f"{how}: process CPU per batch", process))
            print(_line(f"{how}: calling thread CPU per batch", caller))
    print(f"# load 1m at the end {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
