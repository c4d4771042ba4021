"""LLM mode in the customer's language, against the fake OpenAI-compatible server over HTTP:
the phrasing prompt names the reply language and the register (the brand's, when it chose
one), a reply in another language is refused for the template, and the grounding check
reads amounts and dates the way each locale writes them (other digits, other separators,
other date forms are the same value; another value is not)."""

from __future__ import annotations

import json
import re
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import pytest

from supportgraph.config import Settings
from supportgraph.llm.grounding import FactIndex, violations
from supportgraph.llm.phrasing import Facts
from supportgraph.llm.prompts import SHOP_PREFIX
from supportgraph.llm.service import LLMService
from supportgraph.llm.settings import LLMSettings
from supportgraph.llm.voice import FORMALITY, voice_for
from supportgraph.runtime.agent import SupportAgent
from supportgraph.templates import format_date, format_money
from tests.llm_fake import FakeLLM, Reply, no_sleep, request_kind, shop_model

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")
WESTERN = str.maketrans("٠١٢٣٤٥٦٧٨٩", "0123456789")

# --- whole conversations through the agent (the model phrases every reply)


@pytest.fixture
def fake(fake_llm_server: FakeLLM) -> Iterator[FakeLLM]:
    fake_llm_server.reset()
    yield fake_llm_server
    fake_llm_server.reset()


def facts_of(body: dict[str, Any]) -> dict[str, Any]:
    """The facts a phrasing request carries (what the grounding check holds the reply to)."""
    prompt = body["messages"][-1]["content"]
    return dict(json.loads(prompt.split("Facts (JSON): ", 1)[1].split("\n\n", 1)[0]))


def phrasing_by(write: Callable[[dict[str, Any]], str]) -> Callable[[dict[str, Any]], Reply]:
    """A responder that phrases with `write(facts)` and reads messages like shop_model."""

    def respond(body: dict[str, Any]) -> Reply:
        if request_kind(body) == "phrasing" and "Facts (JSON): " in str(body["messages"]):
            return Reply(content=write(facts_of(body)))
        return shop_model(body)

    return respond


def phrasing_requests(fake: FakeLLM) -> list[dict[str, Any]]:
    return [
        r for r in fake.requests if request_kind(r) == "phrasing" and "Facts (JSON): " in str(r)
    ]


@asynccontextmanager
async def model_agent(
    fake: FakeLLM, root: Path, data_dir: Path, **settings: Any
) -> AsyncIterator[SupportAgent]:
    """An agent whose model words every reply, policy replies included (identity requests
    are what a first message about an order gets)."""
    (data_dir / "models").mkdir(exist_ok=True)
    root.mkdir(parents=True, exist_ok=True)
    if not (root / "models").exists():
        (root / "models").symlink_to(data_dir / "models", target_is_directory=True)
    layer = {
        "base_url": fake.url,
        "model": "shop-model",
        "api_key_env": None,
        "timeout_s": 5.0,
        "max_retries": 0,
    }
    llm = LLMSettings.model_validate(
        {"primary": layer, "phrase_policy_replies": True, "turn_deadline_s": None}
    )
    async with SupportAgent.open(Settings(data_dir=root, llm=llm, **settings)) as agent:
        yield agent


@pytest.mark.slow
async def test_an_italian_turn_asks_for_italian_in_the_lei_register(
    fake: FakeLLM, tmp_path: Path, data_dir: Path
) -> None:
    fake.responder = phrasing_by(lambda facts: "Certamente. " + facts["template_reply"])
    async with model_agent(fake, tmp_path, data_dir) as agent:
        record = await agent.send("it", "Dov'è il mio ordine SG-10002?")
    (request,) = phrasing_requests(fake)
    system = request["messages"][0]["content"]
    assert system.startswith(SHOP_PREFIX)  # the cached prefix is the same for every language
    tail = system[len(SHOP_PREFIX) :]
    assert "Write the reply in Italian only." in tail
    assert FORMALITY["it"] in tail and "Lei" in FORMALITY["it"]  # the vocab's register line
    assert (record.model, record.fallback) == ("primary", None)
    assert record.reply.startswith("Certamente. ") and "Suo" in record.reply


@pytest.mark.slow
async def test_a_brand_register_for_portuguese_is_the_one_the_prompt_asks_for(
    fake: FakeLLM, tmp_path: Path, data_dir: Path
) -> None:
    fake.responder = phrasing_by(lambda facts: "Certo! " + facts["template_reply"])
    tails: dict[str, str] = {}
    for name, registers in (("default", {}), ("formal", {"pt": "formal"})):
        fake.requests.clear()
        async with model_agent(fake, tmp_path / name, data_dir, registers=registers) as agent:
            record = await agent.send("pt", "Onde está o meu pedido SG-10002?")
        (request,) = phrasing_requests(fake)
        assert request["messages"][0]["content"].startswith(SHOP_PREFIX)
        tails[name] = request["messages"][0]["content"][len(SHOP_PREFIX) :]
        assert "Write the reply in Portuguese (Brazil) only." in tails[name]
        assert record.model == "primary"
    assert "o senhor / a senhora" in tails["formal"] and "você" not in tails["formal"]
    assert FORMALITY["pt"] in tails["default"] and "você" in FORMALITY["pt"]
    assert "o senhor" not in tails["default"]


