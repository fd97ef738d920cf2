"""Routing new items by load (issue 19 item 2): `GET /api/v1/load-routing` for any device of the restaurant, `PUT`
for an admin device (kds_backend/load_routing.py has the rule)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, ConfigDict, Field

from api_client.models import DeviceRole

from ..auth.deps import CurrentCaller, require_roles
from ..errors import bad_request
from ..hub.guard import refuse_on_a_hub
from ..load_routing import MAX_ALTERNATES, LoadRouting, alternates_problem, read_load_routing, save_load_routing

router = APIRouter(prefix="/api/v1", tags=["Station routing"])

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, expired or forged token"},
    429: {"description": "Rate limited; see Retry-After"},
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **RESPONSES,
    400: {"description": "A name in alternates is not a station, or a station has too many alternates"},
    403: {"description": "Only an admin device may change routing"},
}


class LoadRoutingBody(BaseModel):
    """Whether new items go to the least busy station that can make them, and which stations can stand in."""

    model_config = ConfigDict(extra="forbid")
    route_by_load: bool = False
    alternates: Annotated[
        dict[str, list[str]],
        Field(
            description=f"station -> the stations that can also make its items (at most {MAX_ALTERNATES}), in "
            'order of preference after it: {"grill": ["flat"]}',
            max_length=100,
        ),
    ] = {}


@router.get("/load-routing", responses=RESPONSES)
async def get_load_routing(request: Request, caller: CurrentCaller) -> LoadRoutingBody:
    """The restaurant's routing by load (off, with no alternates, until an admin sets it)."""
    found = await request.app.state.db.aread(lambda c: read_load_routing(c, caller.restaurant_id))
    return LoadRoutingBody(route_by_load=found.route_by_load, alternates=found.alternates)


@router.put("/load-routing", responses=WRITE_RESPONSES, dependencies=[Depends(refuse_on_a_hub)])
async def put_load_routing(body: LoadRoutingBody, request: Request, caller: CurrentCaller) -> LoadRoutingBody:
    """Set the restaurant's routing by load (admin): items written from now on are placed by it; tickets already
    on the rail stay where they are."""
    require_roles(caller, {DeviceRole.admin}, "change station routing")
    problem = alternates_problem(body.alternates)
    if problem is not None:
        raise bad_request("KDS400", problem)
    routing = LoadRouting(body.route_by_load, body.alternates)
    await request.app.state.db.awrite(lambda w: save_load_routing(w, caller.restaurant_id, routing))
    return body
