"""Per-thread locks: turns on one thread run one after the other, in arrival order.

In one process an asyncio.Lock per thread is enough (FIFO). With several server workers,
a lease row in the shared SQLite database serializes turns across processes too; a lease
expires, so a worker that died mid-turn cannot block its thread for ever.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
import weakref
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from supportgraph.runtime.transcript import Transcript

LEASE_SECONDS = 60.0
SCHEMA = """CREATE TABLE IF NOT EXISTS sg_locks (
    thread_id TEXT PRIMARY KEY, holder TEXT NOT NULL, expires REAL NOT NULL)"""


class ThreadLocks:
    def __init__(self, db: Transcript | None = None) -> None:
        self.db = db  # None: this process is the only one serving these threads
        self.holder = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self._local: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    async def setup(self) -> None:
        if self.db is not None:
            await self.db.run(SCHEMA)

    def local(self, thread_id: str) -> asyncio.Lock:
        lock = self._local.get(thread_id)
        if lock is None:
            lock = asyncio.Lock()
            self._local[thread_id] = lock
        return lock

    def busy(self, thread_id: str) -> bool:
        lock = self._local.get(thread_id)
        return bool(lock and lock.locked())

    @asynccontextmanager
    async def hold(self, thread_id: str) -> AsyncIterator[None]:
        async with self.local(thread_id):
            if self.db is None:
                yield
                return
            await self._acquire(thread_id)
            try:
                yield
            finally:
                await self.db.run(
                    "DELETE FROM sg_locks WHERE thread_id = ? AND holder = ?",
                    (thread_id, self.holder),
                )

    async def _acquire(self, thread_id: str) -> None:
        assert self.db is not None
        delay = 0.002
        while True:
            now = time.time()
            taken = await self.db.run(
                "INSERT INTO sg_locks VALUES (?, ?, ?) ON CONFLICT(thread_id) DO UPDATE SET "
                "holder = excluded.holder, expires = excluded.expires WHERE sg_locks.expires < ?",
                (thread_id, self.holder, now + LEASE_SECONDS, now),
            )
            if taken == 1:
                return
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.05)
