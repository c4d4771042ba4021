"""LLMService: the LLM mode as the nodes see it, built once per process from LLMSettings.

Holds the model layers (each with its breaker), the per-endpoint method memory, latency
book and token counter, so breakers, negotiation results and learned deadlines outlive a
turn. Per turn, callers make a Redactor
(`new_redactor()`) and pass it to every call of that turn.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from supportgraph.llm.chain import ChainOutcome, FallbackChain
from supportgraph.llm.client import ModelClient, OnDelta
from supportgraph.llm.latency import LatencyBook, TurnBudget
from supportgraph.llm.negotiation import MethodMemory
from supportgraph.llm.phrasing import Facts, phrase
from supportgraph.llm.pii import Redactor
from supportgraph.llm.proposals import Proposals, propose_tools
from supportgraph.llm.settings import LLMSettings
from supportgraph.llm.tokens import TokenCounter
from supportgraph.llm.understanding import Understanding, understand

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage
    from langchain_core.tools import BaseTool

    from supportgraph.nlu.intents import IntentGuess


class LLMService:
    def __init__(
        self,
        settings: LLMSettings,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.settings = settings
        self.memory = MethodMemory()
        self.latency = LatencyBook()
        self.tokens = TokenCounter()
        layers = [
            ModelClient(
                name,
                model,
                memory=self.memory,
                latency=self.latency,
                tokens=self.tokens,
                clock=clock,
                sleep=sleep,
            )
            for name, model in (("primary", settings.primary), ("backup", settings.backup))
            if model is not None
        ]
        self.chain = FallbackChain(layers, settings.prices)

    def budget(self, started: float | None) -> TurnBudget:
        """The time left for model calls in a turn that started at `started` (epoch s)."""
        return TurnBudget.from_start(started, self.settings.turn_deadline_s)

    def new_redactor(self) -> Redactor:
        return Redactor(redact_order_ids=self.settings.redact_order_ids)

    async def probe(self) -> list[str]:
        """Start-up check of every layer: messages for those that do not answer."""
        found = await asyncio.gather(*(layer.probe() for layer in self.chain.layers))
        return [message for message in found if message]

    async def understand(
        self,
        text: str,
        redactor: Redactor,
        *,
        offline: Callable[[], Understanding | Awaitable[Understanding]],
        offline_guess: IntentGuess | None = None,
        context: Mapping[str, Any] | None = None,
        budget: TurnBudget | None = None,
    ) -> ChainOutcome[Understanding]:
        return await understand(
            self.chain,
            text,
            redactor,
            offline=offline,
            offline_guess=offline_guess,
            context=context,
            disagreement_threshold=self.settings.disagreement_threshold,
            budget=budget,
        )

    async def phrase(
        self,
        facts: Facts,
        redactor: Redactor,
        *,
        templates: Any = None,
        on_delta: OnDelta | None = None,
        on_reset: Callable[[], Awaitable[None] | None] | None = None,
        budget: TurnBudget | None = None,
        detector: Any = None,
    ) -> ChainOutcome[str]:
        return await phrase(
            self.chain,
            facts,
            redactor,
            templates=templates,
            on_delta=on_delta if self.settings.streaming else None,
            on_reset=on_reset,
            budget=budget,
            detector=detector,
        )

    async def propose_tools(
        self,
        messages: Sequence[BaseMessage],
        tools: Mapping[str, BaseTool],
        redactor: Redactor,
        budget: TurnBudget | None = None,
    ) -> ChainOutcome[Proposals]:
        return await propose_tools(self.chain, messages, tools, redactor, budget)
