"""Which printer a station prints to: set, listed and removed by the admin API (`/api/v1/station-printers`) and
`kds-backend printer`, kept in `station_printers` (and on Supabase in the table of the same name)."""

from __future__ import annotations

import ipaddress
import re

import sqlalchemy as sa

from ..db.tables import change_counter, print_jobs, station_printers
from ..db.writer import Writer
from .jobs import Printer, cursor_of, set_cursor

DEFAULT_PORT = 9100
"""Raw printing ("JetDirect", AppSocket): what ESC/POS network printers listen on."""

STATION = re.compile(r"[a-z0-9_-]{1,40}")
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def check_printer(station: str, host: str, port: int) -> str | None:
    """What is wrong with this printer's address, in words, or None."""
    if not STATION.fullmatch(station):
        return f"Invalid station {station!r}: stations are lower-case, like 'grill'"
    if not 1 <= port <= 65535:
        return f"Invalid port {port}: from 1 to 65535 (ESC/POS network printers use {DEFAULT_PORT})"
    try:
        ipaddress.ip_address(host)
        return None
    except ValueError:
        pass
    labels = host.rstrip(".").split(".")
    if len(host) > 253 or not all(_HOST_LABEL.fullmatch(label) for label in labels):
        return f"Invalid printer host {host!r}: an IP address like 192.168.1.50 or a host name like grill-printer.lan"
    return None


def parse_address(address: str) -> tuple[str, int]:
    """`host`, `host:port` or `[v6]:port` → (host, port); the port defaults to 9100."""
    if address.startswith("["):
        host, _, rest = address[1:].partition("]")
        port = rest.removeprefix(":") or str(DEFAULT_PORT)
    elif address.count(":") == 1:
        host, port = address.split(":")
    else:
        host, port = address, str(DEFAULT_PORT)
    if not port.isdigit():
        raise ValueError(f"Invalid printer port in {address!r}")
    return host, int(port)


def set_printer(w: Writer, printer: Printer) -> None:
    """Name the station's printer (replacing any). Its cursor starts at the present, if it has none: naming a
    printer never prints the day's old tickets."""
    key = {"restaurant_id": printer.restaurant_id, "station": printer.station}
    found = w.conn.execute(
        sa.select(station_printers.c.station).where(
            station_printers.c.restaurant_id == printer.restaurant_id, station_printers.c.station == printer.station
        )
    ).first()
    values = {"host": printer.host, "port": printer.port, "updated_at": w.now}
    if found is None:
        w.conn.execute(station_printers.insert().values(**key, **values))
    else:
        w.conn.execute(
            station_printers.update()
            .where(
                station_printers.c.restaurant_id == printer.restaurant_id,
                station_printers.c.station == printer.station,
            )
            .values(**values)
        )
    counter = w.conn.execute(sa.select(change_counter.c.value).where(change_counter.c.id == 1)).scalar_one()
    if cursor_of(w.conn, printer.key) is None:
        set_cursor(w, printer.key, counter)


def remove_printer(w: Writer, restaurant_id: str, station: str) -> bool:
    """Forget the station's printer. Its unprinted jobs stay, and print if a printer is named again."""
    done = w.conn.execute(
        station_printers.delete().where(
            station_printers.c.restaurant_id == restaurant_id, station_printers.c.station == station
        )
    )
    return done.rowcount > 0


def list_printers(conn: sa.Connection, restaurant_id: str) -> list[tuple[Printer, int]]:
    """The restaurant's printers, by station, each with its count of jobs not printed yet."""
    pending = dict(
        conn.execute(
            sa.select(print_jobs.c.station, sa.func.count())
            .where(print_jobs.c.restaurant_id == restaurant_id, print_jobs.c.printed_at.is_(None))
            .group_by(print_jobs.c.station)
        ).all()
    )
    rows = conn.execute(
        sa.select(station_printers)
        .where(station_printers.c.restaurant_id == restaurant_id)
        .order_by(station_printers.c.station)
    )
    return [(Printer(r.restaurant_id, r.station, r.host, r.port), pending.get(r.station, 0)) for r in rows]
