"""Admin-only: the ticket-time CSV (`GET /api/v1/reports/prep-times.csv`) and the manual day-end clear
(`POST /rest/v1/rpc/clear_day`, the same RPC name and answer as the Supabase migration)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from pydantic import AwareDatetime, BaseModel, ConfigDict

from api_client.business_day import zone
from api_client.models import DeviceRole

from ..auth.deps import CurrentCaller, require_roles
from ..day_end import clear_day
from ..errors import bad_request
from ..hub.guard import refuse_on_a_hub
from ..prep_report import parse_range, prep_rows, to_csv

router = APIRouter(tags=["reports"])

ADMIN = {DeviceRole.admin}
ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, expired or forged token"},
    403: {"description": "Only an admin device reads reports or clears the day"},
    429: {"description": "Rate limited; see Retry-After"},
}


@router.get(
    "/api/v1/reports/prep-times.csv",
    response_class=Response,
    responses={
        **ERROR_RESPONSES,
        200: {"content": {"text/csv": {}}, "description": "One row per order and station"},
        400: {"description": "since/until missing, not YYYY-MM-DD, reversed, or more than a year apart"},
    },
)
async def prep_times_csv(
    request: Request,
    caller: CurrentCaller,
    since: Annotated[str | None, Query(description="first kitchen day, YYYY-MM-DD")] = None,
    until: Annotated[str | None, Query(description="last kitchen day (included), YYYY-MM-DD")] = None,
) -> Response:
    """Ticket times of the caller's restaurant for kitchen days `since`..`until` (days end at KDS_DAY_END_HOUR)."""
    require_roles(caller, ADMIN, "read reports")
    try:
        days = parse_range(since, until)
    except ValueError as exc:
        raise bad_request("KDS400", str(exc), hint="e.g. ?since=2026-11-01&until=2026-11-30") from None
    settings = request.app.state.settings
    tz = zone(settings.timezone)
    body = await request.app.state.db.aread(
        lambda c: to_csv(prep_rows(c, days, settings.day_end_hour, tz, caller.restaurant_id))
    )
    name = f"prep-times-{days.since}-{days.until}.csv"
    return Response(body, media_type="text/csv", headers={"Content-Disposition": f'attachment; filename="{name}"'})


class ClearDayRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")
    before: AwareDatetime | None = None
    """Clear orders created before this; default: now (every order still open)."""


class ClearDayResult(BaseModel):
    cleared: int
    before: datetime


@router.post(
    "/rest/v1/rpc/clear_day",
    dependencies=[Depends(refuse_on_a_hub)],
    response_model=ClearDayResult,
    responses={
        **ERROR_RESPONSES,
        400: {"description": "Body is not JSON"},
        422: {"description": "Invalid body (before must carry a timezone)"},
    },
)
async def clear_day_rpc(
    request: Request, caller: CurrentCaller, body: Annotated[ClearDayRequest | None, Body()] = None
) -> ClearDayResult:
    """Archive the caller's restaurant's open orders created before `before`: they leave every screen, stay
    in reports, and intents on them are refused. Realtime publishes the change like any other."""
    require_roles(caller, ADMIN, "clear the day")
    before = (body.before if body is not None else None) or datetime.now(UTC)
    cleared = await request.app.state.db.awrite(lambda w: clear_day(w, before, caller.restaurant_id))
    return ClearDayResult(cleared=len(cleared), before=before)
