"""retrieve: knowledge-base chunks for this turn, in the reply language, on the intent's topics.

The topics (KB documents worth searching) are the intent catalogue's (domain/intents.py):
narrowing by topic makes a small English-leaning embedding model reliable in four languages.
"""

from __future__ import annotations

import asyncio
import functools
import re
from typing import Any

from langgraph.runtime import Runtime

from supportgraph.context import Deps, deps_of
from supportgraph.domain.intents import intent_of
from supportgraph.domain.state import ConversationState
from supportgraph.domain.text import normalize
from supportgraph.nlu.text import BEFORE
from supportgraph.nlu.vocab import load_vocab

MIN_SCORE = 0.05


@functools.cache
def sizing_re() -> re.Pattern[str]:
    """A size or fit question in any served language (vocab `entities.size_words` and
    `fit_words`), at the start of a word: "sizes", "fitting", "尺码表" (but no "cm" in "acme"
    or "tg" in "outgoing": the lists of every language are merged)."""
    vocab = load_vocab()
    patterns = [*vocab.words("entities", "size_words"), *vocab.words("entities", "fit_words")]
    return re.compile(BEFORE + "(?:" + "|".join(f"(?:{p})" for p in patterns) + ")", re.IGNORECASE)


def needs_knowledge(state: ConversationState) -> bool:
    """Whether this turn's question is answered (at least partly) from the KB."""
    intent = intent_of(state.intent)
    if intent is None or not intent.uses_kb:
        return False
    if intent.retrieval == "size_advice":
        # Product questions are answered from the catalogue; only size/fit advice is in the KB.
        slots = state.slots
        if slots.get("product_id") or slots.get("product_type"):
            return False
        # Patterns are written with and without accents ("número", "numeracao").
        return any(sizing_re().search(t) for t in (state.text.lower(), normalize(state.text)))
    return True


async def retrieve(state: ConversationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = deps_of(runtime)
    intent = intent_of(state.intent)
    topics = list(intent.topics) if intent is not None and intent.topics else None
    # Chroma's calls block (files, its sqlite): in a worker thread, off the event loop.
    hits = await asyncio.to_thread(
        deps.kb.search, state.text[:500], state.reply_language, topics, k=2
    )
    kept = [h for h in hits if h.score >= MIN_SCORE][:1]
    return {
        "retrieved": [h.id for h in kept],
        "kb_hits": [
            {"id": h.id, "heading": h.heading, "text": h.text, "score": round(h.score, 3)}
            for h in kept
        ],
    }
