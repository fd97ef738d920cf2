"""Supabase Realtime (Phoenix channels) client: a sans-I/O core (`phoenix`) and a `websockets` pump (`connection`)."""
