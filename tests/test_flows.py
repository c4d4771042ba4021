"""Conversations through the real graph: slot filling, identity, stock, KB, languages, personas."""

from __future__ import annotations

from supportgraph.runtime.agent import SupportAgent
from tests.conftest import converse


async def test_where_is_my_order_asks_then_fills_slots_across_turns(
    agent: SupportAgent, thread: str
) -> None:
    first, second, third = await converse(
        agent, thread, "Where is my order?", "It's SG-10002", "anna.schmidt@example.com"
    )
    assert first.intent == "order_tracking" and first.awaiting == "order_id"
    assert "order number" in first.reply and first.tool_calls == []
    assert second.entities["order_id"] == "SG-10002" and second.awaiting == "email"
    assert second.tool_calls == []  # no order data before identity is verified
    assert third.intent == "order_tracking" and third.awaiting is None
    assert [c.name for c in third.tool_calls] == [
        "find_customer_by_email",
        "get_order_details",
        "track_shipment",
    ]
    assert "DHL4019283746" in third.reply and "DHL" in third.reply
    assert third.verified_customer
    assert third.path == [
        "detect_language",
        "understand",
        "escalate",
        "act",
        "adapt_persona",
        "respond",
    ]


async def test_identity_by_name_and_zip(agent: SupportAgent, thread: str) -> None:
    *_, last = await converse(
        agent, thread, "estado de mi pedido SG-10006", "Camille Martin", "75011"
    )
    assert last.reply_language == "fr" or last.reply_language == "es"
    assert any(c.name == "find_customer_by_name_zip" and c.ok for c in last.tool_calls)
    assert "6A18273645501" in last.reply


async def test_another_customers_order_is_not_found(agent: SupportAgent, thread: str) -> None:
    # SG-10004 belongs to Carlos (C1002); Anna must not learn anything about it, and the
    # reply must not tell that her email exists: it is the one an unknown email gets.
    *_, last = await converse(agent, thread, "where is order SG-10004?", "anna.schmidt@example.com")
    assert "SG-10004" in last.reply and "couldn't verify" in last.reply
    assert "delivered" not in last.reply.lower() and "Anna" not in last.reply
    assert last.awaiting == "email" and not last.verified_customer
    # Her own order verifies her; then another customer's email is refused.
    own = await agent.send(thread, "SG-10002")
    assert own.verified_customer and "DHL4019283746" in own.reply
    switch = await agent.send(thread, "my email is carlos.garcia@example.com")
    assert "another account" in switch.reply
    assert not any(c.name == "find_customer_by_email" for c in switch.tool_calls)


async def test_stock_check_with_alternatives(agent: SupportAgent, thread: str) -> None:
    out = await agent.send(thread, "Do you have the Trail Runner Sneakers in size 42 black?")
    assert out.intent == "product_inquiry"
    assert [c.name for c in out.tool_calls] == [
        "get_product_details",
        "check_stock",
        "suggest_alternatives",
    ]
    assert "out of stock" in out.reply and "42 / white" in out.reply
    ok = await agent.send(thread, "and in white?")
    assert "in stock" in ok.reply and "€89.90" in ok.reply


async def test_product_slot_filling(agent: SupportAgent, thread: str) -> None:
    first, second = await converse(
        agent, thread, "¿Tienen el Merino Wool Sweater?", "talla M en azul marino"
    )
    assert first.reply_language == "es" and first.awaiting == "size"
    assert "79,00\xa0€" in first.reply
    assert second.entities["size"] == "M" and second.entities["colour"] == "navy"
    assert any(c.name == "check_stock" for c in second.tool_calls)
    assert "Merino Wool Sweater" in second.reply


async def test_knowledge_answers_in_four_languages(agent: SupportAgent, thread: str) -> None:
    cases = [
        ("How much does shipping cost?", "en", "4.90"),
        ("¿Cuánto cuesta el envío a Alemania?", "es", "envío"),
        ("Combien coûte la livraison ?", "fr", "livraison"),
        ("Was kostet der Versand?", "de", "Versand"),
    ]
    for i, (text, lang, word) in enumerate(cases):
        rec = await agent.send(f"{thread}-{i}", text)
        assert rec.intent == "shipping" and rec.reply_language == lang
        assert rec.retrieved and all(cid.startswith(f"{lang}/shipping#") for cid in rec.retrieved)
        assert word in rec.reply, rec.reply


async def test_replies_are_localized_and_formal(agent: SupportAgent, thread: str) -> None:
    es = await agent.send(thread + "es", "¿dónde está mi pedido?")
    fr = await agent.send(thread + "fr", "où est ma commande ?")
    de = await agent.send(thread + "de", "Wo ist meine Bestellung?")
    assert "su pedido" in es.reply.lower() or "número de pedido" in es.reply.lower()
    assert "vous" in fr.reply.lower() or "votre" in fr.reply.lower()
    assert "Sie" in de.reply or "Ihre" in de.reply
    assert all(r.awaiting == "order_id" for r in (es, fr, de))


async def test_other_language_gets_a_polite_english_reply(agent: SupportAgent, thread: str) -> None:
    rec = await agent.send(thread, "Dzień dobry, gdzie jest moje zamówienie?")
    assert rec.language == "pl" and rec.reply_language == "en"
    assert "Polish" in rec.reply and "English" in rec.reply
    # A served language is answered in itself, not told to switch.
    pt = await agent.send(thread + "pt", "Olá, onde está a minha encomenda?")
    assert pt.language == "pt" and pt.reply_language == "pt" and "pedido" in pt.reply


async def test_out_of_scope_and_chit_chat(agent: SupportAgent, thread: str) -> None:
    hello, mars, bye = await converse(
        agent, thread, "hi", "what's the weather on Mars", "thanks, bye"
    )
    assert hello.intent == "greeting" and "help" in hello.reply
    assert mars.intent == "out_of_scope" and "only help" in mars.reply
    assert bye.intent == "thanks_goodbye"
    assert "retrieve" not in mars.path and "act" not in mars.path


async def test_topic_switch_keeps_the_pending_slot(agent: SupportAgent, thread: str) -> None:
    _ask, switch, back = await converse(
        agent,
        thread,
        "where is my order",
        "actually, first: how long does express shipping take?",
        "SG-10002",
    )
    assert switch.intent == "shipping" and switch.retrieved
    assert switch.awaiting == "order_id" and "order number" in switch.reply
    assert back.intent == "order_tracking" and back.awaiting == "email"


async def test_persona_changes_phrasing_not_facts(agent: SupportAgent, thread: str) -> None:
    busy = await agent.send(thread + "a", "quick, kids waiting: how much is shipping?")
    newbie = await agent.send(thread + "b", "first time ordering here, how much is shipping?")
    assert busy.persona == "busy_parent" and newbie.persona == "newbie"
    assert busy.retrieved[0].split("#")[0] == newbie.retrieved[0].split("#")[0] == "en/shipping"
    assert len(busy.reply) < len(newbie.reply)
    assert "Tip:" in newbie.reply and "Tip:" not in busy.reply


async def test_express_is_asked_for_in_every_language(agent: SupportAgent, thread: str) -> None:
    for n, text in enumerate(
        [
            "Quanto ci mette la spedizione espressa in Francia?",
            "フランスまで速達で何日かかりますか",
            "كم يوم ياخذ الشحن السريع إلى فرنسا؟",
        ]
    ):
        rec = await agent.send(f"{thread}-{n}", text)
        calls = [c for c in rec.tool_calls if c.name == "estimate_delivery"]
        assert calls and calls[0].args["method"] == "express", (text, rec.tool_calls)
