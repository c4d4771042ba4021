"""retrieve: knowledge-base chunks for this turn, in the reply language, on the intent's topics."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from supportgraph.context import Deps, deps_of
from supportgraph.domain.state import ConversationState

# Intent -> KB documents (file stems) worth searching. Narrowing by topic makes a small
# English-leaning embedding model reliable in four languages.
TOPICS: dict[str, list[str]] = {
    "shipping": ["shipping"],
    "order_tracking": ["shipping", "orders"],
    "order_modification": ["orders"],
    "returns_refunds": ["returns", "warranty"],
    "pricing": ["discounts"],
    "payment": ["payment"],
    "account": ["account"],
    "general_inquiry": ["store", "warranty", "discounts"],
    "technical_support": ["account", "store", "payment"],
    "product_inquiry": ["sizes"],
}
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
    intent = state.get("intent", "")
    if intent == "product_inquiry":
        # Product questions are answered from the catalogue; only size/fit advice is in the KB.
        slots = state.get("slots") or {}
        text = state.get("text", "").lower()
        return not (slots.get("product_id") or slots.get("product_type")) and any(
            w in text for w in SIZE_WORDS
        )
    return intent in TOPICS and intent != "order_tracking"


async def retrieve(state: ConversationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = deps_of(runtime)
    intent = state.get("intent", "")
    language = state.get("reply_language", "en")
    hits = deps.kb.search(state.get("text", "")[:500], language, TOPICS.get(intent), k=2)
    kept = [h for h in hits if h.score >= MIN_SCORE][:1]
    return {
        "retrieved": [h.id for h in kept],
        "kb_hits": [
            {"id": h.id, "heading": h.heading, "text": h.text, "score": round(h.score, 3)}
            for h in kept
        ],
    }
