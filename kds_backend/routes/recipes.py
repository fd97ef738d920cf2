"""Recipes (issue 19 item 4): `GET /api/v1/recipes` for any device of the restaurant; `PUT` and `DELETE
/api/v1/recipes/{item_name}` for an admin device. The rows themselves are also readable at `/rest/v1/recipes`
(what screens sync), as on Supabase."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response

from api_client.models import DeviceRole, RecipeItem, RecipeSet

from ..auth.deps import CurrentCaller, require_roles
from ..errors import ApiError
from ..hub.guard import refuse_on_a_hub
from ..recipes import list_recipes, remove_recipe, set_recipe

router = APIRouter(prefix="/api/v1", tags=["Recipes"])

ItemName = Annotated[
    str, Path(min_length=1, max_length=200, pattern=r"\S", description="A menu item as the POS names it")
]

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, expired or forged token"},
    429: {"description": "Rate limited; see Retry-After"},
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **RESPONSES,
    403: {"description": "Only an admin device may set or remove a recipe"},
    404: {"description": "The item has no recipe"},
    422: {"description": "Body is not {ingredients: [{ingredient, quantity}, ...]} (whole quantities 1-1000)"},
}


@router.get("/recipes", responses=RESPONSES)
async def get_recipes(request: Request, caller: CurrentCaller) -> list[RecipeItem]:
    """The restaurant's recipes, by item name."""
    return await request.app.state.db.aread(lambda c: list_recipes(c, caller.restaurant_id))


@router.put("/recipes/{item_name}", responses=WRITE_RESPONSES, dependencies=[Depends(refuse_on_a_hub)])
async def put_recipe(item_name: ItemName, body: RecipeSet, request: Request, caller: CurrentCaller) -> RecipeItem:
    """Set the item's whole recipe (admin), replacing the one it had; every screen recounts its all-day panel."""
    require_roles(caller, {DeviceRole.admin}, "set a recipe")
    return await request.app.state.db.awrite(
        lambda w: set_recipe(w, caller.restaurant_id, item_name, body.ingredients)
    )


@router.delete(
    "/recipes/{item_name}", status_code=204, responses=WRITE_RESPONSES, dependencies=[Depends(refuse_on_a_hub)]
)
async def delete_recipe(item_name: ItemName, request: Request, caller: CurrentCaller) -> Response:
    """Remove the item's recipe (admin): it counts no ingredients any more."""
    require_roles(caller, {DeviceRole.admin}, "remove a recipe")
    removed = await request.app.state.db.awrite(lambda w: remove_recipe(w, caller.restaurant_id, item_name))
    if not removed:
        raise ApiError(404, "KDS404", f"{item_name.strip()!r} has no recipe")
    return Response(status_code=204)
