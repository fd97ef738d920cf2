"""The database as the routes use it: serialised write transactions that publish what they commit."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from typing import TypeVar

import sqlalchemy as sa
from sqlalchemy.engine import Engine

from ..changes import ChangeHub
from .writer import Writer, write_transaction

T = TypeVar("T")


class Database:
    def __init__(self, engine: Engine, hub: ChangeHub) -> None:
        self.engine = engine
        self.hub = hub
        # Held across commit and hand-over, so this process publishes batches in commit order.
        self._write_lock = threading.Lock()

    def write(self, fn: Callable[[Writer], T]) -> T:
        with self._write_lock:
            with write_transaction(self.engine) as writer:
                result = fn(writer)
            self.hub.publish_threadsafe(writer.changes)
        return result

    def read(self, fn: Callable[[sa.Connection], T]) -> T:
        with self.engine.connect() as conn, conn.begin():
            return fn(conn)

    async def awrite(self, fn: Callable[[Writer], T]) -> T:
        return await asyncio.to_thread(self.write, fn)

    async def aread(self, fn: Callable[[sa.Connection], T]) -> T:
        return await asyncio.to_thread(self.read, fn)
