"""A screen tapping as fast as it can: `python -m tests.sync.store.writer_proc DB N [mixed]`.

Prints each intent's id only after `submit` returned (committed; its fsync, which runs on the store's own thread,
never finishes here), so the parent knows what must survive a kill.
`mixed`: every tap follows a server order stored the way the read path stores it (`LocalStore.refetchable`,
committed without fsync), printed as `order <id>` once committed.
"""

from __future__ import annotations

import sys
import threading
import uuid
from pathlib import Path

from api_client.models import DeviceRole
from sync.engine.outbox import Outbox
from sync.readpath.merge import Upsert, flatten
from sync.store import LocalStore, read_rows
from tests.sync.store.support import order


def main() -> None:
    path, count = Path(sys.argv[1]), int(sys.argv[2])
    # The disk never finishes an fsync: the taps the parent sees printed are committed, never synced.
    store = LocalStore(path, device_id="r1-kds-kill", sync_file=lambda _path: threading.Event().wait())
    outbox = Outbox(store, DeviceRole.kds)
    order_id = uuid.uuid4()
    mixed = sys.argv[3:] == ["mixed"]
    for i in range(count):
        if mixed:
            pushed = order(f"P{i}")
            with store.refetchable() as conn:
                read_rows.apply_changes(conn, [Upsert(r) for r in flatten([pushed])])
            print("order", pushed.id, flush=True)
        intent = outbox.submit("bump_ticket", order_id=order_id, station="grill", args={"n": i})
        print(intent.id, flush=True)
    store.close()


if __name__ == "__main__":
    main()
