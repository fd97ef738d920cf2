"""Outbox drain after reconnect: N intents queued offline on one screen, then uploaded to the companion.

Starts a real `kds-backend serve` (SQLite) on loopback, makes orders at the POS, queues N alternating
bump/unbump taps in a screen's local store with no uploader running (as if offline), then starts the
uploader and times the drain. Checks the server's ledger afterwards: every intent applied exactly once.

    .venv/bin/python bench/outbox_drain.py [--intents 10000] [--orders 50] [--batch 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import sys
import tempfile
import time
from pathlib import Path
from uuid import UUID

import httpx
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from api_client.backoff import Backoff
from api_client.client import KdsApiClient
from api_client.models import DeviceRole
from api_client.token_provider import StaticTokenProvider
from kds_backend.auth.tokens import issue_anon_key, issue_token
from kds_backend.db.engine import make_engine
from kds_backend.db.tables import intent_ledger, order_items
from sync.engine.outbox import Outbox
from sync.engine.uploader import Uploader
from sync.store import LocalStore, read_rows
from tests.helpers.tokens import JWT_SECRET
from tests.kds_backend.realtime.support import create_order
from tests.live_server import LiveServer

SECRET = JWT_SECRET  # the POS helper signs with the test secret
DEVICE = "bench-grill-1"


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process `pid` so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--intents", type=int, default=10_000)
    parser.add_argument("--orders", type=int, default=50)
    parser.add_argument("--batch", type=int, default=200)
    args = parser.parse_args()
    os.environ["KDS_RATE_LIMIT"] = os.environ["KDS_RATE_BURST"] = "1000000"

    with tempfile.TemporaryDirectory(prefix="kds-bench-") as tmp:
        db_url = f"sqlite:///{tmp}/companion.db"
        server = LiveServer(Path(tmp), db_url, SECRET)
        store = LocalStore(Path(tmp) / "screen.db", device_id=DEVICE)
        try:
            server.wait_ready()
            token = issue_token(SECRET, restaurant_id="r1", device_role=DeviceRole.kds, subject=DEVICE, ttl_s=7200)
            async with KdsApiClient(server.url, issue_anon_key(SECRET), StaticTokenProvider(token)) as api:
                async with httpx.AsyncClient(base_url=server.url) as http:
                    made = {UUID((await create_order(http, "r1", f"D{n}"))["id"]) for n in range(args.orders)}
                orders = [o for o in await api.select_orders_since(0, limit=1000) if o.id in made]
                with store.transaction() as conn:
                    for order in orders:
                        read_rows.save_order(conn, order)
                outbox = Outbox(store, DeviceRole.kds)
                burgers = [(o.id, next(i.id for i in o.order_items if i.name == "Burger")) for o in orders]
                tap_start = time.perf_counter()
                for n in range(args.intents):
                    order_id, item_id = burgers[n % len(burgers)]
                    kind = "bump_item" if (n // len(burgers)) % 2 == 0 else "unbump_item"
                    outbox.submit(kind, order_id, item_id=item_id, station="grill")
                tap_ms = (time.perf_counter() - tap_start) / args.intents * 1000

                uploader = Uploader(store, api, batch_size=args.batch, backoff=Backoff(0.05, 0.5), watchdog_s=0.5)
                server_cpu, client_cpu = cpu_seconds(server.proc.pid), time.process_time()
                start = time.perf_counter()
                await uploader.start()
                await asyncio.wait_for(uploader.queue_depth.wait_for(0), 600)
                drain_s = time.perf_counter() - start
                server_cpu = cpu_seconds(server.proc.pid) - server_cpu
                client_cpu = time.process_time() - client_cpu
                await uploader.stop()
        finally:
            store.close()
            server.stop()

        engine = make_engine(db_url)
        with engine.connect() as conn:
            rows = conn.execute(sa.select(intent_ledger.c.status, sa.func.count()).group_by(intent_ledger.c.status))
            by_status = dict(rows.all())
            versions = conn.execute(
                sa.select(order_items.c.version).where(
                    order_items.c.name == "Burger", order_items.c.restaurant_id == "r1"
                )
            ).scalars()
            # Each Burger got intents/orders alternating bump/unbump: any intent applied twice would show here.
            expected = 1 + args.intents // args.orders
            wrong_versions = sum(1 for v in versions if v != expected)
        engine.dispose()

    print(f"machine: {platform.machine()}, {os.cpu_count()} cpus, Python {platform.python_version()}")
    print(f"tap (local commit; its fsync follows on the store's thread): {tap_ms:.2f} ms per intent")
    print(
        f"drain: {args.intents} intents in {drain_s:.2f} s = {args.intents / drain_s:.0f} intents/s "
        f"(batches of {args.batch}); server ledger: {by_status}"
    )
    print(
        f"CPU during the drain: companion {server_cpu:.2f} s, this process (screen engine) {client_cpu:.2f} s "
        f"({server_cpu / args.intents * 1e6:.0f} / {client_cpu / args.intents * 1e6:.0f} us per intent)"
    )
    lost = args.intents - sum(by_status.values())
    print(f"lost: {lost}; rejected: {by_status.get('rejected', 0)}; items whose version is off: {wrong_versions}")


if __name__ == "__main__":
    asyncio.run(main())
