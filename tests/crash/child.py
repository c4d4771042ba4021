"""A real process that is killed (SIGKILL) at one step of a confirmed write.

    python -m tests.crash.child DATA_DIR THREAD POINT

Runs a cancellation up to the customer's "yes", then sends the yes with a kill installed at
POINT; the process dies there, as under `kill -9`. Nothing here runs in the parent's process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from typing import Any

from langgraph.checkpoint.sqlite.aio import AsyncSqliteSaver

from supportgraph.backends.sqlite import SqliteStore
from supportgraph.config import Settings
from supportgraph.runtime.agent import SupportAgent
from supportgraph.runtime.transcript import Transcript

SETUP = ("I want to cancel my order SG-10001", "anna.schmidt@example.com")
CONFIRM, CONFIRM_ID = "yes", "msg-yes-1"


def die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


def kill_after(owner: Any, name: str) -> None:
    """Replace an async owner.name so the process dies right after the original returns."""
    original = getattr(owner, name)

    async def wrapped(*args: Any, **kwargs: Any) -> Any:
        result = await original(*args, **kwargs)
        die()
        return result

    setattr(owner, name, wrapped)


def kill_after_store_write(action: str) -> None:
    """Die right after the store committed the write `action` (SqliteStore._write)."""
    original = SqliteStore._write

    def wrapped(self: SqliteStore, key: str, act: str, target: str, change: Any) -> Any:
        result = original(self, key, act, target, change)
        if act == action:
            die()
        return result

    SqliteStore._write = wrapped  # type: ignore[method-assign]


async def kill_inside_transcript_write(agent: SupportAgent) -> None:
    """Die inside the transaction that writes a turn's record: the record's INSERT has run,
    its COMMIT has not (SQLite's trace callback sees each statement before it executes)."""
    inserted = False

    def trace(sql: str) -> None:
        nonlocal inserted
        if sql.startswith("INSERT INTO sg_turns"):
            inserted = True
        elif inserted and sql.strip().upper().startswith("COMMIT"):
            die()

    await agent._transcript.conn.set_trace_callback(trace)


async def install(point: str, agent: SupportAgent) -> None:
    if point == "after_message_kept":
        kill_after(Transcript, "begin_turn")
    elif point == "after_tool":
        kill_after_store_write("cancel_order")
    elif point == "after_checkpoint":
        kill_after(AsyncSqliteSaver, "aput")
    elif point == "inside_transcript_write":
        await kill_inside_transcript_write(agent)
    elif point == "after_commit":
        kill_after(Transcript, "commit_turn")
    else:
        raise SystemExit(f"unknown point {point}")


async def main(data_dir: str, thread: str, point: str) -> None:
    async with SupportAgent.open(Settings(data_dir=data_dir)) as agent:
        for text in SETUP:
            await agent.send(thread, text)
        await install(point, agent)
        await agent.send(thread, CONFIRM, client_message_id=CONFIRM_ID)
    raise SystemExit("the kill point was never reached")


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
