"""The kitchen hub in front of an upstream server (a Supabase project or another companion).

`kds-backend serve --upstream URL` mirrors its restaurant from upstream and serves it to the screens on the LAN
with the same REST, RPC and Realtime as ever, so the screens keep syncing with each other when the internet
drops. Down the wire, the hub follows upstream with the screens' own sync engine (`sync.engine.SyncEngine`: Realtime
as a hint, REST catch-up, snapshots on a gap) into a store of its own, and projects what that store shows onto its
database (`projection`). Up the wire, an intent a LAN screen sends is applied at the hub at once and queued, in the
same write, in that engine's outbox, which forwards it upstream exactly once, keeping its id and device. What the
hub shows is upstream's rows with its unanswered intents on top; one upstream rejects is rolled back (`mirror`).
"""
