"""PostgreSQL plumbing every Postgres component shares: the URL, and versioned migrations.

Each component (the store, the transcript, the rate limits...) owns an ordered list of SQL
steps. `migrate` applies the steps a database has not seen yet, each in its own transaction,
and records them in `sg_migrations (component, version)`; it holds a transaction-level
advisory lock while it does, so workers starting together never apply a step twice.
`supportgraph db upgrade` runs every component's migrations; each component also runs its own
when it opens, so a fresh database works without the command.

psycopg is imported lazily: the embedded default (SQLite) never needs the driver.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import psycopg

URL_PREFIXES = ("postgresql://", "postgres://")
MIGRATIONS_TABLE = """CREATE TABLE IF NOT EXISTS sg_migrations (
    component TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,
    applied_at TIMESTAMPTZ NOT NULL DEFAULT now(), PRIMARY KEY (component, version))"""
# One advisory lock key for all migrations (any 64-bit number that nothing else uses).
MIGRATION_LOCK = zlib.crc32(b"supportgraph-migrations")
LOCK_POLL_SECONDS = 0.05


class Migration:
    """One step of a component's schema: its version (1, 2, ...), a name, the SQL."""

    def __init__(self, version: int, name: str, sql: str) -> None:
        self.version, self.name, self.sql = version, name, sql

    def __repr__(self) -> str:
        return f"Migration({self.version}, {self.name!r})"


def is_postgres_url(url: str | None) -> bool:
    return bool(url) and str(url).startswith(URL_PREFIXES)


def driver() -> Any:
    """The psycopg module, or a clear error naming the extra that installs it."""
    try:
        import psycopg
    except ImportError as exc:  # pragma: no cover - depends on the install
        raise RuntimeError(
            "PostgreSQL mode needs the driver: pip install 'supportgraph[postgres]'"
        ) from exc
    return psycopg


def connect(url: str, **kwargs: Any) -> psycopg.Connection[Any]:
    """A synchronous connection (autocommit off: `with conn.transaction()` or commit)."""
    return driver().connect(url, **kwargs)  # type: ignore[no-any-return]


def applied(conn: psycopg.Connection[Any], component: str) -> int:
    """The highest version of `component` this database has (0: none)."""
    conn.execute(MIGRATIONS_TABLE)
    row = conn.execute(
        "SELECT coalesce(max(version), 0) FROM sg_migrations WHERE component = %s", (component,)
    ).fetchone()
    return int(row[0]) if row else 0


def hold_migration_lock(conn: psycopg.Connection[Any]) -> None:
    """Take the migrations' session-level advisory lock (released by pg_advisory_unlock or
    when the connection closes), polling instead of waiting in pg_advisory_lock: LangGraph's
    setup, run under this lock, creates indexes CONCURRENTLY, which waits for every older
    transaction, a statement waiting in pg_advisory_lock included. Two processes migrating a
    fresh database at once would wait on each other for ever, out of sight of Postgres's
    deadlock detector (the cycle goes through the holder's client)."""
    while True:
        row = conn.execute("SELECT pg_try_advisory_lock(%s)", (MIGRATION_LOCK,)).fetchone()
        if row is not None and row[0]:
            return
        time.sleep(LOCK_POLL_SECONDS)


def migrate(url: str, component: str, steps: Sequence[Migration]) -> list[Migration]:
    """Apply the steps of `component` this database lacks; the ones applied, in order."""
    versions = [step.version for step in steps]
    if versions != list(range(1, len(steps) + 1)):
        raise ValueError(f"{component}: migration versions must be 1..n in order, got {versions}")
    done: list[Migration] = []
    with connect(url, autocommit=True) as conn:
        # The table is created under the lock (in `applied`): concurrent CREATE TABLE IF NOT
        # EXISTS from workers opening a fresh database together fails on the type's name.
        hold_migration_lock(conn)  # until the connection closes
        for step in steps:
            with conn.transaction():
                if applied(conn, component) >= step.version:
                    continue
                conn.execute(step.sql.encode())  # bytes: the server parses several statements
                conn.execute(
                    "INSERT INTO sg_migrations (component, version, name) VALUES (%s, %s, %s)",
                    (component, step.version, step.name),
                )
                done.append(step)
    return done
