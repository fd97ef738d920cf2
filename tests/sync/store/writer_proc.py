"""A screen tapping as fast as it can: `python -m tests.sync.store.writer_proc DB N`.

Prints each intent's id only after `submit` returned (committed), so the parent knows what must survive a kill.
"""

from __future__ import annotations

import sys
import uuid
from pathlib import Path

from api_client.models import DeviceRole
from sync.engine.outbox import Outbox
from sync.store import LocalStore


def main() -> None:
    path, count = Path(sys.argv[1]), int(sys.argv[2])
    store = LocalStore(path, device_id="r1-kds-kill")
    outbox = Outbox(store, DeviceRole.kds)
    order_id = uuid.uuid4()
    for i in range(count):
        intent = outbox.submit("bump_ticket", order_id=order_id, station="grill", args={"n": i})
        print(intent.id, flush=True)
    store.close()


if __name__ == "__main__":
    main()
