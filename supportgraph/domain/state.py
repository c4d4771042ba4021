"""ConversationState: the checkpointed schema and its reducers.

Checkpoint cost must stay flat as a conversation grows (a 500-turn thread must not write its
whole transcript into every checkpoint). So the state keeps only a bounded window of
messages and bounded histories; the full transcript lives in the transcript table
(supportgraph/runtime/transcript.py), written once per turn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, NotRequired, TypedDict

from supportgraph.domain.chat_messages import PENDING_TURN, window_message

# Four exchanges of context; the transcript keeps everything. Fixed, not a setting: the
# reducer is part of the checkpoint format, and a thread must read the same under every config.
MESSAGE_WINDOW = 8
SENTIMENT_WINDOW = 10


class Message(TypedDict):
    role: str  # "customer", "bot", "human_agent"
    text: str
    turn: int  # PENDING_TURN: a host's input, until detect_language opens its turn
    # What chat UIs read (domain/chat_messages.py): "human" / "ai", the text, a stable id.
    type: NotRequired[str]
    content: NotRequired[str]
    id: NotRequired[str]


MESSAGE_CHARS = 300  # the window is context, not the record: the transcript keeps full text


def keep_window(left: list[Message] | None, right: list[Any] | None) -> list[Message]:
    """Append new messages (text capped) and keep only the last MESSAGE_WINDOW of them.

    New messages may come in any spelling a LangGraph host sends (`{"type": "human",
    "content": ...}`, `{"role": "user", ...}`, LangChain message objects). A customer message
    sent that way waits with PENDING_TURN; the same message with its turn, from
    detect_language, takes its place instead of being appended twice."""
    merged: list[Any] = list(left or [])
    for raw in right or []:
        message = window_message(raw)
        if message["turn"] != PENDING_TURN:  # a pending message is the turn's text: kept whole
            text = message["text"][:MESSAGE_CHARS]
            message.update(text=text, content=text)
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.get("turn") == PENDING_TURN
            and message["role"] == last["role"] == "customer"
            and message["turn"] != PENDING_TURN
        ):
            merged[-1] = message
        else:
            merged.append(message)
    return merged[-MESSAGE_WINDOW:]


def keep_sentiments(left: list[float] | None, right: list[float] | None) -> list[float]:
    return (list(left or []) + list(right or []))[-SENTIMENT_WINDOW:]


class TurnInput(TypedDict, total=False):
    """The public input of one turn: internals stay off the API."""

    text: str
    now: float  # wall-clock seconds; injectable so time-based rules are testable
    turn: int
    thread_id: str  # idempotency keys of writes are derived from it
    # Instead of `text`, the chat input LangGraph hosts send: the last human message is the text.
    messages: list[Any]


@dataclass
class ConversationState:
    """What a node reads. Every field has a default, so a node reads `state.intent` directly;
    a default stands for a channel never written (the first turn, or a thread checkpointed
    before the field existed). The checkpoint stores only the channels nodes wrote, so
    defaults never enter it: threads checkpointed by any version read the same."""

    # --- this turn's input
    thread_id: str = ""
    text: str = ""
    now: float = 0.0
    turn: int = 0
    # The turn detect_language opened last. An input that names no turn (LangGraph's own
    # server sends only the message) leaves `turn` at this value: the new turn is one more.
    opened_turn: int = 0
    # --- conversation memory (bounded)
    messages: Annotated[list[Message], keep_window] = field(default_factory=list)
    sentiment_history: Annotated[list[float], keep_sentiments] = field(default_factory=list)
    started_at: float = 0.0
    updated_at: float = 0.0
    conversation_language: str | None = None
    # --- understanding of this turn
    language: str = "en"
    language_method: str = ""
    reply_language: str = "en"
    intent: str = ""
    confidence: float = 0.0
    uncertainty: float = 0.0
    entities: dict[str, Any] = field(default_factory=dict)
    sentiment: float = 0.0
    # --- slots and flow
    # accumulated entities the conversation has established
    slots: dict[str, Any] = field(default_factory=dict)
    active_flow: str | None = None  # the intent whose flow is collecting slots
    awaiting: str | None = None  # "order_id", "email", "confirmation", "human_agent", ...
    pending_action: dict[str, Any] | None = None  # a write stated to the customer, awaiting yes
    # per question signature, for the repetition rule
    question_counts: dict[str, int] = field(default_factory=dict)
    # --- customer
    customer_id: str | None = None  # verified customer; None until identity is verified
    customer_segment: str | None = None
    # Failed identity lookups in this thread: at Settings.identity_attempts, no more lookups.
    identity_failures: int = 0
    identity_tried: str | None = None  # a digest of the last failed details: not tried again
    persona: str = "default"
    persona_signals: dict[str, int] = field(default_factory=dict)
    # --- escalation and handoff
    # {"action", "reason", "priority"} for this turn
    escalation: dict[str, Any] = field(default_factory=dict)
    escalation_status: str = "none"  # none | offered | pending_human | human_active
    offered_reasons: list[str] = field(default_factory=list)  # offered once (do not nag)
    handoff: dict[str, Any] | None = None  # summary for the human agent
    # --- what this turn gathered and said
    retrieved: list[str] = field(default_factory=list)
    kb_hits: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    # [{"key": template key, "params": {...}}]: the facts to phrase
    say: list[dict[str, Any]] = field(default_factory=list)
    reply: str = ""
    author: str = "bot"
    # LLM mode: the layer that answered, fallbacks, tokens (per turn)
    llm_usage: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """The fields as a plain mapping (shallow), for code that reads state as a dict."""
        return dict(vars(self))
