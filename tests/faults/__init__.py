"""The randomised fault harness: seeded, replayable schedules that prove "never loses a ticket" (README.md)."""
