"""Pushes of one database commit held together, so a ticket is never applied (or painted) half-way.

An order and its items are separate realtime frames, but one commit: they share a `commit_timestamp`. Frames are
held while they belong to the newest commit seen; the group is released whole when a frame of another commit
arrives, when anything else happens (a REST answer must not overtake a whole commit; a lost connection releases
everything, the missing frames will not come that way), or `hold_s` after
its last frame (no frame says "that was the last one", so the wait is bounded: a few milliseconds). The hold
stretches while the pump is behind: a release asked for late means the process was busy, and the rest of the
commit may be waiting unread in the socket, so it waits another hold (up to `max_hold_s` from the first frame).
Realtime is only a hint: a group lost with a crash during the hold is brought back by the next catch-up.

Within a commit the frames' order means nothing (it was one transaction), and realtime does not promise it:
`apply_order` sorts a released group so an order's row comes before its items, and deletes come last, items
before their order.

Timing alone is not enough: under CPU load the server can be preempted between two frame writes for longer than
any hold. So a group is also checked against the data (`complete`, injected: given the held frames, whether every
order in them has as many items as its `item_count` says, counting the stored ones; sync/readpath/whole_tickets.py).
An incomplete group is held past `max_hold_s`, up to `wait_s` from its first frame, and so is every commit behind
it (nothing overtakes); a frame of a held commit joins its group even after another commit started (frames
reordered on the way). After `wait_s` the group goes as it is, logged once: the catch-up repairs the ticket.

The data can also say a commit is all here (`done`, injected: new tickets, each with every item its count says),
and then it goes at once, without the timing hold: the path a cook waits on pays no hold (bench/RESULTS.md, e2e).

Sans-I/O: the pump passes the time in and asks `next_release_at()` when to call `due()`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

log = logging.getLogger(__name__)

T = TypeVar("T")


@dataclass
class _Group(Generic[T]):
    commit: str
    release_at: float  # when to look at it next
    deadline: float  # the timing bound: `max_hold_s` from its first frame
    give_up_at: float  # the data bound: `wait_s` from its first frame
    frames: list[T] = field(default_factory=list)


class CommitGroups(Generic[T]):
    def __init__(
        self,
        hold_s: float = 0.005,
        max_hold_s: float = 0.05,
        complete: Callable[[Sequence[T]], bool] | None = None,
        wait_s: float = 2.0,
        done: Callable[[Sequence[T]], bool] | None = None,
    ) -> None:
        if hold_s < 0 or max_hold_s < hold_s or wait_s < max_hold_s:
            raise ValueError("need 0 <= hold_s <= max_hold_s <= wait_s")
        self.hold_s = hold_s
        self.max_hold_s = max_hold_s
        self.wait_s = wait_s
        self._complete = complete
        self._done = done
        self._groups: list[_Group[T]] = []  # oldest commit first; only the head can be released
        self.gave_up = 0  # groups released incomplete after `wait_s` (the pump asks for a catch-up)

    @property
    def held(self) -> int:
        return sum(len(g.frames) for g in self._groups)

    def push(self, frame: T, commit: str, now: float) -> list[T]:
        """Hold `frame`; returns the groups before it that are now free to go (another commit has started)."""
        group = next((g for g in self._groups if g.commit == commit), None)
        if group is None:
            if self._groups:
                # A frame of another commit: the commit before it was read whole, unless frames were reordered on
                # the way, which the data check tells. Look at the head now.
                self._groups[0].release_at = min(self._groups[0].release_at, now)
            group = _Group(commit, now, now + self.max_hold_s, now + self.wait_s)
            self._groups.append(group)
        group.frames.append(frame)
        # Within the timing bound: a hold after this frame. Past it (a group waiting for a late frame): look now.
        group.release_at = min(now + self.hold_s, max(group.deadline, now))
        if group is self._groups[0] and self._done is not None and self._done(group.frames):
            # The frames say themselves that the commit is all here (new tickets, each with all its items): no
            # hold. Only for the head: nothing overtakes an older commit.
            group.release_at = now
            return self._ready(now, newest_too=True)
        return self._ready(now, newest_too=False)

    def release(self) -> list[T]:
        """Everything held, in arrival order (the connection went: no more frames come this way)."""
        out = [frame for g in self._groups for frame in g.frames]
        self._groups = []
        return out

    def release_whole(self, now: float) -> list[T]:
        """The groups, oldest first, up to the first that is not whole: called before another kind of input (a
        REST answer, a hint) is handled, which may not overtake them. A group still missing items stays held,
        and so does every one behind it (the rows it would overtake are merged by change_seq, so no harm)."""
        out: list[T] = []
        while self._groups and self._whole(self._groups[0], now):
            out.extend(self._groups.pop(0).frames)
        return out

    def due(self, now: float) -> list[T]:
        return self._ready(now, newest_too=True)

    def _ready(self, now: float, *, newest_too: bool) -> list[T]:
        out: list[T] = []
        while self._groups:
            group = self._groups[0]
            followed = len(self._groups) > 1
            if now < group.release_at or not (followed or newest_too):
                break
            if not followed and now - group.release_at > self.hold_s and now < group.deadline:
                # Asked late (by more than a hold): the process was busy (painting, a long batch), so the rest of
                # this commit may have reached the socket and not yet been read. Hold once more for a hold; a pump
                # that is on time releases then. A saturated process pays up to `max_hold_s`.
                group.release_at = min(now + self.hold_s, group.deadline)
                break
            if not self._whole(group, now):
                break
            out.extend(self._groups.pop(0).frames)
        return out

    def _whole(self, group: _Group[T], now: float) -> bool:
        if self._complete is None or self._complete(group.frames):
            return True
        if now >= group.give_up_at:
            self.gave_up += 1
            log.warning(
                "a commit's frames were still missing items after %.1f s: applied as they are, the catch-up repairs",
                self.wait_s,
                extra={"event": "commit_group", "phase": "gave_up", "frames": len(group.frames)},
            )
            return True
        # Still missing items: the frame that brings them sets a hold of its own (`push`); until then look again
        # now and then, in case the store was filled by other means (a catch-up page).
        group.release_at = min(now + self.max_hold_s, group.give_up_at)
        return False

    def next_release_at(self) -> float | None:
        return self._groups[0].release_at if self._groups else None


def apply_order(table: str, change_type: str) -> int:
    """Where a frame goes when its commit is applied (a stable sort key): order rows, then the rest, then deletes
    of items, then deletes of orders, so that no item is ever applied before the order that holds it."""
    if change_type == "DELETE":
        return 3 if table == "orders" else 2
    return 0 if table == "orders" else 1
