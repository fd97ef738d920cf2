"""ESC/POS slips for a kitchen's network printers, shared by the companion's backup printer (kds_backend/printing)
and a screen's own printer (kds_app/printing): `slip` lays a ticket out and renders its bytes, `transport` sends
them to the printer's TCP port, `address` reads "host" or "host:port". Nothing here knows a server or a screen."""
