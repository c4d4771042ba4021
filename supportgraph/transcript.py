"""The full transcript: every TurnRecord of every thread, written once per turn.

Checkpointed state keeps only a bounded window, so history, replay and exports read
from here. It shares the checkpoint database (one connection per process).
"""

from __future__ import annotations

import json
import time
import zlib
from typing import Any

import aiosqlite

from supportgraph.records import TurnRecord

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
CREATE TABLE IF NOT EXISTS sg_branches (
    thread_id TEXT PRIMARY KEY, parent_thread TEXT NOT NULL, parent_checkpoint TEXT,
    from_turn INTEGER NOT NULL, store_path TEXT NOT NULL, origin_started_at REAL NOT NULL,
    clock_offset REAL NOT NULL, created_at REAL NOT NULL);
"""
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


class Transcript:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self.conn = conn

    async def setup(self) -> None:
        await self.conn.executescript(SCHEMA)
        await self.conn.commit()

    async def last_turn(self, thread_id: str) -> int:
        async with self.conn.execute(
            "SELECT turns FROM sg_threads WHERE thread_id = ?", (thread_id,)
        ) as cur:
            row = await cur.fetchone()
        return int(row[0]) if row else 0

    async def append(
        self,
        record: TurnRecord,
        customer_id: str | None = None,
        steps: list[dict[str, Any]] | None = None,
    ) -> None:
        """The record, and the node steps of its run (same seq) for the replay timeline."""
        now = record.created_at or time.time()
        data = record.model_dump_json()
        cursor = await self.conn.execute(
            "INSERT INTO sg_turns (thread_id, seq, turn, author, record, created_at) VALUES "
            "(?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM sg_turns WHERE thread_id = ?), ?, ?, ?, ?) "
            "RETURNING seq",
            (record.thread_id, record.thread_id, record.turn, record.author, data, now),
        )
        (seq,) = await cursor.fetchone() or (0,)
        await cursor.close()
        if steps:
            await self.conn.execute(
                "INSERT INTO sg_steps VALUES (?, ?, ?, ?)",
                (
                    record.thread_id,
                    record.turn,
                    seq,
                    zlib.compress(json.dumps(steps, ensure_ascii=False, default=str).encode(), 6),
                ),
            )
        await self.conn.execute(
            "INSERT INTO sg_threads (thread_id, created_at, updated_at, turns, language, "
            "last_intent, escalation, customer_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT(thread_id) DO UPDATE SET updated_at = excluded.updated_at, "
            "turns = MAX(turns, excluded.turns), language = excluded.language, "
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
        await self.conn.commit()

    async def steps(self, thread_id: str) -> dict[int, list[dict[str, Any]]]:
        """Node steps by record seq (1-based position in `records`)."""
        async with self.conn.execute(
            "SELECT seq, steps FROM sg_steps WHERE thread_id = ? ORDER BY seq", (thread_id,)
        ) as cur:
            # Steps are stored compressed: they are read rarely and would triple turn storage.
            return {int(r[0]): json.loads(zlib.decompress(r[1])) for r in await cur.fetchall()}

    async def records(self, thread_id: str) -> list[TurnRecord]:
        async with self.conn.execute(
            "SELECT record FROM sg_turns WHERE thread_id = ? ORDER BY seq", (thread_id,)
        ) as cur:
            rows = await cur.fetchall()
        return [TurnRecord.model_validate_json(r[0]) for r in rows]

    async def threads(self, limit: int = 100) -> list[dict[str, Any]]:
        async with self.conn.execute(
            "SELECT thread_id, created_at, updated_at, turns, language, last_intent, escalation,"
            " customer_id FROM sg_threads ORDER BY updated_at DESC LIMIT ?",
            (limit,),
        ) as cur:
            rows = await cur.fetchall()
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
        for table in (
            "sg_turns",
            "sg_threads",
            "sg_handoffs",
            "sg_thread_meta",
            "sg_steps",
            "sg_branches",
        ):
            await self.conn.execute(f"DELETE FROM {table} WHERE thread_id = ?", (thread_id,))
        await self.conn.commit()

    # -- branches (replay forks) ---------------------------------------------------------

    async def create_branch(self, branch: dict[str, Any]) -> None:
        await self.conn.execute(
            f"INSERT INTO sg_branches VALUES ({','.join('?' for _ in BRANCH_FIELDS)})",
            tuple(branch[k] for k in BRANCH_FIELDS),
        )
        await self.conn.commit()

    async def branch(self, thread_id: str) -> dict[str, Any] | None:
        """Where a forked thread came from (None for an ordinary thread)."""
        async with self.conn.execute(
            f"SELECT {','.join(BRANCH_FIELDS)} FROM sg_branches WHERE thread_id = ?",
            (thread_id,),
        ) as cur:
            row = await cur.fetchone()
        return dict(zip(BRANCH_FIELDS, row, strict=True)) if row else None

    async def branches_of(self, thread_id: str) -> list[dict[str, Any]]:
        async with self.conn.execute(
            f"SELECT {','.join(BRANCH_FIELDS)} FROM sg_branches WHERE parent_thread = ? "
            "ORDER BY created_at",
            (thread_id,),
        ) as cur:
            return [dict(zip(BRANCH_FIELDS, r, strict=True)) for r in await cur.fetchall()]

    async def copy_turns(self, source: str, target: str, before_turn: int) -> int:
        """Copy a thread's records (and node steps) of turns before `before_turn` to a new
        thread, as the branch's own history; returns how many turns were copied."""
        await self.conn.execute(
            "INSERT INTO sg_turns SELECT ?, seq, turn, author, "
            "json_set(record, '$.thread_id', ?), created_at FROM sg_turns "
            "WHERE thread_id = ? AND turn < ?",
            (target, target, source, before_turn),
        )
        await self.conn.execute(
            "INSERT INTO sg_steps SELECT ?, turn, seq, steps FROM sg_steps "
            "WHERE thread_id = ? AND turn < ?",
            (target, source, before_turn),
        )
        async with self.conn.execute(
            "SELECT COALESCE(MAX(turn), 0), MIN(created_at) FROM sg_turns WHERE thread_id = ?",
            (target,),
        ) as cur:
            turns, created = await cur.fetchone() or (0, None)
        now = time.time()
        await self.conn.execute(
            "INSERT INTO sg_threads (thread_id, created_at, updated_at, turns, language, "
            "last_intent, escalation, customer_id) SELECT ?, ?, ?, ?, language, last_intent, "
            "escalation, customer_id FROM sg_threads WHERE thread_id = ?",
            (target, created or now, now, turns, source),
        )
        await self.conn.commit()
        return int(turns)

    # -- thread ownership and metadata (the server's client scope) ----------------------

    async def create_thread(
        self, thread_id: str, owner: str | None, metadata: dict[str, Any]
    ) -> None:
        await self.conn.execute(
            "INSERT INTO sg_thread_meta VALUES (?, ?, ?, ?)",
            (thread_id, owner, json.dumps(metadata, ensure_ascii=False), time.time()),
        )
        await self.conn.commit()

    async def thread_meta(self, thread_id: str) -> dict[str, Any] | None:
        async with self.conn.execute(
            "SELECT owner, metadata, created_at FROM sg_thread_meta WHERE thread_id = ?",
            (thread_id,),
        ) as cur:
            row = await cur.fetchone()
        if row is None:
            return None
        return {"owner": row[0], "metadata": json.loads(row[1]), "created_at": row[2]}

    async def threads_of_customer(self, customer_id: str) -> list[str]:
        async with self.conn.execute(
            "SELECT thread_id FROM sg_threads WHERE customer_id = ?", (customer_id,)
        ) as cur:
            return [r[0] for r in await cur.fetchall()]

    # -- the handoff queue ----------------------------------------------------------------

    async def open_handoff(self, thread_id: str, summary: dict[str, Any]) -> None:
        now = time.time()
        await self.conn.execute(
            "INSERT INTO sg_handoffs VALUES (?, 'open', ?, ?, ?, ?, ?, NULL) "
            "ON CONFLICT(thread_id) DO UPDATE SET updated_at = excluded.updated_at, "
            "priority = excluded.priority, reason = excluded.reason, summary = excluded.summary",
            (
                thread_id,
                summary.get("priority"),
                summary.get("reason"),
                json.dumps(summary, ensure_ascii=False, default=str),
                now,
                now,
            ),
        )
        await self.conn.commit()

    async def mark_handoff(
        self, thread_id: str, status: str, claimed_by: str | None = None
    ) -> None:
        await self.conn.execute(
            "UPDATE sg_handoffs SET status = ?, claimed_by = COALESCE(?, claimed_by), "
            "updated_at = ? WHERE thread_id = ?",
            (status, claimed_by, time.time(), thread_id),
        )
        await self.conn.commit()

    async def close_handoff(self, thread_id: str) -> None:
        await self.conn.execute("DELETE FROM sg_handoffs WHERE thread_id = ?", (thread_id,))
        await self.conn.commit()

    async def handoffs(self) -> list[dict[str, Any]]:
        """Open and active handoffs, most urgent first, then oldest first."""
        async with self.conn.execute(
            "SELECT thread_id, status, priority, reason, summary, created_at, claimed_by "
            f"FROM sg_handoffs ORDER BY {PRIORITY_RANK}, created_at"
        ) as cur:
            rows = await cur.fetchall()
        keys = ["thread_id", "status", "priority", "reason", "summary", "created_at", "claimed_by"]
        out = [dict(zip(keys, r, strict=True)) for r in rows]
        for item in out:
            item["summary"] = json.loads(item["summary"])
        return out
