"""act: the tool calls of this turn, guarded by policy (identity, one customer, eligibility).

Dispatches to the flow of the active intent; intents answered from the knowledge base
need no tool and leave `say` empty, so respond phrases the retrieved chunk.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from supportgraph.context import Deps, deps_of
from supportgraph.domain.state import ConversationState
from supportgraph.nlu.requests import kinds
from supportgraph.nodes.flows import changes
from supportgraph.nodes.flows.base import FlowContext
from supportgraph.nodes.flows.identity import ensure_identity, guard_other_identity
from supportgraph.nodes.flows.orders import delivery_estimate, track_order
from supportgraph.nodes.flows.products import product_inquiry, product_price, restock
from supportgraph.nodes.flows.proposed import run_proposals
from supportgraph.nodes.llm_turn import llm_for


async def dispatch(ctx: FlowContext, intent: str) -> None:
    """The flow for this intent; intents without one are answered from the KB by respond."""
    if intent == "order_tracking":
        await track_order(ctx)
    elif intent == "order_modification":
        await changes.order_modification(ctx)
    elif intent == "product_inquiry":
        if "restock" in kinds(ctx.state.get("text", "")) or ctx.slots.get("restock_requested"):
            await restock(ctx)
        else:
            await product_inquiry(ctx)
    elif intent == "pricing":
        await product_price(ctx)
    elif intent == "returns_refunds":
        await changes.returns_refunds(ctx)
    elif intent == "payment":
        await changes.payment(ctx)
    elif intent == "shipping":
        await delivery_estimate(ctx)
    elif intent == "account":
        handled = await changes.account(ctx)
        if not handled and (ctx.state.get("entities") or {}).get("email"):
            await ensure_identity(ctx, "account")


async def act(state: ConversationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = deps_of(runtime)
    ctx = FlowContext(state=state, deps=deps, slots=dict(state.get("slots") or {}))
    intent = state.get("intent", "")
    if await guard_other_identity(ctx):
        pass  # refused: nothing else runs this turn
    elif await changes.settle_pending(ctx):
        pass  # the answer to a proposed change
    elif not str((state.get("escalation") or {}).get("reason", "")).startswith("low_confidence"):
        await dispatch(ctx, intent)  # never start a flow on a guess
    usage = None
    llm = llm_for(deps, "tool_proposals")
    if llm is not None and not ctx.tool_calls and not ctx.update.get("pending_action"):
        usage = await run_proposals(ctx, llm)
    update: dict[str, Any] = {"slots": ctx.slots, "tool_calls": ctx.tool_calls, "say": ctx.say_list}
    if usage is not None:
        update["llm_usage"] = usage
    update.update(ctx.update)
    return update
