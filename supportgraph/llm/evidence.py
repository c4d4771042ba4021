"""Model output is evidence, never authority (docs/llm.md).

A small model invents order ids, echoes redaction placeholders ("PHONE_1") as values, scores
a bare "SG-10002" as furious and picks wrong intents. The model is asked only when the offline
reading is unsure (the cascade, nodes/understand.py), and its readings are combined with the
offline ones by three rules:

- its intent is taken only where the offline classifier finds it nearly as likely as its own
  best reading (within `disagreement_threshold`): the model breaks ties, it does not overrule.
  A request for a person is never the model's reading alone (the rules recognise those, and a
  handoff follows). The turn's confidence and uncertainty stay the offline classifier's, so a
  model reply can neither prompt nor prevent an offer of a human;
- an entity from the model counts only when it is in the customer's own words: an id by its
  letters and digits, an email as written, a name or any other value word for word (restored
  personal data is the customer's own text; a placeholder or an invention is not);
- the model's sentiment counts only where the offline score agrees on its direction, and then
  the milder of the two is taken: one model reply cannot push a calm customer to a handoff.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from supportgraph.domain.lookup import reference_key
from supportgraph.domain.text import normalize

if TYPE_CHECKING:
    from supportgraph.nlu.intents import IntentGuess

# Intents a model may not introduce: each one starts a handoff.
RULE_ONLY_INTENTS = {"human_agent"}
# Values compared by their letters and digits only: "SG 10002" in the text grounds "SG-10002".
KEYED = {"order_id"}


def in_text(key: str, value: Any, text: str) -> bool:
    """Is this entity value something the customer wrote?"""
    if value in (None, ""):
        return False
    if key in KEYED:
        wanted = reference_key(str(value))
        return len(wanted) >= 3 and wanted in reference_key(text)
    if key == "email":
        return str(value).lower() in text.lower()
    words = normalize(str(value)).split()
    norm = normalize(text)
    return bool(words) and all(re.search(rf"(?<!\w){re.escape(w)}(?!\w)", norm) for w in words)


def grounded_entities(model: Mapping[str, Any], text: str) -> dict[str, Any]:
    """The model's entities that appear in the customer's message."""
    return {k: v for k, v in model.items() if in_text(k, v, text)}


def combined_sentiment(offline: float, model: float) -> float:
    """The model's reading only where the offline score points the same way, never stronger
    than the milder of the two."""
    if offline == 0.0 or model == 0.0 or (offline > 0) != (model > 0):
        return offline
    return offline if abs(offline) <= abs(model) else model


def weigh_intent(
    model: str, offline: IntentGuess | None, threshold: float
) -> tuple[str, float, float, float]:
    """(intent, confidence, uncertainty, disagreement) of a turn whose message the model read.

    disagreement = the offline confidence in its own reading - its probability of the model's.
    """
    if offline is None:  # nothing to weigh against (a caller without a classifier)
        return model, 0.5, 0.5, 0.0
    support = dict(offline.ranking).get(model, 0.0)
    disagreement = (
        round(max(0.0, offline.confidence - support), 3) if model != offline.intent else 0.0
    )
    taken = model == offline.intent or (
        disagreement <= threshold and model not in RULE_ONLY_INTENTS
    )
    if not taken:
        return offline.intent, offline.confidence, offline.uncertainty, disagreement
    confidence = offline.confidence if model == offline.intent else round(support, 3)
    return model, confidence, offline.uncertainty, disagreement
