"""Which channels' `postgres_changes` bindings a change may match, found by lookup instead of testing each.

Before, every change was tested against every channel of every socket, so one restaurant's many or heavy
subscriptions slowed every other restaurant's events (issue 17: by 0.7-2.3 s). Here bindings are indexed by
restaurant and table, then by one equality each (`column=eq.v`, or `column=in.(...)` under each of its values):
a change looks its row's values up in those columns and costs only the bindings it may match. A binding without
such a condition is tested on every change of its own restaurant and table, never on another restaurant's; the
filter budget per join bounds that. Candidates are then tested in full (`Binding.matches`), so the index only
has to never miss one.

Channels with equal bindings (every screen of a kind joins with the same ones) share a group, tested once per
change however many sockets are in it. Sans-I/O, like the router that owns it.
"""

from __future__ import annotations

import math
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from .bindings import Binding
from .filters import Condition
from .payloads import PreparedChange

Owner = tuple[int, str]
"""(socket id, topic): one joined channel."""

RESTAURANT_COLUMN = "restaurant_id"
"""Every subscription of a restaurant names it (the engine's `restaurant_id=eq.<id>`) and changes are already
split by restaurant, so an equality on it tells nothing: another equality of the filter is indexed instead."""


class _Group:
    """The channels of one restaurant joined with equal bindings. Identity is its hash: it is a dict key."""

    __slots__ = ("bindings", "members")

    def __init__(self, bindings: tuple[Binding, ...]) -> None:
        self.bindings = bindings
        self.members: dict[Owner, None] = {}


Entry = tuple[_Group, int]
"""A binding: its group, and its position in the group's bindings (ids go out in that order)."""


@dataclass
class _TableIndex:
    unindexed: dict[Entry, None] = field(default_factory=dict)
    by_value: dict[str, dict[Hashable, dict[Entry, None]]] = field(default_factory=dict)
    """column → value key (`value_key` / `literal_keys`) → the bindings whose indexed equality holds there."""

    def empty(self) -> bool:
        return not self.unindexed and not self.by_value


def literal_keys(text: str) -> list[Hashable] | None:
    """Every value key a row value equal to the filter literal `text` can have, as `filters._compare` decides
    equality: as text, as a boolean (`true`/`t`/`1`...), as a number. None if not indexable: `nan` is "equal" to
    every number there, as no key can say."""
    keys: list[Hashable] = [("s", text)]
    lowered = text.lower()
    if lowered in ("true", "t", "1"):
        keys.append(("b", True))
    elif lowered in ("false", "f", "0"):
        keys.append(("b", False))
    try:
        number = float(text)
    except ValueError:
        return keys
    if math.isnan(number):
        return None
    keys.append(("n", number))
    return keys


def value_key(actual: Any) -> Hashable | None:
    """The key a row value is looked up by; None if it has none (NULL, NaN, an int too large for a float): then
    every binding indexed on the column is a candidate."""
    if actual is None:
        return None
    if isinstance(actual, bool):
        return ("b", actual)
    if isinstance(actual, int | float):
        try:
            number = float(actual)
        except OverflowError:
            return None
        return None if math.isnan(number) else ("n", number)
    return ("s", actual if isinstance(actual, str) else str(actual))


def _indexed_condition(binding: Binding) -> tuple[str, list[Hashable]] | None:
    """The equality to index a binding under, and its value keys; None to test it on every change."""
    best: tuple[str, list[Hashable]] | None = None
    for condition in binding.filter.conditions:
        keys = _condition_keys(condition)
        if keys is None:
            continue
        if condition.column != RESTAURANT_COLUMN:
            return condition.column, keys
        best = best or (condition.column, keys)
    return best


def _condition_keys(condition: Condition) -> list[Hashable] | None:
    if condition.negate or condition.op not in ("eq", "in"):
        return None
    literals: Iterable[str] = condition.value if condition.op == "in" else (condition.value,)  # type: ignore[assignment]
    keys: list[Hashable] = []
    for literal in literals:
        more = literal_keys(literal)
        if more is None:
            return None
        keys += more
    return keys


