"""Recipes for the demo's menu (issue 19 item 4), so the demo's ALL DAY panel counts ingredients too: set on the
companion over its admin API, the way a kitchen manager's tool would."""

from __future__ import annotations

from urllib.parse import quote

import httpx

from api_client.models import DeviceRole, RecipeIngredient, RecipeSet

from ..startup.embedded import EmbeddedCompanion

RECIPES: dict[str, tuple[tuple[str, int], ...]] = {
    "Cheeseburger": (("beef patty", 1), ("brioche bun", 1), ("cheddar slice", 2)),
    "Halloumi burger": (("halloumi slice", 2), ("brioche bun", 1)),
    "Chicken skewers": (("chicken skewer", 3),),
    "Ribeye 300g": (("ribeye steak", 1),),
    "Fries": (("fries portion", 1),),
    "Fish & chips": (("cod fillet", 1), ("fries portion", 1)),
    "Caesar salad": (("romaine head", 1),),
    "Poke bowl": (("salmon 80g", 1), ("rice scoop", 1)),
}
"""Dish (as the demo's POS names it) -> (ingredient, quantity per dish)."""


async def put_recipes(companion: EmbeddedCompanion) -> None:
    """Set every demo recipe on `companion` (an admin device's token); raises if the companion refuses one."""
    token = await companion.token_provider(DeviceRole.admin, "admin-demo").get_token()
    headers = {"apikey": companion.anon_key, "Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=companion.url, headers=headers, timeout=10.0) as http:
        for dish, lines in RECIPES.items():
            body = RecipeSet(ingredients=[RecipeIngredient(ingredient=i, quantity=q) for i, q in lines])
            response = await http.put(f"/api/v1/recipes/{quote(dish, safe='')}", json=body.model_dump(mode="json"))
            response.raise_for_status()