@pytest.mark.slow
async def test_an_english_reply_to_a_japanese_customer_is_refused_for_the_template(
    fake: FakeLLM, tmp_path: Path, data_dir: Path
) -> None:
    english = "Thank you for your patience! Please send us the email address of your order."
    fake.responder = phrasing_by(lambda facts: english)
    async with model_agent(fake, tmp_path, data_dir) as agent:
        refused = await agent.send("ja1", "注文SG-10002はどこですか？")
        template = facts_of(phrasing_requests(fake)[-1])["template_reply"]
        # The same turn worded in Japanese by the model is shown: the refusal is the language's.
        fake.responder = phrasing_by(lambda facts: "かしこまりました。" + facts["template_reply"])
        worded = await agent.send("ja2", "注文SG-10002はどこですか？")
    assert (refused.model, refused.fallback) == ("offline", "primary: wrong_language: en")
    assert refused.reply == template and "メールアドレス" in refused.reply
    assert english not in refused.reply
    assert (worded.model, worded.fallback) == ("primary", None)
    assert worded.reply == "かしこまりました。" + template


async def test_a_reply_that_goes_on_writing_the_transcript_or_its_facts_is_never_shown(
    fake: FakeLLM, tmp_path: Path, data_dir: Path
) -> None:
    # What a real 0.5B model wrote: the reply, then an invented next exchange; or the facts'
    # own keys. The server is asked to stop at the transcript's roles; whatever it sends
    # anyway goes nowhere: the template is shown.
    replies = [
        lambda facts: facts["template_reply"] + " Customer: 届きません Reply: ご確認ください。",
        lambda facts: "bot: " + facts["template_reply"] + ' "awaiting": "email", "escalation": {',
    ]
    async with model_agent(fake, tmp_path, data_dir) as agent:
        for n, write in enumerate(replies):
            fake.responder = phrasing_by(write)
            turn = await agent.send(f"roles{n}", "注文SG-10002はどこですか？")
            template = facts_of(phrasing_requests(fake)[-1])["template_reply"]
            assert (turn.model, turn.fallback) == ("offline", "primary: ungrounded: not_a_reply")
            assert turn.reply == template
    stops = phrasing_requests(fake)[-1]["stop"]
    assert "Customer:" in stops and "Reply:" in stops


async def test_a_reply_cut_off_at_the_length_cap_is_never_shown(
    fake: FakeLLM, tmp_path: Path, data_dir: Path
) -> None:
    def respond(body: dict[str, Any]) -> Reply:
        if request_kind(body) == "phrasing" and "Facts (JSON): " in str(body["messages"]):
            return Reply(content="申し訳ございません、在庫は 41 / ブ", finish="length")
        return shop_model(body)

    fake.responder = respond
    async with model_agent(fake, tmp_path, data_dir) as agent:
        turn = await agent.send("cut", "注文SG-10002はどこですか？")
    template = facts_of(phrasing_requests(fake)[-1])["template_reply"]
    assert (turn.model, turn.fallback) == ("offline", "primary: invalid_answer")
    assert turn.reply == template and "41 / ブ" not in turn.reply


@pytest.mark.slow
async def test_an_arabic_reply_in_arabic_indic_digits_is_grounded(
    fake: FakeLLM, tmp_path: Path, data_dir: Path
) -> None:
    """The Arabic shipping answer writes its prices in 0-9 ("9.90 يورو"); a model writing them
    in Arabic-Indic digits with the Arabic decimal separator ("٩٫٩٠ يورو") says the same."""

    def arabic_digits(facts: dict[str, Any]) -> str:
        text = re.sub(r"(?<=\d)\.(?=\d)", "٫", facts["template_reply"])
        return "بكل سرور. " + text.translate(ARABIC_INDIC)

    fake.responder = phrasing_by(arabic_digits)
    async with model_agent(fake, tmp_path, data_dir) as agent:
        record = await agent.send("ar", "كم تكلفة الشحن السريع؟")
    template = facts_of(phrasing_requests(fake)[-1])["template_reply"]
    assert "9.90" in template  # the facts: Western digits
    assert (record.model, record.fallback) == ("primary", None)
    assert "٩٫٩٠" in record.reply and "9.90" not in record.reply


