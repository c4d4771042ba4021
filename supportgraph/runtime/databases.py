"""The conversation databases a SupportAgent runs on: checkpointer, transcript and thread locks,
opened together for the settings and closed together; and their schema versions
(`supportgraph db upgrade` / `db status`).

- Embedded (the default): the SQLite file `Settings.checkpoint_path()`, one connection for
  the checkpointer and one for the transcript; locks across processes only when
  `process_locks` is set (`serve --workers N`).
- PostgreSQL (`Settings.postgres_url()`): one connection pool per process shared by the
  checkpointer and the transcript, and a second pool for the thread locks (a held lock keeps
  its connection for the whole turn: in the main pool, held locks could take every connection
  the turns that release them need). Every worker process and host shares the conversations.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from supportgraph.backends import pgdb
from supportgraph.runtime.checkpointer import (
    POSTGRES_CONNECTION,
    open_postgres,
    open_sqlite,
    postgres_pool_kwargs,
)
from supportgraph.runtime.locks import AdvisoryLocks, SqliteLeases, ThreadLocks, release_all
from supportgraph.runtime.transcript import MIGRATIONS as TRANSCRIPT_MIGRATIONS
from supportgraph.runtime.transcript import Transcript

if TYPE_CHECKING:
    from supportgraph.config import Settings

# Per worker process. The main pool serves short trips (LangGraph's saver takes one
# connection at a time); the lock pool holds one connection per thread with a turn running
# in this process: a thread beyond that waits for a free one (a turn is CPU-bound on one core:
# more than a few at once in one worker only queue there). With the store's pool (3) and the
# rate limits' (2), a worker opens at most 19 connections: four workers stay well inside
# PostgreSQL's default max_connections (100) beside the tools that share the server.
POOL_SIZE = (1, 6)
LOCK_POOL_SIZE = (0, 8)
LOCK_WAIT_SECONDS = 300.0  # a lock connection frees up when a turn ends: turns are seconds
# The store's migrations live with its backend (written separately); skipped when absent.
STORE_MODULE = "supportgraph.backends.postgres"


@dataclass
class Conversations:
    checkpointer: Any  # a LangGraph BaseCheckpointSaver
    transcript: Transcript
    locks: ThreadLocks


@asynccontextmanager
async def open_conversations(settings: Settings) -> AsyncIterator[Conversations]:
    """Checkpointer, transcript and locks for the settings, set up, closed on exit."""
    url = settings.postgres_url()
    async with AsyncExitStack() as stack:
        if url is None:
            saver, conn = await open_sqlite(settings.checkpoint_path())
            stack.push_async_callback(conn.close)
            transcript = await Transcript.open(settings.checkpoint_path())
            stack.push_async_callback(transcript.close)
            # Several server workers share the file: lock threads across processes too.
            locks = ThreadLocks(SqliteLeases(transcript.db) if settings.process_locks else None)
        else:
            saver, transcript, locks = await _open_postgres(url, stack)
        await locks.setup()
        yield Conversations(saver, transcript, locks)


async def _open_postgres(url: str, stack: AsyncExitStack) -> tuple[Any, Transcript, ThreadLocks]:
    from psycopg_pool import AsyncConnectionPool

    # Each component applies its own migrations when it opens: a fresh database works
    # without `supportgraph db upgrade` (pgdb.migrate is synchronous: off the event loop).
    await asyncio.to_thread(pgdb.migrate, url, "transcript", TRANSCRIPT_MIGRATIONS)
    pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        url,
        kwargs=postgres_pool_kwargs(),
        min_size=POOL_SIZE[0],
        max_size=POOL_SIZE[1],
        open=False,
        name="supportgraph",
    )
    await pool.open(wait=True)
    stack.push_async_callback(pool.close)
    lock_pool: AsyncConnectionPool[Any] = AsyncConnectionPool(
        url,
        kwargs={"autocommit": True},
        min_size=LOCK_POOL_SIZE[0],
        max_size=LOCK_POOL_SIZE[1],
        timeout=LOCK_WAIT_SECONDS,
        reset=release_all,
        open=False,
        name="supportgraph-locks",
    )
    await lock_pool.open()
    stack.push_async_callback(lock_pool.close)
    saver = await open_postgres(pool)
    return saver, Transcript.on_postgres(pool), ThreadLocks(AdvisoryLocks(lock_pool))


# -- schema versions (supportgraph db upgrade / status) -----------------------------------


class ComponentVersion(NamedTuple):
    component: str
    applied: int  # the database's version
    known: int  # the version this code brings


def _store_migrations() -> tuple[str, list[pgdb.Migration]] | None:
    """The Postgres store's component name and migrations, or None while that backend does
    not exist."""
    try:
        module = importlib.import_module(STORE_MODULE)
    except ModuleNotFoundError as exc:
        if exc.name != STORE_MODULE:
            raise  # the module exists and something it imports is missing: say so
        return None
    migrations = getattr(module, "MIGRATIONS", None)
    if migrations is None:
        return None
    return getattr(module, "COMPONENT", "store"), list(migrations)


def _checkpointer_migrations() -> list[str]:
    from langgraph.checkpoint.postgres import PostgresSaver

    return list(PostgresSaver.MIGRATIONS)


def _components() -> list[tuple[str, list[pgdb.Migration]]]:
    components = [("transcript", list(TRANSCRIPT_MIGRATIONS))]
    store = _store_migrations()
    if store is not None:
        components.append(store)
    return components


def _checkpointer_version(conn: Any) -> int:
    """LangGraph numbers its migrations from 0 (the table of versions itself): the count of
    steps applied, so it compares with the length of its list."""
    row = conn.execute("SELECT to_regclass('checkpoint_migrations')").fetchone()
    if row is None or row[0] is None:
        return 0
    row = conn.execute("SELECT max(v) FROM checkpoint_migrations").fetchone()
    return 0 if row is None or row[0] is None else int(row[0]) + 1


def schema_status(url: str) -> list[ComponentVersion]:
    """Each component's version in the database and the one this code brings."""
    with pgdb.connect(url, autocommit=True) as conn:
        out = [
            ComponentVersion(name, pgdb.applied(conn, name), len(steps))
            for name, steps in _components()
        ]
        out.append(
            ComponentVersion(
                "checkpointer", _checkpointer_version(conn), len(_checkpointer_migrations())
            )
        )
    return out


def upgrade(url: str) -> list[tuple[str, str]]:
    """Apply every component's missing migrations; (component, what was applied) of each."""
    done = [
        (name, f"{step.version} {step.name}")
        for name, steps in _components()
        for step in pgdb.migrate(url, name, steps)
    ]
    before, after = _setup_checkpointer(url)
    if after > before:
        done.append(("checkpointer", f"LangGraph migrations {before + 1}-{after}"))
    return done


def _setup_checkpointer(url: str) -> tuple[int, int]:
    """LangGraph's own setup (synchronous twin of the agent's AsyncPostgresSaver), under the
    migrations' advisory lock; the checkpointer's version before and after."""
    from langgraph.checkpoint.postgres import PostgresSaver
    from psycopg.rows import dict_row

    with (
        pgdb.connect(url, autocommit=True) as lock_conn,
        pgdb.connect(url, **POSTGRES_CONNECTION, row_factory=dict_row) as conn,
    ):
        pgdb.hold_migration_lock(lock_conn)
        before = _checkpointer_version(lock_conn)
        PostgresSaver(conn).setup()
        return before, _checkpointer_version(lock_conn)  # closing lock_conn unlocks
