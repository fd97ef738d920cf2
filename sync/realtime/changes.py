"""Turn a `postgres_changes` push's `data` into the shared wire models (api_client.models)."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from api_client.models import MenuAvailabilityChange, OrderChange, OrderItemChange

log = logging.getLogger(__name__)

ParsedChange = OrderChange | OrderItemChange | MenuAvailabilityChange

_MODELS: dict[str, type[ParsedChange]] = {
    "orders": OrderChange,
    "order_items": OrderItemChange,
    "menu_availability": MenuAvailabilityChange,
}


@dataclass(frozen=True, slots=True)
class RawChange:
    """A change this client has no model for, or one that failed validation: kept, not dropped, because
    realtime is only a hint and the caller may still want to know that something changed."""

    data: dict[str, Any]
    error: str | None = None


def parse_change(data: dict[str, Any]) -> ParsedChange | RawChange:
    model = _MODELS.get(str(data.get("table")))
    if model is None:
        return RawChange(data)
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        # A newer server may add fields or shapes we do not know yet; the catch-up over REST is the authority.
        log.warning("realtime change for %s does not match the model: %s", data.get("table"), exc.errors()[:3])
        return RawChange(data, str(exc))
