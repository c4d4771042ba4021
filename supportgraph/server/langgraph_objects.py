"""The LangGraph Server API's JSON objects (assistant, thread, state, checkpoint), built from
SupportAgent's threads and LangGraph state snapshots, in the shapes `langgraph-sdk` reads."""

from __future__ import annotations

import datetime as dt
from typing import Any

from supportgraph.domain.chat_messages import with_chat_fields
from supportgraph.runtime.agent import SupportAgent

ASSISTANT_ID = "supportgraph"
CREATED = "2026-11-23T00:00:00+00:00"


def now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def assistant() -> dict[str, Any]:
    return {
        "assistant_id": ASSISTANT_ID,
        "graph_id": ASSISTANT_ID,
        "name": ASSISTANT_ID,
        "description": "supportgraph customer-support graph",
        "config": {},
        "context": {},
        "metadata": {},
        "version": 1,
        "created_at": CREATED,
        "updated_at": CREATED,
    }


def checkpoint(config: dict[str, Any] | None, thread_id: str) -> dict[str, Any] | None:
    if not config:
        return None
    conf = config.get("configurable", {})
    return {
        "thread_id": thread_id,
        "checkpoint_ns": conf.get("checkpoint_ns", ""),
        "checkpoint_id": conf.get("checkpoint_id"),
        "checkpoint_map": None,
    }


def interrupts(items: Any) -> list[dict[str, Any]]:
    return [{"value": i.value, "id": i.id} for i in items]


def values_of(snapshot: Any) -> dict[str, Any]:
    """The state's values; each window message also as chat UIs read it (`type`, `content`,
    `id`: threads checkpointed before those fields existed get them here)."""
    values = dict(snapshot.values)
    if "messages" in values:
        values["messages"] = [with_chat_fields(m) for m in values["messages"]]
    return values


def state(snapshot: Any, thread_id: str) -> dict[str, Any]:
    return {
        "values": values_of(snapshot),
        "next": list(snapshot.next),
        "tasks": [
            {
                "id": t.id,
                "name": t.name,
                "error": None,
                "interrupts": interrupts(t.interrupts),
                "checkpoint": None,
                "state": None,
                "result": None,
            }
            for t in snapshot.tasks
        ],
        "checkpoint": checkpoint(snapshot.config, thread_id),
        "parent_checkpoint": checkpoint(snapshot.parent_config, thread_id),
        "metadata": snapshot.metadata or {},
        "created_at": snapshot.created_at,
        "interrupts": interrupts(snapshot.interrupts),
    }


async def thread(agent: SupportAgent, thread_id: str, meta: dict[str, Any]) -> dict[str, Any]:
    snapshot = await agent.snapshot(thread_id)
    created = dt.datetime.fromtimestamp(meta["created_at"], dt.UTC).isoformat()
    return {
        "thread_id": thread_id,
        "created_at": created,
        "updated_at": now(),
        "metadata": meta["metadata"],
        "status": "interrupted" if snapshot.interrupts else "idle",
        "values": values_of(snapshot),
        "config": {},
        "interrupts": {t.id: interrupts(t.interrupts) for t in snapshot.tasks if t.interrupts},
    }


async def final_values(agent: SupportAgent, thread_id: str) -> dict[str, Any]:
    """The thread's values after a run, with `__interrupt__` while it waits for a human."""
    snapshot = await agent.snapshot(thread_id)
    values = values_of(snapshot)
    if snapshot.interrupts:
        values["__interrupt__"] = interrupts(snapshot.interrupts)
    return values
