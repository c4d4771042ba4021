"""Checkpointer factory: LangGraph's savers, one per process.

- SQLite (the embedded default): AsyncSqliteSaver on its own connection, WAL mode, busy
  timeout.
- PostgreSQL: AsyncPostgresSaver over the process's connection pool (autocommit, no
  server-side prepared statement reuse, dict rows: what the saver's queries expect).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiosqlite
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from supportgraph.backends.pgdb import LOCK_POLL_SECONDS, MIGRATION_LOCK

if TYPE_CHECKING:
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver
    from psycopg_pool import AsyncConnectionPool

BUSY_TIMEOUT_MS = 10_000
# The connection settings AsyncPostgresSaver's documentation requires of its pool.
POSTGRES_CONNECTION = {"autocommit": True, "prepare_threshold": 0}


async def open_sqlite(path: Path) -> tuple[AsyncSqliteSaver, aiosqlite.Connection]:
    """The saver and its connection (the caller closes it: an open one hangs process exit)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = await aiosqlite.connect(str(path))
    # WAL lets readers proceed during a write; the busy timeout absorbs other processes'
    # short write locks instead of failing with "database is locked".
    await conn.execute("PRAGMA journal_mode=WAL")
    await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    await conn.execute("PRAGMA synchronous=NORMAL")
    await conn.execute("PRAGMA secure_delete=ON")  # freed pages are overwritten (erasure)
    saver = AsyncSqliteSaver(conn)
    await saver.setup()
    return saver, conn


def postgres_pool_kwargs() -> dict[str, Any]:
    """The `kwargs` of an AsyncConnectionPool the saver can use."""
    from psycopg.rows import dict_row

    return {**POSTGRES_CONNECTION, "row_factory": dict_row}


async def open_postgres(pool: AsyncConnectionPool[Any]) -> AsyncPostgresSaver:
    """The saver over an open pool made with `postgres_pool_kwargs()`, its tables set up.

    The saver's `setup()` reads its version and applies what is missing without a lock of
    its own: workers starting together on a fresh database would apply the same step twice.
    It runs under the advisory lock every component's migrations take (backends/pgdb.py)."""
    from langgraph.checkpoint.postgres.aio import AsyncPostgresSaver

    saver = AsyncPostgresSaver(pool)  # type: ignore[arg-type]
    async with pool.connection() as conn:
        # Polled, not waited for: see pgdb.hold_migration_lock.
        while True:
            cursor = await conn.execute(
                "SELECT pg_try_advisory_lock(%s) AS taken", (MIGRATION_LOCK,)
            )
            row = await cursor.fetchone()
            if row is not None and row["taken"]:
                break
            await asyncio.sleep(LOCK_POLL_SECONDS)
        try:
            await saver.setup()
        finally:
            await conn.execute("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))
    return saver
