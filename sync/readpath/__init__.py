"""The read path as sans-I/O state machines: merge by row version, catch-up ordering, overlay, coalescing.

- `merge`: apply a server row (or a delete) to local state; never older over newer, deletes as tombstones.
- `catchup`: one subscription cycle (buffer events, page over REST from a cursor minus an overlap, drain, live).
- `overlay`: what a screen shows for an order that has pending local intents.
- `coalesce`: a burst of changes becomes one UI update.
"""
