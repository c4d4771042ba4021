"""The replay timeline of a thread: every turn's TurnRecord and, inside it, every node in
order with the state fields it changed, its timing, the tool calls, retrieved chunks,
escalation decision and the checkpoint the turn ended on.

Built from the transcript (written once per turn, so it works for threads of earlier
processes) and the checkpointer's history. PII is redacted unless asked otherwise.
"""

from __future__ import annotations

import re
from typing import Any

from supportgraph.domain.records import TurnRecord

EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# Not inside a longer token: checkpoint ids (uuids) and tracking numbers stay readable.
CARD = re.compile(r"(?<![\w-])(?:\d[ -]?){13,19}(?![\w-])")
PHONE = re.compile(r"(?<![\w-])\+?\d[\d ()/-]{7,}\d(?![\w-])")
PII_KEYS = {"email", "phone", "address", "line1", "line2", "zip", "shipping_address"}
# "name" is personal only where it is the customer's: not a tool's or a node's name.
PERSONAL_CONTAINERS = {"args", "entities", "slots", "params", "summary", "to", "from"}


def redact(value: Any, key: str | None = None, parent: str | None = None) -> Any:
    """Emails, card and phone numbers masked; fields that hold personal data blanked."""
    personal = key in PII_KEYS or (key == "name" and parent in PERSONAL_CONTAINERS)
    if personal and value not in (None, "", [], {}):
        return "‹redacted›"
    if isinstance(value, dict):
        return {k: redact(v, k, key) for k, v in value.items()}
    if isinstance(value, list):
        return [redact(v, None, key) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_text(text: str) -> str:
    text = EMAIL.sub("‹email›", text)
    text = CARD.sub("‹card›", text)
    return PHONE.sub("‹phone›", text)


def turn_entry(record: TurnRecord, steps: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "turn": record.turn,
        "author": record.author,
        "customer_text": record.customer_text,
        "reply": record.reply,
        "language": record.language,
        "intent": record.intent,
        "confidence": record.confidence,
        "path": record.path,
        "escalation": record.escalation.model_dump(),
        "awaiting": record.awaiting,
        "tool_calls": [c.model_dump() for c in record.tool_calls],
        "retrieved": record.retrieved,
        "latency_ms": record.latency_ms,
        "checkpoint_id": record.checkpoint_id,
        "error": record.error,
        "nodes": steps,
    }


async def build_timeline(
    agent: Any, thread_id: str, show_pii: bool = False
) -> dict[str, Any] | None:
    records = await agent.transcript.records(thread_id)
    if not records:
        return None
    steps = await agent.transcript.steps(thread_id)
    turns = [turn_entry(r, steps.get(i, [])) for i, r in enumerate(records, 1)]
    checkpoints = []
    async for snapshot in agent.graph.aget_state_history(
        {"configurable": {"thread_id": thread_id}}
    ):
        conf = (snapshot.config or {}).get("configurable", {})
        checkpoints.append(
            {
                "checkpoint_id": conf.get("checkpoint_id"),
                "turn": snapshot.values.get("turn"),
                "created_at": snapshot.created_at,
                "next": list(snapshot.next),
            }
        )
    meta = await agent.transcript.thread_meta(thread_id)
    branch = await agent.transcript.branch(thread_id)
    timeline = {
        "thread_id": thread_id,
        "metadata": (meta or {}).get("metadata", {}),
        # A fork names where it came from; any thread lists the forks made from it.
        "branch_of": None
        if branch is None
        else {k: branch[k] for k in ("parent_thread", "parent_checkpoint", "from_turn")},
        "branches": [
            {k: b[k] for k in ("thread_id", "parent_checkpoint", "from_turn", "created_at")}
            for b in await agent.transcript.branches_of(thread_id)
        ],
        "turns": turns,
        "checkpoints": list(reversed(checkpoints)),
    }
    return timeline if show_pii else redact(timeline)
