"""`POST /rest/v1/rpc/apply_intents`: the one idempotent write path of the kitchen screens."""

from __future__ import annotations

import sqlalchemy as sa
from fastapi import APIRouter, Request

from api_client.late_rejection import PAGE, LateRejection, LateRejectionsRequest
from api_client.models import ApplyIntentsRequest, DeviceRole, Intent, IntentResult

from ..auth.deps import CurrentCaller, require_roles
from ..db.tables import late_rejections
from ..db.writer import Writer
from ..errors import forbidden
from ..hub.mirror import UpstreamMirror
from ..intents import apply_intents

router = APIRouter(prefix="/rest/v1/rpc", tags=["RPC"])

INTENT_ROLES = {DeviceRole.kds, DeviceRole.expo, DeviceRole.admin}


@router.post(
    "/apply_intents",
    response_model=list[IntentResult],
    responses={
        400: {"description": "Body is not JSON"},
        401: {"description": "Missing, expired or forged token"},
        403: {"description": "Role may not send intents, or intents carry another device's id"},
        422: {"description": "Invalid body"},
        429: {"description": "Rate limited; see Retry-After"},
    },
)
async def apply_intents_rpc(body: ApplyIntentsRequest, request: Request, caller: CurrentCaller) -> list[IntentResult]:
    """Apply intents in order; one result per intent: applied, duplicate or rejected with a reason."""
    require_roles(caller, INTENT_ROLES, "change tickets")
    if caller.role is not DeviceRole.admin:
        foreign = {i.device_id for i in body.intents} - {caller.device_id}
        if foreign:
            raise forbidden(
                "intents carry another device's id",
                hint=f"This token belongs to device {caller.device_id!r}.",
            )
    db = request.app.state.db
    mirror: UpstreamMirror | None = request.app.state.upstream
    if mirror is None:
        # Grouped: several screens' batches share a commit, each in a savepoint of its own.
        return await db.awrite(lambda w: apply_intents(w, caller.restaurant_id, caller.role, body.intents), group=True)

    def apply_and_queue(w: Writer) -> tuple[list[IntentResult], list[Intent]]:
        # A hub: what it applied is queued for upstream in the same write, before it commits (kds_backend/hub).
        results = apply_intents(w, caller.restaurant_id, caller.role, body.intents)
        return results, mirror.forward(w, caller.restaurant_id, body.intents, results)

    results, queued = await db.awrite(apply_and_queue, group=True)
    mirror.forwarded(queued)
    return results


@router.post(
    "/late_rejections",
    response_model=list[LateRejection],
    responses={
        400: {"description": "Body is not JSON"},
        401: {"description": "Missing, expired or forged token"},
        422: {"description": "Invalid body"},
        429: {"description": "Rate limited; see Retry-After"},
    },
)
async def late_rejections_rpc(
    body: LateRejectionsRequest, request: Request, caller: CurrentCaller
) -> list[LateRejection]:
    """The calling device's intents that this hub applied and its upstream refused later, after `seq` `after`,
    oldest first (at most 500): what the screen shows as refused, with upstream's reason."""
    query = (
        sa.select(late_rejections)
        .where(
            late_rejections.c.restaurant_id == caller.restaurant_id,
            late_rejections.c.device_id == caller.device_id,
            late_rejections.c.seq > body.after,
        )
        .order_by(late_rejections.c.seq)
        .limit(PAGE)
    )
    rows = await request.app.state.db.aread(lambda c: list(c.execute(query).mappings()))
    return [LateRejection.model_validate(dict(row)) for row in rows]
