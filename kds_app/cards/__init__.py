"""The ticket cards: where everything on a card goes (`card_layout`), how it is painted (`ticket_delegate`) and
the paged grid of cards a cook taps (`ticket_grid`)."""
