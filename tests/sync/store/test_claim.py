"""claim: a store of another device is moved aside whole with its unsent taps counted; never deleted or reused."""

from __future__ import annotations

import uuid
from pathlib import Path

from api_client.models import DeviceRole
from sync.engine.outbox import Outbox
from sync.store import LocalStore, outbox_rows
from sync.store.claim import PREVIOUS_DIR, claim


def test_no_store_yet_and_the_same_device_are_left_alone(tmp_path: Path) -> None:
    path = tmp_path / "screen.sqlite3"
    assert claim(path, "dev-a") is None
    LocalStore(path, device_id="dev-a").close()
    assert claim(path, "dev-a") is None
    LocalStore(path, device_id="dev-a").close()  # still its own


def test_another_devices_store_is_moved_aside_with_its_unsent_taps(tmp_path: Path) -> None:
    path = tmp_path / "screen.sqlite3"
    with LocalStore(path, device_id="dev-a") as store:
        outbox = Outbox(store, DeviceRole.kds)
        taps = [outbox.submit("bump_ticket", uuid.uuid4(), station="grill") for _ in range(3)]
        with store.transaction() as conn:
            outbox_rows.reject(conn, taps[0].id, "Order A17 was already served")
    moved = claim(path, "dev-b", clock=lambda: 0.0)
    assert moved is not None
    assert (moved.device_id, moved.unsent, moved.refused) == ("dev-a", 2, 1)
    assert moved.path.parent == tmp_path / PREVIOUS_DIR and moved.path.exists()
    assert not path.exists() and not Path(f"{path}-wal").exists()
    # The new device starts on a fresh file; the old one still opens, every tap in it intact.
    LocalStore(path, device_id="dev-b").close()
    with LocalStore(moved.path, device_id="dev-a") as old, old.snapshot() as conn:
        assert [e.intent.id for e in outbox_rows.unsettled(conn)] == [t.id for t in taps[1:]]
        assert old.integrity_check() == "ok"
