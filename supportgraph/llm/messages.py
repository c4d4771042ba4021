"""Messages on the way out (safe to send) and answers on the way back (usage, JSON).

langchain-openai turns an assistant message with tool calls and no text into
`content: null`, which llama-cpp-python rejects: nothing leaves here with empty content.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from supportgraph.llm.failures import Usage
from supportgraph.llm.jsontext import find_json
from supportgraph.llm.pii import Redactor

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

EMPTY_TEXT = "(no text)"


def usage_of(message: Any) -> Usage:
    meta = getattr(message, "usage_metadata", None) or {}
    return Usage(int(meta.get("input_tokens", 0) or 0), int(meta.get("output_tokens", 0) or 0))


def safe_messages(messages: Sequence[BaseMessage], redactor: Redactor | None) -> list[BaseMessage]:
    """Messages as they may leave the process: text only, never empty, PII redacted."""
    from langchain_core.messages import AIMessage

    out: list[BaseMessage] = []
    for message in messages:
        text = str(message.text)
        if redactor is not None:
            text = redactor.redact(text)
        if not text.strip():
            if isinstance(message, AIMessage) and message.tool_calls:
                names = ", ".join(call["name"] for call in message.tool_calls)
                text = f"(calling {names})"
            else:
                text = EMPTY_TEXT
        update: dict[str, Any] = {"content": text}
        if isinstance(message, AIMessage) and redactor is not None and message.tool_calls:
            update["tool_calls"] = [
                {**call, "args": redactor.redact_value(call["args"])} for call in message.tool_calls
            ]
        out.append(message.model_copy(update=update))
    return out


def json_instruction(schema: type[BaseModel]) -> str:
    return (
        "Answer with one JSON object and nothing else (no prose, no code fence). "
        "It must match this JSON schema:\n" + json.dumps(schema.model_json_schema())
    )


def unwrap_call(data: Any, name: str) -> Any:
    """A model asked for a function call sometimes writes the call itself as the answer."""
    if isinstance(data, dict) and data.get("name") == name:
        for key in ("arguments", "parameters", "args"):
            inner = data.get(key)
            if isinstance(inner, str):
                inner = find_json(inner)
            if isinstance(inner, dict):
                return inner
    return data
