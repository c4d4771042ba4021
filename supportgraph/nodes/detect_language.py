"""detect_language: the language of this message and the language to reply in.

It is the first node of a turn, so it also opens the turn: counters, clock, per-turn
fields reset, and the customer's message appended to the bounded window.
"""

from __future__ import annotations

import time
from typing import Any

from langgraph.runtime import Runtime

from supportgraph.context import Deps, deps_of
from supportgraph.domain.state import ConversationState


async def detect_language(state: ConversationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = deps_of(runtime)
    text = state.text
    now = state.now or deps.clock()
    turn = state.turn or 1
    previous = state.conversation_language
    guess = deps.language.detect(text, previous=previous)
    replyable = deps.settings.reply_languages
    if guess.language in replyable:
        reply_language = guess.language
        conversation_language = guess.language
    elif guess.method == "model":
        # A language we detect but have no templates for: reply in English and say so.
        reply_language = "en"
        conversation_language = guess.language
    else:
        reply_language = previous if previous in replyable else deps.settings.default_language
        conversation_language = previous or reply_language
    return {
        "turn": turn,
        "now": now,
        "started_at": state.started_at or now,
        "updated_at": now,
        "language": guess.language,
        "language_method": guess.method,
        "conversation_language": conversation_language,
        "reply_language": reply_language,
        "messages": [{"role": "customer", "text": text[:2000], "turn": turn}],
        # per-turn outputs start empty
        "tool_calls": [],
        "retrieved": [],
        "kb_hits": [],
        "say": [],
        "reply": "",
        "author": "bot",
        # LLM mode: the turn's model calls share a deadline counted from now (llm_turn.py).
        "llm_usage": {"started": time.time()} if deps.llm is not None else {},
        "escalation": {"action": "none", "reason": None, "priority": None},
    }
