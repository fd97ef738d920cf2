"""The server's data-path heartbeat: a broadcast on a restaurant's sync channel every few seconds.

A Phoenix `heartbeat` reply proves only the socket; Square's screens and ElectricSQL's clients had healthy
sockets while no data reached them (reference/sync-lessons.md). So the server also sends this broadcast, from
where its changes come from, to the channel its changes go to: a screen that stops hearing it while its socket
looks fine knows its data path is stuck (sync/realtime/watchdog.py).

- companion: kds_backend/realtime (a lifespan task, every `HEARTBEAT_EVERY_S`, to every restaurant with a screen
  on its `postgres_changes` channel `kds-<id>` or its private topic `kds:<id>`);
- Supabase: supabase/migrations/..._server_heartbeat.sql (`public.kds_heartbeat()` run by pg_cron every 5 s,
  sending through `realtime.send` into both topics: Broadcast from Database's own path).

An old server sends none; a screen then never arms its watchdog (see there) and nothing else changes.
"""

from __future__ import annotations

HEARTBEAT_EVENT = "kds_heartbeat"
HEARTBEAT_EVERY_S = 5.0
