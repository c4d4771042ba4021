"""One small door to SQL for the conversation database, whichever engine holds it.

The transcript (and the SQLite lease locks) write SQL once, with sqlite3's `?` placeholders,
and run it through `SqlDb`: `all`, `one`, `run`, `transaction`, `executescript`, `scan`.

- `SqliteDb`: one aiosqlite connection in autocommit mode. Every use holds `lock`, so each
  statement sequence runs alone: a commit from another coroutine landing inside one of our
  transactions (or while an `INSERT ... RETURNING` cursor is open) failed with "cannot commit
  transaction - SQL statements in progress" under concurrent load. Transactions are
  `BEGIN IMMEDIATE`: the write lock is taken at the start, not half way through.
- `PostgresDb`: a psycopg AsyncConnectionPool (shared with LangGraph's checkpointer, whose
  connections are autocommit with dict rows). A statement borrows a connection for one trip;
  a transaction holds one connection for its whole length (`conn.transaction()`), so its
  statements commit together. `?` becomes psycopg's `%s` (`to_pyformat`).

psycopg is imported only by the Postgres side: the embedded default never needs the driver.
"""

from __future__ import annotations

import asyncio
import functools
import json
import logging
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, Protocol

import aiosqlite

if TYPE_CHECKING:
    from psycopg import AsyncConnection
    from psycopg_pool import AsyncConnectionPool

log = logging.getLogger("supportgraph")
Row = tuple[Any, ...]
Params = Iterable[Any]
Dialect = Literal["sqlite", "postgres"]
BUSY_TIMEOUT_MS = 10_000
SCAN_PAGE = 500  # rows read per trip: a scan never holds the SQLite connection for long


class SqlRunner(Protocol):
    """Statements with `?` placeholders; rows come back as tuples."""

    async def all(self, sql: str, params: Params = ()) -> list[Row]: ...
    async def one(self, sql: str, params: Params = ()) -> Row | None: ...
    async def run(self, sql: str, params: Params = ()) -> int: ...


class SqlDb(SqlRunner, Protocol):
    """A conversation database. `run` outside a transaction commits on its own."""

    dialect: Dialect

    def transaction(self) -> AbstractAsyncContextManager[SqlRunner]:
        """All statements run through the yielded runner commit together or not at all."""
        ...

    async def executescript(self, script: str) -> None:
        """Several `;`-separated statements without parameters (a schema)."""
        ...

    def scan(self, table: str, column: str) -> AsyncIterator[tuple[str, Any]]:
        """(thread_id, column) of every row of a table of this database, a page at a time
        (nothing when the table does not exist); values are text or bytes."""
        ...

    async def vacuum(self, tables: Sequence[str]) -> bool:
        """Make deleted rows' bytes go away where the engine can (after an erasure); False
        if something kept it from finishing."""
        ...

    async def close(self) -> None: ...


# -- SQLite --------------------------------------------------------------------------------


class _SqliteRunner:
    """Statements on a connection whose lock the caller already holds."""

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    # Each call is one trip to the connection's thread (execute and fetch together): the
    # trips, not SQLite, are most of a small query's time.
    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        return [tuple(r) for r in await self.conn.execute_fetchall(sql, tuple(params))]

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    async def run(self, sql: str, params: Params = ()) -> int:
        cursor = await self.conn.execute(sql, tuple(params))
        return int(cursor.rowcount)  # a finished statement: closing it is not needed


class SqliteDb:
    dialect: Dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn
        self.lock = asyncio.Lock()
        self._runner = _SqliteRunner(conn)

    @classmethod
    async def open(cls, path: Path) -> SqliteDb:
        """Its own connection to the database file, in autocommit mode: transactions are
        explicit (`transaction()`), so nothing commits half of one."""
        path.parent.mkdir(parents=True, exist_ok=True)
        conn = await aiosqlite.connect(str(path), isolation_level=None)
        await conn.execute("PRAGMA journal_mode=WAL")
        await conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
        await conn.execute("PRAGMA synchronous=NORMAL")
        await conn.execute("PRAGMA secure_delete=ON")  # freed pages are overwritten (erasure)
        return cls(conn)

    async def close(self) -> None:
        await self.conn.close()

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self.lock:
            return await self._runner.all(sql, params)

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        async with self.lock:
            return await self._runner.one(sql, params)

    async def run(self, sql: str, params: Params = ()) -> int:
        async with self.lock:
            return await self._runner.run(sql, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlRunner]:
        async with self.lock:
            await self.conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._runner
            except BaseException:
                await self.conn.execute("ROLLBACK")
                raise
            await self.conn.execute("COMMIT")

    async def executescript(self, script: str) -> None:
        async with self.lock:
            await self.conn.executescript(script)
            await self.conn.commit()

    async def scan(self, table: str, column: str) -> AsyncIterator[tuple[str, Any]]:
        # Pages by rowid, each read under the lock: conversations go on between pages.
        if await self.one("SELECT 1 FROM sqlite_master WHERE name = ?", (table,)) is None:
            return
        last = 0
        while True:
            rows = await self.all(
                f"SELECT rowid, thread_id, {column} FROM {table} WHERE rowid > ? "
                "ORDER BY rowid LIMIT ?",
                (last, SCAN_PAGE),
            )
            for _, thread_id, value in rows:
                yield thread_id, value
            if len(rows) < SCAN_PAGE:
                return
            last = rows[-1][0]

    async def vacuum(self, tables: Sequence[str]) -> bool:
        # Deleted rows are already overwritten (secure_delete); what is left is the old WAL
        # frames: fold the log into the file and truncate it to zero bytes.
        row = await self.one("PRAGMA wal_checkpoint(TRUNCATE)")
        return row is not None and row[0] == 0


