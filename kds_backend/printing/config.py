"""Which printer a station prints to: set, listed and removed by the admin API (`/api/v1/station-printers`) and
`kds-backend printer`, kept in `station_printers` (and on Supabase in the table of the same name)."""

from __future__ import annotations

import re

import sqlalchemy as sa

from api_client.escpos.address import DEFAULT_PORT, check_address, parse_address

from ..db.tables import change_counter, print_jobs, station_printers
from ..db.writer import Writer
from .jobs import Printer, cursor_of, set_cursor

__all__ = ["DEFAULT_PORT", "check_printer", "list_printers", "parse_address", "remove_printer", "set_printer"]

STATION = re.compile(r"[a-z0-9_-]{1,40}")


def check_printer(station: str, host: str, port: int) -> str | None:
    """What is wrong with this printer's address, in words, or None."""
    if not STATION.fullmatch(station):
        return f"Invalid station {station!r}: stations are lower-case, like 'grill'"
    return check_address(host, port)


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
