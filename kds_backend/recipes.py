"""Recipes (issue 19 item 4): how many of each ingredient go into one of a menu item, for the screens' all-day
ingredient counts ("Double burger: patty 2, bun 1" makes three double burgers count six patties).

One `recipes` row per item and ingredient, an exposed table: read over `/rest/v1/recipes`, published by Realtime
so screens recount at once, and logged in `deleted_rows` when a line goes. Item names are matched
case-insensitively, as the POS and the 86 list name them; setting an item's recipe replaces every line it had
(under any spelling of its name) in one transaction, so a screen never counts half of an old recipe.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from uuid import uuid4

import sqlalchemy as sa
from pydantic import ValidationError

from api_client.models import RecipeIngredient, RecipeItem, RecipePublic

from .db.tables import recipes
from .db.writer import Writer


def _rows_of(conn: sa.Connection, restaurant_id: str, item_name: str) -> list[dict[str, object]]:
    query = sa.select(recipes).where(
        recipes.c.restaurant_id == restaurant_id, sa.func.lower(recipes.c.item_name) == item_name.strip().lower()
    )
    return [dict(row) for row in conn.execute(query).mappings()]


def set_recipe(w: Writer, restaurant_id: str, item_name: str, lines: Sequence[RecipeIngredient]) -> RecipeItem:
    """Make `lines` the whole recipe of `item_name`: changed lines updated, new ones inserted, the rest deleted."""
    name = item_name.strip()
    wanted = {line.ingredient.strip().casefold(): line for line in lines}
    kept: list[tuple[dict[str, object], RecipeIngredient]] = []
    for row in _rows_of(w.conn, restaurant_id, name):
        line = wanted.pop(str(row["ingredient"]).casefold(), None)
        if line is None:
            w.delete(recipes, row)  # deletes first: a renamed spelling then never meets a row it replaces
        else:
            kept.append((row, line))
    for row, line in kept:
        values = {"item_name": name, "ingredient": line.ingredient.strip(), "quantity": line.quantity}
        if any(row[key] != value for key, value in values.items()):
            w.update(recipes, row, values)
    for line in wanted.values():
        w.insert(
            recipes,
            {
                "id": uuid4(),
                "restaurant_id": restaurant_id,
                "item_name": name,
                "ingredient": line.ingredient.strip(),
                "quantity": line.quantity,
            },
        )
    return RecipeItem(item_name=name, ingredients=[
        RecipeIngredient(ingredient=line.ingredient.strip(), quantity=line.quantity) for line in lines
    ])


def remove_recipe(w: Writer, restaurant_id: str, item_name: str) -> bool:
    """Delete every line of the item's recipe; False if it had none."""
    rows = _rows_of(w.conn, restaurant_id, item_name)
    for row in rows:
        w.delete(recipes, row)
    return bool(rows)


def list_recipes(conn: sa.Connection, restaurant_id: str) -> list[RecipeItem]:
    """The restaurant's recipes, by item name (case-insensitive), each item's lines in the order they were set."""
    query = (
        sa.select(recipes)
        .where(recipes.c.restaurant_id == restaurant_id)
        .order_by(sa.func.lower(recipes.c.item_name), recipes.c.change_seq)
    )
    items: dict[str, RecipeItem] = {}
    for mapping in conn.execute(query).mappings():
        row = RecipePublic.model_validate(dict(mapping))
        item = items.setdefault(row.item_name.lower(), RecipeItem(item_name=row.item_name, ingredients=[]))
        item.ingredients.append(RecipeIngredient(ingredient=row.ingredient, quantity=row.quantity))
    return list(items.values())


def project_recipes(w: Writer, restaurant_id: str, book: Mapping[str, Sequence[tuple[str, int]]]) -> int:
    """A kitchen hub (kds_backend/hub): make its recipes what upstream's are (`book`, as the hub's mirror engine holds
    them: item name in lower case -> lines). An item whose lines are the same is left alone, so a projection
    rewrites nothing when nothing changed. Returns the items written."""
    have = {item.item_name.lower(): item for item in list_recipes(w.conn, restaurant_id)}
    written = 0
    for name, lines in book.items():
        held = have.pop(name, None)
        wanted = [RecipeIngredient(ingredient=ingredient, quantity=quantity) for ingredient, quantity in lines]
        if held is None or _key(held.ingredients) != _key(wanted):
            set_recipe(w, restaurant_id, held.item_name if held is not None else name, wanted)
            written += 1
    for gone in have.values():
        remove_recipe(w, restaurant_id, gone.item_name)
        written += 1
    return written


def _key(lines: Sequence[RecipeIngredient]) -> set[tuple[str, int]]:
    return {(line.ingredient.strip().casefold(), line.quantity) for line in lines}


def parse_lines(texts: Sequence[str]) -> list[RecipeIngredient]:
    """`["patty=2", "bun"]` (the CLI's form; no count means 1) as recipe lines, or a ValueError saying which."""
    lines = []
    for text in texts:
        ingredient, _, count = text.rpartition("=") if "=" in text else (text, "", "1")
        if not ingredient.strip():
            raise ValueError(f"{text!r}: give INGREDIENT=COUNT, like patty=2")
        try:
            quantity = int(count)
        except ValueError:
            raise ValueError(f"{text!r}: the count must be a whole number, like patty=2") from None
        try:
            lines.append(RecipeIngredient(ingredient=ingredient.strip(), quantity=quantity))
        except ValidationError as exc:
            raise ValueError(f"{text!r}: {exc.errors()[0]['msg']}") from None
    return lines
