"""A station's backup printer (issue 19 item 3): `GET /api/v1/station-printers` for any device of the restaurant,
with whether each station has a screen online, is printing, and its unprinted jobs; `PUT` and `DELETE
/api/v1/station-printers/{station}` for an admin device."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api_client.models import DeviceRole

from ..auth.deps import CurrentCaller, require_roles
from ..errors import ApiError, bad_request
from ..printing.config import DEFAULT_PORT, check_printer, list_printers, remove_printer, set_printer
from ..printing.jobs import Printer
from ..printing.worker import BackupPrinting

router = APIRouter(prefix="/api/v1", tags=["Backup printers"])

StationName = Annotated[str, Path(pattern=r"^[a-z0-9_-]{1,40}$", description="A station, like 'grill'")]

RESPONSES: dict[int | str, dict[str, Any]] = {
    401: {"description": "Missing, expired or forged token"},
    429: {"description": "Rate limited; see Retry-After"},
}
WRITE_RESPONSES: dict[int | str, dict[str, Any]] = {
    **RESPONSES,
    400: {"description": "The printer's host or port is not a usable address"},
    403: {"description": "Only an admin device may name or remove a printer"},
    404: {"description": "The station has no printer"},
    422: {"description": "Body is not {host, port}"},
}


class PrinterAddress(BaseModel):
    model_config = ConfigDict(extra="forbid")
    host: Annotated[str, Field(min_length=1, max_length=253, description="IP address or host name")]
    port: Annotated[int, Field(ge=1, le=65535)] = DEFAULT_PORT


class StationPrinter(BaseModel):
    station: str
    host: str
    port: int
    screen_online: bool
    """A screen of the station is in Realtime presence now."""
    printing: bool
    """No screen for KDS_BACKUP_PRINT_AFTER seconds: new and changed tickets print."""
    pending_jobs: int
    last_error: str | None
    """Why the last try to print failed (it is being retried), or None."""
    through_seq: int | None
    """Changes up to this change_seq count as seen by the station's screens or queued for its printer."""


class StationPrinters(BaseModel):
    printers: list[StationPrinter]
    print_after_s: float


@router.get("/station-printers", responses=RESPONSES)
async def get_station_printers(request: Request, caller: CurrentCaller) -> StationPrinters:
    """The restaurant's backup printers and how each is doing."""
    found = await request.app.state.db.aread(lambda c: list_printers(c, caller.restaurant_id))
    worker: BackupPrinting | None = getattr(request.app.state, "backup_printing", None)
    out = []
    for printer, pending in found:
        state = worker.status.get(printer.key) if worker is not None else None
        out.append(
            StationPrinter(
                station=printer.station,
                host=printer.host,
                port=printer.port,
                screen_online=state is not None and state.screen_online,
                printing=state is not None and state.printing,
                pending_jobs=pending,
                last_error=state.last_error if state is not None else None,
                through_seq=state.through_seq if state is not None else None,
            )
        )
    return StationPrinters(printers=out, print_after_s=request.app.state.settings.backup_print_after_s)


@router.put("/station-printers/{station}", responses=WRITE_RESPONSES)
async def put_station_printer(
    station: StationName, body: PrinterAddress, request: Request, caller: CurrentCaller
) -> StationPrinters:
    """Name the station's ESC/POS network printer (admin). Tickets already on screens never print; from now on,
    while no screen of the station is online, its new and changed tickets do."""
    require_roles(caller, {DeviceRole.admin}, "name a station's printer")
    problem = check_printer(station, body.host, body.port)
    if problem is not None:
        raise bad_request("KDS400", problem)
    printer = Printer(caller.restaurant_id, station, body.host, body.port)
    await request.app.state.db.awrite(lambda w: set_printer(w, printer))
    return await get_station_printers(request, caller)


@router.delete("/station-printers/{station}", status_code=204, responses=WRITE_RESPONSES)
async def delete_station_printer(station: StationName, request: Request, caller: CurrentCaller) -> Response:
    """Stop backup printing for the station (admin). Jobs not printed yet are kept for a printer named again."""
    require_roles(caller, {DeviceRole.admin}, "remove a station's printer")
    removed = await request.app.state.db.awrite(lambda w: remove_printer(w, caller.restaurant_id, station))
    if not removed:
        raise ApiError(404, "KDS404", f"Station {station!r} has no printer")
    return Response(status_code=204)
