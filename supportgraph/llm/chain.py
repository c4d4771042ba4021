"""The fallback chain: primary model -> backup model -> offline -> "we are having trouble".

A conversation never breaks because a model did: each layer that fails (or is skipped by
its open breaker) adds its reason to `fallback`, and the next layer answers. The offline
layer is the caller's (the offline classifier, the templates); if even that raises, the
customer gets a polite message with the brand's contact details.
"""

from __future__ import annotations

import inspect
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from supportgraph.llm.client import ModelClient
from supportgraph.llm.failures import ModelAnswer, ModelFailure, Usage
from supportgraph.llm.settings import ModelPrice
from supportgraph.nlu.vocab import FALLBACK_LANGUAGE, load_vocab

T = TypeVar("T")

OFFLINE = "offline"
TROUBLE = "trouble"

# Used when the brand has no "llm_trouble" template (per language: vocab section `replies`).
# The brand's own contact details come from its "human_unavailable" template, appended after
# this sentence.
TROUBLE_TEXT: dict[str, str] = load_vocab().by_language("replies", "trouble")


class AnswerRejected(Exception):
    """A model answered, but the caller refused the answer (e.g. it invented order data).

    The chain then goes straight to the offline layer: another model would be asked to
    phrase the same facts, and the template phrases them safely and at once. Not a sign
    of an unhealthy endpoint, so no breaker counts it.
    """

    def __init__(self, reason: str, usage: Usage | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.usage = usage or Usage()


@dataclass
class ChainOutcome(Generic[T]):
    value: T
    model: str  # which layer answered: "primary", "backup", "offline" or "trouble"
    fallback: (
        str | None
    )  # why earlier layers did not, e.g. "primary: timeout; backup: breaker_open"
    tokens_in: int = 0
    tokens_out: int = 0
    model_name: str | None = None  # the endpoint's model name, when a model answered
    calls: int = 0  # requests sent, every layer and retry included
    cost: float = 0.0  # by the price table (LLMSettings.prices), every layer included

    def record_fields(self) -> dict[str, Any]:
        """The TurnRecord fields this outcome fills."""
        return {
            "model": self.model,
            "fallback": self.fallback,
            "tokens_in": self.tokens_in,
            "tokens_out": self.tokens_out,
            "llm_calls": self.calls,
            "cost": self.cost,
        }


def trouble_message(templates: Any, language: str) -> str:
    """The last resort reply: an apology and how to reach a person, in the reply language."""
    if templates is not None and templates.has("llm_trouble", language):
        return str(templates.render("llm_trouble", language))
    apology = TROUBLE_TEXT.get(language) or TROUBLE_TEXT[FALLBACK_LANGUAGE]
    contact = ""
    if templates is not None and templates.has("human_unavailable", language):
        contact = str(templates.render("human_unavailable", language))
    return f"{apology} {contact}".strip()


async def _call(fn: Callable[[], T | Awaitable[T]]) -> T:
    value = fn()
    if inspect.isawaitable(value):
        return await value  # type: ignore[no-any-return]
    return value


class FallbackChain:
    """The model layers in order; the offline and trouble layers are given per call."""

    def __init__(
        self, layers: Sequence[ModelClient], prices: Mapping[str, ModelPrice] | None = None
    ) -> None:
        self.layers = list(layers)
        self.prices = dict(prices or {})

    def _cost(self, layer: ModelClient, usage: Usage) -> float:
        price = self.prices.get(layer.settings.model)
        return price.cost(usage.tokens_in, usage.tokens_out) if price else 0.0

    async def run(
        self,
        ask: Callable[[ModelClient], Awaitable[ModelAnswer[T]]],
        offline: Callable[[], T | Awaitable[T]] | None,
        trouble: Callable[[], T],
    ) -> ChainOutcome[T]:
        reasons: list[str] = []
        spent = Usage()
        cost = 0.0

        def outcome(value: T, layer: str, model_name: str | None = None) -> ChainOutcome[T]:
            why = "; ".join(reasons) or None
            return ChainOutcome(
                value, layer, why, spent.tokens_in, spent.tokens_out, model_name, spent.calls, cost
            )

        for layer in self.layers:
            try:
                answer = await ask(layer)
            except ModelFailure as failure:
                reasons.append(f"{layer.layer}: {failure.reason}")
                spent, cost = spent.add(failure.usage), cost + self._cost(layer, failure.usage)
                if failure.reason == "turn_deadline":
                    break  # the next layer would not have the time either
                continue
            except AnswerRejected as rejected:
                reasons.append(f"{layer.layer}: {rejected.reason}")
                spent, cost = spent.add(rejected.usage), cost + self._cost(layer, rejected.usage)
                break
            spent, cost = spent.add(answer.usage), cost + self._cost(layer, answer.usage)
            return outcome(answer.value, layer.layer, answer.model)
        if offline is not None:
            try:
                value = await _call(offline)
            except Exception as exc:  # the offline layer is the safety net, but not the last
                reasons.append(f"offline: {type(exc).__name__}")
            else:
                return outcome(value, OFFLINE)
        return outcome(trouble(), TROUBLE)
