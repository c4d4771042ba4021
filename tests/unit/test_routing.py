"""Routing decisions of the graph and the intent catalogue they read: pure functions of the
state, no store, no models."""

from __future__ import annotations

import json

import pytest

from supportgraph.domain.intents import CATALOGUE, CHAT_ONLY, INTENT_NAMES, INTENTS
from supportgraph.domain.state import ConversationState
from supportgraph.graph.builder import route_after_escalate
from supportgraph.nlu.intents import TRAIN_FILE
from supportgraph.nodes.flows.registry import flows
from supportgraph.nodes.retrieve import needs_knowledge


def state(intent: str, **fields: object) -> ConversationState:
    escalation = fields.pop("escalation", {"action": "none", "reason": None, "priority": None})
    return ConversationState(intent=intent, escalation=escalation, **fields)  # type: ignore[arg-type]


def test_a_handoff_goes_to_the_handoff_node_whatever_the_intent() -> None:
    for intent in ("greeting", "order_tracking", "general_inquiry"):
        handoff = {"action": "handoff", "reason": "negative_sentiment", "priority": "high"}
        assert route_after_escalate(state(intent, escalation=handoff)) == "handoff"


def test_a_pending_confirmation_is_settled_by_act_even_after_small_talk() -> None:
    # "thanks" while a cancellation waits for yes: act cancels the proposal.
    assert route_after_escalate(state("thanks_goodbye", awaiting="confirmation")) == "act"


@pytest.mark.parametrize("intent", sorted(CHAT_ONLY))
def test_chat_only_intents_go_straight_to_phrasing(intent: str) -> None:
    assert route_after_escalate(state(intent)) == "adapt_persona"


def test_a_low_confidence_guess_starts_no_lookup_or_flow() -> None:
    offer = {"action": "offer", "reason": "low_confidence", "priority": "medium"}
    assert route_after_escalate(state("order_modification", escalation=offer)) == "adapt_persona"
    vip_offer = {**offer, "reason": "low_confidence+vip"}
    assert route_after_escalate(state("general_inquiry", escalation=vip_offer)) == "adapt_persona"


def test_kb_intents_retrieve_and_flow_intents_without_topics_act() -> None:
    assert route_after_escalate(state("general_inquiry")) == "retrieve"
    assert route_after_escalate(state("returns_refunds")) == "retrieve"
    assert route_after_escalate(state("order_tracking", slots={"order_id": "SG-1"})) == "act"


def test_an_offer_for_a_long_conversation_still_answers_the_question() -> None:
    offer = {"action": "offer", "reason": "long_conversation", "priority": "medium"}
    assert route_after_escalate(state("shipping", escalation=offer)) == "retrieve"


def test_product_questions_use_the_kb_only_for_size_advice_without_a_product() -> None:
    assert needs_knowledge(state("product_inquiry", text="how do your jackets fit?"))
    assert not needs_knowledge(
        state("product_inquiry", text="which size fits me?", slots={"product_id": "P2001"})
    )
    assert not needs_knowledge(state("product_inquiry", text="do you have jackets?"))
    assert route_after_escalate(state("product_inquiry", text="do you have it in red?")) == "act"


def test_size_advice_is_found_in_every_served_language() -> None:
    questions = [
        "Come vestono le vostre giacche? Che taglia prendo?",
        "Qual é o caimento das camisetas?",
        "你们的衣服偏大还是偏小？",
        "サイズ感はどうですか",
        "هل عندكم جدول المقاسات؟",
        "Valt jullie kleding klein?",
    ]
    for text in questions:
        assert needs_knowledge(state("product_inquiry", text=text)), text
    assert not needs_knowledge(state("product_inquiry", text="Avete delle giacche nere?"))
    # Another language's short size word inside an English word is none ("tg", "cm").
    assert not needs_knowledge(state("product_inquiry", text="any outgoing acme stock?"))


def test_an_unknown_intent_is_routed_to_act_not_to_the_kb() -> None:
    assert not needs_knowledge(state("no_such_intent"))
    assert route_after_escalate(state("no_such_intent")) == "act"


def test_every_flow_intent_has_exactly_one_registered_flow() -> None:
    registered = flows()
    assert set(registered) == {i.name for i in CATALOGUE if i.kind == "flow"}
    assert not set(registered) & CHAT_ONLY


def test_the_catalogue_rows_are_complete() -> None:
    assert len(INTENT_NAMES) == len(set(INTENT_NAMES)) == len(INTENTS)
    for intent in CATALOGUE:
        assert intent.hint, intent.name  # the model's prompt describes every intent
        assert (intent.reply is not None) == intent.chat_only, intent.name
        if intent.kind == "kb":
            assert intent.topics, f"{intent.name} is answered from the KB but names no topic"


def test_the_classifier_is_trained_on_exactly_the_catalogue() -> None:
    trained = set(json.loads(TRAIN_FILE.read_text(encoding="utf-8")))
    assert trained == set(INTENT_NAMES)
