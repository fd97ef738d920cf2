"""Writes a hub does not take yet: orders and menu rows are upstream's, and reach the hub from there."""

from __future__ import annotations

from fastapi import Request

from ..errors import ApiError


def refuse_on_a_hub(request: Request) -> None:
    """A FastAPI dependency for the routes that write orders directly (POS intake, PostgREST writes, the day-end
    clear): on a hub they would be overwritten by upstream's rows, so they are refused in words instead."""
    mirror = request.app.state.upstream
    if mirror is not None:
        raise ApiError(
            409,
            "KDS01",
            f"this server is a kitchen hub mirroring {mirror.settings.url}: orders are written there",
            hint=f"Point the POS at {mirror.settings.url}; kitchen screens send their taps to the hub as before.",
        )
