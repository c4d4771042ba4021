"""Per-thread locks: turns on one thread run one after the other, in arrival order.

In one process an asyncio.Lock per thread is enough (FIFO). With several server workers a
cross-process lock stands behind it (the asyncio lock stays in front: waiters of one process
queue there, and only the first of them asks the database):

- SQLite (`SqliteLeases`, when `serve --workers N` sets `process_locks`): a lease row in the
  shared database file; a lease expires, so a worker that died mid-turn cannot block its
  thread for ever.
- PostgreSQL (`AdvisoryLocks`, always on): a session-level advisory lock on the thread's key,
  held on a connection of its own for the turn. Waiters queue in the server in arrival order,
  and a worker that dies loses its connection, which releases its locks.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import time
import uuid
import weakref
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

    from supportgraph.runtime.sqldb import SqlRunner

log = logging.getLogger("supportgraph")
LEASE_SECONDS = 60.0
SCHEMA = """CREATE TABLE IF NOT EXISTS sg_locks (
    thread_id TEXT PRIMARY KEY, holder TEXT NOT NULL, expires REAL NOT NULL)"""
# Advisory lock keys are one 64-bit space shared by everything in the database: the thread
# keys are hashed with this personalisation, so they are no other component's numbers.
KEY_PERSON = b"sg-thread-lock"


class ProcessLock(Protocol):
    """A lock on a thread shared by every worker process of the database."""

    async def setup(self) -> None: ...
    def hold(self, thread_id: str) -> AbstractAsyncContextManager[None]: ...


class ThreadLocks:
    def __init__(self, across: ProcessLock | None = None) -> None:
        self.across = across  # None: this process is the only one serving these threads
        self._local: weakref.WeakValueDictionary[str, asyncio.Lock] = weakref.WeakValueDictionary()

    @property
    def shared(self) -> bool:
        """Other processes serve the same threads (their turns are locked out too)."""
        return self.across is not None

    async def setup(self) -> None:
        if self.across is not None:
            await self.across.setup()

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
            if self.across is None:
                yield
                return
            async with self.across.hold(thread_id):
                yield


class SqliteLeases:
    """A lease row per held thread in the shared SQLite file (polled: SQLite has no waiting
    lock a process could queue on)."""

    def __init__(self, db: SqlRunner) -> None:
        self.db = db
        self.holder = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"

    async def setup(self) -> None:
        await self.db.run(SCHEMA)

    @asynccontextmanager
    async def hold(self, thread_id: str) -> AsyncIterator[None]:
        await self._acquire(thread_id)
        try:
            yield
        finally:
            await self.db.run(
                "DELETE FROM sg_locks WHERE thread_id = ? AND holder = ?",
                (thread_id, self.holder),
            )

    async def _acquire(self, thread_id: str) -> None:
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


def advisory_key(thread_id: str) -> int:
    """The thread's advisory lock key: a stable signed 64-bit hash (the same in every
    process and version: Python's own hash() is salted per process)."""
    digest = hashlib.blake2b(thread_id.encode(), digest_size=8, person=KEY_PERSON).digest()
    return int.from_bytes(digest, "big", signed=True)


async def release_all(conn: AsyncConnection[Any]) -> None:
    """The lock pool's reset: a connection goes back to the pool holding no lock, even when
    its turn was cancelled between being granted the lock and recording it."""
    await conn.execute("SELECT pg_advisory_unlock_all()")


class AdvisoryLocks:
    """`pg_advisory_lock` on a connection of a pool of their own: a held lock keeps its
    connection for the whole turn, and the turn's own queries use the main pool, so held
    locks can never starve the turns that would release them. The pool's `reset` must be
    `release_all`."""

    def __init__(self, pool: AsyncConnectionPool[Any]) -> None:
        self.pool = pool

    async def setup(self) -> None:
        """Nothing to create: advisory locks need no table."""

    @asynccontextmanager
    async def hold(self, thread_id: str) -> AsyncIterator[None]:
        key = advisory_key(thread_id)
        async with self.pool.connection() as conn:
            await conn.execute("SELECT pg_advisory_lock(%s)", (key,))
            try:
                yield
            finally:
                try:
                    await conn.execute("SELECT pg_advisory_unlock(%s)", (key,))
                except Exception:
                    # The connection is gone, and its locks with it: the pool drops it. The
                    # turn's own writes are committed; failing it now would only lose its reply.
                    log.warning("thread lock of %s: the lock connection was lost", thread_id)
