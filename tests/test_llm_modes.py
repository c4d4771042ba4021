"""Understanding, phrasing and tool proposals by a model, over real HTTP against the fake:
validated answers, the offline cross-check and fallback, grounding, PII that never reaches
the model, and proposals that the policy guard still refuses."""

from __future__ import annotations

import datetime as dt
import json
import time
from typing import Any

from langchain_core.messages import HumanMessage, SystemMessage

from supportgraph.domain.policy import ReturnWindow, check_call
from supportgraph.domain.schema import Order
from supportgraph.llm.phrasing import Facts
from supportgraph.llm.service import LLMService
from supportgraph.llm.settings import LLMSettings
from supportgraph.llm.understanding import Understanding
from supportgraph.nlu.intents import IntentGuess
from supportgraph.tools.lc_tools import build_tools
from tests.llm_fake import FakeLLM, Reply, no_sleep

EMAIL = "anna.schmidt@example.com"
PHONE = "+49 30 1234 5678"
CARD = "4111 1111 1111 1111"
SECRETS = (EMAIL, PHONE, CARD, "Hauptstraße 5")
# Tools are only bound and validated here, never run: no store behind them.
TOOLS = build_tools(None, time.time)  # type: ignore[arg-type]


def service(fake: FakeLLM, **options: Any) -> LLMService:
    layer = {
        "base_url": fake.url,
        "model": "m",
        "api_key_env": None,
        "timeout_s": 2.0,  # generous: CI runs these beside browsers and servers
        "max_retries": 0,
    }
    return LLMService(LLMSettings.model_validate({"primary": layer, **options}), sleep=no_sleep)


def assert_no_pii_reached(fake: FakeLLM) -> None:
    received = fake.received()
    for secret in SECRETS:
        assert secret not in received, f"{secret!r} reached the model"
    assert fake.requests, "nothing was sent at all"


# --- understanding


def understanding(intent: str, **extra: Any) -> Reply:
    body = {
        "intent": intent,
        "entities": {},
        "sentiment": 0.0,
        "uncertainty": 0.1,
        "language": "en",
    }
    return Reply(content=json.dumps({**body, **extra}))


def offline_understanding() -> Understanding:
    return Understanding(intent="order_tracking", confidence=0.9, uncertainty=0.1)


TRACKING = IntentGuess(
    "order_tracking", 0.9, 0.05, [("order_tracking", 0.9), ("order_modification", 0.04)]
)


async def test_model_understanding_with_pii_restored_in_entities(fake: FakeLLM) -> None:
    fake.script(
        understanding("order_tracking", entities={"email": "[EMAIL_1]", "order_id": "SG-10234"})
    )
    llm = service(fake)
    text = f"Where is SG-10234? I am {EMAIL}, phone {PHONE}"
    outcome = await llm.understand(
        text, llm.new_redactor(), offline=offline_understanding, offline_guess=TRACKING
    )
    assert outcome.model == "primary"
    # The turn's uncertainty is the offline classifier's (llm/evidence.py).
    assert outcome.value.intent == "order_tracking" and outcome.value.uncertainty == 0.05
    assert outcome.value.entities == {"email": EMAIL, "order_id": "SG-10234"}
    assert_no_pii_reached(fake)


async def test_strong_disagreement_leaves_the_offline_reading_and_records_the_proposal(
    fake: FakeLLM,
) -> None:
    fake.script(understanding("order_modification"))
    llm = service(fake)
    outcome = await llm.understand(
        "where is my order",
        llm.new_redactor(),
        offline=offline_understanding,
        offline_guess=TRACKING,
    )
    assert outcome.model == "primary"
    assert outcome.value.intent == "order_tracking"
    assert outcome.value.proposed == "order_modification" and outcome.value.disagreement > 0.8


async def test_intent_outside_the_catalogue_falls_back_to_offline(fake: FakeLLM) -> None:
    fake.script(*(understanding("refund_everything") for _ in range(4)))
    llm = service(fake)
    outcome = await llm.understand("hi", llm.new_redactor(), offline=offline_understanding)
    assert outcome.model == "offline" and outcome.value.intent == "order_tracking"
    assert outcome.fallback == "primary: invalid_answer"


