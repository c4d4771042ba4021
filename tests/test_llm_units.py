"""LLM mode, the parts without a model: settings, PII redaction, grounding, breaker, JSON text."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from supportgraph.config import Settings
from supportgraph.domain.intents import CATALOGUE
from supportgraph.llm.breaker import CircuitBreaker
from supportgraph.llm.grounding import FactIndex, GroundedStream, violations
from supportgraph.llm.jsontext import find_all_json_objects, find_json
from supportgraph.llm.pii import Redactor, luhn_valid
from supportgraph.llm.settings import check_llm_settings, describe_settings_error
from supportgraph.llm.understanding import (
    ModelUnderstanding,
    understanding_messages,
    weighed,
)
from supportgraph.nlu.intents import IntentGuess

EMAIL = "anna.schmidt@example.com"
PHONE = "+49 30 1234 5678"
CARD = "4111 1111 1111 1111"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


# --- settings


def test_llm_settings_from_env_and_missing_key_message(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPORTGRAPH_LLM__PRIMARY__BASE_URL", "http://127.0.0.1:8080/v1/")
    monkeypatch.setenv("SUPPORTGRAPH_LLM__PRIMARY__MODEL", "qwen2.5-0.5b")
    monkeypatch.setenv("SUPPORTGRAPH_LLM__PRIMARY__API_KEY_ENV", "SG_TEST_KEY")
    monkeypatch.delenv("SG_TEST_KEY", raising=False)
    settings = Settings()
    assert settings.llm is not None
    assert settings.llm.primary.base_url == "http://127.0.0.1:8080/v1"
    [problem] = check_llm_settings(settings)
    assert "SG_TEST_KEY" in problem and "not set" in problem
    monkeypatch.setenv("SG_TEST_KEY", "sk-test")
    assert check_llm_settings(Settings()) == []


def test_no_llm_settings_means_offline() -> None:
    assert Settings().llm is None
    assert check_llm_settings(Settings()) == []


def test_invalid_llm_settings_read_as_env_var_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SUPPORTGRAPH_LLM__PRIMARY__BASE_URL", "localhost:8080")
    monkeypatch.setenv("SUPPORTGRAPH_LLM__PRIMARY__MODEL", "m")
    with pytest.raises(ValidationError) as caught:
        Settings()
    message = describe_settings_error(caught.value)
    assert "SUPPORTGRAPH_LLM__PRIMARY__BASE_URL" in message and "http" in message


# --- PII


def test_redaction_placeholders_and_restore() -> None:
    redactor = Redactor()
    text = f"I'm {EMAIL}, call {PHONE}, card {CARD}, ship to Hauptstraße 5, 10115 Berlin."
    redacted = redactor.redact(text)
    for secret in (EMAIL, PHONE, CARD, "Hauptstraße 5"):
        assert secret not in redacted
    assert "[EMAIL_1]" in redacted and "[CARD_1]" in redacted and "[ADDRESS_1]" in redacted
    # The same value keeps its placeholder; the model's reply gets real values back.
    assert redactor.redact(f"again {EMAIL}") == "again [EMAIL_1]"
    assert redactor.restore("We wrote to [email_1].") == f"We wrote to {EMAIL}."
    assert redactor.restore("[CARD_7]") == "[CARD_7]"  # never issued: left for grounding


def test_redaction_leaves_order_data_alone_unless_configured() -> None:
    text = "Order SG-10234 of 2026-03-12, 59,90 €, zip 10115, 4111 1111 1111 1112"
    assert Redactor().redact(text) == text  # not Luhn-valid: not a card
    assert "SG-10234" not in Redactor(redact_order_ids=True).redact(text)
    assert luhn_valid("4111111111111111") and not luhn_valid("4111111111111112")


def test_redact_value_blanks_personal_fields() -> None:
    redactor = Redactor()
    redactor.register("NAME", "Anna Schmidt")
    data = {"customer": {"name": "Anna Schmidt", "email": EMAIL}, "address": {"line1": "Am Hof 3"}}
    redacted = redactor.redact_value(data)
    assert (
        "Anna" not in str(redacted) and EMAIL not in str(redacted) and "Am Hof" not in str(redacted)
    )
    assert redactor.restore_value(redacted) == data


# --- grounding


FACTS = (
    "Order SG-10234 (Trail Runner, 59,90 €) was placed on March 12, 2026 and is pending. "
    '{"created": "2026-03-12", "tracking": "1Z999AA10123456784", "email": "[EMAIL_1]"}'
)


@pytest.mark.parametrize(
    "reply",
    [
        "Your order SG-10234 for €59.90 was placed on 12 March.",
        "Order SG-10234 was placed on 12/03/2026; tracking 1Z999AA10123456784.",
        "Am 12. März 2026 bestellt: 59,90 €.",
        "We'll write to [EMAIL_1].",
    ],
)
def test_grounded_replies_pass(reply: str) -> None:
    redactor = Redactor()
    redactor.redact(EMAIL)
    assert violations(reply, FactIndex(FACTS), redactor) == []


@pytest.mark.parametrize(
    ("reply", "invented"),
    [
        ("Your order SG-99999 is pending.", "SG-99999"),
        ("It costs 45 €.", "45"),
        ("It was placed on March 15.", "date 15-03"),
        ("Refund sent to [CARD_1].", "[CARD_1]"),
    ],
)
def test_grounding_rejects_invented_data(reply: str, invented: str) -> None:
    assert invented in violations(reply, FactIndex(FACTS), Redactor())


async def test_grounded_stream_releases_checked_sentences_and_restores_pii() -> None:
    redactor = Redactor()
    redactor.redact(EMAIL)
    shown: list[str] = []
    stream = GroundedStream(FactIndex(FACTS), redactor, shown.append, ValueError)
    for delta in ["Order SG-1", "0234 is pend", "ing. We'll write", " to [EMAIL_1]."]:
        await stream.feed(delta)
    assert shown == ["Order SG-10234 is pending. "]  # the second sentence is not complete yet
    await stream.finish()
    assert "".join(shown) == f"Order SG-10234 is pending. We'll write to {EMAIL}."
    bad = GroundedStream(FactIndex(FACTS), redactor, shown.append, lambda found: ValueError(found))
    with pytest.raises(ValueError, match="SG-55555"):
        await bad.feed("It is SG-55555. ")


# --- breaker


def test_breaker_closed_open_half_open_closed() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=2, cooldown_s=30, clock=clock)
    assert breaker.state == "closed" and breaker.allow()
    breaker.record_failure()
    assert breaker.state == "closed"
    breaker.record_failure()
    assert breaker.state == "open" and not breaker.allow()
    clock.now += 29.9
    assert breaker.state == "open"
    clock.now += 0.1
    assert breaker.state == "half_open"
    assert breaker.allow()  # the one trial call
    assert not breaker.allow()  # others wait for the trial
    breaker.record_success()
    assert breaker.state == "closed" and breaker.consecutive_failures == 0


def test_breaker_half_open_failure_reopens_for_a_full_cooldown() -> None:
    clock = Clock()
    breaker = CircuitBreaker(failure_threshold=3, cooldown_s=10, clock=clock)
    for _ in range(3):
        breaker.record_failure()
    clock.now += 10
    assert breaker.allow() and breaker.state == "half_open"
    breaker.record_failure()  # one failure in half-open is enough
    assert breaker.state == "open"
    clock.now += 9
    assert breaker.state == "open"
    clock.now += 1
    assert breaker.state == "half_open"


# --- JSON written as text, understanding schema


def test_json_found_in_fences_prose_and_tool_tags() -> None:
    assert find_json('Sure! ```json\n{"a": 1}\n```') == {"a": 1}
    assert find_json('The answer is {"a": {"b": [1, 2]}} as requested') == {"a": {"b": [1, 2]}}
    assert find_json("{broken json") is None
    tagged = (
        '<tool_call>{"name": "x", "arguments": {}}</tool_call><tool_call>{"name": "y"}</tool_call>'
    )
    assert [o["name"] for o in find_all_json_objects(tagged)] == ["x", "y"]


def test_the_understanding_prompt_describes_every_catalogue_intent() -> None:
    system = understanding_messages("hi", Redactor())[0].content
    for intent in CATALOGUE:
        assert f"- {intent.name}: {intent.hint}" in system


def test_understanding_schema_rejects_unknown_intents_and_clamps_ranges() -> None:
    parsed = ModelUnderstanding.model_validate(
        {"intent": "Order Tracking", "sentiment": -1.4, "uncertainty": 2, "language": "EN"}
    )
    assert (parsed.intent, parsed.sentiment) == ("order_tracking", -1.0)
    with pytest.raises(ValidationError):
        ModelUnderstanding.model_validate({"intent": "refund_everything", "language": "en"})


def test_the_answer_schema_is_compact_and_enforces_the_intent_catalogue() -> None:
    schema = ModelUnderstanding.model_json_schema()
    assert set(schema["properties"]) == {"intent", "entities", "sentiment"}
    assert schema["properties"]["intent"]["enum"] == [intent.name for intent in CATALOGUE]
    # No descriptions: the shared prompt prefix explains the intents once.
    assert "description" not in json.dumps(schema)


def test_the_model_breaks_ties_but_never_overrules_a_clear_offline_reading() -> None:
    offline_unsure = IntentGuess(
        "order_tracking", 0.45, 0.55, [("order_tracking", 0.45), ("order_modification", 0.3)]
    )
    offline_sure_otherwise = IntentGuess(
        "order_tracking", 0.9, 0.05, [("order_tracking", 0.9), ("order_modification", 0.05)]
    )
    model = ModelUnderstanding(intent="order_modification")
    tie_broken = weighed(model, offline_unsure)
    assert (tie_broken.intent, tie_broken.uncertainty) == ("order_modification", 0.55)
    overruled = weighed(model, offline_sure_otherwise)
    assert overruled.intent == "order_tracking" and overruled.proposed == "order_modification"
    assert overruled.disagreement == pytest.approx(0.85)
    # The offline uncertainty stands either way: no offer of a human because a model disagreed.
    assert overruled.uncertainty == 0.05 < Settings().escalation.uncertainty_above


def test_a_request_for_a_person_is_never_the_models_reading_alone() -> None:
    offline = IntentGuess(
        "shipping", 0.4, 0.6, [("shipping", 0.4), ("human_agent", 0.35), ("payment", 0.1)]
    )
    assert weighed(ModelUnderstanding(intent="human_agent"), offline).intent == "shipping"
