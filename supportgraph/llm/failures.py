"""What a model call produced: a validated answer with its token cost, or a failure with a
reason short enough for TurnRecord.fallback ("timeout", "server_error", "auth", ...)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")

# Failures that may pass if asked again; the others (auth, bad request) will not.
RETRYABLE = {"timeout", "server_error", "rate_limited", "connection"}


@dataclass
class Usage:
    tokens_in: int = 0
    tokens_out: int = 0
    calls: int = 0  # requests sent to the endpoint (retries count)

    def add(self, other: Usage) -> Usage:
        return Usage(
            self.tokens_in + other.tokens_in,
            self.tokens_out + other.tokens_out,
            self.calls + other.calls,
        )


@dataclass
class ModelAnswer(Generic[T]):
    """A validated answer and what it cost."""

    value: T
    layer: str  # "primary" or "backup"
    model: str
    usage: Usage = field(default_factory=Usage)
    method: str | None = None  # the structured-output or tool method that worked


class ModelFailure(Exception):
    """This layer gave no usable answer; the fallback chain moves on to the next one."""

    def __init__(self, layer: str, reason: str, detail: str = "", usage: Usage | None = None):
        super().__init__(f"{layer}: {reason}" + (f" ({detail})" if detail else ""))
        self.layer = layer
        # timeout, turn_deadline, server_error, auth, breaker_open, invalid_answer, ...
        self.reason = reason
        self.detail = detail
        self.usage = usage or Usage()


class InvalidAnswer(Exception):
    """The endpoint answered, but not with something we accept."""

    def __init__(self, message: str, usage: Usage | None = None) -> None:
        super().__init__(message)
        self.usage = usage or Usage()


def classify(exc: BaseException) -> tuple[str, str]:
    """(reason, detail) for a failed call, in words the TurnRecord's `fallback` can carry."""
    import openai

    if isinstance(exc, TimeoutError | openai.APITimeoutError):
        return "timeout", ""
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status in (401, 403):
            return "auth", f"HTTP {status}"
        if status == 429:
            return "rate_limited", "HTTP 429"
        if status >= 500:
            return "server_error", f"HTTP {status}"
        return "bad_request", f"HTTP {status}"
    if isinstance(exc, openai.APIConnectionError):
        return "connection", ""
    if isinstance(exc, ValueError | openai.APIResponseValidationError):
        return "invalid_answer", type(exc).__name__  # e.g. a 200 whose body is not JSON
    return "error", type(exc).__name__
