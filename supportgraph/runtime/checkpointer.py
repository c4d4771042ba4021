"""Checkpointer factory: one AsyncSqliteSaver per process, WAL mode, busy timeout."""

from __future__ import annotations

from pathlib import Path

import aiosqlite
from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

BUSY_TIMEOUT_MS = 10_000


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
