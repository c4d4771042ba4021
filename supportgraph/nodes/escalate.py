"""escalate: decide none / offer / handoff from the escalation rules (docs/architecture.md).

Rules, strongest first (each configurable in Settings.escalation):
human already involved -> handoff; legal terms or a fraud/security report (nlu/fraud.py) ->
handoff, critical; the customer asks for a human -> handoff, high; an accepted offer ->
handoff; sentiment below threshold -> handoff, high; the same question more than N times -> handoff, medium; uncertainty above
threshold -> offer, medium; conversation older than N minutes -> offer, medium (once).
A VIP segment raises any escalation to at least high priority.
"""

from __future__ import annotations

import logging
from typing import Any

from langgraph.runtime import Runtime

from supportgraph.context import Deps, deps_of
from supportgraph.domain.intents import CHAT_ONLY
from supportgraph.domain.state import ConversationState
from supportgraph.nlu.fraud import fraud_signal
from supportgraph.nlu.lexicon import legal_term
from supportgraph.nlu.text import has_text
from supportgraph.nodes.flows.base import FlowContext

log = logging.getLogger(__name__)

PRIORITY_ORDER = ["low", "medium", "high", "critical"]


def question_signature(state: ConversationState) -> str | None:
    intent = state.intent
    entities = state.entities
    if intent in CHAT_ONLY or "confirmed" in entities:
        return None  # a greeting or a yes/no is not a question asked again
    if state.awaiting and intent == state.active_flow and entities:
        return None  # answering our question is not asking one again
    topic = entities.get("order_id") or entities.get("product_id") or ""
    return f"{intent}:{topic}"


def decide(state: ConversationState, deps: Deps) -> tuple[str, str | None, str | None]:
    rules = deps.settings.escalation
    text = state.text
    status = state.escalation_status
    entities = state.entities
    if status in ("pending_human", "human_active"):
        return "handoff", "human_active", state.escalation.get("priority") or "medium"
    if not rules.enabled:
        return "none", None, None
    term = legal_term(text) or fraud_signal(text, deps.fraud, language=state.language)
    if term:
        return "handoff", f"legal_or_fraud:{term}", "critical"
    if state.intent == "human_agent":
        if state.awaiting == "handoff_offer" and entities.get("confirmed"):
            return "handoff", "offer_accepted", "medium"
        return "handoff", "customer_asked_for_human", "high"
    if state.sentiment < rules.sentiment_below:
        return "handoff", "negative_sentiment", "high"
    signature = question_signature(state)
    if signature and state.question_counts.get(signature, 0) + 1 > rules.repeat_limit:
        return "handoff", "repeated_question", "medium"
    if has_text(text) and state.uncertainty > rules.uncertainty_above:
        return "offer", "low_confidence", "medium"
    started = state.started_at or state.now or 0.0
    minutes = ((state.now or started) - started) / 60.0
    if minutes > rules.max_minutes and "long_conversation" not in state.offered_reasons:
        return "offer", "long_conversation", "medium"
    return "none", None, None


async def _transfer(
    state: ConversationState, deps: Deps, reason: str | None, priority: str | None
) -> list[dict[str, Any]]:
    """Log the transfer in the CRM (idempotent: a resumed handoff does not log it twice),
    through the policy guard like every tool call, recorded as this turn's tool call."""
    ctx = FlowContext(state=state, deps=deps, slots=dict(state.slots))
    args = {
        "thread_id": state.thread_id,
        "summary": f"{reason}; intent {state.intent}; slots {state.slots}",
        "priority": priority,
        "key": f"{state.thread_id}:{state.turn}:transfer",
    }
    # The handoff itself must not fail because the CRM log did; the failure is logged, not
    # hidden (a host refusing a blocking call must show up).
    try:
        await ctx.call_tool("transfer_to_human", args, lambda r: "transferred")
    except Exception:
        log.exception("the CRM transfer log failed on thread %s", state.thread_id)
    return ctx.recorded_calls()


async def escalate(state: ConversationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = deps_of(runtime)
    action, reason, priority = decide(state, deps)
    segment = (state.customer_segment or "").lower()
    if action != "none" and segment in deps.settings.escalation.vip_segments:
        if PRIORITY_ORDER.index(priority or "low") < PRIORITY_ORDER.index("high"):
            priority = "high"
        reason = f"{reason}+vip"
    update: dict[str, Any] = {
        "escalation": {"action": action, "reason": reason, "priority": priority},
    }
    signature = question_signature(state)
    if signature:
        counts = dict(state.question_counts)
        counts[signature] = counts.get(signature, 0) + 1
        # Bounded: keep the most recent signatures only.
        update["question_counts"] = dict(list(counts.items())[-20:])
    if action == "handoff" and state.escalation_status != "human_active":
        update["tool_calls"] = await _transfer(state, deps, reason, priority)
    if action == "offer":
        update["escalation_status"] = "offered"
        update["offered_reasons"] = [*state.offered_reasons, reason][-10:]
    elif action == "none" and state.escalation_status == "offered":
        update["escalation_status"] = "none"
    return update
