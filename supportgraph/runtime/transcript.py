"""The full transcript: every TurnRecord of every thread, written once per turn.

Checkpointed state keeps only a bounded window, so history, replay and exports read
from here. It lives beside the checkpoints: in the checkpoint database file (its own
connection: the checkpointer commits on its own schedule) or in the PostgreSQL database
(the checkpointer's connection pool). The SQL is written once, with `?` placeholders, for
both engines; `sqldb.py` runs it (SqliteDb, PostgresDb). The Postgres tables are created by
versioned migrations (`MIGRATIONS`, component "transcript"), the SQLite ones by `SCHEMA`.

A turn is written atomically: the customer's message is first kept in `sg_inflight`
(committed before the graph runs); the record, its node steps, the thread summary, the
handoff queue and the removal of the in-flight row then commit in one transaction. A
message whose in-flight row survives a crash is recovered by the agent on restart.
"""

from __future__ import annotations

import json
import time
import zlib
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from supportgraph.backends.pgdb import Migration
from supportgraph.domain.records import TurnRecord
from supportgraph.runtime.sqldb import Params, PostgresDb, SqlDb, SqliteDb, SqlRunner

if TYPE_CHECKING:
    from psycopg_pool import AsyncConnectionPool

SCHEMA = """
CREATE TABLE IF NOT EXISTS sg_turns (
    thread_id TEXT NOT NULL, seq INTEGER NOT NULL, turn INTEGER NOT NULL,
    author TEXT NOT NULL, record TEXT NOT NULL, created_at REAL NOT NULL,
    PRIMARY KEY (thread_id, seq));
CREATE TABLE IF NOT EXISTS sg_threads (
    thread_id TEXT PRIMARY KEY, created_at REAL NOT NULL, updated_at REAL NOT NULL,
    turns INTEGER NOT NULL DEFAULT 0, language TEXT, last_intent TEXT, escalation TEXT,
    customer_id TEXT);
CREATE TABLE IF NOT EXISTS sg_handoffs (
    thread_id TEXT PRIMARY KEY, status TEXT NOT NULL, priority TEXT, reason TEXT,
    summary TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL, claimed_by TEXT);
CREATE TABLE IF NOT EXISTS sg_steps (
    thread_id TEXT NOT NULL, turn INTEGER NOT NULL, seq INTEGER NOT NULL, steps BLOB NOT NULL,
    PRIMARY KEY (thread_id, seq));
CREATE TABLE IF NOT EXISTS sg_thread_meta (
    thread_id TEXT PRIMARY KEY, owner TEXT, metadata TEXT NOT NULL, created_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sg_inflight (
    thread_id TEXT PRIMARY KEY, turn INTEGER NOT NULL, kind TEXT NOT NULL,
    payload TEXT NOT NULL, client_message_id TEXT, received_at REAL NOT NULL);
CREATE TABLE IF NOT EXISTS sg_message_ids (
    thread_id TEXT NOT NULL, client_message_id TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (thread_id, client_message_id));
CREATE TABLE IF NOT EXISTS sg_branches (
    thread_id TEXT PRIMARY KEY, parent_thread TEXT NOT NULL, parent_checkpoint TEXT,
    from_turn INTEGER NOT NULL, store_path TEXT NOT NULL, origin_started_at REAL NOT NULL,
    clock_offset REAL NOT NULL, created_at REAL NOT NULL);
"""
# The same tables in PostgreSQL (BLOB -> BYTEA, REAL -> DOUBLE PRECISION), as versioned steps:
# never edit an applied step, add one.
MIGRATIONS = [
    Migration(
        1,
        "transcript tables",
        """
CREATE TABLE sg_turns (
    thread_id TEXT NOT NULL, seq INTEGER NOT NULL, turn INTEGER NOT NULL,
    author TEXT NOT NULL, record TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (thread_id, seq));
CREATE TABLE sg_threads (
    thread_id TEXT PRIMARY KEY, created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL, turns INTEGER NOT NULL DEFAULT 0, language TEXT,
    last_intent TEXT, escalation TEXT, customer_id TEXT);
CREATE INDEX sg_threads_updated ON sg_threads (updated_at DESC);
CREATE TABLE sg_handoffs (
    thread_id TEXT PRIMARY KEY, status TEXT NOT NULL, priority TEXT, reason TEXT,
    summary TEXT NOT NULL, created_at DOUBLE PRECISION NOT NULL,
    updated_at DOUBLE PRECISION NOT NULL, claimed_by TEXT);
CREATE TABLE sg_steps (
    thread_id TEXT NOT NULL, turn INTEGER NOT NULL, seq INTEGER NOT NULL, steps BYTEA NOT NULL,
    PRIMARY KEY (thread_id, seq));
CREATE TABLE sg_thread_meta (
    thread_id TEXT PRIMARY KEY, owner TEXT, metadata TEXT NOT NULL,
    created_at DOUBLE PRECISION NOT NULL);
CREATE TABLE sg_inflight (
    thread_id TEXT PRIMARY KEY, turn INTEGER NOT NULL, kind TEXT NOT NULL,
    payload TEXT NOT NULL, client_message_id TEXT, received_at DOUBLE PRECISION NOT NULL);
CREATE TABLE sg_message_ids (
    thread_id TEXT NOT NULL, client_message_id TEXT NOT NULL, seq INTEGER NOT NULL,
    PRIMARY KEY (thread_id, client_message_id));
CREATE TABLE sg_branches (
    thread_id TEXT PRIMARY KEY, parent_thread TEXT NOT NULL, parent_checkpoint TEXT,
    from_turn INTEGER NOT NULL, store_path TEXT NOT NULL,
    origin_started_at DOUBLE PRECISION NOT NULL, clock_offset DOUBLE PRECISION NOT NULL,
    created_at DOUBLE PRECISION NOT NULL);
CREATE INDEX sg_branches_parent ON sg_branches (parent_thread);
""",
    ),
]
# Every table that holds a thread's rows (delete_thread empties them all).
TABLES = (
    "sg_turns",
    "sg_threads",
    "sg_handoffs",
    "sg_thread_meta",
    "sg_steps",
    "sg_branches",
    "sg_inflight",
    "sg_message_ids",
)
# A copied record names its new thread: the one statement the two engines spell differently.
RETHREAD_RECORD = {
    "sqlite": "json_set(record, '$.thread_id', ?)",
    "postgres": "jsonb_set(record::jsonb, '{thread_id}', to_jsonb(?::text))::text",
}
BRANCH_FIELDS = (
    "thread_id",
    "parent_thread",
    "parent_checkpoint",
    "from_turn",
    "store_path",
    "origin_started_at",
    "clock_offset",
    "created_at",
)
PRIORITY_RANK = (
    "CASE priority WHEN 'critical' THEN 0 WHEN 'high' THEN 1 WHEN 'medium' THEN 2 ELSE 3 END"
)

