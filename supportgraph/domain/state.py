"""ConversationState: the checkpointed schema and its reducers.

Checkpoint cost must stay flat as a conversation grows (a 500-turn thread must not write its
whole transcript into every checkpoint). So the state keeps only a bounded window of
messages and bounded histories; the full transcript lives in the transcript table
(supportgraph/runtime/transcript.py), written once per turn.
"""

from __future__ import annotations

from typing import Annotated, Any, TypedDict

# Four exchanges of context; the transcript keeps everything. Fixed, not a setting: the
# reducer is part of the checkpoint format, and a thread must read the same under every config.
MESSAGE_WINDOW = 8
SENTIMENT_WINDOW = 10


class Message(TypedDict):
    role: str  # "customer", "bot", "human_agent"
    text: str
    turn: int


MESSAGE_CHARS = 300  # the window is context, not the record: the transcript keeps full text


def keep_window(left: list[Message] | None, right: list[Message] | None) -> list[Message]:
    """Append new messages (text capped) and keep only the last MESSAGE_WINDOW of them."""
    new = [{**m, "text": m["text"][:MESSAGE_CHARS]} for m in right or []]
    merged = list(left or []) + new
    return merged[-MESSAGE_WINDOW:]  # type: ignore[return-value]


def keep_sentiments(left: list[float] | None, right: list[float] | None) -> list[float]:
    return (list(left or []) + list(right or []))[-SENTIMENT_WINDOW:]


class TurnInput(TypedDict, total=False):
    """The public input of one turn: internals stay off the API."""

    text: str
    now: float  # wall-clock seconds; injectable so time-based rules are testable
    turn: int
    thread_id: str  # idempotency keys of writes are derived from it


class ConversationState(TypedDict, total=False):
    # --- this turn's input
    thread_id: str
    text: str
    now: float
    turn: int
    # --- conversation memory (bounded)
    messages: Annotated[list[Message], keep_window]
    sentiment_history: Annotated[list[float], keep_sentiments]
    started_at: float
    updated_at: float
    conversation_language: str
    # --- understanding of this turn
    language: str
    language_method: str
    reply_language: str
    intent: str
    confidence: float
    uncertainty: float
    entities: dict[str, Any]
    sentiment: float
    # --- slots and flow
    slots: dict[str, Any]  # accumulated entities the conversation has established
    active_flow: str | None  # the intent whose flow is collecting slots
    awaiting: str | None  # "order_id", "email", "confirmation", "human_agent", ...
    pending_action: dict[str, Any] | None  # a write stated to the customer, awaiting yes
    question_counts: dict[str, int]  # per question signature, for the repetition rule
    # --- customer
    customer_id: str | None  # verified customer; None until identity is verified
    customer_segment: str | None
    persona: str
    persona_signals: dict[str, int]
    # --- escalation and handoff
    escalation: dict[str, Any]  # {"action", "reason", "priority"} for this turn
    escalation_status: str  # none | offered | pending_human | human_active
    offered_reasons: list[str]  # reasons already offered once (do not nag)
    handoff: dict[str, Any] | None  # summary for the human agent
    # --- what this turn gathered and said
    retrieved: list[str]
    kb_hits: list[dict[str, Any]]
    tool_calls: list[dict[str, Any]]
    say: list[dict[str, Any]]  # [{"key": template key, "params": {...}}]: the facts to phrase
    reply: str
    author: str
    llm_usage: dict[str, Any]  # LLM mode: the layer that answered, fallbacks, tokens (per turn)
