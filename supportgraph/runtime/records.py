"""TurnRecords from conversation state: what a turn, a message queued for a human, a failed
turn or a turn recovered from its checkpoint reports; and the compact per-node diff kept for
the replay timeline."""

from __future__ import annotations

import time
from typing import Any

from supportgraph.domain.records import Escalation, ToolCall, TurnRecord
from supportgraph.templates import Templates

# Fields a reducer appends to: the diff shows what was added, not the whole window again.
APPENDED = {"messages", "sentiment_history"}
# Per-turn outputs cleared when a turn starts: clearing them is not a change worth showing.
PER_TURN = {
    "tool_calls",
    "retrieved",
    "kb_hits",
    "say",
    "reply",
    "escalation",
    "author",
    "llm_usage",
}
CLIP = 160  # characters of a text kept in a step (the transcript has the full texts)


def _clip(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= CLIP else value[: CLIP - 1] + "…"
    if isinstance(value, dict):
        return {k: _clip(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clip(v) for v in value]
    return value


def state_changes(before: dict[str, Any], update: dict[str, Any]) -> dict[str, Any]:
    """A compact, readable diff of one node's update: only what changed, texts clipped, so
    recording it keeps the per-turn storage small (bench/turn_latency.py)."""
    changes: dict[str, Any] = {}
    for key, new in update.items():
        old = before.get(key)
        if old == new:
            continue
        if key in APPENDED:
            changes[key] = {"appended": _clip(new)}
        elif key in PER_TURN and new in ([], "", None, {}):
            continue
        else:
            changes[key] = {"from": _clip(old), "to": _clip(new)}
    return changes


def _llm_fields(usage: dict[str, Any] | None) -> dict[str, Any]:
    if not usage:
        return {}  # offline mode: the record's defaults
    return {k: usage.get(k) for k in ("model", "fallback")} | {
        "tokens_in": int(usage.get("tokens_in") or 0),
        "tokens_out": int(usage.get("tokens_out") or 0),
        "llm_calls": int(usage.get("calls") or 0),
        "cost": round(float(usage.get("cost") or 0.0), 8),
    }


def checkpoint_id(snapshot: Any) -> str | None:
    """The id of the checkpoint a LangGraph StateSnapshot shows."""
    return (snapshot.config or {}).get("configurable", {}).get("checkpoint_id")


class Records:
    """Builds TurnRecords in the agent's default language and brand templates."""

    def __init__(self, default_language: str, templates: Templates) -> None:
        self.default_language = default_language
        self.templates = templates

    def build(
        self, thread_id: str, turn: int, message: str, values: dict[str, Any], path: list[str]
    ) -> TurnRecord:
        """The record of a turn whose graph run ended with state `values` along `path`."""
        escalation = values.get("escalation") or {}
        return TurnRecord(
            thread_id=thread_id,
            turn=turn,
            language=values.get("language") or self.default_language,
            reply_language=values.get("reply_language") or self.default_language,
            intent=values.get("intent") or "out_of_scope",
            confidence=float(values.get("confidence") or 0.0),
            uncertainty=float(values.get("uncertainty") or 0.0),
            entities=dict(values.get("entities") or {}),
            sentiment=float(values.get("sentiment") or 0.0),
            persona=values.get("persona") or "default",
            retrieved=list(values.get("retrieved") or []),
            tool_calls=[
                ToolCall(
                    **{k: c[k] for k in ("name", "args", "ok", "result_summary", "ms") if k in c}
                )
                for c in values.get("tool_calls") or []
            ],
            escalation=Escalation(
                action=escalation.get("action") or "none",
                reason=escalation.get("reason"),
                priority=escalation.get("priority"),
            ),
            awaiting=values.get("awaiting"),
            path=path,
            reply=values.get("reply") or "",
            author=values.get("author") or "bot",
            customer_text=message,
            verified_customer=bool(values.get("customer_id")),
            created_at=time.time(),
            **_llm_fields(values.get("llm_usage")),
        ).with_customer(values.get("customer_id"))

    def from_checkpoint(self, thread_id: str, turn: int, message: str, snapshot: Any) -> TurnRecord:
        """The record of a turn whose checkpoint was written before the process died."""
        record = self.build(thread_id, turn, message, dict(snapshot.values), [])
        record.checkpoint_id = checkpoint_id(snapshot)
        if snapshot.interrupts:
            record.reply = str(snapshot.interrupts[0].value.get("holding_reply", ""))
            record.awaiting = "human_agent"
        return record

    def queued_for_human(
        self, thread_id: str, turn: int, message: str, values: dict[str, Any]
    ) -> TurnRecord:
        """A customer message while a human is being waited for: no bot reply, no graph run."""
        record = self.build(thread_id, turn, message, values, [])
        lang = values.get("reply_language") or self.default_language
        record.reply = self.templates.render("human_queued", lang)
        record.awaiting = "human_agent"
        record.tool_calls, record.retrieved = [], []
        # Nothing read this message: the previous turn's reading, model and tokens are not its.
        record.intent, record.confidence, record.uncertainty = "", 0.0, 0.0
        record.entities, record.node_ms = {}, {}
        record.model, record.fallback, record.tokens_in, record.tokens_out = None, None, 0, 0
        record.llm_calls, record.cost = 0, 0.0
        record.escalation = Escalation(
            action="handoff",
            reason="human_active",
            priority=(values.get("escalation") or {}).get("priority"),
        )
        return record

    def failed(
        self,
        thread_id: str,
        turn: int,
        message: str,
        values: dict[str, Any],
        path: list[str],
        exc: Exception,
    ) -> TurnRecord:
        """A turn that raised: the polite generic reply, the error, no tool calls."""
        record = self.build(thread_id, turn, message, values, path)
        lang = values.get("reply_language") or self.default_language
        record.reply = self.templates.render("error_generic", lang)
        record.author = "system"
        record.error = f"{type(exc).__name__}: {exc}"[:300]
        record.tool_calls = []
        return record