# The checkpointer's tables in PostgreSQL (the same database): an erasure vacuums them too.
POSTGRES_CHECKPOINT_TABLES = ("checkpoints", "checkpoint_blobs", "checkpoint_writes")


class Transcript:
    def __init__(self, db: SqlDb) -> None:
        self.db = db
        # The SQLite connection and its lock (privacy scans and the crash tests use them); on
        # PostgreSQL the pool, which is also the checkpointer's `conn`.
        self.conn: Any = db.conn if isinstance(db, SqliteDb) else getattr(db, "pool", None)
        self.lock: Any = db.lock if isinstance(db, SqliteDb) else None

    @property
    def dialect(self) -> str:
        return self.db.dialect

    @classmethod
    async def open(cls, path: Path) -> Transcript:
        """On the SQLite database file (its own connection), with its tables."""
        transcript = cls(await SqliteDb.open(path))
        await transcript.setup()
        return transcript

    @classmethod
    def on_postgres(cls, pool: AsyncConnectionPool[Any]) -> Transcript:
        """On a PostgreSQL pool whose database has the transcript's migrations applied
        (`supportgraph.backends.pgdb.migrate(url, "transcript", MIGRATIONS)`)."""
        return cls(PostgresDb(pool))

    async def close(self) -> None:
        await self.db.close()

    async def setup(self) -> None:
        if self.db.dialect == "sqlite":  # Postgres: the migrations made the tables
            await self.db.executescript(SCHEMA)

    async def _all(self, sql: str, params: Params = ()) -> list[Any]:
        return await self.db.all(sql, params)

    async def _one(self, sql: str, params: Params = ()) -> Any:
        return await self.db.one(sql, params)

    async def run(self, sql: str, params: Params = ()) -> int:
        """One statement in its own transaction; the number of rows it changed."""
        return await self.db.run(sql, params)

    def transaction(self) -> AbstractAsyncContextManager[SqlRunner]:
        """All statements inside commit together or not at all."""
        return self.db.transaction()

    def scan(self, table: str, column: str) -> AsyncIterator[tuple[str, Any]]:
        """(thread_id, column) of every row of a table in this database (a page at a time;
        nothing for a table that does not exist): what an erasure searches."""
        return self.db.scan(table, column)

    async def last_turn(self, thread_id: str) -> int:
        row = await self._one("SELECT turns FROM sg_threads WHERE thread_id = ?", (thread_id,))
        return int(row[0]) if row else 0

    # -- messages in flight and idempotent messages ----------------------------------------

    async def begin_turn(
        self,
        thread_id: str,
        turn: int,
        kind: str,
        payload: dict[str, Any],
        client_message_id: str | None,
        received_at: float,
    ) -> None:
        """Keep the message before the graph runs: if the process dies mid-turn, the row
        says which message to recover (`inflight`)."""
        await self.run(
            "INSERT INTO sg_inflight VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT(thread_id) DO UPDATE "
            "SET turn = excluded.turn, kind = excluded.kind, payload = excluded.payload, "
            "client_message_id = excluded.client_message_id, received_at = excluded.received_at",
            (
                thread_id,
                turn,
                kind,
                json.dumps(payload, ensure_ascii=False),
                client_message_id,
                received_at,
            ),
        )

    async def inflight(self, thread_id: str | None = None) -> list[dict[str, Any]]:
        """Messages whose turn started and never committed (all threads, or one)."""
        rows = await self._all(
            "SELECT thread_id, turn, kind, payload, client_message_id, received_at "
            "FROM sg_inflight" + (" WHERE thread_id = ?" if thread_id else ""),
            (thread_id,) if thread_id else (),
        )
        keys = ("thread_id", "turn", "kind", "payload", "client_message_id", "received_at")
        out = [dict(zip(keys, r, strict=True)) for r in rows]
        for item in out:
            item["payload"] = json.loads(item["payload"])
        return out

    async def record_for_message(self, thread_id: str, client_message_id: str) -> TurnRecord | None:
        """The TurnRecord a client message id already produced (a retried message)."""
        row = await self._one(
            "SELECT t.record FROM sg_message_ids m JOIN sg_turns t "
            "ON t.thread_id = m.thread_id AND t.seq = m.seq "
            "WHERE m.thread_id = ? AND m.client_message_id = ?",
            (thread_id, client_message_id),
        )
        return TurnRecord.model_validate_json(row[0]) if row else None

    async def commit_turn(
        self,
        record: TurnRecord,
        customer_id: str | None = None,
        steps: list[dict[str, Any]] | None = None,
        handoff: tuple[str, Any] | None = None,
        client_message_id: str | None = None,
        recovered: bool = False,
    ) -> None:
        """The record, its node steps, the thread summary, the handoff queue change
        (("open", summary), ("active", None) or ("close", None)) and the end of the
        in-flight message: one transaction. A `recovered` turn's customer never got the
        reply: its in-flight row stays, marked, so the customer's retry gets this record."""
        now = record.created_at or time.time()
        data = record.model_dump_json()
        async with self.transaction() as conn:
            # The RETURNING row is read in the same trip, under the lock: no statement is left
            # open for another coroutine's commit to collide with. Turns on one thread run one
            # at a time (locks.py), so no other transaction takes the same seq meanwhile.
            rows = await conn.all(
                "INSERT INTO sg_turns (thread_id, seq, turn, author, record, created_at) VALUES "
                "(?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM sg_turns WHERE thread_id = ?), "
                "?, ?, ?, ?) RETURNING seq",
                (record.thread_id, record.thread_id, record.turn, record.author, data, now),
            )
            (seq,) = next(iter(rows), (1,))
            if steps:
                await conn.run(
                    "INSERT INTO sg_steps VALUES (?, ?, ?, ?)",
                    (
                        record.thread_id,
                        record.turn,
                        seq,
                        zlib.compress(
                            json.dumps(steps, ensure_ascii=False, default=str).encode(), 6
                        ),
                    ),
                )
            if client_message_id:
                await conn.run(
                    "INSERT INTO sg_message_ids VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                    (record.thread_id, client_message_id, seq),
                )
            await conn.run(
                "INSERT INTO sg_threads (thread_id, created_at, updated_at, turns, language, "
                "last_intent, escalation, customer_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT(thread_id) DO UPDATE SET updated_at = excluded.updated_at, "
                "turns = CASE WHEN excluded.turns > sg_threads.turns THEN excluded.turns "
                "ELSE sg_threads.turns END, language = excluded.language, "
                "last_intent = excluded.last_intent, escalation = excluded.escalation, "
                "customer_id = COALESCE(excluded.customer_id, sg_threads.customer_id)",
                (
                    record.thread_id,
                    now,
                    now,
                    record.turn,
                    record.reply_language,
                    record.intent,
                    record.escalation.action,
                    customer_id,
                ),
            )
            if handoff is not None:
                await self._change_handoff(conn, record.thread_id, *handoff)
            if recovered:
                await conn.run(
                    "UPDATE sg_inflight SET kind = 'recovered', payload = ? WHERE thread_id = ?",
                    (json.dumps({"seq": seq}), record.thread_id),
                )
            else:
                await conn.run("DELETE FROM sg_inflight WHERE thread_id = ?", (record.thread_id,))

    async def drop_recovered(self, thread_id: str, client_message_id: str) -> None:
        """The record kept for a retry, no longer kept: its retry came with the message's id
        and was answered from the record itself (`record_for_message`)."""
        await self.run(
            "DELETE FROM sg_inflight WHERE thread_id = ? AND kind = 'recovered' "
            "AND client_message_id = ?",
            (thread_id, client_message_id),
        )

    async def take_recovered(self, thread_id: str, seq: int) -> TurnRecord | None:
        """A recovered turn's record, once: the mark is removed as it is handed out."""
        async with self.transaction() as conn:
            await conn.run(
                "DELETE FROM sg_inflight WHERE thread_id = ? AND kind = 'recovered'", (thread_id,)
            )
            row = await conn.one(
                "SELECT record FROM sg_turns WHERE thread_id = ? AND seq = ?", (thread_id, seq)
            )
        return TurnRecord.model_validate_json(row[0]) if row else None

    async def steps(self, thread_id: str) -> dict[int, list[dict[str, Any]]]:
        """Node steps by record seq (1-based position in `records`)."""
        rows = await self._all(
            "SELECT seq, steps FROM sg_steps WHERE thread_id = ? ORDER BY seq", (thread_id,)
        )
        # Steps are stored compressed: they are read rarely and would triple turn storage.
        return {int(r[0]): json.loads(zlib.decompress(r[1])) for r in rows}

    async def records(self, thread_id: str) -> list[TurnRecord]:
        rows = await self._all(
            "SELECT record FROM sg_turns WHERE thread_id = ? ORDER BY seq", (thread_id,)
        )
        return [TurnRecord.model_validate_json(r[0]) for r in rows]

    async def threads(self, limit: int = 100) -> list[dict[str, Any]]:
        rows = await self._all(
            "SELECT thread_id, created_at, updated_at, turns, language, last_intent, escalation,"
            " customer_id FROM sg_threads ORDER BY updated_at DESC LIMIT ?",
            (limit,),
        )
        keys = [
            "thread_id",
            "created_at",
            "updated_at",
            "turns",
            "language",
            "last_intent",
            "escalation",
            "customer_id",
        ]
        return [dict(zip(keys, r, strict=True)) for r in rows]

    async def delete_thread(self, thread_id: str) -> None:
        async with self.transaction() as conn:
            for table in TABLES:
                await conn.run(f"DELETE FROM {table} WHERE thread_id = ?", (thread_id,))

    # -- branches (replay forks) ---------------------------------------------------------

    async def create_branch(self, branch: dict[str, Any]) -> None:
        await self.run(
            f"INSERT INTO sg_branches VALUES ({','.join('?' for _ in BRANCH_FIELDS)})",
            tuple(branch[k] for k in BRANCH_FIELDS),
        )

    async def branch(self, thread_id: str) -> dict[str, Any] | None:
        """Where a forked thread came from (None for an ordinary thread)."""
        row = await self._one(
            f"SELECT {','.join(BRANCH_FIELDS)} FROM sg_branches WHERE thread_id = ?",
            (thread_id,),
        )
        return dict(zip(BRANCH_FIELDS, row, strict=True)) if row else None

    async def branches_of(self, thread_id: str) -> list[dict[str, Any]]:
        rows = await self._all(
            f"SELECT {','.join(BRANCH_FIELDS)} FROM sg_branches WHERE parent_thread = ? "
            "ORDER BY created_at",
            (thread_id,),
        )
        return [dict(zip(BRANCH_FIELDS, r, strict=True)) for r in rows]

    async def copy_turns(self, source: str, target: str, before_turn: int) -> int:
        """Copy a thread's records (and node steps) of turns before `before_turn` to a new
        thread, as the branch's own history; returns how many turns were copied."""
        async with self.transaction() as conn:
            await conn.run(
                "INSERT INTO sg_turns SELECT ?, seq, turn, author, "
                f"{RETHREAD_RECORD[self.db.dialect]}, created_at FROM sg_turns "
                "WHERE thread_id = ? AND turn < ?",
                (target, target, source, before_turn),
            )
            await conn.run(
                "INSERT INTO sg_steps SELECT ?, turn, seq, steps FROM sg_steps "
                "WHERE thread_id = ? AND turn < ?",
                (target, source, before_turn),
            )
            turns, created = await conn.one(
                "SELECT COALESCE(MAX(turn), 0), MIN(created_at) FROM sg_turns WHERE thread_id = ?",
                (target,),
            ) or (0, None)
            now = time.time()
            await conn.run(
                "INSERT INTO sg_threads (thread_id, created_at, updated_at, turns, language, "
                "last_intent, escalation, customer_id) SELECT ?, ?, ?, ?, language, last_intent, "
                "escalation, customer_id FROM sg_threads WHERE thread_id = ?",
                (target, created or now, now, turns, source),
            )
        return int(turns)

    # -- thread ownership and metadata (the server's client scope) ----------------------

    async def create_thread(
        self, thread_id: str, owner: str | None, metadata: dict[str, Any]
    ) -> None:
        await self.run(
            "INSERT INTO sg_thread_meta VALUES (?, ?, ?, ?)",
            (thread_id, owner, json.dumps(metadata, ensure_ascii=False), time.time()),
        )

    async def thread_meta(self, thread_id: str) -> dict[str, Any] | None:
        row = await self._one(
            "SELECT owner, metadata, created_at FROM sg_thread_meta WHERE thread_id = ?",
            (thread_id,),
        )
        if row is None:
            return None
        return {"owner": row[0], "metadata": json.loads(row[1]), "created_at": row[2]}

    # -- the handoff queue ----------------------------------------------------------------

    @staticmethod
    async def _change_handoff(
        conn: SqlRunner, thread_id: str, change: str, detail: Any = None
    ) -> None:
        now = time.time()
        if change == "open":
            summary = detail or {}
            await conn.run(
                "INSERT INTO sg_handoffs VALUES (?, 'open', ?, ?, ?, ?, ?, NULL) "
                "ON CONFLICT(thread_id) DO UPDATE SET updated_at = excluded.updated_at, "
                "priority = excluded.priority, reason = excluded.reason, "
                "summary = excluded.summary",
                (
                    thread_id,
                    summary.get("priority"),
                    summary.get("reason"),
                    json.dumps(summary, ensure_ascii=False, default=str),
                    now,
                    now,
                ),
            )
        elif change == "close":
            await conn.run("DELETE FROM sg_handoffs WHERE thread_id = ?", (thread_id,))
        else:  # a status: claimed, active; detail is who claimed it
            await conn.run(
                "UPDATE sg_handoffs SET status = ?, claimed_by = COALESCE(?, claimed_by), "
                "updated_at = ? WHERE thread_id = ?",
                (change, detail, now, thread_id),
            )

    async def open_handoff(self, thread_id: str, summary: dict[str, Any]) -> None:
        async with self.transaction() as conn:
            await self._change_handoff(conn, thread_id, "open", summary)

    async def mark_handoff(
        self, thread_id: str, status: str, claimed_by: str | None = None
    ) -> None:
        async with self.transaction() as conn:
            await self._change_handoff(conn, thread_id, status, claimed_by)

    async def close_handoff(self, thread_id: str) -> None:
        async with self.transaction() as conn:
            await self._change_handoff(conn, thread_id, "close")

    async def handoffs(self) -> list[dict[str, Any]]:
        """Open and active handoffs, most urgent first, then oldest first."""
        rows = await self._all(
            "SELECT thread_id, status, priority, reason, summary, created_at, claimed_by "
            f"FROM sg_handoffs ORDER BY {PRIORITY_RANK}, created_at"
        )
        keys = ["thread_id", "status", "priority", "reason", "summary", "created_at", "claimed_by"]
        out = [dict(zip(keys, r, strict=True)) for r in rows]
        for item in out:
            item["summary"] = json.loads(item["summary"])
        return out

    async def checkpoint_wal(self) -> bool:
        """After an erasure, deleted rows must not live on. SQLite: fold the write-ahead log
        into the database file and truncate it to zero bytes (False if a reader kept it from
        finishing). PostgreSQL: VACUUM the transcript's and the checkpointer's tables, so
        the deleted rows' dead tuples are reclaimed."""
        return await self.db.vacuum((*TABLES, *POSTGRES_CHECKPOINT_TABLES))
