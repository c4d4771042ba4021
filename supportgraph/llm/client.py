"""One model layer: langchain-openai's ChatOpenAI against one OpenAI-compatible endpoint,
made dependable enough to sit in a live conversation.

- every call has a deadline (`timeout_s`) and bounded retries with exponential backoff;
  only failures that may pass (timeouts, 5xx, 429, connection) are retried;
- a circuit breaker skips an endpoint that keeps failing (breaker.py);
- structured output is negotiated per endpoint: json_schema, then function_calling, then
  json_mode, then a plain "answer in JSON" prompt; what worked is remembered per
  base_url + model, what the server refused is not tried again (negotiation.py);
- JSON answers and tool calls that arrive as text in `content` are accepted;
- no message is ever sent with empty content, and PII is redacted on the way out
  (messages.py);
- every answer is untrusted input: parsed, validated with pydantic, or rejected;
- token usage is counted from the answers' usage metadata.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import inspect
import json
import time
from collections.abc import Awaitable, Callable, Sequence
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, SecretStr, ValidationError

from supportgraph.llm.breaker import CircuitBreaker
from supportgraph.llm.failures import (
    RETRYABLE,
    InvalidAnswer,
    ModelAnswer,
    ModelFailure,
    Usage,
    classify,
)
from supportgraph.llm.jsontext import find_json
from supportgraph.llm.messages import json_instruction, safe_messages, unwrap_call, usage_of
from supportgraph.llm.negotiation import (
    STRUCTURED_METHODS,
    TOOL_METHODS,
    MethodMemory,
    refuses_feature,
)
from supportgraph.llm.pii import Redactor
from supportgraph.llm.settings import ModelSettings

if TYPE_CHECKING:
    from langchain_core.messages import AIMessage, BaseMessage
    from langchain_core.tools import BaseTool
    from langchain_openai import ChatOpenAI

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


OnDelta = Callable[[str], Awaitable[None] | None]


class _MethodRejected(Exception):
    """The endpoint refused a request feature (a response_format, tools): try another way."""


class _CallerStopped(Exception):
    """The streaming callback raised: stop and hand the caller its own exception back."""

    def __init__(self, original: BaseException) -> None:
        super().__init__(str(original))
        self.original = original


async def _maybe_await(value: Awaitable[None] | None) -> None:
    if inspect.isawaitable(value):
        await value


class ModelClient:
    """One endpoint (a fallback layer), called with deadline, retries and a breaker."""

    def __init__(
        self,
        layer: str,
        settings: ModelSettings,
        *,
        memory: MethodMemory | None = None,
        breaker: CircuitBreaker | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.layer = layer
        self.settings = settings
        self.memory = memory or MethodMemory()
        self.breaker = breaker or CircuitBreaker(
            settings.breaker_failures, settings.breaker_cooldown_s, clock=clock
        )
        self.sleep = sleep
        self._chat: ChatOpenAI | None = None
        # Built now, not on the first call: importing langchain-openai takes longer than a
        # short per-call deadline, and the first customer should not pay for it.
        _ = self.chat

    @property
    def endpoint_key(self) -> str:
        return f"{self.settings.base_url}|{self.settings.model}"

    @property
    def chat(self) -> ChatOpenAI:
        if self._chat is None:
            from langchain_openai import ChatOpenAI

            self._chat = ChatOpenAI(
                model=self.settings.model,
                base_url=self.settings.base_url,
                # A missing key is reported at start-up (check_llm_settings); here it fails
                # as a refused call (auth) and the chain falls back, never a crash mid-chat.
                api_key=self.settings.api_key() or SecretStr("missing-key"),
                temperature=self.settings.temperature,
                max_completion_tokens=self.settings.max_tokens,
                timeout=self.settings.timeout_s,
                max_retries=0,  # retries are ours: bounded, with backoff, seen by the breaker
                stream_usage=True,
            )
        return self._chat

    # --- public calls

    async def complete(
        self, messages: Sequence[BaseMessage], *, redactor: Redactor | None = None
    ) -> ModelAnswer[str]:
        """Plain text answer."""
        outgoing = safe_messages(messages, redactor)

        async def ask() -> tuple[str, Usage]:
            message = await self.chat.ainvoke(outgoing)
            usage = usage_of(message)
            if not message.text.strip():
                raise InvalidAnswer("empty answer", usage)
            return message.text, usage

        text, usage = await self._single(ask)
        return ModelAnswer(text, self.layer, self.settings.model, usage)

    async def structured(
        self,
        messages: Sequence[BaseMessage],
        schema: type[M],
        *,
        redactor: Redactor | None = None,
    ) -> ModelAnswer[M]:
        """An answer validated against `schema`, negotiating how to ask this endpoint."""
        outgoing = safe_messages(messages, redactor)
        fixed = self.settings.structured_output
        candidates = STRUCTURED_METHODS if fixed == "auto" else (fixed,)
        key = f"structured|{self.endpoint_key}"
        spent = Usage()
        notes: list[str] = []
        for method in self.memory.order(key, candidates):
            ask = functools.partial(self._ask_structured, method, outgoing, schema)
            try:
                value, usage = await self._resilient(ask)
            except _MethodRejected:
                self.memory.refused(key, method)
                notes.append(f"{method} refused")
                continue
            except InvalidAnswer as exc:
                spent = spent.add(exc.usage)
                notes.append(f"{method}: {exc}")
                continue
            except ModelFailure as failure:
                failure.usage = spent.add(failure.usage)
                raise
            self.memory.worked(key, method)
            return ModelAnswer(value, self.layer, self.settings.model, spent.add(usage), method)
        self.breaker.record_failure()
        raise ModelFailure(self.layer, "invalid_answer", "; ".join(notes), spent)

    async def with_tools(
        self,
        messages: Sequence[BaseMessage],
        tools: Sequence[BaseTool],
        *,
        redactor: Redactor | None = None,
    ) -> ModelAnswer[AIMessage]:
        """The model's answer with the tools bound (proposals are parsed by proposals.py).

        A server that refuses the `tools` parameter gets the tools described in the prompt
        instead, and is asked to write the calls as JSON.
        """
        outgoing = safe_messages(messages, redactor)
        key = f"tools|{self.endpoint_key}"
        for method in self.memory.order(key, TOOL_METHODS):
            ask = functools.partial(self._ask_with_tools, method, outgoing, tools)
            try:
                message, usage = await self._resilient(ask)
            except _MethodRejected:
                self.memory.refused(key, method)
                continue
            self.memory.worked(key, method)
            return ModelAnswer(message, self.layer, self.settings.model, usage, method)
        self.breaker.record_failure()
        raise ModelFailure(self.layer, "bad_request", "tools refused in every form")

    async def stream(
        self,
        messages: Sequence[BaseMessage],
        on_delta: OnDelta,
        *,
        redactor: Redactor | None = None,
    ) -> ModelAnswer[str]:
        """Stream the answer, calling `on_delta(text)` for each piece; returns the whole text.

        `timeout_s` bounds the wait for each piece (a stalled stream fails like a slow call).
        Retries happen only before the first piece was passed on: after that the customer
        has seen text, and a retry would repeat it. An exception raised by `on_delta` stops
        the stream and reaches the caller as it is (e.g. a grounding violation).
        """
        outgoing = safe_messages(messages, redactor)
        delivered = False

        async def ask() -> tuple[str, Usage]:
            nonlocal delivered
            parts: list[str] = []
            usage = Usage()
            iterator = self.chat.astream(outgoing).__aiter__()
            try:
                while True:
                    try:
                        chunk = await asyncio.wait_for(
                            iterator.__anext__(), self.settings.timeout_s
                        )
                    except StopAsyncIteration:
                        break
                    usage = usage.add(usage_of(chunk))
                    text = chunk.text
                    if not text:
                        continue
                    parts.append(text)
                    delivered = True
                    try:
                        await _maybe_await(on_delta(text))
                    except Exception as exc:
                        raise _CallerStopped(exc) from exc
            finally:
                await _close_quietly(iterator)
            if not "".join(parts).strip():
                raise InvalidAnswer("empty stream", usage)
            return "".join(parts), usage

        try:
            # No overall deadline: each piece has its own, and a long answer may stream long.
            text, usage = await self._single(ask, retry_while=lambda: not delivered, deadline=False)
        except _CallerStopped as stopped:
            raise stopped.original from None
        return ModelAnswer(text, self.layer, self.settings.model, usage)

    async def probe(self) -> str | None:
        """A start-up check: None when the endpoint answers, else what to fix."""
        from langchain_core.messages import HumanMessage

        s = self.settings
        try:
            await asyncio.wait_for(self.chat.ainvoke([HumanMessage("ping")]), s.timeout_s)
        except Exception as exc:
            reason, detail = classify(exc)
            hint = {
                "auth": f"the key in {s.api_key_env} was refused",
                "connection": "nothing answers there; is the server running?",
                "timeout": f"no answer within {s.timeout_s} s",
                "bad_request": f"the server refused the request; is the model name {s.model!r} right?",
            }.get(reason, str(exc)[:200])
            return f"LLM {self.layer} at {s.base_url} ({s.model}): {hint} [{reason} {detail}]"
        return None

    # --- how each kind of request is made

    async def _ask_structured(
        self, method: str, messages: list[BaseMessage], schema: type[M]
    ) -> tuple[M, Usage]:
        from langchain_core.messages import SystemMessage

        name = schema.__name__
        runnable: Any = self.chat
        if method == "json_schema":
            runnable = self.chat.bind(
                response_format={
                    "type": "json_schema",
                    "json_schema": {
                        "name": name,
                        "schema": schema.model_json_schema(),
                        "strict": False,
                    },
                }
            )
        elif method == "function_calling":
            runnable = self.chat.bind_tools([schema], tool_choice=name)
        else:
            if method == "json_mode":
                runnable = self.chat.bind(response_format={"type": "json_object"})
            messages = [*messages, SystemMessage(json_instruction(schema))]
        message = await self._invoke(runnable, messages)
        usage = usage_of(message)
        data: Any = message.tool_calls[0]["args"] if message.tool_calls else find_json(message.text)
        data = unwrap_call(data, name)
        if data is None:
            raise InvalidAnswer("no JSON in the answer", usage)
        try:
            return schema.model_validate(data), usage
        except ValidationError as exc:
            raise InvalidAnswer(f"{exc.error_count()} schema errors", usage) from exc

    async def _ask_with_tools(
        self, method: str, messages: list[BaseMessage], tools: Sequence[BaseTool]
    ) -> tuple[AIMessage, Usage]:
        from langchain_core.messages import SystemMessage
        from langchain_core.utils.function_calling import convert_to_openai_tool

        if method == "native":
            message = await self._invoke(self.chat.bind_tools(list(tools)), messages)
        else:
            described = json.dumps([convert_to_openai_tool(t)["function"] for t in tools])
            instruction = (
                "You may call these tools: " + described + "\nTo call tools, answer only with "
                'JSON: {"tool_calls": [{"name": "...", "arguments": {...}}]}. '
                "Otherwise answer in plain text."
            )
            message = await self._invoke(self.chat, [*messages, SystemMessage(instruction)])
        return message, usage_of(message)

    async def _invoke(self, runnable: Any, messages: list[BaseMessage]) -> AIMessage:
        try:
            message: AIMessage = await runnable.ainvoke(messages)
        except Exception as exc:
            if refuses_feature(exc) and runnable is not self.chat:
                raise _MethodRejected(str(exc)[:200]) from exc
            raise
        return message

    # --- resilience

    async def _single(
        self,
        ask: Callable[[], Awaitable[tuple[T, Usage]]],
        retry_while: Callable[[], bool] = lambda: True,
        deadline: bool = True,
    ) -> tuple[T, Usage]:
        """One logical call where an invalid answer is this layer's failure."""
        try:
            return await self._resilient(ask, retry_while=retry_while, deadline=deadline)
        except InvalidAnswer as exc:
            self.breaker.record_failure()
            raise ModelFailure(self.layer, "invalid_answer", str(exc), exc.usage) from exc

    async def _resilient(
        self,
        ask: Callable[[], Awaitable[T]],
        retry_while: Callable[[], bool] = lambda: True,
        deadline: bool = True,
    ) -> T:
        """Breaker check, per-attempt deadline, retries with backoff on passing failures.

        InvalidAnswer and _MethodRejected pass through untouched: the endpoint is alive and
        the caller decides what they mean.
        """
        if not self.breaker.allow():
            raise ModelFailure(self.layer, "breaker_open")
        timeout = self.settings.timeout_s if deadline else None
        failure: ModelFailure | None = None
        for attempt in range(self.settings.max_retries + 1):
            if attempt:
                # Exponential backoff gives a struggling server room; capped so a turn
                # never waits long for a model it will probably fall back from anyway.
                delay = self.settings.backoff_s * 2 ** (attempt - 1)
                await self.sleep(min(delay, self.settings.backoff_max_s))
            try:
                if timeout is None:
                    result = await ask()
                else:
                    result = await asyncio.wait_for(ask(), timeout)
            except (InvalidAnswer, _MethodRejected, _CallerStopped):
                self.breaker.release()
                raise
            except Exception as exc:
                reason, detail = classify(exc)
                failure = ModelFailure(self.layer, reason, detail)
                if reason not in RETRYABLE or not retry_while():
                    break
                continue
            self.breaker.record_success()
            return result
        self.breaker.record_failure()
        assert failure is not None
        raise failure


async def _close_quietly(iterator: Any) -> None:
    close = getattr(iterator, "aclose", None)
    if close is None:
        return
    # A cancelled stream may refuse to close cleanly; its connection is dropped anyway.
    with contextlib.suppress(Exception):
        await close()
