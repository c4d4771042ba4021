"""understand: intent (with confidence and uncertainty), entities, sentiment.

The classifier reads one message; the conversation decides what it means. A bare
"SG-10234" while we wait for an order number continues the order flow; "yes" while a
change awaits confirmation confirms it. A confident different intent is a topic switch.
"""

from __future__ import annotations

import logging
from typing import Any

from langgraph.runtime import Runtime

from supportgraph.context import Deps, deps_of
from supportgraph.domain.intents import CHAT_ONLY, intent_of
from supportgraph.domain.lookup import reference_key
from supportgraph.domain.state import ConversationState
from supportgraph.domain.text import plain_forms
from supportgraph.llm.prompts import ENTITY_KEYS
from supportgraph.nlu.entities import extract_entities, order_references
from supportgraph.nlu.intents import IntentGuess
from supportgraph.nlu.lexicon import asks_for_human, confirmation, names_other_agent
from supportgraph.nlu.requests import kinds, parse_address
from supportgraph.nlu.sentiment import score_sentiment
from supportgraph.nlu.text import has_text, request_part, word_count
from supportgraph.nodes.llm_turn import (
    add_usage,
    budget_for,
    last_bot_message,
    llm_for,
    redactor_for,
)

log = logging.getLogger("supportgraph")

NLU_CHARS = 1000  # classify the start of a very long message; the rest adds noise, not intent

# Which entity answers which awaited slot.
SLOT_ANSWERS = {
    "order_id": {"order_id", "email", "name"},  # an email: verify first, then list their orders
    "email": {"email", "name", "zip"},
    "name_zip": {"name", "zip", "email"},
    "zip": {"zip"},
    "product": {"product_id", "product_type", "product"},
    "size": {"size"},
    "colour": {"colour"},
}
# A different intent this confident wins over the slot being filled ("actually, where is my
# order?" while we wait for an e-mail); below it the message is read as the awaited answer.
SWITCH_CONFIDENCE = 0.6
RETURN_KINDS = {"return", "exchange"}
CHANGE_KINDS = {"cancel", "address", "payment_method"}
# Entities the model may add: plain values (ids, contact data, sizes) the flows use as is.
MODEL_ENTITIES = frozenset(ENTITY_KEYS)


def _answers_change(awaiting: str, text: str, asked: set[str]) -> bool:
    if awaiting == "address":
        return parse_address(text) is not None
    return bool(asked & {"cancel", "address", "payment_method", "item"})


def _follows_up(
    state: ConversationState, entities: dict[str, Any], guess: tuple[str, float], text: str
) -> bool:
    previous = intent_of(state.intent)  # the catalogue names the slots that continue it
    relevant = previous.slots if previous is not None else frozenset()
    intent, confidence = guess
    unsure = confidence < 0.7 or intent == "out_of_scope"
    return bool(relevant & set(entities)) and unsure and word_count(text) <= 6


def takes_order_ids(intent: str | None) -> bool:
    """The intent's flow acts on one order (the catalogue lists order_id among its slots)."""
    found = intent_of(intent) if intent else None
    return found is not None and "order_id" in found.slots


async def resolve_order_reference(
    deps: Deps, text: str, entities: dict[str, Any], awaiting: str | None, active: str | None
) -> bool:
    """Put the order id as the store spells it in `entities`, whatever way it was typed.

    "w1234567", "# W 1234567" and "order 1042" name "#W1234567" and "#1042" when the store
    has them; a reference the store does not know stays as typed (the flow says "not found"
    after identity, the same reply as for another customer's order)."""
    # A bare "3720" names an order when we asked for one or an order flow is under way ("no,
    # I mean 3720" after a list of orders); it is only ever tried against the store.
    takes_orders = awaiting == "order_id" or takes_order_ids(active)
    for ref in order_references(text, bare_numbers=takes_orders):
        try:
            order = await deps.store.get_order(ref)
        except Exception:  # understanding goes on with the id as typed; the flow's own
            log.warning("order reference lookup failed", exc_info=True)  # lookup reports it
            return False
        if order is not None:
            entities["order_id"] = order.id
            zip_code = entities.get("zip")
            if zip_code and reference_key(order.id).endswith(zip_code):
                del entities["zip"]  # "10117" was the order number, not a postcode
            return True
    return False


