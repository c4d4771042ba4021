"""Store values said in the customer's language, money and dates in the customer's locale.

Real turns through SupportAgent on the demo shop, whose catalogue names colours, materials,
product types, shipping and payment methods in English: an Italian reads "41 / nero", a
Japanese "ブラック", a Brazilian "frete expresso"; a British customer reads "27 November 2026"
and an Austrian "€ 39,90" (nodes/flows/display.py, the value.* templates, the word lists'
first words, locale.yaml variants).
"""

from __future__ import annotations

import re

from supportgraph.config import DEMO_BRAND_DIR
from supportgraph.nodes.flows.display import option_value, payment_method, say_value
from supportgraph.runtime.agent import SupportAgent
from supportgraph.templates import Templates
from tests.conftest import converse

ENGLISH_VALUES = re.compile(r"\b(black|white|blue|brown|red|navy|leather|express|standard)\b")


async def test_italian_out_of_stock_names_the_colour_in_italian(
    agent: SupportAgent, thread: str
) -> None:
    out = await agent.send(thread, "Avete le Trail Runner Sneakers nere, numero 41?")
    assert out.reply_language == "it"
    assert [c.name for c in out.tool_calls][-1] == "suggest_alternatives"
    assert "41 / nero" in out.reply and "41 / bianco" in out.reply
    assert not ENGLISH_VALUES.search(out.reply), out.reply


async def test_japanese_stock_reply_says_colour_and_material_in_japanese(
    agent: SupportAgent, thread: str
) -> None:
    out = await agent.send(thread, "Leather Ankle Boots のブラウン、40サイズは在庫ありますか？")
    assert out.reply_language == "ja" and "在庫切れ" in out.reply
    assert "40 / ブラウン" in out.reply and "ブラック / レザー" in out.reply
    # The product's own name stays as the shop wrote it; no English value besides it.
    assert not ENGLISH_VALUES.search(out.reply.replace("Leather Ankle Boots", "")), out.reply


async def test_arabic_colours_are_written_with_their_hamza(
    agent: SupportAgent, thread: str
) -> None:
    out = await agent.send(thread, "هل فستان Wrap Midi Dress متوفر بمقاس S باللون الأحمر؟")
    assert out.reply_language == "ar"
    assert "S / أحمر" in out.reply and "S / أسود" in out.reply
    assert "red" not in out.reply and "black" not in out.reply


async def test_portuguese_express_estimate_says_frete_expresso(
    agent: SupportAgent, thread: str
) -> None:
    out = await agent.send(thread, "Quanto tempo demora o frete expresso para a Alemanha?")
    assert out.reply_language == "pt"
    assert [(c.name, c.args.get("method")) for c in out.tool_calls] == [
        ("estimate_delivery", "express")
    ]
    assert "Com o frete expresso," in out.reply and "de dezembro de 2026" in out.reply


async def test_product_types_are_listed_in_the_language(agent: SupportAgent, thread: str) -> None:
    german = await agent.send(thread, "Welche Produkte haben Sie?")
    assert german.reply_language == "de"
    for word in ("Turnschuhe", "T-Shirts", "Kleider", "Accessoires", "Stiefel"):
        assert word in german.reply, german.reply
    assert "sneakers" not in german.reply and "accessories" not in german.reply
    french = await agent.send(f"{thread}-fr", "Avez-vous des bottes ?")
    assert french.reply_language == "fr" and french.reply.startswith("Nos bottes :")


async def test_options_and_their_values_are_named_in_the_language(
    agent: SupportAgent, thread: str
) -> None:
    out = await agent.send(thread, "Avete la Canvas Tote?")
    assert out.reply_language == "it"
    assert "materiale: tela" in out.reply and "material:" not in out.reply


async def test_british_customer_reads_british_dates(agent: SupportAgent, thread: str) -> None:
    # Pablo (C1014) lives in Manchester; SG-10173 goes to his British address.
    *_, last = await converse(
        agent, thread, "Where is my order SG-10173?", "pablo.martinez@example.com"
    )
    assert last.verified_customer and "1ZV9LFU06532863266" in last.reply
    assert "27 November 2026" in last.reply and "November 27" not in last.reply
    # A customer nobody knows yet gets the language's default form (en_US).
    anonymous = await agent.send(f"{thread}-anon", "How long would delivery to France take?")
    assert re.search(r"between [A-Z][a-z]+ \d{1,2}, 2026 and", anonymous.reply), anonymous.reply


async def test_austrian_customer_reads_austrian_money(agent: SupportAgent, thread: str) -> None:
    # Katharina (C1051) lives in Salzburg; de_AT writes the euro sign first.
    *_, last = await converse(
        agent, thread, "Wo ist meine Bestellung SG-10198?", "katharina.schneider@example.com"
    )
    assert last.reply_language == "de" and last.verified_customer
    assert "€\xa039,90" in last.reply and "39,90\xa0€" not in last.reply


async def test_payment_status_and_method_are_said_in_the_language(
    agent: SupportAgent, thread: str
) -> None:
    *_, status = await converse(
        agent,
        thread,
        "Wie ist der Zahlungsstatus der Bestellung SG-10002?",
        "anna.schmidt@example.com",
    )
    assert "„bezahlt“" in status.reply and "paid" not in status.reply
    first, proposal, done = await converse(
        agent,
        f"{thread}-pt",
        "Quero trocar a forma de pagamento do pedido SG-10199",
        "pablo.martinez@example.com",
        "sim",
    )
    assert first.reply_language == "pt" and proposal.awaiting == "confirmation"
    assert "Visa com final 5147" in proposal.reply and "ending" not in proposal.reply
    assert "modify_order_payment" in [c.name for c in done.tool_calls]
    assert "será pago com Visa com final 5147" in done.reply


def test_a_shops_own_values_and_a_shop_written_in_another_language() -> None:
    templates = Templates.for_brand(DEMO_BRAND_DIR)
    # A value no word list or template knows is shown as the shop wrote it.
    assert option_value(templates, "it", "Walnut", "wood") == "Walnut"
    assert say_value(templates, "ja", "method", "same_day") == "same_day"
    # A German shop's colour: the German customer reads the shop's word, others their own.
    assert option_value(templates, "de", "Schwarz", "Farbe") == "Schwarz"
    assert option_value(templates, "it", "Schwarz", "Farbe") == "nero"
    assert option_value(templates, "en", "Schwarz", "Farbe") == "black"
    # Material by the option's name, whatever its capitals; a brand-new kind of payment
    # keeps its label, a known one is said in the language with what identifies it.
    assert option_value(templates, "fr", "leather", "Material") == "cuir"
    assert payment_method(templates, "nl", "ideal", "iDEAL (ABN AMRO)") == "iDEAL (ABN AMRO)"
    assert payment_method(templates, "es", "gift_card", "Gift card ending 1234") == (
        "tarjeta regalo terminada en 1234"
    )
    assert payment_method(templates, "it", "klarna", "Klarna (pay in 30 days)") == "Klarna"