# --- phrasing

FACTS = Facts(
    customer_text=f"Where is my order SG-10234? My email is {EMAIL}, card {CARD}.",
    reply_language="en",
    persona="busy_parent",
    intent="order_tracking",
    template_reply="Order SG-10234 (Trail Runner, 59,90 €) is on its way with DHL, tracking "
    "number 1Z999AA10123456784. Expected delivery: March 14, 2026.",
    tool_results=[
        {
            "name": "find_customer_by_email",
            "args": {"email": EMAIL},
            "ok": True,
            "result_summary": "found",
        },
        {
            "name": "track_shipment",
            "args": {"order_id": "SG-10234"},
            "ok": True,
            "result_summary": "shipped",
        },
    ],
    recent_messages=[
        {"role": "customer", "text": f"call me at {PHONE}, I live at Hauptstraße 5, 10115 Berlin"}
    ],
)


async def test_grounded_reply_is_used_with_pii_restored(fake: FakeLLM) -> None:
    fake.script(
        Reply(
            content="Your order SG-10234 ships with DHL and should arrive on 14 March. We'll email [EMAIL_1]."
        )
    )
    llm = service(fake)
    outcome = await llm.phrase(FACTS, llm.new_redactor())
    assert outcome.model == "primary"
    assert outcome.value.endswith(f"We'll email {EMAIL}.")
    assert_no_pii_reached(fake)
    prompt = fake.requests[0]["messages"]
    assert "Very short" in prompt[0]["content"]  # the persona's style
    assert "SG-10234" in prompt[1]["content"]  # the facts reached the model


async def test_invented_numbers_are_rejected_for_the_template(fake: FakeLLM) -> None:
    fake.script(
        Reply(content="Your order SG-10234 will arrive on March 16 and you get a 10 € voucher.")
    )
    llm = service(fake, backup={"base_url": fake.url, "model": "b", "api_key_env": None})
    outcome = await llm.phrase(FACTS, llm.new_redactor())
    assert (outcome.model, outcome.value) == ("offline", FACTS.template_reply)
    assert outcome.fallback == "primary: ungrounded: date 16-03, 16, 10"
    assert [r["model"] for r in fake.requests] == ["m"]  # no second model for the same facts
    assert outcome.tokens_in > 0  # the rejected answer still cost tokens


async def test_a_reply_without_words_is_no_reply(fake: FakeLLM) -> None:
    """Qwen2.5-0.5B answered a German shipping question with only the date range: grounded,
    and useless to the customer."""
    fake.script(Reply(content="2026-03-14..2026-03-16"))
    llm = service(fake)
    outcome = await llm.phrase(FACTS, llm.new_redactor())
    assert (outcome.model, outcome.value) == ("offline", FACTS.template_reply)
    assert outcome.fallback == "primary: ungrounded: no_words"


async def test_the_model_sees_the_template_reply_not_the_raw_tool_results(fake: FakeLLM) -> None:
    fake.script(Reply(content="Your parcel SG-10234 is on its way with DHL."))
    llm = service(fake)
    await llm.phrase(FACTS, llm.new_redactor())
    prompt = fake.requests[-1]["messages"][-1]["content"]
    assert FACTS.template_reply.split(" (")[0] in prompt
    assert "track_shipment" not in prompt and "result_summary" not in prompt


async def test_streamed_reply_arrives_in_checked_sentences(fake: FakeLLM) -> None:
    fake.script(
        Reply(chunks=["Order SG-", "10234 is on ", "its way. We'll ", "email [EMAIL_1]", "."])
    )
    llm = service(fake)
    shown: list[str] = []
    outcome = await llm.phrase(FACTS, llm.new_redactor(), on_delta=shown.append)
    assert shown == ["Order SG-10234 is on its way. ", f"We'll email {EMAIL}."]
    assert outcome.value == "".join(shown) and outcome.model == "primary"
    assert_no_pii_reached(fake)


