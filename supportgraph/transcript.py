"""The full transcript: every TurnRecord of every thread, written once per turn.

Checkpointed state keeps only a bounded window, so history, replay and exports read
from here. It shares the checkpoint database (one connection per process).
"""

from __future__ import annotations

import json
import time
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
"""


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

    async def append(self, record: TurnRecord, customer_id: str | None = None) -> None:
        now = record.created_at or time.time()
        data = record.model_dump_json()
        await self.conn.execute(
            "INSERT INTO sg_turns (thread_id, seq, turn, author, record, created_at) VALUES "
            "(?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM sg_turns WHERE thread_id = ?), ?, ?, ?, ?)",
            (record.thread_id, record.thread_id, record.turn, record.author, data, now),
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
        await self.conn.execute("DELETE FROM sg_turns WHERE thread_id = ?", (thread_id,))
        await self.conn.execute("DELETE FROM sg_threads WHERE thread_id = ?", (thread_id,))
        await self.conn.commit()


def dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)
