"""The REST reads the catch-up machine asks for (`FetchSnapshot`, `FetchPage`), as PostgREST queries.

Every query names the restaurant explicitly as well: the server's row security already restricts it, but an
admin-scoped token on a Supabase project would otherwise page other kitchens' rows into this screen.
"""

from __future__ import annotations

from collections.abc import Sequence

from pydantic import TypeAdapter

from api_client.client import KdsApiClient
from api_client.models import DeletedRowPublic, MenuAvailabilityPublic, OrderItemPublic, OrderWithItems
from sync.readpath.catchup import FetchPage
from sync.readpath.merge import DELETIONS, TABLES, Row

OPEN_STATUSES = ("new", "in_progress", "ready")
_ORDERS = TypeAdapter(list[OrderWithItems])
_ITEMS = TypeAdapter(list[OrderItemPublic])
_MENU = TypeAdapter(list[MenuAvailabilityPublic])
_DELETED = TypeAdapter(list[DeletedRowPublic])


async def read_head(api: KdsApiClient, restaurant_id: str) -> int:
    """The highest change_seq in the three tables, read before the snapshot rows so later commits are above it."""
    head = 0
    for table in TABLES:
        params = {"select": "change_seq", "restaurant_id": f"eq.{restaurant_id}", "order": "change_seq.desc"}
        rows = await api.select(table, {**params, "limit": 1})
        if rows:
            head = max(head, int(rows[0]["change_seq"]))
    return head


async def read_snapshot(api: KdsApiClient, restaurant_id: str) -> tuple[int, list[Row | OrderWithItems]]:
    head = await read_head(api, restaurant_id)
    mine = f"eq.{restaurant_id}"
    open_orders = await api.select(
        "orders",
        {
            "select": "*,order_items(*)",
            "restaurant_id": mine,
            "status": f"in.({','.join(OPEN_STATUSES)})",
            "order": "change_seq.asc",
        },
    )
    menu = await api.select("menu_availability", {"restaurant_id": mine, "order": "change_seq.asc"})
    rows: list[Row | OrderWithItems] = [*_ORDERS.validate_python(open_orders), *_MENU.validate_python(menu)]
    return head, rows


async def read_page(
    api: KdsApiClient, restaurant_id: str, request: FetchPage
) -> Sequence[Row | OrderWithItems | DeletedRowPublic]:
    params: dict[str, str | int] = {
        "restaurant_id": f"eq.{restaurant_id}",
        "change_seq": f"gt.{request.since}",
        "order": "change_seq.asc",
        "limit": request.limit,
    }
    if request.table == "orders":
        # Embedded items come along: an order page then shows whole tickets even before the items page.
        return _ORDERS.validate_python(await api.select("orders", {**params, "select": "*,order_items(*)"}))
    if request.table == "order_items":
        return _ITEMS.validate_python(await api.select("order_items", params))
    if request.table == DELETIONS:
        return _DELETED.validate_python(await api.select(DELETIONS, params))
    return _MENU.validate_python(await api.select("menu_availability", params))
