"""The embedded sync engine: Qt-free asyncio around sans-I/O cores (realtime, catch-up, outbox)."""