# What only the shop has: a message naming one of its products or options (or, in a flow, a
# size or colour) is about the shop, whatever the classifier thought of the rest of it.
# (product_type is not one: its words are generic vocab, "hat" is German for "has").
CATALOGUE_REFERENCES = {"product_id", "options"}
IN_FLOW_REFERENCES = {"size", "colour"}
FOLLOW_UP_WORDS = 6
FOLLOW_UP_READINGS = 3  # the topic so far must be among the best shop readings


def rescued(
    guess: IntentGuess,
    entities: dict[str, Any],
    state: ConversationState,
    text: str,
    store_order: bool,
) -> tuple[str, float, float] | None:
    """The shop intent for a reading the store or the conversation contradicts.

    "Tell me about the Merino Wool Sweater" names a product of the catalogue; "ok and to
    Spain?" after a shipping answer continues it (that topic is among its best shop
    readings); "yes, but size 45 instead" in an exchange continues the exchange, whatever a
    weak reading says. Another company's order never resolves against our store, so it stays
    out of scope."""
    found = set(entities)
    in_flow = (CATALOGUE_REFERENCES | IN_FLOW_REFERENCES) & found
    weak = guess.intent == "out_of_scope" or guess.confidence < SWITCH_CONFIDENCE
    if state.active_flow and guess.intent != state.active_flow and weak and in_flow:
        probability = dict(guess.ranking).get(state.active_flow, 0.0)
        return state.active_flow, probability, round(1.0 - min(0.6, guess.confidence), 3)
    previous = state.active_flow or state.intent
    if guess.intent in CHAT_ONLY and guess.confidence < SWITCH_CONFIDENCE:
        # "ok and to Spain?" reads a little like "ok thanks": a weak small-talk reading of a
        # short message does not end the topic it follows up on.
        topics = [n for n, _ in guess.ranking if n not in CHAT_ONLY and n != "out_of_scope"]
        if previous in topics[:FOLLOW_UP_READINGS] and word_count(text) <= FOLLOW_UP_WORDS:
            probability = dict(guess.ranking)[str(previous)]
            return str(previous), probability, round(1.0 - min(0.6, guess.confidence), 3)
        return None
    if guess.intent != "out_of_scope":
        return None
    shop = next(((name, p) for name, p in guess.ranking if name != "out_of_scope"), None)
    if shop is None:
        return None
    name, probability = shop
    uncertainty = round(max(0.0, min(1.0, 1.0 - probability * 1.6)), 3)
    if store_order and takes_order_ids(previous):
        return str(previous), probability, uncertainty  # "no, I mean 3720"
    if store_order or CATALOGUE_REFERENCES & found:
        return name, probability, uncertainty
    shop_readings = [n for n, _ in guess.ranking if n != "out_of_scope"][:FOLLOW_UP_READINGS]
    if previous in shop_readings and word_count(text) <= FOLLOW_UP_WORDS:
        return str(previous), dict(guess.ranking)[str(previous)], uncertainty
    return None


def about_another_company(deps: Deps, text: str, intent: str, entities: dict[str, Any]) -> bool:
    """A request about another company's order, refund, payment or account (nlu/scope.py).
    Questions about prices or products may name a competitor ("do you price match Amazon?")
    and stay ours."""
    owned = takes_order_ids(intent) or intent == "account"
    if not owned or CATALOGUE_REFERENCES & set(entities):
        return False
    return deps.other_companies.named(text) is not None


