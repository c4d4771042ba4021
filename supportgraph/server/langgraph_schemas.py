"""Request bodies of the LangGraph Server API subset (routes/langgraph.py, langgraph_runs.py),
published in OpenAPI.

The fields the official langgraph-sdk sends are declared with their types (read from
langgraph_sdk/_async/{assistants,threads,runs}.py); fields this server does not use are
accepted and ignored, as are fields it does not know (`extra="allow"`), so a newer SDK that
sends more keeps working. A wrong type is a 422 in the API's error shape, never a 500.
"""

from __future__ import annotations

from typing import Any, Literal, get_args, get_origin, get_type_hints, is_typeddict

from pydantic import BaseModel, ConfigDict, Field, create_model

from supportgraph.domain.chat_messages import BadChatMessage, last_customer_text
from supportgraph.domain.state import ConversationState

# The stream modes runs.stream serves; the SDK knows more, which this server does not stream.
StreamMode = Literal["values", "updates", "messages-tuple"]


class LangGraphBody(BaseModel):
    model_config = ConfigDict(extra="allow")


class AssistantSearch(LangGraphBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"graph_id": "supportgraph"}]})
    graph_id: str | None = Field(default=None, max_length=200)
    name: str | None = Field(default=None, max_length=200)
    metadata: dict[str, Any] | None = None
    limit: int = Field(default=10, ge=1, le=1000, description="How many assistants, 1-1000")
    offset: int = Field(default=0, ge=0)
    sort_by: str | None = Field(default=None, max_length=64)
    sort_order: Literal["asc", "desc"] | None = None
    select: list[str] | None = None


class ThreadCreate(LangGraphBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"metadata": {"channel": "sdk"}}]})
    thread_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="Only for threads the caller owns"
    )
    metadata: dict[str, Any] | None = Field(
        default=None, description="Stored with the thread; bounded by SUPPORTGRAPH_MAX_METADATA_*"
    )
    if_exists: Literal["raise", "do_nothing"] | None = None
    supersteps: list[dict[str, Any]] | None = None  # accepted, not applied
    ttl: int | dict[str, Any] | None = None  # accepted, not applied


class ThreadHistory(LangGraphBody):
    model_config = ConfigDict(json_schema_extra={"examples": [{"limit": 5}]})
    limit: int = Field(default=10, ge=1, le=1000, description="How many states, 1-1000")
    before: str | dict[str, Any] | None = None
    metadata: dict[str, Any] | None = None
    checkpoint: dict[str, Any] | None = None
    select: list[str] | None = None


class ThreadStateUpdate(LangGraphBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"values": {"escalation_status": "none"}, "as_node": "respond"}]
        }
    )
    values: dict[str, Any] | None = Field(default=None, description="State fields to write")
    as_node: str | None = Field(default=None, min_length=1, max_length=200)
    checkpoint: dict[str, Any] | None = None
    checkpoint_id: str | None = Field(default=None, max_length=200)


class RunInput(LangGraphBody):
    """`{"text": ...}`, or the chat input LangGraph chat UIs and SDK users send: `{"messages":
    [{"type": "human", "content": ...}]}` (or `{"role": "user", ...}`, content a string or
    text blocks); the last human message is the customer's message."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"text": "Where is my order?"},
                {"messages": [{"type": "human", "content": "Where is my order?"}]},
            ]
        }
    )
    text: str | None = Field(default=None, description="The customer's message")
    messages: list[dict[str, Any]] | None = Field(
        default=None, max_length=100, description="Chat messages; the last human one is read"
    )

    def customer_text(self) -> str:
        """The customer's message, or BadChatMessage saying what is wrong with the input."""
        if self.text is not None:
            return self.text
        if self.messages is None:
            raise BadChatMessage(
                'input must be {"text": "<customer message>"} or '
                '{"messages": [{"type": "human", "content": "<customer message>"}]}'
            )
        return last_customer_text(self.messages)


class RunCommand(LangGraphBody):
    """Only `resume` is acted on: a human agent's answer to a handoff interrupt, either text
    or `{"action": "reply" | "release", "text": ..., "agent": ...}`."""

    resume: Any = None
    update: dict[str, Any] | list[Any] | None = None  # accepted, not applied
    goto: Any = None  # accepted, not applied


class RunCreate(LangGraphBody):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"assistant_id": "supportgraph", "input": {"text": "Where is my order?"}},
                {"assistant_id": "supportgraph", "command": {"resume": {"text": "Sam here"}}},
            ]
        }
    )
    assistant_id: str | None = Field(default=None, min_length=1, max_length=200)
    input: RunInput | None = None
    command: RunCommand | None = None
    stream_mode: StreamMode | list[StreamMode] | None = Field(default=None, max_length=8)
    multitask_strategy: Literal["reject", "interrupt", "rollback", "enqueue"] | None = Field(
        default=None, description='"reject": 409 while a run is in progress; others wait their turn'
    )
    # Sent by the SDK; accepted and not applied by this server.
    metadata: dict[str, Any] | None = None
    config: dict[str, Any] | None = None
    context: dict[str, Any] | None = None
    stream_subgraphs: bool | None = None
    stream_resumable: bool | None = None
    interrupt_before: Literal["*"] | list[str] | None = None
    interrupt_after: Literal["*"] | list[str] | None = None
    feedback_keys: list[str] | None = None
    webhook: str | None = Field(default=None, max_length=2000)
    checkpoint: dict[str, Any] | None = None
    checkpoint_id: str | None = Field(default=None, max_length=200)
    checkpoint_during: bool | None = None
    if_not_exists: Literal["create", "reject"] | None = None
    on_disconnect: Literal["cancel", "continue"] | None = None
    on_completion: Literal["delete", "keep"] | None = None
    after_seconds: float | None = Field(default=None, ge=0)
    durability: Literal["sync", "async", "exit"] | None = None
    strict_resume: bool | None = None
    langsmith_tracer: dict[str, Any] | None = None

    def modes(self) -> list[str]:
        mode = self.stream_mode or ["values"]
        return [mode] if isinstance(mode, str) else list(mode)


def _model_of(typed: Any, name: str, total: bool) -> type[BaseModel]:
    """A pydantic model of a TypedDict (pydantic refuses typing.TypedDict before Python 3.12):
    required keys are required unless `total` is False, nested TypedDicts become models."""

    def convert(tp: Any) -> Any:
        if is_typeddict(tp):
            return _model_of(tp, tp.__name__, total=True)
        if get_origin(tp) is list:
            return list[convert(get_args(tp)[0])]  # type: ignore[misc]
        return tp

    fields: dict[str, Any] = {
        key: (convert(tp), ... if total and key in typed.__required_keys__ else None)
        for key, tp in get_type_hints(typed).items()
    }
    return create_model(name, __config__=ConfigDict(extra="forbid"), **fields)


# The types of the state fields update_state may write; checked after the scope checks.
StateValues = _model_of(ConversationState, "StateValues", total=False)
