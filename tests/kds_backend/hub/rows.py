"""Orders as the hub's upstream has them."""

from __future__ import annotations

from uuid import uuid4

from api_client.models import OrderIntake, OrderWithItems
from kds_backend.db.engine import make_engine, migrate
from kds_backend.db.writer import write_transaction
from kds_backend.orders import create_order


def upstream_order(number: str = "U1", version: int = 7, change_seq: int = 900) -> OrderWithItems:
    """An order as upstream has it (its own versions and change_seqs: its lines at `change_seq` + 1, + 2 ...),
    made on a scratch database."""
    intake = OrderIntake.model_validate(
        {"id": str(uuid4()), "number": number, "items": [{"name": "Burger", "station": "grill"}, {"name": "Fries"}]}
    )
    scratch = make_engine("sqlite://")
    migrate(scratch)
    try:
        with write_transaction(scratch) as w:
            made = create_order(w, "r1", intake, {})
    finally:
        scratch.dispose()
    items = [i.model_copy(update={"change_seq": change_seq + 1 + n}) for n, i in enumerate(made.order_items)]
    return made.model_copy(update={"version": version, "change_seq": change_seq, "order_items": items})
