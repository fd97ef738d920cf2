"""Supabase Realtime, as the companion speaks it: Phoenix channels over a websocket at `/realtime/v1/websocket`.

A sans-I/O core (`protocol`, `filters`, `payloads`, `presence`, `channel_state`, `router`) decides every
frame; `server` and `pg_listener` are the thin asyncio pumps around it.
"""
