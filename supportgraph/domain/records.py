"""The TurnRecord contract (docs/architecture.md, "Contracts"): one JSON object per bot turn."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, PrivateAttr

EscalationAction = Literal["none", "offer", "handoff"]
Priority = Literal["low", "medium", "high", "critical"]


class ToolCall(BaseModel):
    name: str
    args: dict[str, Any] = Field(default_factory=dict)
    ok: bool = True
    result_summary: str = ""
    ms: float = 0.0  # wall time of the call


class Escalation(BaseModel):
    action: EscalationAction = "none"
    reason: str | None = None
    priority: Priority | None = None


class TurnRecord(BaseModel):
    """What one customer message produced. Fields may be added, never renamed or dropped."""

    thread_id: str
    turn: int
    language: str
    reply_language: str
    intent: str
    confidence: float
    entities: dict[str, Any] = Field(default_factory=dict)
    sentiment: float = 0.0
    persona: str = "default"
    retrieved: list[str] = Field(default_factory=list)
    tool_calls: list[ToolCall] = Field(default_factory=list)
    escalation: Escalation = Field(default_factory=Escalation)
    awaiting: str | None = None
    path: list[str] = Field(default_factory=list)
    reply: str = ""
    latency_ms: float = 0.0
    # Additive fields (allowed by the contract).
    uncertainty: float = 0.0
    author: Literal["bot", "human_agent", "system"] = "bot"
    customer_text: str = ""
    verified_customer: bool = False
    error: str | None = None
    created_at: float = 0.0
    received_at: float = 0.0  # epoch seconds the message (or agent action) arrived
    node_ms: dict[str, float] = Field(default_factory=dict)  # wall time per node this turn
    checkpoint_id: str | None = None  # the checkpoint this turn ended on (fork from here)
    # LLM mode: which layer answered (primary, backup, offline, trouble), why it fell back.
    model: str | None = None
    fallback: str | None = None
    tokens_in: int = 0
    tokens_out: int = 0
    llm_calls: int = 0  # requests sent to model endpoints this turn (retries included)
    cost: float = 0.0  # what those requests cost by the price table (LLMSettings.prices)
    # The client's id for the message (Idempotency-Key): a retry returns this same record.
    client_message_id: str | None = None
    # The turn was finished after a crash, from its checkpoint or by running it again.
    recovered: bool = False
    # The verified customer's store id: kept for export/erase, never serialized to clients.
    _customer_id: str | None = PrivateAttr(default=None)
    # Per-node changes of this turn: stored for the replay timeline, not sent to clients.
    _steps: list[dict[str, Any]] = PrivateAttr(default_factory=list)

    def with_customer(self, customer_id: str | None) -> TurnRecord:
        self._customer_id = customer_id
        return self
