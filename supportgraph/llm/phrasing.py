"""Phrasing by the model: the reply written from the facts the turn gathered, and checked.

The facts are what the graph decided (tool results, KB chunks, what we wait for, what
needs confirmation) plus the reply the templates would give, which already carries every
amount and date in the customer's locale. The model may reword, never add data: the
grounding check (grounding.py) rejects a reply with numbers, ids, dates or amounts that
are not in the facts, and the caller's template reply is used instead.

The prompt names the reply language and the register (voice.py): the brand's register for
the language when it chose one (Settings.registers), else the language's own. A reply the
language detector reads as another language is refused the same way ("wrong_language").
Numbers and dates are checked as the reply's locale writes them (localized.py).
"""

from __future__ import annotations

import asyncio
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
from supportgraph.llm.pii import PLACEHOLDER_RE, Redactor
from supportgraph.llm.prompts import SHOP_PREFIX
from supportgraph.llm.voice import (
    Voice,
    is_warm,
    register_in,
    shared_detector,
    voice_for,
    wrong_language,
)
from supportgraph.locales import LocaleError
from supportgraph.nlu.text import word_count

if TYPE_CHECKING:
    from langchain_core.messages import BaseMessage

    from supportgraph.nlu.language import LanguageDetector

MAX_REPLY_CHARS = 1500  # a longer reply is rambling, not support
MIN_REPLY_WORDS = 3  # fewer words ("2026-11-26..2026-11-30") say nothing to a customer
NUMBERS_RE = re.compile(r"\w*\d\w*")  # ids, amounts, dates: not words to a reader
HISTORY_MESSAGES = 2  # the last exchange gives the tone; more costs prompt tokens each call
# Sent elsewhere in the prompt, or not at all (the register and locale are in its rules).
PROMPT_LEAVES_OUT = {
    "customer_text",
    "recent_messages",
    "tool_results",
    "kb_chunks",
    "reply_register",
    "reply_locale",
}
MIN_REPLY_TOKENS = 80
PERSONA_STYLE = {
    "newbie": "Explain simply, one step at a time, no jargon.",
    "experimenter": "Friendly; mention options the facts offer.",
    "expert": "Concise and precise; no filler.",
    "busy_parent": "Very short: the answer first, at most two sentences.",
    "product_seeker": "Helpful about the products in the facts; suggest only those.",
    "default": "Friendly, clear and brief.",
}


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
    # The brand's register for the reply language (None: the one its templates are in).
    reply_register: str | None = None
    reply_locale: str | None = None  # the customer's babel locale, when known ("de_CH")

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
            reply_register=state.get("reply_register"),
            reply_locale=state.get("reply_locale"),
        )

    def voice(self, templates: Any = None) -> Voice:
        """The language and register to write in: this turn's register, else the one the
        brand's templates are in for the language (Settings.registers), else its own."""
        register = self.reply_register or register_in(templates, self.reply_language)
        try:
            return voice_for(self.reply_language, register, self.reply_locale)
        except LocaleError:  # a register the language does not have: its own
            return voice_for(self.reply_language, None, self.reply_locale)

    def facts_json(self, redactor: Redactor) -> str:
        """The facts as the model (and the grounding check) sees them: redacted.

        The template reply already states what the tool results and knowledge chunks say
        that matters this turn, so they stay out of the prompt: they were most of its
        tokens, and every token after the shared prefix is computed again on each call (a
        0.5B model on two cores reads about 65 tokens a second). A reply can only be
        grounded in what the model was shown."""
        data = self.model_dump(exclude=PROMPT_LEAVES_OUT)
        return json.dumps(redactor.redact_value(data), ensure_ascii=False, default=str)


