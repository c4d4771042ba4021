"""Request and response bodies of the HTTP API (they appear in the OpenAPI document)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class NewThread(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [{"locale": "es", "channel": "web", "metadata": {"page": "/help"}}]
        },
    )
    locale: str | None = Field(None, max_length=16, description="Customer's locale hint, e.g. 'es'")
    channel: str | None = Field(None, max_length=32, description="web, app, email, ...")
    metadata: dict[str, Any] = Field(default_factory=dict)


class ThreadCreated(BaseModel):
    thread_id: str
    created_at: float
    metadata: dict[str, Any]


class Message(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"text": "Where is my order SG-10002?"}]}
    )
    text: str = Field(description="The customer's message")


class AgentMessage(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"text": "Hi, I'm Sam from support. Let me check that."}]},
    )
    text: str
    agent: str | None = Field(None, max_length=64, description="Name shown for the human agent")


class ThreadSummary(BaseModel):
    thread_id: str
    turns: int
    language: str | None
    persona: str | None
    verified_customer: bool
    awaiting: str | None
    escalation: dict[str, Any]
    escalation_status: str


class ErrorBody(BaseModel):
    error: dict[str, Any]


class ForkRequest(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={"examples": [{"turn": 2, "text": "No, keep the order."}]},
    )
    turn: int = Field(ge=1, description="The turn whose customer message is replaced")
    text: str = Field(description="The different customer message")
    branch_id: str | None = Field(None, min_length=1, max_length=200)
