"""Understanding by the model: its reading of one message (intent, entities, sentiment),
validated as untrusted input and weighed against the offline reading (evidence.py).

The answer is compact on purpose: three keys, the intent an enum, no descriptions in the
schema (the shared prompt prefix explains them once). A server that enforces the schema as
a grammar (json_schema, or llama-cpp-python's json_object with a schema) then spends no
prompt on it, and the answer is a few dozen tokens.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from supportgraph.domain.intents import INTENT_NAMES, INTENTS
from supportgraph.llm.chain import ChainOutcome, FallbackChain
from supportgraph.llm.client import ModelClient
from supportgraph.llm.evidence import weigh_intent
from supportgraph.llm.failures import ModelAnswer
from supportgraph.llm.latency import TurnBudget
from supportgraph.llm.pii import Redactor
from supportgraph.llm.prompts import ENTITY_KEYS, SHOP_PREFIX
from supportgraph.nlu.intents import IntentGuess

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

MAX_ENTITIES = 20
# An answer is three short keys; more is a model rambling on the server's time.
ANSWER_TOKENS = 120
EntityValue = str | int | float | bool


def _compact(schema: dict[str, Any]) -> None:
    """No titles, no descriptions: every word of a schema may end up in the prompt."""
    schema.pop("title", None)
    schema.pop("description", None)
    for value in schema.values():
        if isinstance(value, dict):
            _compact(value)


def _clamp(value: Any, low: float, high: float) -> Any:
    return max(low, min(high, value)) if isinstance(value, int | float) else value


class ModelUnderstanding(BaseModel):
    """What the model must answer. Validated as untrusted input; unknown keys are ignored."""

    model_config = ConfigDict(extra="ignore", json_schema_extra=_compact)

    intent: str = Field(json_schema_extra={"enum": list[Any](INTENT_NAMES)})
    entities: dict[str, EntityValue] = Field(default_factory=dict)
    sentiment: float = Field(0.0, ge=-1, le=1)

    @field_validator("intent", mode="before")
    @classmethod
    def _known_intent(cls, value: Any) -> str:
        intent = str(value).strip().lower().replace(" ", "_").replace("-", "_")
        if intent not in INTENTS:
            raise ValueError(f"not in the intent catalogue: {value!r}")
        return intent

    @field_validator("sentiment", mode="before")
    @classmethod
    def _sentiment_range(cls, value: Any) -> Any:
        return _clamp(value, -1.0, 1.0)  # a model saying -1.2 means "very angry", not garbage

    @field_validator("entities", mode="before")
    @classmethod
    def _few_entities(cls, value: Any) -> Any:
        if isinstance(value, dict):
            # Nulls mean "not mentioned"; nested values are not entities.
            value = {
                str(k): v
                for k, v in value.items()
                if isinstance(v, str | int | float | bool) and v != ""
            }
            if len(value) > MAX_ENTITIES:
                raise ValueError("too many entities")
        return value


@dataclass
class Understanding:
    """The understanding of one message, whichever layer produced it."""

    intent: str
    confidence: float
    uncertainty: float
    entities: dict[str, Any] = field(default_factory=dict)
    sentiment: float = 0.0
    language: str | None = None
    disagreement: float = 0.0  # how strongly the offline classifier disagreed (0: agrees)
    proposed: str | None = None  # the model's own intent, when it was not taken


def weighed(
    answer: ModelUnderstanding, offline: IntentGuess | None, threshold: float = 0.3
) -> Understanding:
    """The model's reading with its intent weighed against the offline one (evidence.py)."""
    intent, confidence, uncertainty, disagreement = weigh_intent(answer.intent, offline, threshold)
    return Understanding(
        intent=intent,
        confidence=confidence,
        uncertainty=uncertainty,
        entities=dict(answer.entities),
        sentiment=round(answer.sentiment, 3),
        disagreement=disagreement,
        proposed=answer.intent if intent != answer.intent else None,
    )


def merge_entities(offline: Mapping[str, Any], model: Mapping[str, Any]) -> dict[str, Any]:
    """Rule-extracted entities win (ids and emails are matched exactly by the NLU); the model
    adds what the rules missed."""
    merged = {k: v for k, v in model.items() if v not in (None, "")}
    merged.update({k: v for k, v in offline.items() if v not in (None, "")})
    return merged


def understanding_messages(
    text: str, redactor: Redactor, context: Mapping[str, Any] | None = None
) -> list[BaseMessage]:
    from langchain_core.messages import HumanMessage, SystemMessage

    task = (
        "Task: read the customer's message and answer with JSON only: "
        '{"intent": one intent name, "entities": {key: value the message states}, '
        '"sentiment": -1 (angry) to 1 (happy), 0 when neutral}. '
        f"Entity keys: {', '.join(ENTITY_KEYS)}; leave out what the message does not state."
    )
    lines = []
    for key, value in (context or {}).items():
        if value not in (None, "", [], {}):
            lines.append(f"{key}: {redactor.redact(str(value))}")
    user = ("Context:\n" + "\n".join(lines) + "\n\n" if lines else "") + (
        f"Customer message: {redactor.redact(text)}"
    )
    return [SystemMessage(SHOP_PREFIX + task), HumanMessage(user)]


def uncertain_understanding() -> Understanding:
    """The last resort when no layer understood: unsure, so the graph asks or offers a human."""
    return Understanding(intent="out_of_scope", confidence=0.0, uncertainty=1.0)


async def understand(
    chain: FallbackChain,
    text: str,
    redactor: Redactor,
    *,
    offline: Callable[[], Understanding | Awaitable[Understanding]],
    offline_guess: IntentGuess | None = None,
    context: Mapping[str, Any] | None = None,
    disagreement_threshold: float = 0.3,
    budget: TurnBudget | None = None,
) -> ChainOutcome[Understanding]:
    """Understanding by the model if one answers validly (weighed against `offline_guess`,
    the classifier's reading of this text), else by `offline`.

    `context` is what helps read a short message: e.g. {"awaiting": "order_id",
    "last_bot_message": ...}. Entity values come back with personal data restored.
    """
    messages = understanding_messages(text, redactor, context)
    limit = budget or TurnBudget.unbounded()

    async def ask(layer: ModelClient) -> ModelAnswer[Understanding]:
        answer = await layer.structured(
            messages,
            ModelUnderstanding,
            redactor=redactor,
            budget=limit,
            max_tokens=ANSWER_TOKENS,
            described=True,  # the task names the three keys
        )
        result = weighed(answer.value, offline_guess, disagreement_threshold)
        result.entities = redactor.restore_value(result.entities)
        return ModelAnswer(result, answer.layer, answer.model, answer.usage, answer.method)

    return await chain.run(ask, offline, uncertain_understanding)
