"""Planted bugs for the fault harness: each check in `tests/faults` must be shown able to fail.

`KDS_PLANTED_BUGS=name[,name...]` in a process's environment switches the named defects on. Nothing sets it
outside the harness's planted-bug runs; with it unset every call here is False and costs one dict lookup.
"""

from __future__ import annotations

import os

ENV = "KDS_PLANTED_BUGS"


def planted(name: str) -> bool:
    value = os.environ.get(ENV, "")
    return name in value.split(",")