def settled_offline(
    state: ConversationState,
    text: str,
    entities: dict[str, Any],
    confidence: float,
    llm: Any,
) -> str | None:
    """Why the offline reading of this message needs no model (the cascade), or None.

    The model is consulted only where it can help: the classifier is unsure, and no rule
    settled the message. A yes/no to our question, the slot we asked for, a request for a
    person: the rules read those exactly, and a model could only get them wrong."""
    if llm is None:
        return "offline mode"
    if confidence >= llm.settings.consult_below:
        return "confident"
    if asks_for_human(text):
        return "asks for a person"
    awaiting = state.awaiting
    if awaiting in ("confirmation", "handoff_offer") and confirmation(text) is not None:
        return "answers our question"
    if state.active_flow and SLOT_ANSWERS.get(awaiting or "", set()) & set(entities):
        return "answers the awaited slot"
    return None


async def read_by_model(
    llm: Any,
    deps: Deps,
    state: ConversationState,
    text: str,
    guess: IntentGuess,
    offline: tuple[str, float, float],
) -> tuple[Any, dict[str, Any]]:
    """The model's reading of an unsure message, weighed against the offline one (llm/
    evidence.py), and the turn's usage after the call. Within the turn's deadline; the offline
    reading when no model answers in time."""
    from supportgraph.llm.understanding import Understanding

    outcome = await llm.understand(
        text,
        await redactor_for(llm, deps, state.customer_id),
        offline=lambda: Understanding(*offline),
        # Weighed against the reading the store and the conversation made of the guess.
        offline_guess=IntentGuess(*offline, guess.ranking),
        context={
            "awaiting": state.awaiting,
            "active_flow": state.active_flow,
            "last_bot_message": last_bot_message(state),
        },
        budget=budget_for(llm, state),
    )
    return outcome.value, add_usage(state.llm_usage, outcome)


