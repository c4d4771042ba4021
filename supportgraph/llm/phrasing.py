"""Phrasing by the model: the reply written from the facts the turn gathered, and checked.

The facts are what the graph decided (tool results, KB chunks, what we wait for, what
needs confirmation) plus the reply the templates would give, which already carries every
amount and date in the customer's locale. The model may reword, never add data: the
grounding check (grounding.py) rejects a reply with numbers, ids, dates or amounts that
are not in the facts, and the caller's template reply is used instead.
"""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from supportgraph.llm.chain import AnswerRejected, ChainOutcome, FallbackChain, trouble_message
from supportgraph.llm.client import ModelClient, OnDelta
from supportgraph.llm.failures import ModelAnswer
from supportgraph.llm.grounding import FactIndex, GroundedStream, violations
from supportgraph.llm.latency import TurnBudget
from supportgraph.llm.pii import Redactor
from supportgraph.llm.prompts import SHOP_PREFIX
from supportgraph.nlu.vocab import load_vocab

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

MAX_REPLY_CHARS = 1500  # a longer reply is rambling, not support
MIN_REPLY_WORDS = 3  # fewer words ("2026-11-26..2026-11-30") say nothing to a customer
HISTORY_MESSAGES = 2  # the last exchange gives the tone; more costs prompt tokens each call
PROMPT_LEAVES_OUT = {"customer_text", "recent_messages", "tool_results", "kb_chunks"}
WORD_RE = re.compile(r"[^\W\d_]{2,}")
MIN_REPLY_TOKENS = 80
PERSONA_STYLE = {
    "newbie": "Explain simply, one step at a time, no jargon.",
    "experimenter": "Friendly; mention options the facts offer.",
    "expert": "Concise and precise; no filler.",
    "busy_parent": "Very short: the answer first, at most two sentences.",
    "product_seeker": "Helpful about the products in the facts; suggest only those.",
    "default": "Friendly, clear and brief.",
}
# How a reply addresses the customer (usted/vous/Sie), per language: vocab section `replies`.
FORMALITY: dict[str, str] = load_vocab().by_language("replies", "formality")


class Facts(BaseModel):
    """Everything the reply may say. Built by the respond node from the turn's state."""

    customer_text: str
    reply_language: str = "en"
    persona: str = "default"
    intent: str = ""
    template_reply: str = ""  # the offline reply: the facts, already phrased and formatted
    tool_results: list[dict[str, Any]] = Field(default_factory=list)
    kb_chunks: list[dict[str, Any]] = Field(default_factory=list)  # {"id", "text"}
    awaiting: str | None = None  # the slot we ask for next ("order_id", "email", ...)
    pending_action: dict[str, Any] | None = None  # the change that awaits a yes
    escalation: dict[str, Any] | None = None
    recent_messages: list[dict[str, Any]] = Field(default_factory=list)  # {"role", "text"}

    @classmethod
    def from_state(cls, state: Mapping[str, Any], template_reply: str) -> Facts:
        """From a ConversationState after act/adapt_persona, with the composed template reply."""
        return cls(
            customer_text=str(state.get("text", "")),
            reply_language=str(state.get("reply_language", "en")),
            persona=str(state.get("persona", "default")),
            intent=str(state.get("intent", "")),
            template_reply=template_reply,
            tool_results=list(state.get("tool_calls") or []),
            kb_chunks=[
                {"id": h.get("id"), "text": h.get("text", "")} for h in state.get("kb_hits") or []
            ][:3],
            awaiting=state.get("awaiting"),
            pending_action=state.get("pending_action"),
            escalation=state.get("escalation"),
            recent_messages=[
                {"role": m.get("role"), "text": m.get("text")}
                for m in (state.get("messages") or [])[-4:]
            ],
        )

    def facts_json(self, redactor: Redactor) -> str:
        """The facts as the model (and the grounding check) sees them: redacted.

        The template reply already states what the tool results and knowledge chunks say
        that matters this turn, so they stay out of the prompt: they were most of its
        tokens, and every token after the shared prefix is computed again on each call (a
        0.5B model on two cores reads about 65 tokens a second). A reply can only be
        grounded in what the model was shown."""
        data = self.model_dump(exclude=PROMPT_LEAVES_OUT)
        return json.dumps(redactor.redact_value(data), ensure_ascii=False, default=str)


