"""The screen's state without widgets: the tickets (`ticket_model`), what a card offers (`card_rules`), the
all-day counts, and the controller that turns taps into the engine's intents (`screen`)."""
