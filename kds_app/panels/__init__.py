"""Everything beside the card grid: the side panels (all-day, 86, recall), the prep strip, the customer ready
board and the settings dialog."""