@pytest.mark.slow
async def test_a_german_reply_with_a_wrong_amount_is_refused(
    fake: FakeLLM, tmp_path: Path, data_dir: Path
) -> None:
    fake.responder = phrasing_by(
        lambda facts: "Gern! " + facts["template_reply"].replace("4,90 €", "5,90 €")
    )
    async with model_agent(fake, tmp_path, data_dir) as agent:
        refused = await agent.send("de1", "Wie hoch sind die Versandkosten?")
        # The same amounts in another accepted form ("4.90 €") are grounded.
        fake.responder = phrasing_by(
            lambda facts: "Gern! " + re.sub(r"(\d),(\d\d) €", r"\1.\2 EUR", facts["template_reply"])
        )
        reworded = await agent.send("de2", "Wie hoch sind die Versandkosten?")
    template = facts_of(phrasing_requests(fake)[0])["template_reply"]
    assert "4,90 €" in template
    assert (refused.model, refused.fallback) == ("offline", "primary: ungrounded: 5,90")
    assert refused.reply == template
    assert (reworded.model, reworded.fallback) == ("primary", None)
    assert "4.90 EUR" in reworded.reply


# --- one phrasing call over HTTP, facts written as each locale writes them


def service(fake: FakeLLM) -> LLMService:
    layer = {"base_url": fake.url, "model": "m", "api_key_env": None, "timeout_s": 5.0}
    return LLMService(
        LLMSettings.model_validate({"primary": {**layer, "max_retries": 0}}), sleep=no_sleep
    )


def arabic_facts(amount: str) -> Facts:
    return Facts(
        customer_text="متى يصل المبلغ المسترد؟",
        reply_language="ar",
        intent="returns_refunds",
        template_reply=f"سنرد إليك مبلغ {amount} بتاريخ {format_date('2024-03-05', 'ar')}.",
    )


@pytest.mark.parametrize(
    ("amount", "reply", "grounded"),
    [
        # The facts in Arabic-Indic digits (ar_SA, as format_money writes), the reply in 0-9.
        (format_money(1234.56, "ar"), "سيصلك مبلغ 1,234.56 € في 5 مارس 2024.", True),
        (format_money(1234.56, "ar"), "سيصلك مبلغ 1234.56 € في 5 مارس.", True),
        (format_money(1234.56, "ar"), "سيصلك مبلغ 1,235.56 € في 5 مارس.", False),
        # The facts in 0-9 (ar_AE writes them), the reply in Arabic-Indic digits.
        ("1,234.56 €", "سيصلك مبلغ ١٬٢٣٤٫٥٦ € في ٥ مارس ٢٠٢٤.", True),
        ("1,234.56 €", "سيصلك مبلغ ١٬٢٣٤٫٥٧ € في ٥ مارس.", False),
        ("1,234.56 €", "سيصلك مبلغ ١٬٢٣٤٫٥٦ € في ٦ مارس.", False),
    ],
)
async def test_arabic_amounts_in_either_digits(
    fake: FakeLLM, amount: str, reply: str, grounded: bool
) -> None:
    facts = arabic_facts(amount)
    assert ("١" in amount) == (amount == format_money(1234.56, "ar"))
    fake.script(Reply(content=reply))
    llm = service(fake)
    outcome = await llm.phrase(facts, llm.new_redactor())
    if grounded:
        assert (outcome.model, outcome.fallback, outcome.value) == ("primary", None, reply)
    else:
        assert outcome.model == "offline" and outcome.value == facts.template_reply
        assert (outcome.fallback or "").startswith("primary: ungrounded: ")
    assert "Write the reply in Arabic only." in fake.requests[0]["messages"][0]["content"]


GERMAN = Facts(
    customer_text="Wann bekomme ich mein Geld zurück?",
    reply_language="de",
    intent="returns_refunds",
    template_reply=f"Wir erstatten Ihnen {format_money(1234.56, 'de')} am "
    f"{format_date('2024-03-05', 'de')}.",
)


@pytest.mark.parametrize(
    ("reply", "fallback"),
    [
        ("Sie erhalten 1234,56 € am 05.03.2024 zurück.", None),
        ("Sie erhalten 1234.56 EUR am 5. März zurück.", None),  # one reading: 1234.56
        ("Sie erhalten 1.234,65 € am 5. März zurück.", "primary: ungrounded: 1.234,65"),
        # In German "1.234" is one thousand two hundred thirty-four: not the facts' amount.
        ("Sie erhalten 1.234 € am 5. März zurück.", "primary: ungrounded: 1.234"),
        ("Sie erhalten 1.234,56 € am 6. März zurück.", "primary: ungrounded: date 06-03, 6"),
        ("You will get 1.234,56 € back on 5 March.", "primary: wrong_language: en"),
    ],
)
async def test_german_amounts_and_dates(fake: FakeLLM, reply: str, fallback: str | None) -> None:
    fake.script(Reply(content=reply))
    llm = service(fake)
    outcome = await llm.phrase(GERMAN, llm.new_redactor())
    assert outcome.fallback == fallback
    assert outcome.value == (reply if fallback is None else GERMAN.template_reply)


