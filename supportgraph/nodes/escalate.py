"""escalate: decide none / offer / handoff from the rules of ARCHITECTURE.md section 4.

Rules, strongest first (each configurable in Settings.escalation):
human already involved -> handoff; legal/fraud terms -> handoff, critical; the customer asks
for a human -> handoff, high; an accepted offer -> handoff; sentiment below threshold ->
handoff, high; the same question more than N times -> handoff, medium; uncertainty above
threshold -> offer, medium; conversation older than N minutes -> offer, medium (once).
A VIP segment raises any escalation to at least high priority.
"""

from __future__ import annotations

import time
from typing import Any

from langgraph.runtime import Runtime

from supportgraph.context import Deps, deps_of
from supportgraph.domain.state import ConversationState
from supportgraph.nlu.lexicon import legal_term
from supportgraph.nlu.text import has_text

PRIORITY_ORDER = ["low", "medium", "high", "critical"]
NOT_QUESTIONS = {"greeting", "thanks_goodbye", "human_agent", "out_of_scope"}


def question_signature(state: ConversationState) -> str | None:
    intent = state.get("intent", "")
    entities = state.get("entities") or {}
    if intent in NOT_QUESTIONS or "confirmed" in entities:
        return None
    if state.get("awaiting") and intent == state.get("active_flow") and entities:
        return None  # answering our question is not asking one again
    topic = entities.get("order_id") or entities.get("product_id") or ""
    return f"{intent}:{topic}"


def decide(state: ConversationState, deps: Deps) -> tuple[str, str | None, str | None]:
    rules = deps.settings.escalation
    text = state.get("text", "")
    status = state.get("escalation_status", "none")
    entities = state.get("entities") or {}
    if status in ("pending_human", "human_active"):
        return "handoff", "human_active", state.get("escalation", {}).get("priority") or "medium"
    if not rules.enabled:
        return "none", None, None
    term = legal_term(text)
    if term:
        return "handoff", f"legal_or_fraud:{term}", "critical"
    if state.get("intent") == "human_agent":
        if state.get("awaiting") == "handoff_offer" and entities.get("confirmed"):
            return "handoff", "offer_accepted", "medium"
        return "handoff", "customer_asked_for_human", "high"
    if state.get("sentiment", 0.0) < rules.sentiment_below:
        return "handoff", "negative_sentiment", "high"
    signature = question_signature(state)
    counts = state.get("question_counts") or {}
    if signature and counts.get(signature, 0) + 1 > rules.repeat_limit:
        return "handoff", "repeated_question", "medium"
    if has_text(text) and state.get("uncertainty", 0.0) > rules.uncertainty_above:
        return "offer", "low_confidence", "medium"
    started = state.get("started_at") or state.get("now") or 0.0
    minutes = ((state.get("now") or started) - started) / 60.0
    if minutes > rules.max_minutes and "long_conversation" not in (
        state.get("offered_reasons") or []
    ):
        return "offer", "long_conversation", "medium"
    return "none", None, None


async def _transfer(
    state: ConversationState, deps: Deps, reason: str | None, priority: str | None
) -> dict[str, Any]:
    """Log the transfer in the CRM (idempotent: a resumed handoff does not log it twice)."""
    args = {
        "thread_id": state.get("thread_id", ""),
        "summary": f"{reason}; intent {state.get('intent')}; slots {state.get('slots') or {}}",
        "priority": priority,
        "key": f"{state.get('thread_id', '')}:{state.get('turn', 0)}:transfer",
    }
    started = time.perf_counter()
    try:
        await deps.tools["transfer_to_human"].ainvoke(args)
        return {
            "name": "transfer_to_human",
            "args": args,
            "ok": True,
            "result_summary": "transferred",
            "ms": round((time.perf_counter() - started) * 1000, 2),
        }
    except Exception as exc:  # the handoff itself must not fail because the CRM log did
        return {
            "name": "transfer_to_human",
            "args": args,
            "ok": False,
            "result_summary": str(exc)[:200],
        }


async def escalate(state: ConversationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = deps_of(runtime)
    action, reason, priority = decide(state, deps)
    segment = (state.get("customer_segment") or "").lower()
    if action != "none" and segment in deps.settings.escalation.vip_segments:
        if PRIORITY_ORDER.index(priority or "low") < PRIORITY_ORDER.index("high"):
            priority = "high"
        reason = f"{reason}+vip"
    update: dict[str, Any] = {
        "escalation": {"action": action, "reason": reason, "priority": priority},
    }
    signature = question_signature(state)
    if signature:
        counts = dict(state.get("question_counts") or {})
        counts[signature] = counts.get(signature, 0) + 1
        # Bounded: keep the most recent signatures only.
        update["question_counts"] = dict(list(counts.items())[-20:])
    if action == "handoff" and state.get("escalation_status") != "human_active":
        update["tool_calls"] = [await _transfer(state, deps, reason, priority)]
    if action == "offer":
        update["escalation_status"] = "offered"
        update["offered_reasons"] = [*(state.get("offered_reasons") or []), reason][-10:]
    elif action == "none" and state.get("escalation_status") == "offered":
        update["escalation_status"] = "none"
    return update
