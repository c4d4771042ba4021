"""retrieve: knowledge-base chunks for this turn, in the reply language, on the intent's topics.

The topics (KB documents worth searching) are the intent catalogue's (domain/intents.py):
narrowing by topic makes a small English-leaning embedding model reliable in four languages.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from supportgraph.context import Deps, deps_of
from supportgraph.domain.intents import intent_of
from supportgraph.domain.state import ConversationState

MIN_SCORE = 0.05


SIZE_WORDS = (
    "size",
    "fit",
    "measure",
    "talla",
    "medida",
    "taille",
    "pointure",
    "mesure",
    "grosse",
    "größe",
    "passform",
    "messen",
)


def needs_knowledge(state: ConversationState) -> bool:
    """Whether this turn's question is answered (at least partly) from the KB."""
    intent = intent_of(state.intent)
    if intent is None or not intent.uses_kb:
        return False
    if intent.retrieval == "size_advice":
        # Product questions are answered from the catalogue; only size/fit advice is in the KB.
        slots = state.slots
        text = state.text.lower()
        return not (slots.get("product_id") or slots.get("product_type")) and any(
            w in text for w in SIZE_WORDS
        )
    return True


async def retrieve(state: ConversationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = deps_of(runtime)
    intent = intent_of(state.intent)
    topics = list(intent.topics) if intent is not None and intent.topics else None
    hits = deps.kb.search(state.text[:500], state.reply_language, topics, k=2)
    kept = [h for h in hits if h.score >= MIN_SCORE][:1]
    return {
        "retrieved": [h.id for h in kept],
        "kb_hits": [
            {"id": h.id, "heading": h.heading, "text": h.text, "score": round(h.score, 3)}
            for h in kept
        ],
    }