async def test_streamed_invention_is_cut_and_the_template_replaces_it(fake: FakeLLM) -> None:
    fake.script(Reply(chunks=["Order SG-10234 is on its way. ", "It arrives on March 20."]))
    llm = service(fake)
    shown: list[str] = []
    resets: list[bool] = []
    outcome = await llm.phrase(
        FACTS, llm.new_redactor(), on_delta=shown.append, on_reset=lambda: resets.append(True)
    )
    assert shown == ["Order SG-10234 is on its way. "]  # the invented date never showed
    assert resets == [True]
    assert (outcome.model, outcome.value) == ("offline", FACTS.template_reply)


# --- tool proposals


PROPOSE = [
    SystemMessage("Propose tool calls for the customer's request."),
    HumanMessage(f"Cancel order SG-10234 please, I'm {EMAIL}"),
]
TODAY = dt.date(2026, 3, 20)


async def test_native_tool_calls_validated_and_pii_restored(fake: FakeLLM) -> None:
    fake.script(
        Reply(
            tool_calls=[
                {"name": "find_customer_by_email", "arguments": {"email": "[EMAIL_1]"}},
                {"name": "drop_database", "arguments": {}},
                {"name": "get_order_details", "arguments": {"order": "SG-10234"}},
            ]
        )
    )
    llm = service(fake)
    outcome = await llm.propose_tools(PROPOSE, TOOLS, llm.new_redactor())
    calls = outcome.value.calls
    assert [(c.name, c.args) for c in calls] == [("find_customer_by_email", {"email": EMAIL})]
    assert outcome.value.rejected == [
        "drop_database: unknown tool",
        "get_order_details: 1 invalid arguments",
    ]
    assert fake.requests[0]["tools"] and EMAIL not in fake.received()


async def test_tool_calls_written_as_text_are_accepted(fake: FakeLLM) -> None:
    text = 'I will cancel it. {"name": "cancel_order", "arguments": {"order_id": "SG-10234", "key": "k1"}}'
    fake.script(Reply(content=text))
    llm = service(fake)
    outcome = await llm.propose_tools(PROPOSE, TOOLS, llm.new_redactor())
    [call] = outcome.value.calls
    assert (call.name, call.args) == ("cancel_order", {"order_id": "SG-10234", "key": "k1"})


async def test_server_without_tools_gets_them_in_the_prompt(fake: FakeLLM) -> None:
    fake.refuse_tools = True
    fake.script(
        Reply(
            content='{"tool_calls": [{"name": "track_shipment", "arguments": {"order_id": "SG-1"}}]}'
        )
    )
    llm = service(fake)
    outcome = await llm.propose_tools(PROPOSE, TOOLS, llm.new_redactor())
    assert [c.name for c in outcome.value.calls] == ["track_shipment"]
    assert (
        "tools" not in fake.requests[-1]
        and "track_shipment" in fake.requests[-1]["messages"][-1]["content"]
    )


async def test_policy_guard_refuses_what_the_model_proposes(fake: FakeLLM) -> None:
    """The model proposes; the graph disposes: a cancel without confirmation and another
    customer's order are refused exactly as in offline mode."""
    fake.script(
        Reply(
            tool_calls=[
                {"name": "cancel_order", "arguments": {"order_id": "SG-10234", "key": "k"}},
                {"name": "get_order_details", "arguments": {"order_id": "SG-20000"}},
            ]
        )
    )
    llm = service(fake)
    cancel, other = (await llm.propose_tools(PROPOSE, TOOLS, llm.new_redactor())).value.calls
    mine = Order(id="SG-10234", customer_id="C1", status="pending")
    theirs = Order(id="SG-20000", customer_id="C2", status="delivered")
    refusal = check_call(cancel.name, cancel.args, "C1", None, mine, TODAY, ReturnWindow(30))
    assert refusal is not None and refusal.reason == "confirmation_required"
    refusal = check_call(other.name, other.args, "C1", None, theirs, TODAY, ReturnWindow(30))
    assert refusal is not None and refusal.reason == "not_found"
    refusal = check_call(cancel.name, cancel.args, None, None, mine, TODAY, ReturnWindow(30))
    assert refusal is not None and refusal.reason == "identity_required"
