"""Writes a hub leaves to its upstream: deleting rows and the day-end clear are the restaurant server's to do."""

from __future__ import annotations

from fastapi import Request

from ..errors import ApiError


def refuse_on_a_hub(request: Request) -> None:
    """A FastAPI dependency for the admin writes a hub does not forward (PostgREST deletes, the day-end clear):
    refused in words, since upstream's rows would undo them (a POS's inserts and updates are forwarded)."""
    mirror = request.app.state.upstream
    if mirror is not None:
        raise ApiError(
            409,
            "KDS01",
            f"this server is a kitchen hub mirroring {mirror.settings.url}: do this there",
            hint=f"Deleting rows and the day-end clear are done at {mirror.settings.url}; they reach the hub from it.",
        )
