"""Each escalation rule on its own: `decide` and the escalate node over an in-memory store.

The rules and their thresholds (Settings.escalation): a human already involved, legal or
fraud terms, an explicit request for a human, negative sentiment, the same question asked
again and again, uncertainty, a long conversation, and VIP priority.
"""

from __future__ import annotations

from functools import cache
from typing import Any

import pytest
from langgraph.runtime import Runtime

from supportgraph.backends.loader import load_store_file
from supportgraph.backends.memory import InMemoryStore
from supportgraph.config import EscalationRules, Settings
from supportgraph.context import Deps
from supportgraph.domain.state import ConversationState
from supportgraph.nlu.entities import Catalogue
from supportgraph.nlu.language import LanguageDetector
from supportgraph.nodes.escalate import decide, escalate
from supportgraph.templates import Templates

NOW = 1_800_000_000.0


@cache
def demo_store() -> InMemoryStore:
    """The rules read only settings; the escalate node's transfer writes to this store."""
    return InMemoryStore(load_store_file(Settings().resolved_store_path()))


def deps_with(**rules: Any) -> Deps:
    settings = Settings(escalation=EscalationRules(**rules))
    return Deps(
        settings=settings,
        store=demo_store(),
        catalogue=Catalogue(),  # the rules never read products
        templates=Templates.for_brand(settings.brand_dir),
    )


@pytest.fixture(scope="module")
def deps() -> Deps:
    return deps_with()


DETECTOR = LanguageDetector()


def turn(text: str = "where is my parcel?", **fields: Any) -> ConversationState:
    """A turn after understand: neutral and confident unless the test says otherwise, in the
    language the detector reads the text in (the fraud rules read a message in its own)."""
    base: dict[str, Any] = {
        "language": DETECTOR.detect(text).language,
        "thread_id": "t1",
        "turn": 2,
        "text": text,
        "now": NOW,
        "started_at": NOW - 60,
        "intent": "shipping",
        "confidence": 0.9,
        "uncertainty": 0.1,
        "sentiment": 0.0,
    }
    return ConversationState(**{**base, **fields})


def test_a_calm_clear_question_is_not_escalated(deps: Deps) -> None:
    assert decide(turn(), deps) == ("none", None, None)


def test_negative_sentiment_below_the_threshold_hands_off(deps: Deps) -> None:
    assert decide(turn(sentiment=-0.61), deps) == ("handoff", "negative_sentiment", "high")
    assert decide(turn(sentiment=-0.6), deps) == ("none", None, None)  # at it: not below


def test_uncertainty_above_the_threshold_offers_a_human(deps: Deps) -> None:
    assert decide(turn(uncertainty=0.71), deps) == ("offer", "low_confidence", "medium")
    assert decide(turn(uncertainty=0.7), deps) == ("none", None, None)
    # Emoji only: nothing was asked, so there is nothing to be unsure about.
    assert decide(turn("👍", uncertainty=1.0), deps) == ("none", None, None)


def test_the_same_question_more_than_the_limit_hands_off(deps: Deps) -> None:
    asked = {"order_tracking:SG-10002": 3}
    again = turn(intent="order_tracking", entities={"order_id": "SG-10002"}, question_counts=asked)
    assert decide(again, deps) == ("handoff", "repeated_question", "medium")
    asked_twice = {"order_tracking:SG-10002": 2}
    third = turn(
        intent="order_tracking", entities={"order_id": "SG-10002"}, question_counts=asked_twice
    )
    assert decide(third, deps) == ("none", None, None)


def test_greetings_and_answers_to_our_questions_are_not_repeated_questions(deps: Deps) -> None:
    counts = {"greeting:": 10, "order_tracking:SG-10002": 10}
    assert decide(turn("hi", intent="greeting", question_counts=counts), deps)[0] == "none"
    answering = turn(
        "SG-10002",
        intent="order_tracking",
        entities={"order_id": "SG-10002"},
        awaiting="order_id",
        active_flow="order_tracking",
        question_counts=counts,
    )
    assert decide(answering, deps)[0] == "none"


def test_a_long_conversation_is_offered_a_human_once(deps: Deps) -> None:
    old = turn(started_at=NOW - 11 * 60)
    assert decide(old, deps) == ("offer", "long_conversation", "medium")
    offered = turn(started_at=NOW - 11 * 60, offered_reasons=["long_conversation"])
    assert decide(offered, deps) == ("none", None, None)
    assert decide(turn(started_at=NOW - 9 * 60), deps) == ("none", None, None)


def test_asking_for_a_person_hands_off_and_accepting_an_offer_too(deps: Deps) -> None:
    asked = turn("can I talk to a person", intent="human_agent")
    assert decide(asked, deps) == ("handoff", "customer_asked_for_human", "high")
    accepted = turn(
        "yes", intent="human_agent", awaiting="handoff_offer", entities={"confirmed": True}
    )
    assert decide(accepted, deps) == ("handoff", "offer_accepted", "medium")


def test_legal_or_fraud_terms_hand_off_as_critical(deps: Deps) -> None:
    action, reason, priority = decide(turn("someone used my card, this is fraud"), deps)
    assert (action, priority) == ("handoff", "critical")
    assert reason is not None and reason.startswith("legal_or_fraud:")


