"""Understanding by the model: intent, entities, sentiment, uncertainty and language, as a
validated pydantic object, cross-checked with the offline classifier.

The intent must be one of the catalogue (domain/intents.py); anything else is an
invalid answer. When the model and the offline classifier disagree strongly, the turn's
uncertainty rises, so the escalation rules may offer a human rather than act on a guess.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field, field_validator

from supportgraph.domain.intents import CATALOGUE, INTENT_NAMES, INTENTS
from supportgraph.llm.chain import ChainOutcome, FallbackChain
from supportgraph.llm.client import ModelClient
from supportgraph.llm.failures import ModelAnswer
from supportgraph.llm.pii import Redactor
from supportgraph.nlu.intents import IntentGuess

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

# One line per intent for the prompt, from the intent catalogue (domain/intents.py).
INTENT_HINTS = {intent.name: intent.hint for intent in CATALOGUE}
ENTITY_KEYS = "order_id, email, name, zip, product, product_type, size, colour, amount, quantity"
MAX_ENTITIES = 20
EntityValue = str | int | float | bool


def _clamp(value: Any, low: float, high: float) -> Any:
    return max(low, min(high, value)) if isinstance(value, int | float) else value


class ModelUnderstanding(BaseModel):
    """What the model must answer. Validated as untrusted input."""

    intent: str = Field(description="one of: " + ", ".join(INTENT_NAMES))
    entities: dict[str, EntityValue] = Field(
        default_factory=dict, description=f"keys among: {ENTITY_KEYS}"
    )
    sentiment: float = Field(0.0, ge=-1, le=1, description="-1 angry .. 1 happy")
    uncertainty: float = Field(0.5, ge=0, le=1, description="0 sure .. 1 guessing")
    language: str = Field("en", description="ISO 639-1 code of the customer's message")

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

    @field_validator("uncertainty", mode="before")
    @classmethod
    def _uncertainty_range(cls, value: Any) -> Any:
        return _clamp(value, 0.0, 1.0)

    @field_validator("language", mode="before")
    @classmethod
    def _language_code(cls, value: Any) -> str:
        code = str(value).strip().lower()[:2]
        if not code.isalpha() or len(code) != 2:
            raise ValueError(f"not an ISO 639-1 code: {value!r}")
        return code

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


def cross_check(
    answer: ModelUnderstanding, offline: IntentGuess | None, threshold: float = 0.3
) -> Understanding:
    """The model's understanding, with uncertainty raised when the offline classifier
    confidently reads another intent.

    disagreement = offline confidence in its own intent - offline probability of the
    model's intent: 0 when they agree, near 1 when the classifier is sure of another intent.
    """
    disagreement = 0.0
    if offline is not None and offline.intent != answer.intent:
        probability = dict(offline.ranking).get(answer.intent, 0.0)
        disagreement = max(0.0, offline.confidence - probability)
    uncertainty = answer.uncertainty
    if disagreement > threshold:
        uncertainty = max(uncertainty, disagreement)
    uncertainty = round(min(1.0, uncertainty), 3)
    return Understanding(
        intent=answer.intent,
        confidence=round(1.0 - uncertainty, 3),
        uncertainty=uncertainty,
        entities=dict(answer.entities),
        sentiment=round(answer.sentiment, 3),
        language=answer.language,
        disagreement=round(disagreement, 3),
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

    intents = "\n".join(f"- {name}: {INTENT_HINTS[name]}" for name in INTENT_NAMES)
    system = (
        "You read one customer message sent to an online shop's support chat and report "
        "what it means.\nIntents (pick exactly one):\n"
        f"{intents}\n"
        f"Entities: only what the message states, keys among {ENTITY_KEYS}. "
        "Text like [EMAIL_1] stands for personal data: copy it unchanged as the value.\n"
        "sentiment: -1 (angry) to 1 (happy). uncertainty: 0 (clear) to 1 (cannot tell). "
        "language: ISO 639-1 code of the message."
    )
    lines = []
    for key, value in (context or {}).items():
        if value not in (None, "", [], {}):
            lines.append(f"{key}: {redactor.redact(str(value))}")
    user = ("Context:\n" + "\n".join(lines) + "\n\n" if lines else "") + (
        f"Customer message: {redactor.redact(text)}"
    )
    return [SystemMessage(system), HumanMessage(user)]


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
) -> ChainOutcome[Understanding]:
    """Understanding by the model if one answers validly, else by `offline`.

    `offline_guess` (the classifier's result for this text) is the cross-check; `context`
    is what helps read a short message: e.g. {"awaiting": "order_id", "last_bot_message": ...}.
    Entity values come back with personal data restored.
    """
    messages = understanding_messages(text, redactor, context)

    async def ask(layer: ModelClient) -> ModelAnswer[Understanding]:
        answer = await layer.structured(messages, ModelUnderstanding, redactor=redactor)
        result = cross_check(answer.value, offline_guess, disagreement_threshold)
        result.entities = redactor.restore_value(result.entities)
        return ModelAnswer(result, answer.layer, answer.model, answer.usage, answer.method)

    return await chain.run(ask, offline, uncertain_understanding)
