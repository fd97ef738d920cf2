"""Station routing: which kitchen station cooks an item, from its menu category."""

from __future__ import annotations

import re

import sqlalchemy as sa

from .db.tables import station_routes

FALLBACK_STATION = "kitchen"

DEFAULT_ROUTES: dict[str, str] = {
    "grill": "grill",
    "burgers": "grill",
    "burger": "grill",
    "steak": "grill",
    "mains": "grill",
    "fryer": "fry",
    "fry": "fry",
    "fries": "fry",
    "sides": "fry",
    "salad": "cold",
    "salads": "cold",
    "cold": "cold",
    "starters": "cold",
    "appetizers": "cold",
    "pizza": "pizza",
    "pasta": "saute",
    "saute": "saute",
    "dessert": "pastry",
    "desserts": "pastry",
    "pastry": "pastry",
    "drinks": "bar",
    "bar": "bar",
    "beverages": "bar",
}
"""Sensible routes for a kitchen that has configured none. A restaurant's own routes win."""


def normalise_category(category: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", category.strip().lower()).strip("_")


def restaurant_routes(conn: sa.Connection, restaurant_id: str) -> dict[str, str]:
    rows = conn.execute(
        sa.select(station_routes.c.category, station_routes.c.station).where(
            station_routes.c.restaurant_id == restaurant_id
        )
    )
    return {category: station for category, station in rows}


def route(category: str | None, routes: dict[str, str]) -> str:
    """The station for `category`: the restaurant's route, else the default, else the fallback."""
    if not category:
        return FALLBACK_STATION
    key = normalise_category(category)
    return routes.get(key) or DEFAULT_ROUTES.get(key) or FALLBACK_STATION


def replace_routes(conn: sa.Connection, restaurant_id: str, routes: dict[str, str]) -> None:
    conn.execute(station_routes.delete().where(station_routes.c.restaurant_id == restaurant_id))
    if routes:
        conn.execute(
            station_routes.insert(),
            [
                {"restaurant_id": restaurant_id, "category": normalise_category(c), "station": s}
                for c, s in routes.items()
            ],
        )
