"""Supabase Realtime (Phoenix channels) client for the engine.

- `phoenix.PhoenixClient`: the sans-I/O core (frames and time in; frames, reconnects, token requests and events out).
- `connection.RealtimeConnection`: the asyncio/`websockets` pump around it, with an observable `state`
  (connecting | joining | live | reconnecting | offline), `events()` and `add_handler()`.

    conn = RealtimeConnection(
        "https://<ref>.supabase.co",  # or the companion's http://host:port
        anon_key,
        [ChannelSpec("kitchen", (Binding("orders", filter="restaurant_id=eq.r1"),))],
        token_provider=session_tokens,
    )
    async with conn:
        async for event in conn.events():
            ...  # LiveAgain → catch up over REST; ChangeEvent → apply by row version
"""
