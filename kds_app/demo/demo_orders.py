"""A realistic menu and the orders a busy service sends: for the demo, the screenshots and benchmarks.

Seeded, so a screenshot or a benchmark run sees the same kitchen every time.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from api_client.models import OrderIntake, OrderItemIntake, OrderItemsAddition, OrderSource, OrderType


@dataclass(frozen=True)
class Dish:
    name: str
    station: str
    modifiers: tuple[str, ...] = ()
    allergens: tuple[str, ...] = ()
    course: int = 2


MENU: tuple[Dish, ...] = (
    Dish("Cheeseburger", "grill", ("no onion", "medium rare", "well done", "add bacon", "gluten-free bun"),
         ("gluten", "dairy")),
    Dish("Ribeye 300g", "grill", ("medium rare", "medium", "peppercorn sauce", "no butter"), ("dairy",)),
    Dish("Chicken skewers", "grill", ("extra spicy", "no sauce"), ("sesame",)),
    Dish("Halloumi burger", "grill", ("no onion", "add avocado"), ("dairy", "gluten")),
    Dish("Fries", "fry", ("no salt", "extra crispy", "truffle"), ()),
    Dish("Sweet potato fries", "fry", ("no salt",), ()),
    Dish("Fish & chips", "fry", ("no tartare", "extra lemon"), ("fish", "gluten", "egg")),
    Dish("Calamari", "fry", ("aioli on side",), ("molluscs", "gluten", "egg"), 1),
    Dish("Onion rings", "fry", (), ("gluten",), 1),
    Dish("Caesar salad", "cold", ("no anchovies", "dressing on side", "add chicken"), ("fish", "egg", "dairy"), 1),
    Dish("Burrata", "cold", ("no basil",), ("dairy",), 1),
    Dish("Poke bowl", "cold", ("no sesame", "extra salmon"), ("fish", "sesame", "soy")),
    Dish("Thai peanut salad", "cold", ("no chilli",), ("peanut", "soy")),
    Dish("Chocolate fondant", "pastry", ("vanilla ice cream", "no cream"), ("dairy", "egg", "gluten"), 3),
    Dish("Lemon tart", "pastry", (), ("gluten", "egg", "dairy"), 3),
)

SERVERS = ("Anna", "Marco", "Priya", "Tom", "Lea", "Sam")
CUSTOMERS = ("Jordan", "Alex K.", "Maria", "Chen", "Fatima", "Oliver", "Noah")
NOTES = ("birthday: candle on dessert", "VIP table", "in a hurry", "allergy: severe, check with chef")
ITEM_NOTES = ("sauce on the side", "cut in half", "kids portion", "no ice")


def _line(rng: random.Random, dish: Dish) -> OrderItemIntake:
    mods = rng.sample(dish.modifiers, k=rng.randint(0, min(2, len(dish.modifiers)))) if dish.modifiers else []
    return OrderItemIntake(
        name=dish.name,
        station=dish.station,
        quantity=rng.choices((1, 2, 3, 4), weights=(10, 4, 1, 1))[0],
        modifiers=mods,
        notes=rng.choice(ITEM_NOTES) if rng.random() < 0.12 else None,
        allergens=list(dish.allergens) if rng.random() < 0.35 else [],
        course=dish.course,
    )


def random_order(rng: random.Random, number: int, *, created_at: datetime | None = None) -> OrderIntake:
    kind = rng.choices(list(OrderType), weights=(6, 2, 2, 1))[0]
    source = {
        OrderType.dine_in: OrderSource.pos,
        OrderType.takeout: rng.choice((OrderSource.pos, OrderSource.kiosk)),
        OrderType.delivery: OrderSource.delivery,
        OrderType.pickup: OrderSource.online,
    }[kind]
    dishes = rng.sample(MENU, k=rng.randint(1, 5))
    items = [_line(rng, dish) for dish in dishes]
    dine_in = kind is OrderType.dine_in
    return OrderIntake(
        number=str(number),
        source=source,
        type=kind,
        table_label=str(rng.randint(1, 40)) if dine_in else None,
        server_name=rng.choice(SERVERS) if dine_in else None,
        guests=rng.randint(1, 6) if dine_in else None,
        customer_name=None if dine_in else rng.choice(CUSTOMERS),
        notes=rng.choice(NOTES) if rng.random() < 0.08 else None,
        created_at=created_at,
        items=items,
    )


def random_addition(rng: random.Random) -> OrderItemsAddition:
    """What a table orders after its ticket went to the kitchen: one or two more dishes (mostly mains and
    sides, the things people change their minds about)."""
    dishes = rng.sample([d for d in MENU if d.course == 2], k=rng.choices((1, 2), weights=(3, 1))[0])
    return OrderItemsAddition(items=[_line(rng, dish) for dish in dishes])


def service(count: int, *, seed: int = 7, first_number: int = 101, spread_s: float = 0.0,
            now: datetime | None = None) -> list[OrderIntake]:
    """`count` orders numbered from `first_number`; with `spread_s`, created over that many seconds up to now
    (oldest first), so their ages span the colour thresholds."""
    rng = random.Random(seed)
    now = now or datetime.now(UTC)
    orders = []
    for i in range(count):
        created = now - timedelta(seconds=spread_s * (count - 1 - i) / max(count - 1, 1)) if spread_s else None
        orders.append(random_order(rng, first_number + i, created_at=created))
    return orders