async def understand(state: ConversationState, runtime: Runtime[Deps]) -> dict[str, Any]:
    deps = deps_of(runtime)
    # ＳＧ－１０５８７ and SG-١٠٥٨٧ are SG-10587 to every reader below (the transcript keeps
    # what the customer typed).
    text = plain_forms(state.text[:NLU_CHARS])
    entities = extract_entities(text, deps.catalogue)
    store_order = await resolve_order_reference(
        deps, text, entities, state.awaiting, state.active_flow or state.intent
    )
    sentiment = round(score_sentiment(text, state.language), 3)
    awaiting = state.awaiting
    active = state.active_flow

    usage: dict[str, Any] | None = None
    if has_text(text):
        guess = deps.intents.classify(request_part(text), state.language)
        intent, confidence, uncertainty = guess.intent, guess.confidence, guess.uncertainty
        shop_reading = rescued(guess, entities, state, text, store_order)
        another_company = False
        if shop_reading is not None:
            intent, confidence, uncertainty = shop_reading
        elif not store_order and about_another_company(deps, text, intent, entities):
            intent = "out_of_scope"  # "my amazon parcel is late": not our order to track
            another_company = True
        llm = llm_for(deps, "understanding")
        settled = settled_offline(state, text, entities, confidence, llm) or (
            "another company's matter" if another_company else None
        )
        if llm is not None and settled is None:
            read, usage = await read_by_model(
                llm, deps, state, text, guess, (intent, confidence, uncertainty)
            )
            intent, confidence, uncertainty = read.intent, read.confidence, read.uncertainty
            # Rule-extracted entities win; the model adds plain values the rules missed, and
            # only what the customer actually wrote (llm/evidence.py): no invented id, no
            # echoed placeholder ever fills a slot.
            from supportgraph.llm.evidence import combined_sentiment, grounded_entities
            from supportgraph.llm.understanding import merge_entities

            model_entities = grounded_entities(
                {k: v for k, v in read.entities.items() if k in MODEL_ENTITIES}, text
            )
            entities = merge_entities(entities, model_entities)
            if usage["model"] in ("primary", "backup"):
                sentiment = round(combined_sentiment(sentiment, read.sentiment), 3)
    else:  # emoji or punctuation only: nothing to classify
        intent, confidence, uncertainty = "out_of_scope", 0.0, 1.0

    asked = kinds(text)  # the request kinds the message names (vocab `requests.kinds`)
    if intent == "order_modification" and not CHANGE_KINDS & asked:
        # "send back the chair from order 1042" is a return, "¿ya se entregó el pedido 3720?"
        # a tracking question: both read like a change to the order to the classifier.
        if RETURN_KINDS & asked:
            intent = "returns_refunds"
        elif "status" in asked:
            intent = "order_tracking"

    asked_for_person = asks_for_human(text) and (intent == "human_agent" or word_count(text) <= 8)
    if asked_for_person:
        intent, confidence, uncertainty = "human_agent", max(confidence, 0.9), 0.0
    elif intent == "human_agent" and names_other_agent(text):
        # "can you recommend a good travel agent": the word, not a wish to talk to us.
        intent = "out_of_scope"

    said = confirmation(text) if awaiting in ("confirmation", "handoff_offer") else None
    if said is not None:
        entities["confirmed"] = said
        if awaiting == "handoff_offer" and said:
            intent = "human_agent"
        elif active and not (intent != active and confidence >= 0.85 and not said):
            intent = active
        confidence, uncertainty = max(confidence, 0.95), 0.0
    elif awaiting == "order_id" and active and "no_reference" in asked:
        # "I don't have the order number": the flow verifies the customer and lists their
        # orders instead of asking again (the words read like a change request otherwise).
        entities["no_reference"] = True
        intent, confidence, uncertainty = active, max(confidence, 0.9), 0.0
    elif awaiting in SLOT_ANSWERS and active and not asked_for_person:
        # (A request for a person is never read as the answer we were waiting for.)
        answers = SLOT_ANSWERS[awaiting] & set(entities)
        # "sorry, the order is SG-10002": a correction of the order the flow is about, unless
        # the classifier is sure of another request ("actually, where is my order SG-10002?").
        correction = "order_id" in entities and takes_order_ids(active)
        short_reply = word_count(text) <= 4
        if (
            answers
            or correction
            or (short_reply and awaiting in ("email", "name_zip") and has_text(text))
        ):
            # Out of scope is no topic to switch to: "Camille Martin" when we asked for a name.
            if intent in (active, "out_of_scope") or confidence < SWITCH_CONFIDENCE or answers:
                intent, confidence, uncertainty = active, max(confidence, 0.9), 0.0
        if (
            awaiting in ("email", "name_zip")
            and not ({"name", "email"} & set(entities))
            and short_reply
            and intent == active
        ):
            # A bare "Anna Schmidt" when we asked for the email or name and zip code.
            # (Without the postcode: "Jan de Vries 1015 CJ".)
            rest = text.replace(str(entities.get("zip", "")), " ") if "zip" in entities else text
            cleaned = " ".join(w for w in rest.split() if not w.isdigit()).strip(" ,.，、")
            question = text.rstrip().endswith(("?", "？", "؟"))  # "Quanto custa o frete?"
            if (
                cleaned
                and not question
                and "@" not in cleaned
                and not any(ch.isdigit() for ch in cleaned)
            ):
                entities["name"] = cleaned

    elif (
        awaiting in ("address", "change_kind") and active and _answers_change(awaiting, text, asked)
    ):
        intent, confidence, uncertainty = active, max(confidence, 0.9), 0.0
    elif _follows_up(state, entities, (intent, confidence), text):
        # "and in white?" after a stock answer: a short message that only adds details
        # to the previous question continues it.
        intent, confidence, uncertainty = state.intent, max(confidence, 0.8), 0.1

    slots = {**state.slots}
    for key, value in entities.items():
        if key != "confirmed" and value not in (None, ""):
            slots[key] = value
    if "product_id" in entities:
        slots.pop("product_type", None)
    elif "product_type" in entities and entities["product_type"] != slots.get("product_type"):
        slots.pop("product_id", None)
        slots.pop("product", None)

    update = {
        "intent": intent,
        "confidence": round(float(confidence), 3),
        "uncertainty": round(float(uncertainty), 3),
        "entities": entities,
        "sentiment": sentiment,
        "sentiment_history": [sentiment],
        "slots": slots,
    }
    if usage is not None:
        update["llm_usage"] = usage
    return update
