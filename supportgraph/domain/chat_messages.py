"""Chat messages as LangGraph hosts and chat UIs spell them, and as the state window keeps them.

LangGraph chat UIs and most SDK users send `{"messages": [{"type": "human", "content": ...}]}`
(LangChain message dicts; OpenAI-style `{"role": "user", "content": ...}` too; `content` a
string or a list of content blocks) and read `values["messages"]` as `{id, type, content}`.
The state window keeps `{role, text, turn}` (its checkpoint format). Each window message also
carries `type`, `content` and `id`, so both kinds of reader find what they expect.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# Who wrote a message: the window's role for each spelling a host may send.
ROLES = {
    "human": "customer",
    "user": "customer",
    "customer": "customer",
    "ai": "bot",
    "assistant": "bot",
    "bot": "bot",
    "human_agent": "human_agent",
}
# The LangChain type of each window role (a human agent's words are an AI message to a chat UI:
# they answer the customer).
TYPES = {"customer": "human", "bot": "ai", "human_agent": "ai"}
# A customer message a host put into the window itself (its turn not opened yet).
PENDING_TURN = -1


class BadChatMessage(ValueError):
    """A message no reader could take: said to the caller as a 4xx with this text."""


def content_text(content: Any) -> str:
    """The text of a message's content: a string, or the text of its content blocks."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        parts = []
        for block in content:
            if isinstance(block, str):
                parts.append(block)
            elif isinstance(block, Mapping) and block.get("type") == "text":
                parts.append(str(block.get("text", "")))
        return "\n".join(p for p in parts if p)
    raise BadChatMessage("message content must be a string or a list of text blocks")


def _fields(message: Any) -> tuple[str, Any]:
    """(role or type, content) of a dict or a LangChain message object."""
    if isinstance(message, Mapping):
        kind = message.get("role") or message.get("type")
        content = message["content"] if "content" in message else message.get("text")
        return str(kind or ""), content
    kind, content = getattr(message, "type", None), getattr(message, "content", None)
    if kind is None:
        raise BadChatMessage("each message must be an object with role/type and content")
    return str(kind), content


def _role(kind: str) -> str:
    role = ROLES.get(kind)
    if role is None:
        raise BadChatMessage(f"unknown message role {kind!r}: use human/user or ai/assistant")
    return role


def window_message(message: Any, turn: int = PENDING_TURN) -> dict[str, Any]:
    """A message of any accepted spelling as the window keeps it."""
    kind, content = _fields(message)
    role = _role(kind)
    text = content_text(content)
    if isinstance(message, Mapping) and isinstance(message.get("turn"), int):
        turn = message["turn"]
    return with_chat_fields({"role": role, "text": text, "turn": turn})


def with_chat_fields(message: Mapping[str, Any]) -> dict[str, Any]:
    """The window message with the fields chat UIs read (`type`, `content`, `id`)."""
    role, turn = message["role"], message.get("turn", 0)
    return {
        **message,
        "type": TYPES.get(role, "ai"),
        "content": message["text"],
        "id": message.get("id") or f"t{turn}-{role}",
    }


def last_customer_text(messages: Iterable[Any]) -> str:
    """The text of the last customer message of a host's `messages` input."""
    found: str | None = None
    for message in messages:
        kind, content = _fields(message)
        if _role(kind) == "customer":
            found = content_text(content)
    if found is None:
        raise BadChatMessage("messages must include a human/user message")
    return found
