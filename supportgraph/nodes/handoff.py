"""handoff: pause the thread with interrupt() until a human agent replies or releases it.

The node re-runs from its start when resumed, so everything before interrupt() is a pure
function of state (no side effects to repeat).
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime
from langgraph.types import interrupt

from supportgraph.context import Deps, deps_of
from supportgraph.domain.state import ConversationState


def build_summary(state: ConversationState) -> dict[str, Any]:
    """What the human agent needs to pick up without re-asking: intent, entities, what was tried."""
    escalation = state.get("escalation") or {}
    return {
        "reason": escalation.get("reason"),
        "priority": escalation.get("priority"),
        "intent": state.get("intent"),
        "active_flow": state.get("active_flow"),
        "language": state.get("reply_language"),
        "sentiment": state.get("sentiment"),
        "customer_id": state.get("customer_id"),
        "customer_segment": state.get("customer_segment"),
        "slots": state.get("slots") or {},
        "last_tools": [c.get("name") for c in (state.get("tool_calls") or [])],
        "recent_messages": list(state.get("messages") or [])[-6:],
        "turn": state.get("turn"),
    }


async def handoff(state: ConversationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = deps_of(runtime)
    lang = state.get("reply_language", "en")
    already_human = state.get("escalation_status") == "human_active"
    summary = build_summary(state)
    holding = "" if already_human else deps.templates.render("handoff_holding", lang)
    decision = interrupt(
        {
            "type": "handoff",
            "summary": summary,
            "priority": summary["priority"],
            "holding_reply": holding,
        }
    )
    decision = (
        decision if isinstance(decision, dict) else {"action": "reply", "text": str(decision)}
    )
    if decision.get("action") == "release":
        text = deps.templates.render("handoff_released", lang)
        return {
            "reply": text,
            "author": "system",
            "escalation_status": "none",
            "awaiting": None,
            "handoff": None,
            "messages": [{"role": "bot", "text": text, "turn": state.get("turn", 0)}],
        }
    text = str(decision.get("text", "")).strip()
    return {
        "reply": text,
        "author": "human_agent",
        "escalation_status": "human_active",
        "awaiting": None,
        "handoff": summary,
        "messages": [{"role": "human_agent", "text": text, "turn": state.get("turn", 0)}],
    }
