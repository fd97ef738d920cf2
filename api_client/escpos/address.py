"""A network printer's address as people write it: `host`, `host:port` or `[v6]:port`, port 9100 by default."""

from __future__ import annotations

import ipaddress
import re

DEFAULT_PORT = 9100
"""Raw printing ("JetDirect", AppSocket): what ESC/POS network printers listen on."""

_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9-]{1,63}(?<!-)")


def check_address(host: str, port: int) -> str | None:
    """What is wrong with this printer's host or port, in words, or None."""
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
