"""Tool proposals by the model: which tool calls it suggests, validated, never executed here.

The model sees the same LangChain tools the offline flows use (`bind_tools`). What it
proposes, as structured tool calls or as JSON text in `content` (local servers), is checked
against the tool names and argument schemas and returned; the graph's policy guard
(domain/policy.py, through FlowContext.call_tool) decides whether anything runs.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ValidationError

from supportgraph.llm.chain import ChainOutcome, FallbackChain
from supportgraph.llm.client import ModelClient
from supportgraph.llm.failures import ModelAnswer
from supportgraph.llm.jsontext import find_all_json_objects
from supportgraph.llm.latency import TurnBudget
from supportgraph.llm.pii import Redactor

if TYPE_CHECKING:
    from langchain_core.messages import AIMessage, BaseMessage
    from langchain_core.tools import BaseTool

MAX_PROPOSALS = 5  # more calls than this in one turn is not a plan, it is a loop


@dataclass
class ProposedCall:
    name: str
    args: dict[str, Any]  # validated against the tool's schema, personal data restored


@dataclass
class Proposals:
    calls: list[ProposedCall] = field(default_factory=list)
    rejected: list[str] = field(default_factory=list)  # "name: why" for invalid proposals
    text: str = ""  # what the model wrote besides the calls


def _raw_calls(message: AIMessage) -> list[tuple[Any, Any]]:
    """(name, args) pairs, from native tool calls or from JSON the model wrote as text."""
    if message.tool_calls:
        return [(c["name"], c["args"]) for c in message.tool_calls]
    pairs: list[tuple[Any, Any]] = []
    for obj in find_all_json_objects(message.text):
        if isinstance(obj.get("tool_calls"), list):
            items = [c for c in obj["tool_calls"] if isinstance(c, dict)]
        else:
            items = [obj]
        for item in items:
            function = item.get("function")
            call: dict[str, Any] = function if isinstance(function, dict) else item
            name = call.get("name") or call.get("tool")
            args: Any = next(
                (call[k] for k in ("arguments", "parameters", "args") if k in call), {}
            )
            if isinstance(args, str):
                try:
                    args = json.loads(args)
                except ValueError:
                    args = None
            if name:
                pairs.append((name, args))
    return pairs


def parse_proposals(
    message: AIMessage, tools: Mapping[str, BaseTool], redactor: Redactor | None = None
) -> Proposals:
    proposals = Proposals(text=message.text if not message.tool_calls else "")
    for name, args in _raw_calls(message)[:MAX_PROPOSALS]:
        tool = tools.get(str(name))
        if tool is None:
            proposals.rejected.append(f"{name}: unknown tool")
            continue
        if not isinstance(args, dict):
            proposals.rejected.append(f"{name}: arguments are not an object")
            continue
        if redactor is not None:
            args = redactor.restore_value(args)
        schema = tool.args_schema
        if isinstance(schema, type) and issubclass(schema, BaseModel):
            try:
                validated = schema.model_validate(args)
            except ValidationError as exc:
                proposals.rejected.append(f"{name}: {exc.error_count()} invalid arguments")
                continue
            args = validated.model_dump(mode="json", exclude_unset=True)
        proposals.calls.append(ProposedCall(str(name), args))
    if proposals.calls and not message.tool_calls:
        proposals.text = ""  # the text was the calls
    return proposals


async def propose_tools(
    chain: FallbackChain,
    messages: Sequence[BaseMessage],
    tools: Mapping[str, BaseTool],
    redactor: Redactor,
    budget: TurnBudget | None = None,
) -> ChainOutcome[Proposals]:
    """The calls the model proposes for this turn. Falls back to no proposals (the offline
    flows decide, model="offline") when no model answers."""
    limit = budget or TurnBudget.unbounded()

    async def ask(layer: ModelClient) -> ModelAnswer[Proposals]:
        answer = await layer.with_tools(
            messages, list(tools.values()), redactor=redactor, budget=limit
        )
        parsed = parse_proposals(answer.value, tools, redactor)
        return ModelAnswer(parsed, answer.layer, answer.model, answer.usage, answer.method)

    return await chain.run(ask, Proposals, Proposals)
