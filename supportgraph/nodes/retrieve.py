"""retrieve: knowledge-base chunks for this turn, in the reply language, on the intent's topics."""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from supportgraph.context import Deps
from supportgraph.state import ConversationState

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


def needs_knowledge(intent: str) -> bool:
    return intent in TOPICS


async def retrieve(state: ConversationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = runtime.context
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
