"""Every escalation rule (docs/architecture.md), end to end, and the human handoff round trip."""

from __future__ import annotations

import pytest

from supportgraph.runtime.agent import NoPendingHandoff, SupportAgent
from tests.conftest import converse


async def test_negative_sentiment_hands_off_with_high_priority(
    agent: SupportAgent, thread: str
) -> None:
    rec = await agent.send(thread, "This is ridiculous, I'm furious, worst shop ever!!")
    assert rec.sentiment < -0.6
    assert rec.escalation.action == "handoff" and rec.escalation.priority == "high"
    assert rec.escalation.reason == "negative_sentiment"
    assert rec.path[-1] == "handoff" and rec.awaiting == "human_agent"


async def test_high_uncertainty_offers_a_human(agent: SupportAgent, thread: str) -> None:
    rec = await agent.send(thread, "hmm the thing with the stuff from before")
    assert rec.uncertainty > 0.7
    assert rec.escalation.action == "offer" and rec.escalation.priority == "medium"
    assert rec.awaiting == "handoff_offer" and "member of our team" in rec.reply
    accepted = await agent.send(thread, "yes please")
    assert (
        accepted.escalation.action == "handoff" and accepted.escalation.reason == "offer_accepted"
    )


async def test_same_question_more_than_three_times_hands_off(
    agent: SupportAgent, thread: str
) -> None:
    records = await converse(agent, thread, *["How long does shipping take?"] * 4)
    assert [r.escalation.action for r in records] == ["none", "none", "none", "handoff"]
    assert records[-1].escalation.reason == "repeated_question"
    assert records[-1].escalation.priority == "medium"


@pytest.mark.parametrize(
    "text",
    [
        "I will contact my lawyer about this order",
        "Voy a poner una denuncia, esto es un fraude",
        "Je vais porter plainte, c'est une escroquerie",
        "Mein Paket wurde gestohlen, ich gehe zur Polizei",
    ],
)
async def test_legal_and_fraud_words_are_critical_in_every_language(
    agent: SupportAgent, thread: str, text: str
) -> None:
    rec = await agent.send(thread, text)
    assert rec.escalation.action == "handoff" and rec.escalation.priority == "critical"
    assert rec.escalation.reason.startswith("legal_or_fraud")


async def test_explicit_request_for_a_human(agent: SupportAgent, thread: str) -> None:
    for i, text in enumerate(
        [
            "I want to talk to a human",
            "quiero hablar con una persona real",
            "je veux parler à un conseiller",
            "Ich möchte mit einem Mitarbeiter sprechen",
        ]
    ):
        rec = await agent.send(f"{thread}-{i}", text)
        assert rec.intent == "human_agent", text
        assert rec.escalation.action == "handoff" and rec.escalation.priority == "high"


async def test_vip_customers_get_high_priority(agent: SupportAgent, thread: str) -> None:
    # Carlos (C1002) is VIP: an uncertainty offer is raised from medium to high.
    await converse(agent, thread, "where is my order SG-10005", "carlos.garcia@example.com")
    rec = await agent.send(thread, "hmm the thing with the stuff from before")
    assert rec.escalation.action == "offer" and rec.escalation.priority == "high"
    assert rec.escalation.reason.endswith("+vip")


async def test_long_conversation_offers_a_human_once(agent: SupportAgent, thread: str) -> None:
    clock = agent._deps.clock
    start = 1_800_000_000.0
    try:
        agent.set_clock(lambda: start)
        first = await agent.send(thread, "How long does shipping take?")
        agent.set_clock(lambda: start + 11 * 60)
        late = await agent.send(thread, "And how much does express cost?")
        later = await agent.send(thread, "ok and to Spain?")
    finally:
        agent.set_clock(clock)
    assert first.escalation.action == "none"
    assert late.escalation.action == "offer" and late.escalation.reason == "long_conversation"
    assert later.escalation.reason != "long_conversation"


async def test_rules_are_configurable(agent: SupportAgent, thread: str) -> None:
    rules = agent.settings.escalation
    old = rules.sentiment_below
    try:
        rules.sentiment_below = -0.99
        rec = await agent.send(thread, "I'm really disappointed and annoyed")
        assert rec.escalation.action != "handoff"
    finally:
        rules.sentiment_below = old


async def test_handoff_summary_human_reply_and_release(agent: SupportAgent, thread: str) -> None:
    await agent.send(thread, "where is my order SG-10002?")
    handed = await agent.send(thread, "I want to speak to a real person")
    assert handed.awaiting == "human_agent" and "support team" in handed.reply
    pending = await agent.pending_handoff(thread)
    assert pending is not None
    summary = pending["summary"]
    assert summary["slots"]["order_id"] == "SG-10002"
    assert summary["reason"] == "customer_asked_for_human" and summary["priority"] == "high"
    assert any(m["text"] == "where is my order SG-10002?" for m in summary["recent_messages"])

    queued = await agent.send(thread, "hello? anyone there?")
    assert queued.awaiting == "human_agent" and queued.path == [] and queued.turn == 3
    # Nothing read the queued message: no intent, model or tokens carried over from turn 2.
    assert (queued.intent, queued.entities, queued.model, queued.tokens_in) == ("", {}, None, 0)

    human = await agent.agent_reply(thread, "Hi, this is Sam. Your parcel is with DHL.")
    assert human.author == "human_agent" and human.reply.startswith("Hi, this is Sam")
    assert human.path == ["handoff"]
    assert await agent.pending_handoff(thread) is None

    # The human stays in charge: the next customer message waits for them again.
    follow = await agent.send(thread, "thanks Sam, when will it arrive?")
    assert follow.awaiting == "human_agent" and follow.path[-1] == "handoff"
    released = await agent.release(thread)
    assert released.author == "system" and "assistant" in released.reply
    back = await agent.send(thread, "how much is express shipping?")
    assert back.escalation.action == "none" and back.retrieved
    history = await agent.history(thread)
    assert [r.author for r in history] == [
        "bot",
        "bot",
        "bot",
        "human_agent",
        "bot",
        "system",
        "bot",
    ]
    with pytest.raises(NoPendingHandoff):
        await agent.agent_reply(thread, "nobody is waiting")
