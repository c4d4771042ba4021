"""detect_language: the language of this message and the language to reply in.

It is the first node of a turn, so it also opens the turn: counters, clock, per-turn
fields reset, and the customer's message appended to the bounded window.
"""

from __future__ import annotations

import time
from typing import Any

from langgraph.config import get_config
from langgraph.runtime import Runtime

from supportgraph.context import Deps, deps_of
from supportgraph.domain.chat_messages import PENDING_TURN
from supportgraph.domain.state import ConversationState
from supportgraph.domain.text import plain_forms
from supportgraph.nlu.text import word_count

# Product names are left out of detection only when this many of the customer's own words
# remain ("¿Tienen el Merino Wool Sweater?" keeps its names: two words say too little).
MIN_OWN_WORDS = 3


def open_turn(state: ConversationState, clock: float, run_thread: str | None) -> dict[str, Any]:
    """This turn's number, clock and thread id.

    SupportAgent names all three in the input. A host that sends only the message (LangGraph's
    own server, an SDK client) leaves the previous turn's values in state: the turn is then the
    next one, the clock is read now, and the thread is the run's own (its config), so the
    idempotency keys of writes, `<thread>:<turn>:<tool>`, never repeat within or across threads.
    """
    if state.turn > state.opened_turn:  # the input named this turn
        return {
            "turn": state.turn,
            "now": state.now or clock,
            "thread_id": state.thread_id or run_thread or "",
        }
    return {"turn": state.opened_turn + 1, "now": clock, "thread_id": run_thread or state.thread_id}


def run_thread_id() -> str | None:
    """The thread id of the running graph's config (None outside a checkpointed run)."""
    try:
        thread = get_config().get("configurable", {}).get("thread_id")
    except RuntimeError:  # called outside a runnable context
        return None
    return str(thread) if thread else None


def turn_text(state: ConversationState, max_chars: int) -> str:
    """The customer's message: a chat host's pending `messages` input, else `text`."""
    last = state.messages[-1] if state.messages else None
    if last is not None and last.get("turn") == PENDING_TURN and last.get("role") == "customer":
        return last["text"][:max_chars]
    return state.text


async def detect_language(state: ConversationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = deps_of(runtime)
    text = turn_text(state, deps.settings.max_message_chars)
    opened = open_turn(state, deps.clock(), run_thread_id())
    now, turn = opened["now"], opened["turn"]
    previous = state.conversation_language
    # A full-width ｍｉｓａｋｉ＠ｅｘａｍｐｌｅ．ｊｐ is Latin letters, not Chinese text; product
    # names are the shop's words, not the customer's language.
    plain = plain_forms(text)
    own_words = deps.catalogue.without_names(plain)
    signal = own_words if word_count(own_words) >= MIN_OWN_WORDS else plain
    guess = deps.language.detect(signal, previous=previous)
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
        **opened,
        "text": text,
        "opened_turn": turn,
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