# -- PostgreSQL ----------------------------------------------------------------------------


@functools.lru_cache(maxsize=512)
def to_pyformat(sql: str) -> str:
    """The statement with sqlite3's `?` placeholders written as psycopg's `%s`. psycopg reads
    every `%` as the start of a placeholder (inside quotes too), so a literal `%` is doubled;
    a `?` inside a quoted string or identifier is text, not a placeholder."""
    out: list[str] = []
    quote: str | None = None
    for char in sql:
        if char == "%":
            out.append("%%")
            continue
        if quote is not None:
            if char == quote:  # a doubled quote ('it''s') closes and reopens: same result
                quote = None
        elif char in "'\"":
            quote = char
        elif char == "?":
            out.append("%s")
            continue
        out.append(char)
    return "".join(out)


def _as_stored(value: Any) -> Any:
    """A column value as SQLite would hand it over: text or bytes (JSONB arrives decoded)."""
    if value is None or isinstance(value, str | bytes):
        return value
    if isinstance(value, memoryview):
        return bytes(value)
    return json.dumps(value, ensure_ascii=False)


class _PostgresRunner:
    """Statements on one connection (a pooled one for one trip, or a transaction's)."""

    def __init__(self, conn: AsyncConnection[Any]) -> None:
        self.conn = conn

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        from psycopg.rows import tuple_row

        # The pool's connections make dict rows (LangGraph's checkpointer needs them); the
        # transcript reads tuples, like sqlite3.
        async with self.conn.cursor(row_factory=tuple_row) as cur:
            await cur.execute(to_pyformat(sql), tuple(params))
            return await cur.fetchall() if cur.description is not None else []

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    async def run(self, sql: str, params: Params = ()) -> int:
        async with self.conn.cursor() as cur:
            await cur.execute(to_pyformat(sql), tuple(params))
            return int(cur.rowcount)


class PostgresDb:
    dialect: Dialect = "postgres"

    def __init__(self, pool: AsyncConnectionPool[Any]) -> None:
        self.pool = pool

    async def close(self) -> None:
        """The pool belongs to whoever opened it (it is shared with the checkpointer)."""

    async def all(self, sql: str, params: Params = ()) -> list[Row]:
        async with self.pool.connection() as conn:
            return await _PostgresRunner(conn).all(sql, params)

    async def one(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.all(sql, params)
        return rows[0] if rows else None

    async def run(self, sql: str, params: Params = ()) -> int:
        async with self.pool.connection() as conn:
            return await _PostgresRunner(conn).run(sql, params)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqlRunner]:
        async with self.pool.connection() as conn, conn.transaction():
            yield _PostgresRunner(conn)

    async def executescript(self, script: str) -> None:
        async with self.pool.connection() as conn:
            # Unprepared and without parameters: the server parses several statements.
            await conn.execute(script.encode(), prepare=False)

    async def scan(self, table: str, column: str) -> AsyncIterator[tuple[str, Any]]:
        from psycopg.rows import tuple_row

        # One server-side cursor read a page at a time: MVCC gives the scan its own snapshot,
        # so nothing else waits for it.
        if await self.one("SELECT to_regclass(?)", (table,)) == (None,):
            return
        async with self.pool.connection() as conn, conn.transaction():
            cursor = conn.cursor(f"sg_scan_{table}", row_factory=tuple_row)
            cursor.itersize = SCAN_PAGE
            async with cursor:
                await cursor.execute(f"SELECT thread_id, {column} FROM {table}")
                async for thread_id, value in cursor:
                    yield thread_id, _as_stored(value)

    async def vacuum(self, tables: Sequence[str]) -> bool:
        # Postgres keeps a deleted row as a dead tuple until VACUUM reclaims its space (there
        # is no secure_delete); VACUUM cannot run inside a transaction: an autocommit trip.
        existing = [t for t in tables if await self.one("SELECT to_regclass(?)", (t,)) != (None,)]
        if not existing:
            return True
        try:
            async with self.pool.connection() as conn:
                await conn.execute(f"VACUUM {', '.join(existing)}".encode(), prepare=False)
        except Exception:
            log.warning("VACUUM of %s failed", ", ".join(existing), exc_info=True)
            return False
        return True
