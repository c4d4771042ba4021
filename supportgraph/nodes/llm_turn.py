"""The LLM mode inside a turn: whether a part is on, and what the turn spent.

Every node that asks a model adds its outcome to the turn's `llm_usage` (which layer
answered, why earlier layers did not, tokens), which becomes the TurnRecord's `model`,
`fallback`, `tokens_in` and `tokens_out`.
"""

from __future__ import annotations

from typing import Any

from supportgraph.context import Deps
from supportgraph.domain.state import ConversationState


def llm_for(deps: Deps, part: str) -> Any:
    """The LLMService when the LLM mode is on for `part` (understanding, phrasing,
    tool_proposals), else None: offline mode."""
    service = deps.llm
    if service is None or not getattr(service.settings, part, False):
        return None
    return service


def add_usage(previous: dict[str, Any] | None, outcome: Any) -> dict[str, Any]:
    """The turn's usage after one more chain outcome. The last layer to answer names the
    turn's model (phrasing runs last: the reply the customer saw)."""
    usage = dict(previous or {})
    reasons = [r for r in (usage.get("fallback"), outcome.fallback) if r]
    return {
        **usage,
        "model": outcome.model,
        "fallback": "; ".join(reasons) or None,
        "tokens_in": int(usage.get("tokens_in", 0)) + outcome.tokens_in,
        "tokens_out": int(usage.get("tokens_out", 0)) + outcome.tokens_out,
        "calls": int(usage.get("calls", 0)) + outcome.calls,
        "cost": float(usage.get("cost", 0.0)) + outcome.cost,
    }


def budget_for(llm: Any, state: ConversationState) -> Any:
    """What is left of the turn deadline for this turn's model calls (a TurnBudget)."""
    started = (state.llm_usage or {}).get("started")
    return llm.budget(float(started) if started else None)


def last_bot_message(state: ConversationState) -> str | None:
    for message in reversed(state.messages):
        if message.get("role") == "bot":
            return str(message.get("text") or "")
    return None


async def redactor_for(llm: Any, deps: Deps, customer_id: str | None) -> Any:
    """A redactor for this turn's model calls that also knows the verified customer's name
    (no pattern finds a name), so it reaches the model only as a placeholder."""
    redactor = llm.new_redactor()
    if customer_id:
        customer = await deps.store.get_customer(customer_id)
        if customer is not None and customer.name:
            redactor.register("NAME", customer.name)
            for part in customer.name.split():
                if len(part) > 2:
                    redactor.register("NAME", part)
    return redactor
