"""Prep times (issue 19 item 1): `GET /api/v1/prep-times` and `GET /api/v1/prep-times/suggestions` for any device
of the restaurant; `PUT` and `DELETE /api/v1/prep-times/{item_name}` for an admin device."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Query, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api_client.models import DeviceRole

from ..auth.deps import CurrentCaller, require_roles
from ..errors import ApiError
from ..hub.guard import refuse_on_a_hub
from ..prep_times import MAX_SECONDS, list_prep_times, remove_prep_time, set_prep_time, suggest, suggest_window

router = APIRouter(prefix="/api/v1", tags=["Prep times"])

ItemName = Annotated[
    str, Path(min_length=1, max_length=200, pattern=r"\S", description="A menu item as the POS names it")
]

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, expired or forged token"},
    429: {"description": "Rate limited; see Retry-After"},
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **RESPONSES,
    403: {"description": "Only an admin device may set or remove a prep time"},
    404: {"description": "The item has no prep time"},
    422: {"description": f"Body is not {{seconds}} (1 to {MAX_SECONDS})"},
}


class PrepTimeSet(BaseModel):
    model_config = ConfigDict(extra="forbid")
    seconds: Annotated[int, Field(ge=1, le=MAX_SECONDS, description="How long one takes to cook")]


class PrepTimeOut(BaseModel):
    item_name: str
    seconds: int


class PrepTimeSuggestion(BaseModel):
    item_name: str
    seconds: int
    """The median time the kitchen took over the window (fire to done), rounded to 15 s."""
    samples: int
    current: int | None
    """The prep time set now, if any."""


@router.get("/prep-times", responses=RESPONSES)
async def get_prep_times(request: Request, caller: CurrentCaller) -> list[PrepTimeOut]:
    """The restaurant's prep times, by item name."""
    found = await request.app.state.db.aread(lambda c: list_prep_times(c, caller.restaurant_id))
    return [PrepTimeOut(item_name=p.item_name, seconds=p.seconds) for p in found]


@router.get("/prep-times/suggestions", responses=RESPONSES)
async def get_prep_time_suggestions(
    request: Request,
    caller: CurrentCaller,
    days: Annotated[int, Query(ge=1, le=366, description="How many days of history to learn from")] = 14,
) -> list[PrepTimeSuggestion]:
    """Prep times learned from the kitchen's history: for each item done at least 3 times in the last `days`, the
    median time from when it fired to when it was bumped. Nothing is set; an admin decides."""
    since, until = suggest_window(datetime.now(UTC), days)
    found = await request.app.state.db.aread(lambda c: suggest(c, caller.restaurant_id, since=since, until=until))
    return [
        PrepTimeSuggestion(item_name=s.item_name, seconds=s.seconds, samples=s.samples, current=s.current)
        for s in found
    ]


@router.put("/prep-times/{item_name}", responses=WRITE_RESPONSES, dependencies=[Depends(refuse_on_a_hub)])
async def put_prep_time(item_name: ItemName, body: PrepTimeSet, request: Request, caller: CurrentCaller) -> PrepTimeOut:
    """Set the item's prep time (admin). Items sent from now on carry it; tickets already on the rail keep theirs."""
    require_roles(caller, {DeviceRole.admin}, "set a prep time")
    saved = await request.app.state.db.awrite(lambda w: set_prep_time(w, caller.restaurant_id, item_name, body.seconds))
    return PrepTimeOut(item_name=saved.item_name, seconds=saved.seconds)


@router.delete(
    "/prep-times/{item_name}", status_code=204, responses=WRITE_RESPONSES, dependencies=[Depends(refuse_on_a_hub)]
)
async def delete_prep_time(item_name: ItemName, request: Request, caller: CurrentCaller) -> Response:
    """Remove the item's prep time (admin): from now on it fires with its course."""
    require_roles(caller, {DeviceRole.admin}, "remove a prep time")
    removed = await request.app.state.db.awrite(lambda w: remove_prep_time(w, caller.restaurant_id, item_name))
    if not removed:
        raise ApiError(404, "KDS404", f"{item_name.strip()!r} has no prep time")
    return Response(status_code=204)
