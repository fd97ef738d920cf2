"""Recipes as a screen holds them (issue 19 item 4): the server's `recipes` rows, kept in the local store so the
all-day panel counts ingredients offline too.

A restaurant has a few hundred lines at most and they change rarely, so they are not merged row by row like
tickets: the whole table is read over REST and the store's copy replaced in one transaction, at every catch-up
that ends live (start, reconnect, the periodic safety read) and at once when a realtime push says a recipe
changed. A server without the table (an older Supabase project) answers 404: the store keeps what it has.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import sqlalchemy as sa
from pydantic import TypeAdapter

from api_client.client import KdsApiClient
from api_client.models import RecipePublic
from sync.store.tables import recipes

RecipeBook = Mapping[str, tuple[tuple[str, int], ...]]
"""Item name (lower case) -> its (ingredient, quantity per item) lines, in the order they were set."""

TABLE = "recipes"
PAGE = 1000
_ROWS = TypeAdapter(list[RecipePublic])


def recipe_book(rows: Sequence[RecipePublic]) -> dict[str, tuple[tuple[str, int], ...]]:
    book: dict[str, list[tuple[str, int]]] = {}
    for row in sorted(rows, key=lambda r: r.change_seq):
        book.setdefault(row.item_name.strip().lower(), []).append((row.ingredient.strip(), row.quantity))
    return {name: tuple(lines) for name, lines in book.items()}


def load_recipes(conn: sa.Connection) -> dict[str, tuple[tuple[str, int], ...]]:
    data: list[str] = list(conn.execute(sa.select(recipes.c.data)).scalars())
    return recipe_book([RecipePublic.model_validate_json(d) for d in data])


def replace_recipes(conn: sa.Connection, rows: Sequence[RecipePublic]) -> None:
    """The store's copy becomes `rows` (call inside the store's write transaction)."""
    conn.execute(recipes.delete())
    if rows:
        conn.execute(
            recipes.insert(),
            [{"id": str(r.id), "item_name": r.item_name, "data": r.model_dump_json()} for r in rows],
        )


async def read_recipes(api: KdsApiClient, restaurant_id: str) -> list[RecipePublic]:
    """Every recipe line of the restaurant, paged by change_seq (a page is at most the server's row limit)."""
    found: list[RecipePublic] = []
    since = 0
    while True:
        page = _ROWS.validate_python(
            await api.select(
                TABLE,
                {
                    "restaurant_id": f"eq.{restaurant_id}",
                    "change_seq": f"gt.{since}",
                    "order": "change_seq.asc",
                    "limit": PAGE,
                },
            )
        )
        found.extend(page)
        if len(page) < PAGE:
            return found
        since = page[-1].change_seq
