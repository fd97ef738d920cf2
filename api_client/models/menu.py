"""The menu's rows: what the kitchen has 86'd, and recipes (`PUT /api/v1/recipes/{item_name}`)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated
from uuid import UUID

from pydantic import Field, field_validator

from .base import RestaurantId, ShortText, Storable, _Published, _Wire


class MenuAvailabilityPublic(_Published):
    """A row of `menu_availability`: an item the kitchen has 86'd (or brought back)."""

    id: UUID
    restaurant_id: RestaurantId
    item_name: ShortText
    available: bool
    reason: ShortText | None
    updated_by: str | None
    updated_at: datetime
    version: int
    change_seq: int


class RecipePublic(_Published):
    """A row of `recipes`: how many of one ingredient go into one of a menu item (Double burger: patty 2).

    One row per item and ingredient. Screens count ingredients for the all-day panel from these (an item's
    name matched case-insensitively, as the POS names it); read by every device of the restaurant, set by an
    admin (`PUT /api/v1/recipes/{item_name}` on the companion; PostgREST writes on Supabase)."""

    id: UUID
    restaurant_id: RestaurantId
    item_name: ShortText
    ingredient: ShortText
    quantity: int
    updated_at: datetime
    version: int
    change_seq: int


IngredientName = Annotated[str, Field(min_length=1, max_length=200, pattern=r"\S"), Storable]
MAX_RECIPE_QUANTITY = 1000
MAX_RECIPE_INGREDIENTS = 50


class RecipeIngredient(_Wire):
    """One line of a recipe: an ingredient and how many of it go into one of the item."""

    ingredient: IngredientName
    quantity: Annotated[int, Field(ge=1, le=MAX_RECIPE_QUANTITY)] = 1


class RecipeSet(_Wire):
    """Body of `PUT /api/v1/recipes/{item_name}`: the item's whole recipe, replacing the one it had.

    Whole units only (all-day counts are "drop 6 patties"); an ingredient named twice is refused."""

    ingredients: Annotated[list[RecipeIngredient], Field(min_length=1, max_length=MAX_RECIPE_INGREDIENTS)]

    @field_validator("ingredients")
    @classmethod
    def _distinct(cls, value: list[RecipeIngredient]) -> list[RecipeIngredient]:
        seen: set[str] = set()
        for line in value:
            key = line.ingredient.strip().casefold()
            if key in seen:
                raise ValueError(f"ingredient {line.ingredient.strip()!r} is named twice; give its total once")
            seen.add(key)
        return value


class RecipeItem(_Published):
    """One menu item's recipe as `GET /api/v1/recipes` lists it."""

    item_name: str
    ingredients: list[RecipeIngredient]
