"""act: the tool calls of this turn, guarded by policy (identity, one customer, eligibility).

Dispatches to the flow registered for the intent (nodes/flows/registry.py); intents answered
from the knowledge base need no tool and leave `say` empty, so respond phrases the chunk.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from supportgraph.context import Deps, deps_of
from supportgraph.domain.state import ConversationState
from supportgraph.nodes.flows.base import FlowContext
from supportgraph.nodes.flows.changes import settle_pending
from supportgraph.nodes.flows.identity import guard_other_identity
from supportgraph.nodes.flows.proposed import run_proposals
from supportgraph.nodes.flows.registry import flows
from supportgraph.nodes.llm_turn import llm_for

FLOWS = flows()  # checked against the intent catalogue when the graph is built


async def dispatch(ctx: FlowContext, intent: str) -> None:
    """The flow registered for this intent; intents without one are answered from the KB
    (or, for chat intents, by respond alone)."""
    flow = FLOWS.get(intent)
    if flow is not None:
        await flow(ctx)


async def act(state: ConversationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = deps_of(runtime)
    ctx = FlowContext(state=state, deps=deps, slots=dict(state.slots))
    if await guard_other_identity(ctx):
        pass  # refused: nothing else runs this turn
    elif await settle_pending(ctx):
        pass  # the answer to a proposed change
    elif not str(state.escalation.get("reason", "")).startswith("low_confidence"):
        await dispatch(ctx, state.intent)  # never start a flow on a guess
    usage = None
    llm = llm_for(deps, "tool_proposals")
    if llm is not None and not ctx.tool_calls and not ctx.update.get("pending_action"):
        usage = await run_proposals(ctx, llm)
    update: dict[str, Any] = {
        "slots": ctx.slots,
        "tool_calls": ctx.recorded_calls(),
        "say": ctx.say_list,
    }
    if usage is not None:
        update["llm_usage"] = usage
    update.update(ctx.update)
    return update
