"""respond: phrase the facts the turn gathered in the reply language and the persona's style.

Templates carry formality (usted/vous/Sie) and locale formats; personas change length,
detail and tips, never the facts.
"""

from __future__ import annotations

from typing import Any

from langgraph.runtime import Runtime

from supportgraph.context import Deps, deps_of
from supportgraph.domain.intents import intent_of
from supportgraph.domain.policy import exact_by_policy
from supportgraph.domain.state import ConversationState
from supportgraph.domain.text import UNSPACED_RE
from supportgraph.nlu.text import SENTENCE_END_RE, has_text
from supportgraph.nodes.llm_turn import add_usage, budget_for, llm_for, redactor_for
from supportgraph.templates import Templates, language_list, language_name

CONCISE = {"busy_parent", "expert"}


def concise(text: str, sentences: int = 2) -> str:
    parts = [part for part in SENTENCE_END_RE.split(text.strip()) if part.strip()]
    joiner = "" if UNSPACED_RE.search(text) else " "  # 。 and ！ need no space after them
    return joiner.join(parts[:sentences])


def kb_text(hit: dict[str, Any], persona: str) -> str:
    text = " ".join(line.strip("-* ").strip() for line in hit["text"].splitlines() if line.strip())
    return concise(text) if persona in CONCISE else text


def compose(state: ConversationState, templates: Templates, reply_languages: list[str]) -> str:
    lang = state.reply_language
    persona = state.persona
    intent = state.intent
    notes: list[str] = []
    detected = state.language
    if detected not in reply_languages and state.language_method == "model":
        notes.append(
            templates.render(
                "language_unsupported",
                lang,
                language=language_name(detected, lang),
                languages=language_list(reply_languages, lang),
            )
        )
    parts = [templates.render(item["key"], lang, **item["params"]) for item in state.say]
    hits = state.kb_hits
    if hits and not parts:
        parts.append(kb_text(hits[0], persona))
    if not parts:
        # Nothing gathered: a chat intent's own reply, else ask what was meant.
        row = intent_of(intent)
        key = row.reply if row is not None and row.reply else "fallback_clarify"
        parts.append(templates.render(key if has_text(state.text) else "no_text", lang))
    parts = notes + parts
    awaiting = state.awaiting
    active = state.active_flow
    if awaiting and active and intent != active and templates.has(f"resume_{awaiting}", lang):
        parts.append(templates.render(f"resume_{awaiting}", lang))
    if persona == "newbie" and templates.has(f"tip.{intent}", lang):
        parts.append(templates.render(f"tip.{intent}", lang))
    asking = state.awaiting == "confirmation"  # one question at a time
    if persona in ("product_seeker", "experimenter") and intent == "product_inquiry" and not asking:
        parts.append(templates.render(f"persona.{persona}", lang))
    if state.escalation.get("action") == "offer":
        parts.append(templates.render("offer_human", lang))
    return " ".join(p for p in parts if p)


async def respond(state: ConversationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = deps_of(runtime)
    reply = compose(state, deps.templates, deps.settings.reply_languages)
    awaiting = state.awaiting
    if state.escalation.get("action") == "offer" and not awaiting:
        awaiting = "handoff_offer"
    elif awaiting == "handoff_offer":
        awaiting = None  # the offer was answered (or ignored) this turn
    update: dict[str, Any] = {"awaiting": awaiting}
    llm = llm_for(deps, "phrasing")
    if llm is not None and has_text(state.text) and worth_phrasing(state, llm.settings):
        reply, update["llm_usage"] = await phrase_by_model(
            llm,
            {**state.as_dict(), "awaiting": awaiting},
            reply,
            deps.templates,
            runtime.stream_writer,
            await redactor_for(llm, deps, state.customer_id),
            budget_for(llm, state),
            deps.language,  # the agent's detector checks the reply's language: no second copy
        )
    update["reply"] = reply
    update["messages"] = [{"role": "bot", "text": reply, "turn": state.turn}]
    return update


def worth_phrasing(state: ConversationState, settings: Any) -> bool:
    """Whether a model should reword this turn's reply: not when the reply states a policy
    decision word for word (domain/policy.py), unless the operator asked for it, and not when
    a person takes over (the holding message is exact too)."""
    if settings.phrase_policy_replies:
        return True
    keys = [str(item["key"]) for item in state.say]
    return not exact_by_policy(keys) and state.escalation.get("action") != "handoff"


async def phrase_by_model(
    llm: Any,
    fields: dict[str, Any],
    template_reply: str,
    templates: Templates,
    write: Any,
    redactor: Any,
    budget: Any = None,
    detector: Any = None,
) -> tuple[str, dict[str, Any]]:
    """The reply written by the model from the turn's facts, streamed as it is checked
    (custom stream events "token" / "reset"); the template reply when the model fails or
    says anything the facts do not hold. `fields`: the state as a mapping (Facts reads it)."""
    from supportgraph.llm.phrasing import Facts

    def on_delta(text: str) -> None:
        write({"token": text})

    def on_reset() -> None:
        write({"reset": True})

    outcome = await llm.phrase(
        Facts.from_state(fields, template_reply),
        redactor,
        templates=templates,
        on_delta=on_delta,
        on_reset=on_reset,
        budget=budget,
        detector=detector,
    )
    return str(outcome.value), add_usage(fields.get("llm_usage"), outcome)
