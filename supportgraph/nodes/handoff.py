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
    escalation = state.escalation
    return {
        "reason": escalation.get("reason"),
        "priority": escalation.get("priority"),
        "intent": state.intent,
        "active_flow": state.active_flow,
        "language": state.reply_language,
        "sentiment": state.sentiment,
        "customer_id": state.customer_id,
        "customer_segment": state.customer_segment,
        "slots": state.slots,
        "last_tools": [c.get("name") for c in state.tool_calls],
        "recent_messages": list(state.messages)[-6:],
        "turn": state.turn,
    }


async def handoff(state: ConversationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = deps_of(runtime)
    lang = state.reply_language
    already_human = state.escalation_status == "human_active"
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
            "messages": [{"role": "bot", "text": text, "turn": state.turn}],
        }
    text = str(decision.get("text", "")).strip()
    return {
        "reply": text,
        "author": "human_agent",
        "escalation_status": "human_active",
        "awaiting": None,
        "handoff": summary,
        "messages": [{"role": "human_agent", "text": text, "turn": state.turn}],
    }
