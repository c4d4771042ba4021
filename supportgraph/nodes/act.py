"""act: the tool calls of this turn, guarded by policy (identity, one customer, eligibility).

Dispatches to the flow of the active intent; intents answered from the knowledge base
need no tool and leave `say` empty, so respond phrases the retrieved chunk.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from supportgraph.context import Deps
from supportgraph.nodes.flows.base import FlowContext
from supportgraph.nodes.flows.identity import ensure_identity, guard_other_identity
from supportgraph.nodes.flows.orders import track_order
from supportgraph.nodes.flows.products import product_inquiry, product_price
from supportgraph.state import ConversationState


async def act(state: ConversationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = runtime.context
    ctx = FlowContext(state=state, deps=deps, slots=dict(state.get("slots") or {}))
    intent = state.get("intent", "")
    if await guard_other_identity(ctx):
        pass  # refused: nothing else runs this turn
    elif intent == "order_tracking":
        await track_order(ctx)
    elif intent == "product_inquiry":
        await product_inquiry(ctx)
    elif intent == "pricing":
        await product_price(ctx)
    elif intent == "account" and (state.get("entities") or {}).get("email"):
        await ensure_identity(ctx, "account")
    update: dict[str, Any] = {"slots": ctx.slots, "tool_calls": ctx.tool_calls, "say": ctx.say_list}
    update.update(ctx.update)
    return update