class SubscriptionIndex:
    def __init__(self) -> None:
        self._groups: dict[tuple[str, tuple[Binding, ...]], _Group] = {}
        self._owners: dict[Owner, tuple[str, tuple[Binding, ...]]] = {}
        self._tables: dict[tuple[str, str], _TableIndex] = {}

    def add(self, owner: Owner, restaurant_id: str, bindings: tuple[Binding, ...]) -> None:
        """Subscribe a channel (replacing what it had); no bindings, nothing to match."""
        self.remove(owner)
        if not bindings:
            return
        key = (restaurant_id, bindings)
        group = self._groups.get(key)
        if group is None:
            group = self._groups[key] = _Group(bindings)
            self._index(restaurant_id, group)
        group.members[owner] = None
        self._owners[owner] = key

    def remove(self, owner: Owner) -> None:
        key = self._owners.pop(owner, None)
        if key is None:
            return
        group = self._groups[key]
        del group.members[owner]
        if not group.members:
            del self._groups[key]
            self._unindex(key[0], group)

    def watches(self, restaurant_id: str | None, table: str) -> bool:
        """Some binding of the restaurant's channels is on this table: a change there may match (`matches`)."""
        return restaurant_id is not None and (restaurant_id, table) in self._tables

    def matches(self, change: PreparedChange) -> list[tuple[Owner, tuple[int, ...]]]:
        """Each channel the change matches, with the ids of its bindings that match (in binding order)."""
        if change.restaurant_id is None:
            return []
        table = self._tables.get((change.restaurant_id, change.table))
        if table is None:
            return []
        candidates: dict[_Group, set[int]] = {}
        for group, position in table.unindexed:
            candidates.setdefault(group, set()).add(position)
        row = change.row
        for column, by_key in table.by_value.items():
            key = value_key(row.get(column))
            if key is not None:
                hits: Iterable[Entry] = by_key.get(key, ())
            elif row.get(column) is None:
                continue  # NULL equals nothing: no `eq` or `in` holds
            else:
                hits = [entry for entries in by_key.values() for entry in entries]
            for group, position in hits:
                candidates.setdefault(group, set()).add(position)
        out: list[tuple[Owner, tuple[int, ...]]] = []
        for group, positions in candidates.items():
            ids = _matching_ids(group.bindings, sorted(positions), change)
            if ids:
                out.extend((owner, ids) for owner in group.members)
        return out

    def __len__(self) -> int:
        return len(self._owners)

    def _index(self, restaurant_id: str, group: _Group) -> None:
        for position, binding in enumerate(group.bindings):
            entry = (group, position)
            indexed = _indexed_condition(binding)
            for table_name in binding.tables:
                table = self._tables.setdefault((restaurant_id, table_name), _TableIndex())
                if indexed is None:
                    table.unindexed[entry] = None
                    continue
                column, keys = indexed
                by_key = table.by_value.setdefault(column, {})
                for key in keys:
                    by_key.setdefault(key, {})[entry] = None

    def _unindex(self, restaurant_id: str, group: _Group) -> None:
        for position, binding in enumerate(group.bindings):
            entry = (group, position)
            indexed = _indexed_condition(binding)
            for table_name in binding.tables:
                table = self._tables.get((restaurant_id, table_name))
                if table is None:
                    continue
                table.unindexed.pop(entry, None)
                if indexed is not None:
                    column, keys = indexed
                    by_key = table.by_value.get(column, {})
                    for key in keys:
                        entries = by_key.get(key)
                        if entries is not None:
                            entries.pop(entry, None)
                            if not entries:
                                del by_key[key]
                    if not by_key:
                        table.by_value.pop(column, None)
                if table.empty():
                    del self._tables[(restaurant_id, table_name)]


def _matching_ids(bindings: tuple[Binding, ...], positions: Sequence[int], change: PreparedChange) -> tuple[int, ...]:
    ids: dict[int, None] = {}
    for position in positions:
        binding = bindings[position]
        if binding.matches(change):
            ids[binding.id] = None
    return tuple(ids)
