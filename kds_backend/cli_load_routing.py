"""`kds-backend load-routing show|set`: routing new items by load (issue 19 item 2; kds_backend/load_routing.py)."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the CLI starts without SQLAlchemy's import until a command needs the database
    from .load_routing import LoadRouting

Opener = Callable[[argparse.Namespace], contextlib.AbstractContextManager[Any]]


def _alternates(text: str) -> tuple[str, list[str]]:
    """`grill=flat,plancha` -> ("grill", ["flat", "plancha"])."""
    station, sep, others = text.partition("=")
    names = [o.strip() for o in others.split(",") if o.strip()]
    if not sep or not station.strip() or not names:
        raise argparse.ArgumentTypeError(f"{text!r} is not STATION=OTHER[,OTHER...] (e.g. grill=flat)")
    return station.strip(), names


def _describe(restaurant: str, routing: LoadRouting) -> str:
    state = "on" if routing.route_by_load else "off"
    lines = [f"{restaurant}: routing by load is {state}"]
    lines += [f"{station}\t{', '.join(others)}" for station, others in sorted(routing.alternates.items())]
    if not routing.alternates:
        lines.append("no alternate stations")
    return "\n".join(lines)


def _show(args: argparse.Namespace, reading: Opener) -> int:
    from .load_routing import read_load_routing

    with reading(args) as conn:
        sys.stdout.write(_describe(args.restaurant, read_load_routing(conn, args.restaurant)) + "\n")
    return 0


def _set(args: argparse.Namespace, writing: Opener) -> int:
    from .load_routing import LoadRouting, read_load_routing, save_load_routing

    with writing(args) as w:
        current = read_load_routing(w.conn, args.restaurant)
        on = current.route_by_load if args.on is None else args.on
        alternates = dict(args.alternates) if args.alternates else current.alternates
        saved = save_load_routing(w, args.restaurant, LoadRouting(on, alternates))
    sys.stdout.write(_describe(args.restaurant, saved) + "\n")
    return 0


def add_commands(sub: Any, *, reading: Opener, writing: Opener) -> None:
    """The `load-routing` command under the CLI's subcommands `sub`."""
    cmd = sub.add_parser("load-routing", help="send new items to the least busy station that can make them")
    cmd_sub = cmd.add_subparsers(dest="load_routing_command", required=True)
    show = cmd_sub.add_parser("show", help="whether routing by load is on, and each station's alternates")
    show.add_argument("--restaurant", required=True)
    show.add_argument("--database-url")
    show.set_defaults(func=partial(_show, reading=reading))
    put = cmd_sub.add_parser("set", help="turn routing by load on or off, and/or replace the alternate stations")
    put.add_argument("--restaurant", required=True)
    switch = put.add_mutually_exclusive_group()
    switch.add_argument("--on", dest="on", action="store_true", default=None, help="route new items by load")
    switch.add_argument("--off", dest="on", action="store_false", help="every item goes to its routed station")
    put.add_argument(
        "--alternates",
        action="append",
        type=_alternates,
        metavar="STATION=OTHER[,OTHER...]",
        help="stations that can also make STATION's items (repeat for each station; replaces the whole list)",
    )
    put.add_argument("--database-url")
    put.set_defaults(func=partial(_set, writing=writing))
