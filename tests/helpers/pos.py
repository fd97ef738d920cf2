"""What a POS sends: the intake example of the README (two burgers and fries, modifiers, a note, an allergen)."""

from __future__ import annotations

EXAMPLE = {
    "number": "A17",
    "source": "pos",
    "type": "dine_in",
    "table_label": "12",
    "server_name": "Sam",
    "guests": 2,
    "items": [
        {
            "name": "Burger",
            "quantity": 2,
            "category": "grill",
            "modifiers": ["no onions"],
            "notes": "well done",
            "allergens": ["gluten"],
        },
        {"name": "Fries", "quantity": 1, "category": "fryer"},
    ],
}