async def test_a_streamed_reply_in_the_wrong_language_never_shows(fake: FakeLLM) -> None:
    """The first sentence is already English: nothing of it reaches the customer."""
    fake.script(Reply(chunks=["Thank you for waiting, ", "your refund is on its way. ", "Bye."]))
    llm = service(fake)
    await llm.phrase(GERMAN, llm.new_redactor())  # the detector's model is loaded by now
    fake.script(Reply(chunks=["Thank you for waiting, ", "your refund is on its way. ", "Bye."]))
    shown: list[str] = []
    outcome = await llm.phrase(GERMAN, llm.new_redactor(), on_delta=shown.append)
    assert shown == []
    assert (outcome.model, outcome.value) == ("offline", GERMAN.template_reply)
    assert outcome.fallback == "primary: wrong_language: en"


# --- the grounding check alone: each locale's forms of one amount and one date


@pytest.mark.parametrize(
    ("locale", "facts", "same", "different"),
    [
        (
            "de_DE",
            "Erstattung: 64,90 €",
            ["64.90 €", "64,9 €", "EUR 64,90"],
            ["64,99 €", "6.490 €"],
        ),
        ("fr_FR", "Total : 1\u202f234,56\u00a0€", ["1 234,56 €", "1234,56 €"], ["1 234,65 €"]),
        ("pt_BR", "Total: R$\u00a01.234,56", ["R$ 1234,56", "R$1.234,56"], ["R$ 1.234", "1,234"]),
        (
            "ja_JP",
            "お支払い：¥1,235",
            ["1235円", "￥１，２３５", "１２３５円"],
            ["¥1,253", "1.235円"],
        ),
        ("en_US", "Total: $1,234.56", ["1234.56 dollars", "$1,234.56"], ["$1.234", "1,234"]),
        ("ar_SA", "المبلغ ‏١٬٢٣٤٫٥٦ €", ["1,234.56 €", "١٢٣٤٫٥٦ €", "1234.56"], ["١٬٢٣٤ €"]),
        (
            "de_DE",
            "am 5. März 2024",
            ["am 05.03.2024", "am 5.3.2024", "am 5. März"],
            ["am 3.5.2024"],
        ),
        (
            "en_US",
            "on March 5, 2024",
            ["on 3/5/2024", "on 5 March", "on 2024-03-05"],
            ["on 5/3/2024"],
        ),
        ("ar_SA", "بتاريخ ٥ مارس ٢٠٢٤", ["في 5 مارس 2024", "في ٥ آذار", "5/3/2024"], ["٦ مارس"]),
        ("ja_JP", "2024年3月5日にお届け", ["３月５日", "2024/03/05", "March 5"], ["2024年3月6日"]),
        ("zh_Hans_CN", "订单SG-10234于2024年3月5日发货", ["3月5日，SG-10234"], ["3月15日"]),
        ("es_ES", "el 5 de marzo de 2024", ["el 05/03/2024", "el 5 de mar."], ["el 5 de mayo"]),
        (
            "nl_NL",
            "op 5 maart 2024",
            ["op 05-03-2024", "op 5 mrt"],
            ["op 5 mei", "op 5 maart 2025"],
        ),
    ],
)
def test_each_locale_writes_the_same_value_its_own_ways(
    locale: str, facts: str, same: list[str], different: list[str]
) -> None:
    index = FactIndex(facts, locale)
    for reply in same:
        assert violations(reply, index) == [], (facts, reply)
    for reply in different:
        assert violations(reply, index), (facts, reply)


def test_a_reply_without_a_known_locale_may_mean_either_reading() -> None:
    index = FactIndex("Total: 1.234,56 € on 2024-03-05")  # no locale: every reading counts
    assert violations("1234.56 on 3/5/2024 or 5/3/2024", index) == []
    assert violations("1.234", index) == ["1.234"]  # 1.234 or 1234: neither is 1234.56


def test_the_voice_of_each_language() -> None:
    for code, name in [
        ("zh", "Chinese (Simplified)"),
        ("pt", "Portuguese (Brazil)"),
        ("ar", "Arabic"),
        ("nl", "Dutch"),
    ]:
        assert voice_for(code).name == name
    assert voice_for("ar").locale == "ar_SA" and voice_for("fr-CA").locale == "fr_CA"
    assert voice_for("en").prompt_lines() == ["Write the reply in English only."]
    assert voice_for("nl").address == FORMALITY["nl"]
    assert voice_for("pt", "formal").address == (
        "Address the customer with o senhor / a senhora, por gentileza, no 'te'."
    )  # locale.yaml's description, without the note for template editors