def phrasing_messages(facts: Facts, redactor: Redactor) -> list[BaseMessage]:
    from langchain_core.messages import HumanMessage, SystemMessage

    language = load_vocab().names.get(facts.reply_language, facts.reply_language)
    # The shared prefix first (prompts.py: the server's cache keeps it between calls), then
    # what is fixed for phrasing, then what changes per turn.
    rules = [
        "Task: write the shop's next reply to the customer.",
        "Use only the facts given; copy numbers, ids, amounts and dates as written in them.",
        "Say nothing about an order, refund or change that the facts do not show.",
        "The template_reply already says the right thing: you may reword it, not change it.",
        f"Write in {language}. {FORMALITY.get(facts.reply_language, '')}",
        f"Style: {PERSONA_STYLE.get(facts.persona, PERSONA_STYLE['default'])}",
    ]
    if facts.pending_action:
        rules.append(
            "A change awaits the customer's confirmation: state the exact change and ask them "
            "to answer yes or no. Do not say it is done."
        )
    elif facts.awaiting:
        rules.append(f"End by asking the customer for: {facts.awaiting}.")
    history = "\n".join(
        f"{m['role']}: {redactor.redact(str(m['text']))}"
        for m in facts.recent_messages[-HISTORY_MESSAGES:]
    )
    user = (
        f"Facts (JSON): {facts.facts_json(redactor)}\n\n"
        + (f"Conversation so far:\n{history}\n\n" if history else "")
        + f"Customer: {redactor.redact(facts.customer_text)}\n\nReply:"
    )
    return [SystemMessage(SHOP_PREFIX + "\n".join(rules)), HumanMessage(user)]


def reply_tokens(facts: Facts) -> int:
    """The cap on a reworded reply: about twice the template's length, so a small model
    cannot ramble for seconds on the server's time (about four characters per token)."""
    return max(MIN_REPLY_TOKENS, len(facts.template_reply) // 2)


def check_reply(text: str, facts_index: FactIndex, redactor: Redactor) -> list[str]:
    """Why a (redacted) model reply may not be shown; empty when it may."""
    if not text.strip():
        return ["empty"]
    if len(text) > MAX_REPLY_CHARS:
        return ["too_long"]
    if len(WORD_RE.findall(text)) < MIN_REPLY_WORDS:
        return ["no_words"]
    return violations(text, facts_index, redactor)


def _rejection(problems: list[str]) -> AnswerRejected:
    return AnswerRejected("ungrounded: " + ", ".join(problems[:3]))


async def phrase(
    chain: FallbackChain,
    facts: Facts,
    redactor: Redactor,
    *,
    templates: Any = None,
    on_delta: OnDelta | None = None,
    on_reset: Callable[[], Awaitable[None] | None] | None = None,
    budget: TurnBudget | None = None,
) -> ChainOutcome[str]:
    """The reply to show: a grounded model reply with PII restored, else the template reply.

    With `on_delta`, the reply streams a checked sentence at a time. If a layer fails after
    some text was streamed, `on_reset` is called before the next layer answers: the
    client should clear what it showed. The outcome's value is always the full final reply.
    """
    messages = phrasing_messages(facts, redactor)
    facts_index = FactIndex(facts.facts_json(redactor))
    limit = budget or TurnBudget.unbounded()
    cap = reply_tokens(facts)

    async def ask(layer: ModelClient) -> ModelAnswer[str]:
        stream: GroundedStream | None = None
        try:
            if on_delta is None:
                answer = await layer.complete(
                    messages, redactor=redactor, budget=limit, max_tokens=cap
                )
            else:
                stream = GroundedStream(facts_index, redactor, on_delta, _rejection)
                answer = await layer.stream(
                    messages, stream.feed, redactor=redactor, budget=limit, max_tokens=cap
                )
                await stream.finish()
            problems = check_reply(answer.value, facts_index, redactor)
            if problems:
                raise AnswerRejected(_rejection(problems).reason, answer.usage)
        except BaseException:
            if stream is not None and stream.released and on_reset is not None:
                result = on_reset()
                if result is not None:
                    await result
            raise
        answer.value = redactor.restore(answer.value.strip())
        return answer

    def offline() -> str:
        if not facts.template_reply.strip():
            raise ValueError("no template reply to fall back to")
        return facts.template_reply

    return await chain.run(ask, offline, lambda: trouble_message(templates, facts.reply_language))
