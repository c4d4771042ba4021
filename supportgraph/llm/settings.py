"""LLM settings: a primary OpenAI-compatible model, an optional backup, and how to call them.

Read with the rest of the settings (env vars SUPPORTGRAPH_LLM__PRIMARY__BASE_URL, ...).
The API key itself is never a setting: `api_key_env` names the environment variable that
holds it, so keys stay out of config files, logs and `Settings` dumps.
"""

from __future__ import annotations

import os
from typing import Any, Literal

from pydantic import BaseModel, Field, SecretStr, ValidationError, field_validator

StructuredMethod = Literal["json_schema", "function_calling", "json_mode", "prompt"]
ENV_PREFIX = "SUPPORTGRAPH_LLM__"
# Local servers (llama.cpp, Ollama, vLLM) accept any key; the OpenAI client insists on one.
NO_KEY_PLACEHOLDER = "not-needed"


class ModelSettings(BaseModel):
    """One OpenAI-compatible endpoint and how patiently to call it."""

    base_url: str = Field(description="e.g. https://api.openai.com/v1 or http://127.0.0.1:8080/v1")
    model: str = Field(min_length=1)
    # Name of the env var holding the key; empty or None for a local server without auth.
    api_key_env: str | None = "OPENAI_API_KEY"
    # The longest a model call may take (whole answer, or the first streamed piece). The
    # deadline actually used is learned from the endpoint's observed latency (latency.py),
    # never above this ceiling.
    timeout_s: float = Field(20.0, gt=0)
    max_retries: int = Field(2, ge=0, le=10)  # retries after the first attempt
    backoff_s: float = Field(0.5, ge=0)  # first retry delay; doubles each retry
    backoff_max_s: float = Field(4.0, ge=0)
    temperature: float = Field(0.2, ge=0, le=2)
    max_tokens: int | None = Field(600, gt=0)
    # How the answer-length cap is sent: OpenAI wants max_completion_tokens (newer models refuse
    # max_tokens); llama.cpp, llama-cpp-python, Ollama and vLLM honour max_tokens and ignore the
    # other (asked for 5 tokens, got 27). "auto": max_completion_tokens for api.openai.com only.
    max_tokens_param: Literal["auto", "max_tokens", "max_completion_tokens"] = "auto"
    breaker_failures: int = Field(3, ge=1)  # consecutive failed calls that open the breaker
    breaker_cooldown_s: float = Field(30.0, ge=0)  # open -> half-open after this long
    # "auto" negotiates per endpoint; a fixed method skips the negotiation.
    structured_output: Literal["auto"] | StructuredMethod = "auto"

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value

    def api_key(self) -> SecretStr | None:
        """The key from the environment; None when the named variable is unset or empty."""
        if not self.api_key_env:
            return SecretStr(NO_KEY_PLACEHOLDER)
        value = os.environ.get(self.api_key_env, "").strip()
        return SecretStr(value) if value else None


class ModelPrice(BaseModel):
    """What a model costs, in the operator's currency per million tokens."""

    input_per_mtok: float = Field(0.0, ge=0)
    output_per_mtok: float = Field(0.0, ge=0)

    def cost(self, tokens_in: int, tokens_out: int) -> float:
        return (tokens_in * self.input_per_mtok + tokens_out * self.output_per_mtok) / 1e6


class LLMSettings(BaseModel):
    """With these set, understanding and phrasing use the model; policy stays in the graph."""

    primary: ModelSettings
    backup: ModelSettings | None = None
    understanding: bool = True  # intent/entities/sentiment by the model, offline as cross-check
    phrasing: bool = True  # replies written by the model from the turn's facts
    tool_proposals: bool = False  # the model may propose tool calls (the policy guard decides)
    streaming: bool = True
    redact_order_ids: bool = False  # order ids are not personal for most shops
    # Intent disagreement with the offline classifier above this is recorded as disagreement
    # (the offline reading then stands: llm/evidence.py).
    disagreement_threshold: float = Field(0.3, ge=0, le=1)
    # The cascade (docs/llm.md): the model reads a message only when the offline reading is
    # not sure of it, i.e. its confidence is below this and no rule settled the message (a
    # yes/no to a question, a slot answer, a request for a person). 1.0: every message no
    # rule settled.
    consult_below: float = Field(0.85, ge=0, le=1)
    # The whole turn answers within this many seconds: a model call that cannot finish in
    # time is not started, one still running is cancelled, and the offline answer is used.
    # None: no turn deadline (each call still has its own).
    turn_deadline_s: float | None = Field(8.0, gt=0)
    # Replies that are exact by policy (a change awaiting yes, a refusal, a done write, an
    # identity request, a handoff) are sent as the template wrote them, without a model call.
    phrase_policy_replies: bool = False
    # Price per model name (the endpoint's `model`), for the cost of each turn.
    prices: dict[str, ModelPrice] = Field(default_factory=dict)


def check_llm_settings(settings: Any) -> list[str]:
    """Problems that stop the LLM mode from working, as messages a person can act on.

    `settings` is a supportgraph Settings (anything with an `llm` attribute). Empty list:
    fine, or LLM mode not configured (offline mode needs nothing).
    """
    llm: LLMSettings | None = getattr(settings, "llm", None)
    if llm is None:
        return []
    problems: list[str] = []
    layers: list[tuple[str, ModelSettings]] = [("primary", llm.primary)]
    if llm.backup is not None:
        layers.append(("backup", llm.backup))
    for name, model in layers:
        if model.api_key() is None:
            problems.append(
                f"LLM {name} model {model.model!r} at {model.base_url}: the API key is read from "
                f"the environment variable {model.api_key_env}, which is not set. Export it, or "
                f"set {ENV_PREFIX}{name.upper()}__API_KEY_ENV='' for a local server that needs "
                "no key."
            )
    return problems


def describe_settings_error(error: ValidationError) -> str:
    """A pydantic error from Settings() as a readable message naming the env vars to fix."""
    lines = ["The settings are not valid:"]
    for item in error.errors():
        env_name = "SUPPORTGRAPH_" + "__".join(str(part).upper() for part in item["loc"])
        lines.append(f"  {env_name}: {item['msg']}")
    return "\n".join(lines)