@pytest.mark.parametrize(
    "text",
    [
        "there are charges on my account I didn't make",
        "I never ordered this but I got charged 89 dollars",
        "somebody logged into my account and changed the email",
        "my credit card got stolen yesterday and I see orders from your shop",
        "got a text from you asking for my card number, is it real?",
        "hay un cargo en mi tarjeta que yo no hice",
        "alguien ha usado mi cuenta para hacer pedidos",
        "je ne reconnais pas ce prélèvement de 120 €",
        "on m'a volé ma carte bancaire hier",
        "Ich erkenne diese Abbuchung nicht",
        "Meine Kreditkarte wurde gestohlen, bitte sperren",
    ],
)
def test_fraud_and_security_reports_hand_off_as_critical(deps: Deps, text: str) -> None:
    action, reason, priority = decide(turn(text, intent="payment"), deps)
    assert (action, priority) == ("handoff", "critical"), text
    assert reason is not None and reason.startswith("legal_or_fraud:")


@pytest.mark.parametrize(
    "text",
    [
        "my card was declined at checkout",
        "was I charged twice? I clicked pay two times",
        "can I use a different card, mine expired",
        "I lost my receipt, can you send the invoice again?",
        "can someone help me with my account settings",
        "I didn't get the email with the password reset link",
        "mi tarjeta fue rechazada, ¿puedo pagar con PayPal?",
        "je n'ai pas reçu ma facture",
        "Kann ich mit Kreditkarte in Raten zahlen?",
    ],
)
def test_ordinary_payment_questions_are_not_fraud(deps: Deps, text: str) -> None:
    assert decide(turn(text, intent="payment"), deps)[0] == "none", text


def test_a_thread_with_a_human_stays_with_the_human(deps: Deps) -> None:
    active = turn(escalation_status="human_active", escalation={"priority": "critical"})
    assert decide(active, deps) == ("handoff", "human_active", "critical")


def test_disabled_rules_escalate_nothing_but_keep_a_human_thread() -> None:
    off = deps_with(enabled=False)
    assert decide(turn(sentiment=-1.0, uncertainty=1.0), off) == ("none", None, None)
    assert decide(turn("this is fraud"), off) == ("none", None, None)
    assert decide(turn(escalation_status="pending_human"), off)[0] == "handoff"


def test_thresholds_come_from_the_settings() -> None:
    assert decide(turn(sentiment=0.4), deps_with(sentiment_below=0.5))[1] == "negative_sentiment"
    assert decide(turn(), deps_with(repeat_limit=0))[1] == "repeated_question"
    assert decide(turn(), deps_with(max_minutes=0.5))[1] == "long_conversation"
    assert decide(turn(uncertainty=0.2), deps_with(uncertainty_above=0.1))[1] == "low_confidence"


async def test_a_vip_escalation_is_at_least_high_priority(deps: Deps) -> None:
    offer = await escalate(turn(uncertainty=0.9, customer_segment="VIP"), Runtime(context=deps))
    assert offer["escalation"] == {
        "action": "offer",
        "reason": "low_confidence+vip",
        "priority": "high",
    }
    assert offer["escalation_status"] == "offered"
    critical = await escalate(turn("this is fraud", customer_segment="vip"), Runtime(context=deps))
    assert critical["escalation"]["priority"] == "critical"  # never lowered


@pytest.mark.parametrize(
    "text",
    [
        "my bank rang about a purchase from your shop this morning that I know nothing about",
        "alguien en otra ciudad esta comprando con mis datos",
        "une personne que je ne connais pas fait des achats avec mes infos",
    ],
)
def test_reports_no_word_list_foresees_are_caught_by_the_fraud_classifier(
    deps: Deps, text: str
) -> None:
    from supportgraph.nlu.fraud import rule_signal

    assert rule_signal(text) is None  # the rules alone would miss it
    action, reason, priority = decide(turn(text, intent="payment"), deps)
    assert (action, priority, reason) == ("handoff", "critical", "legal_or_fraud:reported_fraud")


@pytest.mark.parametrize(
    "text",
    [
        "mijn bank belde over een aankoop bij jullie van vanochtend waar ik niks van weet",
        "alguém em outra cidade está fazendo compras com os meus dados",
        "今朝そちらで買い物をしたと銀行から電話がありましたが、身に覚えがありません",
        "شخص في مدينة ثانية يطلب من عندكم ببياناتي",
    ],
)
def test_the_languages_the_folders_add_have_a_fraud_classifier_that_reads_meaning(
    deps: Deps, text: str
) -> None:
    # The full fraud model reads e5 vectors beside the n-grams; the n-gram model it replaced
    # scored each of these below the alarm (0.60 to 0.74) and no rule names them.
    from supportgraph.nlu.fraud import rule_signal

    state = turn(text, intent="payment")
    assert state.language in {"nl", "pt", "ja", "ar"}
    assert rule_signal(text, None, state.language) is None
    action, reason, priority = decide(state, deps)
    assert (action, priority, reason) == ("handoff", "critical", "legal_or_fraud:reported_fraud")
