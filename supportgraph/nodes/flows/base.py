"""FlowContext: what a flow reads (state, deps) and what it produces (say, tool calls, updates)."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from supportgraph.context import Deps
from supportgraph.state import ConversationState

T = TypeVar("T")


@dataclass
class FlowContext:
    state: ConversationState
    deps: Deps
    slots: dict[str, Any]
    say_list: list[dict[str, Any]] = field(default_factory=list)
    tool_calls: list[dict[str, Any]] = field(default_factory=list)
    update: dict[str, Any] = field(default_factory=dict)

    @property
    def language(self) -> str:
        return self.state.get("reply_language", "en")

    @property
    def customer_id(self) -> str | None:
        return self.update.get("customer_id", self.state.get("customer_id"))

    def say(self, key: str, **params: Any) -> None:
        self.say_list.append({"key": key, "params": params})

    def ask(self, key: str, awaiting: str, flow: str, **params: Any) -> None:
        self.say(key, **params)
        self.update["awaiting"] = awaiting
        self.update["active_flow"] = flow

    def done(self) -> None:
        self.update["awaiting"] = None
        self.update["active_flow"] = None

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
                {
                    "name": name,
                    "args": args,
                    "ok": False,
                    "result_summary": f"error: {exc}"[:200],
                    "ms": round((time.perf_counter() - started) * 1000, 2),
                }
            )
            raise
        self.tool_calls.append(
            {
                "name": name,
                "args": args,
                "ok": True,
                "result_summary": summarize(result)[:200],
                "ms": round((time.perf_counter() - started) * 1000, 2),
            }
        )
        return result
