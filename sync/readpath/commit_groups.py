"""Pushes of one database commit held together, so a ticket is never applied (or painted) half-way.

An order and its items are separate realtime frames, but one commit: they share a `commit_timestamp`. Frames are
held while they belong to the newest commit seen; the group is released whole when a frame of another commit
arrives, when anything else happens (a state change or a REST answer must not overtake them), or `hold_s` after
its last frame (no frame says "that was the last one", so the wait is bounded: a few milliseconds). The hold
stretches while the pump is behind: a release asked for late means the process was busy, and the rest of the
commit may be waiting unread in the socket, so it waits another hold (up to `max_hold_s` from the first frame).
Realtime is only a hint: a group lost with a crash during the hold is brought back by the next catch-up.

Within a commit the frames' order means nothing (it was one transaction), and realtime does not promise it:
`apply_order` sorts a released group so an order's row comes before its items, and deletes come last, items
before their order.

Sans-I/O: the pump passes the time in and asks `next_release_at()` when to call `due()`.
"""

from __future__ import annotations

from typing import Generic, TypeVar

T = TypeVar("T")


class CommitGroups(Generic[T]):
    def __init__(self, hold_s: float = 0.005, max_hold_s: float = 0.05) -> None:
        if hold_s < 0 or max_hold_s < hold_s:
            raise ValueError("need 0 <= hold_s <= max_hold_s")
        self.hold_s = hold_s
        self.max_hold_s = max_hold_s
        self._held: list[T] = []
        self._commit: str | None = None
        self._release_at: float | None = None
        self._deadline: float | None = None  # a group never waits longer than max_hold_s from its first frame

    @property
    def held(self) -> int:
        return len(self._held)

    def push(self, frame: T, commit: str, now: float) -> list[T]:
        """Hold `frame`; returns the previous group if this frame starts another commit."""
        released = self.release() if self._held and commit != self._commit else []
        if not self._held:
            self._commit = commit
            self._deadline = now + self.max_hold_s
        self._held.append(frame)
        assert self._deadline is not None
        self._release_at = min(now + self.hold_s, self._deadline)
        return released

    def release(self) -> list[T]:
        """Everything held, in arrival order (call before handling any other kind of input)."""
        out, self._held = self._held, []
        self._commit = self._release_at = self._deadline = None
        return out

    def due(self, now: float) -> list[T]:
        if self._release_at is None or now < self._release_at:
            return []
        if now - self._release_at > self.hold_s and self._deadline is not None and now < self._deadline:
            # Asked late (by more than a hold): the process was busy (painting, a long batch), so the rest of this
            # commit may have reached the socket and not yet been read. Hold once more for a hold; a pump that is
            # on time releases then. A saturated process pays up to `max_hold_s`, never a partial ticket.
            self._release_at = min(now + self.hold_s, self._deadline)
            return []
        return self.release()

    def next_release_at(self) -> float | None:
        return self._release_at


def apply_order(table: str, change_type: str) -> int:
    """Where a frame goes when its commit is applied (a stable sort key): order rows, then the rest, then deletes
    of items, then deletes of orders, so that no item is ever applied before the order that holds it."""
    if change_type == "DELETE":
        return 3 if table == "orders" else 2
    return 0 if table == "orders" else 1
