"""Tool calls proposed by the model (LLM mode, `tool_proposals` on): asked for when the
offline flows called no tool this turn, and run only through the policy guard, exactly as
the flows' own calls. A refused proposal is recorded as a refused tool call (audit trail)
and runs nothing."""

from __future__ import annotations

import contextlib
import json
from typing import Any

from supportgraph.domain.policy import CONFIRMED_WRITES, WRITES
from supportgraph.domain.records import ToolCall
from supportgraph.nodes.flows.base import FlowContext, Refused
from supportgraph.nodes.llm_turn import add_usage, budget_for, redactor_for

SYSTEM = (
    "Task: call a tool only when one is needed to answer the customer's last message, with "
    "the arguments the conversation states; otherwise call none. {identity}"
)


def _summary(result: Any) -> str:
    if not result:
        return "not found"
    return json.dumps(result, ensure_ascii=False, default=str)[:200]


def _messages(ctx: FlowContext) -> list[Any]:
    from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

    customer = ctx.customer_id
    identity = (
        f"The customer is verified as customer_id {customer}."
        if customer
        else "The customer is not verified: account data needs their email first."
    )
    from supportgraph.llm.prompts import SHOP_PREFIX

    # The prefix every model call shares (llm/prompts.py): the server's cache keeps it.
    out: list[Any] = [SystemMessage(SHOP_PREFIX + SYSTEM.format(identity=identity))]
    for message in ctx.state.messages[-6:]:
        text = str(message.get("text") or "")
        if text:
            out.append(HumanMessage(text) if message.get("role") == "customer" else AIMessage(text))
    return out


async def run_proposals(ctx: FlowContext, llm: Any) -> dict[str, Any]:
    """Ask the model, run what the guard allows; returns the turn's updated LLM usage."""
    redactor = await redactor_for(llm, ctx.deps, ctx.customer_id)
    outcome = await llm.propose_tools(
        _messages(ctx), ctx.deps.tools, redactor, budget_for(llm, ctx.state)
    )
    for rejected in outcome.value.rejected:  # unknown tools, arguments not matching the schema
        name, _, why = rejected.partition(": ")
        ctx.tool_calls.append(ToolCall(name=name, ok=False, result_summary=f"rejected: {why}"))
    for call in outcome.value.calls:
        if call.name in WRITES and call.name not in CONFIRMED_WRITES:
            ctx.tool_calls.append(
                ToolCall(
                    name=call.name,
                    args=call.args,
                    ok=False,
                    result_summary="refused by policy: not_proposable",
                )
            )
            continue
        # A refusal is recorded by call_tool; the reply is phrased from what did run.
        with contextlib.suppress(Refused):
            await ctx.call_tool(call.name, call.args, _summary)
    return add_usage(ctx.state.llm_usage, outcome)
