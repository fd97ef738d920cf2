"""A screen's engine in its own process, so a test can `kill -9` it in the middle of an upload.

    python -m tests.sync.engine.engine_proc DB URL APIKEY TOKEN BATCH [HANG_AFTER]

Prints `answered <n> applied=<a> duplicate=<d>` when batch n's answer arrives (before it is recorded) and
`drained` once the outbox is empty. With HANG_AFTER=k it freezes right after batch k's answer arrived: the
server has applied it, the screen has not recorded it. That is where the parent kills it.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Sequence
from pathlib import Path

from api_client.backoff import Backoff
from api_client.client import KdsApiClient
from api_client.models import Intent, IntentResult, IntentStatus
from api_client.token_provider import StaticTokenProvider
from sync.engine.uploader import Uploader
from sync.store import LocalStore


class Reporting:
    def __init__(self, api: KdsApiClient, hang_after: int | None) -> None:
        self.api, self.hang_after, self.batches = api, hang_after, 0

    async def apply_intents(self, intents: Sequence[Intent]) -> list[IntentResult]:
        results = await self.api.apply_intents(intents)
        self.batches += 1
        applied = sum(r.status is IntentStatus.applied for r in results)
        duplicate = sum(r.status is IntentStatus.duplicate for r in results)
        print(f"answered {self.batches} applied={applied} duplicate={duplicate}", flush=True)
        if self.batches == self.hang_after:
            await asyncio.Event().wait()  # frozen between "the server applied it" and "we recorded it"
        return results


async def run(db: Path, url: str, apikey: str, token: str, batch: int, hang_after: int | None) -> None:
    store = LocalStore(db)
    async with KdsApiClient(url, apikey, StaticTokenProvider(token)) as api:
        uploader = Uploader(store, Reporting(api, hang_after), batch_size=batch, backoff=Backoff(0.05, 0.5))
        async with uploader:
            await uploader.queue_depth.wait_for(0)
    store.close()
    print("drained", flush=True)


def main() -> None:
    db, url, apikey, token, batch = sys.argv[1:6]
    hang_after = int(sys.argv[6]) if len(sys.argv) > 6 else None
    asyncio.run(run(Path(db), url, apikey, token, int(batch), hang_after))


if __name__ == "__main__":
    main()
