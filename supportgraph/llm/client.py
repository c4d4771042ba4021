"""One model layer: langchain-openai's ChatOpenAI against one OpenAI-compatible endpoint,
made dependable enough to sit in a live conversation.

- every request is streamed, so a request we stop waiting for is closed and the server stops
  generating it (a non-streamed request keeps a local server busy after the client left);
- every call has a deadline learned from the endpoint's latency (latency.py, `timeout_s` is
  the ceiling) and, inside a turn, the turn's remaining time; a call or retry that cannot
  finish in time is not started; only failures that may pass (timeouts, 5xx, 429,
  connection) are retried;
- a circuit breaker skips an endpoint that keeps failing (breaker.py);
- structured output is negotiated per endpoint: json_schema, then function_calling, then
  json_mode, then a plain "answer in JSON" prompt; what worked is remembered per
  base_url + model, what the server refused is not tried again (negotiation.py);
- JSON answers and tool calls that arrive as text in `content` are accepted;
- no message is ever sent with empty content, and PII is redacted on the way out
  (messages.py);
- every answer is untrusted input: parsed, validated with pydantic, or rejected;
- token usage is read from the answers' usage, or counted with the server's tokenizer when
  a stream came without it (tokens.py);
- the answer-length cap is sent the way the server honours it (`max_tokens_param`).
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
from supportgraph.llm.latency import LatencyBook, TurnBudget
from supportgraph.llm.messages import json_instruction, safe_messages, unwrap_call, usage_of
from supportgraph.llm.negotiation import (
    STRUCTURED_METHODS,
    TOOL_METHODS,
    MethodMemory,
    refuses_feature,
)
from supportgraph.llm.pii import Redactor
from supportgraph.llm.prompts import SHOP_PREFIX
from supportgraph.llm.settings import ModelSettings
from supportgraph.llm.tokens import TokenCounter

if TYPE_CHECKING:
    from langchain_core.messages import AIMessage, BaseMessage
    from langchain_core.tools import BaseTool
    from langchain_openai import ChatOpenAI

T = TypeVar("T")
M = TypeVar("M", bound=BaseModel)


OnDelta = Callable[[str], Awaitable[None] | None]
UNBOUNDED = TurnBudget.unbounded()
TIMER_SLACK_S = 0.05  # a timeout this close to the turn's deadline was the turn's
PROBE_TOKENS = 8
OPENAI_HOSTS = ("api.openai.com",)


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
        latency: LatencyBook | None = None,
        tokens: TokenCounter | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.layer = layer
        self.settings = settings
        self.memory = memory or MethodMemory()
        self.latency = latency or LatencyBook()
        self.tokens = tokens or TokenCounter()
        self.clock = clock
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
                timeout=self.settings.timeout_s,
                max_retries=0,  # retries are ours: bounded, with backoff, seen by the breaker
                stream_usage=True,  # asks for usage at the end of a stream (OpenAI sends it)
            )
        return self._chat

    def length_cap(self, max_tokens: int | None = None) -> dict[str, Any]:
        """The request parameter that caps the answer, in the form this server honours."""
        cap = min(filter(None, (max_tokens, self.settings.max_tokens)), default=None)
        if cap is None:
            return {}
        param = self.settings.max_tokens_param
        if param == "auto":
            openai = any(host in self.settings.base_url for host in OPENAI_HOSTS)
            param = "max_completion_tokens" if openai else "max_tokens"
        # Sent as extra body fields: langchain-openai rewrites its own max_tokens into
        # max_completion_tokens, which local servers ignore.
        return {"extra_body": {param: cap}}

    # --- public calls

    async def complete(
        self,
        messages: Sequence[BaseMessage],
        *,
        redactor: Redactor | None = None,
        budget: TurnBudget = UNBOUNDED,
        max_tokens: int | None = None,
        stop: Sequence[str] = (),
    ) -> ModelAnswer[str]:
        """Plain text answer; `stop`: strings the server ends the answer at."""
        outgoing = safe_messages(messages, redactor)
        runnable = self.chat.bind(**self.length_cap(max_tokens), **_stops(stop))

        async def ask() -> tuple[str, Usage]:
            message, usage = await self._collect(runnable, outgoing)
            if not message.text.strip():
                raise InvalidAnswer("empty answer", usage)
            _refuse_cut_off(message, usage)
            return message.text, usage

        text, usage = await self._single(ask, "text", budget)
        return ModelAnswer(text, self.layer, self.settings.model, usage)

    async def structured(
        self,
        messages: Sequence[BaseMessage],
        schema: type[M],
        *,
        redactor: Redactor | None = None,
        budget: TurnBudget = UNBOUNDED,
        max_tokens: int | None = None,
        described: bool = False,
    ) -> ModelAnswer[M]:
        """An answer validated against `schema`, negotiating how to ask this endpoint.

        `described`: the messages already say what JSON to answer, so JSON mode and the
        prompt method add no schema of their own (it would be a second copy in the prompt,
        after the customer's message, where no server's prefix cache can keep it)."""
        outgoing = safe_messages(messages, redactor)
        fixed = self.settings.structured_output
        candidates = STRUCTURED_METHODS if fixed == "auto" else (fixed,)
        key = f"structured|{self.endpoint_key}"
        spent = Usage()
        notes: list[str] = []
        for method in self.memory.order(key, candidates):
            ask = functools.partial(
                self._ask_structured,
                method,
                outgoing,
                schema,
                self.length_cap(max_tokens),
                described,
            )
            try:
                value, usage = await self._resilient(ask, "structured", budget)
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
        budget: TurnBudget = UNBOUNDED,
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
                message, usage = await self._resilient(ask, "tools", budget)
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
        budget: TurnBudget = UNBOUNDED,
        max_tokens: int | None = None,
        stop: Sequence[str] = (),
    ) -> ModelAnswer[str]:
        """Stream the answer, calling `on_delta(text)` for each piece; returns the whole text.

        The first piece must come within the learned deadline, each later one within
        `timeout_s` (a stalled stream fails like a slow call), all of it within the turn.
        Retries happen only before the first piece was passed on: after that the customer
        has seen text, and a retry would repeat it. An exception raised by `on_delta` stops
        the stream and reaches the caller as it is (e.g. a grounding violation).
        """
        outgoing = safe_messages(messages, redactor)
        runnable = self.chat.bind(**self.length_cap(max_tokens), **_stops(stop))
        delivered = False

        async def passed_on(text: str) -> None:
            nonlocal delivered
            delivered = True
            try:
                await _maybe_await(on_delta(text))
            except Exception as exc:
                raise _CallerStopped(exc) from exc

        async def ask() -> tuple[str, Usage]:
            message, usage = await self._collect(runnable, outgoing, passed_on)
            if not message.text.strip():
                raise InvalidAnswer("empty stream", usage)
            _refuse_cut_off(message, usage)
            return message.text, usage

        try:
            text, usage = await self._single(
                ask, "text", budget, retry_while=lambda: not delivered, whole_answer=False
            )
        except _CallerStopped as stopped:
            raise stopped.original from None
        return ModelAnswer(text, self.layer, self.settings.model, usage)

    async def probe(self) -> str | None:
        """A start-up check: None when the endpoint answers, else what to fix."""
        from langchain_core.messages import HumanMessage, SystemMessage

        s = self.settings
        try:
            # The shared prompt prefix rides along: a server that caches prompt prefixes
            # has it computed before the first customer writes.
            ping = self.chat.bind(**self.length_cap(PROBE_TOKENS))
            warm = [SystemMessage(SHOP_PREFIX), HumanMessage("ping")]
            await asyncio.wait_for(ping.ainvoke(warm), s.timeout_s)
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
        self,
        method: str,
        messages: list[BaseMessage],
        schema: type[M],
        cap: dict[str, Any],
        described: bool = False,
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
                # The schema rides along: llama-cpp-python turns it into a grammar the answer
                # must follow (json_schema itself it refuses); other servers ignore it.
                runnable = self.chat.bind(
                    response_format={"type": "json_object", "schema": schema.model_json_schema()}
                )
            if not described:
                messages = [*messages, SystemMessage(json_instruction(schema))]
        feature = runnable is not self.chat
        if cap:
            runnable = runnable.bind(**cap)
        message, usage = await self._collect(runnable, messages, feature=feature)
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
            return await self._collect(self.chat.bind_tools(list(tools)), messages, feature=True)
        described = json.dumps([convert_to_openai_tool(t)["function"] for t in tools])
        instruction = (
            "You may call these tools: " + described + "\nTo call tools, answer only with "
            'JSON: {"tool_calls": [{"name": "...", "arguments": {...}}]}. '
            "Otherwise answer in plain text."
        )
        return await self._collect(self.chat, [*messages, SystemMessage(instruction)])

    async def _collect(
        self,
        runnable: Any,
        messages: list[BaseMessage],
        on_piece: Callable[[str], Awaitable[None]] | None = None,
        *,
        feature: bool = False,
    ) -> tuple[AIMessage, Usage]:
        """One streamed request, gathered into one message. Leaving early (a deadline, the
        caller's cancellation, on_piece raising) closes the stream, and with it the request.

        `feature`: the request carries a response_format or tools, so a refusal means "ask
        another way" rather than "the endpoint is broken".
        """
        from langchain_core.messages import AIMessage

        gathered: Any = None
        stream = runnable.astream(messages).__aiter__()
        try:
            async for chunk in _pieces(stream, self.settings.timeout_s):
                gathered = chunk if gathered is None else gathered + chunk
                if on_piece is not None and chunk.text:
                    await on_piece(chunk.text)
        except Exception as exc:
            if feature and refuses_feature(exc):
                raise _MethodRejected(str(exc)[:200]) from exc
            raise
        finally:
            await _close_quietly(stream)
        message = AIMessage(
            content=gathered.text if gathered is not None else "",
            tool_calls=list(getattr(gathered, "tool_calls", None) or []),
            usage_metadata=getattr(gathered, "usage_metadata", None),
            response_metadata=dict(getattr(gathered, "response_metadata", None) or {}),
        )
        usage = usage_of(message)
        if usage.tokens_in == 0 and usage.tokens_out == 0:
            answer = message.text or json.dumps([c["args"] for c in message.tool_calls])
            usage = Usage(*await self._count(messages, answer))
        return message, usage

    async def _count(self, messages: list[BaseMessage], answer: str) -> tuple[int, int]:
        """The tokens of a call whose answer carried no usage, by the server's tokenizer."""
        key = self.settings.api_key()
        headers = {"Authorization": f"Bearer {key.get_secret_value()}"} if key else None
        return await self.tokens.count_call(self.settings.base_url, messages, answer, headers)

    # --- resilience

    async def _single(
        self,
        ask: Callable[[], Awaitable[tuple[T, Usage]]],
        kind: str,
        budget: TurnBudget,
        retry_while: Callable[[], bool] = lambda: True,
        whole_answer: bool = True,
    ) -> tuple[T, Usage]:
        """One logical call where an invalid answer is this layer's failure."""
        try:
            return await self._resilient(
                ask, kind, budget, retry_while=retry_while, whole_answer=whole_answer
            )
        except InvalidAnswer as exc:
            self.breaker.record_failure()
            raise ModelFailure(self.layer, "invalid_answer", str(exc), exc.usage) from exc

    async def _resilient(
        self,
        ask: Callable[[], Awaitable[tuple[T, Usage]]],
        kind: str,
        budget: TurnBudget,
        retry_while: Callable[[], bool] = lambda: True,
        whole_answer: bool = True,
    ) -> tuple[T, Usage]:
        """Breaker check, learned per-attempt deadline, retries with backoff on passing
        failures, all inside the turn's budget.

        `whole_answer`: the learned deadline bounds the whole answer (else a stream, whose
        pieces have their own deadline: the turn's budget bounds it as a whole).
        InvalidAnswer and _MethodRejected pass through untouched: the endpoint is alive and
        the caller decides what they mean.
        """
        if not self.breaker.allow():
            raise ModelFailure(self.layer, "breaker_open")
        key = f"{kind}|{self.endpoint_key}"
        failure: ModelFailure | None = None
        attempts = 0
        for attempt in range(self.settings.max_retries + 1):
            if attempt:
                # Exponential backoff gives a struggling server room; capped so a turn
                # never waits long for a model it will probably fall back from anyway.
                delay = self.settings.backoff_s * 2 ** (attempt - 1)
                await self.sleep(min(delay, self.settings.backoff_max_s))
            # Not started at all when its usual latency does not fit in what is left.
            if not budget.allows(self.latency.typical(key)):
                failure = ModelFailure(self.layer, "turn_deadline")
                break
            timeout: float | None
            if whole_answer:
                own = self.latency.deadline(key, self.settings.timeout_s)
                timeout = budget.cap(own)
                cut_by_turn = timeout < own
            else:  # a stream: its pieces have their own deadline, the turn bounds the whole
                timeout, cut_by_turn = budget.remaining(), True
            attempts += 1
            started = self.clock()
            try:
                if timeout is None:
                    value, usage = await ask()
                else:
                    value, usage = await asyncio.wait_for(ask(), max(0.0, timeout))
            except (InvalidAnswer, _MethodRejected, _CallerStopped) as exc:
                self.breaker.release()
                if isinstance(exc, InvalidAnswer):
                    exc.usage.calls += attempts
                raise
            except Exception as exc:
                elapsed = self.clock() - started
                reason, detail = classify(exc)
                turn_ran_out = timeout is not None and elapsed >= timeout - TIMER_SLACK_S
                if reason == "timeout" and cut_by_turn and turn_ran_out:
                    # The turn ran out, not necessarily the endpoint: say so, and do not
                    # count it against the endpoint's health.
                    self.latency.observe(key, elapsed)
                    self.breaker.release()
                    raise ModelFailure(
                        self.layer, "turn_deadline", usage=Usage(calls=attempts)
                    ) from exc
                if reason == "timeout":
                    self.latency.observe(key, elapsed)  # slower than thought: learn it
                failure = ModelFailure(self.layer, reason, detail)
                if reason not in RETRYABLE or not retry_while():
                    break
                continue
            self.latency.observe(key, self.clock() - started)
            self.breaker.record_success()
            usage.calls += attempts
            return value, usage
        assert failure is not None
        failure.usage = failure.usage.add(Usage(calls=attempts))
        if failure.reason == "turn_deadline":
            self.breaker.release()
        else:
            self.breaker.record_failure()
        raise failure


async def _pieces(stream: Any, stall_s: float) -> Any:
    """The stream's chunks; a gap longer than `stall_s` between two is a timeout."""
    while True:
        try:
            yield await asyncio.wait_for(stream.__anext__(), stall_s)
        except StopAsyncIteration:
            return


async def _close_quietly(iterator: Any) -> None:
    close = getattr(iterator, "aclose", None)
    if close is None:
        return
    # A cancelled stream may refuse to close cleanly; its connection is dropped anyway.
    with contextlib.suppress(Exception):
        await close()


def _stops(stop: Sequence[str]) -> dict[str, Any]:
    return {"stop": list(stop)} if stop else {}


def _refuse_cut_off(message: AIMessage, usage: Usage) -> None:
    """An answer the server ended at the length cap stops mid-sentence ("41 / ブ"): no reply
    to show. (Servers say so as finish_reason "length"; one that says nothing passes.)"""
    if message.response_metadata.get("finish_reason") == "length":
        raise InvalidAnswer("cut off at the length cap", usage)
