"""FlowContext: what a flow reads (state, deps) and what it produces (say, tool calls, updates)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from supportgraph.backends.protocols import WriteRefused
from supportgraph.context import Deps
from supportgraph.domain.identity import IDENTITY_LOOKUPS
from supportgraph.domain.policy import Refusal, check_call
from supportgraph.domain.records import ToolCall
from supportgraph.domain.state import ConversationState

T = TypeVar("T")


class Refused(Exception):
    """The policy guard or the backend refused a tool call."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class FlowContext:
    state: ConversationState
    deps: Deps
    slots: dict[str, Any]
    say_list: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[ToolCall] = field(default_factory=list)
    update: dict[str, Any] = field(default_factory=dict)

    @property
    def language(self) -> str:
        return self.state.reply_language

    @property
    def thread_id(self) -> str:
        return str(self.state.thread_id)

    @property
    def turn(self) -> int:
        return int(self.state.turn)

    @property
    def text(self) -> str:
        return self.state.text

    def today(self) -> dt.date:
        now = self.state.now or self.deps.clock()
        return dt.datetime.fromtimestamp(now, dt.UTC).date()

    @property
    def customer_id(self) -> str | None:
        return self.update.get("customer_id", self.state.customer_id)

    @property
    def identity_failures(self) -> int:
        return int(self.update.get("identity_failures", self.state.identity_failures))

    @property
    def identity_locked(self) -> bool:
        """The thread used up its failed identity attempts: no more customer lookups."""
        return self.identity_failures >= self.deps.settings.identity_attempts

    def identity_failed(self) -> None:
        """Count one failed identity attempt (a lookup that found nobody, or a customer
        whose order number did not match)."""
        self.update["identity_failures"] = self.identity_failures + 1

    def recorded_calls(self) -> list[dict[str, Any]]:
        """The tool calls as the state stores them (the TurnRecord's ToolCall, as a dict)."""
        return [call.model_dump() for call in self.tool_calls]

    def say(self, key: str, **params: Any) -> None:
        self.say_list.append({"key": key, "params": params})

    def ask(self, key: str, awaiting: str, flow: str, **params: Any) -> None:
        self.say(key, **params)
        self.update["awaiting"] = awaiting
        self.update["active_flow"] = flow

    def done(self) -> None:
        self.update["awaiting"] = None
        self.update["active_flow"] = None

    async def call_tool(
        self,
        name: str,
        args: dict[str, Any],
        summarize: Callable[[Any], str] = lambda r: "ok" if r else "not found",
        confirmed: dict[str, Any] | None = None,
    ) -> Any:
        """Run a LangChain tool through the policy guard, recording it as a tool call.

        Customer lookups are counted here, whoever proposed them (a flow or a model): one
        that finds nobody is a failed identity attempt, and once the thread used them all up
        none runs again."""
        lookup = name in IDENTITY_LOOKUPS
        if lookup and self.identity_locked:
            self.tool_calls.append(
                ToolCall(
                    name=name,
                    args=args,
                    ok=False,
                    result_summary="refused by policy: identity_attempts_exhausted",
                )
            )
            raise Refused("identity_attempts_exhausted")
        order = None
        if "order_id" in args:
            order = await self.deps.store.get_order(str(args["order_id"]))
        applied = bool(confirmed and args.get("key")) and await self.deps.store.write_applied(
            str(args["key"])
        )
        refusal: Refusal | None = check_call(
            name,
            args,
            self.customer_id,
            confirmed,
            order,
            self.today(),
            self.deps.settings.return_window(),
            applied,
        )
        if refusal is not None:
            self.tool_calls.append(
                ToolCall(
                    name=name,
                    args=args,
                    ok=False,
                    result_summary=f"refused by policy: {refusal.reason}",
                )
            )
            raise Refused(refusal.reason, refusal.detail)
        tool = self.deps.tools[name]
        try:
            result = await self.call(name, args, lambda: tool.ainvoke(args), summarize)
        except WriteRefused as exc:
            raise Refused(exc.reason, str(exc)) from exc
        if lookup and not result:
            self.identity_failed()
        return result

    async def call(
        self,
        name: str,
        args: dict[str, Any],
        run: Callable[[], Awaitable[T]],
        summarize: Callable[[T], str] = lambda r: "found" if r else "not found",
    ) -> T:
        """Run one backend call and record it as a tool call of this turn."""
        started = time.perf_counter()
        try:
            result = await run()
        except Exception as exc:
            self.tool_calls.append(
                ToolCall(
                    name=name,
                    args=args,
                    ok=False,
                    result_summary=f"error: {exc}"[:200],
                    ms=round((time.perf_counter() - started) * 1000, 2),
                )
            )
            raise
        self.tool_calls.append(
            ToolCall(
                name=name,
                args=args,
                result_summary=summarize(result)[:200],
                ms=round((time.perf_counter() - started) * 1000, 2),
            )
        )
        return result