def phrasing_messages(
    facts: Facts, redactor: Redactor, voice: Voice | None = None
) -> list[BaseMessage]:
    from langchain_core.messages import HumanMessage, SystemMessage

    voice = voice or facts.voice()
    # The shared prefix first (prompts.py: the server's cache keeps it between calls), then
    # what is fixed for phrasing, then what is fixed per conversation (language, register,
    # style), then what changes per turn.
    rules = [
        "Task: write the shop's next reply to the customer.",
        "Use only the facts given; copy numbers, ids, amounts and dates as written in them.",
        "Say nothing about an order, refund or change that the facts do not show.",
        "The template_reply already says the right thing: you may reword it, not change it.",
        *voice.prompt_lines(),
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


# The prompt is a transcript ("Customer: ...\n\nReply:"); a small model goes on writing it:
# the server stops at these (a real 0.5B model wrote "... Customer: 注文した商品が… Reply: ...").
TRANSCRIPT_STOPS = ("Customer:", "Reply:", "\nbot:", "\ncustomer:")
# What must never reach a customer: the transcript's roles, or the facts' own JSON keys (the
# same model once sent 'bot: No estoy seguro… "awaiting": "handoff_offer", "escalation": {').
_NOT_A_REPLY = re.compile(
    r"(?:^|\s)(?:customer|reply|bot|facts)\s*:|\"(?:" + "|".join(Facts.model_fields) + r")\"\s*:",
    re.IGNORECASE,
)


def check_reply(
    text: str,
    facts_index: FactIndex,
    redactor: Redactor,
    language: Callable[[str], list[str]] | None = None,
) -> list[str]:
    """Why a (redacted) model reply may not be shown; empty when it may. `language` says
    whether the reply is in the wrong language (`language_check`)."""
    if not text.strip():
        return ["empty"]
    if len(text) > MAX_REPLY_CHARS:
        return ["too_long"]
    if _NOT_A_REPLY.search(text):
        return ["not_a_reply"]
    # Words as a reader counts them: CJK text has no spaces ("2026-11-26..2026-11-30" none).
    if word_count(PLACEHOLDER_RE.sub(" ", NUMBERS_RE.sub(" ", text))) < MIN_REPLY_WORDS:
        return ["no_words"]
    return (language(text) if language else []) or violations(text, facts_index, redactor)


WRONG_LANGUAGE = "wrong_language: "


def language_check(
    expected: str, detector: LanguageDetector, *, only_when_warm: bool = False
) -> Callable[[str], list[str]]:
    """A check that a (redacted) reply is in `expected`: ["wrong_language: en"] when the
    detector reads it as English. With `only_when_warm`, it passes while the detector's model
    is still loading (streamed sentences do not wait for it; the whole reply is checked)."""

    def check(text: str) -> list[str]:
        if only_when_warm and not is_warm(detector):
            return []
        found = wrong_language(text, expected, detector)
        return [WRONG_LANGUAGE + found] if found else []

    return check


_WARMING: dict[int, asyncio.Task[None]] = {}


def _warm(detector: LanguageDetector) -> asyncio.Task[None]:
    """The detector's model loading in a thread, once per detector, while the model answers
    (the task is kept here: a turn that falls back before the check need not wait for it)."""
    task = _WARMING.get(id(detector))
    loop = asyncio.get_running_loop()
    if task is None or task.get_loop() is not loop or (task.done() and not is_warm(detector)):
        task = asyncio.create_task(asyncio.to_thread(detector.warm))
        task.add_done_callback(lambda done: None if done.cancelled() else done.exception())
        _WARMING[id(detector)] = task
    return task


def _rejection(problems: list[str]) -> AnswerRejected:
    if problems and problems[0].startswith(WRONG_LANGUAGE):
        return AnswerRejected(problems[0])
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
    detector: LanguageDetector | None = None,
) -> ChainOutcome[str]:
    """The reply to show: a grounded model reply with PII restored, else the template reply.

    With `on_delta`, the reply streams a checked sentence at a time. If a layer fails after
    some text was streamed, `on_reset` is called before the next layer answers: the
    client should clear what it showed. The outcome's value is always the full final reply.
    `detector` checks the reply's language (default: one per process, `shared_detector`);
    its model loads while the first model call runs.
    """
    voice = facts.voice(templates)
    messages = phrasing_messages(facts, redactor, voice)
    facts_index = FactIndex(facts.facts_json(redactor), voice.locale, voice.variants)
    limit = budget or TurnBudget.unbounded()
    cap = reply_tokens(facts)
    detector = detector or shared_detector()
    loading = None if is_warm(detector) else _warm(detector)

    async def ask(layer: ModelClient) -> ModelAnswer[str]:
        stream: GroundedStream | None = None
        try:
            if on_delta is None:
                answer = await layer.complete(
                    messages, redactor=redactor, budget=limit, max_tokens=cap, stop=TRANSCRIPT_STOPS
                )
            else:
                early = language_check(voice.language, detector, only_when_warm=True)
                stream = GroundedStream(facts_index, redactor, on_delta, _rejection, early)
                answer = await layer.stream(
                    messages,
                    stream.feed,
                    redactor=redactor,
                    budget=limit,
                    max_tokens=cap,
                    stop=TRANSCRIPT_STOPS,
                )
                await stream.finish()
            if loading is not None:
                await asyncio.shield(loading)  # a cancelled turn leaves it loading for the next
            problems = check_reply(
                answer.value, facts_index, redactor, language_check(voice.language, detector)
            )
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
