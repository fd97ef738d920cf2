"""`POST /rest/v1/rpc/late_rejections`: intents a hub applied and its upstream refused afterwards.

A screen on a kitchen hub is answered by the hub, which applies its taps at once and forwards them upstream; when
upstream later refuses one (an item voided there while the grill bumped it offline), the hub rolls it back and
keeps the refusal for the device that made it. The device pages its own with `after` (the last `seq` it has), when
its channel says `late_rejection` and whenever it is live again. A server that is no hub has none to give; a
Supabase project has no such function (404), and a screen there never needs it.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from .models import Intent

LATE_REJECTION_EVENT = "late_rejection"
"""The broadcast a hub sends on the restaurant's channel when it records one: `{"device_id": ..., "seq": ...}`."""
PAGE = 500


class LateRejectionsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    after: Annotated[int, Field(ge=0)] = 0


class LateRejection(BaseModel):
    model_config = ConfigDict(extra="ignore")

    seq: int
    intent: Intent
    reason: str
    rejected_at: datetime
